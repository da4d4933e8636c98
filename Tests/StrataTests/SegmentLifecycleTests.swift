import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// The LSM lifecycle: seal, flush, merge, vacuum, copy-on-write, recovery from
/// manifest + WAL tail — checked against a plain in-memory model.
@Suite struct SegmentLifecycleTests {
    static let dim = 6

    /// Tiny thresholds so that every few writes make a segment; no background
    /// interval flush during the test (it calls flush/optimize itself).
    static func config(deletedThreshold: Double = 0.2, vacuumMin: Int = 1000, segments: Int = 3) -> CollectionConfig {
        CollectionConfig(
            size: dim, distance: .euclid,
            optimizers: OptimizersConfig(
                deletedThreshold: deletedThreshold, vacuumMinVectorNumber: vacuumMin,
                defaultSegmentNumber: segments, indexingThresholdKB: 1, flushIntervalSec: 3600))
    }

    func euclid(_ a: [Float], _ b: [Float]) -> Float {
        var sum: Float = 0
        for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
        return sum.squareRoot()
    }

    func vector(_ seed: Int) -> [Float] { (0..<Self.dim).map { Float((seed * 31 + $0 * 7) % 97) / 10 } }

    func point(_ id: Int, _ seed: Int, payload: Payload? = nil) -> PointStruct {
        PointStruct(id: .number(UInt64(id)), vector: vector(seed), payload: payload ?? ["seed": .int(Int64(seed))])
    }

    @Test func flushWritesASegmentTruncatesTheWALAndSurvivesReopen() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: DatabaseOptions(walFileSize: 4096))
            let c = try db.createCollection("c", config: Self.config())
            for batch in 0..<20 { try await c.upsert((0..<10).map { point(batch * 10 + $0, batch * 10 + $0) }) }
            try c.flush()
            let info = c.storageInfo
            #expect(info.mutablePoints == 0)
            #expect(!info.segments.isEmpty)
            #expect(info.checkpoint == info.lastOperation)
            #expect(info.walFiles <= 2, "WAL files below the checkpoint should be gone, found \(info.walFiles)")
            #expect(c.count() == 200)
            db.close()
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.count() == 200)
        let record = try #require(try c.retrieve([.number(123)], withVector: true).first)
        #expect(record.vectors?[""] == vector(123))
        #expect(record.payload == ["seed": 123])
        #expect(try c.search(vector(57), limit: 1).first?.id == .number(57))
    }

    /// A writer seals a segment the optimizer has not written yet, then writes
    /// more: flush must write both, not only the sealed one (it once skipped
    /// the mutable segment whenever a frozen one was waiting).
    @Test func flushWritesTheMutableSegmentEvenWhenASealedOneIsWaiting() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config())
            c.store.pauseBackgroundWork()
            try await c.upsert([point(1, 1)])
            c.store.seal()
            try await c.upsert([point(2, 2)])
            #expect(c.storageInfo.frozenSegments == 1)
            #expect(c.storageInfo.mutablePoints == 1)
            try c.flush()
            let info = c.storageInfo
            #expect(info.frozenSegments == 0)
            #expect(info.mutablePoints == 0, "the point written after the seal stayed in memory")
            #expect(info.checkpoint == info.lastOperation)
            #expect(info.segments.reduce(0) { $0 + $1.points } == 2)
        }
    }

    @Test func payloadUpdateOfAFlushedPointIsCopiedOnWriteAndSurvivesReopen() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            let c = try db.createCollection("c", config: Self.config())
            try await c.upsert((0..<5).map { point($0, $0) })
            try c.flush()
            let update = try await c.setPayload(["tag": "new"], for: [.number(2)])
            let record = try #require(try c.retrieve([.number(2)], withVector: true).first)
            #expect(record.payload == ["seed": 2, "tag": "new"])
            #expect(record.version == update.operationID)
            #expect(record.vectors?[""] == vector(2))
            #expect(c.count() == 5)
            db.close()  // the update lives only in the WAL tail and memory
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.count() == 5)
        #expect(try c.retrieve([.number(2)]).first?.payload == ["seed": 2, "tag": "new"])
    }

    @Test func payloadCanBeSetOnAFlushedPointThatHadNone() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config())
        try await c.upsert([PointStruct(id: 1, vector: vector(1), payload: nil)])
        try c.flush()
        try await c.setPayload(["k": "v"], for: [1])
        #expect(try c.retrieve([1]).first?.payload == ["k": "v"])
    }

    @Test func mergeReducesSegmentsToTheTargetAndKeepsEveryPoint() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config(segments: 2))
        for batch in 0..<6 {
            try await c.upsert((0..<8).map { point(batch * 8 + $0, $0 + batch) })
            try c.flush()
        }
        #expect(c.storageInfo.segments.count == 6)
        try await c.delete([.number(3), .number(40)])
        try c.optimize()
        #expect(c.storageInfo.segments.count <= 2)
        #expect(c.count() == 46)
        #expect(try c.retrieve([.number(3), .number(40)]).isEmpty)
        #expect(try c.retrieve([.number(47)]).first?.payload == ["seed": 12])
    }

    @Test func vacuumRewritesASegmentWithManyDeletions() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config(deletedThreshold: 0.2, vacuumMin: 10, segments: 8))
        try await c.upsert((0..<40).map { point($0, $0) })
        try c.flush()
        try await c.delete((0..<15).map { .number(UInt64($0)) })
        try c.flush()  // makes the deletions durable (checkpointed)
        #expect(c.storageInfo.segments.map(\.deleted).reduce(0, +) == 15)
        try c.optimize()
        let info = c.storageInfo
        #expect(info.segments.map(\.deleted).reduce(0, +) == 0)
        #expect(info.segments.map(\.points).reduce(0, +) == 25)
        #expect(c.count() == 25)
    }

    /// A seeded random sequence of writes, flushes, merges and reopens, with
    /// every read compared to a model after each step.
    @Test func randomOperationsMatchTheModelThroughFlushesMergesAndReopens() async throws {
        let seed = testSeed(default: 424242)
        var rng = SeededGenerator(seed: seed)
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path)
        var c = try db.createCollection("c", config: Self.config(deletedThreshold: 0.3, vacuumMin: 4, segments: 3))
        var model: [Int: (seed: Int, payload: Payload)] = [:]
        for step in 0..<300 {
            let action = Int(rng.next() % 100)
            let id = Int(rng.next() % 60)
            switch action {
            case 0..<40:
                let s = Int(rng.next() % 1000)
                try await c.upsert([point(id, s)])
                model[id] = (s, ["seed": .int(Int64(s))])
            case 40..<55:
                try await c.delete([.number(UInt64(id))])
                model[id] = nil
            case 55..<65:
                try await c.setPayload(["k": .int(Int64(step))], for: [.number(UInt64(id))])
                model[id]?.payload["k"] = .int(Int64(step))
            case 65..<70:
                try await c.overwritePayload(["o": .string("s\(step)")], for: [.number(UInt64(id))])
                model[id]?.payload = ["o": .string("s\(step)")]
            case 70..<74:
                try await c.deletePayloadKeys(["seed"], for: [.number(UInt64(id))])
                model[id]?.payload["seed"] = nil
            case 74..<77:
                try await c.clearPayload(for: [.number(UInt64(id))])
                model[id]?.payload = [:]
            case 77..<87:
                try c.flush()
            case 87..<95:
                try c.optimize()
            default:
                db.close()
                db = try Database.open(at: dir.path)
                c = try db.collection("c")
            }
            // Every read equals the model.
            #expect(c.count() == model.count, "step \(step): count")
            let all = try c.scroll(limit: 1000, withPayload: true, withVector: true).points
            #expect(all.map(\.id) == model.keys.sorted().map { .number(UInt64($0)) }, "step \(step): ids")
            for record in all {
                guard case .number(let n) = record.id, let want = model[Int(n)] else { continue }
                #expect(record.vectors?[""] == vector(want.seed), "step \(step): vector of \(n)")
                #expect(record.payload == want.payload, "step \(step): payload of \(n)")
            }
            var page: [PointID] = []
            var offset: PointID? = nil
            repeat {
                let result = try c.scroll(offset: offset, limit: 7, withPayload: false)
                page += result.points.map(\.id)
                offset = result.nextOffset
            } while offset != nil
            #expect(page == all.map(\.id), "step \(step): paged scroll")
            let query = vector(Int(rng.next() % 1000))
            let hits = try c.search(query, limit: 5)
            var distances: [(id: Int, d: Float)] = []
            for (id, entry) in model {
                distances.append((id, euclid(vector(entry.seed), query)))
            }
            distances.sort { $0.d == $1.d ? $0.id < $1.id : $0.d < $1.d }
            let reference = distances.prefix(5)
            #expect(hits.map(\.score).count == reference.count, "step \(step): hit count")
            for (hit, want) in zip(hits, reference) {
                #expect(abs(hit.score - want.d) < 1e-3, "step \(step): search scores")
            }
        }
        db.close()
    }

    @Test func damagedSegmentFileIsReportedByName() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            let c = try db.createCollection("c", config: Self.config())
            try await c.upsert((0..<10).map { point($0, $0) })
            try c.flush()
            db.close()
        }
        let segments = dir.path + "/collections/c/segments"
        let file = try #require(
            try FileManager.default.contentsOfDirectory(atPath: segments).first { $0.hasSuffix(".seg") })
        let path = segments + "/" + file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[3] ^= 0xFF  // the magic
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StrataError.self) { try Database.open(at: dir.path) }
        #expect(error?.code == .corruption)
        #expect(error?.message.contains(file) == true)
    }
}

/// Rules of docs/format/manifest.md that only matter when operations arrive
/// between a seal and its publish, or when files go missing.
@Suite struct ManifestRuleTests {
    let config = SegmentLifecycleTests.config()

    /// Rule 2: a tombstone newer than the checkpoint must not reach a tombstone
    /// file, or replaying its copy-on-write operation after a crash finds no
    /// source point.
    @Test func copyOnWriteBetweenSealAndPublishSurvivesPowerLoss() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        do {
            let db = try Database.open(at: "/db", fileSystem: fs)
            let c = try db.createCollection("c", config: config)
            try await c.upsert([PointStruct(id: 1, vector: [1, 2, 3, 4, 5, 6], payload: ["a": 1])])
            try c.flush()  // point 1 now lives in an immutable segment
            try await c.upsert([PointStruct(id: 2, vector: [6, 5, 4, 3, 2, 1])])
            c.store.seal()  // checkpoint-to-be: the upsert of 2
            try await c.setPayload(["cow": true], for: [1])  // newer than the seal
            try c.store.flushOldestFrozen()  // publishes the older checkpoint
            fs.simulatePowerLoss(.dropUnsynced)
            db.close()
        }
        let db = try Database.open(at: "/db", fileSystem: fs)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.count() == 2)
        #expect(try c.retrieve([1]).first?.payload == ["a": 1, "cow": true])
    }

    @Test func missingWALFilesAfterTheCheckpointAreCorruption() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: DatabaseOptions(walFileSize: 300))
            let c = try db.createCollection("c", config: config)
            try await c.upsert([PointStruct(id: 1, vector: [1, 2, 3, 4, 5, 6])])
            try c.flush()
            for i in 2..<12 { try await c.upsert([PointStruct(id: .number(UInt64(i)), vector: [1, 2, 3, 4, 5, 6])]) }
            db.close()
        }
        let walDir = dir.path + "/collections/c/wal"
        let files = try FileManager.default.contentsOfDirectory(atPath: walDir).filter { $0.hasSuffix(".log") }.sorted()
        #expect(files.count >= 3)
        try FileManager.default.removeItem(atPath: walDir + "/" + files[0])
        let error = #expect(throws: StrataError.self) { try Database.open(at: dir.path) }
        #expect(error?.code == .corruption)
        #expect(error?.message.contains("missing") == true)
    }
}

@Suite struct VerifyTests {
    /// Vector data is not checked at open (that would read every vector), but
    /// `verify` reads everything and names the damaged file and section.
    @Test func verifyFindsAFlippedByteInVectorDataAndNamesIt() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            let c = try db.createCollection("c", config: SegmentLifecycleTests.config())
            try await c.upsert(
                (0..<50).map {
                    PointStruct(
                        id: .number(UInt64($0)), vector: [Float($0), 1, 2, 3, 4, 5], payload: ["i": .int(Int64($0))])
                })
            try c.flush()
            #expect(c.verify().isEmpty)
            db.close()
        }
        let segments = dir.path + "/collections/c/segments"
        let file = try #require(
            try FileManager.default.contentsOfDirectory(atPath: segments).first { $0.hasSuffix(".seg") })
        let db0 = try Database.open(at: dir.path)
        let section = try #require(
            try db0.collection("c").storageInfo.segments.first?.sections.first { $0.name.contains("vector") })
        db0.close()
        #expect(section.bytes > 0)
        // Flip a byte inside the vector data: find it by its value.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segments + "/" + file))
        var needle = Float(37)
        let pattern = withUnsafeBytes(of: &needle) { Data($0) }
        let at = try #require(bytes.range(of: pattern)?.lowerBound)
        bytes[at + 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: segments + "/" + file))
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let problems = try db.collection("c").verify()
        #expect(!problems.isEmpty)
        #expect(problems.first?.contains(file) == true, "\(problems)")
    }
}
