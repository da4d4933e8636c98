import Foundation
import Hummingbird
import Strata

/// `GET /`, health probes, `/access`, `/metrics` and `/telemetry` (the
/// cluster endpoints are in ClusterRoutes.swift).
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

        // What the caller's credentials allow (Strata's extension, issue 18), so
        // that a dashboard can hide what it may not do.
        router.get("/access") { _, context in
            try context.access.check(.authenticated)
            return try Reply.ok(AccessOutput(context.access), context: context)
        }

        router.get("/telemetry") { _, context in
            try context.access.check(.globalRead)
            return try await self.answer(context) { self.telemetry() }
        }

        addClusterRoutes(to: router)
    }

    func telemetry() -> TelemetryOutput {
        let collections = database.collectionNames().compactMap { name -> TelemetryOutput.CollectionTelemetry? in
            guard let collection = try? database.collection(name) else { return nil }
            let info = collection.storageInfo
            return .init(
                id: name, points: collection.count(), segments: info.segments.count, wal_files: info.walFiles,
                last_operation: info.lastOperation, checkpoint: info.checkpoint, background_error: info.backgroundError,
                versions: collection.versions.count, bytes_only_versions_hold: try? collection.bytesOnlyVersionsHold())
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

/// `GET /access`: `access` as a JWT would claim it (`"m"`, `"r"`, or the
/// collection grants sorted by name), `manage`, and `read_only` when no write
/// at all is allowed. With no API key configured everything is: `"m"`.
struct AccessOutput: Encodable {
    struct Grant: Encodable {
        var collection: String
        var access: String
    }
    /// A word (`"m"`, `"r"`) or a list of grants.
    enum Claim: Encodable {
        case word(String)
        case grants([Grant])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .word(let word): try container.encode(word)
            case .grants(let grants): try container.encode(grants)
            }
        }
    }

    var access: Claim
    var manage: Bool
    var read_only: Bool

    init(_ access: Access) {
        switch access {
        case .manage: self.access = .word("m")
        case .readAll: self.access = .word("r")
        case .collections(let grants):
            self.access = .grants(
                grants.sorted { $0.key < $1.key }.map { Grant(collection: $0.key, access: $0.value.rawValue) })
        }
        manage = access == .manage
        read_only = !access.canWriteSomething
    }
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
        /// Retained versions (docs/versions.md) and the disk bytes only they hold.
        var versions: Int
        var bytes_only_versions_hold: Int?
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
