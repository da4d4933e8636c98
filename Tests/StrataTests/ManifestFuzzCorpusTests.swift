import Foundation
import StrataFuzzChecks
import StrataIO
import StrataTestSupport
import Testing

/// Replays the committed corpus of the `ManifestFuzz` target (fuzz/corpus/manifest:
/// seeds cut from real MANIFEST files, plus any input that ever crashed the target)
/// through the same checks the fuzzer runs (`ManifestFuzzCheck` in StrataTestSupport).
@Suite struct ManifestFuzzCorpusTests {
    static var corpusDirectory: String { FuzzCorpus.directory("manifest") }

    static func corpusFiles() throws -> [String] { try FuzzCorpus.files("manifest") }

    @Test func seedCorpusIsThere() throws {
        let names = try Self.corpusFiles().map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(names.count >= 8, "the seed corpus is missing: \(Self.corpusDirectory)")
        #expect(names.contains("seed-v1-one-segment") && names.contains("seed-v2-segment-and-index"))
    }

    /// In a child process, so that an input that traps fails this test instead of
    /// killing the test run. The real manifests decode; the damaged ones do not.
    @Test func everyCorpusInputPassesTheFuzzChecks() async {
        await #expect(processExitsWith: .success) {
            let results = try await runOnThread {
                try ManifestFuzzCorpusTests.corpusFiles().map { path in
                    (URL(fileURLWithPath: path).lastPathComponent, ManifestFuzzCheck.run(try readFile(path)))
                }
            }
            // A precondition, not #expect: this runs in the child process.
            let valid = [
                "seed-v1-empty", "seed-v1-one-segment", "seed-v2-empty", "seed-v2-segment-and-index",
                "seed-v2-tombstones", "seed-v2-bad-crc",
            ]
            let wrong = results.filter { $0.0.hasPrefix("seed-") && $0.1 != valid.contains($0.0) }.map(\.0)
            precondition(wrong.isEmpty, "seeds that decode when they should not, or the reverse: \(wrong)")
        }
    }

    /// Regenerates the seeds from a real collection. Off by default (it writes into
    /// the source tree); run with
    /// `STRATA_WRITE_MANIFEST_FUZZ_SEEDS=1 swift test --filter ManifestFuzzCorpusTests`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STRATA_WRITE_MANIFEST_FUZZ_SEEDS"] == "1"))
    func writeFuzzSeedCorpus() async throws {
        let out = Self.corpusDirectory
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let seeds = try await runOnThread { try ManifestFuzzCheck.seeds().map { ($0.name, $0.bytes) } }
        for (name, bytes) in seeds { try writeFile(joinPath(out, "seed-" + name), bytes) }
    }
}
