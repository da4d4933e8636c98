#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO
import Testing

/// Injected faults: failing syncs (matrix row 9), a full disk and arbitrary
/// errors (row 10), bit flips and stored corruption (rows 7, 8).
@Suite struct FaultInjectionTests {
    // MARK: Failing syncs

    @Test func failedFsyncDoesNotMakeDataDurable() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/wal", mode: .create)
        try fs.syncDirectory("/db")
        try file.write(at: 0, bytes("record"))
        fs.failSyncs(mode: .once)
        let error = expectIOError(.io) { try file.sync() }
        #expect(error?.errno == EIO)
        // The bytes are still in the page cache...
        #expect(try file.readAll() == bytes("record"))
        // ...but not on disk.
        #expect(fs.durableContents(of: "/db/wal") == [])
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/wal") == [])
    }

    @Test func aRetriedSyncAfterAFailureDoesNotPersistTheLostWrites() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/wal", mode: .create)
        try fs.syncDirectory("/db")
        try file.write(at: 0, bytes("lost"))
        fs.failSyncs(mode: .once)
        expectIOError(.io) { try file.dataSync() }
        try file.dataSync()  // succeeds, as on Linux, and means nothing for "lost"
        try file.write(at: 4, bytes("+kept"))
        try file.sync()
        fs.simulatePowerLoss()
        // Only the write after the failure reached the disk; the gap reads as zeros.
        #expect(try contents(fs, "/db/wal") == [0, 0, 0, 0] + bytes("+kept"))
    }

    @Test func failSyncsOnceFailsOnlyTheNextSync() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/a", mode: .create)
        fs.failSyncs(mode: .once)
        expectIOError(.io) { try file.sync() }
        try file.sync()
        try file.dataSync()
        #expect(fs.statistics.failedSyncs == 1)
        #expect(fs.syncCount == 2)
    }

    @Test func failSyncsAlwaysFailsSyncAndDataSyncUntilCleared() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/a", mode: .create)
        fs.failSyncs(mode: .always)
        for _ in 0..<3 {
            expectIOError(.io) { try file.sync() }
            expectIOError(.io) { try file.dataSync() }
        }
        try fs.syncDirectory("/db")  // directory syncs are a separate operation
        fs.clearInjectedErrors()
        try file.sync()
        #expect(fs.statistics.failedSyncs == 6)
    }

    @Test func failSyncsCanReportNoSpaceAndTargetOnePath() throws {
        let fs = makeFaultFS()
        let wal = try fs.open("/db/wal", mode: .create)
        let other = try fs.open("/db/other", mode: .create)
        fs.failSyncs(mode: .always, code: .noSpace, pathContains: "wal")
        let error = expectIOError(.noSpace) { try wal.dataSync() }
        #expect(error?.errno == ENOSPC)
        try other.dataSync()
        fs.clearInjectedErrors(for: .sync)
        try wal.dataSync()
    }

    // MARK: Disk full

    @Test func diskFullWritesPartialThenThrowsENOSPC() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/other", [UInt8](repeating: 9, count: 60))
        fs.capacityBytes = 100
        let file = try fs.open("/db/wal", mode: .create)
        try file.write(at: 0, [UInt8](repeating: 1, count: 30))
        let error = expectIOError(.noSpace) { try file.write(at: 30, [UInt8](repeating: 2, count: 25)) }
        #expect(error?.errno == ENOSPC)
        #expect(error?.message.contains("10 of 25 bytes") == true)
        #expect(try file.size() == 40)
        #expect(try file.read(at: 30, count: 10) == [UInt8](repeating: 2, count: 10))
        #expect(fs.usedBytes == 100)
        expectIOError(.noSpace) { try file.write(at: 40, [1]) }
        #expect(try file.size() == 40)
    }

    @Test func aZeroFilledGapUsesSpaceToo() throws {
        let fs = makeFaultFS()
        fs.capacityBytes = 10
        let file = try fs.open("/db/a", mode: .create)
        expectIOError(.noSpace) { try file.write(at: 20, bytes("x")) }
        #expect(try file.size() == 0)
        expectIOError(.noSpace) { try file.write(at: 8, bytes("xyz")) }
        #expect(try file.readAll() == [0, 0, 0, 0, 0, 0, 0, 0] + bytes("xy"))
    }

    @Test func overwritingInPlaceNeedsNoFreeSpace() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/a", [UInt8](repeating: 0, count: 50))
        fs.capacityBytes = 50
        let file = try fs.open("/db/a", mode: .readWrite)
        try file.write(at: 10, [UInt8](repeating: 7, count: 40))
        expectIOError(.noSpace) { try file.write(at: 45, [UInt8](repeating: 8, count: 10)) }
        #expect(try file.read(at: 45, count: 5) == [8, 8, 8, 8, 8])
    }

    @Test func writesResumeAfterSpaceIsFreedOrTheLimitIsLifted() throws {
        let fs = makeFaultFS()
        fs.capacityBytes = 100
        try writeFile(fs, "/db/junk", [UInt8](repeating: 1, count: 80))
        let file = try fs.open("/db/wal", mode: .create)
        expectIOError(.noSpace) { try file.write(at: 0, [UInt8](repeating: 2, count: 30)) }
        try file.truncate(to: 0)
        try fs.open("/db/junk", mode: .readWrite).truncate(to: 50)
        try file.write(at: 0, [UInt8](repeating: 2, count: 30))
        expectIOError(.noSpace) { try file.write(at: 30, [UInt8](repeating: 2, count: 30)) }
        try fs.removeFile("/db/junk")
        try file.write(at: 30, [UInt8](repeating: 2, count: 30))
        fs.capacityBytes = nil
        try file.write(at: 60, [UInt8](repeating: 2, count: 1_000))
        #expect(fs.usedBytes == 1_060)
    }

    @Test func replacingAFileByRenameFreesTheReplacedBytes() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/MANIFEST", [UInt8](repeating: 1, count: 60))
        try writeFile(fs, "/db/MANIFEST.tmp", [UInt8](repeating: 2, count: 30))
        #expect(fs.usedBytes == 90)
        try fs.rename("/db/MANIFEST.tmp", to: "/db/MANIFEST")
        #expect(fs.usedBytes == 30)
        try fs.removeTree("/db")
        #expect(fs.usedBytes == 0)
    }

    // MARK: Injected errors

    /// Performs `operation` once on a prepared tree (`/db/f` exists with 8
    /// bytes, `/db/d` is a directory); each call can be repeated.
    private func perform(
        _ operation: FaultOperation, _ fs: FaultInjectingFileSystem, _ file: any StorageFile, _ i: Int
    ) throws {
        switch operation {
        case .open: _ = try fs.open("/db/f", mode: .readOnly)
        case .read: _ = try file.read(at: 0, count: 4)
        case .write: try file.write(at: 0, bytes("w"))
        case .truncate: try file.truncate(to: 8)
        case .sync: try file.sync()
        case .syncDirectory: try fs.syncDirectory("/db")
        case .rename: try fs.rename("/db/f", to: "/db/f")
        case .remove:
            try writeFile(fs, "/db/r\(i)", [])
            try fs.removeFile("/db/r\(i)")
        case .map: _ = try file.map(offset: 0, length: 8)
        case .createDirectory: try fs.createDirectory("/db/d")
        case .list: _ = try fs.listDirectory("/db")
        case .lock: try fs.lock("/db/f").release()
        }
    }

    @Test(arguments: FaultOperation.allCases)
    func anInjectedErrorFailsTheCallAfterTheGivenHitsOnce(_ operation: FaultOperation) throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/f", bytes("01234567"))
        try fs.createDirectory("/db/d")
        let file = try fs.open("/db/f", mode: .readWrite)
        fs.injectError(operation, afterHits: 2, mode: .once, errno: EACCES)
        try perform(operation, fs, file, 0)
        try perform(operation, fs, file, 1)
        let error = expectIOError(.permissionDenied) { try perform(operation, fs, file, 2) }
        #expect(error?.errno == EACCES)
        #expect(error?.message.contains("injected fault") == true)
        try perform(operation, fs, file, 3)
        try perform(operation, fs, file, 4)
    }

    @Test(arguments: FaultOperation.allCases)
    func anAlwaysInjectedErrorKeepsFailingUntilCleared(_ operation: FaultOperation) throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/f", bytes("01234567"))
        try fs.createDirectory("/db/d")
        let file = try fs.open("/db/f", mode: .readWrite)
        fs.injectError(operation, mode: .always, errno: EIO)
        for i in 0..<3 {
            expectIOError(.io) { try perform(operation, fs, file, i) }
        }
        fs.clearInjectedErrors()
        try perform(operation, fs, file, 9)
    }

    @Test func anInjectedErrorMatchesOnlyPathsContainingItsText() throws {
        let fs = makeFaultFS()
        fs.injectError(.open, pathContains: ".seg", mode: .always, errno: EMFILE)
        _ = try fs.open("/db/wal.log", mode: .create)
        expectIOError(.other) { try fs.open("/db/0001.seg", mode: .create) }
        #expect(fs.fileKind("/db/0001.seg") == nil)
    }

    @Test func aRenameRuleMatchesTheDestinationToo() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/tmp", [])
        fs.injectError(.rename, pathContains: "MANIFEST", mode: .once, errno: EIO)
        expectIOError(.io) { try fs.rename("/db/tmp", to: "/db/MANIFEST") }
        #expect(fs.fileKind("/db/tmp") == .file)
        #expect(fs.fileKind("/db/MANIFEST") == nil)
    }

    @Test func failedOperationsHaveNoEffect() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/f", bytes("original"))
        let file = try fs.open("/db/f", mode: .readWrite)
        for operation in FaultOperation.allCases { fs.injectError(operation, mode: .always, errno: EIO) }
        expectIOError(.io) { try fs.open("/db/new", mode: .create) }
        expectIOError(.io) { try file.write(at: 0, bytes("changed")) }
        expectIOError(.io) { try file.truncate(to: 0) }
        expectIOError(.io) { try fs.removeFile("/db/f") }
        expectIOError(.io) { try fs.removeTree("/db") }
        expectIOError(.io) { try fs.createDirectory("/db/sub") }
        expectIOError(.io) { try fs.rename("/db/f", to: "/db/g") }
        fs.clearInjectedErrors()
        #expect(try fs.listDirectory("/db") == ["f"])
        #expect(try file.readAll() == bytes("original"))
    }

    // MARK: Corruption

    @Test func aBitFlipOnReadChangesTheReturnedBytesButNotTheStoredData() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/seg-1", bytes("ABCDEFGH"), sync: true)
        try writeFile(fs, "/db/wal", bytes("ABCDEFGH"))
        fs.flipBitsOnRead(pathContains: "seg", atOffset: 2, mask: 0x01)
        let file = try fs.open("/db/seg-1", mode: .readOnly)
        #expect(try file.readAll() == bytes("ABBDEFGH"))
        #expect(try file.read(at: 2, count: 1) == bytes("B"))
        #expect(try file.read(at: 3, count: 5) == bytes("DEFGH"))
        let region = try file.map(offset: 1, length: 3)
        #expect(region.withUnsafeBytes { Array($0) } == bytes("BBD"))
        #expect(try contents(fs, "/db/wal") == bytes("ABCDEFGH"))
        #expect(fs.durableContents(of: "/db/seg-1") == bytes("ABCDEFGH"))
        fs.clearBitFlips()
        #expect(try file.readAll() == bytes("ABCDEFGH"))
    }

    @Test func corruptStoredByteChangesReadsAndSurvivesPowerLoss() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/seg", bytes("ABCDEFGH"), sync: true)
        try fs.syncDirectory("/db")
        try fs.corruptStoredByte(path: "/db/seg", offset: 7, xor: 0xFF)
        let expected = bytes("ABCDEFG") + [UInt8(ascii: "H") ^ 0xFF]
        #expect(try contents(fs, "/db/seg") == expected)
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/seg") == expected)
    }

    @Test func corruptingAByteOfAnUnsyncedWriteSurvivesItsSync() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/wal", mode: .create)
        try fs.syncDirectory("/db")
        try file.write(at: 0, bytes("abc"))
        try fs.corruptStoredByte(path: "/db/wal", offset: 1, xor: 0x20)
        try file.sync()
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/wal") == bytes("aBc"))
    }

    @Test func corruptingOutsideTheFileThrows() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/seg", bytes("AB"))
        expectIOError(.shortRead) { try fs.corruptStoredByte(path: "/db/seg", offset: 2, xor: 1) }
        expectIOError(.notFound) { try fs.corruptStoredByte(path: "/db/none", offset: 0, xor: 1) }
    }

    @Test func clearAllFaultsLiftsEveryFault() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/f", bytes("ab"))
        fs.injectError(.read, mode: .always, errno: EIO)
        fs.flipBitsOnRead(pathContains: "f", atOffset: 0, mask: 1)
        fs.capacityBytes = 0
        fs.crashAfterOperations = fs.operationCount + 100
        fs.clearAllFaults()
        let file = try fs.open("/db/f", mode: .readWrite)
        try file.write(at: 2, bytes("c"))
        #expect(try file.readAll() == bytes("abc"))
        #expect(fs.crashAfterOperations == nil)
    }
}
