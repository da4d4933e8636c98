import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A cluster of local etcd members, each its own `etcd` process (Debian's
/// `etcd-server`), on loopback ports: what `strata cluster local`,
/// `strata clustertest` and the tests run. Member `i` listens for clients on
/// `clientBasePort + 2i` and for its peers on `clientBasePort + 2i + 1`, and
/// keeps its data in `directory/etcd-<i>` (log: `etcd-<i>.log`).
///
/// **Timing.** etcd's defaults (heartbeat 100 ms, election 1 s) assume a member
/// that is never starved of CPU. Here several etcd members share a small
/// machine with Strata nodes and their clients; a heartbeat delayed past the
/// election timeout starts a needless election, during which lease renewals
/// stall. The heartbeat is 200 ms and the election timeout 2 s (10 heartbeats,
/// etcd's recommended ratio): a leader killed with `kill -9` is replaced
/// within about 2–3 s, and a scheduling delay of up to ~1.5 s is absorbed.
///
/// Thread safety: methods may be called from any thread.
public final class LocalEtcdCluster: Sendable {
    public let directory: String
    public let memberCount: Int
    public let clientBasePort: Int
    public let heartbeatMilliseconds: Int
    public let electionMilliseconds: Int
    /// The running process of each member (nil: stopped).
    private let processes: ChildProcesses

    public init(
        directory: String, members: Int, clientBasePort: Int, heartbeatMilliseconds: Int = 200,
        electionMilliseconds: Int = 2000
    ) {
        precondition(members >= 1, "an etcd cluster has at least one member")
        self.directory = directory
        memberCount = members
        self.clientBasePort = clientBasePort
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.electionMilliseconds = electionMilliseconds
        processes = ChildProcesses(count: members)
    }

    /// The client URL of member `index`.
    public func clientURL(_ index: Int) -> String { "http://127.0.0.1:\(clientBasePort + 2 * index)" }
    /// Every member's client URL, for `--etcd`.
    public var clientURLs: [String] { (0..<memberCount).map(clientURL) }
    private func peerURL(_ index: Int) -> String { "http://127.0.0.1:\(clientBasePort + 2 * index + 1)" }
    private func name(_ index: Int) -> String { "etcd-\(index)" }

    /// The `etcd` executable: `STRATA_ETCD_BIN`, else the first on PATH.
    public static func executable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["STRATA_ETCD_BIN"], !path.isEmpty { return path }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/etcd"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw EtcdError.unreachable(
            endpoints: [],
            cause:
                "the etcd executable is not installed; run scripts/bootstrap.sh (Debian: apt-get install etcd-server)")
    }

    /// Starts every member and waits until the cluster has a leader and takes
    /// writes (at most `timeout`). A member whose data directory exists
    /// rejoins with its data.
    public func start(timeout: Duration = .seconds(30)) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in 0..<memberCount { try startMember(index) }
        try await waitUntilWritable(timeout: timeout)
    }

    /// Starts member `index` (after `kill` or `stop`); its data directory is kept.
    public func startMember(_ index: Int) throws {
        let executable = try Self.executable()
        let initialCluster = (0..<memberCount).map { "\(name($0))=\(peerURL($0))" }.joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--name", name(index),
            "--data-dir", "\(directory)/\(name(index))",
            "--listen-client-urls", clientURL(index), "--advertise-client-urls", clientURL(index),
            "--listen-peer-urls", peerURL(index), "--initial-advertise-peer-urls", peerURL(index),
            "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", "strata-local",
            "--heartbeat-interval", String(heartbeatMilliseconds), "--election-timeout", String(electionMilliseconds),
            "--logger", "zap", "--log-outputs", "\(directory)/\(name(index)).log", "--log-level", "warn",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.set(index, process)
    }

    /// The process id of member `index`, if it runs.
    public func pid(_ index: Int) -> Int32? {
        processes.pid(index)
    }

    /// Sends `signal` to member `index` (SIGKILL: it dies at once, as in a crash).
    public func kill(_ index: Int, signal: Int32 = SIGKILL) {
        processes.signal(index, signal)
    }

    /// Stops every member (SIGTERM, then SIGKILL after 5 s).
    public func stop() {
        processes.stopAll(grace: 5)
    }

    /// The index of the member that is etcd's raft leader now, if one answers.
    public func leaderIndex() async -> Int? {
        for index in 0..<memberCount where pid(index) != nil {
            let status = try? await EtcdClient.with(.init(endpoints: [clientURL(index)])) { try await $0.status() }
            if let status, status.leaderID != 0, status.leaderID == status.memberID { return index }
        }
        return nil
    }

    /// Waits until a put through any member succeeds.
    public func waitUntilWritable(timeout: Duration) async throws {
        var configuration = EtcdClient.Configuration(endpoints: clientURLs)
        configuration.requestTimeout = .seconds(2)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let lastError: Error? = try await EtcdClient.with(configuration) { client in
            var lastError: Error?
            while clock.now < deadline {
                do {
                    try await client.put("/strata-local/probe", Data("ok".utf8))
                    return nil
                } catch {
                    lastError = error
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            return lastError ?? EtcdError.unreachable(endpoints: [], cause: "no attempt")
        }
        guard let lastError else { return }
        throw EtcdError.unreachable(
            endpoints: clientURLs,
            cause: "the local etcd cluster did not take a write within \(timeout) (logs: \(directory)/etcd-*.log); "
                + "last error: \(lastError)")
    }

    /// A loopback port `p` such that `p ..< p + count` are all free now (for
    /// tests and `--base-port 0`). Another process may still take one before use;
    /// the default range stays below Linux's ephemeral ports (32768 and up), which
    /// outgoing connections (many, between the nodes of a cluster) take at any time.
    public static func freePortRange(count: Int, in range: ClosedRange<Int> = 20_000...(32_000 - 100)) -> Int {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let base = Int.random(in: range, using: &generator)
            if (base..<base + count).allSatisfy(isFree) { return base }
        }
        preconditionFailure("no \(count) consecutive free loopback ports in \(range)")
    }

    static func isFree(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
