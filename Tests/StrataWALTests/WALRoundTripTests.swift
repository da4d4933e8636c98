import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// What goes in comes back out: payloads, op numbers, across reopen, rotation
/// and truncation.
@Suite struct WALRoundTripTests {
    @Test func replayAfterReopenYieldsEveryPayloadWithOpNumbersOneToN() throws {
        var random = SeededGenerator.forTest()
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            var sizes = [0, 1, 0, 1 << 20, (1 << 20) + 7, 24, 0]
            for _ in 0..<150 { sizes.append(Int.random(in: 0...300, using: &random)) }
            for _ in 0..<20 { sizes.append(Int.random(in: 300...70_000, using: &random)) }
            sizes.shuffle(using: &random)
            let payloads = sizes.map { random.bytes($0) }

            let (log, initial) = try openLog(fs, dir)
            #expect(initial.isEmpty)
            for (index, payload) in payloads.enumerated() {
                #expect(try log.appendAndWait(payload) == UInt64(index + 1))
            }
            #expect(log.lastOpNum == UInt64(payloads.count))
            log.close()

            let (records, report) = try replayLog(fs, dir)
            #expect(records.map(\.opNum) == Array(1...UInt64(payloads.count)))
            #expect(records.map(\.payload) == payloads)
            #expect(report.records == payloads.count && report.lastOpNum == UInt64(payloads.count))
            #expect(report.cutTail == nil)
        }
    }

    @Test func appendsContinueNumberingAcrossManyReopens() async throws {
        try await withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            var expected: [[UInt8]] = []
            for round in 0..<5 {
                let (log, records) = try openLog(fs, dir)
                #expect(records.map(\.payload) == expected)
                for i in 0..<4 {
                    let payload = [UInt8(round), UInt8(i)]
                    let op = try await log.append(payload)
                    expected.append(payload)
                    #expect(op == UInt64(expected.count))
                }
                log.close()
            }
            #expect(try replayLog(fs, dir).records.map(\.opNum) == Array(1...20))
        }
    }

    @Test func rotationSpreadsRecordsOverFilesNamedByFirstOp() throws {
        var random = SeededGenerator.forTest()
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let options = WALOptions(maxFileSize: 2048)
            let payloads = (0..<120).map { _ in random.bytes(Int.random(in: 0...200, using: &random)) }
            let (log, _) = try openLog(fs, dir, options: options)
            for payload in payloads { _ = try log.appendAndWait(payload) }
            // Rotation runs on the writer thread after the group is acknowledged,
            // so read the counter once close() has stopped that thread.
            log.close()
            let rotations = log.stats.rotations

            let names = try logFileNames(dir)
            #expect(names.count >= 4, "expected several files, got \(names)")
            #expect(UInt64(names.count) == rotations + 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == names, "no leftovers")
            // Each file's name is its first op, and the files are contiguous.
            var next: UInt64 = 1
            for name in names {
                let bytes = try readFile(joinPath(dir, name))
                let scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
                #expect(scan.stop == nil)
                #expect(WALFormat.firstOpNum(fromFileName: name) == next)
                #expect(scan.firstOpNum == next)
                // Rotation happens once a file passes maxFileSize, never more than one group later.
                next += UInt64(scan.records.count)
            }
            #expect(next == 121)

            let (records, report) = try replayLog(fs, dir, options: options)
            #expect(records.map(\.payload) == payloads)
            #expect(records.map(\.opNum) == Array(1...120))
            #expect(report.files == names.count)
        }
    }

    @Test func removeFilesKeepsNewestAndRemovesOnlyFilesWhollyBelow() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let options = WALOptions(maxFileSize: 300)
            let (log, _) = try openLog(fs, dir, options: options)
            // 100-byte payloads: 124-byte records, so each file holds 3 records (ops 1-3, 4-6, ...).
            for i in 0..<20 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 100)) }
            let names = try logFileNames(dir)
            let starts = names.map { WALFormat.firstOpNum(fromFileName: $0)! }
            #expect(starts == [1, 4, 7, 10, 13, 16, 19], "layout assumed by this test: \(names)")

            #expect(try log.removeFiles(below: 0) == 0)
            #expect(try log.removeFiles(below: 3) == 0, "file 1-3 still holds op 3")
            #expect(try logFileNames(dir) == names)
            #expect(try log.removeFiles(below: 4) == 1, "file 1-3 is wholly below 4")
            #expect(try logFileNames(dir) == Array(names.dropFirst()))
            #expect(try log.removeFiles(below: 12) == 2, "files 4-6 and 7-9; 10-12 holds 10 and 11")
            #expect(try logFileNames(dir) == Array(names.dropFirst(3)))
            #expect(try log.removeFiles(below: UInt64.max) == 3, "everything but the newest file")
            #expect(try logFileNames(dir) == [names.last!])

            // Appends continue in the newest file and a reopen replays from its first op.
            #expect(try log.appendAndWait([0xEE]) == 21)
            log.close()
            let (records, report) = try replayLog(fs, dir, options: options)
            #expect(records.map(\.opNum) == [19, 20, 21])
            #expect(records.last?.payload == [0xEE])
            #expect(report.lastOpNum == 21)
        }
    }

    @Test func filesListsEachLogFileWithItsFirstOpAndSize() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir, options: WALOptions(maxFileSize: 300))
            defer { log.close() }
            // As above: 124-byte records, three to a file.
            for i in 0..<8 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 100)) }
            let files = log.files()
            #expect(files.map(\.firstOpNum) == [1, 4, 7])
            #expect(files.map(\.name) == [1, 4, 7].map { WALFormat.fileName(firstOpNum: $0) })
            for file in files {
                let size = try fs.open(dir + "/" + file.name, mode: .readOnly).size()
                #expect(file.bytes == size && size > 0, "\(file)")
            }
            #expect(files.count == log.fileCount)
            try log.removeFiles(below: 7)
            #expect(log.files().map(\.firstOpNum) == [7])
        }
    }

    @Test func removeFilesOnASingleFileLogRemovesNothing() throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(POSIXFileSystem(), dir)
            defer { log.close() }
            _ = try log.appendAndWait([1])
            #expect(try log.removeFiles(below: UInt64.max) == 0)
            #expect(try logFileNames(dir).count == 1)
        }
    }

    @Test func oversizedPayloadIsRejectedAsInvalidArgument() throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(POSIXFileSystem(), dir)
            defer { log.close() }
            let error = walError {
                _ = try log.appendAndWait([UInt8](repeating: 0, count: WALFormat.maxPayloadSize + 1))
            }
            #expect(error?.code == .invalidArgument)
            #expect(try log.appendAndWait([7]) == 1, "a rejected payload consumes no op number")
        }
    }

    @Test func appendAfterCloseThrowsClosed() async throws {
        try await withTemporaryDirectory { dir in
            let (log, _) = try openLog(POSIXFileSystem(), dir)
            _ = try await log.append([1])
            log.close()
            log.close()  // idempotent
            await #expect(throws: WALError.self) { _ = try await log.append([2]) }
            #expect(walError { _ = try log.appendAndWait([2]) }?.code == .closed)
            #expect(try replayLog(POSIXFileSystem(), dir).records.map(\.opNum) == [1])
        }
    }

    @Test func leftoverTempFilesAreRemovedAtOpen() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir)
            _ = try log.appendAndWait([1])
            log.close()
            try writeFile(joinPath(dir, WALFormat.fileName(firstOpNum: 2) + ".tmp"), referenceFileHeader(firstOpNum: 2))
            let (records, _) = try replayLog(fs, dir)
            #expect(records.map(\.opNum) == [1])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [WALFormat.fileName(firstOpNum: 1)])
        }
    }

    @Test func periodicModeRecordsSurviveCleanClose() async throws {
        try await withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            // An hour: even a heavily loaded machine does not reach it during the test.
            let options = WALOptions(durability: .periodic(intervalMilliseconds: 3_600_000))
            let (log, _) = try openLog(fs, dir, options: options)
            for i in 0..<50 { _ = try await log.append([UInt8(i)]) }
            #expect(log.stats.syncs == 0, "the sync interval has not elapsed")
            log.close()
            #expect(log.stats.syncs == 1, "close syncs what is unsynced")
            #expect(try replayLog(fs, dir).records.map(\.opNum) == Array(1...50))
        }
    }
}
