import Foundation
import Hummingbird
import Strata

/// `GET /`, health probes, `/metrics`, `/telemetry` and the cluster endpoints
/// (Strata answers as a single node with distributed mode disabled, as Qdrant
/// without cluster mode does).
extension StrataHTTPServer {
    func addServiceRoutes(to router: Router<StrataRequestContext>) {
        // Qdrant answers `GET /` without the envelope.
        router.get("/") { _, _ in Reply.ok(try Reply.encode(RootOutput())) }
        router.get("/healthz") { _, _ in Reply.text("healthz check passed") }
        router.get("/livez") { _, _ in Reply.text("healthz check passed") }
        router.get("/readyz") { _, _ in Reply.text("all shards are ready") }

        router.get("/metrics") { _, context in
            try context.access.check(.globalRead)
            let text = try await self.executor.run { self.metrics.prometheusText(database: self.database) }
            return Reply.text(text, contentType: "text/plain; version=0.0.4")
        }

        router.get("/telemetry") { _, context in
            try context.access.check(.globalRead)
            return try await self.answer(context) { self.telemetry() }
        }

        router.get("/cluster") { _, context in
            try context.access.check(.globalRead)
            return try Reply.ok(["status": "disabled"], context: context)
        }
        router.get("/collections/{collection_name}/cluster") { _, context in
            let collection = try self.collection(context, .read)
            return try Reply.ok(CollectionClusterOutput(points: collection.count()), context: context)
        }
        // Qdrant gathers cluster telemetry from the peers consensus knows; without
        // cluster mode it knows none, and answers this error (after checking the query).
        router.get("/cluster/telemetry") { request, _ -> Response in
            let query = request.uri.queryParameters
            if let level = query.get("details_level"), UInt32(level) == nil {
                throw APIError(.badRequest, "Deserialize error in query: invalid digit found in string")
            }
            if let text = query.get("timeout") {
                guard let timeout = UInt64(text) else {
                    throw APIError(.badRequest, "Deserialize error in query: invalid digit found in string")
                }
                if timeout < 1 {
                    throw APIError(
                        .unprocessableContent,
                        "Validation error in query: [timeout: value 0 invalid, must be 1 or larger]")
                }
            }
            throw APIError(.internalServerError, "Service internal error: Could not get telemetry from cluster")
        }
        let distributedOnly: [(HTTPRequest.Method, RouterPath)] = [
            (.post, "/cluster/recover"), (.delete, "/cluster/peer/{peer_id}"), (.get, "/cluster/metadata/keys"),
            (.post, "/collections/{collection_name}/cluster"), (.get, "/collections/{collection_name}/shards"),
            (.put, "/collections/{collection_name}/shards"), (.post, "/collections/{collection_name}/shards/delete"),
        ]
        for (method, path) in distributedOnly {
            router.on(path, method: method) { _, context -> Response in
                try context.access.check(.manage)
                throw APIError.badRequest("Distributed mode disabled")
            }
        }
    }

    func telemetry() -> TelemetryOutput {
        let collections = database.collectionNames().compactMap { name -> TelemetryOutput.CollectionTelemetry? in
            guard let collection = try? database.collection(name) else { return nil }
            let info = collection.storageInfo
            return .init(
                id: name, points: collection.count(), segments: info.segments.count, wal_files: info.walFiles,
                last_operation: info.lastOperation, checkpoint: info.checkpoint, background_error: info.backgroundError)
        }
        return TelemetryOutput(
            app: .init(
                name: "strata", version: Self.version, qdrant_api_version: Self.qdrantAPIVersion,
                startup: ISO8601DateFormatter().string(from: metrics.startedAt),
                engine_threads: executor.threadCount),
            collections: .init(number_of_collections: collections.count, collections: collections),
            requests: .init(total: metrics.totalRequests))
    }
}

struct RootOutput: Encodable {
    /// Qdrant's title: clients compare it (qdrant-client's congruence tests
    /// check it against local mode); `strata_version` says what answers.
    var title = "qdrant - vector search engine"
    var version = StrataHTTPServer.qdrantAPIVersion
    var strata_version = StrataHTTPServer.version
}

struct CollectionClusterOutput: Encodable {
    struct LocalShard: Encodable {
        var shard_id = 0
        var points_count: Int
        var state = "Active"
    }
    var peer_id = 0
    var shard_count = 1
    var local_shards: [LocalShard]
    var remote_shards: [String] = []
    var shard_transfers: [String] = []

    init(points: Int) { local_shards = [LocalShard(points_count: points)] }
}

struct TelemetryOutput: Encodable {
    struct App: Encodable {
        var name: String
        var version: String
        var qdrant_api_version: String
        var startup: String
        var engine_threads: Int
    }
    struct CollectionTelemetry: Encodable {
        var id: String
        var points: Int
        var segments: Int
        var wal_files: Int
        var last_operation: UInt64
        var checkpoint: UInt64
        var background_error: String?
    }
    struct Collections: Encodable {
        var number_of_collections: Int
        var collections: [CollectionTelemetry]
    }
    struct Requests: Encodable { var total: Int }

    var app: App
    var collections: Collections
    var requests: Requests
}
