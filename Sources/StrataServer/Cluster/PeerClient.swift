import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import StrataCluster
import Synchronization

/// Calls another node's internal port (`--p2p-port`): every request carries
/// the cluster secret in `x-strata-cluster-secret`. Thread-safe.
struct PeerClient: Sendable {
    static let secretHeader = "x-strata-cluster-secret"

    let secret: String
    /// The HTTP client for the cluster's nodes (`http(trusting:)`).
    let http: HTTPClient

    init(_ configuration: ClusterNode.Configuration) {
        secret = configuration.secret
        http = Self.http(trusting: configuration.caCertificatePath)
    }

    /// The HTTP client every call from this node to another goes through
    /// (REST, internal port), one per set of trusted certificates for the
    /// process's life: connections are kept per node; connecting gives up
    /// after 1 s; over TLS the certificates in `caFile` are trusted (nil: the
    /// system's roots).
    static func http(trusting caFile: String?) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[caFile] { return client }
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(1)))
            if let caFile {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .file(caFile)
                configuration.tlsConfiguration = tls
            }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[caFile] = client
            return client
        }
    }

    /// For this node's cluster configuration.
    static func http(for cluster: ClusterNode) -> HTTPClient {
        http(trusting: cluster.configuration.caCertificatePath)
    }

    private static let clients = Mutex<[String?: HTTPClient]>([:])

    struct Reply: Sendable {
        var status: Int
        var body: [UInt8]
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
        /// An unsigned integer field of the JSON body.
        func number(_ key: String) -> UInt64? { (json?[key] as? NSNumber)?.uint64Value }
    }

    /// Sends a request to `baseURL + path` and returns the status and body;
    /// throws when the node cannot be reached or does not answer in `timeout`.
    func call(
        _ method: HTTPMethod, _ baseURL: String, _ path: String, body: [UInt8]? = nil,
        contentType: String = "application/json", timeout: Duration, headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: Self.secretHeader, value: secret)
        if let body {
            request.headers.add(name: "content-type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let (seconds, attoseconds) = timeout.components
        let response = try await http.execute(
            request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), body: Array(bytes.readableBytesView))
    }
}
