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
            return try Reply.ok(
                try await self.setPayload(input, in: collection, context.scope(request)), context: context)
        }

        router.put("/collections/{collection_name}/points/payload") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(SetPayloadInput.self, from: request, context)
            return try Reply.ok(
                try await self.overwritePayload(input, in: collection, context.scope(request)), context: context)
        }

        router.post("/collections/{collection_name}/points/payload/delete") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(DeletePayloadInput.self, from: request, context)
            return try Reply.ok(
                try await self.deletePayload(input, in: collection, context.scope(request)), context: context)
        }

        router.post("/collections/{collection_name}/points/payload/clear") { request, context in
            let collection = try self.collection(context, .write)
            let selection = try await self.decode(PointsSelectorInput.self, from: request, context).selection()
            return try Reply.ok(
                try await self.clearPayload(selection, in: collection, context.scope(request)), context: context)
        }

        router.put("/collections/{collection_name}/index") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(CreateFieldIndexInput.self, from: request, context)
            return try Reply.ok(
                try await self.createFieldIndex(input, in: collection, context.scope(request)), context: context)
        }

        router.delete("/collections/{collection_name}/index/{field_name}") { _, context in
            let collection = try self.collection(context, .write)
            let key = context.parameters.get("field_name") ?? ""
            return try Reply.ok(try await self.deleteFieldIndex(key, in: collection), context: context)
        }

        router.post("/collections/{collection_name}/facet") { request, context in
            let current = try self.collection(context, .read)
            let input = try await self.decode(FacetInput.self, from: request, context)
            let collection = try self.versioned(current, input.as_of)
            return try await self.answer(context, try self.facet(input, in: collection, context.scope(request)))
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
