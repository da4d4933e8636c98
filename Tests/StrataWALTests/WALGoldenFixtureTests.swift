import Foundation
import StrataBinary
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// Format version 1 must never change under existing files: the writer must
/// produce the worked example of `docs/format/wal.md` byte for byte, and the
/// reader must read it.
@Suite struct WALGoldenFixtureTests {
    /// The worked example of `docs/format/wal.md`: two one-byte payloads, 0xAA
    /// (op 1, first group) and 0xBB (op 2, written after op 1 was synced).
    /// The same bytes are in `Fixtures/wal-v1-golden.log` for humans and tools.
    static let goldenHex = """
        535452415457414c 01000000 00000000 0100000000000000 ecd9a13e 00000000
        1295fd5b 01000000 0100000000000000 0000000000000000 aa
        4f3174f7 01000000 0200000000000000 0100000000000000 bb
        """
    static let goldenFileName = "wal-00000000000000000001.log"

    static var fixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/wal-v1-golden.log").path
    }

    @Test func fixtureFileMatchesEmbeddedBytes() throws {
        let embedded = hexBytes(Self.goldenHex)
        #expect(embedded.count == 82)
        #expect(try readFile(Self.fixturePath) == embedded)
    }

    @Test func fixtureMatchesSpecComputedIndependently() {
        // Built from the spec with a bitwise CRC32C, not with the production encoder.
        let expected =
            referenceFileHeader(firstOpNum: 1)
            + referenceRecord(opNum: 1, syncedThrough: 0, payload: [0xAA])
            + referenceRecord(opNum: 2, syncedThrough: 1, payload: [0xBB])
        #expect(hexString(expected) == hexString(hexBytes(Self.goldenHex)))
        #expect(WALFormat.encodeFileHeader(firstOpNum: 1) == Array(expected[0..<32]))
    }

    @Test func writerProducesGoldenFileByteForByte() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, replayed) = try openLog(fs, dir, options: WALOptions(durability: .durable))
            #expect(replayed.isEmpty)
            #expect(try log.appendAndWait([0xAA]) == 1)
            #expect(try log.appendAndWait([0xBB]) == 2)
            log.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [Self.goldenFileName])
            let written = try readFile(joinPath(dir, Self.goldenFileName))
            #expect(hexString(written) == hexString(hexBytes(Self.goldenHex)))
        }
    }

    @Test func readerReadsGoldenFile() throws {
        try withTemporaryDirectory { dir in
            try writeFile(joinPath(dir, Self.goldenFileName), try readFile(Self.fixturePath))
            let (log, replayed) = try openLog(POSIXFileSystem(), dir)
            defer { log.close() }
            #expect(replayed == [ReplayedRecord(opNum: 1, payload: [0xAA]), ReplayedRecord(opNum: 2, payload: [0xBB])])
            let report = log.recoveryReport
            #expect(report.files == 1 && report.records == 2 && report.lastOpNum == 2 && report.cutTail == nil)
            #expect(log.lastOpNum == 2)
            // The next record continues the numbering.
            #expect(try log.appendAndWait([0xCC]) == 3)
        }
    }

    @Test func scannerReportsGoldenFileLayout() throws {
        let bytes = try readFile(Self.fixturePath)
        let scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
        #expect(scan.firstOpNum == 1)
        #expect(scan.stop == nil)
        #expect(scan.validEnd == 82)
        #expect(scan.records.map(\.opNum) == [1, 2])
        #expect(scan.records.map(\.syncedThrough) == [0, 1])
        #expect(scan.records.map(\.offset) == [0x20, 0x39])
        #expect(scan.records.map(\.payloadRange) == [0x38..<0x39, 0x51..<0x52])
    }
}
