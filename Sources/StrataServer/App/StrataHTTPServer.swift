import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Strata
import StrataCluster
import StrataIO
import Synchronization

/// The Qdrant-compatible server over one open `Database`: REST, and gRPC
/// (GRPC/) on its own port; both call the same operations (Operations/).
///
/// Request flow: Hummingbird (NIO event loops) → `ResponseMiddleware` (error
/// envelope, metrics, log) → `AuthenticationMiddleware` (credentials →
/// `Access`) → a route in Routes/ that checks the route's permission, decodes
/// the body and calls the engine on the `EngineExecutor` pool (reads) or
/// awaits the engine's async write (writes are acknowledged only once durable).
///
/// Lifetime: the caller opens and closes the `Database`; `run()` serves until
/// SIGTERM or SIGINT, then stops accepting connections, lets in-flight
/// requests finish, and stops the engine pool. The caller closes the database
/// after `run()` returns.
public final class StrataHTTPServer: Sendable {
    /// Strata's own version.
    public static let version = "0.1.0"
    /// The Qdrant REST API level whose shapes Strata follows (reported by
    /// `GET /` as `version`, which qdrant-client checks for compatibility).
    public static let qdrantAPIVersion = "1.20.0"

    public let database: Database
    public let configuration: ServerConfiguration
    let executor: EngineExecutor
    let metrics = ServerMetrics()
    /// When `DELETE /issues` last cleared the issues: older ones are not shown again.
    let issuesClearedAt = Locked<Date?>(nil)
    /// Strict mode's read and write rate limits.
    let rateLimits = RateLimits()
    let authenticator: Authenticator
    let logger: Logger
    /// The node-wide quota (`/quotas`), kept in the data directory.
    let quota: NodeQuota
    /// This node's membership of a cluster (`strata serve --etcd`); nil for a
    /// single node. The caller joins before and leaves after `run()`.
    let cluster: ClusterNode?
    /// The primary's side of replication, for a cluster node.
    let replication: ClusterReplication?
    /// Failover of primaries, run while this node is the controller.
    let controller: ClusterController?
    /// Per collection, the lowest epoch whose records this replica still
    /// takes (raised by a failover before it reads the replica's position).
    let replicationFences = Mutex<[String: UInt64]>([:])
    /// Connections to the other nodes' gRPC ports, for calls this node forwards.
    let grpcPeers: GRPCPeerClients
    /// Per collection, the gate that makes a replica's sender check and append one step.
    let replicaGates = Mutex<[String: AsyncGate]>([:])

    /// Throws when the data directory's quota file cannot be read or holds
    /// an invalid config (a quota that cannot be honoured is not dropped).
    public init(
        database: Database, configuration: ServerConfiguration, logger: Logger, cluster: ClusterNode? = nil
    ) throws {
        self.database = database
        self.cluster = cluster
        self.configuration = configuration
        self.logger = logger
        quota = try NodeQuota(directory: database.path)
        // Downloads and uploads a crash interrupted are never listed; remove them.
        SnapshotDownload.removeLeftovers(in: database.snapshotsDirectory)
        executor = EngineExecutor(threads: configuration.resolvedEngineThreads)
        authenticator = Authenticator(apiKey: configuration.apiKey, readOnlyAPIKey: configuration.readOnlyAPIKey)
        grpcPeers = GRPCPeerClients(caCertificatePath: cluster?.configuration.caCertificatePath)
        if let cluster {
            let replication = ClusterReplication(
                cluster: cluster, database: database,
                replicaTimeout: .milliseconds(Int(configuration.replicaTimeout * 1000)), logger: logger)
            database.setReplicationHook(replication)
            self.replication = replication
            controller = ClusterController(cluster: cluster, logger: logger)
        } else {
            replication = nil
            controller = nil
        }
    }

    /// The router with every endpoint (also used by tests through HummingbirdTesting).
    public func makeRouter() -> Router<StrataRequestContext> {
        let router = Router(context: StrataRequestContext.self)
        router.add(middleware: ResponseMiddleware(metrics: metrics))
        router.add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        if let cluster {
            router.add(middleware: ClusterRoutingMiddleware(server: self, cluster: cluster))
        } else {
            router.add(middleware: ReadConsistencyCheckMiddleware())
        }
        addServiceRoutes(to: router)
        addCollectionRoutes(to: router)
        addAliasRoutes(to: router)
        addPointRoutes(to: router)
        addPayloadRoutes(to: router)
        addSnapshotRoutes(to: router)
        addSnapshotVerifyRoutes(to: router)
        addSearchRoutes(to: router)
        addMultiCollectionQueryRoutes(to: router)
        addVersionRoutes(to: router)
        addMatrixRoutes(to: router)
        addOptimizationRoutes(to: router)
        addQuotaRoutes(to: router)
        addStorageRoutes(to: router)
        addDashboardRoutes(to: router)
        return router
    }

    /// The Hummingbird application: HTTP/1.1, or HTTPS when a certificate and
    /// key are configured; with the gRPC endpoint in its service group unless
    /// `grpcPort` is nil.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
        onGRPCListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ExpectContinueHandler()])
        let server = try httpServer(http1)
        var application = Application(
            router: makeRouter(), server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "strata"),
            onServerRunning: onServerRunning, logger: logger)
        if let grpcPort = configuration.grpcPort {
            application.addServices(
                try GRPCEndpoint(self, port: grpcPort, logger: logger, onListening: onGRPCListening))
        }
        if let cluster {
            // The internal port: replication between nodes (Cluster/PeerRoutes.swift).
            application.addServices(
                Application(
                    router: makePeerRouter(secret: cluster.configuration.secret),
                    server: try httpServer(HTTP1Channel.Configuration()),
                    configuration: ApplicationConfiguration(
                        address: .hostname(configuration.host, port: configuration.p2pPort), serverName: "strata-p2p"),
                    logger: logger))
        }
        return application
    }

    /// HTTP/1.1 for a port, over TLS (HTTPS) when a certificate and key are
    /// configured: the REST port and a cluster node's internal port alike.
    func httpServer(_ http1: HTTP1Channel.Configuration) throws -> HTTPServerBuilder {
        guard let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else {
            return .http1(configuration: http1)
        }
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        return try .tls(.http1(configuration: http1), tlsConfiguration: tls)
    }

    /// Serves until SIGTERM or SIGINT; then in-flight requests (REST and gRPC)
    /// finish and the engine pool stops. Does not close the database.
    public func run(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
        onGRPCListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let application = try makeApplication(onServerRunning: onServerRunning, onGRPCListening: onGRPCListening)
        replication?.start()
        controller?.start()
        defer {
            replication?.stop()
            controller?.stop()
        }
        do {
            // The handlers' tasks run on the event loop that received the request
            // (as gRPC's do): a request is read, decoded (small bodies) and handed
            // to the engine pool without waking a thread of Swift's global executor
            // on the way in and again on the way out.
            let loops = EventLoopTaskExecutor(group: MultiThreadedEventLoopGroup.singleton)
            try await withTaskExecutorPreference(loops) {
                try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            }
        } catch {
            await grpcPeers.shutdown()
            try? await executor.shutdown()
            throw error
        }
        await grpcPeers.shutdown()
        try await executor.shutdown()
    }

    /// Stops the engine pool (for tests that use `makeRouter` without `run`).
    public func shutdown() async throws { try await executor.shutdown() }
}

// MARK: - Helpers shared by the routes

extension StrataHTTPServer {
    /// The request body, at most `maxRequestBodyBytes` (413 beyond).
    func body(of request: Request, _ context: StrataRequestContext) async throws -> [UInt8] {
        Array(try await bodyBuffer(of: request, context).readableBytesView)
    }

    /// The request body as received, at most `maxRequestBodyBytes` (413 beyond).
    private func bodyBuffer(of request: Request, _ context: StrataRequestContext) async throws -> ByteBuffer {
        let limit = configuration.maxRequestBodyBytes
        await context.continueBody()
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge,
                "Payload too large: the request body exceeds the limit of \(limit) bytes (see --max-request-size)")
        }
    }

    /// Bodies up to this size are decoded where the request was received (an
    /// 8 KB query decodes in ~20 µs, less than the hand-off to the engine pool
    /// and back); larger ones on the engine pool.
    static let inlineDecodingLimit = 64 * 1024

    /// Reads and decodes the body as `T` (on the engine pool when it is larger
    /// than `inlineDecodingLimit`), from the received buffer itself: a body of
    /// vectors is megabytes, not worth a copy.
    func decode<T: Decodable & Sendable>(
        _ type: T.Type, from request: Request, _ context: StrataRequestContext
    )
        async throws -> T
    {
        let buffer = try await bodyBuffer(of: request, context)
        let depth = configuration.maxJSONDepth
        if buffer.readableBytes <= Self.inlineDecodingLimit {
            return try buffer.withUnsafeReadableBytes { bytes throws(APIError) -> T in
                try RequestDecoding.decode(T.self, from: bytes, maxDepth: depth)
            }
        }
        return try await executor.run { () throws(APIError) -> T in
            let decoded = buffer.withUnsafeReadableBytes { bytes in
                Result { () throws(APIError) -> T in try RequestDecoding.decode(T.self, from: bytes, maxDepth: depth) }
            }
            return try decoded.get()
        }
    }

    /// Runs `read` on the engine pool and answers its result in the envelope
    /// (encoded on the pool too, since big results are expensive to encode).
    func answer<T: Encodable>(
        _ context: StrataRequestContext, _ read: @escaping EngineRead<T>
    ) async throws
        -> Response
    {
        let started = context.startedAt
        let metrics = self.metrics
        let data = try await executor.run { () throws -> [UInt8] in
            let result: T
            do { result = try read() } catch {
                metrics.recordIfCancelled(error)
                throw error
            }
            let elapsed = ContinuousClock.now - started
            return try Reply.encodeOK(
                result, elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return Reply.ok(data)
    }

    /// The `{collection_name}` path parameter, resolved through aliases, after
    /// checking the request may read or write it.
    func collection(_ context: StrataRequestContext, _ mode: CollectionAccessMode) throws -> Strata.Collection {
        try collection(named: try collectionName(context), mode, context.access)
    }

    func collectionName(_ context: StrataRequestContext) throws -> String {
        guard let name = context.parameters.get("collection_name") else {
            throw APIError.badRequest("missing collection name in the path")
        }
        return name
    }
}

extension StrataRequestContext {
    /// The transport-independent part of a REST request (Operations/).
    func scope(_ request: Request) -> RequestScope {
        RequestScope(
            access: access, timeout: request.uri.queryParameters.get("timeout").flatMap { Int($0) },
            startedAt: startedAt)
    }
}
