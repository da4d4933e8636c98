import Foundation
import Strata

/// Collections, named vectors, aliases and snapshots.
extension StrataHTTPServer {
    /// The collections `access` may read.
    func listCollections(_ access: Access) -> CollectionsOutput {
        let visible = database.collectionNames().filter { access.canRead(collection: $0) }
        return CollectionsOutput(collections: visible.map(CollectionDescriptionOutput.init))
    }

    func collectionInfo(_ collection: Strata.Collection) -> EngineRead<CollectionInfoOutput> {
        let walFileSize = database.options.walFileSize
        // On a cluster node the placement, not the engine, knows the replication.
        let placement = cluster?.placement(collection.name)
        return {
            var info = CollectionInfoOutput(collection: collection, walFileSize: walFileSize)
            if let placement {
                info.config.params.replication_factor = placement.replication_factor
                info.config.params.write_consistency_factor = placement.write_consistency_factor
            }
            return info
        }
    }

    /// Whether `name` (or the collection the alias `name` points to) exists.
    func collectionExists(_ name: String, _ access: Access) throws -> Bool {
        let resolved = resolvedName(name)
        try access.check(.read(collection: resolved))
        if let cluster { return cluster.placement(resolved) != nil }
        return database.collectionNames().contains(resolved)
    }

    func createCollection(_ name: String, _ input: CreateCollectionInput, _ access: Access) throws -> EngineRead<Bool> {
        try access.check(.manage)
        let config = try input.engineConfig()
        if database.resolveAlias(name) != nil {
            throw APIError(.conflict, "Wrong input: Collection `\(name)` already exists! (it is an alias)")
        }
        let database = self.database
        return {
            try database.createCollection(name, config: config)
            return true
        }
    }

    /// `PATCH /collections/{name}`: nil when the update changes nothing.
    func updateCollection(
        _ collection: Strata.Collection, _ input: UpdateCollectionInput, _ access: Access
    ) throws
        -> EngineRead<Bool>?
    {
        try access.check(.manage)
        let updated = try input.applied(to: collection.config)
        guard updated != collection.config else { return nil }
        let database = self.database
        let name = collection.name
        return {
            do {
                // Applied again under the database lock, so concurrent metadata merges all count.
                try database.updateCollectionConfig(name) { $0 = try input.applied(to: $0) }
            } catch let error as StrataError {
                throw APIError.from(error)
            }
            return true
        }
    }

    func deleteCollection(_ name: String, _ access: Access) throws -> EngineRead<Bool> {
        try access.check(.manage)
        let database = self.database
        return {
            guard database.collectionNames().contains(name) else { return false }
            do {
                try database.deleteCollection(name)
            } catch let error as StrataError where error.code == .notFound {
                return false
            }
            return true
        }
    }

    /// Renames collection `name` (aliases follow it): `true` once durable.
    func renameCollection(_ name: String, to newName: String) throws -> EngineRead<Bool> {
        let database = self.database
        return {
            do {
                try database.renameCollection(name, to: newName)
            } catch let error as StrataError {
                throw APIError.from(error)
            }
            return true
        }
    }

    /// Qdrant 1.18+: adds the named vector `vectorName` to an existing collection.
    func createVectorName(
        _ vectorName: String, _ input: VectorNameConfigInput, in collection: Strata.Collection
    ) throws -> EngineRead<UpdateResultOutput> {
        let kind = try input.engineConfig(collectionHNSW: collection.config.hnswConfig)
        // A new vector takes memory and disk for every point (Qdrant checks the quota first).
        try quota.check()
        let database = self.database
        let name = collection.name
        return {
            do {
                let reopened: Strata.Collection
                switch kind {
                case .dense(let params): reopened = try database.createVectorName(name, name: vectorName, params)
                case .sparse(let params): reopened = try database.createVectorName(name, name: vectorName, params)
                }
                return UpdateResultOutput(operation_id: reopened.storageInfo.lastOperation)
            } catch let error as StrataError {
                throw Self.vectorNameError(error)
            }
        }
    }

    /// Qdrant 1.18+: removes a named vector and its data.
    func deleteVectorName(_ vectorName: String, in collection: Strata.Collection) -> EngineRead<UpdateResultOutput> {
        let database = self.database
        let name = collection.name
        return {
            do {
                let reopened = try database.deleteVectorName(name, name: vectorName)
                return UpdateResultOutput(operation_id: reopened.storageInfo.lastOperation)
            } catch let error as StrataError {
                throw Self.vectorNameError(error)
            }
        }
    }

    /// Qdrant answers 400 for a vector name that exists (on add) or does not
    /// (on remove); an unknown collection was already a 404 before this.
    static func vectorNameError(_ error: StrataError) -> APIError {
        switch error.code {
        case .notFound where error.message.hasPrefix("Collection `"): return .from(error)
        case .alreadyExists, .notFound: return .wrongInput(error.message)
        default: return .from(error)
        }
    }

    /// Creates, deletes and renames aliases in one atomic batch.
    func updateAliases(_ actions: [ChangeAliasesInput.Action], _ access: Access) throws -> EngineRead<Bool> {
        try access.check(.manage)
        let operations = try actions.map { action throws(APIError) in try action.engineOperation() }
        let database = self.database
        return {
            try database.updateAliases(operations)
            return true
        }
    }

    /// Every alias of a collection `access` may read, or of `collection` only.
    func listAliases(of collection: Strata.Collection? = nil, _ access: Access) -> AliasesOutput {
        let aliases = database.aliases().filter { alias in
            if let collection { return alias.collection == collection.name }
            return access.canRead(collection: alias.collection)
        }
        return AliasesOutput(
            aliases: aliases.map { AliasDescriptionOutput(alias_name: $0.alias, collection_name: $0.collection) })
    }

    func createSnapshot(of collection: Strata.Collection) -> EngineRead<SnapshotOutput> {
        let database = self.database
        let name = collection.name
        return { SnapshotOutput(try self.engine { try database.createSnapshot(of: name) }) }
    }

    func listSnapshots(of collection: Strata.Collection) -> EngineRead<[SnapshotOutput]> {
        let database = self.database
        let name = collection.name
        return {
            try self.engine { try database.listSnapshots(collection: name) }.filter { $0.kind != .full }
                .map(SnapshotOutput.init)
        }
    }

    func deleteSnapshot(_ snapshot: String, of collection: Strata.Collection) -> EngineRead<Bool> {
        let database = self.database
        let name = collection.name
        return {
            _ = try self.snapshot(named: snapshot, collection: name)
            try self.engine { try database.deleteSnapshot(named: snapshot, collection: name) }
            return true
        }
    }

    func createFullSnapshot(_ access: Access) throws -> EngineRead<SnapshotOutput> {
        try access.check(.manage)
        let database = self.database
        return { SnapshotOutput(try self.engine { try database.createFullSnapshot() }) }
    }

    func listFullSnapshots(_ access: Access) throws -> EngineRead<[SnapshotOutput]> {
        try access.check(.manage)
        let database = self.database
        return { try self.engine { try database.listSnapshots() }.filter { $0.kind == .full }.map(SnapshotOutput.init) }
    }

    func deleteFullSnapshot(_ snapshot: String, _ access: Access) throws -> EngineRead<Bool> {
        try access.check(.manage)
        let database = self.database
        return {
            _ = try self.snapshot(named: snapshot, collection: nil)
            try self.engine { try database.deleteSnapshot(named: snapshot) }
            return true
        }
    }
}
