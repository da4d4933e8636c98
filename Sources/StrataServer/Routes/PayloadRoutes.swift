import Foundation
import Hummingbird
import Strata

/// Payload: set (merge keys), overwrite, delete keys, clear.
extension StrataHTTPServer {
    func addPayloadRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/points/payload") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(SetPayloadInput.self, from: request)
            let ids = try input.ids()
            return try Reply.ok(try await self.write { try await collection.setPayload(input.payload, for: ids) }, context: context)
        }

        router.put("/collections/{collection_name}/points/payload") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(SetPayloadInput.self, from: request)
            let ids = try input.ids()
            return try Reply.ok(try await self.write { try await collection.overwritePayload(input.payload, for: ids) },
                                context: context)
        }

        router.post("/collections/{collection_name}/points/payload/delete") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(DeletePayloadInput.self, from: request)
            let ids = try input.ids()
            return try Reply.ok(try await self.write { try await collection.deletePayloadKeys(input.keys, for: ids) },
                                context: context)
        }

        router.post("/collections/{collection_name}/points/payload/clear") { request, context in
            let collection = try self.collection(context, .write)
            let ids = try await self.decode(PointsSelectorInput.self, from: request).ids()
            return try Reply.ok(try await self.write { try await collection.clearPayload(for: ids) }, context: context)
        }
    }
}
