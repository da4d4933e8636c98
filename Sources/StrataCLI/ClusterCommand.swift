import ArgumentParser
import Foundation
import StrataCluster
import StrataEtcd

/// `strata cluster …`: running a cluster.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run a Strata cluster (etcd as the control plane; docs/cluster.md).",
        subcommands: [ClusterLocalCommand.self]
    )
}

/// `strata cluster local`: etcd and Strata nodes on loopback, in the foreground.
struct ClusterLocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Start an etcd cluster and Strata nodes on this machine (loopback), until Ctrl-C.",
        discussion: """
            Node i serves REST on BASE+10i, gRPC on BASE+10i+1 and replication on BASE+10i+2 (node 0 on \
            6333/6334/6335 by default); etcd member j \
            listens on ETCD_BASE+2j for clients and ETCD_BASE+2j+1 for its peers. Data and logs go under --dir \
            (node-<i>/, node-<i>.log, etcd/). Run it again with the same --dir to restart the same cluster. The \
            nodes share STRATA_CLUSTER_SECRET if it is set, else a random secret. Ctrl-C (or SIGTERM) stops the \
            nodes gracefully, then etcd.
            """)

    @Option(name: .long, help: "Strata nodes.")
    var nodes = 3

    @Option(name: .long, help: "etcd members (1, 3 or 5).")
    var etcdMembers = 3

    @Option(name: .long, help: "Directory for the nodes' data, etcd's data and the logs.")
    var dir: String

    @Option(name: .long, help: "REST port of node 0; node i uses BASE+10i (REST) and BASE+10i+1 (gRPC).")
    var basePort = 6333

    @Option(name: .long, help: "Client port of etcd member 0; member j uses ETCD_BASE+2j and ETCD_BASE+2j+1.")
    var etcdBasePort = 2379

    @Option(name: .long, help: "Seconds a node's etcd lease lives without renewal.")
    var leaseTtl = 5

    @Option(name: .long, help: "replication_factor of collections created without one (every node's default).")
    var defaultReplicationFactor: Int?

    @Option(
        name: .long,
        help:
            "shard_number of collections created without one (every node's default; the number of running nodes if absent, as Qdrant)."
    )
    var defaultShardNumber: Int?

    @Option(name: .long, help: "write_consistency_factor of collections created without one.")
    var defaultWriteConsistencyFactor: Int?

    @Option(
        name: .long,
        help: "PEM certificate of every node (valid for 127.0.0.1): TLS on every port (with --tls-key, --tls-ca).")
    var tlsCert: String?

    @Option(name: .long, help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(
        name: .long, help: "PEM certificates that signed --tls-cert: what the nodes trust when they call each other.")
    var tlsCa: String?

    func validate() throws {
        guard (1...32).contains(nodes) else { throw ValidationError("--nodes must be 1…32") }
        guard [1, 3, 5, 7].contains(etcdMembers) else {
            throw ValidationError("--etcd-members must be 1, 3, 5 or 7 (an odd number keeps a majority)")
        }
        guard (1...65535 - 10 * nodes).contains(basePort) else { throw ValidationError("--base-port is out of range") }
        guard (1...65535 - 2 * etcdMembers).contains(etcdBasePort) else {
            throw ValidationError("--etcd-base-port is out of range")
        }
        let strataPorts = Set((0..<nodes).flatMap { (node: Int) -> [Int] in (0..<3).map { basePort + 10 * node + $0 } })
        let etcdPorts = Set((0..<2 * etcdMembers).map { etcdBasePort + $0 })
        guard strataPorts.isDisjoint(with: etcdPorts) else {
            throw ValidationError("the nodes' ports and etcd's ports overlap: move --base-port or --etcd-base-port")
        }
        guard [tlsCert, tlsKey, tlsCa].allSatisfy({ $0 == nil }) || [tlsCert, tlsKey, tlsCa].allSatisfy({ $0 != nil })
        else {
            throw ValidationError("TLS needs --tls-cert, --tls-key and --tls-ca together")
        }
    }

    func run() async throws {
        let secret =
            ProcessInfo.processInfo.environment["STRATA_CLUSTER_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        var configuration = LocalCluster.Configuration(
            directory: dir, nodes: nodes, etcdMembers: etcdMembers, basePort: basePort, etcdBasePort: etcdBasePort,
            executable: try currentExecutablePath(), secret: secret)
        configuration.leaseTTL = leaseTtl
        if let tlsCert, let tlsKey, let tlsCa {
            configuration.tls = .init(certificate: tlsCert, key: tlsKey, certificateAuthority: tlsCa)
        }
        if let defaultReplicationFactor {
            configuration.extraArguments += ["--default-replication-factor", String(defaultReplicationFactor)]
        }
        if let defaultShardNumber {
            configuration.extraArguments += ["--default-shard-number", String(defaultShardNumber)]
        }
        if let defaultWriteConsistencyFactor {
            configuration.extraArguments += [
                "--default-write-consistency-factor", String(defaultWriteConsistencyFactor),
            ]
        }
        let cluster = LocalCluster(configuration)

        // Ctrl-C and SIGTERM stop everything; handled here, not by the default action.
        let (stopRequests, stopRequested) = AsyncStream<Int32>.makeStream()
        let sources = handleStopSignals { stopRequested.yield($0) }
        defer { sources.forEach { $0.cancel() } }

        say("strata cluster local: starting etcd ×\(etcdMembers) and \(nodes) nodes in \(dir)")
        do {
            try await cluster.start()
        } catch {
            cluster.stop()
            say("strata cluster local: \(error)")
            throw ExitCode(1)
        }
        say("strata cluster local: etcd \(cluster.etcd.clientURLs.joined(separator: ","))")
        for index in 0..<nodes {
            say(
                "strata cluster local: \(cluster.nodeName(index)) REST \(cluster.restURL(index)) "
                    + "gRPC 127.0.0.1:\(cluster.grpcPort(index)) p2p 127.0.0.1:\(cluster.p2pPort(index)) "
                    + "data \(cluster.dataDirectory(index))")
        }
        say("strata cluster local: ready; Ctrl-C stops the cluster")

        // Report nodes that die on their own while waiting for the stop signal.
        let watcher = Task {
            var reported = Set<Int>()
            while !Task.isCancelled {
                for (index, status) in cluster.exitedNodes() where !reported.contains(index) {
                    reported.insert(index)
                    say(
                        "strata cluster local: \(cluster.nodeName(index)) exited with status \(status) "
                            + "(log: \(dir)/node-\(index).log)")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        for await _ in stopRequests { break }
        watcher.cancel()
        say("strata cluster local: stopping")
        cluster.stop()
        say("strata cluster local: stopped")
    }

    /// One line on stdout at once (unbuffered, also into a file or pipe: scripts wait for "ready").
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
