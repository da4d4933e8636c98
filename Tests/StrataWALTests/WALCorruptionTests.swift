import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// Damage that is not a torn tail makes open fail with `.corruption`, naming
/// the file and the byte offset; recovery never skips damage to apply later
/// records (crash-test matrix row 7). Damage inside an unsynced group is a torn
/// tail, not corruption (row 4).
@Suite struct WALCorruptionTests {
    /// A durable log with one group per record (so record k carries
    /// synced_through k - 1); returns the path of its single file.
    static func writeDurableLog(_ dir: String, payloadSizes: [Int]) throws -> String {
        let (log, _) = try openLog(POSIXFileSystem(), dir)
        defer { log.close() }
        for (index, size) in payloadSizes.enumerated() {
            _ = try log.appendAndWait([UInt8](repeating: UInt8(index + 1), count: size))
        }
        return joinPath(dir, WALFormat.fileName(firstOpNum: 1))
    }

    static func expectCorruption(
        _ dir: String, file: String, offset: UInt64?, options: WALOptions = WALOptions(),
        messageNamesOffset: Bool = true, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let replayed = Locked<[UInt64]>([])
        let error = walError {
            let log = try WriteAheadLog.open(fileSystem: POSIXFileSystem(), directory: dir, options: options) { op, _ in
                replayed.withLock { $0.append(op) }
            }
            log.close()
        }
        #expect(error?.code == .corruption, comment, sourceLocation: sourceLocation)
        #expect(error?.file == file, comment, sourceLocation: sourceLocation)
        #expect(
            error?.message.contains(file) == true, "message names the file: \(error?.message ?? "-")",
            sourceLocation: sourceLocation)
        if let offset {
            #expect(error?.offset == offset, comment, sourceLocation: sourceLocation)
            #expect(
                !messageNamesOffset || error?.message.contains("offset \(offset)") == true,
                "message names the offset: \(error?.message ?? "-")", sourceLocation: sourceLocation)
        }
    }

    @Test func flippedByteAnywhereInSyncedRecordIsCorruptionNamingFileAndOffset() throws {
        let sizes = [5, 8, 3, 12, 4]
        let boundaries = recordBoundaries(payloadSizes: sizes)
        try withTemporaryDirectory { dir in
            let path = try Self.writeDurableLog(dir, payloadSizes: sizes)
            let original = try readFile(path)
            // Every byte of record 2 (header and payload): record 3 was written after
            // record 2 was synced (synced_through 2), so this is damage, not a tear.
            for position in boundaries[1]..<boundaries[2] {
                var damaged = original
                damaged[position] ^= 0x40
                try writeFile(path, damaged)
                Self.expectCorruption(dir, file: path, offset: UInt64(boundaries[1]), "flip at \(position)")
                #expect(try readFile(path) == damaged, "a failed open must not modify the file")
            }
        }
    }

    @Test func zeroedPageInTheMiddleOfSyncedDataIsCorruption() throws {
        let sizes = Array(repeating: 100, count: 40)
        let boundaries = recordBoundaries(payloadSizes: sizes)
        try withTemporaryDirectory { dir in
            let path = try Self.writeDurableLog(dir, payloadSizes: sizes)
            var bytes = try readFile(path)
            for i in 1024..<2048 { bytes[i] = 0 }
            try writeFile(path, bytes)
            let firstDamaged = boundaries.firstIndex { $0 + 124 > 1024 }!
            Self.expectCorruption(dir, file: path, offset: UInt64(boundaries[firstDamaged]))
        }
    }

    @Test func damageToAnOlderFileIsCorruptionEvenAtItsLastRecord() throws {
        try withTemporaryDirectory { dir in
            let options = WALOptions(maxFileSize: 200)
            let (log, _) = try openLog(POSIXFileSystem(), dir, options: options)
            // 84-byte records, two per file.
            for i in 0..<7 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 60)) }
            log.close()
            let names = try logFileNames(dir)
            #expect(names.count == 4)
            let older = joinPath(dir, names[1])
            let original = try readFile(older)
            // The last record of a non-newest file: nothing later in that file
            // proves it durable, but a newer file exists, so it had been synced.
            var damaged = original
            damaged[32 + 84 + 40] ^= 0x01
            try writeFile(older, damaged)
            Self.expectCorruption(dir, file: older, offset: UInt64(32 + 84), options: options)

            // A torn-looking truncation of an older file is corruption too.
            try writeFile(older, Array(original[0..<(32 + 84 + 10)]))
            Self.expectCorruption(dir, file: older, offset: UInt64(32 + 84), options: options)

            // Truncated at a record boundary, the older file is valid on its own,
            // but the next file no longer follows it: a gap.
            try writeFile(older, Array(original[0..<(32 + 84)]))
            Self.expectCorruption(dir, file: joinPath(dir, names[2]), offset: nil, options: options)
        }
    }

    @Test func missingMiddleFileIsCorruption() throws {
        try withTemporaryDirectory { dir in
            let options = WALOptions(maxFileSize: 200)
            let (log, _) = try openLog(POSIXFileSystem(), dir, options: options)
            for i in 0..<7 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 60)) }
            log.close()
            let names = try logFileNames(dir)
            try FileManager.default.removeItem(atPath: joinPath(dir, names[1]))
            Self.expectCorruption(dir, file: joinPath(dir, names[2]), offset: nil, options: options)
        }
    }

    @Test func overlappingFilesAreCorruption() throws {
        try withTemporaryDirectory { dir in
            // wal-1 holds ops 1-3; a file claiming to start at op 3 overlaps it.
            let first =
                referenceFileHeader(firstOpNum: 1)
                + referenceRecord(opNum: 1, syncedThrough: 0, payload: [1])
                + referenceRecord(opNum: 2, syncedThrough: 1, payload: [2])
                + referenceRecord(opNum: 3, syncedThrough: 2, payload: [3])
            try writeFile(joinPath(dir, WALFormat.fileName(firstOpNum: 1)), first)
            let second = joinPath(dir, WALFormat.fileName(firstOpNum: 3))
            try writeFile(
                second, referenceFileHeader(firstOpNum: 3) + referenceRecord(opNum: 3, syncedThrough: 2, payload: [9]))
            Self.expectCorruption(dir, file: second, offset: nil)
        }
    }

    @Test func fileWhoseHeaderOpDisagreesWithItsNameIsCorruption() throws {
        try withTemporaryDirectory { dir in
            let path = try Self.writeDurableLog(dir, payloadSizes: [1, 2])
            let renamed = joinPath(dir, WALFormat.fileName(firstOpNum: 7))
            try FileManager.default.moveItem(atPath: path, toPath: renamed)
            // The offset (16, first_op_num) is in `error.offset`; the message says
            // which op numbers disagree instead.
            Self.expectCorruption(dir, file: renamed, offset: 16, messageNamesOffset: false)
        }
    }

    enum HeaderDamage: String, CaseIterable, CustomStringConvertible {
        case badMagic, unsupportedVersion, nonZeroFlags, headerChecksumMismatch, zeroFirstOp, truncatedHeader, emptyFile
        /// Bytes 28..<32 are outside the header CRC (found by CorruptionSweepTests).
        case nonZeroReserved
        var description: String { rawValue }
    }

    @Test(arguments: HeaderDamage.allCases)
    func badFileHeaderIsCorruption(_ damage: HeaderDamage) throws {
        try withTemporaryDirectory { dir in
            let path = try Self.writeDurableLog(dir, payloadSizes: [1, 2])
            let original = try readFile(path)
            let body = Array(original[32...])
            var bytes: [UInt8]
            switch damage {
            case .badMagic:
                bytes = referenceFileHeader(firstOpNum: 1, magic: Array("STRATWAX".utf8)) + body
            case .unsupportedVersion:
                bytes = referenceFileHeader(firstOpNum: 1, version: 2) + body
            case .nonZeroFlags:
                bytes = referenceFileHeader(firstOpNum: 1, flags: 1) + body
            case .headerChecksumMismatch:
                bytes = original
                bytes[20] ^= 0x10  // high bytes of first_op_num; the CRC no longer matches
            case .zeroFirstOp:
                bytes = referenceFileHeader(firstOpNum: 0) + body
            case .truncatedHeader:
                bytes = Array(original[0..<20])
            case .emptyFile:
                bytes = []
            case .nonZeroReserved:
                bytes = original
                bytes[29] ^= 0x04
            }
            try writeFile(path, bytes)
            Self.expectCorruption(dir, file: path, offset: 0, "\(damage)")
        }
    }

    // MARK: - Damage inside an unsynced group is a torn tail

    /// Group 1 = ops 1-3 (synced_through 0), group 2 = ops 4-8 (synced_through 3,
    /// never synced): the layout of a durable log that crashed during group 2.
    static func twoGroupFile() -> (bytes: [UInt8], boundaries: [Int]) {
        var bytes = referenceFileHeader(firstOpNum: 1)
        var boundaries = [bytes.count]
        for op in UInt64(1)...8 {
            bytes += referenceRecord(
                opNum: op, syncedThrough: op <= 3 ? 0 : 3, payload: [UInt8](repeating: UInt8(op), count: 10))
            boundaries.append(bytes.count)
        }
        return (bytes, boundaries)
    }

    @Test func damageInsideUnsyncedGroupFollowedByValidRecordsIsATornTail() throws {
        // Pages of the unsynced group persisted out of order: record 5 is lost
        // (zeros) but 6-8 reached the disk. Their synced_through (3) is below 5, so
        // nothing proves 5 durable: cut at 5, keep 1-4.
        let (original, boundaries) = Self.twoGroupFile()
        for damage in ["zeros", "flip"] {
            try withTemporaryDirectory { dir in
                var bytes = original
                for i in boundaries[4]..<boundaries[5] {
                    if damage == "zeros" { bytes[i] = 0 } else if i == boundaries[4] + 26 { bytes[i] ^= 0xFF }
                }
                let path = joinPath(dir, WALFormat.fileName(firstOpNum: 1))
                try writeFile(path, bytes)
                let (log, records) = try openLog(POSIXFileSystem(), dir)
                #expect(records.map(\.opNum) == [1, 2, 3, 4], "\(damage)")
                #expect(log.recoveryReport.cutTail?.offset == UInt64(boundaries[4]))
                #expect(log.recoveryReport.cutTail?.droppedBytes == UInt64(original.count - boundaries[4]))
                #expect(try log.appendAndWait([0x55]) == 5)
                log.close()
                let (again, report) = try replayLog(POSIXFileSystem(), dir)
                #expect(again.map(\.opNum) == [1, 2, 3, 4, 5])
                #expect(again.last?.payload == [0x55])
                #expect(report.cutTail == nil)
            }
        }
    }

    @Test func damageInsideSyncedGroupFollowedByLaterGroupIsCorruption() throws {
        // Same file, but record 2 (group 1, synced) is damaged: records 4-8 say
        // ops through 3 were synced, so this is damage to durable data.
        let (original, boundaries) = Self.twoGroupFile()
        try withTemporaryDirectory { dir in
            var bytes = original
            bytes[boundaries[1] + 30] ^= 0x08
            let path = joinPath(dir, WALFormat.fileName(firstOpNum: 1))
            try writeFile(path, bytes)
            Self.expectCorruption(dir, file: path, offset: UInt64(boundaries[1]))
        }
    }

    @Test func syncedThroughEqualToTheDamagedOpProvesItDurable() throws {
        // Boundary of the rule "synced_through >= x": a durable log of 3 records
        // (synced_through 0, 1, 2). Damage to record 2 is proven durable only by
        // record 3, whose synced_through is exactly 2: corruption.
        let sizes = [6, 6, 6]
        let boundaries = recordBoundaries(payloadSizes: sizes)
        try withTemporaryDirectory { dir in
            let path = try Self.writeDurableLog(dir, payloadSizes: sizes)
            var bytes = try readFile(path)
            bytes[boundaries[1] + 26] ^= 0x01
            try writeFile(path, bytes)
            Self.expectCorruption(dir, file: path, offset: UInt64(boundaries[1]))
        }
    }

    @Test func syncedThroughJustBelowTheDamagedOpIsATornTail() throws {
        // The other side of the boundary: damage to op 4, the first record of the
        // unsynced group whose records all carry synced_through 3.
        let (original, boundaries) = Self.twoGroupFile()
        try withTemporaryDirectory { dir in
            var bytes = original
            bytes[boundaries[3] + 27] ^= 0x01
            try writeFile(joinPath(dir, WALFormat.fileName(firstOpNum: 1)), bytes)
            let (records, report) = try replayLog(POSIXFileSystem(), dir)
            #expect(records.map(\.opNum) == [1, 2, 3])
            #expect(report.cutTail?.offset == UInt64(boundaries[3]))
        }
    }

    @Test func periodicModeDamageBeforeTheFirstSyncIsATornTail() throws {
        // The real writer in relaxed mode with a long interval: nothing has been
        // synced, every record carries synced_through 0, so damage to record 2
        // with records 3-6 intact is still a torn unsynced tail.
        let sizes = [4, 4, 4, 4, 4, 4]
        let boundaries = recordBoundaries(payloadSizes: sizes)
        try withTemporaryDirectory { dir in
            let options = WALOptions(durability: .periodic(intervalMilliseconds: 3_600_000))
            let (log, _) = try openLog(POSIXFileSystem(), dir, options: options)
            for i in 0..<6 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 4)) }
            let path = joinPath(dir, WALFormat.fileName(firstOpNum: 1))
            // Damage the page-cache copy before the writer's close-time sync.
            var bytes = try readFile(path)
            let scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
            #expect(scan.records.allSatisfy { $0.syncedThrough == 0 })
            bytes[boundaries[1] + 25] ^= 0x02
            try writeFile(path, bytes)
            log.close()
            let (records, report) = try replayLog(POSIXFileSystem(), dir, options: options)
            #expect(records.map(\.opNum) == [1])
            #expect(report.cutTail?.offset == UInt64(boundaries[1]))
        }
    }

    @Test func scannerNeverTrapsOnRandomDamage() throws {
        // Seeded random mutations of a real multi-group file: scan must return or
        // throw FormatError, never trap; a valid prefix is always op-contiguous.
        var random = SeededGenerator.forTest()
        let (original, _) = Self.twoGroupFile()
        for _ in 0..<3000 {
            var bytes = original
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            case 1:
                bytes = Array(bytes[0..<Int.random(in: 0...bytes.count, using: &random)])
            case 2:
                bytes += random.bytes(Int.random(in: 1...64, using: &random))
            default:
                let at = Int.random(in: 32..<bytes.count, using: &random)
                bytes.insert(contentsOf: random.bytes(Int.random(in: 1...30, using: &random)), at: at)
            }
            if let scan = try? bytes.withUnsafeBytes({ try WALFileScanner.scan($0) }) {
                #expect(scan.records.map(\.opNum) == Array(scan.records.indices).map { scan.firstOpNum + UInt64($0) })
                #expect(scan.validEnd <= bytes.count)
                #expect(scan.validEnd == (scan.records.last?.payloadRange.upperBound ?? 32))
            }
        }
    }
}
