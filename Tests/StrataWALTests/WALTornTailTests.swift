import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// A crash during an append leaves a torn tail in the newest file: recovery
/// keeps every record before the tear, cuts the rest, says so, and later
/// appends continue from there (crash-test matrix row 6).
@Suite struct WALTornTailTests {
    enum TailDamage: String, CaseIterable, CustomStringConvertible {
        case truncated, truncatedThenZeros, truncatedThenGarbage
        var description: String { rawValue }
    }

    /// Payload sizes of the records of the base log; the last two are torn.
    static let payloadSizes = [3, 0, 17, 1, 21, 9]

    /// Writes the base log (durable, one group per record) and returns its file bytes.
    static func writeBaseLog(_ dir: String) throws -> [[UInt8]] {
        let (log, _) = try openLog(POSIXFileSystem(), dir)
        defer { log.close() }
        var payloads: [[UInt8]] = []
        for (index, size) in payloadSizes.enumerated() {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: index * 31 + $0 + 1) }
            #expect(try log.appendAndWait(payload) == UInt64(index + 1))
            payloads.append(payload)
        }
        return payloads
    }

    @Test(arguments: TailDamage.allCases)
    func recoveryCutsTornTailRecordAtEveryByteOfTheLastTwoRecords(_ damage: TailDamage) throws {
        var random = SeededGenerator.forTest("recoveryCutsTornTailRecord(\(damage))")
        let fs = POSIXFileSystem()
        let (original, payloads) = try withTemporaryDirectory { dir in
            let payloads = try Self.writeBaseLog(dir)
            return (try readFile(joinPath(dir, WALFormat.fileName(firstOpNum: 1))), payloads)
        }
        let boundaries = recordBoundaries(payloadSizes: Self.payloadSizes)
        #expect(boundaries.last == original.count)
        let n = payloads.count
        var checked = 0

        for cut in boundaries[n - 2]..<original.count {
            var bytes = Array(original[0..<cut])
            switch damage {
            case .truncated: break
            case .truncatedThenZeros: bytes += [UInt8](repeating: 0, count: Int.random(in: 1...80, using: &random))
            case .truncatedThenGarbage:
                var garbage = random.bytes(Int.random(in: 1...80, using: &random))
                // Garbage that starts with the bytes that were cut off would
                // restore the record (1 in 256 per cut for its last byte).
                if garbage[0] == original[cut] { garbage[0] ^= 0xFF }
                bytes += garbage
            }
            // Records that lie wholly before the cut survive.
            let kept = boundaries.dropFirst().filter { $0 <= cut }.count
            let goodEnd = boundaries[kept]

            try withTemporaryDirectory { dir in
                let path = joinPath(dir, WALFormat.fileName(firstOpNum: 1))
                try writeFile(path, bytes)
                let context = Comment(rawValue: "cut at \(cut) (\(damage)), \(bytes.count) bytes")

                let (log, records) = try openLog(fs, dir)
                #expect(records.map(\.opNum) == Array(0..<UInt64(kept)).map { $0 + 1 }, context)
                #expect(records.map(\.payload) == Array(payloads.prefix(kept)), context)
                let report = log.recoveryReport
                #expect(report.lastOpNum == UInt64(kept), context)
                if bytes.count == goodEnd {
                    #expect(report.cutTail == nil, context)
                } else {
                    #expect(report.cutTail?.file == path, context)
                    #expect(report.cutTail?.offset == UInt64(goodEnd), context)
                    #expect(report.cutTail?.droppedBytes == UInt64(bytes.count - goodEnd), context)
                }
                #expect(try readFile(path).count == goodEnd, "the tail is cut off on disk")

                // Appends continue with the right op numbers and survive a reopen.
                #expect(try log.appendAndWait([0xF0]) == UInt64(kept + 1), context)
                #expect(try log.appendAndWait([0xF1, 0xF2]) == UInt64(kept + 2), context)
                log.close()
                let (again, report2) = try replayLog(fs, dir)
                #expect(again.map(\.opNum) == Array(1...UInt64(kept + 2)), context)
                #expect(again.map(\.payload) == Array(payloads.prefix(kept)) + [[0xF0], [0xF1, 0xF2]], context)
                #expect(report2.cutTail == nil, context)
            }
            checked += 1
        }
        #expect(checked == original.count - boundaries[n - 2])
    }

    @Test func tornTailInNewestFileAfterRotationIsCutAndOlderFilesKept() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let options = WALOptions(maxFileSize: 200)
            let (log, _) = try openLog(fs, dir, options: options)
            // 84-byte records: two per file, so the 9th sits alone in the newest file.
            for i in 0..<9 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 60)) }
            log.close()
            let names = try logFileNames(dir)
            #expect(names.count > 2)
            let newest = joinPath(dir, names.last!)
            let bytes = try readFile(newest)
            let scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
            try #require(scan.records.count == 1)
            // Tear the last record of the newest file in half.
            let last = scan.records[0]
            try writeFile(newest, Array(bytes[0..<(last.offset + 30)]))

            let (log2, records) = try openLog(fs, dir, options: options)
            #expect(records.map(\.opNum) == Array(1...8))
            #expect(log2.recoveryReport.cutTail?.file == newest)
            #expect(log2.recoveryReport.cutTail?.offset == UInt64(last.offset))
            #expect(try log2.appendAndWait([1]) == 9)
            log2.close()
            #expect(try replayLog(fs, dir, options: options).records.map(\.opNum) == Array(1...9))
        }
    }

    @Test func newestFileWithOnlyAHeaderRecoversCleanly() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            // One 25-byte record fills the first file; rotation leaves a header-only newest file.
            let options = WALOptions(maxFileSize: 50)
            let (log, _) = try openLog(fs, dir, options: options)
            _ = try log.appendAndWait([1])
            log.close()
            #expect(try logFileNames(dir) == [WALFormat.fileName(firstOpNum: 1), WALFormat.fileName(firstOpNum: 2)])
            let (records, report) = try replayLog(fs, dir, options: options)
            #expect(records.map(\.opNum) == [1])
            #expect(report.cutTail == nil && report.files == 2 && report.lastOpNum == 1)
        }
    }
}
