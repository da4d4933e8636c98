import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// Versions and time travel (issue 20): tags and retained versions read
/// through `at(_:)` while writes go on, kept across reopen, merges and
/// expiry of other versions; rollback by `restore(_:)`.
@Suite struct VersionTests {
    static func config(retainCount: Int? = nil) -> CollectionConfig {
        var config = CollectionConfig(
            size: 2, distance: .dot,
            optimizers: OptimizersConfig(
                deletedThreshold: 0.1, vacuumMinVectorNumber: 1, defaultSegmentNumber: 1, indexingThresholdKB: 1,
                flushIntervalSec: 3600))
        config.versions = retainCount.map { VersionsConfig(retainCount: $0) }
        return config
    }

    static func state(_ c: Collection) throws -> [String: JSONValue] {
        var state: [String: JSONValue] = [:]
        for record in try c.scroll(limit: 1000).points { state[record.id.description] = record.payload?["v"] ?? .null }
        return state
    }

    static func write(_ c: Collection, _ ids: ClosedRange<UInt64>, _ value: Int) async throws {
        try await c.upsert(
            ids.map { PointStruct(id: .number($0), vector: [Float($0), 1], payload: ["v": .int(Int64(value))]) })
    }

    @Test func aTagKeepsItsStateThroughWritesMergesAndReopen() async throws {
        let dir = TemporaryDirectory()
        let expected: [String: JSONValue] = ["1": 1, "2": 1, "3": 1]
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config())
            try await Self.write(c, 1...3, 1)
            let tag = try c.tagVersion("v1")
            #expect(tag.tag == "v1" && tag.operation == 1)
            // Writes after the tag: changes, deletes, merges and vacuums that rewrite the segments.
            try await Self.write(c, 2...5, 2)
            try await c.delete([1])
            try c.optimize()
            try await Self.write(c, 3...3, 3)
            try c.optimize()
            #expect(try Self.state(c) == ["2": 2, "3": 3, "4": 2, "5": 2])
            let old = try c.at(.tag("v1"))
            #expect(try Self.state(old) == expected)
            #expect(old.count() == 3)
            #expect(try old.search([1, 0], limit: 10).map(\.id) == [3, 2, 1])
            #expect(try old.retrieve([1]).first?.payload == ["v": 1])
            await #expect(throws: StrataError.self) { try await old.upsert([PointStruct(id: 9, vector: [1, 1])]) }
            #expect(try c.at(.number(tag.number)) === old)
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.versions.map(\.tag) == ["v1"])
        #expect(try Self.state(try c.at(.tag("v1"))) == expected)
        // Dropping the tag releases its files: only the current manifest's remain.
        try c.deleteTag("v1")
        #expect(throws: StrataError.self) { try c.at(.tag("v1")) }
        let manifest = try Manifest.decode(
            try POSIXFileSystem().open(dir.path + "/collections/c/MANIFEST", mode: .readOnly).readAll(), path: "m")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/collections/c/segments"))
        #expect(files == manifest.files)
    }

    @Test func retainedVersionsFollowTheConfigAndNameTheirRangeWhenMissed() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config(retainCount: 2))
        for round in 1...4 {
            try await Self.write(c, 1...2, round)
            try c.flush()
        }
        #expect(c.versions.map(\.operation) == [3, 4])
        let versions = c.versions
        #expect(try Self.state(try c.at(.number(versions[0].number))) == ["1": 3, "2": 3])
        #expect(try Self.state(try c.at(.time(versions[1].time))) == ["1": 4, "2": 4])
        do {
            _ = try c.at(.number(1))
            Issue.record("version 1 should have expired")
        } catch let error as StrataError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("retains versions \(versions[0].number), \(versions[1].number)"), "\(error)")
        }
        #expect(throws: StrataError.self) { try c.at(.time(Date(timeIntervalSince1970: 0))) }
        #expect(throws: StrataError.self) { try c.tagVersion("12") }
        try c.tagVersion("release")
        #expect(throws: StrataError.self) { try c.tagVersion("release") }
    }

    @Test func restoreMakesAVersionCurrentAsOneLoggedWrite() async throws {
        let dir = TemporaryDirectory()
        let expected: [String: JSONValue] = ["1": 1, "2": 1, "3": 1]
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config())
            try await Self.write(c, 1...3, 1)
            try c.tagVersion("good")
            try await Self.write(c, 3...6, 2)  // a bad import
            try await c.delete([1])
            let lastOp = c.storageInfo.lastOperation
            let result = try await c.restore(.tag("good"))
            #expect(result.operationID == lastOp + 1)
            #expect(try Self.state(c) == expected)
            #expect(try c.retrieve([2], withVector: true).first?.vectors?[""] == [2, 1])
        }
        let db = try Database.open(at: dir.path)  // the restore replays from the WAL
        defer { db.close() }
        #expect(try Self.state(try db.collection("c")) == expected)
    }

    /// A version judges expiry at its own time.
    @Test func aVersionJudgesExpiryAtItsTime() async throws {
        let dir = TemporaryDirectory()
        let seconds = Locked(1_800_000_000.0)
        var options = DatabaseOptions()
        options.clock = WallClock { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
        options.expirySweepInterval = nil
        let db = try Database.open(at: dir.path, options: options)
        defer { db.close() }
        var config = Self.config()
        config.ttl = TTLConfig(key: "until")
        let c = try db.createCollection("c", config: config)
        try await c.upsert([PointStruct(id: 1, vector: [1, 1], payload: ["until": .double(1_800_000_010)])])
        try c.tagVersion("early")
        seconds.withLock { $0 += 20 }
        #expect(c.count() == 0)
        #expect(try c.at(.tag("early")).count() == 1)
    }
}
