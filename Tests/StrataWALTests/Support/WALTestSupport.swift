import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport

// Helpers shared by the WAL tests: temporary directories, seeded randomness,
// opening a log and collecting what it replays, and raw file surgery.

/// One record as replayed at open.
struct ReplayedRecord: Equatable, CustomStringConvertible {
    let opNum: UInt64
    let payload: [UInt8]
    var description: String { "op \(opNum) (\(payload.count) bytes)" }
}

/// Opens the log in `directory`, collecting every replayed record.
func openLog(
    _ fileSystem: any FileSystem, _ directory: String, options: WALOptions = WALOptions()
) throws -> (log: WriteAheadLog, records: [ReplayedRecord]) {
    var records: [ReplayedRecord] = []
    let log = try WriteAheadLog.open(fileSystem: fileSystem, directory: directory, options: options) { op, payload in
        records.append(ReplayedRecord(opNum: op, payload: Array(payload)))
    }
    return (log, records)
}

/// Opens, collects the replayed records, and closes again.
func replayLog(
    _ fileSystem: any FileSystem, _ directory: String, options: WALOptions = WALOptions()
) throws -> (records: [ReplayedRecord], report: WALRecoveryReport) {
    let (log, records) = try openLog(fileSystem, directory, options: options)
    log.close()
    return (records, log.recoveryReport)
}

/// The `WALError` that `body` throws, or nil (and a test failure is up to the caller).
func walError(_ body: () throws -> Void) -> WALError? {
    do {
        try body()
        return nil
    } catch let error as WALError {
        return error
    } catch {
        return WALError(code: .init(rawValue: "unexpected: \(error)"), message: "\(error)")
    }
}

/// The log files (names) in `directory`, oldest first.
func logFileNames(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { WALFormat.firstOpNum(fromFileName: $0) != nil }
        .sorted()
}

/// Byte offsets at which each record starts in a file holding records with
/// these payload sizes after the 32-byte header; the last element is the end.
func recordBoundaries(payloadSizes: [Int]) -> [Int] {
    var offsets = [WALFormat.fileHeaderSize]
    for size in payloadSizes { offsets.append(offsets.last! + WALFormat.recordHeaderSize + size) }
    return offsets
}

/// A small, slow, obviously-correct CRC32C (bitwise, reflected polynomial
/// 0x82F63B78), to check stored checksums independently of the production code.
func referenceCRC32C(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F6_3B78 : 0) }
    }
    return crc ^ 0xFFFF_FFFF
}

/// The masking of `docs/format/wal.md`, written out from the spec.
func referenceMask(_ crc: UInt32) -> UInt32 {
    ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
}

/// Builds a record exactly as the spec describes it, without the production encoder.
func referenceRecord(opNum: UInt64, syncedThrough: UInt64, payload: [UInt8]) -> [UInt8] {
    var body: [UInt8] = []
    withUnsafeBytes(of: UInt32(payload.count).littleEndian) { body += $0 }
    withUnsafeBytes(of: opNum.littleEndian) { body += $0 }
    withUnsafeBytes(of: syncedThrough.littleEndian) { body += $0 }
    body += payload
    var record: [UInt8] = []
    withUnsafeBytes(of: referenceMask(referenceCRC32C(body)).littleEndian) { record += $0 }
    return record + body
}

/// Builds a file header exactly as the spec describes it.
func referenceFileHeader(
    firstOpNum: UInt64, version: UInt32 = 1, flags: UInt32 = 0, magic: [UInt8] = Array("STRATWAL".utf8)
) -> [UInt8] {
    var header = magic
    withUnsafeBytes(of: version.littleEndian) { header += $0 }
    withUnsafeBytes(of: flags.littleEndian) { header += $0 }
    withUnsafeBytes(of: firstOpNum.littleEndian) { header += $0 }
    withUnsafeBytes(of: referenceMask(referenceCRC32C(header)).littleEndian) { header += $0 }
    header += [0, 0, 0, 0]
    return header
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
