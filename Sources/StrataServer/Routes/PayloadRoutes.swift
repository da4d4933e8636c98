import Foundation
import Hummingbird
import Strata

/// Payload: set (merge keys, optionally under a nested `key`), overwrite,
/// delete keys, clear — by ids or by filter; field indexes; facets.
extension StrataHTTPServer {
    func addPayloadRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/points/payload") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(SetPayloadInput.self, from: request, context)
            let selection = try input.selection()
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try PreparedUpdate.setPayload(input.payload, selection, key: input.key).checkStrictMode(check)
            }
            try self.enforceQuota(PreparedUpdate.setPayload(input.payload, selection, key: input.key))
            return try Reply.ok(
                try await self.write {
                    try await collection.setPayload(
                        input.payload, for: try selection.resolve(in: collection), key: input.key)
                }, context: context)
        }

        router.put("/collections/{collection_name}/points/payload") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(SetPayloadInput.self, from: request, context)
            if input.key != nil {
                throw APIError.wrongInput("`key` applies to set_payload (POST), not to overwrite_payload")
            }
            let selection = try input.selection()
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try PreparedUpdate.overwritePayload(input.payload, selection).checkStrictMode(check)
            }
            try self.enforceQuota(PreparedUpdate.overwritePayload(input.payload, selection))
            return try Reply.ok(
                try await self.write {
                    try await collection.overwritePayload(input.payload, for: try selection.resolve(in: collection))
                }, context: context)
        }

        router.post("/collections/{collection_name}/points/payload/delete") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(DeletePayloadInput.self, from: request, context)
            let selection = try input.selection()
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try PreparedUpdate.deletePayload(input.keys, selection).checkStrictMode(check)
            }
            try self.enforceQuota(PreparedUpdate.deletePayload(input.keys, selection))
            return try Reply.ok(
                try await self.write {
                    try await collection.deletePayloadKeys(input.keys, for: try selection.resolve(in: collection))
                }, context: context)
        }

        router.post("/collections/{collection_name}/points/payload/clear") { request, context in
            let collection = try self.collection(context, .write)
            let selection = try await self.decode(PointsSelectorInput.self, from: request, context).selection()
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try PreparedUpdate.clearPayload(selection).checkStrictMode(check)
            }
            try self.enforceQuota(PreparedUpdate.clearPayload(selection))
            return try Reply.ok(
                try await self.write { try await collection.clearPayload(for: try selection.resolve(in: collection)) },
                context: context)
        }

        router.put("/collections/{collection_name}/index") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(CreateFieldIndexInput.self, from: request, context)
            let schema = try input.schema()
            try self.enforceStrictMode(collection, request) { check throws(APIError) in try check.checkNewPayloadIndex()
            }
            // Building an index takes memory and disk (Qdrant checks the quota before it).
            try self.quota.check()
            return try Reply.ok(
                try await self.write { try await collection.createFieldIndex(input.field_name, schema: schema) },
                context: context)
        }

        router.delete("/collections/{collection_name}/index/{field_name}") { _, context in
            let collection = try self.collection(context, .write)
            let key = context.parameters.get("field_name") ?? ""
            return try Reply.ok(try await self.write { try await collection.deleteFieldIndex(key) }, context: context)
        }

        router.post("/collections/{collection_name}/facet") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(FacetInput.self, from: request, context)
            try requireAbsent(input.shard_key, "shard_key")
            let limit = input.limit ?? 10
            try requirePositiveLimit(limit)
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try check.checkRead(limit: input.limit, filter: input.filter.engine)
                if let exact = input.exact { try check.checkExact(exact) }
            }
            return try await self.answer(context) {
                FacetResultOutput(
                    hits: try collection.facet(input.key, filter: input.filter.engine, limit: limit)
                        .map { FacetResultOutput.Hit(value: $0.value, count: $0.count) })
            }
        }
    }
}

/// Qdrant's `FacetResponse`.
struct FacetResultOutput: Encodable, Sendable {
    struct Hit: Encodable, Sendable {
        var value: JSONValue
        var count: Int
    }
    var hits: [Hit]
}
