import Foundation
import Logging
import StrataEtcd
import StrataTestSupport
import Testing

@testable import StrataCluster

/// One real etcd member for a test, and nodes joining it from their own data directories.
final class ClusterFixture: Sendable {
    let directory = TemporaryDirectory("cluster")
    let etcd: LocalEtcdCluster

    init() {
        etcd = LocalEtcdCluster(
            directory: directory.path + "/etcd", members: 1, clientBasePort: LocalEtcdCluster.freePortRange(count: 2))
    }

    func start() async throws { try await etcd.start() }
    func stop() { etcd.stop() }

    func dataDirectory(_ name: String) throws -> String {
        let path = directory.path + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func configuration(
        _ name: String, directory: String? = nil, secret: String = "s3cret", leaseTTL: Int64 = 5
    ) throws -> ClusterNode.Configuration {
        var configuration = ClusterNode.Configuration(
            etcdEndpoints: etcd.clientURLs, nodeName: name, secret: secret, restURL: "http://127.0.0.1:1/\(name)",
            grpcURL: nil, dataDirectory: try directory ?? dataDirectory(name))
        configuration.leaseTTL = leaseTTL
        return configuration
    }

    func join(_ name: String, directory: String? = nil, secret: String = "s3cret") async throws -> ClusterNode {
        try await ClusterNode.join(
            try configuration(name, directory: directory, secret: secret), logger: Logger(label: "test"))
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

@Suite("cluster membership on a real etcd", .serialized)
struct ClusterNodeTests {
    @Test func nodesJoinSeeEachOtherAndOneBecomesController() async throws {
        let fixture = ClusterFixture()
        try await fixture.start()
        defer { fixture.stop() }
        let a = try await fixture.join("a")
        let b = try await fixture.join("b")
        #expect(a.identity.peerID != b.identity.peerID)
        // 45 s: a CI machine busy with a parallel build once took more than 20.
        #expect(
            try await eventually(.seconds(45)) {
                Set(a.status().peers.filter(\.isAlive).map(\.record.node_name)) == ["a", "b"]
            })
        // Usually the first to join; under load its campaign can time out and the
        // other's win: either way exactly one is the controller.
        #expect(try await eventually(.seconds(20)) { a.isController != b.isController })
        let (controller, other) = a.isController ? (a, b) : (b, a)
        // The other learns it through its watch of etcd.
        #expect(
            try await eventually(.seconds(20)) { other.status().controllerPeerID == controller.identity.peerID })
        // Both hold a lease (a node stalled past its TTL on a loaded machine registers again).
        #expect(try await eventually(.seconds(20)) { a.holdsLease && b.holdsLease })

        // The identity is stored on first join, and a restart keeps the peer id.
        let stored = try #require(try NodeIdentity.load(from: try fixture.dataDirectory("b")))
        #expect(stored == b.identity)
        await b.leave()
        let again = try await fixture.join("b")
        #expect(again.identity == b.identity)
        await again.leave()
        await a.leave()
    }

    @Test func aNameHeldByARunningNodeIsRefusedAndNothingIsWritten() async throws {
        let fixture = ClusterFixture()
        try await fixture.start()
        defer { fixture.stop() }
        let a = try await fixture.join("a")
        let other = try fixture.dataDirectory("other")
        await #expect {
            _ = try await fixture.join("a", directory: other)
        } throws: { error in
            guard case .nodeNameTaken(let name, let peerID, _) = error as? ClusterError else { return false }
            return name == "a" && peerID == a.identity.peerID
        }
        #expect(try NodeIdentity.load(from: other) == nil)
        #expect(a.status().peers.count == 1)
        await a.leave()
        // Once it left, the name is free for a new node.
        let b = try await fixture.join("a", directory: other)
        #expect(b.identity.peerID != a.identity.peerID)
        await b.leave()
    }

    @Test func aWrongSecretABadNameAndAnotherNodesDirectoryAreRefused() async throws {
        let fixture = ClusterFixture()
        try await fixture.start()
        defer { fixture.stop() }
        let a = try await fixture.join("a")
        let directory = try fixture.dataDirectory("b")
        await #expect {
            _ = try await fixture.join("b", directory: directory, secret: "wrong")
        } throws: { error in
            guard case .wrongSecret = error as? ClusterError else { return false }
            return true
        }
        #expect(try NodeIdentity.load(from: directory) == nil)
        await #expect(throws: ClusterError.self) { _ = try await fixture.join("no spaces") }
        await #expect(throws: ClusterError.self) { _ = try await fixture.join("b", secret: "") }
        await #expect {
            _ = try await fixture.join("c", directory: try fixture.dataDirectory("a"))
        } throws: { error in
            guard case .identityMismatch(let name, let requested, _, _) = error as? ClusterError else { return false }
            return name == "a" && requested == "c"
        }
        #expect(a.status().peers.map(\.record.node_name) == ["a"])
        await a.leave()
    }

    @Test func anUnreachableEtcdIsAClearErrorAndChangesNothing() async throws {
        let fixture = ClusterFixture()  // never started
        let directory = try fixture.dataDirectory("a")
        await #expect {
            _ = try await fixture.join("a", directory: directory)
        } throws: { error in
            guard case .etcd(.unreachable) = error as? ClusterError else { return false }
            return "\(error)".contains(fixture.etcd.clientURL(0))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func aCrashedNodesLeaseExpiresItsControllerRoleMovesAndItCanBeRemoved() async throws {
        let fixture = ClusterFixture()
        try await fixture.start()
        defer { fixture.stop() }
        let a = try await fixture.join("a")
        let b = try await fixture.join("b")
        #expect(try await eventually(.seconds(20)) { a.isController })
        await #expect(throws: ClusterError.self) { try await b.removePeer(a.identity.peerID) }  // running

        await a.abandonWithoutLeaving()
        // TTL 5 s, renewal every 1.7 s: b takes over within TTL + one renewal (+ slack for a
        // machine busy with other tests).
        #expect(try await eventually(.seconds(30)) { b.isController })
        #expect(
            try await eventually(.seconds(10)) {
                b.status().peers.first { $0.record.node_name == "a" }?.isAlive == false
            })

        await #expect(throws: ClusterError.self) { try await b.removePeer(12345) }  // unknown
        try await b.removePeer(a.identity.peerID)
        #expect(try await eventually(.seconds(10)) { b.status().peers.map(\.record.node_name) == ["b"] })
        await b.leave()
    }

    @Test func aRestartWithinTheLeaseTakesBackItsOwnName() async throws {
        let fixture = ClusterFixture()
        try await fixture.start()
        defer { fixture.stop() }
        let a = try await fixture.join("a")
        await a.abandonWithoutLeaving()  // its live key stays until the lease expires
        let restarted = try await fixture.join("a")
        #expect(restarted.identity == a.identity)
        #expect(restarted.holdsLease)
        await restarted.leave()
    }

    @Test func metadataKeysRoundTrip() async throws {
        let fixture = ClusterFixture()
        try await fixture.start()
        defer { fixture.stop() }
        let a = try await fixture.join("a")
        try await a.setMetadata("region", json: Data(#"{"name":"eu"}"#.utf8))
        try await a.setMetadata("owner", json: Data(#""ops""#.utf8))
        #expect(try await a.metadataKeys() == ["owner", "region"])
        #expect(try await a.metadata("region") == Data(#"{"name":"eu"}"#.utf8))
        try await a.deleteMetadata("owner")
        #expect(try await a.metadata("owner") == nil)
        await a.leave()
    }

    @Test func theIdentityFileIsTheSpecsExample() throws {
        let identity = NodeIdentity(peerID: 5_129_740_214_377_001, nodeName: "node-1")
        #expect(
            String(decoding: try identity.encoded(), as: UTF8.self)
                == #"{"format":"strata-cluster-node","node_name":"node-1","peer_id":5129740214377001,"version":1}"#
                + "\n")
        try withTemporaryDirectory { directory in
            try identity.store(in: directory)
            #expect(try NodeIdentity.load(from: directory) == identity)
            try Data(#"{"format":"strata-cluster-node","node_name":"x","peer_id":1,"version":2}"#.utf8)
                .write(to: URL(fileURLWithPath: directory + "/" + NodeIdentity.fileName))
            #expect(throws: ClusterError.self) { try NodeIdentity.load(from: directory) }
        }
    }

    /// The examples of docs/format/etcd-keyspace.md decode into what they say.
    @Test func theKeyspaceSpecsExamplesDecode() throws {
        let member = try JSONDecoder().decode(
            MemberRecord.self,
            from: Data(
                #"{"peer_id":5129740214377001,"node_name":"node-1","rest_url":"http://127.0.0.1:6343","grpc_url":"http://127.0.0.1:6344","p2p_url":"http://127.0.0.1:6345","version":"0.1.0"}"#
                    .utf8))
        #expect(member.peer_id == 5_129_740_214_377_001 && member.p2p_url == "http://127.0.0.1:6345")
        let placement = try JSONDecoder().decode(
            CollectionPlacement.self,
            from: Data(
                #"{"name":"docs","incarnation":"5F0C","create_body":"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"replication_factor\":3}","replication_factor":3,"write_consistency_factor":2,"epoch":2,"primary":733,"epoch_starts":{"2":1841},"replicas":[{"peer_id":5129740214377001,"state":"Partial","epoch":1},{"peer_id":733,"state":"Active","epoch":2},{"peer_id":81,"state":"Active","epoch":2}]}"#
                    .utf8))
        #expect(placement.primary == 733 && placement.activeCount == 2 && placement.state(of: 81) == .active)
        // The Partial replica of epoch 1 agrees with the primary up to the epoch-2 start only.
        #expect(placement.agreedPrefix(since: 1) == 1841 && placement.agreedPrefix(since: 2) == .max)
        // Written before `incarnation`, `epoch_starts` and replica epochs existed: still read.
        let older = try JSONDecoder().decode(
            CollectionPlacement.self,
            from: Data(
                #"{"name":"a","create_body":"{}","replication_factor":1,"write_consistency_factor":1,"epoch":1,"primary":9,"replicas":[{"peer_id":9,"state":"Active"}]}"#
                    .utf8))
        #expect(older.incarnation == nil && older.replicas[0].epoch == nil && older.transfers == nil)
        // Version 2: a transfer in progress.
        let moving = try JSONDecoder().decode(
            CollectionPlacement.self,
            from: Data(
                #"{"name":"a","create_body":"{}","replication_factor":1,"write_consistency_factor":1,"epoch":3,"primary":9,"replicas":[{"peer_id":9,"state":"Active","epoch":3},{"peer_id":12,"state":"Partial","epoch":3}],"transfers":[{"from":9,"to":12,"kind":"move","method":"snapshot","snapshot_done":true}]}"#
                    .utf8))
        #expect(
            moving.transfer(to: 12)
                == {
                    var transfer = CollectionPlacement.Transfer(from: 9, to: 12, kind: .move, method: .snapshot)
                    transfer.snapshot_done = true
                    return transfer
                }())
        #expect(moving.transfer(to: 9) == nil)
    }
}
