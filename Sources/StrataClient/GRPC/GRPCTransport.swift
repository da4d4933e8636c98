// The client's gRPC transport: Qdrant's gRPC API (the server's port 6334) over
// grpc-swift-2's HTTP/2 transport. One connection pool per client, credentials
// as metadata, a deadline per call, retries of idempotent calls, and the
// server's status codes mapped to `StrataError` as the REST transport maps
// HTTP statuses.
import GRPCCore
import GRPCNIOTransportHTTP2
import StrataAPI
import StrataGRPCProtocol

final class GRPCTransport: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix

    let client: GRPCClient<Transport>
    let points: Qdrant_Points.Client<Transport>
    let collections: Qdrant_Collections.Client<Transport>
    let snapshots: Qdrant_Snapshots.Client<Transport>
    let configuration: StrataClient.Configuration
    let target: String
    private let connections: Task<Void, Never>

    /// Connects (lazily: the first call opens the connection) to `host:port`,
    /// with TLS when `secure`.
    init(host: String, port: Int, secure: Bool, configuration: StrataClient.Configuration) throws {
        let security: Transport.TransportSecurity
        if secure {
            if let file = configuration.certificateAuthorityFile {
                security = .tls { $0.trustRoots = .certificates([.file(path: file, format: .pem)]) }
            } else {
                security = .tls
            }
        } else {
            security = .plaintext
        }
        var config = Transport.Config.defaults
        config.connection.maxIdleTime = .seconds(60)
        config.backoff.initial = .milliseconds(50)
        do {
            let target = grpcTarget(host: host, port: port)
            let transport = try Transport(target: target, transportSecurity: security, config: config)
            client = GRPCClient(transport: transport)
        } catch {
            throw StrataError(.invalidArgument, "cannot reach \(host):\(port) over gRPC: \(error)")
        }
        points = Qdrant_Points.Client(wrapping: client)
        collections = Qdrant_Collections.Client(wrapping: client)
        snapshots = Qdrant_Snapshots.Client(wrapping: client)
        self.configuration = configuration
        target = "\(secure ? "https" : "http")://\(host):\(port)"
        let client = self.client
        connections = Task { try? await client.runConnections() }
    }

    /// Stops taking calls, lets the ones in flight finish, and closes the connections.
    func shutdown() async {
        client.beginGracefulShutdown()
        await connections.value
    }

    /// The credentials of every call.
    var metadata: Metadata {
        var metadata: Metadata = [:]
        if let apiKey = configuration.apiKey { metadata.addString(apiKey, forKey: "api-key") }
        if let token = configuration.bearerToken { metadata.addString("Bearer \(token)", forKey: "authorization") }
        return metadata
    }

    /// The options of every call: its deadline.
    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = configuration.timeout
        return options
    }

    /// Runs one call. `idempotent` calls are made again after UNAVAILABLE, up
    /// to `configuration.retries` times with a doubling pause; errors become
    /// `StrataError`s (`method` names the call in their messages).
    func call<Reply: Sendable>(
        _ method: String, idempotent: Bool, _ body: @Sendable (Metadata, CallOptions) async throws -> Reply
    ) async throws -> Reply {
        var attempt = 0
        var pause = configuration.retryPause
        while true {
            do {
                return try await body(metadata, options)
            } catch {
                let mapped = Self.error(error, method: method, target: target)
                attempt += 1
                guard idempotent, mapped.code == .unavailable, attempt <= configuration.retries, !Task.isCancelled
                else { throw mapped }
                try await Task.sleep(for: pause)
                pause *= 2
            }
        }
    }

    /// The `StrataError` of a failed call: the code from the gRPC status (the
    /// server maps the engine's codes to Qdrant's statuses; this undoes it),
    /// the message the server gave.
    static func error(_ error: any Error, method: String, target: String) -> StrataError {
        if let error = error as? StrataError { return error }
        guard let error = error as? RPCError else {
            if error is CancellationError { return StrataError(.cancelled, "\(method): the call was cancelled") }
            return StrataError(.unavailable, "\(target) \(method): \(error)")
        }
        let code: StrataError.Code
        switch error.code {
        case .invalidArgument, .failedPrecondition, .outOfRange: code = .invalidArgument
        case .unauthenticated, .permissionDenied: code = .permissionDenied
        case .notFound: code = .notFound
        case .alreadyExists: code = .alreadyExists
        case .deadlineExceeded, .cancelled: code = .cancelled
        case .resourceExhausted: code = .resourceExhausted
        case .unavailable: code = .unavailable
        case .unimplemented: code = .invalidArgument
        default: code = .io
        }
        let message = code == .unavailable ? "\(target) \(method): \(error.message)" : error.message
        return StrataError(code, message)
    }
}
