import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// Snapshots on the real file system: consistency under a concurrent write
/// load, incremental chains, full-storage snapshots, management, and that
/// standard tar reads the archives.
@Suite struct SnapshotTests {
    /// Tiny segments, so seals, flushes and merges run while snapshots are taken.
    static let busyConfig = CollectionConfig(
        size: 8, distance: .euclid,
        optimizers: OptimizersConfig(
            deletedThreshold: 0.2, vacuumMinVectorNumber: 8, defaultSegmentNumber: 2,
            indexingThresholdKB: 4, flushIntervalSec: 1))

    static func vector(_ token: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: token &* 0x9E37_79B9_7F4A_7C15)
        return (0..<8).map { _ in Float(Int(rng.next() % 2048) - 1024) / 1024 }
    }

    static func point(_ id: UInt64, token: UInt64) -> PointStruct {
        PointStruct(
            id: .number(id), vector: vector(token),
            payload: ["token": .int(Int64(token)), "tag": .string("t\(token % 7)")])
    }

    enum Operation: Sendable {
        case upsert([PointStruct])
        case delete([UInt64])
        case setPayload([UInt64], Payload)
    }

    /// The state the acknowledged operations with op number ≤ `opNum` produce.
    static func model(_ log: [UInt64: Operation], through opNum: UInt64) -> CollectionState {
        var points: [PointID: Record] = [:]
        for op in log.keys.sorted() where op <= opNum {
            switch log[op]! {
            case .upsert(let batch):
                for point in batch {
                    points[point.id] = Record(
                        id: point.id, version: op, payload: point.payload ?? [:], vectors: point.vectors)
                }
            case .delete(let ids):
                for id in ids { points[.number(id)] = nil }
            case .setPayload(let ids, let payload):
                for id in ids {
                    guard var record = points[.number(id)] else { continue }
                    for (key, value) in payload { record.payload![key] = value }
                    record.version = op
                    points[.number(id)] = record
                }
            }
        }
        return CollectionState(points: points)
    }

    @Test func snapshotUnderConcurrentWritesRestoresExactlyTheStateAtItsOpNum() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let collection = try db.createCollection("c", config: Self.busyConfig)
        let log = Locked<[UInt64: Operation]>([:])
        let seed = testSeed(default: 20260601)
        // Snapshots are triggered by progress (after 200, 500 and 800 of 1200
        // acknowledged writes), so writes run before, during and after each.
        let (triggers, trigger) = AsyncStream.makeStream(of: Int.self)
        let snapshots = try await withThrowingTaskGroup(of: [SnapshotDescription].self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var rng = SeededGenerator(seed: seed ^ UInt64(writer) << 32)
                    for step in 0..<300 {
                        let ids = (0..<Int(rng.next() % 4 + 1)).map { _ in rng.next() % 120 }
                        let operation: Operation
                        let result: UpdateResult
                        switch rng.next() % 6 {
                        case 0:
                            operation = .delete(ids)
                            result = try await collection.delete(ids.map { .number($0) })
                        case 1:
                            let payload: Payload = ["seen": .int(Int64(writer * 1000 + step))]
                            operation = .setPayload(ids, payload)
                            result = try await collection.setPayload(payload, for: ids.map { .number($0) })
                        default:
                            // Last occurrence wins within a batch, as the engine does.
                            var batch: [UInt64: PointStruct] = [:]
                            for id in ids {
                                batch[id] = Self.point(id, token: UInt64(writer) << 40 | UInt64(step) << 8 | id)
                            }
                            let points = ids.reduce(into: [PointStruct]()) { out, id in
                                if let p = batch.removeValue(forKey: id) { out.append(p) }
                            }
                            operation = .upsert(points)
                            result = try await collection.upsert(points)
                        }
                        let count = log.withLock { log in
                            log[result.operationID] = operation
                            return log.count
                        }
                        if [200, 500, 800].contains(count) { trigger.yield(count) }
                    }
                    return []
                }
            }
            group.addTask {
                var taken: [SnapshotDescription] = []
                for await _ in triggers {
                    taken.append(try await runOnThread { try db.createSnapshot(of: "c") })
                    if taken.count == 3 { break }
                }
                return taken
            }
            var all: [SnapshotDescription] = []
            for try await part in group { all += part }
            return all
        }
        let operations = log.withLock { $0 }
        #expect(Set(operations.keys) == Set(1...UInt64(operations.count)), "acknowledged op numbers must be 1…n")
        #expect(snapshots.count == 3)
        #expect(
            snapshots.contains { $0.opNum! < UInt64(operations.count) }, "a snapshot should be taken while writes go on"
        )
        for (index, snapshot) in snapshots.enumerated() {
            let opNum = try #require(snapshot.opNum)
            let manifest = try SnapshotReader(fileSystem: POSIXFileSystem()).readManifest(snapshot.path)
            print(
                "snapshot \(index): op \(opNum) of \(operations.count), checkpoint \(manifest.collections[0].checkpoint), \(manifest.files.count) files"
            )
            let name = "restored\(index)"
            let result = try db.restoreSnapshot(from: [snapshot.path], as: name)
            #expect(result.collections == [name: opNum])
            let restored = try CollectionState(db.collection(name))
            let expected = Self.model(operations, through: opNum)
            #expect(
                restored == expected,
                "snapshot \(snapshot.name) at op \(opNum): \(restored.differences(from: expected))")
            #expect(try db.collection(name).verify().isEmpty)
        }
        // The live collection equals the model of every operation.
        #expect(try CollectionState(collection) == Self.model(operations, through: UInt64(operations.count)))
        // Restored collections survive a reopen unchanged.
        let states = try (0..<3).map { try CollectionState(db.collection("restored\($0)")) }
        db.close()
        let reopened = try Database.open(at: dir.path)
        defer { reopened.close() }
        for index in 0..<3 { #expect(try CollectionState(reopened.collection("restored\(index)")) == states[index]) }
        #expect(try reopened.listSnapshots(collection: "c").map(\.name) == snapshots.map(\.name).sorted())
    }

    @Test func incrementalChainRestoresTheSameStateAsAFullSnapshot() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let config = CollectionConfig(
            size: 8, distance: .euclid,
            optimizers: OptimizersConfig(indexingThresholdKB: 1 << 20, flushIntervalSec: 3600))
        let c = try db.createCollection("c", config: config)
        try await c.upsert((0..<200).map { Self.point($0, token: $0) })
        let s0 = try db.createSnapshot(of: "c")
        try await c.upsert((200..<210).map { Self.point($0, token: $0) })
        try await c.delete([.number(3), .number(4)])
        let s1 = try db.createSnapshot(of: "c", incrementalFrom: s0.path)
        try await c.setPayload(["late": true], for: [.number(5), .number(205)])
        try await c.upsert([Self.point(7, token: 9999)])
        let s2 = try db.createSnapshot(of: "c", incrementalFrom: s1.path)
        let full = try db.createSnapshot(of: "c")
        #expect(s2.opNum == full.opNum)
        #expect(s1.baseChecksum == s0.checksum && s2.baseChecksum == s1.checksum)
        // The incrementals leave out the first segment (inherited from s0).
        #expect(
            s1.size < s0.size && s2.size < full.size,
            "sizes: s0 \(s0.size) s1 \(s1.size) s2 \(s2.size) full \(full.size)")
        let manifest = try SnapshotReader(fileSystem: POSIXFileSystem()).readManifest(s2.path)
        #expect(manifest.files.contains { $0.source == .base })

        try db.restoreSnapshot(from: [s0.path, s1.path, s2.path], as: "chain")
        try db.restoreSnapshot(from: [full.path], as: "full")
        let chain = try CollectionState(db.collection("chain"))
        #expect(chain == (try CollectionState(db.collection("full"))))
        #expect(chain == (try CollectionState(c)))
        #expect(chain.points[.number(5)]?.payload?["late"] == true && chain.points[.number(3)] == nil)
        // A chain verifies as a whole.
        let verified = try Database.verifySnapshot(at: [s0.path, s1.path, s2.path])
        #expect(verified.checksums == [s0.checksum, s1.checksum, s2.checksum].compactMap { $0 })

        // An incremental alone, or out of order, is refused with a reason.
        let alone = #expect(throws: StrataError.self) { try db.restoreSnapshot(from: [s2.path], as: "x") }
        #expect(alone?.message.contains("incremental") == true)
        let reordered = #expect(throws: StrataError.self) { try db.restoreSnapshot(from: [s0.path, s2.path], as: "x") }
        #expect(reordered?.message.contains("builds on") == true)
        #expect(!db.collectionNames().contains("x"))
    }

    @Test func restoreOverAnExistingCollectionNeedsOverwriteAndReopensIt() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: CollectionConfig(size: 8, distance: .euclid))
        try await c.upsert((0..<20).map { Self.point($0, token: $0) })
        let snapshot = try db.createSnapshot(of: "c")
        let saved = try CollectionState(c)
        try await c.upsert((0..<30).map { Self.point($0, token: $0 + 100) })
        let changed = try CollectionState(c)

        let refused = #expect(throws: StrataError.self) { try db.restoreSnapshot(from: [snapshot.path]) }
        #expect(refused?.code == .alreadyExists)
        #expect(refused?.message.contains("--force") == true)
        #expect(try CollectionState(db.collection("c")) == changed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/collections") == ["c"])

        let result = try db.restoreSnapshot(from: [snapshot.path], overwrite: true)
        #expect(result.replaced == ["c"])
        #expect(try CollectionState(db.collection("c")) == saved)
        // The old handle is closed; the new one takes writes after the snapshot's op.
        let stale = await #expect(throws: StrataError.self) { try await c.upsert([Self.point(1, token: 5)]) }
        #expect(stale?.code == .closed)
        let written = try await db.collection("c").upsert([Self.point(500, token: 500)])
        #expect(written.operationID == snapshot.opNum! + 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/collections") == ["c"])
    }

    @Test func fullStorageSnapshotRestoresEveryCollectionAndTheAliases() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        let config = CollectionConfig(size: 8, distance: .euclid)
        let a = try db.createCollection("a", config: config)
        let b = try db.createCollection("b", config: config)
        try await a.upsert((0..<10).map { Self.point($0, token: $0) })
        try await b.upsert((0..<5).map { Self.point($0, token: $0 + 50) })
        try db.updateAliases([.create(alias: "latest", collection: "a")])
        let snapshot = try db.createFullSnapshot()
        #expect(snapshot.kind == .full && snapshot.collections == ["a": 1, "b": 1])
        let states = try ["a": CollectionState(a), "b": CollectionState(b)]

        try db.deleteCollection("b")
        try db.createCollection("c", config: config)
        try db.updateAliases([.delete(alias: "latest"), .create(alias: "other", collection: "c")])
        #expect(throws: StrataError.self) { try db.restoreSnapshot(from: [snapshot.path]) }
        try db.restoreSnapshot(from: [snapshot.path], overwrite: true)
        #expect(db.collectionNames() == ["a", "b"])
        for (name, state) in states { #expect(try CollectionState(db.collection(name)) == state) }
        #expect(db.aliases().map(\.alias) == ["latest"])
        db.close()
        let reopened = try Database.open(at: dir.path)
        defer { reopened.close() }
        #expect(reopened.collectionNames() == ["a", "b"])
        #expect(reopened.aliases().map(\.alias) == ["latest"])
        // Incremental full-storage snapshots chain too.
        let next = try reopened.createFullSnapshot(incrementalFrom: snapshot.path)
        #expect(next.baseChecksum == snapshot.checksum)
        _ = try Database.verifySnapshot(at: [snapshot.path, next.path])
    }

    @Test func listDeleteAndChecksumFiles() async throws {
        let dir = TemporaryDirectory()
        let snapshots = dir.path + "-snaps"
        defer { try? FileManager.default.removeItem(atPath: snapshots) }
        let db = try Database.open(at: dir.path, options: DatabaseOptions(snapshotsDirectory: snapshots))
        defer { db.close() }
        let c = try db.createCollection("c", config: CollectionConfig(size: 8, distance: .euclid))
        try await c.upsert((0..<10).map { Self.point($0, token: $0) })
        let first = try db.createSnapshot(of: "c")
        let second = try db.createSnapshot(of: "c")
        #expect(first.path.hasPrefix(snapshots + "/c/"))
        #expect(first.name != second.name)
        // Partial leftovers are never listed.
        try writeFile(snapshots + "/c/c-99990101T000000Z-1.snapshot.tmp", [1, 2, 3])
        let listed = try db.listSnapshots()
        #expect(listed.map(\.name) == [first.name, second.name].sorted())
        for entry in listed {
            #expect(entry.opNum == 1 && entry.kind == .collection && entry.collection == "c" && entry.problem == nil)
            let sidecar = String(decoding: try readFile(entry.path + ".sha256"), as: UTF8.self)
            #expect(sidecar == "\(entry.checksum!)  \(entry.name)\n")
            #expect(entry.checksum == sha256Hex(try readFile(entry.path)))
            #expect(entry.size == UInt64(try readFile(entry.path).count))
        }
        try db.deleteSnapshot(named: first.name)
        #expect(try db.listSnapshots(collection: "c").map(\.name) == [second.name])
        #expect(!FileManager.default.fileExists(atPath: first.path + ".sha256"))
        #expect(throws: StrataError.self) { try db.deleteSnapshot(named: first.name) }
        #expect(throws: StrataError.self) { try db.deleteSnapshot(named: "../c/" + second.name) }
    }

    @Test func standardTarListsAndExtractsTheArchive() async throws {
        let tar = "/usr/bin/tar"
        guard FileManager.default.isExecutableFile(atPath: tar) else { return }
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection(
            "a-collection-with-a-rather-long-name-to-exercise-the-ustar-prefix-field-of-long-paths",
            config: CollectionConfig(size: 8, distance: .euclid))
        try await c.upsert((0..<50).map { Self.point($0, token: $0) })
        try c.flush()
        let snapshot = try db.createFullSnapshot()
        func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tar)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let listing = try run(["-tvf", snapshot.path])
        #expect(listing.status == 0, "\(listing.output)")
        #expect(listing.output.contains("snapshot.json"))
        #expect(listing.output.contains("/segments/seg-00000000000000000001.seg"), "\(listing.output)")
        let manifest = try run(["-xOf", snapshot.path, "snapshot.json"])
        #expect(manifest.status == 0)
        #expect(manifest.output.contains("\"format\" : \"strata-snapshot\""))
    }
}
