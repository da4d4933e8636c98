import Foundation
import Hummingbird
import Strata

/// `GET`/`PUT /quotas`: the node-wide quota (App/Quota.swift) and where it is enforced.
extension StrataHTTPServer {
    func addQuotaRoutes(to router: Router<StrataRequestContext>) {
        router.get("/quotas") { _, context in
            try context.access.check(.globalRead)
            return try await self.answer(context) { self.quota.status() }
        }

        router.put("/quotas") { request, context in
            try context.access.check(.manage)
            // The config takes effect (and is durable) before the answer: `wait` changes nothing.
            if let wait = request.uri.queryParameters.get("wait"), wait != "true", wait != "false" {
                throw APIError(.badRequest, "Deserialize error in query: provided string was not `true` or `false`")
            }
            let config = try await self.decode(NodeQuota.Config.self, from: request, context)
            let quota = self.quota
            return try await self.answer(context) { () throws -> Bool in
                do {
                    try quota.replace(with: config)
                } catch let error as APIError {
                    throw error
                } catch {
                    throw APIError(
                        .internalServerError, "Service internal error: Failed to persist quota config: \(error)")
                }
                return true
            }
        }
    }

    /// Refuses `update` with the quota's 507 when it consumes memory or disk
    /// and a quota limit is reached.
    func enforceQuota(_ update: PreparedUpdate) throws(APIError) {
        if update.consumesQuota { try quota.check() }
    }
}

extension PreparedUpdate {
    /// Whether the node's quota applies (Qdrant's `consumes_quota`): writes of
    /// points, vectors and payload take memory or disk (deleting vectors or
    /// payload rewrites the points too); deleting points does not.
    var consumesQuota: Bool {
        switch self {
        case .delete: false
        case .upsert, .updateVectors, .deleteVectors, .setPayload, .overwritePayload, .deletePayload, .clearPayload:
            true
        }
    }
}
