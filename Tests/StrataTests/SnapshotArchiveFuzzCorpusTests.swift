import Foundation
import StrataFuzzChecks
import StrataIO
import StrataTestSupport
import Testing

/// Replays the committed corpus of the `SnapshotArchiveFuzz` target
/// (fuzz/corpus/snapshot-archive: real archives, hostile archives derived from them,
/// and any input that ever crashed the target) through the same checks the fuzzer
/// runs (`SnapshotArchiveFuzzCheck` in StrataTestSupport): verify, then restore into
/// a fresh in-memory database, raw and with every checksum recomputed.
@Suite struct SnapshotArchiveFuzzCorpusTests {
    static var corpusDirectory: String { FuzzCorpus.directory("snapshot-archive") }

    static func corpusFiles() throws -> [String] { try FuzzCorpus.files("snapshot-archive") }

    @Test func seedCorpusIsThere() throws {
        let names = try Self.corpusFiles().map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(
            names.filter { $0.hasSuffix(".snapshot") }.count >= 3, "the seed corpus is missing: \(Self.corpusDirectory)"
        )
        #expect(names.filter { $0.hasPrefix("seed-hostile-") }.count >= 10)
    }

    /// In a child process, so that an input that traps fails this test instead of
    /// killing the test run. Real archives verify (an incremental one alone cannot:
    /// its base is missing); no hostile one does, even with its checksums fixed.
    @Test func everyCorpusInputPassesTheFuzzChecks() async {
        await #expect(processExitsWith: .success) {
            let results = try await runOnThread {
                try SnapshotArchiveFuzzCorpusTests.corpusFiles().map { path in
                    (URL(fileURLWithPath: path).lastPathComponent, SnapshotArchiveFuzzCheck.run(try readFile(path)))
                }
            }
            // A precondition, not #expect: this runs in the child process.
            let wrong = results.filter { name, verified in
                name.hasPrefix("seed-") && verified != (name.hasSuffix(".snapshot") && !name.contains("incremental"))
            }.map(\.0)
            precondition(wrong.isEmpty, "seeds that verify when they should not, or the reverse: \(wrong)")
        }
    }

    /// Regenerates the seeds from a real database. Off by default (it writes into
    /// the source tree); run with
    /// `STRATA_WRITE_SNAPSHOT_FUZZ_SEEDS=1 swift test --filter SnapshotArchiveFuzzCorpusTests`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STRATA_WRITE_SNAPSHOT_FUZZ_SEEDS"] == "1"))
    func writeFuzzSeedCorpus() async throws {
        let out = Self.corpusDirectory
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for (name, bytes) in try await SnapshotArchiveFuzzCheck.seeds() {
            try writeFile(joinPath(out, "seed-" + name), bytes)
        }
    }
}
