import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StrataEtcd
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How `strata clustertest` runs.
public struct ClusterTestSettings: Sendable {
    public var directory: String
    /// The `strata` executable the nodes run.
    public var executable: String
    public var nodes = 3
    /// Shards of the collection under test (each replicated on min(3, nodes) nodes).
    public var shards = 2
    public var cycles = 20
    public var seed: UInt64 = 1
    /// Stop after this long even if fewer cycles ran.
    public var duration: Duration?
    public var writers = 4
    /// The nodes' lease TTL (short, so that a cycle's failover is quick).
    public var leaseTTL = 3

    public init(directory: String, executable: String) {
        self.directory = directory
        self.executable = executable
    }
}

/// The verdict of a run.
public struct ClusterTestSummary: Sendable, CustomStringConvertible {
    public var cycles = 0
    public var acked = 0
    /// Acknowledged writes whose effect a replica does not show.
    public var lost = 0
    /// Verifications where replicas of a collection differed (op number or checksum).
    public var diverged = 0
    /// Lost writes acknowledged while a paused primary was resuming (a fenced primary's ack).
    public var staleAcks = 0
    /// Values no write could have left.
    public var phantom = 0
    /// Cycles after which the cluster did not return to every replica Active in time.
    public var unhealed = 0
    public var faults: [String: Int] = [:]
    /// For each `kill -9` of a shard's primary: from the kill to the first acknowledged write to that shard.
    public var failovers: [Duration] = []

    /// `failover: n=K p50=… max=…` (seconds), or nil without a primary kill.
    public var failoverLine: String? {
        guard !failovers.isEmpty else { return nil }
        let sorted = failovers.sorted()
        func seconds(_ duration: Duration) -> String {
            String(
                format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18)
        }
        return "failover (kill -9 of a shard's primary → first acknowledged write to it): n=\(sorted.count) "
            + "p50=\(seconds(sorted[(sorted.count - 1) / 2]))s max=\(seconds(sorted.last!))s"
    }

    public var isClean: Bool { lost == 0 && diverged == 0 && staleAcks == 0 && phantom == 0 && unhealed == 0 }

    public var description: String {
        "clustertest: cycles=\(cycles) acked=\(acked) lost=\(lost) diverged=\(diverged) stale_acks=\(staleAcks)"
            + " phantom=\(phantom) unhealed=\(unhealed)"
    }
}

/// `strata clustertest`: a real cluster on loopback (etcd ×3, Strata ×N),
/// writers that log every acknowledged write, and seeded faults — `kill -9`
/// of a primary or a replica, SIGSTOP of a primary past its lease, the etcd
/// leader killed, two of three etcd members killed, graceful restarts. After
/// each fault it waits until every replica is Active again, pauses the
/// writers and checks every replica against the log (`ClusterTestOracle`) and
/// against each other (op number and checksum).
public final class ClusterTestDriver: Sendable {
    static let collection = "clustertest"
    let settings: ClusterTestSettings
    let cluster: LocalCluster
    let oracle = ClusterTestOracle()
    let secret: String
    private let control = Mutex(Control())
    /// When a shard's primary was last killed, and which shard (for the failover time).
    private let primaryKilledAt = Mutex<(ContinuousClock.Instant, Int)?>(nil)
    /// Windows in which a paused primary resumed: acks in them that turn out lost are stale acks.
    private let pauseWindows = Mutex<[(ContinuousClock.Instant, ContinuousClock.Instant)]>([])

    struct Control {
        var paused = false
        var stopping = false
        var inFlight = 0
    }

    public init(_ settings: ClusterTestSettings) {
        self.settings = settings
        secret = String(UInt64.random(in: 1...UInt64.max), radix: 16)
        // One free range for the nodes and the etcd members: two ranges picked apart could
        // overlap (both are free until something binds), and a node then found its port
        // taken by an etcd member ("Address already in use" while the cluster formed).
        let basePort = LocalEtcdCluster.freePortRange(count: 10 * settings.nodes + 6)
        var configuration = LocalCluster.Configuration(
            directory: settings.directory, nodes: settings.nodes, etcdMembers: 3, basePort: basePort,
            etcdBasePort: basePort + 10 * settings.nodes, executable: settings.executable, secret: secret)
        configuration.leaseTTL = settings.leaseTTL
        cluster = LocalCluster(configuration)
    }

    /// Stops every process of the cluster now (an interrupted run).
    public func abort() { cluster.stop() }

    public func run(report: @escaping @Sendable (String) -> Void) async throws -> ClusterTestSummary {
        var summary = ClusterTestSummary()
        var random = SplitMix(seed: settings.seed)
        report(
            "clustertest: starting etcd ×3 and \(settings.nodes) nodes in \(settings.directory) (seed \(settings.seed))"
        )
        try await cluster.start()
        defer { cluster.stop() }
        let factor = min(3, settings.nodes)
        let created = await rest(
            .PUT, node: 0, "/collections/\(Self.collection)",
            #"{"vectors":{"size":4,"distance":"Dot"},"shard_number":\#(settings.shards),"replication_factor":\#(factor),"write_consistency_factor":\#(min(2, factor))}"#
        )
        guard created?.status == 200 else {
            throw ClusterError.invalid("clustertest: cannot create its collection: \(String(describing: created))")
        }
        let writerSeed = random.next()
        let writers = Task { await self.runWriters(seed: writerSeed) }
        defer { writers.cancel() }
        let clock = ContinuousClock()
        let deadline = settings.duration.map { clock.now + $0 }
        for cycle in 1...settings.cycles {
            if let deadline, clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(500 + Int(random.next() % 1500)))
            let (kind, fault) = try await injectFault(&random)
            summary.faults[kind, default: 0] += 1
            let healed = await waitUntilHealed(timeout: .seconds(90))
            if let (killedAt, shard) = primaryKilledAt.withLock({ value -> (ContinuousClock.Instant, Int)? in
                defer { value = nil }
                return value
            }),
                let first = oracle.firstAcknowledgement(
                    after: killedAt, of: { ShardMap.shard(ofNumber: $0, shardNumber: self.settings.shards) == shard })
            {
                summary.failovers.append(first - killedAt)
            }
            if !healed { summary.unhealed += 1 }
            let check = await verify()
            summary.lost += check.lost
            summary.staleAcks += check.stale
            summary.phantom += check.phantom
            summary.diverged += check.diverged
            summary.cycles = cycle
            summary.acked = oracle.acknowledged
            report(
                "clustertest: cycle \(cycle): \(fault)\(healed ? "" : " (not healed in 90 s)"); acked=\(summary.acked) "
                    + "lost=\(check.lost) stale=\(check.stale) phantom=\(check.phantom) diverged=\(check.diverged)")
        }
        control.withLock { $0.stopping = true }
        await writers.value
        summary.acked = oracle.acknowledged
        return summary
    }

    // MARK: Writers

    private func runWriters(seed: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<settings.writers {
                group.addTask { await self.write(as: writer, seed: seed &+ UInt64(writer)) }
            }
        }
    }

    private func write(as writer: Int, seed: UInt64) async {
        var random = SplitMix(seed: seed)
        var sequence = Int64(writer) << 40
        while true {
            let proceed = control.withLock { control -> Bool? in
                if control.stopping { return nil }
                if control.paused { return false }
                control.inFlight += 1
                return true
            }
            guard let proceed else { return }
            guard proceed else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let id = UInt64(writer * 1000) + random.next() % 200
            let node = Int(random.next() % UInt64(settings.nodes))
            sequence += 1
            let delete = random.next() % 5 == 0
            let index = oracle.intend(id, delete ? nil : sequence)
            let reply: HTTPReply?
            if delete {
                reply = await rest(
                    .POST, node: node, "/collections/\(Self.collection)/points/delete?wait=true",
                    #"{"points":[\#(id)]}"#)
            } else {
                let vector = (0..<4).map { _ in String(Double(random.next() % 1000) / 1000) }.joined(separator: ",")
                reply = await rest(
                    .PUT, node: node, "/collections/\(Self.collection)/points?wait=true",
                    #"{"points":[{"id":\#(id),"vector":[\#(vector)],"payload":{"v":\#(sequence)}}]}"#)
            }
            if let reply, reply.status == 200,
                ((reply.json?["result"] as? [String: Any])?["status"] as? String) == "completed"
            {
                oracle.acknowledge(id, index)
            }
            control.withLock { $0.inFlight -= 1 }
        }
    }

    private func pauseWriters() async {
        control.withLock { $0.paused = true }
        while control.withLock({ $0.inFlight }) > 0 { try? await Task.sleep(for: .milliseconds(20)) }
    }

    private func resumeWriters() { control.withLock { $0.paused = false } }

    // MARK: Faults

    private func injectFault(_ random: inout SplitMix) async throws -> (kind: String, detail: String) {
        let kinds = [
            "kill-primary", "kill-replica", "pause-primary", "kill-etcd-leader", "etcd-no-quorum", "restart-node",
            "wipe-replica",
        ]
        let kind = kinds[Int(random.next() % UInt64(kinds.count))]
        return (kind, try await inject(kind, &random))
    }

    private func inject(_ kind: String, _ random: inout SplitMix) async throws -> String {
        // The faults aimed at "the primary" hit the primary of one shard, chosen at random.
        let shard = Int(random.next() % UInt64(settings.shards))
        let primary = await primaryIndex(of: shard)
        switch kind {
        case "kill-primary":
            guard let primary else { return "kill-primary (no primary known; skipped)" }
            cluster.kill(primary)
            primaryKilledAt.withLock { $0 = (.now, shard) }
            // Down for at least the lease: the failover, not the restart, brings writes back.
            try await Task.sleep(for: .seconds(settings.leaseTTL) + .milliseconds(Int(random.next() % 4000)))
            try cluster.startNode(primary)
            return "kill -9 primary of shard \(shard) node-\(primary)"
        case "kill-replica":
            let others = (0..<settings.nodes).filter { $0 != primary }
            guard !others.isEmpty else { return "kill-replica (none; skipped)" }
            let victim = others[Int(random.next() % UInt64(others.count))]
            cluster.kill(victim)
            try await Task.sleep(for: .milliseconds(Int(random.next() % 3000)))
            try cluster.startNode(victim)
            return "kill -9 replica node-\(victim)"
        case "wipe-replica":
            let others = (0..<settings.nodes).filter { $0 != primary }
            guard primary != nil, !others.isEmpty else { return "wipe-replica (no primary known; skipped)" }
            let victim = others[Int(random.next() % UInt64(others.count))]
            guard let old = await peerID(of: victim) else {
                return "wipe-replica (node-\(victim) not answering; skipped)"
            }
            cluster.kill(victim)
            try FileManager.default.removeItem(atPath: cluster.dataDirectory(victim))
            // Its old lease must run out (its `live/` key go) before the name can join again.
            await waitUntilGone(
                ClusterKeyspace().live(cluster.nodeName(victim)), within: .seconds(settings.leaseTTL + 10))
            try cluster.startNode(victim)
            let method = random.next() % 2 == 0 ? "snapshot" : "stream_records"
            var new: UInt64?
            for shard in 0..<settings.shards {
                new = await replaceReplica(old, on: victim, shard: shard, method: method)
            }
            return "kill -9 replica node-\(victim) and wipe its data directory; replaced its replicas "
                + "(peer \(old) -> \(new.map(String.init) ?? "?"), \(method))"
        case "pause-primary":
            guard let primary else { return "pause-primary (no primary known; skipped)" }
            cluster.kill(primary, signal: SIGSTOP)
            let stopped = ContinuousClock.now
            try await Task.sleep(for: .seconds(settings.leaseTTL) + .milliseconds(500 + Int(random.next() % 2000)))
            cluster.kill(primary, signal: SIGCONT)
            let resumed = ContinuousClock.now
            pauseWindows.withLock { $0.append((stopped, resumed + .seconds(settings.leaseTTL + 2))) }
            return "SIGSTOP primary of shard \(shard) node-\(primary) past its lease, then SIGCONT"
        case "kill-etcd-leader":
            guard let leader = await cluster.etcd.leaderIndex() else { return "kill-etcd-leader (no leader; skipped)" }
            cluster.etcd.kill(leader)
            try await Task.sleep(for: .milliseconds(1000 + Int(random.next() % 2000)))
            try cluster.etcd.startMember(leader)
            return "kill -9 etcd leader etcd-\(leader)"
        case "etcd-no-quorum":
            let first = Int(random.next() % 3)
            let second = (first + 1 + Int(random.next() % 2)) % 3
            cluster.etcd.kill(first)
            cluster.etcd.kill(second)
            try await Task.sleep(for: .milliseconds(2000 + Int(random.next() % 4000)))
            try cluster.etcd.startMember(first)
            try cluster.etcd.startMember(second)
            return "kill -9 etcd-\(first) and etcd-\(second) (no quorum), then restart them"
        default:
            let victim = Int(random.next() % UInt64(settings.nodes))
            cluster.kill(victim, signal: SIGTERM)
            try cluster.startNode(victim)
            return "graceful restart of node-\(victim)"
        }
    }

    /// Polls etcd until `key` no longer exists, or `timeout` passes.
    private func waitUntilGone(_ key: String, within timeout: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            do {
                let value = try await EtcdClient.with(
                    .init(endpoints: cluster.etcd.clientURLs), { try await $0.get(key) })
                if value == nil { return }
            } catch {
                // etcd busy or without quorum (another fault's aftermath): ask again.
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The peer id node `index` answers with (nil while it does not answer).
    private func peerID(of index: Int) async -> UInt64? {
        guard let reply = await rest(.GET, node: index, "/cluster", nil), reply.status == 200,
            let result = reply.json?["result"] as? [String: Any]
        else { return nil }
        return (result["peer_id"] as? NSNumber)?.uint64Value
    }

    /// What an operator does for a node that lost its data directory (it comes
    /// back as a new peer): drop the lost replica, replicate the shard to the
    /// new peer. Retries for 90 s (failovers may interleave); the new peer id.
    private func replaceReplica(_ old: UInt64, on index: Int, shard: Int, method: String) async -> UInt64? {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(90)
        var new: UInt64?
        while clock.now < deadline {
            if new == nil { new = await peerID(of: index) }
            if let new, let placement = await placement(of: shard), placement.primary != 0 {
                let path = "/collections/\(Self.collection)/cluster"
                let via = (0..<settings.nodes).first { $0 != index } ?? 0
                if placement.state(of: old) != nil {
                    _ = await rest(
                        .POST, node: via, path, #"{"drop_replica":{"shard_id":\#(shard),"peer_id":\#(old)}}"#)
                } else if placement.state(of: new) == nil {
                    _ = await rest(
                        .POST, node: via, path,
                        #"{"replicate_shard":{"shard_id":\#(shard),"from_peer_id":\#(placement.primary),"to_peer_id":\#(new),"method":"\#(method)"}}"#
                    )
                } else {
                    return new
                }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return new
    }

    /// The node index of shard `shard`'s primary, from etcd.
    private func primaryIndex(of shard: Int) async -> Int? {
        guard let placement = await placement(of: shard), placement.primary != 0 else { return nil }
        let names = await memberNames()
        guard let name = names[placement.primary], name.hasPrefix("node-") else { return nil }
        return Int(name.dropFirst(5))
    }

    private func placement(of shard: Int) async -> CollectionPlacement? {
        let key = ClusterKeyspace().collection(ShardMap.shardName(Self.collection, shard))
        guard
            let value = try? await EtcdClient.with(.init(endpoints: cluster.etcd.clientURLs), { try await $0.get(key) })
        else { return nil }
        return try? JSONDecoder().decode(CollectionPlacement.self, from: value.value)
    }

    private func memberNames() async -> [UInt64: String] {
        let prefix = ClusterKeyspace().members
        guard
            let range = try? await EtcdClient.with(
                .init(endpoints: cluster.etcd.clientURLs), { try await $0.range(.prefix(prefix)) })
        else { return [:] }
        var names: [UInt64: String] = [:]
        for value in range.keyValues {
            if let record = try? JSONDecoder().decode(MemberRecord.self, from: value.value) {
                names[record.peer_id] = record.node_name
            }
        }
        return names
    }

    /// Waits until every node runs and every replica is Active under a running primary.
    private func waitUntilHealed(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            for (index, _) in cluster.exitedNodes() { try? cluster.startNode(index) }
            var placements: [CollectionPlacement] = []
            for shard in 0..<settings.shards {
                if let placement = await placement(of: shard) { placements.append(placement) }
            }
            if placements.count == settings.shards,
                placements.allSatisfy({ $0.primary != 0 && $0.replicas.allSatisfy { $0.state == .active } }),
                await allNodesSeeEveryoneActive()
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    private func allNodesSeeEveryoneActive() async -> Bool {
        for index in 0..<settings.nodes {
            guard let reply = await rest(.GET, node: index, "/collections/\(Self.collection)/cluster", nil),
                reply.status == 200, let result = reply.json?["result"] as? [String: Any],
                let local = result["local_shards"] as? [[String: Any]],
                let remote = result["remote_shards"] as? [[String: Any]]
            else { return false }
            if (local + remote).contains(where: { $0["state"] as? String != "Active" }) { return false }
        }
        return true
    }

    // MARK: Verification

    struct Check {
        var lost = 0
        var stale = 0
        var phantom = 0
        var diverged = 0
    }

    private func verify() async -> Check {
        await pauseWriters()
        defer { resumeWriters() }
        var check = Check()
        let windows = pauseWindows.withLock { $0 }
        var placements: [Int: CollectionPlacement] = [:]
        for shard in 0..<settings.shards { placements[shard] = await placement(of: shard) }
        let peers = await memberPeers()
        for shard in 0..<settings.shards {
            // Every replica of the shard, read where it is stored, against the log of the shard's points.
            guard let placement = placements[shard] else {
                check.diverged += 1
                continue
            }
            var positions: Set<String> = []
            let ids = oracle.ids.filter { ShardMap.shard(ofNumber: $0, shardNumber: settings.shards) == shard }
            for replica in placement.replicas {
                guard let index = peers[replica.peer_id], let points = await readAll(node: index, shard: shard) else {
                    check.diverged += 1
                    continue
                }
                for id in Set(ids).union(points.keys) {
                    switch oracle.judge(id, shows: points[id] ?? nil) {
                    case .ok: break
                    case .phantom: check.phantom += 1
                    case .lost(let ackedAt):
                        if let ackedAt, windows.contains(where: { $0.0 <= ackedAt && ackedAt <= $0.1 }) {
                            check.stale += 1
                        } else {
                            check.lost += 1
                        }
                    }
                }
                if points.keys.contains(where: { ShardMap.shard(ofNumber: $0, shardNumber: settings.shards) != shard })
                {
                    check.phantom += 1  // a point stored in a shard it does not belong to
                }
                if let state = await p2pState(node: index, shard: shard) { positions.insert(state) }
            }
            if positions.count != 1 { check.diverged += 1 }
        }
        return check
    }

    /// Node index by peer id (node names are `node-<index>`).
    private func memberPeers() async -> [UInt64: Int] {
        var result: [UInt64: Int] = [:]
        for (peer, name) in await memberNames() where name.hasPrefix("node-") {
            if let index = Int(name.dropFirst(5)) { result[peer] = index }
        }
        return result
    }

    /// Every point of shard `shard` as node `index`'s replica holds it (`v`, or nil when it
    /// has no `v`): read from that replica itself (`x-strata-forwarded-by`: served, not routed).
    private func readAll(node index: Int, shard: Int) async -> [UInt64: Int64?]? {
        guard
            let reply = await rest(
                .POST, node: index, "/collections/\(ShardMap.shardName(Self.collection, shard))/points/scroll",
                #"{"limit":100000,"with_payload":true,"with_vector":false}"#, served: true),
            reply.status == 200, let result = reply.json?["result"] as? [String: Any],
            let points = result["points"] as? [[String: Any]]
        else { return nil }
        var values: [UInt64: Int64?] = [:]
        for point in points {
            guard let id = (point["id"] as? NSNumber)?.uint64Value else { continue }
            values[id] = ((point["payload"] as? [String: Any])?["v"] as? NSNumber)?.int64Value
        }
        return values
    }

    private func p2pState(node index: Int, shard: Int) async -> String? {
        let name = ShardMap.shardName(Self.collection, shard)
        var request = HTTPClientRequest(
            url: "http://127.0.0.1:\(cluster.p2pPort(index))/p2p/v1/collections/\(name)/state?checksum=true")
        request.headers.add(name: "x-strata-cluster-secret", value: secret)
        guard let response = try? await cluster.http.execute(request, timeout: .seconds(30)),
            let body = try? await response.body.collect(upTo: 1 << 20),
            let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { return nil }
        return "\(json["last_operation"] ?? "?")/\(json["checksum"] ?? "?")"
    }

    // MARK: HTTP

    struct HTTPReply {
        var status: Int
        var json: [String: Any]?
    }

    /// `served`: the node serves the request itself, as a node forwarding it would ask.
    private func rest(
        _ method: HTTPMethod, node: Int, _ path: String, _ body: String?, served: Bool = false
    ) async -> HTTPReply? {
        var request = HTTPClientRequest(url: cluster.restURL(node) + path)
        request.method = method
        if served {
            // A node's forwarding headers: the node checks the secret before it serves the replica itself.
            request.headers.add(name: "x-strata-forwarded-by", value: "0")
            request.headers.add(name: "x-strata-cluster-secret", value: secret)
        }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        guard let response = try? await cluster.http.execute(request, timeout: .seconds(10)),
            let bytes = try? await response.body.collect(upTo: 64 << 20)
        else { return nil }
        return HTTPReply(
            status: Int(response.status.code),
            json: try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any])
    }
}

/// A seeded generator (SplitMix64), so a run repeats its choices.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
