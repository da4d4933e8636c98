import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// Every file in `fuzz/corpus/wal/` (seeds made by the real writer, plus any
/// input the fuzzer ever crashed on) goes through the scanner and through
/// `WriteAheadLog.open`: each must give a result or a typed error, never a trap.
@Suite struct WALFuzzCorpusTests {
    static var corpusDirectory: String { FuzzCorpus.directory("wal") }

    static func corpusFiles() throws -> [String] { try FuzzCorpus.files("wal") }

    @Test func everyFuzzCorpusFileScansWithoutTrapping() throws {
        let files = try Self.corpusFiles()
        #expect(files.count >= 5, "the seed corpus is missing: \(Self.corpusDirectory)")
        for path in files {
            let bytes = try readFile(path)
            do {
                let scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
                #expect(scan.validEnd <= bytes.count, "\(path)")
                #expect(
                    scan.records.enumerated().allSatisfy { $0.element.opNum == scan.firstOpNum + UInt64($0.offset) },
                    "\(path)")
            } catch {
                // FormatError is a fine answer for a bad header.
            }
        }
    }

    /// Replays what `WALScannerFuzz` does with each corpus file (split at each
    /// magic into files named by their headers; raw, then with checksums
    /// recomputed; open, append, reopen), in a child process so that an input
    /// that traps fails this test instead of killing the test run.
    @Test func everyFuzzCorpusFileOpensOrFailsWithWALError() async {
        await #expect(processExitsWith: .success) {
            do {
                for path in try WALFuzzCorpusTests.corpusFiles() {
                    let input = try readFile(path)
                    let fixed = fixChecksums(input)
                    try replayLikeTheFuzzTarget(splitAtMagic(input), path)
                    try replayLikeTheFuzzTarget(splitAtMagic(fixed).map(fixChecksums), path)
                }
            } catch {
                print("corpus replay failed: \(error)")
                exit(2)
            }
        }
    }

    // MARK: - Seed generation

    /// Regenerates the seed corpus from the real writer. Off by default (it
    /// writes into the source tree); run with
    /// `STRATA_WRITE_WAL_FUZZ_SEEDS=1 swift test --filter writeFuzzSeedCorpus`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STRATA_WRITE_WAL_FUZZ_SEEDS"] == "1"))
    func writeFuzzSeedCorpus() async throws {
        let out = Self.corpusDirectory
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let fs = POSIXFileSystem()
        func save(_ name: String, _ bytes: [UInt8]) throws {
            #expect(bytes.count < 4096, "\(name) is \(bytes.count) bytes")
            try writeFile(joinPath(out, name), bytes)
        }
        func files(_ dir: String) throws -> [[UInt8]] {
            try logFileNames(dir).map { try readFile(joinPath(dir, $0)) }
        }

        // Header only: a fresh log.
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(fs, dir)
            log.close()
            try save("seed-empty-log.log", try files(dir)[0])
        }
        // Durable, one group per record, sizes 0..~300.
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(fs, dir)
            for size in [0, 1, 7, 24, 100, 3, 0, 300, 2] {
                _ = try log.appendAndWait((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ size) })
            }
            log.close()
            let bytes = try files(dir)[0]
            try save("seed-durable-groups.log", bytes)
            // The same file torn in its last record, and with zeros after a tear.
            try save("seed-torn-tail.log", Array(bytes[0..<(bytes.count - 3)]))
            try save("seed-torn-tail-zeros.log", Array(bytes[0..<(bytes.count - 5)]) + [UInt8](repeating: 0, count: 40))
            // Damage to a synced record followed by later groups (corruption).
            var damaged = bytes
            damaged[32 + 24 + 5] ^= 0x20
            try save("seed-corrupt-synced-record.log", damaged)
        }
        // Group commit: concurrent appends, multi-record groups.
        try await withTemporaryDirectory { dir in
            let (log, _) = try openLog(fs, dir)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<6 {
                    group.addTask { for i in 0..<6 { _ = try await log.append([UInt8(task), UInt8(i), 0x5A]) } }
                }
                try await group.waitForAll()
            }
            log.close()
            try save("seed-group-commit.log", try files(dir)[0])
        }
        // Relaxed mode: nothing synced, every synced_through 0.
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(
                fs, dir, options: WALOptions(durability: .periodic(intervalMilliseconds: 3_600_000)))
            for i in 0..<12 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: i * 3)) }
            log.close()
            let bytes = try files(dir)[0]
            try save("seed-periodic.log", bytes)
            // An unsynced group whose middle page was lost: torn, not corrupt.
            var torn = bytes
            for i in (32 + 24 + 30)..<(32 + 24 + 60) { torn[i] = 0 }
            try save("seed-periodic-lost-middle.log", torn)
        }
        // Rotation: several files, concatenated (the fuzz target splits at each magic).
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(fs, dir, options: WALOptions(maxFileSize: 200))
            for i in 0..<9 { _ = try log.appendAndWait([UInt8](repeating: UInt8(i), count: 40)) }
            _ = try log.removeFiles(below: 3)
            log.close()
            try save("seed-rotated-files.log", try files(dir).reduce([], +))
        }
        // A log whose first file starts far from 1 (older files truncated away).
        try save(
            "seed-starts-at-op-1000.log",
            referenceFileHeader(firstOpNum: 1000)
                + referenceRecord(opNum: 1000, syncedThrough: 999, payload: [1, 2, 3])
                + referenceRecord(opNum: 1001, syncedThrough: 1000, payload: []))
        // The spec's worked example.
        try save("seed-golden-v1.log", hexBytes(WALGoldenFixtureTests.goldenHex))
    }
}

// MARK: - The fuzz target's handling of an input, for the corpus replay

/// Splits at each occurrence of "STRATWAL" after the first byte.
private func splitAtMagic(_ input: [UInt8]) -> [[UInt8]] {
    let magic = WALFormat.magic
    var files: [[UInt8]] = []
    var start = 0
    var i = 1
    while i + magic.count <= input.count {
        if Array(input[i..<(i + magic.count)]) == magic {
            files.append(Array(input[start..<i]))
            start = i
            i += magic.count
        } else {
            i += 1
        }
    }
    files.append(Array(input[start...]))
    return files
}

/// Recomputes the header CRC and every record CRC whose length fits.
private func fixChecksums(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    guard bytes.count >= WALFormat.fileHeaderSize else { return bytes }
    func store(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { for k in 0..<4 { bytes[offset + k] = $0[k] } }
    }
    store(referenceMask(referenceCRC32C(bytes[0..<24])), at: 24)
    var offset = WALFormat.fileHeaderSize
    while bytes.count - offset >= WALFormat.recordHeaderSize {
        let length = Int(bytes[(offset + 4)..<(offset + 8)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= bytes.count - offset - WALFormat.recordHeaderSize else { break }
        let end = offset + WALFormat.recordHeaderSize + length
        store(referenceMask(referenceCRC32C(bytes[(offset + 4)..<end])), at: offset)
        offset = end
    }
    return bytes
}

/// Writes the files (named by the first op their header claims) to a fresh
/// directory, opens the log, and if it opens: appends one record, reopens, and
/// checks the records are the same plus that one. Traps or exits on violations.
private func replayLikeTheFuzzTarget(_ files: [[UInt8]], _ source: String) throws {
    try withTemporaryDirectory { dir in
        for (index, bytes) in files.enumerated() {
            var op = UInt64(index + 1)
            if bytes.count >= 24 {
                let claimed = bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if claimed > 0 { op = claimed }
            }
            try writeFile(joinPath(dir, WALFormat.fileName(firstOpNum: op)), bytes)
        }
        let log: WriteAheadLog
        let first: [ReplayedRecord]
        do {
            (log, first) = try openLog(POSIXFileSystem(), dir)
        } catch is WALError {
            return
        }
        precondition(
            first.map(\.opNum) == first.indices.map { first.first!.opNum + UInt64($0) }, "\(source): ops not contiguous"
        )
        let next = try log.appendAndWait([0xF0, 0x0D])
        log.close()
        precondition(next == log.recoveryReport.lastOpNum + 1, "\(source): append got op \(next)")
        let (second, report) = try replayLog(POSIXFileSystem(), dir)
        precondition(report.cutTail == nil, "\(source): reopen cut a tail")
        precondition(
            second == first + [ReplayedRecord(opNum: next, payload: [0xF0, 0x0D])], "\(source): reopen differs")
    }
}
