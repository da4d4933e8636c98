import Foundation
import Strata
import StrataIO
import StrataTestSupport
import Testing

/// Expiring points (issue 20), judged by a fake clock: hidden from every read
/// from the moment they expire, deleted through the WAL, the default expiry
/// written into the logged payload.
@Suite struct ExpiryTests {
    /// A clock the test moves.
    final class FakeClock: Sendable {
        let seconds = Locked(1_800_000_000.0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var wallClock: WallClock { WallClock { [seconds] in Date(timeIntervalSince1970: seconds.withLock { $0 }) } }
    }

    static func options(_ clock: FakeClock) -> DatabaseOptions {
        var options = DatabaseOptions()
        options.clock = clock.wallClock
        options.expirySweepInterval = nil  // the tests delete expired points themselves
        return options
    }

    static func config(defaultSeconds: Int? = nil, flushEarly: Bool = false) -> CollectionConfig {
        var config = CollectionConfig(
            size: 2, distance: .dot,
            optimizers: OptimizersConfig(indexingThresholdKB: flushEarly ? 1 : 1024, flushIntervalSec: 3600))
        config.ttl = TTLConfig(key: "expires_at", defaultSeconds: defaultSeconds)
        return config
    }

    static func ids(_ records: [Record]) -> [UInt64] {
        records.compactMap { if case .number(let n) = $0.id { n } else { nil } }.sorted()
    }

    @Test func expiredPointsAreHiddenFromEveryReadThenDeletedThroughTheWAL() async throws {
        let dir = TemporaryDirectory()
        let clock = FakeClock()
        let now = clock.seconds.withLock { $0 }
        do {
            let db = try Database.open(at: dir.path, options: Self.options(clock))
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config())
            try await c.upsert([
                PointStruct(id: 1, vector: [1, 0], payload: ["expires_at": .double(now + 10)]),  // Unix seconds
                PointStruct(id: 2, vector: [0.9, 0], payload: ["expires_at": .string("2027-01-15T08:00:10Z")]),  // RFC 3339: now + 10 s
                PointStruct(id: 3, vector: [0.8, 0], payload: ["other": 1]),  // no key: never expires
                PointStruct(id: 4, vector: [0.7, 0], payload: ["expires_at": .int(Int64(now) + 100)]),
            ])
            try c.flush()
            try await c.upsert([PointStruct(id: 5, vector: [0.6, 0], payload: ["expires_at": .double(now + 10)])])
            #expect(c.count() == 5)
            clock.advance(10)  // 1, 2, 5 expire exactly now
            #expect(c.count() == 2)
            #expect(try c.count(filter: nil) == 2)
            #expect(Self.ids(try c.scroll(limit: 10).points) == [3, 4])
            #expect(Self.ids(try c.retrieve([1, 2, 3, 4, 5])) == [3, 4])
            #expect(try c.search([1, 0], limit: 10).map(\.id) == [3, 4])
            #expect(try c.ids(matching: Filter()) == [3, 4])
            // Writes by filter see what reads see: the expired points are not selected.
            try await c.setPayload(["seen": true], filter: Filter())
            #expect(try c.retrieve([3, 4]).allSatisfy { $0.payload?["seen"] == true })
            // Still stored until deleted through the WAL.
            let lastOp = c.storageInfo.lastOperation
            #expect(try await c.deleteExpiredPoints().points == 3)
            #expect(c.storageInfo.lastOperation == lastOp + 1)
            #expect(try await c.deleteExpiredPoints().points == 0)  // nothing left: nothing logged
            #expect(c.storageInfo.lastOperation == lastOp + 1)
            clock.advance(90)  // 4 expires
            #expect(Self.ids(try c.scroll(limit: 10).points) == [3])
        }
        // Reopen (the delete replays from the WAL): 1, 2, 5 are gone for good, even with the clock set back.
        clock.advance(-100)
        let db = try Database.open(at: dir.path, options: Self.options(clock))
        defer { db.close() }
        let c = try db.collection("c")
        #expect(Self.ids(try c.scroll(limit: 10).points) == [3, 4])
    }

    @Test func theDefaultExpiryIsWrittenIntoThePayloadOfEveryWriteThatLeavesNone() async throws {
        let dir = TemporaryDirectory()
        let clock = FakeClock()
        let db = try Database.open(at: dir.path, options: Self.options(clock))
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config(defaultSeconds: 60))
        let expected = JSONValue.string("2027-01-15T08:01:00Z")  // 1_800_000_000 + 60 s
        try await c.upsert([
            PointStruct(id: 1, vector: [1, 0]),
            PointStruct(id: 2, vector: [1, 0], payload: ["expires_at": "2030-01-01T00:00:00Z"]),  // the key wins
        ])
        #expect(try c.retrieve([1]).first?.payload == ["expires_at": expected])
        #expect(try c.retrieve([2]).first?.payload?["expires_at"] == "2030-01-01T00:00:00Z")
        clock.advance(30)
        let later = JSONValue.string("2027-01-15T08:01:30Z")
        try await c.overwritePayload(["a": 1], for: [1])
        #expect(try c.retrieve([1]).first?.payload == ["a": 1, "expires_at": later])
        try await c.clearPayload(for: [2])
        #expect(try c.retrieve([2]).first?.payload == ["expires_at": later])
        try await c.deletePayloadKeys(["expires_at"], for: [2])
        #expect(try c.retrieve([2]).first?.payload == ["expires_at": later])
        try await c.setPayload(["expires_at": nil, "b": 2], for: [2])
        #expect(try c.retrieve([2]).first?.payload == ["expires_at": later, "b": 2])
        try await c.setPayload(["c": 3], for: [1])  // a merge keeps the expiry it had
        #expect(try c.retrieve([1]).first?.payload == ["a": 1, "c": 3, "expires_at": later])
        // An atomic batch gets it too, each operation in it.
        try await c.batch([.upsert([PointStruct(id: 3, vector: [1, 0])]), .clearPayload(.ids([1]))], atomic: true)
        #expect(try c.retrieve([1, 3]).map(\.payload) == [["expires_at": later], ["expires_at": later]])
        clock.advance(60)  // now 08:01:30: expired at that second
        #expect(c.count() == 0)
        #expect(try await c.deleteExpiredPoints().points == 3)
    }

    @Test func theTTLConfigIsKeptInConfigJsonVersion5AndCanBeChanged() throws {
        let dir = TemporaryDirectory()
        let clock = FakeClock()
        do {
            let db = try Database.open(at: dir.path, options: Self.options(clock))
            defer { db.close() }
            _ = try db.createCollection("c", config: Self.config(defaultSeconds: 5))
            let text = try String(contentsOfFile: dir.path + "/collections/c/config.json", encoding: .utf8)
            #expect(text.contains("\"formatVersion\" : 5") && text.contains("\"defaultSeconds\" : 5"), "\(text)")
            try db.updateCollectionConfig("c") { $0.ttl = TTLConfig(key: "until") }
            #expect(throws: StrataError.self) {
                try db.updateCollectionConfig("c") { $0.ttl = TTLConfig(key: "a.b") }
            }
            #expect(throws: StrataError.self) {
                try db.updateCollectionConfig("c") { $0.ttl = TTLConfig(defaultSeconds: 0) }
            }
        }
        let db = try Database.open(at: dir.path, options: Self.options(clock))
        defer { db.close() }
        #expect(try db.collection("c").config.ttl == TTLConfig(key: "until"))
    }

    /// Between expiring and being deleted a point is absent for writes too:
    /// insert_only inserts over it, update_only and updates by id or filter
    /// pass it by; replay (the writes are logged with their time) decides the same.
    @Test func anExpiredPointIsAbsentForWritesBeforeItIsDeleted() async throws {
        let dir = TemporaryDirectory()
        let clock = FakeClock()
        let now = clock.seconds.withLock { $0 }
        var expected: [UInt64: Payload?] = [:]
        do {
            let db = try Database.open(at: dir.path, options: Self.options(clock))
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config(flushEarly: true))
            try await c.upsert(
                (1...4).map {
                    PointStruct(
                        id: .number($0), vector: [1, 0],
                        payload: ["expires_at": .double(now + 5), "n": .int(Int64($0))])
                })
            try c.flush()  // 3 and 4 stay in a segment, 1 and 2 are copied to the mutable one below
            try await c.setPayload(["touched": true], for: [1, 2])
            clock.advance(5)  // all four expire
            try await c.upsert([PointStruct(id: 1, vector: [0, 1], payload: ["fresh": true])], mode: .insertOnly)
            try await c.upsert([PointStruct(id: 2, vector: [0, 1], payload: ["fresh": true])], mode: .updateOnly)
            try await c.setPayload(["expires_at": .double(now + 100)], for: [3])  // no resurrection by id
            try await c.batch(
                [
                    .setPayload(["expires_at": .double(now + 100)], .filter(Filter())),  // nor by filter: only 1 matches
                    .upsert([PointStruct(id: 4, vector: [1, 1])], mode: .updateOnly),
                ], atomic: true)
            expected = [1: ["fresh": true, "expires_at": .double(now + 100)]]
            #expect(try c.scroll(limit: 10).points.map { [$0.id.description: $0.payload] } == [["1": expected[1]!]])
        }
        let db = try Database.open(at: dir.path, options: Self.options(clock))
        defer { db.close() }
        let c = try db.collection("c")
        #expect(try c.scroll(limit: 10).points.map { [$0.id.description: $0.payload] } == [["1": expected[1]!]])
        #expect(try await c.deleteExpiredPoints().points == 3)
    }

    /// The background task deletes expired points by itself.
    @Test func theSweeperDeletesExpiredPointsInTheBackground() async throws {
        let dir = TemporaryDirectory()
        let clock = FakeClock()
        var options = Self.options(clock)
        options.expirySweepInterval = .milliseconds(20)
        let db = try Database.open(at: dir.path, options: options)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config(defaultSeconds: 1))
        try await c.upsert([PointStruct(id: 1, vector: [1, 0]), PointStruct(id: 2, vector: [1, 0])])
        let lastOp = c.storageInfo.lastOperation
        clock.advance(2)
        for _ in 0..<500 where c.storageInfo.lastOperation == lastOp { try await Task.sleep(for: .milliseconds(10)) }
        #expect(c.storageInfo.lastOperation == lastOp + 1)
        #expect(try c.retrieve([1, 2]).isEmpty)
    }
}
