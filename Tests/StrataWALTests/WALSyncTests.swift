import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

@Suite struct WALSyncTests {
    /// In the periodic mode an acknowledged record may sit in the page cache;
    /// `sync()` makes it durable at once (the manifest relies on this before it
    /// claims a checkpoint).
    @Test func syncMakesPeriodicModeRecordsDurable() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let options = WALOptions(durability: .periodic(intervalMilliseconds: 600_000))
        let (log, _) = try openLog(fs, "/wal", options: options)
        for i in 0..<5 { _ = try log.appendAndWait([UInt8(i)]) }
        let syncsBefore = log.stats.syncs
        try log.sync()
        #expect(log.stats.syncs == syncsBefore + 1)
        try log.sync()  // nothing new: no second fdatasync
        #expect(log.stats.syncs == syncsBefore + 1)
        fs.simulatePowerLoss(.dropUnsynced)
        log.close()
        let (records, _) = try replayLog(fs, "/wal", options: options)
        #expect(records.map(\.opNum) == [1, 2, 3, 4, 5])
    }

    @Test func syncAfterAFailedFsyncThrows() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let (log, _) = try openLog(
            fs, "/wal", options: WALOptions(durability: .periodic(intervalMilliseconds: 600_000)))
        defer { log.close() }
        _ = try log.appendAndWait([1])
        fs.failSyncs(mode: .once)
        #expect(throws: WALError.self) { try log.sync() }
        let error = #expect(throws: WALError.self) { try log.sync() }
        #expect(error?.code == .failed)
    }

    @Test func syncOnAClosedLogThrows() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let (log, _) = try openLog(fs, "/wal")
        log.close()
        #expect(throws: WALError.self) { try log.sync() }
    }
}
