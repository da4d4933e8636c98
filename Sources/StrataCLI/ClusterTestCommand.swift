import ArgumentParser
import Foundation
import StrataCluster

/// `strata clustertest`: the cluster's fault harness (docs/cluster.md, "Testing").
struct ClusterTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustertest",
        abstract: "Run a cluster on loopback under seeded faults and check that no acknowledged write is lost.",
        discussion: """
            Starts etcd ×3 and --nodes Strata nodes on free loopback ports, creates a collection of --shards \
            shards, each with replication_factor min(3, nodes) and write_consistency_factor 2, runs writers \
            that log every acknowledged upsert and delete, and in seeded random order: kill -9 a shard's \
            primary or a replica and restart it, SIGSTOP a shard's primary past its lease then SIGCONT it, kill the etcd leader, kill 2 of 3 \
            etcd members (writes must be refused, not diverge) and bring them back, restart a node gracefully. \
            After each fault it waits until every replica is Active again and checks every replica of every \
            shard, where it is stored, against the log and against the shard's other replicas. Ends with one line, \
            `clustertest: cycles=N acked=A lost=L diverged=D stale_acks=S phantom=P unhealed=U`, and exits 0 \
            only when L, D, S, P and U are 0. Node logs stay in --dir.
            """)

    @Option(name: .long, help: "Directory for the cluster's data and logs (created; must be empty or missing).")
    var dir: String

    @Option(name: .long, help: "Strata nodes (2…9).")
    var nodes = 3

    @Option(name: .long, help: "Shards of the collection under test (1…8).")
    var shards = 2

    @Option(name: .long, help: "Fault cycles.")
    var cycles = 20

    @Option(name: .long, help: "Seed of the fault and write choices.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Stop after this many seconds even if fewer cycles ran (e.g. 600).")
    var duration: Int?

    @Option(name: .long, help: "Concurrent writers.")
    var writers = 4

    @Option(name: .long, help: "The nodes' lease TTL in seconds.")
    var leaseTtl = 3

    func validate() throws {
        guard (2...9).contains(nodes) else { throw ValidationError("--nodes must be 2…9") }
        guard (1...8).contains(shards) else { throw ValidationError("--shards must be 1…8") }
        guard cycles >= 1 else { throw ValidationError("--cycles must be at least 1") }
        guard (1...64).contains(writers) else { throw ValidationError("--writers must be 1…64") }
        guard (1...30).contains(leaseTtl) else { throw ValidationError("--lease-ttl must be 1…30") }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: dir), !names.isEmpty {
            throw ValidationError("--dir \(dir) is not empty; give a new directory")
        }
    }

    func run() async throws {
        var settings = ClusterTestSettings(directory: dir, executable: try currentExecutablePath())
        settings.nodes = nodes
        settings.shards = shards
        settings.cycles = cycles
        settings.seed = seed
        settings.duration = duration.map { .seconds($0) }
        settings.writers = writers
        settings.leaseTTL = leaseTtl
        let driver = ClusterTestDriver(settings)
        // Ctrl-C or SIGTERM stop the cluster's processes too, never leave them behind.
        let sources = handleStopSignals { _ in
            FileHandle.standardError.write(Data("clustertest: interrupted; stopping the cluster\n".utf8))
            driver.abort()
            Foundation.exit(130)
        }
        defer { sources.forEach { $0.cancel() } }
        let summary = try await driver.run { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        FileHandle.standardOutput.write(
            Data(
                ("faults: "
                    + summary.faults.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
                    + "\n").utf8))
        if let failover = summary.failoverLine { FileHandle.standardOutput.write(Data((failover + "\n").utf8)) }
        FileHandle.standardOutput.write(Data((summary.description + "\n").utf8))
        if !summary.isClean { throw ExitCode(1) }
    }
}
