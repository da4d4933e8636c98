import Foundation
import StrataFuzzChecks
import StrataTestSupport
import Testing

/// Replays the committed corpus of the `PayloadFilterFuzz` target (fuzz/corpus/payload-filter,
/// seeds and regression inputs) through the same checks the fuzzer runs.
@Suite struct PayloadFilterFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fuzz/corpus/payload-filter").standardizedFileURL.path

    @Test func everyCorpusInputPassesTheFuzzChecks() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).sorted()
        #expect(files.count >= 10)
        var parsed = 0
        for file in files {
            let bytes = try #require(FileManager.default.contents(atPath: Self.corpus + "/" + file))
            if PayloadFilterFuzzCheck.run(Array(bytes)) { parsed += 1 }
        }
        // The seeds are valid inputs: each reaches the checks behind the parser.
        #expect(parsed >= 10, "only \(parsed) of \(files.count) corpus inputs parsed")
    }
}
