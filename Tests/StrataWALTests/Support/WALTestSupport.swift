import Foundation
import StrataIO
import StrataWAL

// Helpers shared by the WAL tests: temporary directories, seeded randomness,
// opening a log and collecting what it replays, and raw file surgery.

/// A repeatable random generator (SplitMix64). Every test that uses one prints
/// its seed; rerun a failure with `STRATA_TEST_SEED=<seed>`.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        self.state = seed
    }

    /// Seed from `STRATA_TEST_SEED`, else a fresh one; prints it with the test's name.
    static func forTest(_ name: String = #function) -> SeededGenerator {
        let seed = ProcessInfo.processInfo.environment["STRATA_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max)
        print("[\(name)] seed \(seed) (rerun with STRATA_TEST_SEED=\(seed))")
        return SeededGenerator(seed: seed)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

/// A value guarded by a lock, for collecting results from callbacks on other threads.
final class Locked<Value>: @unchecked Sendable {
    // SAFETY: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

/// A fresh directory under the system temp directory, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "strata-wal-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "strata-wal-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

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

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
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
func referenceFileHeader(firstOpNum: UInt64, version: UInt32 = 1, flags: UInt32 = 0, magic: [UInt8] = Array("STRATWAL".utf8)) -> [UInt8] {
    var header = magic
    withUnsafeBytes(of: version.littleEndian) { header += $0 }
    withUnsafeBytes(of: flags.littleEndian) { header += $0 }
    withUnsafeBytes(of: firstOpNum.littleEndian) { header += $0 }
    withUnsafeBytes(of: referenceMask(referenceCRC32C(header)).littleEndian) { header += $0 }
    header += [0, 0, 0, 0]
    return header
}

func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { $0.isHexDigit })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
