import AsyncHTTPClient
import Foundation
import NIOSSL
import StrataEtcd
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A whole cluster on one machine, on loopback: `etcdMembers` etcd processes
/// and `nodes` `strata serve` processes, each node with its own data directory
/// `directory/node-<i>` and log `directory/node-<i>.log`. What
/// `strata cluster local` runs, and what cluster tests start and break.
///
/// Ports: node `i` serves REST on `basePort + 10i`, gRPC on
/// `basePort + 10i + 1` and its internal port on `basePort + 10i + 2` (so
/// with the default 6333, node 0 has Qdrant's ports); etcd member `j` takes `etcdBasePort + 2j` (clients) and
/// `etcdBasePort + 2j + 1` (peers).
///
/// Thread safety: methods may be called from any thread.
public final class LocalCluster: Sendable {
    public struct Configuration: Sendable {
        public var directory: String
        public var nodes: Int
        public var etcdMembers: Int
        public var basePort: Int
        public var etcdBasePort: Int
        /// The `strata` executable the nodes run.
        public var executable: String
        public var secret: String
        public var leaseTTL: Int = 5
        /// More `strata serve` arguments for every node (e.g. `--log-level debug`).
        public var extraArguments: [String] = []
        /// TLS on every node's ports (REST, gRPC, internal), with the nodes
        /// trusting `certificateAuthority`; nil: plain HTTP.
        public var tls: TLSFiles?

        /// PEM files: one certificate and key for every node (valid for
        /// 127.0.0.1), and the certificates that signed it.
        public struct TLSFiles: Sendable {
            public var certificate: String
            public var key: String
            public var certificateAuthority: String

            public init(certificate: String, key: String, certificateAuthority: String) {
                self.certificate = certificate
                self.key = key
                self.certificateAuthority = certificateAuthority
            }
        }

        public init(
            directory: String, nodes: Int, etcdMembers: Int, basePort: Int, etcdBasePort: Int, executable: String,
            secret: String
        ) {
            self.directory = directory
            self.nodes = nodes
            self.etcdMembers = etcdMembers
            self.basePort = basePort
            self.etcdBasePort = etcdBasePort
            self.executable = executable
            self.secret = secret
        }
    }

    public let configuration: Configuration
    public let etcd: LocalEtcdCluster
    private let processes: ChildProcesses

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        etcd = LocalEtcdCluster(
            directory: configuration.directory + "/etcd", members: configuration.etcdMembers,
            clientBasePort: configuration.etcdBasePort)
        processes = ChildProcesses(count: configuration.nodes)
    }

    public func nodeName(_ index: Int) -> String { "node-\(index)" }
    public func restPort(_ index: Int) -> Int { configuration.basePort + 10 * index }
    public func grpcPort(_ index: Int) -> Int { configuration.basePort + 10 * index + 1 }
    public func p2pPort(_ index: Int) -> Int { configuration.basePort + 10 * index + 2 }
    public func restURL(_ index: Int) -> String {
        "\(configuration.tls == nil ? "http" : "https")://127.0.0.1:\(restPort(index))"
    }

    /// The HTTP client that reaches the nodes (trusting the cluster's
    /// certificate authority under TLS).
    public var http: HTTPClient {
        guard let tls = configuration.tls else { return .shared }
        return Self.tlsClients.withLock { clients in
            if let client = clients[tls.certificateAuthority] { return client }
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.trustRoots = .file(tls.certificateAuthority)
            let client = HTTPClient(
                eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tlsConfiguration))
            clients[tls.certificateAuthority] = client
            return client
        }
    }
    private static let tlsClients = Mutex<[String: HTTPClient]>([:])
    public func dataDirectory(_ index: Int) -> String { configuration.directory + "/node-\(index)" }

    /// Starts etcd, then every node, and waits until each node's `GET /cluster`
    /// shows all nodes `Active` (at most `timeout`).
    public func start(timeout: Duration = .seconds(90)) async throws {
        try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        try await etcd.start()
        for index in 0..<configuration.nodes { try startNode(index) }
        try await waitUntilFormed(timeout: timeout)
    }

    /// Starts node `index` (again, after `kill`); its data directory is kept.
    public func startNode(_ index: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: configuration.executable)
        process.arguments =
            [
                "serve", "--data-dir", dataDirectory(index), "--host", "127.0.0.1",
                "--port", String(restPort(index)), "--grpc-port", String(grpcPort(index)),
                "--p2p-port", String(p2pPort(index)),
                "--etcd", etcd.clientURLs.joined(separator: ","), "--node-name", nodeName(index),
                "--lease-ttl", String(configuration.leaseTTL),
            ] + tlsArguments + configuration.extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["STRATA_CLUSTER_SECRET"] = configuration.secret
        process.environment = environment
        let logPath = configuration.directory + "/node-\(index).log"
        if !FileManager.default.fileExists(atPath: logPath) {
            FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw ClusterError.invalid("cannot write the node log \(logPath)")
        }
        log.seekToEndOfFile()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes.set(index, process)
    }

    private var tlsArguments: [String] {
        guard let tls = configuration.tls else { return [] }
        return ["--tls-cert", tls.certificate, "--tls-key", tls.key, "--tls-ca", tls.certificateAuthority]
    }

    /// The process id of node `index`, if it runs.
    public func pid(_ index: Int) -> Int32? {
        processes.pid(index)
    }

    /// Indexes of nodes whose process has exited (crashed, or killed outside this object).
    public func exitedNodes() -> [(index: Int, status: Int32)] {
        processes.exited()
    }

    /// Sends `signal` to node `index`; for SIGKILL and SIGTERM waits until it exited.
    public func kill(_ index: Int, signal: Int32 = SIGKILL) {
        processes.signal(index, signal)
    }

    /// Stops every node (SIGTERM; SIGKILL after 20 s), then etcd.
    public func stop() {
        processes.stopAll(grace: 20)
        etcd.stop()
    }

    /// Waits until every running node reports every node `Active`.
    public func waitUntilFormed(timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let names = Set((0..<configuration.nodes).map(nodeName))
        var pending = Set(0..<configuration.nodes)
        while !pending.isEmpty {
            if let exited = exitedNodes().first {
                throw ClusterError.invalid(
                    "node \(nodeName(exited.index)) exited with status \(exited.status) while the cluster formed; "
                        + "see \(configuration.directory)/node-\(exited.index).log")
            }
            for index in pending.sorted() where await activeNames(index) == names { pending.remove(index) }
            guard !pending.isEmpty else { break }
            guard clock.now < deadline else {
                throw ClusterError.invalid(
                    "the cluster did not form within \(timeout): \(pending.sorted().map(nodeName)) do not see every node "
                        + "(logs in \(configuration.directory))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The names node `index` reports `Active` in `GET /cluster` (empty when it does not answer).
    func activeNames(_ index: Int) async -> Set<String> {
        var request = HTTPClientRequest(url: restURL(index) + "/cluster")
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: .seconds(2)),
            response.status == .ok,
            let body = try? await response.body.collect(upTo: 1 << 20),
            case let data = Data(body.readableBytesView),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let result = object["result"] as? [String: Any], let peers = result["peers"] as? [String: Any]
        else { return [] }
        return Set(
            peers.values.compactMap { value -> String? in
                guard let peer = value as? [String: Any], peer["state"] as? String == "Active" else { return nil }
                return peer["node_name"] as? String
            })
    }
}
