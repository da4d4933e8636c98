#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import StrataIO
import StrataTestSupport
import Testing

/// Crash points at every mutating operation, SQLite-style sweeps over them
/// (matrix rows 2, 11, 12), and the counters that tests of group commit use.
@Suite struct CrashPointTests {
    @Test func theCrashPointFailsTheNextMutationAndEverythingAfterIt() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/a", mode: .create)
        fs.crashAfterOperations = fs.operationCount + 2
        try file.write(at: 0, bytes("1"))
        try file.write(at: 1, bytes("2"))
        let error = expectIOError(.io) { try file.write(at: 2, bytes("3")) }
        #expect(error?.message.contains("simulated crash") == true)
        #expect(fs.hasCrashed)
        // Nothing else works, reads included, until the reboot.
        expectIOError(.io) { try file.read(at: 0, count: 1) }
        expectIOError(.io) { try fs.open("/db/a", mode: .readOnly) }
        expectIOError(.io) { try fs.listDirectory("/db") }
        expectIOError(.io) { try fs.lock("/db/LOCK") }
        expectIOError(.io) { try fs.syncDirectory("/db") }
        let later = expectIOError(.io) { try fs.rename("/db/a", to: "/db/b") }
        #expect(later?.message.contains("simulated crash") == true)
        fs.simulatePowerLoss()
        #expect(!fs.hasCrashed)
        #expect(fs.crashAfterOperations == nil)
        try writeFile(fs, "/db/b", bytes("works"))
    }

    @Test func theOperationCountCountsOnlyMutatingOperations() throws {
        let fs = makeFaultFS()
        #expect(fs.operationCount == 0)
        let file = try fs.open("/db/a", mode: .create)  // 1
        try file.write(at: 0, bytes("abc"))  // 2
        try file.truncate(to: 2)  // 3
        try file.sync()  // 4
        try file.dataSync()  // 5
        try fs.syncDirectory("/db")  // 6
        try fs.createDirectory("/db/d")  // 7
        try fs.rename("/db/a", to: "/db/b")  // 8
        let lock = try fs.lock("/db/LOCK")  // 9
        try fs.removeFile("/db/LOCK")  // 10
        try writeFile(fs, "/db/d/x", [])  // 11, 12, 13 (open, truncate, write)
        try fs.removeTree("/db/d")  // 14, 15 (unlink x, rmdir d)
        #expect(fs.operationCount == 15)
        // Reads and lookups are not counted.
        let reader = try fs.open("/db/b", mode: .readOnly)
        _ = try reader.readAll()
        _ = try reader.size()
        _ = try reader.map(offset: 0, length: 2)
        _ = try fs.listDirectory("/db")
        _ = fs.fileKind("/db/b")
        lock.release()
        #expect(fs.operationCount == 15)
    }

    @Test func crashAfterZeroOperationsCrashesTheFirstMutation() throws {
        let fs = makeFaultFS()
        fs.crashAfterOperations = 0
        expectIOError(.io) { try fs.createDirectory("/db/x") }
        fs.simulatePowerLoss()
        #expect(try fs.listDirectory("/db") == [])
    }

    /// Runs `workload` on a file system where `/db/MANIFEST` durably holds "old",
    /// crashing after `k` of the workload's operations (nil: no crash), then
    /// loses power in `mode` and returns what `/db/MANIFEST` holds.
    private func manifestAfterCrash(
        at k: Int?, _ mode: PowerLossMode,
        _ workload: (FaultInjectingFileSystem) throws -> Void
    ) throws -> (content: [UInt8]?, operations: Int) {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/MANIFEST", bytes("old manifest"), sync: true)
        try fs.syncDirectory("/db")
        let setup = fs.operationCount
        if let k { fs.crashAfterOperations = setup + k }
        do { try workload(fs) } catch let error as IOError where error.message.contains("simulated crash") {}
        let operations = fs.operationCount - setup
        fs.simulatePowerLoss(mode)
        return (try contents(fs, "/db/MANIFEST"), operations)
    }

    @Test func aCrashSweepOverWriteAtomicallyAlwaysLeavesTheOldOrTheNewContent() throws {
        let seed = testSeed("writeAtomically crash sweep")
        let new = bytes("the new manifest, longer than the old")
        let workload: (FaultInjectingFileSystem) throws -> Void = { fs in try fs.writeAtomically("/db/MANIFEST", new) }
        let total = try manifestAfterCrash(at: nil, .dropUnsynced, workload).operations
        #expect(total == 5)  // open, write, fsync, rename, directory fsync
        let modes: [PowerLossMode] = [
            .dropUnsynced, .keepUnsyncedPrefix(writes: 100, tornBytes: 0),
            .keepUnsyncedPrefix(writes: 0, tornBytes: 7), .randomTear(seed: seed),
        ]
        var sawNew = false
        for mode in modes {
            for k in 0...total {
                let content = try manifestAfterCrash(at: k, mode, workload).content
                #expect(
                    content == bytes("old manifest") || content == new,
                    "crash after \(k) of \(total) operations, \(mode), seed \(seed): got \(content.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")"
                )
                if content == new { sawNew = true }
            }
        }
        #expect(sawNew)
        // Only the last operation, the directory fsync, makes the new content certain.
        #expect(try manifestAfterCrash(at: total - 1, .dropUnsynced, workload).content == bytes("old manifest"))
        #expect(try manifestAfterCrash(at: total, .dropUnsynced, workload).content == new)
    }

    @Test func aCrashSweepCatchesAnInPlaceRewrite() throws {
        // Rewriting a file in place in two writes, then syncing: a crash between
        // them can leave a mix. The sweep must find that, or it finds nothing.
        let workload: (FaultInjectingFileSystem) throws -> Void = { fs in
            let file = try fs.open("/db/MANIFEST", mode: .readWrite)
            try file.write(at: 0, bytes("NEW "))
            try file.write(at: 4, bytes("MANIFEST"))
            try file.sync()
        }
        let total = try manifestAfterCrash(at: nil, .dropUnsynced, workload).operations
        var mixes = 0
        for k in 0...total {
            for mode: PowerLossMode in [.dropUnsynced, .keepUnsyncedPrefix(writes: 1, tornBytes: 0)] {
                let content = try manifestAfterCrash(at: k, mode, workload).content
                if content != bytes("old manifest") && content != bytes("NEW MANIFEST") { mixes += 1 }
            }
        }
        #expect(mixes > 0)
    }

    @Test func crashingDuringRemoveTreeLeavesAPartlyRemovedTree() throws {
        let fs = makeFaultFS()
        try fs.createDirectory("/db/old/sub")
        for name in ["a", "b", "c"] { try writeFile(fs, "/db/old/\(name)", []) }
        fs.crashAfterOperations = fs.operationCount + 2
        expectIOError(.io) { try fs.removeTree("/db/old") }
        #expect(fs.fileKind("/db/old/c") == .file)
        #expect(fs.fileKind("/db/old/a") == nil)
    }

    // MARK: Counters

    @Test func theStatisticsCountSyncsWritesAndPowerLosses() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/a", mode: .create)
        try file.write(at: 0, bytes("abc"))
        try file.write(at: 3, bytes("de"))
        try file.sync()
        try file.dataSync()
        try file.dataSync()
        try fs.syncDirectory("/db")
        #expect(fs.statistics.syncs == 1)
        #expect(fs.statistics.dataSyncs == 2)
        #expect(fs.syncCount == 3)
        #expect(fs.directorySyncCount == 1)
        #expect(fs.writeCount == 2)
        #expect(fs.statistics.bytesWritten == 5)
        fs.resetStatistics()
        #expect(fs.statistics == FaultInjectingFileSystem.Statistics())
    }

    @Test func concurrentWritersAndSyncsKeepEverySyncedByte() throws {
        let fs = makeFaultFS()
        let threads = 8, perThread = 100
        let paths = (0..<threads).map { "/db/f\($0)" }
        for path in paths { _ = try fs.open(path, mode: .create) }
        try fs.syncDirectory("/db")
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            do {
                let file = try fs.open(paths[thread], mode: .readWrite)
                for i in 0..<perThread {
                    try file.write(at: UInt64(i), [UInt8(truncatingIfNeeded: i)])
                    if i % 10 == 9 { try file.dataSync() }
                }
                try file.write(at: UInt64(perThread), bytes("unsynced tail"))
            } catch {
                failures.increment()
            }
        }
        #expect(failures.value == 0)
        #expect(fs.syncCount == threads * perThread / 10)
        #expect(fs.writeCount == threads * (perThread + 1))
        fs.simulatePowerLoss()
        for path in paths {
            #expect(try contents(fs, path) == (0..<perThread).map { UInt8(truncatingIfNeeded: $0) })
        }
    }

    @Test func aPowerLossRacingWithWritersLeavesAConsistentFileSystem() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/a", mode: .create)
        try fs.syncDirectory("/db")
        try file.write(at: 0, bytes("durable"))
        try file.sync()
        let outcomes = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            if thread == 0 {
                fs.simulatePowerLoss()
                return
            }
            for i in 0..<200 {
                do {
                    try file.write(at: UInt64(7 + i), [1])
                } catch let error as IOError {
                    if error.message.contains("predates a simulated crash") { outcomes.increment() }
                    return
                } catch {
                    return
                }
            }
        }
        #expect(try contents(fs, "/db/a") == bytes("durable"))
        #expect(outcomes.value <= 3)
    }
}
