#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO
import StrataTestSupport
import Testing

/// What survives `simulatePowerLoss`: synced bytes and synced directory entries,
/// nothing else (crash-test matrix rows 3, 4 and 5).
@Suite struct PowerLossTests {
    @Test func powerLossDropsUnsyncedWrites() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/a", bytes("synced"), sync: true)
        try fs.syncDirectory("/db")
        let file = try fs.open("/db/a", mode: .readWrite)
        try file.write(at: 6, bytes(" and more"))
        try file.write(at: 0, bytes("S"))
        #expect(try file.readAll() == bytes("Synced and more"))
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/a") == bytes("synced"))
    }

    @Test func powerLossKeepsBytesMadeDurableBySyncOrDataSync() throws {
        let fs = makeFaultFS()
        let a = try fs.open("/db/a", mode: .create)
        let b = try fs.open("/db/b", mode: .create)
        try fs.syncDirectory("/db")
        try a.write(at: 0, bytes("fsynced"))
        try a.sync()
        try b.write(at: 0, bytes("fdatasynced"))
        try b.dataSync()
        try a.truncate(to: 2)
        try b.write(at: 11, bytes("-lost"))
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/a") == bytes("fsynced"))
        #expect(try contents(fs, "/db/b") == bytes("fdatasynced"))
    }

    @Test func aSyncThroughAnyHandleMakesTheWholeFileDurable() throws {
        let fs = makeFaultFS()
        let writer = try fs.open("/db/a", mode: .create)
        try fs.syncDirectory("/db")
        try writer.write(at: 0, bytes("written by one handle"))
        try fs.open("/db/a", mode: .readOnly).sync()
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/a") == bytes("written by one handle"))
    }

    @Test func aNewFileIsLostWithoutADirectorySync() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/new", bytes("data"), sync: true)
        #expect(fs.durableContents(of: "/db/new") == bytes("data"))
        fs.simulatePowerLoss()
        #expect(fs.fileKind("/db/new") == nil)
        #expect(try fs.listDirectory("/db") == [])
    }

    @Test func aNewFileSurvivesWhenItsDirectoryIsSynced() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/new", bytes("data"), sync: true)
        try fs.syncDirectory("/db")
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/new") == bytes("data"))
    }

    @Test func aSyncedDirectoryEntryWithUnsyncedDataSurvivesEmpty() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/new", mode: .createNew)
        try fs.syncDirectory("/db")
        try file.write(at: 0, bytes("never synced"))
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/new") == [])
    }

    @Test func renameIsLostWithoutDirectorySync() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/CURRENT", bytes("old"), sync: true)
        try writeFile(fs, "/db/CURRENT.tmp", bytes("new"), sync: true)
        try fs.syncDirectory("/db")
        try fs.rename("/db/CURRENT.tmp", to: "/db/CURRENT")
        #expect(try contents(fs, "/db/CURRENT") == bytes("new"))
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/CURRENT") == bytes("old"))
        #expect(try contents(fs, "/db/CURRENT.tmp") == bytes("new"))
    }

    @Test func renameSurvivesADirectorySync() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/CURRENT", bytes("old"), sync: true)
        try fs.syncDirectory("/db")
        try fs.writeAtomically("/db/CURRENT", bytes("new"))
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/CURRENT") == bytes("new"))
        #expect(try fs.listDirectory("/db") == ["CURRENT"])
    }

    @Test func aRenameBetweenDirectoriesNeedsBothDirectoriesSynced() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/db/a", "/db/b"])
        try writeFile(fs, "/db/a/f", bytes("f"), sync: true)
        try fs.syncDirectory("/db/a")
        try fs.rename("/db/a/f", to: "/db/b/f")
        try fs.syncDirectory("/db/b")
        fs.simulatePowerLoss()
        // Only the destination was synced: the file shows up under both names.
        #expect(try contents(fs, "/db/a/f") == bytes("f"))
        #expect(try contents(fs, "/db/b/f") == bytes("f"))
    }

    @Test func removalIsUndoneWithoutDirectorySync() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/old-segment", bytes("segment"), sync: true)
        try fs.syncDirectory("/db")
        try fs.removeFile("/db/old-segment")
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/old-segment") == bytes("segment"))
        try fs.removeFile("/db/old-segment")
        try fs.syncDirectory("/db")
        fs.simulatePowerLoss()
        #expect(fs.fileKind("/db/old-segment") == nil)
    }

    @Test func aRemovedTreeComesBackWithoutDirectorySync() throws {
        let fs = makeFaultFS()
        try fs.createDirectoryDurably("/db/snap")
        try writeFile(fs, "/db/snap/f", bytes("x"), sync: true)
        try fs.syncDirectory("/db/snap")
        try fs.removeTree("/db/snap")
        #expect(fs.fileKind("/db/snap") == nil)
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/snap/f") == bytes("x"))
    }

    @Test func aNewDirectoryDisappearsWithItsContentsUnlessItsParentIsSynced() throws {
        let fs = makeFaultFS()
        try fs.createDirectory("/db/segments")
        try writeFile(fs, "/db/segments/s1", bytes("s1"), sync: true)
        try fs.syncDirectory("/db/segments")  // the entry of s1 is durable, but not segments' own
        fs.simulatePowerLoss()
        #expect(fs.fileKind("/db/segments") == nil)
        #expect(try fs.listDirectory("/db") == [])

        try fs.createDirectoryDurably("/db/segments")
        try writeFile(fs, "/db/segments/s1", bytes("s1"), sync: true)
        try fs.syncDirectory("/db/segments")
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/segments/s1") == bytes("s1"))
    }

    @Test func createDirectoryWithParentsNeedsEachParentSynced() throws {
        let fs = makeFaultFS()
        try fs.createDirectory("/db/a/b/c")
        try fs.syncDirectory("/db/a/b")
        try fs.syncDirectory("/db/a")
        fs.simulatePowerLoss()
        #expect(fs.fileKind("/db/a") == nil)
    }

    @Test func durableDirectoriesGivenAtCreationSurvivePowerLoss() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/data/db", "/data/other"])
        fs.simulatePowerLoss()
        #expect(fs.fileKind("/data/db") == .directory)
        #expect(try fs.listDirectory("/data") == ["db", "other"])
        #expect(try fs.listDirectory("/") == ["data"])
    }

    @Test func theRootEntriesNeedARootSyncLikeAnyDirectory() throws {
        let fs = FaultInjectingFileSystem()
        try fs.createDirectoryDurably("/y")
        try fs.createDirectory("/x")
        fs.simulatePowerLoss()
        #expect(try fs.listDirectory("/") == ["y"])
    }

    @Test func keepUnsyncedPrefixKeepsWholeWritesThenTearsTheNext() throws {
        func run(_ mode: PowerLossMode) throws -> [UInt8]? {
            let fs = makeFaultFS()
            let file = try fs.open("/db/wal", mode: .create)
            try file.write(at: 0, bytes("base"))
            try file.sync()
            try fs.syncDirectory("/db")
            try file.write(at: 4, bytes("AAAA"))
            try file.write(at: 8, bytes("BBBB"))
            try file.write(at: 12, bytes("CCCC"))
            #expect(fs.unsyncedChangeCount(of: "/db/wal") == 3)
            fs.simulatePowerLoss(mode)
            return try contents(fs, "/db/wal")
        }
        #expect(try run(.keepUnsyncedPrefix(writes: 0, tornBytes: 0)) == bytes("base"))
        #expect(try run(.keepUnsyncedPrefix(writes: 0, tornBytes: 2)) == bytes("baseAA"))
        #expect(try run(.keepUnsyncedPrefix(writes: 1, tornBytes: 0)) == bytes("baseAAAA"))
        #expect(try run(.keepUnsyncedPrefix(writes: 2, tornBytes: 3)) == bytes("baseAAAABBBBCCC"))
        #expect(try run(.keepUnsyncedPrefix(writes: 3, tornBytes: 0)) == bytes("baseAAAABBBBCCCC"))
        #expect(try run(.keepUnsyncedPrefix(writes: 99, tornBytes: 99)) == bytes("baseAAAABBBBCCCC"))
        #expect(try run(.dropUnsynced) == bytes("base"))
    }

    @Test func aTornWriteInsideTheFileOverwritesOnlyItsPrefix() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/page", bytes("0123456789"), sync: true)
        try fs.syncDirectory("/db")
        try fs.open("/db/page", mode: .readWrite).write(at: 2, bytes("abcdef"))
        fs.simulatePowerLoss(.keepUnsyncedPrefix(writes: 0, tornBytes: 3))
        #expect(try contents(fs, "/db/page") == bytes("01abc56789"))
    }

    @Test func keepUnsyncedPrefixReplaysTruncationsInOrder() throws {
        func run(_ writes: Int, _ torn: Int) throws -> [UInt8]? {
            let fs = makeFaultFS()
            try writeFile(fs, "/db/f", bytes("0123456789"), sync: true)
            try fs.syncDirectory("/db")
            let file = try fs.open("/db/f", mode: .readWrite)
            try file.truncate(to: 3)
            try file.write(at: 5, bytes("xy"))
            fs.simulatePowerLoss(.keepUnsyncedPrefix(writes: writes, tornBytes: torn))
            return try contents(fs, "/db/f")
        }
        #expect(try run(0, 5) == bytes("0123456789"))  // a truncation is never torn
        #expect(try run(1, 0) == bytes("012"))
        #expect(try run(1, 1) == bytes("012") + [0, 0] + bytes("x"))
        #expect(try run(2, 0) == bytes("012") + [0, 0] + bytes("xy"))
    }

    @Test func randomTearIsDeterministicPerSeedAndAlwaysKeepsAPrefixOfTheWrites() throws {
        let seed = testSeed("randomTear")
        var generator = SeededGenerator(seed: seed)
        let writes: [(offset: Int, data: [UInt8])] = (0..<6).map { i in
            (
                Int.random(in: 0...40, using: &generator),
                (0..<Int.random(in: 1...12, using: &generator)).map { _ in UInt8(i + 1) }
            )
        }
        let base = bytes("durable-base")
        // Every state the file may legally be left in: k whole writes, then the
        // first t bytes of write k.
        func applying(_ data: [UInt8], at offset: Int, to state: [UInt8]) -> [UInt8] {
            var result = state
            if result.count < offset { result += [UInt8](repeating: 0, count: offset - result.count) }
            for (j, byte) in data.enumerated() {
                if offset + j < result.count { result[offset + j] = byte } else { result.append(byte) }
            }
            return result
        }
        var allowed: Set<[UInt8]> = [base]
        var state = base
        for write in writes {
            for torn in 1..<write.data.count {
                allowed.insert(applying(Array(write.data.prefix(torn)), at: write.offset, to: state))
            }
            state = applying(write.data, at: write.offset, to: state)
            allowed.insert(state)
        }
        func run(_ tearSeed: UInt64) throws -> [UInt8] {
            let fs = makeFaultFS()
            try writeFile(fs, "/db/f", base, sync: true)
            try fs.syncDirectory("/db")
            let file = try fs.open("/db/f", mode: .readWrite)
            for write in writes { try file.write(at: UInt64(write.offset), write.data) }
            fs.simulatePowerLoss(.randomTear(seed: tearSeed))
            return try contents(fs, "/db/f") ?? []
        }
        var distinct = Set<[UInt8]>()
        for round in 0..<64 {
            let tearSeed = seed &+ UInt64(round)
            let first = try run(tearSeed)
            #expect(try run(tearSeed) == first, "seed \(seed) round \(round): not deterministic")
            #expect(allowed.contains(first), "seed \(seed) round \(round): \(first) is not a prefix state")
            distinct.insert(first)
        }
        #expect(distinct.count > 1, "seed \(seed): 64 random tears all gave the same state")
    }

    @Test func handlesFromBeforeAPowerLossThrowIO() throws {
        let fs = makeFaultFS()
        let file = try fs.open("/db/a", mode: .create)
        try fs.syncDirectory("/db")
        fs.simulatePowerLoss()
        let error = expectIOError(.io) { try file.write(at: 0, bytes("x")) }
        #expect(error?.message.contains("predates a simulated crash") == true)
        expectIOError(.io) { try file.read(at: 0, count: 0) }
        expectIOError(.io) { try file.size() }
        expectIOError(.io) { try file.sync() }
        expectIOError(.io) { try file.truncate(to: 0) }
        expectIOError(.io) { _ = try file.map(offset: 0, length: 0) }
        // A fresh handle works.
        try fs.open("/db/a", mode: .readWrite).write(at: 0, bytes("x"))
    }

    @Test func locksAreReleasedByAPowerLoss() throws {
        let fs = makeFaultFS()
        let before = try fs.lock("/db/LOCK")
        fs.simulatePowerLoss()
        let after = try fs.lock("/db/LOCK")
        // Releasing the stale lock must not release the new holder.
        before.release()
        expectIOError(.locked) { try fs.lock("/db/LOCK") }
        after.release()
        _ = try fs.lock("/db/LOCK")
    }

    @Test func theFileSystemWorksNormallyAfterAPowerLoss() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/a", bytes("a"), sync: true)
        try fs.syncDirectory("/db")
        fs.simulatePowerLoss()
        try fs.writeAtomically("/db/b", bytes("b"))
        try fs.open("/db/a", mode: .readWrite).write(at: 1, bytes("A"))
        #expect(try contents(fs, "/db/a") == bytes("aA"))
        fs.simulatePowerLoss()
        #expect(try contents(fs, "/db/a") == bytes("a"))
        #expect(try contents(fs, "/db/b") == bytes("b"))
        #expect(fs.statistics.powerLosses == 2)
    }

    @Test func powerLossRestoresTheUsedSpaceOfWhatSurvived() throws {
        let fs = makeFaultFS()
        try writeFile(fs, "/db/a", [UInt8](repeating: 1, count: 100), sync: true)
        try fs.syncDirectory("/db")
        try fs.open("/db/a", mode: .readWrite).write(at: 100, [UInt8](repeating: 2, count: 50))
        try writeFile(fs, "/db/b", [UInt8](repeating: 3, count: 70))
        try fs.removeFile("/db/a")
        #expect(fs.usedBytes == 70)
        fs.simulatePowerLoss()
        #expect(fs.usedBytes == 100)
    }
}
