import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import StrataCluster
import StrataGRPCProtocol
import SwiftProtobuf
import Synchronization

/// gRPC calls on a cluster node, routed as `ClusterRoutingMiddleware` routes
/// REST requests (docs/cluster.md, "Requests"): a call on a collection of
/// one shard that this node cannot serve (a write when it is not the
/// primary, a read when it holds no Active replica) goes on to the primary's
/// gRPC port, as the same message with the caller's credentials, and its
/// answer or status comes back unchanged. A forwarded call carries
/// `x-strata-forwarded-by` and the cluster secret, so the next node serves it
/// itself (a call is forwarded at most once), and a client that sets the
/// header without the secret is refused.
///
/// Calls on collections of several shards are not forwarded: the node that
/// receives one sends it through its shard router (GRPCShardBridge.swift).
enum GRPCForwarding {
    static let forwardedKey = "x-strata-forwarded-by"
    static let secretKey = PeerClient.secretHeader

    /// What a call does to its collection, by its full method name; nil for
    /// calls that are served where they arrive (collection listing, aliases,
    /// cluster setup, snapshots: each names its own node's files).
    static func kind(service: String, method: String) -> Kind? {
        switch service {
        case "qdrant.Points": return writes.contains(method) ? .write : .read
        case "qdrant.Collections":
            switch method {
            case "Get": return .read
            case "Update", "CreateVectorName", "DeleteVectorName": return .write
            default: return nil
            }
        default: return nil
        }
    }

    enum Kind { case read, write }

    static let writes: Set<String> = [
        "Upsert", "Delete", "UpdateVectors", "DeleteVectors", "SetPayload", "OverwritePayload", "DeletePayload",
        "ClearPayload", "CreateFieldIndex", "DeleteFieldIndex", "UpdateBatch",
    ]

    /// True when the call was forwarded by a node of this cluster; throws
    /// PERMISSION_DENIED when it names a forwarding node without the secret.
    static func isForwarded(_ metadata: Metadata, secret: String) throws -> Bool {
        guard metadata[stringValues: forwardedKey].first(where: { _ in true }) != nil else { return false }
        let given = metadata[stringValues: secretKey].first(where: { _ in true }) ?? ""
        guard PeerSecretMiddleware.equalInConstantTime(given, secret) else {
            throw RPCError(
                code: .permissionDenied,
                message: "x-strata-forwarded-by is internal to a Strata cluster: only a node of the cluster may send it"
            )
        }
        return true
    }

    /// The metadata of the forwarded call: the caller's credentials, and
    /// this node as the forwarder with the cluster secret.
    static func metadata(from incoming: Metadata, cluster: ClusterNode) -> Metadata {
        var metadata: Metadata = [:]
        for key in ["api-key", "authorization"] {
            for value in incoming[stringValues: key] { metadata.addString(value, forKey: key) }
        }
        metadata.addString(String(cluster.identity.peerID), forKey: forwardedKey)
        metadata.addString(cluster.configuration.secret, forKey: secretKey)
        return metadata
    }
}

/// Connections to the other nodes' gRPC ports, one client per node, opened
/// on first use and closed with the server.
final class GRPCPeerClients: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix
    private struct Entry: Sendable {
        var client: GRPCClient<Transport>
        var connections: Task<Void, Never>
    }
    private let entries = Mutex<[String: Entry]>([:])
    /// PEM certificates trusted over TLS (`--tls-ca`); nil: the system's roots.
    private let caCertificatePath: String?

    init(caCertificatePath: String?) { self.caCertificatePath = caCertificatePath }

    /// The client for a node's advertised gRPC URL (`http://host:port`, or
    /// `https://` when the cluster serves TLS, trusting `caCertificatePath`).
    func client(for url: String) throws -> GRPCClient<Transport> {
        try entries.withLock { entries in
            if let entry = entries[url] { return entry.client }
            guard let components = URLComponents(string: url), let host = components.host,
                let port = components.port
            else {
                throw RPCError(code: .internalError, message: "a node advertises an unusable gRPC URL: \(url)")
            }
            var config = Transport.Config.defaults
            config.connection.maxIdleTime = .seconds(60)
            config.backoff.initial = .milliseconds(50)
            let security: Transport.TransportSecurity
            if components.scheme != "https" {
                security = .plaintext
            } else if let caCertificatePath {
                security = .tls { $0.trustRoots = .certificates([.file(path: caCertificatePath, format: .pem)]) }
            } else {
                security = .tls
            }
            let target = grpcTarget(host: host, port: port)
            let transport = try Transport(target: target, transportSecurity: security, config: config)
            let client = GRPCClient(transport: transport)
            entries[url] = Entry(client: client, connections: Task { try? await client.runConnections() })
            return client
        }
    }

    /// Closes every connection (the server is stopping).
    func shutdown() async {
        let all = entries.withLock { entries in
            defer { entries.removeAll() }
            return Array(entries.values)
        }
        for entry in all { entry.client.beginGracefulShutdown() }
        for entry in all { await entry.connections.value }
    }
}

extension StrataHTTPServer {
    /// The node that serves `message` when this one cannot (see
    /// `GRPCForwarding`); nil when it is served here.
    func grpcForwardTarget<Input: SwiftProtobuf.Message>(
        _ message: Input, _ context: ServerContext, _ metadata: Metadata
    ) throws -> String? {
        guard let cluster,
            let kind = GRPCForwarding.kind(
                service: context.descriptor.service.fullyQualifiedService,
                method: context.descriptor.method),
            !(try GRPCForwarding.isForwarded(metadata, secret: cluster.configuration.secret)),
            let name = (message as? any GRPCCollectionRequest)?.collectionName,
            let placement = cluster.placement(name),
            !placement.isSharded
        else { return nil }
        let me = cluster.identity.peerID
        if kind == .write ? placement.primary == me : placement.state(of: me) == .active { return nil }
        guard let primary = cluster.livePeers()[placement.primary] else {
            throw RPCError(
                code: .unavailable,
                message:
                    "Service unavailable: the primary of collection `\(name)` (peer \(placement.primary)) is not running"
            )
        }
        guard let url = primary.grpc_url else {
            throw RPCError(
                code: .unavailable,
                message: "the primary of collection `\(name)` (peer \(placement.primary)) does not serve gRPC")
        }
        return url
    }

    /// Sends the call on to `url` and answers with its reply (or its status).
    func forwardGRPC<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
        _ request: ServerRequest<Input>, _ context: ServerContext, to url: String, cluster: ClusterNode
    ) async throws -> ServerResponse<Output> {
        let client = try grpcPeers.client(for: url)
        var options = CallOptions.defaults
        options.timeout = .seconds(120)
        let reply = try await client.unary(
            request: ClientRequest(
                message: request.message, metadata: GRPCForwarding.metadata(from: request.metadata, cluster: cluster)),
            descriptor: context.descriptor, serializer: ProtobufSerializer<Input>(),
            deserializer: ProtobufDeserializer<Output>(), options: options
        ) { try $0.message }
        return ServerResponse(message: reply)
    }
}
