import Foundation

/// Everything `strata serve` can be told, from (lowest to highest precedence)
/// built-in defaults, a JSON config file, `STRATA_*` environment variables and
/// command-line flags.
///
/// Secrets (`apiKey`, `readOnlyAPIKey`) are never logged; `description`
/// prints them as `<set>`.
public struct ServerConfiguration: Sendable, Equatable, CustomStringConvertible {
    public var dataDirectory: String = "./data"
    public var host: String = "127.0.0.1"
    public var port: Int = 6333
    /// Qdrant's gRPC API on this port (same host); nil turns it off.
    public var grpcPort: Int? = 6334
    /// Full access key; also the HS256 secret that signs JWT access tokens.
    public var apiKey: String?
    /// A key that may only read.
    public var readOnlyAPIKey: String?
    /// PEM certificate chain and private key; both or neither.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// PEM certificates a cluster node trusts when it calls another node over
    /// TLS (their REST, gRPC and internal ports); nil: the system's roots.
    public var tlsCAPath: String?
    /// Request bodies larger than this are refused with 413.
    public var maxRequestBodyBytes: Int = 32 << 20
    /// JSON nested deeper than this is refused with 400 before it is decoded.
    public var maxJSONDepth: Int = 64
    /// Threads that run blocking engine calls (search, retrieve, scroll, flush,
    /// collection create/delete, request decoding); 0 = one per core.
    public var engineThreads: Int = 0
    /// swift-log level name: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// `text` (swift-log's stream format) or `json` (one JSON object per line).
    public var logFormat: String = "text"

    // Cluster mode (docs/cluster.md): all unset for a single node.
    /// etcd client URLs; non-empty: join the cluster they coordinate.
    public var etcdEndpoints: [String] = []
    /// This node's name in the cluster (unique among running nodes).
    public var nodeName: String?
    /// The REST URL other nodes and clients reach this node at; default
    /// `http(s)://<host>:<port>`.
    public var advertiseURL: String?
    /// The secret every node of the cluster shares (never logged, never stored).
    public var clusterSecret: String?
    /// Seconds the node's etcd lease lives without renewal.
    public var leaseTTL: Int = 5
    /// The internal port other nodes replicate to (same host); cluster mode only.
    public var p2pPort: Int = 6335
    /// Seconds a replica may take to confirm a write before it is marked `Partial`.
    public var replicaTimeout: Double = 2
    /// `replication_factor` and `write_consistency_factor` of a collection
    /// created without them (Qdrant's `storage.collection` defaults); cluster mode only.
    public var defaultReplicationFactor: Int = 1
    public var defaultWriteConsistencyFactor: Int = 1
    /// `shard_number` of a collection created without one; cluster mode only.
    /// nil (the default): the number of running nodes when it is created, as
    /// Qdrant does.
    public var defaultShardNumber: Int?

    public init() {}

    public var description: String {
        "data_dir=\(dataDirectory) host=\(host) port=\(port) grpc_port=\(grpcPort.map(String.init) ?? "off") api_key=\(apiKey == nil ? "<unset>" : "<set>") "
            + "read_only_api_key=\(readOnlyAPIKey == nil ? "<unset>" : "<set>") tls=\(tlsCertificatePath != nil) "
            + "max_request_size=\(maxRequestBodyBytes) engine_threads=\(resolvedEngineThreads) log_level=\(logLevel)"
            + (etcdEndpoints.isEmpty
                ? ""
                : " etcd=\(etcdEndpoints.joined(separator: ",")) node_name=\(nodeName ?? "<unset>") "
                    + "advertise_url=\(advertiseURL ?? "<default>") cluster_secret=\(clusterSecret == nil ? "<unset>" : "<set>") "
                    + "lease_ttl=\(leaseTTL) p2p_port=\(p2pPort) default_replication_factor=\(defaultReplicationFactor) "
                    + "default_write_consistency_factor=\(defaultWriteConsistencyFactor) default_shard_number=\(defaultShardNumber.map(String.init) ?? "<nodes>")")
    }

    /// The URLs a cluster node registers: its REST URL (`advertiseURL`, else
    /// from host and port) and its gRPC URL (same host, `grpcPort`).
    public func advertisedURLs() throws -> (rest: String, grpc: String?, p2p: String) {
        let scheme = tlsCertificatePath == nil ? "http" : "https"
        let rest: String
        if let advertiseURL {
            guard let url = URLComponents(string: advertiseURL), let urlScheme = url.scheme,
                ["http", "https"].contains(urlScheme), url.host?.isEmpty == false, url.port != nil
            else {
                throw ConfigurationError(
                    "--advertise-url \(advertiseURL) must be a URL with a host and a port, like http://10.0.0.5:6333")
            }
            rest = advertiseURL.hasSuffix("/") ? String(advertiseURL.dropLast()) : advertiseURL
        } else {
            guard !["0.0.0.0", "::", "[::]"].contains(host) else {
                throw ConfigurationError(
                    "a cluster node listening on \(host) needs --advertise-url: the address other nodes reach it at")
            }
            guard port != 0 else {
                throw ConfigurationError("a cluster node on port 0 needs --advertise-url (or a fixed --port)")
            }
            rest = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
        guard var components = URLComponents(string: rest) else {
            throw ConfigurationError("cannot derive the gRPC and internal URLs from \(rest)")
        }
        components.scheme = scheme
        components.port = p2pPort
        let p2p = components.string ?? rest
        guard let grpcPort, grpcPort != 0 else { return (rest, nil, p2p) }
        components.port = grpcPort
        return (rest, components.string, p2p)
    }

    public var resolvedEngineThreads: Int {
        engineThreads > 0 ? engineThreads : max(2, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The config file's keys (snake_case, all optional).
    struct File: Decodable {
        var data_dir: String?
        var host: String?
        var port: Int?
        /// A port, or null to turn gRPC off.
        var grpc_port: Int??
        var api_key: String?
        var read_only_api_key: String?
        var tls_cert: String?
        var tls_key: String?
        var tls_ca: String?
        var max_request_size_bytes: Int?
        var max_json_depth: Int?
        var engine_threads: Int?
        var log_level: String?
        var log_format: String?
        var etcd: [String]?
        var node_name: String?
        var advertise_url: String?
        var cluster_secret: String?
        var lease_ttl: Int?
        var p2p_port: Int?
        var default_replication_factor: Int?
        var default_write_consistency_factor: Int?
        var default_shard_number: Int?
    }

    /// Applies a JSON config file (keys as in `File`; unknown keys are an error
    /// so that a typo does not silently leave a default in place).
    public mutating func apply(configFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the config file \(path)")
        }
        let known: Set<String> = [
            "data_dir", "host", "port", "grpc_port", "api_key", "read_only_api_key", "tls_cert", "tls_key",
            "tls_ca", "max_request_size_bytes", "max_json_depth", "engine_threads", "log_level", "log_format",
            "etcd", "node_name", "advertise_url", "cluster_secret", "lease_ttl", "p2p_port",
            "default_replication_factor", "default_write_consistency_factor", "default_shard_number",
        ]
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("the config file \(path) is not a JSON object")
        }
        let unknown = Set(object.keys).subtracting(known)
        guard unknown.isEmpty else {
            throw ConfigurationError(
                "the config file \(path) has unknown keys \(unknown.sorted()); known keys: \(known.sorted())")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw ConfigurationError("the config file \(path) has a value of the wrong type: \(error)")
        }
        if let v = file.data_dir { dataDirectory = v }
        if let v = file.host { host = v }
        if let v = file.port { port = v }
        if let v = file.grpc_port { grpcPort = v }
        if let v = file.api_key { apiKey = v }
        if let v = file.read_only_api_key { readOnlyAPIKey = v }
        if let v = file.tls_cert { tlsCertificatePath = v }
        if let v = file.tls_key { tlsKeyPath = v }
        if let v = file.tls_ca { tlsCAPath = v }
        if let v = file.max_request_size_bytes { maxRequestBodyBytes = v }
        if let v = file.max_json_depth { maxJSONDepth = v }
        if let v = file.engine_threads { engineThreads = v }
        if let v = file.log_level { logLevel = v }
        if let v = file.log_format { logFormat = v }
        if let v = file.etcd { etcdEndpoints = v }
        if let v = file.node_name { nodeName = v }
        if let v = file.advertise_url { advertiseURL = v }
        if let v = file.cluster_secret { clusterSecret = v }
        if let v = file.lease_ttl { leaseTTL = v }
        if let v = file.p2p_port { p2pPort = v }
        if let v = file.default_replication_factor { defaultReplicationFactor = v }
        if let v = file.default_write_consistency_factor { defaultWriteConsistencyFactor = v }
        if let v = file.default_shard_number { defaultShardNumber = v }
    }

    /// The environment variables `strata serve` reads.
    public static let environmentVariables = [
        "STRATA_DATA_DIR", "STRATA_HOST", "STRATA_PORT", "STRATA_GRPC_PORT", "STRATA_API_KEY",
        "STRATA_READ_ONLY_API_KEY",
        "STRATA_TLS_CERT", "STRATA_TLS_KEY", "STRATA_TLS_CA", "STRATA_MAX_REQUEST_SIZE_BYTES", "STRATA_MAX_JSON_DEPTH",
        "STRATA_ENGINE_THREADS", "STRATA_LOG_LEVEL", "STRATA_LOG_FORMAT",
        "STRATA_ETCD", "STRATA_NODE_NAME", "STRATA_ADVERTISE_URL", "STRATA_CLUSTER_SECRET", "STRATA_LEASE_TTL",
        "STRATA_P2P_PORT", "STRATA_DEFAULT_REPLICATION_FACTOR", "STRATA_DEFAULT_WRITE_CONSISTENCY_FACTOR",
    ]

    /// Applies `STRATA_*` environment variables (see `environmentVariables`).
    public mutating func apply(environment: [String: String]) throws {
        func int(_ key: String) throws -> Int? {
            guard let text = environment[key] else { return nil }
            guard let value = Int(text) else { throw ConfigurationError("\(key)=\(text) is not an integer") }
            return value
        }
        if let v = environment["STRATA_DATA_DIR"] { dataDirectory = v }
        if let v = environment["STRATA_HOST"] { host = v }
        if let v = try int("STRATA_PORT") { port = v }
        if let text = environment["STRATA_GRPC_PORT"] {
            if text == "off" {
                grpcPort = nil
            } else {
                guard let value = Int(text) else {
                    throw ConfigurationError("STRATA_GRPC_PORT=\(text) is neither a port nor `off`")
                }
                grpcPort = value
            }
        }
        if let v = environment["STRATA_API_KEY"] { apiKey = v }
        if let v = environment["STRATA_READ_ONLY_API_KEY"] { readOnlyAPIKey = v }
        if let v = environment["STRATA_TLS_CERT"] { tlsCertificatePath = v }
        if let v = environment["STRATA_TLS_KEY"] { tlsKeyPath = v }
        if let v = environment["STRATA_TLS_CA"] { tlsCAPath = v }
        if let v = try int("STRATA_MAX_REQUEST_SIZE_BYTES") { maxRequestBodyBytes = v }
        if let v = try int("STRATA_MAX_JSON_DEPTH") { maxJSONDepth = v }
        if let v = try int("STRATA_ENGINE_THREADS") { engineThreads = v }
        if let v = environment["STRATA_LOG_LEVEL"] { logLevel = v }
        if let v = environment["STRATA_LOG_FORMAT"] { logFormat = v }
        if let v = environment["STRATA_ETCD"] { etcdEndpoints = Self.endpointList(v) }
        if let v = environment["STRATA_NODE_NAME"] { nodeName = v }
        if let v = environment["STRATA_ADVERTISE_URL"] { advertiseURL = v }
        if let v = environment["STRATA_CLUSTER_SECRET"] { clusterSecret = v }
        if let v = try int("STRATA_LEASE_TTL") { leaseTTL = v }
        if let v = try int("STRATA_P2P_PORT") { p2pPort = v }
        if let v = try int("STRATA_DEFAULT_REPLICATION_FACTOR") { defaultReplicationFactor = v }
        if let v = try int("STRATA_DEFAULT_WRITE_CONSISTENCY_FACTOR") { defaultWriteConsistencyFactor = v }
        if let v = try int("STRATA_DEFAULT_SHARD_NUMBER") { defaultShardNumber = v }
    }

    /// `URL[,URL…]` as a list (blank entries dropped).
    public static func endpointList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Checks the combination; throws with what to change.
    public func validate() throws {
        guard (0...65535).contains(port) else { throw ConfigurationError("port must be 0…65535, got \(port)") }
        if let grpcPort {
            guard (0...65535).contains(grpcPort) else {
                throw ConfigurationError("gRPC port must be 0…65535, got \(grpcPort)")
            }
            if grpcPort == port, port != 0 {
                throw ConfigurationError("the gRPC port and the REST port must differ (both \(port))")
            }
        }
        guard maxRequestBodyBytes > 0 else { throw ConfigurationError("max request size must be positive") }
        guard (2...10_000).contains(maxJSONDepth) else { throw ConfigurationError("max JSON depth must be 2…10000") }
        guard engineThreads >= 0 else { throw ConfigurationError("engine threads must not be negative") }
        guard (tlsCertificatePath == nil) == (tlsKeyPath == nil) else {
            throw ConfigurationError("TLS needs both a certificate (--tls-cert) and a private key (--tls-key)")
        }
        if let apiKey, apiKey.isEmpty { throw ConfigurationError("the API key must not be empty") }
        if let readOnlyAPIKey, readOnlyAPIKey.isEmpty {
            throw ConfigurationError("the read-only API key must not be empty")
        }
        if readOnlyAPIKey != nil, apiKey == nil {
            throw ConfigurationError(
                "a read-only API key without an API key would leave writes open to everyone; set --api-key too")
        }
        if let apiKey, let readOnlyAPIKey, apiKey == readOnlyAPIKey {
            throw ConfigurationError("the API key and the read-only API key must differ")
        }
        guard ["text", "json"].contains(logFormat) else { throw ConfigurationError("log format must be text or json") }
        if etcdEndpoints.isEmpty {
            guard nodeName == nil, advertiseURL == nil else {
                throw ConfigurationError("--node-name and --advertise-url are for cluster mode: give --etcd too")
            }
        } else {
            guard let nodeName, !nodeName.isEmpty else {
                throw ConfigurationError("a cluster node needs a name: give --node-name (unique among running nodes)")
            }
            guard let clusterSecret, !clusterSecret.isEmpty else {
                throw ConfigurationError(
                    "a cluster node needs the cluster's secret: set STRATA_CLUSTER_SECRET (or --cluster-secret)")
            }
            guard (1...60).contains(leaseTTL) else { throw ConfigurationError("the lease TTL must be 1…60 seconds") }
            if let defaultShardNumber, !(1...1024).contains(defaultShardNumber) {
                throw ConfigurationError("the default shard number must be 1…1024")
            }
            guard defaultReplicationFactor >= 1,
                (1...defaultReplicationFactor).contains(defaultWriteConsistencyFactor)
            else {
                throw ConfigurationError(
                    "the default replication factor must be at least 1, and the default write consistency factor 1…it")
            }
            guard (1...65535).contains(p2pPort), p2pPort != port, p2pPort != grpcPort else {
                throw ConfigurationError(
                    "the internal port (--p2p-port) must be 1…65535 and differ from the REST and gRPC ports")
            }
            _ = try advertisedURLs()
        }
    }
}

/// A configuration problem, with what to change.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
