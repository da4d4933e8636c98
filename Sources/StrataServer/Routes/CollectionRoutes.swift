import Foundation
import Hummingbird
import Strata

/// Collections: list, info, exists, create, update (PATCH), rename, delete;
/// add and remove a named vector.
extension StrataHTTPServer {
    func addCollectionRoutes(to router: Router<StrataRequestContext>) {
        router.get("/collections") { _, context in
            if let cluster = self.cluster {
                return try Reply.ok(self.listClusterCollections(context.access, cluster: cluster), context: context)
            }
            return try Reply.ok(self.listCollections(context.access), context: context)
        }

        router.get("/collections/{collection_name}") { _, context in
            try await self.answer(context, self.collectionInfo(try self.collection(context, .read)))
        }

        router.get("/collections/{collection_name}/exists") { _, context in
            try Reply.ok(
                CollectionExistenceOutput(
                    exists: try self.collectionExists(try self.collectionName(context), context.access)),
                context: context)
        }

        router.put("/collections/{collection_name}") { request, context in
            try context.access.check(.manage)
            let name = try self.collectionName(context)
            if let cluster = self.cluster {
                let body = try await self.body(of: request, context)
                return try Reply.ok(
                    try await self.createClusterCollection(name, body: body, access: context.access, cluster: cluster),
                    context: context)
            }
            let input = try await self.decode(CreateCollectionInput.self, from: request, context)
            return try await self.answer(context, try self.createCollection(name, input, context.access))
        }

        router.patch("/collections/{collection_name}") { request, context in
            try context.access.check(.manage)
            let collection = try self.collection(context, .write)
            let input = try await self.decode(UpdateCollectionInput.self, from: request, context)
            if let replication = self.replication {
                if input.ttl_config != nil || input.versions_config != nil {
                    throw APIError.notSupportedYet(
                        "ttl_config on a cluster node (expiry deletes through each shard's log)")
                }
                // A cluster node (the primary: the routing sends PATCH there).
                try await self.updateClusterCollection(collection.name, input, replication)
                return try Reply.ok(true, context: context)
            }
            guard let update = try self.updateCollection(collection, input, context.access) else {
                return try Reply.ok(true, context: context)
            }
            return try await self.answer(context, update)
        }

        // Qdrant 1.18+: add a named vector to an existing collection.
        router.put("/collections/{collection_name}/vectors/{vector_name}") { request, context in
            try self.refuseInCluster("adding a named vector")
            try context.access.check(.manage)
            let collection = try self.collection(context, .write)
            let vectorName = try self.vectorName(context)
            let input = try await self.decode(VectorNameConfigInput.self, from: request, context)
            return try await self.answer(context, try self.createVectorName(vectorName, input, in: collection))
        }

        // Qdrant 1.18+: remove a named vector and its data.
        router.delete("/collections/{collection_name}/vectors/{vector_name}") { _, context in
            try self.refuseInCluster("removing a named vector")
            try context.access.check(.manage)
            let collection = try self.collection(context, .write)
            return try await self.answer(context, self.deleteVectorName(try self.vectorName(context), in: collection))
        }

        // Strata's extension (issue 20): rename a collection; its aliases follow it.
        router.post("/collections/{collection_name}/rename") { request, context in
            try context.access.check(.manage)
            if self.cluster != nil {
                throw APIError.notSupportedYet("renaming a collection on a cluster node")
            }
            let collection = try self.collection(context, .write)
            let input = try await self.decode(RenameCollectionInput.self, from: request, context)
            return try await self.answer(context, try self.renameCollection(collection.name, to: input.new_name))
        }

        router.delete("/collections/{collection_name}") { _, context in
            if let cluster = self.cluster {
                return try Reply.ok(
                    try await self.deleteClusterCollection(
                        try self.collectionName(context), access: context.access, cluster: cluster),
                    context: context)
            }
            return try await self.answer(
                context, try self.deleteCollection(try self.collectionName(context), context.access))
        }
    }

    func vectorName(_ context: StrataRequestContext) throws -> String {
        guard let name = context.parameters.get("vector_name") else {
            throw APIError.badRequest("missing vector name in the path")
        }
        return name
    }
}

extension StrataHTTPServer {
    /// `collection`, or its read-only view at the retained version `asOf`
    /// names (a number, a tag, or an RFC 3339 time: the newest version at or
    /// before it). 400 naming the retained range when none matches.
    func versioned(_ collection: Strata.Collection, _ asOf: JSONValue?) throws -> Strata.Collection {
        guard let asOf, asOf != .null else { return collection }
        if cluster != nil { throw APIError.notSupportedYet("as_of on a cluster node (op numbers are per shard there)") }
        do { return try collection.at(try Self.versionSelector(asOf)) } catch let error as StrataError {
            throw APIError.from(error)
        }
    }

    static func versionSelector(_ value: JSONValue) throws(APIError) -> VersionSelector {
        switch value {
        case .int(let number) where number >= 0: return .number(UInt64(number))
        case .string(let text):
            if let number = UInt64(text) { return .number(number) }
            if let micros = Datetime.microseconds(text) {
                return .time(Date(timeIntervalSince1970: Double(micros) / 1_000_000))
            }
            return .tag(text)
        default:
            throw APIError.wrongInput("as_of: a version number, a tag or an RFC 3339 time, got \(value)")
        }
    }
}
