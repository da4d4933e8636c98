import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The log on `FaultInjectingFileSystem`: power loss, torn and lost unsynced
/// writes, fsync EIO, a full disk, and a crash at every step of a workload
/// (crash-test matrix rows 3, 4, 5, 6, 9, 10). One checker for all: after
/// recovery every acknowledged record is there under its op number, op numbers
/// are contiguous, and nothing appears that was never appended.
@Suite struct WALFaultInjectionTests {
    /// The database directory exists durably before the log is opened; the log's
    /// own `wal/` directory is created by `WriteAheadLog.open`.
    static let root = "/db"
    static let directory = "/db/wal"

    static func payload(_ index: Int, size: Int = 40) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: index &* 131 &+ $0) }
    }

    /// Checks recovered records against what was acknowledged and what was in
    /// flight (appended but not acknowledged: may or may not be present).
    static func checkRecovered(
        _ records: [ReplayedRecord], acknowledged: [UInt64: [UInt8]], inFlight: [[UInt8]],
        firstOp: UInt64 = 1, _ context: Comment, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            records.map(\.opNum) == records.indices.map { firstOp + UInt64($0) },
            "op numbers contiguous from \(firstOp)", sourceLocation: sourceLocation)
        let byOp = Dictionary(uniqueKeysWithValues: records.map { ($0.opNum, $0.payload) })
        for (op, payload) in acknowledged.sorted(by: { $0.key < $1.key }) {
            #expect(
                byOp[op] == payload, "acknowledged op \(op) lost or changed; \(context)", sourceLocation: sourceLocation
            )
        }
        let lastAcknowledged = acknowledged.keys.max() ?? (firstOp - 1)
        let extra = records.filter { $0.opNum > lastAcknowledged }
        #expect(
            extra.count <= inFlight.count, "more records than were appended: \(extra); \(context)",
            sourceLocation: sourceLocation)
        for record in extra {
            #expect(
                inFlight.contains(record.payload), "op \(record.opNum) was never appended; \(context)",
                sourceLocation: sourceLocation)
        }
    }

    // MARK: Power loss

    @Test func powerLossAfterAcknowledgedDurableAppendsLosesNone() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        let (log, _) = try openLog(fs, Self.directory, options: WALOptions(maxFileSize: 1024))
        var acknowledged: [UInt64: [UInt8]] = [:]
        for i in 0..<60 {
            let op = try await log.append(Self.payload(i))
            acknowledged[op] = Self.payload(i)
        }
        #expect(log.stats.rotations > 0)
        // No close: the machine loses power with the log open.
        fs.simulatePowerLoss(.dropUnsynced)
        let (records, report) = try replayLog(fs, Self.directory)
        Self.checkRecovered(records, acknowledged: acknowledged, inFlight: [], "after power loss")
        #expect(records.count == 60)
        #expect(report.cutTail == nil)
        log.close()
    }

    @Test func powerLossOnAFreshLogKeepsItsDirectory() async throws {
        // The wal/ directory that open creates must itself survive power loss:
        // its entry in the parent has to be synced, not only the files inside.
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        let (log, _) = try openLog(fs, Self.directory)
        let op = try await log.append([0x42])
        fs.simulatePowerLoss(.dropUnsynced)
        #expect(fs.fileKind(Self.directory) == .directory, "the wal directory vanished at power loss")
        let (records, _) = try replayLog(fs, Self.directory)
        #expect(records == [ReplayedRecord(opNum: op, payload: [0x42])])
        log.close()
    }

    @Test func directoryLeftUnsyncedByACrashedOpenIsMadeDurable() async throws {
        // A previous process created wal/ and was killed before it synced the
        // parent (kill -9: the page cache keeps the entry, the disk does not).
        // Opening again must make the entry durable before acknowledging appends.
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        try fs.createDirectory(Self.directory)
        let (log, _) = try openLog(fs, Self.directory)
        let op = try await log.append([0x43])
        fs.simulatePowerLoss(.dropUnsynced)
        log.close()
        #expect(
            fs.fileKind(Self.directory) == .directory,
            "the wal directory vanished at power loss, with acknowledged op \(op) in it")
        #expect(try replayLog(fs, Self.directory).records == [ReplayedRecord(opNum: op, payload: [0x43])])
    }

    @Test func powerLossWithTornUnsyncedGroupsKeepsEveryAcknowledgedRecord() async throws {
        // Concurrent durable appends; at power loss, the unsynced group in flight is
        // persisted in part (random prefix, last write torn). Acknowledged records
        // all survive; of the rest only a prefix may appear.
        var random = SeededGenerator.forTest()
        for round in 0..<20 {
            let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
            let (log, _) = try openLog(fs, Self.directory, options: WALOptions(maxFileSize: 2048))
            let acknowledged = Locked<[UInt64: [UInt8]]>([:])
            let count = Int.random(in: 5...40, using: &random)
            let sizes = (0..<count).map { _ in Int.random(in: 0...120, using: &random) }
            let tearSeed = random.next()
            await withThrowingTaskGroup(of: Void.self) { group in
                for (i, size) in sizes.enumerated() {
                    group.addTask {
                        let payload = Self.payload(i, size: size)
                        let op = try await log.append(payload)
                        acknowledged.withLock { $0[op] = payload }
                    }
                }
                // Lose power once half of them are acknowledged, with the rest in flight.
                while acknowledged.withLock({ $0.count }) < count / 2 { await Task.yield() }
                fs.simulatePowerLoss(.randomTear(seed: tearSeed))
                // Appends after the power loss fail (old handles are dead); ignore them.
                while let result = await group.nextResult() { _ = result }
            }
            let ackedAtPowerLoss = acknowledged.withLock { $0 }
            log.close()
            let (records, _) = try replayLog(fs, Self.directory)
            let allPayloads = sizes.enumerated().map { Self.payload($0.offset, size: $0.element) }
            // A record acknowledged after the power loss cannot have been (handles
            // are dead), so every acknowledged record must be present.
            Self.checkRecovered(
                records, acknowledged: ackedAtPowerLoss, inFlight: allPayloads,
                "round \(round), tear seed \(tearSeed)")
        }
    }

    @Test func powerLossInPeriodicModeLosesOnlyAnUnsyncedSuffix() async throws {
        var random = SeededGenerator.forTest()
        for round in 0..<30 {
            let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
            let options = WALOptions(durability: .periodic(intervalMilliseconds: 3_600_000), maxFileSize: 1500)
            let (log, _) = try openLog(fs, Self.directory, options: options)
            var written: [[UInt8]] = []
            for i in 0..<Int.random(in: 1...50, using: &random) {
                let payload = Self.payload(i, size: Int.random(in: 0...90, using: &random))
                #expect(try await log.append(payload) == UInt64(i + 1))
                written.append(payload)
            }
            let mode: PowerLossMode = round % 3 == 0 ? .dropUnsynced : .randomTear(seed: random.next())
            fs.simulatePowerLoss(mode)
            log.close()
            let (records, _) = try replayLog(fs, Self.directory, options: options)
            // Rotation syncs the old file, so every record in a non-newest file is
            // durable; the rest may be lost, but only as a suffix.
            #expect(records.count <= written.count)
            #expect(records.map(\.opNum) == records.indices.map { UInt64($0 + 1) }, "round \(round), \(mode)")
            #expect(records.map(\.payload) == Array(written.prefix(records.count)), "round \(round), \(mode)")
        }
    }

    // MARK: fsync failure

    @Test func fsyncEIOFailsTheAppendAndStopsTheLogForGood() async throws {
        for powerLoss in [false, true] {
            let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
            let (log, _) = try openLog(fs, Self.directory)
            var acknowledged: [UInt64: [UInt8]] = [:]
            for i in 0..<5 { acknowledged[try await log.append(Self.payload(i))] = Self.payload(i) }

            fs.failSyncs(mode: .once)
            let failing = Self.payload(5)
            let error = await #expect(throws: WALError.self) { _ = try await log.append(failing) }
            #expect(error?.code == .failed)
            #expect(error?.cause?.code == .io)
            #expect(error?.message.contains("fdatasync") == true, "\(error?.message ?? "-")")
            #expect(log.permanentFailure?.code == .failed)

            // The fault is gone (it was .once), yet the log must not pretend: every
            // later append fails with .failed and a message saying to reopen.
            for i in 6..<9 {
                let later = await #expect(throws: WALError.self) { _ = try await log.append(Self.payload(i)) }
                #expect(later?.code == .failed)
                #expect(later?.message.contains("reopen") == true, "\(later?.message ?? "-")")
            }
            #expect(walError { _ = try log.appendAndWait([1]) }?.code == .failed)
            log.close()

            if powerLoss { fs.simulatePowerLoss(.dropUnsynced) }
            fs.clearAllFaults()
            let (log2, records) = try openLog(fs, Self.directory)
            Self.checkRecovered(records, acknowledged: acknowledged, inFlight: [failing], "power loss \(powerLoss)")
            if powerLoss { #expect(records.count == 5, "the failed sync persisted nothing") }
            // Reopened, the log works again and continues the numbering.
            #expect(try await log2.append([0x77]) == UInt64(records.count + 1))
            log2.close()
        }
    }

    @Test func noSyncIsRetriedAfterAFailedSync() async throws {
        // After a failed fdatasync the kernel may have dropped the dirty pages; a
        // later sync that "succeeds" proves nothing. The log must stop syncing.
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        let (log, _) = try openLog(fs, Self.directory)
        _ = try await log.append([1])
        fs.failSyncs(mode: .once)
        await #expect(throws: WALError.self) { _ = try await log.append([2]) }
        let before = fs.statistics
        log.close()
        let after = fs.statistics
        #expect(
            after.dataSyncs + after.syncs + after.failedSyncs == before.dataSyncs + before.syncs + before.failedSyncs,
            "close() retried a sync after the failure: \(before) -> \(after)")
    }

    @Test func periodicSyncFailureStopsTheLogWithoutSpinning() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        let (log, _) = try openLog(
            fs, Self.directory, options: WALOptions(durability: .periodic(intervalMilliseconds: 5)))
        fs.failSyncs(mode: .always)
        _ = try await log.append([1])  // acknowledged before the sync runs (relaxed mode)
        // Wait (bounded) for the periodic sync to fail.
        let deadline = ContinuousClock.now + .seconds(10)
        while log.permanentFailure == nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(log.permanentFailure?.code == .failed)
        #expect(walError { _ = try log.appendAndWait([2]) }?.code == .failed)
        // Observation window, not synchronisation: a writer that keeps retrying the
        // failed sync would make hundreds of attempts in it.
        let failedBefore = fs.statistics.failedSyncs
        try await Task.sleep(for: .milliseconds(200))
        let failedAfter = fs.statistics.failedSyncs
        log.close()
        #expect(
            failedAfter - failedBefore <= 1,
            "the writer keeps retrying the failed sync: \(failedAfter - failedBefore) more attempts in 200 ms")
    }

    // MARK: Disk full

    @Test func diskFullFailsTheAppendWithNoSpaceAndWritesResumeAfterSpaceIsFreed() async throws {
        for powerLoss in [false, true] {
            let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
            let (log, _) = try openLog(fs, Self.directory)
            var acknowledged: [UInt64: [UInt8]] = [:]
            for i in 0..<5 { acknowledged[try await log.append(Self.payload(i))] = Self.payload(i) }

            fs.capacityBytes = fs.usedBytes + 100
            let big = [UInt8](repeating: 0xBB, count: 500)
            for _ in 0..<3 {
                let error = await #expect(throws: WALError.self) { _ = try await log.append(big) }
                #expect(error?.code == .io)
                #expect(error?.cause?.code == .noSpace)
            }
            // A small record still fits: the log did not stop, and the failed appends
            // consumed no op numbers.
            let small = Self.payload(99, size: 10)
            #expect(try await log.append(small) == 6)
            acknowledged[6] = small
            #expect(log.permanentFailure == nil)

            fs.capacityBytes = nil
            #expect(try await log.append(big) == 7)
            acknowledged[7] = big
            log.close()
            if powerLoss { fs.simulatePowerLoss(.dropUnsynced) }
            let (records, report) = try replayLog(fs, Self.directory)
            Self.checkRecovered(records, acknowledged: acknowledged, inFlight: [], "power loss \(powerLoss)")
            #expect(records.count == 7)
            #expect(report.cutTail == nil)
        }
    }

    @Test func diskFullDuringRotationKeepsAppendingToTheCurrentFile() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        let (log, _) = try openLog(fs, Self.directory, options: WALOptions(maxFileSize: 300))
        var acknowledged: [UInt64: [UInt8]] = [:]
        for i in 0..<3 { acknowledged[try await log.append(Self.payload(i))] = Self.payload(i) }
        // Room for records but not for a new file's header after the next rotation point.
        fs.capacityBytes = fs.usedBytes + 64 + 10
        acknowledged[4] = Self.payload(3)
        #expect(try await log.append(Self.payload(3)) == 4)  // crosses 300 bytes; the new file does not fit
        #expect(log.permanentFailure == nil)
        fs.capacityBytes = nil
        for i in 4..<12 { acknowledged[try await log.append(Self.payload(i))] = Self.payload(i) }
        log.close()
        fs.simulatePowerLoss(.dropUnsynced)
        let (records, _) = try replayLog(fs, Self.directory)
        Self.checkRecovered(records, acknowledged: acknowledged, inFlight: [], "after ENOSPC in rotation")
        #expect(records.count == 12)
    }

    @Test func noSpaceFromDirectorySyncDuringRotationLeavesALogThatReopens() async throws {
        // ENOSPC (or EDQUOT) reported by the directory fsync after the new file was
        // renamed into place: the log must not keep appending to the old file while
        // a newer, empty file with a lower first op sits next to it.
        let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
        let (log, _) = try openLog(fs, Self.directory, options: WALOptions(maxFileSize: 200))
        var acknowledged: [UInt64: [UInt8]] = [:]
        acknowledged[try await log.append(Self.payload(0))] = Self.payload(0)
        fs.injectError(.syncDirectory, mode: .once, errno: ENOSPC)
        var inFlight: [[UInt8]] = []
        for i in 1..<8 {
            do {
                acknowledged[try await log.append(Self.payload(i))] = Self.payload(i)
            } catch {
                inFlight.append(Self.payload(i))
            }
        }
        log.close()
        fs.clearAllFaults()
        let (records, _) = try replayLog(fs, Self.directory)
        Self.checkRecovered(
            records, acknowledged: acknowledged, inFlight: inFlight, "after ENOSPC from directory fsync")
    }

    // MARK: Crash at every operation

    /// The workload of the crash-point sweep: open (creating the log), 20 durable
    /// appends with rotation, then removal of the files below op 8. Records what
    /// was acknowledged and what was in flight.
    struct Workload {
        var acknowledged: [UInt64: [UInt8]] = [:]
        var inFlight: [[UInt8]] = []
        var removalDone = false

        static let options = WALOptions(maxFileSize: 256)

        mutating func run(_ fs: FaultInjectingFileSystem) {
            guard let (log, _) = try? openLog(fs, WALFaultInjectionTests.directory, options: Self.options) else {
                return
            }
            defer { log.close() }
            for i in 0..<20 {
                let payload = WALFaultInjectionTests.payload(i, size: i % 4 == 0 ? 0 : 30 + i)
                do {
                    acknowledged[try log.appendAndWait(payload)] = payload
                } catch {
                    inFlight.append(payload)
                    return
                }
            }
            removalDone = (try? log.removeFiles(below: 8)) != nil
        }
    }

    @Test(arguments: ["dropUnsynced", "randomTear"])
    func crashAtEveryOperationLosesNothingAcknowledged(_ powerLossKind: String) throws {
        var random = SeededGenerator.forTest("crashAtEveryOperation(\(powerLossKind))")
        // Count the operations of a clean run.
        let clean = FaultInjectingFileSystem(durableDirectories: [Self.root])
        var reference = Workload()
        reference.run(clean)
        #expect(reference.acknowledged.count == 20 && reference.removalDone)
        let total = clean.operationCount
        #expect(total > 40, "the workload should be many operations, was \(total)")

        var failures = 0
        for crashPoint in 0...total {
            let fs = FaultInjectingFileSystem(durableDirectories: [Self.root])
            fs.crashAfterOperations = crashPoint
            var workload = Workload()
            workload.run(fs)
            let tearSeed = random.next()
            fs.simulatePowerLoss(powerLossKind == "randomTear" ? .randomTear(seed: tearSeed) : .dropUnsynced)
            let context = Comment(rawValue: "crash after \(crashPoint) of \(total) operations, tear seed \(tearSeed)")
            do {
                let (records, _) = try replayLog(fs, Self.directory, options: Workload.options)
                let firstOp = records.first?.opNum ?? 1
                // Only the removal of files below op 8 may take records away from the front.
                #expect(firstOp == 1 || firstOp <= 8, context)
                let expected = workload.acknowledged.filter { $0.key >= firstOp }
                Self.checkRecovered(
                    records, acknowledged: expected, inFlight: workload.inFlight, firstOp: firstOp, context)
                if firstOp > 1 {
                    #expect(workload.acknowledged.count == 20, "files removed before the appends finished; \(context)")
                }

                // The recovered log takes appends and survives one more power loss.
                let (log, _) = try openLog(fs, Self.directory, options: Workload.options)
                let next = try log.appendAndWait([0xEE])
                #expect(next == (records.last?.opNum ?? 0) + 1, context)
                fs.simulatePowerLoss(.dropUnsynced)
                log.close()
                let again = try replayLog(fs, Self.directory, options: Workload.options).records
                #expect(again == records + [ReplayedRecord(opNum: next, payload: [0xEE])], context)
            } catch {
                failures += 1
                Issue.record("recovery failed: \(error); \(context)")
            }
        }
        print("[crash sweep \(powerLossKind)] \(total + 1) crash points, \(failures) failed recoveries")
    }
}
