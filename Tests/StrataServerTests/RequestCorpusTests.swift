import Foundation
import StrataServer
import Testing

/// Replays the request-decoding fuzz corpus (fuzz/corpus/request) on every
/// `swift test`, so an input that once crashed `RequestDecodingFuzz` stays fixed.
@Suite struct RequestCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/request")

    @Test func everyCorpusFileDecodesWithoutTrapping() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.corpus, includingPropertiesForKeys: nil)
        #expect(files.count >= 8)
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            let kinds = RequestDecoding.decodeEveryRequestKind(bytes)
            if !file.lastPathComponent.hasPrefix("regression-") {
                #expect(kinds > 0, "\(file.lastPathComponent) decoded as no request kind")
            }
            _ = RequestDecoding.decodeEveryRequestKind(bytes, maxDepth: 2)
        }
    }

    @Test func hostileShapesEndInErrors() {
        let inputs = [
            "", "null", "[]", "\"", "{\"points\":[{\"id\":18446744073709551616,\"vector\":[]}]}",
            String(repeating: "{\"a\":", count: 10_000),
            "{\"limit\":9223372036854775807,\"offset\":9223372036854775807,\"query\":[1,2]}",
            "{\"vector\":[1e308,-1e308]}", "\u{FEFF}{}", "{\"with_payload\":{\"include\":[\"\"],\"exclude\":[]}}",
        ]
        for input in inputs { _ = RequestDecoding.decodeEveryRequestKind(Array(input.utf8)) }
    }
}
