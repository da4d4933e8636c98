import Foundation
import StrataEtcd
import StrataTestSupport
import Testing

/// A real etcd (Debian's `etcd`, scripts/bootstrap.sh installs it) in a
/// temporary directory on free loopback ports, stopped when the test ends.
struct RunningEtcd {
    let directory: TemporaryDirectory
    let cluster: LocalEtcdCluster

    static func start(members: Int = 1, _ label: String = #function) async throws -> RunningEtcd {
        let directory = TemporaryDirectory(label)
        let cluster = LocalEtcdCluster(
            directory: directory.path, members: members,
            clientBasePort: LocalEtcdCluster.freePortRange(count: 2 * members))
        do {
            try await cluster.start()
        } catch {
            cluster.stop()
            throw error
        }
        return RunningEtcd(directory: directory, cluster: cluster)
    }

    func client(timeout: Duration = .seconds(3)) throws -> EtcdClient {
        var configuration = EtcdClient.Configuration(endpoints: cluster.clientURLs)
        configuration.requestTimeout = timeout
        return try EtcdClient(configuration)
    }

    /// Runs `body` with a client; stops etcd afterwards.
    func use<T: Sendable>(timeout: Duration = .seconds(3), _ body: (EtcdClient) async throws -> T) async throws -> T {
        defer { cluster.stop() }
        var configuration = EtcdClient.Configuration(endpoints: cluster.clientURLs)
        configuration.requestTimeout = timeout
        return try await EtcdClient.with(configuration, body)
    }
}

@Suite("etcd client against a real etcd", .serialized)
struct EtcdClientTests {
    @Test func keysRoundTripBinaryValuesAndNonASCIIKeysByPrefix() async throws {
        let etcd = try await RunningEtcd.start()
        try await etcd.use { client in
            let value = Data([0, 1, 0xff, 0x80, 10])
            try await client.put("/t/ä/1", value)
            try await client.put("/t/ä/2", Data("two".utf8))
            try await client.put("/t/b", Data("other".utf8))
            let one = try #require(try await client.get("/t/ä/1"))
            #expect(one.value == value)
            #expect(one.version == 1 && one.createRevision > 0 && one.createRevision == one.modRevision)
            #expect(try await client.get("/t/missing") == nil)

            let range = try await client.range(.prefix("/t/ä/"))
            #expect(range.keyValues.map(\.key) == ["/t/ä/1", "/t/ä/2"])
            #expect(range.revision >= one.modRevision)

            #expect(try await client.delete(.prefix("/t/ä/")) == 2)
            #expect(try await client.range(.prefix("/t/")).keyValues.map(\.key) == ["/t/b"])
        }
    }

    @Test func compareAndSwapRunsOneBranchAtomically() async throws {
        let etcd = try await RunningEtcd.start()
        try await etcd.use { client in
            let created = try await client.transaction(
                if: [.absent("/cas")], then: [.put(key: "/cas", value: Data("a".utf8))], else: [.range(.key("/cas"))])
            #expect(created.succeeded && created.results == [.put])

            let again = try await client.transaction(
                if: [.absent("/cas")], then: [.put(key: "/cas", value: Data("b".utf8))], else: [.range(.key("/cas"))])
            #expect(!again.succeeded)
            guard case .range(let seen) = try #require(again.results.first) else {
                Issue.record("the failure branch's range did not answer")
                return
            }
            #expect(seen.first?.value == Data("a".utf8))
            let revision = try #require(seen.first).modRevision

            let swapped = try await client.transaction(
                if: [.unchanged("/cas", since: revision)], then: [.put(key: "/cas", value: Data("c".utf8))])
            #expect(swapped.succeeded)
            // The same compare now holds an old revision: it must fail and change nothing.
            let stale = try await client.transaction(
                if: [.unchanged("/cas", since: revision)], then: [.put(key: "/cas", value: Data("d".utf8))])
            #expect(!stale.succeeded && stale.results.isEmpty)
            #expect(try await client.get("/cas")?.value == Data("c".utf8))

            let deleted = try await client.transaction(
                if: [EtcdCompare(key: "/cas", .value(Data("c".utf8)))], then: [.delete(.key("/cas"))])
            #expect(deleted.results == [.delete(deleted: 1)])
        }
    }

    @Test func leaseKeysLiveWhileRenewedAndGoWithTheLease() async throws {
        let etcd = try await RunningEtcd.start()
        try await etcd.use { client in
            let lease = try await client.grantLease(ttl: 5)
            #expect(lease.ttl == 5)
            try await client.put("/leased", Data("x".utf8), lease: lease.id)
            #expect(try await client.get("/leased")?.lease == lease.id)
            #expect(try await client.keepAlive(lease.id) == 5)
            try await client.revoke(lease.id)
            #expect(try await client.get("/leased") == nil)
            #expect(try await client.keepAlive(lease.id) == nil)
            try await client.revoke(lease.id)  // already gone: not an error

            // Expiry: a 1-second lease that is not renewed takes its key with it.
            let short = try await client.grantLease(ttl: 1)
            try await client.put("/expiring", Data("y".utf8), lease: short.id)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while try await client.get("/expiring") != nil {
                #expect(clock.now < deadline, "a 1 s lease's key outlived 10 s")
                if clock.now >= deadline { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await client.keepAlive(short.id) == nil)
        }
    }

    @Test func watchReportsPutsAndDeletesInOrderFromARevision() async throws {
        let etcd = try await RunningEtcd.start()
        try await etcd.use { client in
            let before = try await client.put("/w/0", Data("zero".utf8))
            try await client.put("/w/1", Data("one".utf8))
            try await client.put("/elsewhere", Data("not watched".utf8))
            try await client.delete(.key("/w/0"))

            var seen: [String] = []
            for try await batch in client.watch(.prefix("/w/"), fromRevision: before + 1) {
                for event in batch {
                    seen.append("\(event.kind == .put ? "put" : "delete") \(event.keyValue.key)")
                }
                if seen.count >= 2 { break }
            }
            #expect(seen == ["put /w/1", "delete /w/0"])

            // A watch from the current revision sees a change made after it, however late it connects.
            let now = try await client.put("/marker", Data())
            let stream = client.watch(.key("/live"), fromRevision: now + 1)
            try await client.put("/live", Data("now".utf8))
            var iterator = stream.makeAsyncIterator()
            let batch = try #require(try await iterator.next())
            #expect(batch.first?.keyValue.value == Data("now".utf8))
        }
    }

    @Test func anEndpointThatIsDownIsSkippedAndNoneUpIsAClearError() async throws {
        let etcd = try await RunningEtcd.start()
        defer { etcd.cluster.stop() }
        let dead = "http://127.0.0.1:\(LocalEtcdCluster.freePortRange(count: 1))"
        var configuration = EtcdClient.Configuration(endpoints: [dead] + etcd.cluster.clientURLs)
        configuration.requestTimeout = .seconds(3)
        try await EtcdClient.with(configuration) { client in
            try await client.put("/k", Data("v".utf8))
            #expect(try await client.get("/k")?.value == Data("v".utf8))
        }

        let clock = ContinuousClock()
        let started = clock.now
        await #expect {
            try await EtcdClient.with(.init(endpoints: [dead])) { try await $0.status() }
        } throws: { error in
            guard let error = error as? EtcdError, case .unreachable = error else { return false }
            return error.description.contains(dead)
        }
        #expect(clock.now - started < .seconds(5))
        #expect(throws: EtcdError.self) { try EtcdClient(.init(endpoints: ["127.0.0.1:2379"])) }
    }

    @Test func withoutQuorumAWriteTimesOutAndIsIndeterminate() async throws {
        let etcd = try await RunningEtcd.start(members: 3)
        try await etcd.use(timeout: .seconds(2)) { client in
            try await client.put("/q", Data("before".utf8))
            etcd.cluster.kill(1)
            etcd.cluster.kill(2)
            await #expect {
                try await client.put("/q", Data("after".utf8))
            } throws: { error in
                (error as? EtcdError)?.isIndeterminate == true
            }
            try etcd.cluster.startMember(1)
            try await etcd.cluster.waitUntilWritable(timeout: .seconds(30))
            let value = try await client.get("/q")?.value
            // The timed-out write may or may not have been applied; nothing else may be there.
            #expect(value == Data("before".utf8) || value == Data("after".utf8))
        }
    }
}
