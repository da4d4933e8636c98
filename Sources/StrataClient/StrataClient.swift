import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
@_exported import StrataAPI

/// A client for a server speaking Qdrant's REST or gRPC API: `strata serve`, a Strata
/// cluster, or Qdrant itself.
///
/// It uses the same model types as the embedded library (`PointStruct`,
/// `Filter`, `QueryRequest`, `CollectionConfig`, `StrataError`…) and
/// conforms to the same protocols (`VectorStore`, `VectorCollection`), so code
/// written against them moves from the embedded `Database` to a server by
/// changing the line that opens the store:
///
/// ```swift
/// let store = try StrataClient(url: "http://127.0.0.1:6333", configuration: .init(apiKey: "secret"))
/// defer { Task { try await store.shutdown() } }
/// let notes = try await store.createCollection("notes", config: CollectionConfig(size: 4, distance: .cosine))
/// _ = try await notes.upsert([PointStruct(id: 1, vector: [0.1, 0.2, 0.3, 0.4], payload: ["tag": "a"])])
/// let hits = try await notes.search([0.1, 0.2, 0.3, 0.4], limit: 3)
/// ```
///
/// Connections are pooled and kept alive (AsyncHTTPClient); every request
/// has a deadline (`Configuration.timeout`); reads are retried after a
/// connection failure or a 502/503/504, writes never are. Call `shutdown()`
/// once when done.
public final class StrataClient: VectorStore, Sendable {
    /// How the client connects: credentials, deadlines, retries and TLS.
    public struct Configuration: Sendable {
        /// Which of the server's APIs requests go through.
        public enum Transport: Sendable, Equatable {
            /// Qdrant's REST API, at the client's URL (port 6333 by default).
            case rest
            /// Qdrant's gRPC API on `port` of the URL's host (6334 by default),
            /// with TLS when the URL is `https`.
            case grpc(port: Int = 6334)
        }

        /// REST (default) or gRPC.
        public var transport: Transport
        /// Sent as `api-key` (Qdrant's API key header); nil: none.
        public var apiKey: String?
        /// Sent as `Authorization: Bearer …` (a JWT the server's key signed); nil: none.
        public var bearerToken: String?
        /// The deadline of each request, from sending to the last byte of the answer.
        public var timeout: Duration
        /// How long opening a connection may take.
        public var connectTimeout: Duration
        /// How many times an idempotent request is sent again after a failure
        /// a retry may cure (the server unreachable, or answering 502/503/504).
        public var retries: Int
        /// The pause before the first retry; it doubles for each later one.
        public var retryPause: Duration
        /// Answers larger than this are refused (`.resourceExhausted`).
        public var maximumResponseBytes: Int
        /// The TLS settings of REST over `https` (trust roots, client
        /// certificates); nil: the system's trust roots, or
        /// `certificateAuthorityFile`'s.
        public var tls: TLSConfiguration?
        /// A PEM file of the certificate authority that signed the server's
        /// certificate, trusted instead of the system's roots (both transports).
        public var certificateAuthorityFile: String?
        /// Connections kept open per server.
        public var maximumConnections: Int

        /// Settings with these values; the defaults suit a server on the same
        /// network (30 s per request, 5 s to connect, 2 retries of reads).
        public init(
            transport: Transport = .rest, apiKey: String? = nil, bearerToken: String? = nil,
            timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(5), retries: Int = 2,
            retryPause: Duration = .milliseconds(100), maximumResponseBytes: Int = 256 << 20,
            tls: TLSConfiguration? = nil, certificateAuthorityFile: String? = nil, maximumConnections: Int = 8
        ) {
            self.transport = transport
            self.certificateAuthorityFile = certificateAuthorityFile
            self.apiKey = apiKey
            self.bearerToken = bearerToken
            self.timeout = timeout
            self.connectTimeout = connectTimeout
            self.retries = retries
            self.retryPause = retryPause
            self.maximumResponseBytes = maximumResponseBytes
            self.tls = tls
            self.maximumConnections = maximumConnections
        }
    }

    /// The server's base URL, without a trailing slash.
    public let url: String
    /// The settings the client was made with.
    public let configuration: Configuration
    let backend: Backend

    /// A client for the server at `url` (`http://host:6333` or `https://…`).
    /// Throws `.invalidArgument` for a URL that is not http(s) with a host.
    public init(url: String, configuration: Configuration = Configuration()) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", parsed.host != nil
        else {
            throw StrataError(.invalidArgument, "\"\(url)\" is not a server URL like http://127.0.0.1:6333")
        }
        guard configuration.retries >= 0, configuration.maximumConnections > 0,
            configuration.maximumResponseBytes > 0
        else {
            throw StrataError(
                .invalidArgument,
                "retries must not be negative; maximumConnections and maximumResponseBytes must be positive")
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base
        self.configuration = configuration
        switch configuration.transport {
        case .rest:
            var tls = configuration.tls
            if tls == nil, let file = configuration.certificateAuthorityFile {
                var trusting = TLSConfiguration.makeClientConfiguration()
                trusting.trustRoots = .file(file)
                tls = trusting
            }
            var http = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: TimeAmount(configuration.connectTimeout)))
            http.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maximumConnections)
            backend = .rest(
                RESTTransport(
                    http: HTTPClient(eventLoopGroupProvider: .singleton, configuration: http),
                    configuration: configuration, baseURL: base))
        case .grpc(let port):
            guard (1...65535).contains(port) else {
                throw StrataError(.invalidArgument, "the gRPC port must be within 1…65535, got \(port)")
            }
            backend = .grpc(
                try GRPCTransport(
                    host: parsed.host!, port: port, secure: scheme == "https", configuration: configuration))
        }
    }

    /// Closes the client's connections. Call it once, when the client is no
    /// longer used; requests after it fail.
    public func shutdown() async throws {
        switch backend {
        case .rest(let transport): try await transport.http.shutdown()
        case .grpc(let transport): await transport.shutdown()
        }
    }

    // MARK: - Collections

    /// Creates a collection (`PUT /collections/{name}`). Throws
    /// `.alreadyExists` if the name is taken, `.invalidArgument` for a
    /// configuration the server refuses (or a `payloadCompression` other than
    /// the default, which a server sets per data directory).
    public func createCollection(_ name: String, config: CollectionConfig) async throws -> RemoteCollection {
        try config.validate()
        switch backend {
        case .rest(let transport):
            _ = try await transport.send(
                .put, "/collections/\(RESTTransport.segment(name))", body: try WireEncoding.collection(config),
                idempotent: false)
        case .grpc(let transport):
            try await transport.createCollection(name, config)
        }
        return RemoteCollection(
            name: name, backend: backend,
            rowSizes: config.vectors.filter { $0.value.isMultiVector }.mapValues(\.size))
    }

    /// The collection named `name` (or an alias); throws `.notFound` when the
    /// server has none.
    public func collection(_ name: String) async throws -> RemoteCollection {
        let rowSizes: [String: Int]
        switch backend {
        case .rest(let transport):
            let result = try await transport.send(.get, "/collections/\(RESTTransport.segment(name))", idempotent: true)
            rowSizes = try WireDecoding.multivectorRowSizes(result)
        case .grpc(let transport):
            rowSizes = try await transport.multivectorRowSizes(name)
        }
        return RemoteCollection(name: name, backend: backend, rowSizes: rowSizes)
    }

    /// Deletes a collection and its data; throws `.notFound` when there is none.
    public func deleteCollection(_ name: String) async throws {
        let deleted: Bool
        switch backend {
        case .rest(let transport):
            let result = try await transport.send(
                .delete, "/collections/\(RESTTransport.segment(name))", idempotent: false)
            deleted = result == .bool(true)
        case .grpc(let transport):
            deleted = try await transport.deleteCollection(name)
        }
        // Qdrant answers `true` when it deleted, `false` when there was nothing to delete.
        guard deleted else { throw StrataError(.notFound, "Collection `\(name)` doesn't exist!") }
    }

    /// The names of every collection, sorted.
    public func collectionNames() async throws -> [String] {
        guard case .rest(let transport) = backend else { return try await grpc.collectionNames() }
        let result = try await transport.send(.get, "/collections", idempotent: true)
        let collections = try WireDecoding.array(
            try WireDecoding.object(result, "a collections list")["collections"], "collections")
        return try collections.map {
            try WireDecoding.string(try WireDecoding.object($0, "a collection")["name"], "a name")
        }
        .sorted()
    }

    // MARK: - Snapshots

    /// Takes a snapshot of collection `name` on the server while writes
    /// continue; the description's `path` is the archive's name there.
    public func createSnapshot(of name: String) async throws -> SnapshotDescription {
        guard case .rest(let transport) = backend else { return try await grpc.createSnapshot(of: name) }
        let result = try await transport.send(
            .post, "/collections/\(RESTTransport.segment(name))/snapshots", idempotent: false)
        return try WireDecoding.snapshot(result, collection: name)
    }

    /// The snapshots of collection `name`, sorted by name.
    public func snapshots(of name: String) async throws -> [SnapshotDescription] {
        guard case .rest(let transport) = backend else { return try await grpc.snapshots(of: name) }
        let result = try await transport.send(
            .get, "/collections/\(RESTTransport.segment(name))/snapshots", idempotent: true)
        return try WireDecoding.array(result, "a snapshot list").map { try WireDecoding.snapshot($0, collection: name) }
            .sorted { $0.name < $1.name }
    }

    /// Deletes the snapshot `name` of `collection` (nil: a full-storage snapshot).
    public func deleteSnapshot(named name: String, collection: String?) async throws {
        guard case .rest(let transport) = backend else {
            return try await grpc.deleteSnapshot(name, of: collection)
        }
        let path =
            collection.map { "/collections/\(RESTTransport.segment($0))/snapshots/\(RESTTransport.segment(name))" }
            ?? "/snapshots/\(RESTTransport.segment(name))"
        _ = try await transport.send(.delete, path, idempotent: false)
    }

    /// Takes a snapshot of every collection and the aliases (`POST /snapshots`).
    public func createFullSnapshot() async throws -> SnapshotDescription {
        guard case .rest(let transport) = backend else { return try await grpc.createSnapshot(of: nil) }
        return try WireDecoding.snapshot(
            try await transport.send(.post, "/snapshots", idempotent: false), collection: nil)
    }

    /// The full-storage snapshots, sorted by name.
    public func fullSnapshots() async throws -> [SnapshotDescription] {
        guard case .rest(let transport) = backend else { return try await grpc.snapshots(of: nil) }
        return try WireDecoding.array(try await transport.send(.get, "/snapshots", idempotent: true), "a snapshot list")
            .map { try WireDecoding.snapshot($0, collection: nil) }.sorted { $0.name < $1.name }
    }

    /// The gRPC transport (only called when `backend` is gRPC).
    private var grpc: GRPCTransport {
        guard case .grpc(let transport) = backend else { preconditionFailure("not a gRPC client") }
        return transport
    }
}

/// The transport a client and its collections send requests through.
enum Backend: Sendable {
    case rest(RESTTransport)
    case grpc(GRPCTransport)
}
