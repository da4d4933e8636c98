import Foundation
import Strata
import StrataCrashTest
import StrataIO
import StrataTestSupport
import Testing

/// Engine-level fault tests on the in-memory fault-injecting file system: what
/// the store promises (docs/durability.md) under power loss, fsync failure and a
/// full disk.
@Suite struct FaultInjectionTests {
    let root = "/data"
    let config = CollectionConfig(size: 8, distance: .euclid)

    func point(_ id: Int) -> PointStruct {
        PointStruct(
            id: .number(UInt64(id)), vector: (0..<8).map { Float(id * 8 + $0) }, payload: ["n": .int(Int64(id))])
    }

    func ids(_ collection: Collection) throws -> Set<Int> {
        Set(
            try collection.scroll(limit: .max).points.compactMap { record -> Int? in
                guard case .number(let n) = record.id else { return nil }
                return Int(n)
            })
    }

    @Test func powerLossKeepsEveryAcknowledgedWrite() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let db = try Database.open(at: root, fileSystem: fs)
        let c = try db.createCollection("c", config: config)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for i in 0..<25 { try await c.upsert([point(writer * 100 + i)]) }
                }
            }
            try await group.waitForAll()
        }
        try await c.delete([.number(3)])
        fs.simulatePowerLoss(.dropUnsynced)
        db.close()

        let reopened = try Database.open(at: root, fileSystem: fs)
        defer { reopened.close() }
        let recovered = try reopened.collection("c")
        var expected = Set((0..<8).flatMap { w in (0..<25).map { w * 100 + $0 } })
        expected.remove(3)
        #expect(try ids(recovered) == expected)
        #expect(try recovered.retrieve([.number(101)], withVector: true).first?.vectors?[""] == point(101).vectors[""])
    }

    @Test func powerLossInPeriodicModeRecoversAPrefixWithNoHoles() async throws {
        for seed: UInt64 in 1...12 {
            let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
            let options = DatabaseOptions(durability: .periodic(milliseconds: 60_000))
            let db = try Database.open(at: root, options: options, fileSystem: fs)
            let c = try db.createCollection("c", config: config)
            // Made durable by the create (directory and file syncs); then one write per op.
            for i in 0..<40 { try await c.upsert([point(i)]) }
            fs.simulatePowerLoss(.randomTear(seed: seed))
            db.close()
            let reopened = try Database.open(at: root, options: options, fileSystem: fs)
            let present = try ids(reopened.collection("c"))
            // Op i+1 wrote point i: a prefix means points 0..<k for some k.
            #expect(present == Set(0..<present.count), "seed \(seed): recovered \(present.sorted()) is not a prefix")
            reopened.close()
        }
    }

    @Test func failedFsyncStopsWritesAndSaysWhy() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let db = try Database.open(at: root, fileSystem: fs)
        let c = try db.createCollection("c", config: config)
        try await c.upsert([point(1)])
        fs.failSyncs(mode: .once)
        let first = await #expect(throws: StrataError.self) { try await c.upsert([point(2)]) }
        #expect(first?.code == .failed)
        #expect(first?.message.contains("fdatasync") == true)
        // The fault is gone, but the store must not pretend: writes stay refused.
        let second = await #expect(throws: StrataError.self) { try await c.upsert([point(3)]) }
        #expect(second?.code == .failed)
        #expect(c.count() == 1)  // reads keep working; the unacknowledged write is not visible
        db.close()

        let reopened = try Database.open(at: root, fileSystem: fs)
        defer { reopened.close() }
        let recovered = try reopened.collection("c")
        let present = try ids(recovered)
        #expect(present.contains(1))
        #expect(!present.contains(3))
        try await recovered.upsert([point(4)])  // writable again after reopen
        #expect(try ids(recovered).contains(4))
    }

    @Test func diskFullFailsTheWriteCleanlyAndWritesResumeWhenSpaceReturns() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let db = try Database.open(at: root, fileSystem: fs)
        let c = try db.createCollection("c", config: config)
        for i in 0..<10 { try await c.upsert([point(i)]) }
        fs.capacityBytes = fs.usedBytes + 100  // room for less than one more batch
        let big = (100..<150).map(point)
        let error = await #expect(throws: StrataError.self) { try await c.upsert(big) }
        #expect(error?.code == .resourceExhausted)
        #expect(c.count() == 10)
        fs.capacityBytes = nil
        try await c.upsert(big)
        #expect(c.count() == 60)
        db.close()

        let reopened = try Database.open(at: root, fileSystem: fs)
        defer { reopened.close() }
        #expect(try ids(reopened.collection("c")) == Set(0..<10).union(100..<150))
    }

    /// Runs `workload` once to count its file-system operations, then again with
    /// a simulated crash at every one of them, followed by power loss (dropping
    /// unsynced data, and tearing it at random); after each it reopens the
    /// store and hands `check` what the workload knew, the collection "c" (nil
    /// if it does not exist) and a description of the crash point. Returns the
    /// number of operations, the outcome of the uninterrupted run and its file
    /// system.
    @discardableResult
    func sweepCrashPoints<Outcome>(
        workload: (FaultInjectingFileSystem) async -> Outcome,
        check: (Outcome, Collection?, String) throws -> Void
    ) async throws -> (total: Int, complete: Outcome, counter: FaultInjectingFileSystem) {
        let counter = FaultInjectingFileSystem(durableDirectories: ["/"])
        let complete = await workload(counter)
        let total = counter.operationCount
        for crashPoint in 1...total {
            for mode in [PowerLossMode.dropUnsynced, .randomTear(seed: UInt64(crashPoint))] {
                let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
                fs.crashAfterOperations = crashPoint
                let outcome = await workload(fs)
                fs.simulatePowerLoss(mode)
                let context = "crash point \(crashPoint)/\(total), \(mode)"
                let db: Database
                do {
                    db = try Database.open(at: root, fileSystem: fs)
                } catch {
                    Issue.record("\(context): reopening failed: \(error)")
                    continue
                }
                defer { db.close() }
                try check(outcome, db.collectionNames().contains("c") ? try db.collection("c") : nil, context)
            }
        }
        return (total, complete, counter)
    }

    @Test func crashAtEveryFileSystemOperationRecoversAcknowledgedWrites() async throws {
        /// What the workload knows when it stops: acknowledged points, and the
        /// one operation (if any) that was in flight when the crash hit.
        struct Outcome {
            var acked = Set<Int>()
            var inFlightUpsert: Int?
            var inFlightDelete: Int?
        }
        // Sequential upserts and deletes, with tiny WAL files so rotation happens.
        func workload(_ fs: FaultInjectingFileSystem) async -> Outcome {
            var outcome = Outcome()
            do {
                let db = try Database.open(at: root, options: DatabaseOptions(walFileSize: 600), fileSystem: fs)
                defer { db.close() }
                let c = try db.createCollection("c", config: config)
                for i in 0..<12 {
                    outcome.inFlightUpsert = i
                    try await c.upsert([point(i)])
                    outcome.acked.insert(i)
                    outcome.inFlightUpsert = nil
                    if i % 4 == 3 {
                        outcome.inFlightDelete = i - 1
                        try await c.delete([.number(UInt64(i - 1))])
                        outcome.acked.remove(i - 1)
                        outcome.inFlightDelete = nil
                    }
                }
            } catch {
                // The simulated crash: everything after it fails.
            }
            return outcome
        }
        let sweep = try await sweepCrashPoints(workload: workload) { outcome, collection, context in
            guard let collection else {
                #expect(
                    outcome.acked.isEmpty,
                    "\(context): collection missing but \(outcome.acked.count) writes were acknowledged")
                return
            }
            let present = try ids(collection)
            let lost = outcome.acked.subtracting(present).subtracting([outcome.inFlightDelete].compactMap { $0 })
            let phantom = present.subtracting(outcome.acked).subtracting([outcome.inFlightUpsert].compactMap { $0 })
            #expect(lost.isEmpty, "\(context): acknowledged points lost: \(lost.sorted())")
            #expect(
                phantom.isEmpty,
                "\(context): points present that were never acknowledged nor in flight: \(phantom.sorted())")
        }
        #expect(sweep.complete.acked.count == 9)
        #expect(sweep.total > 20)
    }

    /// Power loss at every file-system operation of a workload that flushes,
    /// copies on write, merges and vacuums: every publish step (segment file,
    /// tombstone file, manifest rename, directory syncs, WAL truncation,
    /// removal of merged-away files) is a crash point.
    @Test func crashAtEveryStepOfFlushAndMergeKeepsAcknowledgedWrites() async throws {
        struct Outcome {
            var acked = Set<Int>()
            var inFlight: Int?
            var copyOnWriteAcked = false
            var copyOnWriteInFlight = false
        }
        let lsmConfig = CollectionConfig(
            size: 8, distance: .euclid,
            optimizers: OptimizersConfig(
                deletedThreshold: 0.2, vacuumMinVectorNumber: 2, defaultSegmentNumber: 2,
                indexingThresholdKB: 1 << 20, flushIntervalSec: 3600))
        func workload(_ fs: FaultInjectingFileSystem) async -> Outcome {
            var outcome = Outcome()
            do {
                let db = try Database.open(at: root, options: DatabaseOptions(walFileSize: 400), fileSystem: fs)
                defer { db.close() }
                let c = try db.createCollection("c", config: lsmConfig)
                for i in 0..<12 {
                    outcome.inFlight = i
                    try await c.upsert([point(i)])
                    outcome.acked.insert(i)
                    outcome.inFlight = nil
                    if i % 3 == 2 { try c.flush() }
                    if i == 4 {
                        outcome.copyOnWriteInFlight = true
                        try await c.setPayload(["cow": true], for: [.number(1)])
                        outcome.copyOnWriteAcked = true
                        outcome.copyOnWriteInFlight = false
                    }
                    if i == 7 {
                        outcome.inFlight = -2
                        try await c.delete([.number(2)])
                        outcome.acked.remove(2)
                        outcome.inFlight = nil
                    }
                }
                try c.optimize()
            } catch {
                // The simulated crash.
            }
            return outcome
        }
        let sweep = try await sweepCrashPoints(workload: workload) { outcome, collection, context in
            guard let c = collection else {
                #expect(outcome.acked.isEmpty, "\(context): collection missing")
                return
            }
            let present = try ids(c)
            var lost = outcome.acked.subtracting(present)
            var phantom = present.subtracting(outcome.acked)
            if let inFlight = outcome.inFlight {
                if inFlight == -2 { lost.remove(2) } else { phantom.remove(inFlight) }
            }
            #expect(lost.isEmpty, "\(context): acknowledged points lost: \(lost.sorted())")
            #expect(phantom.isEmpty, "\(context): phantom points: \(phantom.sorted())")
            #expect(c.count() == present.count, "\(context): count disagrees with scroll")
            if outcome.copyOnWriteAcked, present.contains(1) {
                #expect(
                    try c.retrieve([.number(1)]).first?.payload?["cow"] == true,
                    "\(context): acknowledged payload update lost")
            }
            if !outcome.copyOnWriteAcked && !outcome.copyOnWriteInFlight, present.contains(1) {
                #expect(
                    try c.retrieve([.number(1)]).first?.payload?["cow"] == nil, "\(context): phantom payload update")
            }
            #expect(c.verify().isEmpty, "\(context): verify found problems")
        }
        #expect(sweep.complete.acked.count == 11 && sweep.complete.copyOnWriteAcked)
        let db = try Database.open(at: root, fileSystem: sweep.counter)
        defer { db.close() }
        let info = try db.collection("c").storageInfo
        #expect(info.segments.count <= 2 && info.checkpoint > 0, "the workload should flush and merge: \(info)")
    }

    /// Writes points 0..<5 (one op each) to collection "c" on the real file
    /// system and returns the path of its WAL file. No background flush may
    /// checkpoint them (on a loaded machine the default 5 s interval can pass):
    /// the tests damage records that must still be the only copy.
    func writeFivePoints(in path: String) async throws -> String {
        let db = try Database.open(at: path)
        var unflushed = config
        unflushed.optimizers.flushIntervalSec = 3600
        let c = try db.createCollection("c", config: unflushed)
        for i in 0..<5 { try await c.upsert([point(i)]) }
        db.close()
        let walDir = path + "/collections/c/wal"
        return walDir + "/" + (try FileManager.default.contentsOfDirectory(atPath: walDir).sorted().first!)
    }

    @Test func damagedSyncedWALDataIsReportedWithFileAndOffset() async throws {
        let dir = TemporaryDirectory()
        let walFile = try await writeFivePoints(in: dir.path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: walFile))
        bytes[32 + 30] ^= 0x40  // inside the first record's payload
        try bytes.write(to: URL(fileURLWithPath: walFile))
        let error = #expect(throws: StrataError.self) { try Database.open(at: dir.path) }
        #expect(error?.code == .corruption)
        #expect(error?.message.contains(walFile) == true)
        #expect(error?.message.contains("offset 32") == true)
    }

    /// config.json has no checksum; a flip that turns the vector size into
    /// another valid one must not make the store read segments or replay the
    /// WAL with the wrong dimension (found by CorruptionSweepTests).
    @Test(arguments: [true, false])
    func configWithAnotherVectorSizeIsRefusedAtOpen(flushed: Bool) async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            var unflushed = config
            unflushed.optimizers.flushIntervalSec = 3600
            let c = try db.createCollection("c", config: unflushed)
            for i in 0..<5 { try await c.upsert([point(i)]) }
            if flushed { try c.flush() }
            db.close()
        }
        let path = dir.path + "/collections/c/config.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"size\" : 8", with: "\"size\" : 9").write(
            toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: StrataError.self) { try Database.open(at: dir.path) }
        #expect(error?.code == .corruption && error?.message.contains(path) == true, "\(String(describing: error))")
        #expect(error?.message.contains(flushed ? ".seg" : "WAL") == true, "\(String(describing: error))")
    }

    @Test func tornTailIsCutAndEarlierWritesSurvive() async throws {
        let dir = TemporaryDirectory()
        let walFile = try await writeFivePoints(in: dir.path)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: walFile))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 10)
        try handle.close()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(try ids(c) == Set(0..<4))
        #expect(c.recoveryReport.cutTail != nil)
        try await c.upsert([point(9)])
        #expect(try c.retrieve([.number(9)]).count == 1)
    }
}
