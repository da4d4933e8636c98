import Foundation
import StrataIO
import StrataTestSupport
import StrataWAL
import Testing

/// What a replica's log needs: records kept at the primary's op numbers, and
/// a primary's acknowledged records read back for a replica that missed them.
@Suite struct WALReplicationTests {
    @Test func aRecordWithItsNextOpNumberIsWrittenAndAnyOtherIsRefusedUnwritten() async throws {
        try await withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir)
            #expect(try await log.append([1], asOpNum: 1) == 1)
            #expect(try await log.append([2], asOpNum: 2) == 2)
            await #expect(throws: WALError.self) { try await log.append([9], asOpNum: 2) }  // already taken
            await #expect(throws: WALError.self) { try await log.append([9], asOpNum: 4) }  // a gap
            #expect(log.lastOpNum == 2)
            // A run of consecutive records is enqueued together and lands whole.
            #expect(try await log.append(run: (UInt64(3)...6).map { ($0, [UInt8($0)]) }) == 6)
            // A run that does not start at the next op writes none of its records.
            await #expect(throws: WALError.self) { try await log.append(run: [(8, [8]), (9, [9])]) }
            #expect(log.lastOpNum == 6)
            log.close()
            #expect(try replayLog(fs, dir).records.map(\.payload) == [[1], [2], [3], [4], [5], [6]])
        }
    }

    @Test func recordsAfterAnOpComeBackAcrossFilesUntilTruncated() throws {
        var random = SeededGenerator.forTest()
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir, options: WALOptions(maxFileSize: 2048))
            let payloads = (0..<100).map { _ in random.bytes(Int.random(in: 1...200, using: &random)) }
            for payload in payloads { _ = try log.appendAndWait(payload) }
            #expect(log.fileCount > 3)

            let all = try #require(try log.records(after: 0))
            #expect(all.map(\.opNum) == Array(1...100) && all.map(\.payload) == payloads)
            let tail = try #require(try log.records(after: 57))
            #expect(tail.map(\.opNum) == Array(58...100) && tail.map(\.payload) == Array(payloads[57...]))
            #expect(try log.records(after: 100)?.isEmpty == true)
            let limited = try #require(try log.records(after: 10, maxBytes: 1))
            #expect(limited.map(\.opNum) == [11])

            // After a checkpoint removes the older files, the start is gone: a snapshot is needed.
            try log.removeFiles(below: 80)
            #expect(try log.records(after: 5) == nil)
            let kept = try #require(try log.records(after: 90))
            #expect(kept.map(\.opNum) == Array(91...100))
            log.close()
        }
    }
}
