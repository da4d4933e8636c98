import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import NIOSSL
import ServiceLifecycle
import StrataGRPCProtocol

/// Qdrant's gRPC API (package `qdrant`: services `Qdrant`, `Collections`,
/// `Points`, `Snapshots`) on `grpcPort`, beside the REST server and run by
/// the same service group: it starts with it, and on SIGTERM or SIGINT it
/// stops accepting calls and lets the ones in flight finish.
///
/// Same host, TLS certificate and key, credentials and request size limit as REST.
struct GRPCEndpoint: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let host: String
    let port: Int
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    init(
        _ strata: StrataHTTPServer, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void
    ) throws {
        let configuration = strata.configuration
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath {
            security = .tls(
                certificateChain: [.file(path: certificatePath, format: .pem)],
                privateKey: .file(path: keyPath, format: .pem))
        } else {
            security = .plaintext
        }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: configuration.host, port: port),
            transportSecurity: security,
            config: .defaults {
                let limit = configuration.maxRequestBodyBytes
                $0.rpc.maxRequestPayloadSize = limit
                // Arrival stamps, and RESOURCE_EXHAUSTED with a message over the limit.
                $0.channelDebuggingCallbacks.onAcceptHTTP2Stream = { stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandler(GRPCRequestIntake(limit: limit), position: .first)
                    }
                }
            })
        server = GRPCServer(
            transport: transport,
            services: [
                QdrantService(strata), CollectionsService(strata), PointsService(strata), SnapshotsService(strata),
            ])
        self.host = configuration.host
        self.port = port
        self.logger = logger
        self.onListening = onListening
    }

    func run() async throws {
        let (host, port) = (self.host, self.port)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    do {
                        let executor = EventLoopTaskExecutor(group: MultiThreadedEventLoopGroup.singleton)
                        try await withTaskExecutorPreference(executor) { try await server.serve() }
                    } catch {
                        // Say which port: a bind failure (the port is taken) ends up here.
                        throw GRPCEndpointError(
                            description: "the gRPC server on \(host):\(port) stopped: \(error) "
                                + "(--grpc-port picks another port, --no-grpc turns gRPC off)")
                    }
                }
                // When binding failed this throws too; the serve task's error is the one to report.
                let address = try? await server.listeningAddress
                if let port = address?.ipv4?.port ?? address?.ipv6?.port { await onListening(port) }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}

/// Why the gRPC endpoint stopped, with the address it served.
struct GRPCEndpointError: Error, CustomStringConvertible {
    var description: String
}

/// `qdrant.Qdrant`: the health check, which needs no credentials (as in Qdrant,
/// so load balancers can probe it).
struct QdrantService: Qdrant_Qdrant.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }

    func healthCheck(
        request: ServerRequest<Qdrant_HealthCheckRequest>, context: ServerContext
    ) async throws
        -> ServerResponse<Qdrant_HealthCheckReply>
    {
        var reply = Qdrant_HealthCheckReply()
        reply.title = RootOutput().title
        reply.version = StrataHTTPServer.qdrantAPIVersion
        return ServerResponse(message: reply)
    }
}
