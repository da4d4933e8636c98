import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// Adding and removing a named vector of an existing collection
/// (`Database.createVectorName`, `deleteVectorName`): existing points lack a
/// new vector; a removed vector's data never comes back — not from immutable
/// segments, sealed segments or the WAL, not after reopen, flush or merge, and
/// not when the name is added again with another size, distance or kind.
@Suite struct VectorNameTests {
    /// Runs `check` on collection "c" after a reopen, a flush, a merge and
    /// another reopen, each on a freshly opened database.
    static func afterEachStage(_ path: String, _ check: (String, Collection) throws -> Void) throws {
        for stage in ["reopen", "flush", "optimize", "reopen again"] {
            let db = try Database.open(at: path)
            defer { db.close() }
            let c = try db.collection("c")
            if stage == "flush" { try c.flush() }
            if stage == "optimize" { try c.optimize() }
            try check(stage, c)
        }
    }

    static let config = CollectionConfig(
        vectors: ["a": VectorParams(size: 4, distance: .euclid), "b": VectorParams(size: 4, distance: .euclid)],
        optimizers: OptimizersConfig(defaultSegmentNumber: 1, indexingThresholdKB: 1 << 20, flushIntervalSec: 3600))

    static func point(_ id: UInt64, b: Bool = true) -> PointStruct {
        let x = Float(id)
        var vectors = ["a": [x, 1, 0, 0]]
        if b { vectors["b"] = [0, x, 1, 2] }
        return PointStruct(id: .number(id), vectors: vectors, payload: ["n": .int(Int64(id))])
    }

    static func hasVector(_ name: String) -> Filter { Filter(must: [.hasVector(name)]) }

    /// Every point's vector names (dense and sparse), by id.
    static func vectorNames(_ collection: Collection) throws -> [PointID: Set<String>] {
        let records = try collection.scroll(limit: Int.max, withPayload: false, withVector: true).points
        return Dictionary(
            uniqueKeysWithValues: records.map { record in
                (record.id, Set((record.vectors ?? [:]).keys).union((record.sparseVectors ?? [:]).keys))
            })
    }

    /// Points 0..<10 flushed to one segment, 10..<15 in a sealed (frozen)
    /// segment, 15..<20 only in the WAL and the mutable segment; all with "b".
    static func populate(_ db: Database) async throws {
        let c = try db.createCollection("c", config: config)
        try await c.upsert((0..<10).map { point($0) })
        try c.flush()
        try await c.upsert((10..<15).map { point($0) })
        c.store.seal()
        try await c.upsert((15..<20).map { point($0) })
        try await c.updateVectors([PointVectors(id: 3, vectors: ["b": [9, 9, 9, 9]])])
    }

    @Test func addedVectorIsAbsentUntilWrittenThenSurvivesReopenFlushAndMerge() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            try await Self.populate(db)
            let c = try db.createVectorName("c", name: "v", VectorParams(size: 3, distance: .dot))
            #expect(c.config.vectors["v"] == VectorParams(size: 3, distance: .dot))
            #expect(c.count() == 20)
            #expect(try Self.vectorNames(c).values.allSatisfy { $0 == ["a", "b"] })
            #expect(try c.count(filter: Self.hasVector("v")) == 0)
            #expect(try c.search([1, 0, 0], using: "v", limit: 10).isEmpty)
            // Existing data is untouched.
            #expect(try c.retrieve([5], withVector: true).first?.vectors?["a"] == [5, 1, 0, 0])
            // Write the new vector to a flushed, a sealed and a mutable point, and upsert a new one.
            try await c.updateVectors([
                PointVectors(id: 2, vectors: ["v": [1, 0, 0]]),
                PointVectors(id: 12, vectors: ["v": [0, 1, 0]]),
            ])
            try await c.upsert([
                PointStruct(id: 17, vectors: ["a": [1, 1, 1, 1], "v": [0, 0, 1]]),
                PointStruct(id: 30, vectors: ["a": [3, 3, 3, 3], "b": [1, 1, 1, 1], "v": [2, 0, 0]]),
            ])
        }
        // Reopen (the WAL replays writes from before and after the change),
        // then flush and merge: the same answers at every stage.
        try Self.afterEachStage(dir.path) { (stage: String, c: Collection) throws in
            #expect(c.count() == 21, "\(stage)")
            #expect(try c.count(filter: Self.hasVector("v")) == 4, "\(stage)")
            #expect(try c.search([1, 0, 0], using: "v", limit: 10).map(\.id) == [30, 2, 12, 17], "\(stage)")
            #expect(
                try c.retrieve([17], withPayload: false, withVector: true).first?.vectors == [
                    "a": [1, 1, 1, 1], "v": [0, 0, 1],
                ], "\(stage)")
            #expect(
                try c.retrieve([3], withPayload: false, withVector: true).first?.vectors?["b"] == [9, 9, 9, 9],
                "\(stage)")
            #expect(try c.retrieve([5], withPayload: true, withVector: true).first?.payload == ["n": 5], "\(stage)")
            #expect(c.verify().isEmpty, "\(stage)")
        }
    }

    @Test func removedVectorNeverComesBackEvenWhenTheNameIsAddedAgain() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            try await Self.populate(db)
            let c = try db.deleteVectorName("c", name: "b")
            #expect(c.config.vectors.keys.sorted() == ["a"])
            #expect(c.count() == 20)
            #expect(try Self.vectorNames(c).values.allSatisfy { $0 == ["a"] })
            #expect(throws: StrataError.self) { try c.search([0, 1, 1, 2], using: "b") }
            #expect(throws: StrataError.self) { try c.count(filter: Self.hasVector("b")) }
            #expect(throws: StrataError.self) { try c.scroll(filter: Self.hasVector("b")) }
            await #expect(throws: StrataError.self) { try await c.upsert([Self.point(40)]) }
            await #expect(throws: StrataError.self) { try await c.deleteVectors(["b"], for: [1]) }
            #expect(c.count() == 20)
        }
        // Reopen: the WAL still holds upserts with "b" from before the
        // removal; replay drops those vectors instead of failing.
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let c = try db.collection("c")
            #expect(c.count() == 20)
            #expect(try Self.vectorNames(c).values.allSatisfy { $0 == ["a"] })
            // Same size and distance as the old "b": the most dangerous case,
            // since old rows would fit.
            let again = try db.createVectorName("c", name: "b", VectorParams(size: 4, distance: .euclid))
            #expect(try Self.vectorNames(again).values.allSatisfy { $0 == ["a"] })
            #expect(try again.search([0, 1, 1, 2], using: "b", limit: 50).isEmpty)
            #expect(try again.search([0, 1, 1, 2], using: "b", limit: 50, params: SearchParams(exact: true)).isEmpty)
            #expect(try again.count(filter: Self.hasVector("b")) == 0)
            try await again.updateVectors([PointVectors(id: 4, vectors: ["b": [1, 2, 3, 4]])])
            #expect(try again.search([0, 1, 1, 2], using: "b", limit: 50).map(\.id) == [4])
        }
        try Self.afterEachStage(dir.path) { (stage: String, c: Collection) throws in
            #expect(c.count() == 20, "\(stage)")
            #expect(try c.search([0, 1, 1, 2], using: "b", limit: 50).map(\.id) == [4], "\(stage)")
            #expect(try c.count(filter: Self.hasVector("b")) == 1, "\(stage)")
            let names = try Self.vectorNames(c)
            #expect(names.filter { $0.value.contains("b") }.map(\.key) == [4], "\(stage)")
            #expect(c.verify().isEmpty, "\(stage)")
            if stage == "optimize" {
                // The merge rewrote the segments: none holds stale "b" rows any more.
                let hidden = c.store.withStateLock { $0.immutables.map(\.hiddenVectors) }
                #expect(hidden == [[]], "\(hidden)")
            }
        }
        // Remove it again and add it back with another size, distance and
        // then as a sparse vector: still nothing old.
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            try db.deleteVectorName("c", name: "b")
            let bigger = try db.createVectorName("c", name: "b", VectorParams(size: 6, distance: .cosine))
            #expect(try bigger.search([1, 0, 0, 0, 0, 0], using: "b", limit: 50).isEmpty)
            #expect(try bigger.count(filter: Self.hasVector("b")) == 0)
            try db.deleteVectorName("c", name: "b")
            let sparse = try db.createVectorName("c", name: "b", SparseVectorParams(modifier: .idf))
            #expect(
                try sparse.searchSparse(
                    SparseVector(indices: [0, 1, 2, 3], values: [1, 1, 1, 1]), using: "b", limit: 50
                ).isEmpty)
            #expect(try sparse.count(filter: Self.hasVector("b")) == 0)
            try await sparse.updateVectors([
                PointVectors(id: 7, vectors: [:], sparseVectors: ["b": SparseVector(indices: [1], values: [2])])
            ])
            #expect(try sparse.searchSparse(SparseVector(indices: [1], values: [1]), using: "b").map(\.id) == [7])
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.config.sparseVectors["b"] == SparseVectorParams(modifier: .idf) && c.config.vectors["b"] == nil)
        #expect(try c.searchSparse(SparseVector(indices: [1], values: [1]), using: "b").map(\.id) == [7])
        #expect(try Self.vectorNames(c).filter { $0.value.contains("b") }.map(\.key) == [7])
    }

    /// A multivector name: added, written (rows back to back) and searched by
    /// max_sim; removed; added again as a plain vector whose size equals two old
    /// rows (old data would fit): nothing old is served.
    @Test func multivectorNameAddRemoveAndReAddAsPlain() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            try await Self.populate(db)
            let c = try db.createVectorName(
                "c", name: "m", VectorParams(size: 2, distance: .dot, multivectorConfig: MultiVectorConfig()))
            #expect(try c.count(filter: Self.hasVector("m")) == 0)
            #expect(try c.search([1, 0], using: "m").isEmpty)
            // Point 1 (flushed) gets two rows, point 16 (mutable) one.
            try await c.updateVectors([
                PointVectors(id: 1, vectors: ["m": [1, 0, 0, 1]]),
                PointVectors(id: 16, vectors: ["m": [3, 3]]),
            ])
            #expect(try c.search([1, 0], using: "m", params: SearchParams(exact: true)).map(\.id) == [16, 1])
            try c.flush()
            #expect(try c.retrieve([1], withPayload: false, withVector: true).first?.vectors?["m"] == [1, 0, 0, 1])
            try db.deleteVectorName("c", name: "m")
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        #expect(try db.collection("c").config.vectors["m"] == nil)
        let plain = try db.createVectorName("c", name: "m", VectorParams(size: 4, distance: .dot))
        #expect(try plain.count(filter: Self.hasVector("m")) == 0)
        #expect(try plain.search([1, 0, 0, 1], using: "m", params: SearchParams(exact: true)).isEmpty)
        #expect(try Self.vectorNames(plain).values.allSatisfy { !$0.contains("m") })
        try await plain.updateVectors([PointVectors(id: 9, vectors: ["m": [1, 1, 1, 1]])])
        try plain.optimize()
        #expect(try plain.search([1, 0, 0, 1], using: "m").map(\.id) == [9])
        #expect(try plain.retrieve([1], withPayload: false, withVector: true).first?.vectors?["m"] == nil)
        #expect(plain.verify().isEmpty)
    }

    @Test func badChangesAreRefusedAndChangeNothing() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection(
            "c",
            config: CollectionConfig(
                vectors: ["a": VectorParams(size: 4, distance: .dot)], sparseVectors: ["s": SparseVectorParams()]))
        try await c.upsert([PointStruct(id: 1, vectors: ["a": [1, 2, 3, 4]])])
        func code(_ body: () throws -> Void) -> StrataError.Code? {
            do { try body() } catch let error as StrataError { return error.code } catch { return nil }
            return nil
        }
        #expect(code { try db.createVectorName("nope", name: "x", VectorParams(size: 2, distance: .dot)) } == .notFound)
        #expect(
            code { try db.createVectorName("c", name: "a", VectorParams(size: 2, distance: .dot)) } == .alreadyExists)
        #expect(
            code { try db.createVectorName("c", name: "s", VectorParams(size: 2, distance: .dot)) } == .alreadyExists)
        #expect(code { try db.createVectorName("c", name: "a", SparseVectorParams()) } == .alreadyExists)
        #expect(
            code { try db.createVectorName("c", name: "x", VectorParams(size: 0, distance: .dot)) } == .invalidArgument)
        #expect(
            code { try db.createVectorName("c", name: "", VectorParams(size: 2, distance: .dot)) } == .invalidArgument)
        #expect(code { try db.deleteVectorName("c", name: "x") } == .notFound)
        #expect(code { try db.deleteVectorName("nope", name: "a") } == .notFound)
        // The handle is still the same, open one: nothing was closed.
        #expect(try db.collection("c") === c)
        try db.deleteVectorName("c", name: "s")
        #expect(code { try db.deleteVectorName("c", name: "a") } == .invalidArgument)
        #expect(try db.collection("c").config.vectors.keys.sorted() == ["a"])
        #expect(try db.collection("c").count() == 1)
        // config.json only moves to version 2 once a vector name changed.
        let stored = try String(contentsOfFile: dir.path + "/collections/c/config.json", encoding: .utf8)
        #expect(stored.contains("\"formatVersion\" : 2") && stored.contains("vectorHistory"))
    }

    @Test func writesRacingAChangeLandBeforeOrAfterIt() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try await Self.populate(db)
        let old = try db.collection("c")
        let writers = 4, perWriter = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for i in 0..<perWriter {
                        // Every write goes through the handle taken before the
                        // changes; ones it refuses are forwarded.
                        try await old.upsert([
                            PointStruct(id: .number(UInt64(1000 + w * perWriter + i)), vectors: ["a": [1, 2, 3, 4]])
                        ])
                    }
                }
            }
            group.addTask {
                try db.createVectorName("c", name: "v", VectorParams(size: 2, distance: .dot))
                try db.deleteVectorName("c", name: "v")
                try db.createVectorName("c", name: "w", SparseVectorParams())
            }
            try await group.waitForAll()
        }
        let current = try db.collection("c")
        #expect(
            current.config.vectors.keys.sorted() == ["a", "b"] && current.config.sparseVectors.keys.sorted() == ["w"])
        #expect(current.count() == 20 + writers * perWriter)
        // A write naming a vector that was removed meanwhile is refused, not lost silently.
        try db.deleteVectorName("c", name: "b")
        await #expect(throws: StrataError.self) { try await old.upsert([Self.point(2000)]) }
        // One that does not name it is forwarded.
        try await old.upsert([Self.point(2001, b: false)])
        #expect(try db.collection("c").count() == 21 + writers * perWriter)
        db.close()
        let reopened = try Database.open(at: dir.path)
        defer { reopened.close() }
        #expect(try reopened.collection("c").count() == 21 + writers * perWriter)
    }

    /// config.json version 2, byte for byte as docs/format/data-directory.md
    /// shows it; version 1 is still written while no name ever changed.
    @Test func configVersion2GoldenFile() throws {
        let config = CollectionConfig(
            vectors: ["a": VectorParams(size: 2, distance: .dot)],
            optimizers: OptimizersConfig(flushIntervalSec: 7))
        let v1 = String(
            decoding: try Collection.StoredConfig(config: config, vectorHistory: [:]).encoded(), as: UTF8.self)
        #expect(v1.contains("\"formatVersion\" : 1") && !v1.contains("vectorHistory"))
        let history = ["b": VectorNameHistory(staleThroughOperation: 41, staleBelowSegment: 3)]
        let v2 = String(
            decoding: try Collection.StoredConfig(config: config, vectorHistory: history).encoded(), as: UTF8.self)
        #expect(
            v2.hasSuffix(
                """
                  "formatVersion" : 2,
                  "vectorHistory" : {
                    "b" : {
                      "staleBelowSegment" : 3,
                      "staleThroughOperation" : 41
                    }
                  }
                }
                """), "\(v2)")
        let decoded = try JSONDecoder().decode(Collection.StoredConfig.self, from: Data(v2.utf8))
        #expect(decoded.formatVersion == 2 && decoded.vectorHistory == history && decoded.config == config)
        // Boundaries: operation 41 is stale, 42 is not; segment 2 is, 3 is not.
        #expect(history.staleNames(inOperation: 41) == ["b"] && history.staleNames(inOperation: 42).isEmpty)
        #expect(history.hiddenNames(inSegment: 2) == ["b"] && history.hiddenNames(inSegment: 3).isEmpty)
    }

    /// A version 1 config.json that carries a history is damaged: refused, not half-read.
    @Test func versionOneConfigWithHistoryIsCorruption() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
            try db.createVectorName("c", name: "v", VectorParams(size: 3, distance: .dot))
            db.close()
        }
        let path = dir.path + "/collections/c/config.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"formatVersion\" : 2", with: "\"formatVersion\" : 1").write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect { try Database.open(at: dir.path) } throws: { error in
            (error as? StrataError)?.code == .corruption && "\(error)".contains("vectorHistory")
        }
    }

    // MARK: - Crash safety

    /// With periodic durability, writes before a change may sit unsynced in
    /// the page cache; the change syncs them before it commits (its boundary
    /// names their op numbers), so a power loss right after it keeps them. A
    /// write after the change that reaches the disk is applied with the new
    /// schema after the power loss, not dropped as stale.
    @Test func powerLossAfterAChangeKeepsWritesFromBeforeIt() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let options = DatabaseOptions(durability: .periodic(milliseconds: 3_600_000))
        do {
            let db = try Database.open(at: "/data", options: options, fileSystem: fs)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config)
            try await c.upsert((0..<10).map { Self.point($0) })
            let again = try db.deleteVectorName("c", name: "b")
            // The unsynced upserts were synced by the change: a power loss now keeps them.
            fs.simulatePowerLoss(.dropUnsynced)
            _ = again
        }
        do {
            let db = try Database.open(at: "/data", options: options, fileSystem: fs)
            defer { db.close() }
            let c = try db.collection("c")
            #expect(c.count() == 10)
            #expect(c.config.vectors.keys.sorted() == ["a"])
            let readded = try db.createVectorName("c", name: "b", VectorParams(size: 4, distance: .euclid))
            try await readded.updateVectors([PointVectors(id: 4, vectors: ["b": [1, 2, 3, 4]])])
            try readded.store.walForTruncation()?.sync()
            fs.simulatePowerLoss(.dropUnsynced)
        }
        let db = try Database.open(at: "/data", options: options, fileSystem: fs)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.count() == 10)
        #expect(try Self.vectorNames(c).filter { $0.value.contains("b") }.map(\.key) == [4])
        #expect(try c.search([1, 2, 3, 4], using: "b", limit: 10).map(\.id) == [4])
    }

    /// A crash at every file-system operation of an add or a remove, then power
    /// loss (unsynced data dropped, or torn at random), then a fresh open: the
    /// collection opens, with exactly the old or the new schema, every
    /// acknowledged point, and the vectors that schema has.
    @Test(arguments: ["add", "remove", "re-add"])
    func crashAtEveryStepOfAChangeLeavesTheOldOrTheNewSchema(_ kind: String) async throws {
        let root = "/data"
        func prepare(_ fs: FaultInjectingFileSystem) async throws {
            let db = try Database.open(at: root, fileSystem: fs)
            defer { db.close() }
            try await Self.populate(db)
            if kind == "re-add" { try db.deleteVectorName("c", name: "b") }
        }
        func change(_ db: Database) throws {
            switch kind {
            case "add": try db.createVectorName("c", name: "v", VectorParams(size: 3, distance: .cosine))
            case "remove": try db.deleteVectorName("c", name: "b")
            default: try db.createVectorName("c", name: "b", VectorParams(size: 4, distance: .euclid))
            }
        }
        struct Snapshot: Equatable {
            var vectors: [String: VectorParams]
            var state: CollectionState
        }
        func snapshot(_ db: Database) throws -> Snapshot {
            let c = try db.collection("c")
            return Snapshot(vectors: c.config.vectors, state: try CollectionState(c))
        }
        let counter = FaultInjectingFileSystem(durableDirectories: ["/"])
        try await prepare(counter)
        let (before, after, total): (Snapshot, Snapshot, Int) = try {
            let db = try Database.open(at: root, fileSystem: counter)
            defer { db.close() }
            let before = try snapshot(db)
            let start = counter.operationCount
            try change(db)
            return (before, try snapshot(db), counter.operationCount - start)
        }()
        #expect(before.vectors != after.vectors)
        // The new state is right in itself: no point has the changed vector.
        let changed = kind == "add" ? "v" : "b"
        #expect(
            after.state.points.values.allSatisfy { $0.vectors?[changed] == nil },
            "\(after.state.points.values.filter { $0.vectors?[changed] != nil }.map(\.id))")
        #expect(before.state.points.count == 20 && after.state.points.count == 20)
        #expect(total > 5)
        var outcomes = (old: 0, new: 0)
        for crashPoint in 0...total {
            for mode in [PowerLossMode.dropUnsynced, .randomTear(seed: UInt64(crashPoint))] {
                let context = "\(kind): crash at step \(crashPoint)/\(total), \(mode)"
                let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
                try await prepare(fs)
                do {
                    let db = try Database.open(at: root, fileSystem: fs)
                    fs.crashAfterOperations = fs.operationCount + crashPoint
                    try? change(db)
                    db.close()
                }
                fs.simulatePowerLoss(mode)
                let db: Database
                do {
                    db = try Database.open(at: root, fileSystem: fs)
                } catch {
                    Issue.record("\(context): reopening failed: \(error)")
                    continue
                }
                defer { db.close() }
                let found = try snapshot(db)
                if found == before {
                    outcomes.old += 1
                } else if found == after {
                    outcomes.new += 1
                } else {
                    Issue.record(
                        "\(context): neither the old nor the new schema and points: \(found.vectors) \(found.state.differences(from: after.state))"
                    )
                }
                #expect(try db.collection("c").verify().isEmpty, "\(context)")
                // Usable afterwards, and a flush keeps the same answers.
                try db.collection("c").flush()
                #expect(try snapshot(db) == found, "\(context): after a flush")
            }
        }
        print("\(kind): \(total) file-system operations; outcomes \(outcomes)")
        #expect(outcomes.old > 0 && outcomes.new > 0, "both outcomes should occur: \(outcomes)")
    }
}
