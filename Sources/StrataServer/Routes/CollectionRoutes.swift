import Foundation
import Hummingbird
import Strata

/// Collections: list, info, exists, create, update (PATCH), delete; add and
/// remove a named vector.
extension StrataHTTPServer {
    func addCollectionRoutes(to router: Router<StrataRequestContext>) {
        router.get("/collections") { _, context in
            let visible = self.database.collectionNames().filter { context.access.canRead(collection: $0) }
            return try Reply.ok(
                CollectionsOutput(collections: visible.map(CollectionDescriptionOutput.init)), context: context)
        }

        router.get("/collections/{collection_name}") { _, context in
            let collection = try self.collection(context, .read)
            let walFileSize = self.database.options.walFileSize
            return try await self.answer(context) {
                CollectionInfoOutput(collection: collection, walFileSize: walFileSize)
            }
        }

        router.get("/collections/{collection_name}/exists") { _, context in
            let name = try self.collectionName(context)
            let resolved =
                self.database.collectionNames().contains(name) ? name : (self.database.resolveAlias(name) ?? name)
            try context.access.check(.read(collection: resolved))
            return try Reply.ok(
                CollectionExistenceOutput(exists: self.database.collectionNames().contains(resolved)),
                context: context)
        }

        router.put("/collections/{collection_name}") { request, context in
            try context.access.check(.manage)
            let name = try self.collectionName(context)
            let input = try await self.decode(CreateCollectionInput.self, from: request, context)
            let config = try input.engineConfig()
            if self.database.resolveAlias(name) != nil {
                throw APIError(.conflict, "Wrong input: Collection `\(name)` already exists! (it is an alias)")
            }
            return try await self.answer(context) {
                try self.database.createCollection(name, config: config)
                return true
            }
        }

        router.patch("/collections/{collection_name}") { request, context in
            try context.access.check(.manage)
            let collection = try self.collection(context, .write)
            let input = try await self.decode(UpdateCollectionInput.self, from: request, context)
            let updated = try input.applied(to: collection.config)
            guard updated != collection.config else { return try Reply.ok(true, context: context) }
            let database = self.database
            let name = collection.name
            return try await self.answer(context) { () throws -> Bool in
                do {
                    // Applied again under the database lock, so concurrent metadata merges all count.
                    try database.updateCollectionConfig(name) { $0 = try input.applied(to: $0) }
                } catch let error as StrataError {
                    throw APIError.from(error)
                }
                return true
            }
        }

        // Qdrant 1.18+: add a named vector to an existing collection.
        router.put("/collections/{collection_name}/vectors/{vector_name}") { request, context in
            try context.access.check(.manage)
            let collection = try self.collection(context, .write)
            let vectorName = try self.vectorName(context)
            let input = try await self.decode(VectorNameConfigInput.self, from: request, context)
            let kind = try input.engineConfig(collectionHNSW: collection.config.hnswConfig)
            // A new vector takes memory and disk for every point (Qdrant checks the quota first).
            try self.quota.check()
            let database = self.database
            let name = collection.name
            return try await self.answer(context) { () throws -> UpdateResultOutput in
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

        // Qdrant 1.18+: remove a named vector and its data.
        router.delete("/collections/{collection_name}/vectors/{vector_name}") { _, context in
            try context.access.check(.manage)
            let collection = try self.collection(context, .write)
            let vectorName = try self.vectorName(context)
            let database = self.database
            let name = collection.name
            return try await self.answer(context) { () throws -> UpdateResultOutput in
                do {
                    let reopened = try database.deleteVectorName(name, name: vectorName)
                    return UpdateResultOutput(operation_id: reopened.storageInfo.lastOperation)
                } catch let error as StrataError {
                    throw Self.vectorNameError(error)
                }
            }
        }

        router.delete("/collections/{collection_name}") { _, context in
            try context.access.check(.manage)
            let name = try self.collectionName(context)
            return try await self.answer(context) { () throws -> Bool in
                guard self.database.collectionNames().contains(name) else { return false }
                do {
                    try self.database.deleteCollection(name)
                } catch let error as StrataError where error.code == .notFound {
                    return false
                }
                return true
            }
        }
    }

    func vectorName(_ context: StrataRequestContext) throws -> String {
        guard let name = context.parameters.get("vector_name") else {
            throw APIError.badRequest("missing vector name in the path")
        }
        return name
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
}
