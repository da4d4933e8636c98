import Foundation
import StrataTestSupport
import Testing

@testable import StrataServer

/// The fast request decoder against Foundation's JSONDecoder (its reference):
/// the same value or the same error for every request kind, on the fuzz corpus,
/// on JSONDecoder's known quirks and on mutated bodies.
@Suite struct RequestDecodingReferenceTests {
    private func expectAgreement(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let difference = RequestDecoding.disagreement(Array(body.utf8))
        #expect(difference == nil, "\(body.prefix(300)): \(difference ?? "")", sourceLocation: sourceLocation)
    }

    @Test func agreesOnTheRequestCorpus() throws {
        let files = try FileManager.default.contentsOfDirectory(
            at: RequestCorpusTests.corpus, includingPropertiesForKeys: nil)
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            let difference = RequestDecoding.disagreement(bytes)
            #expect(difference == nil, "\(file.lastPathComponent): \(difference ?? "")")
        }
    }

    @Test func agreesOnJSONDecoderQuirks() {
        let bodies = [
            // Trailing commas are accepted; two are not.
            #"{"points":[{"id":1,"vector":[1,2,],},]}"#, #"{"points":[{"id":1,"vector":[1,2,,]}]}"#,
            #"{"points":[,]}"#, #"{,}"#, "{}", "[]", "null", "1", #""x""#, "\u{FEFF}{}", "{}\u{FEFF}", "{} x",
            // Unused values are not checked: bad numbers, escapes, UTF-8, control characters.
            #"{"limit":3,"junk":01}"#, #"{"limit":3,"junk":"\q"}"#, #"{"limit":3,"junk":"\ud800"}"#,
            "{\"limit\":3,\"junk\":\"\u{1}\"}", #"{"limit":3,"junk":1-2}"#, #"{"limit":3,"junk":[1e999]}"#,
            // Used ones are.
            #"{"limit":01}"#, #"{"limit":"\q"}"#, "{\"limit\":3,\"\u{1}\":1}", #"{"limit":1e999}"#,
            // `\u` takes four more bytes in the scan, whatever they are (a quote among them
            // does not end the string); their meaning is checked only when the string is read.
            #"{"limit":3,"junk":"\u12"}"#, #"{"limit":3,"junk":"\uZZZZ"}"#, #"{"limit":3,"junk":{"q\ury":1}}"#,
            #"{"limit":3,"junk":"\u"}"#, #"{"limit":3,"junk":"\u"}","x":"}"#, #"{"limit":"\uZZZZ"}"#,
            // Duplicate keys: the first wins.
            #"{"limit":3,"limit":"x"}"#, #"{"with_payload":true,"with_payload":false,"limit":2}"#,
            // Integers written as fractions or exponents.
            #"{"limit":1.0}"#, #"{"limit":1e1}"#, #"{"limit":1.5}"#, #"{"limit":-0}"#, #"{"limit":-0.0}"#,
            #"{"limit":1e-400}"#, #"{"limit":18446744073709551616}"#, #"{"limit":9.3e18}"#,
            #"{"offset":9007199254740993.0}"#, #"{"limit":-1}"#, #"{"points":[-0]}"#, #"{"points":[-00]}"#,
            // Floats at the edges of float32 and float64.
            #"{"vector":[3.4028235e38,1e-45,1e-46,-1e-50,0e-999,1.7976931348623157e308,2e308]}"#,
            #"{"vector":[0.10000000149011612,1.00000005960464477539062500000001,123456789012345678901234]}"#,
            #"{"score_threshold":1e-320,"vector":[1]}"#, #"{"score_threshold":4.9e-324,"vector":[1]}"#,
            #"{"vector":[null]}"#, #"{"vector":[[1,2],[3,4]]}"#, #"{"vector":{"a":[1]}}"#, #"{"vector":"x"}"#,
            // Strings: escapes, surrogates, UTF-8.
            #"{"points":[{"id":"550e8400-e29b-41d4-a716-446655440000","vector":[1],"payload":{"a\u00e9\ud83d\ude00":"\/\b\f\n\r\t\"\\"}}]}"#,
            #"{"points":[{"id":1,"vector":[1],"payload":{"a":"\ud83d"}}]}"#,
            #"{"points":[{"id":1,"vector":[1],"payload":{"a":"\ude00\ud83d"}}]}"#,
            #"{"points":[{"id":1,"vector":[1],"payload":{"a":1.0,"b":1e2,"c":1.5e17,"d":-0.0,"e":1e400,"f":[1,2.5,"x",null,true,{}]}}]}"#,
            #"{"points":[{"id":1,"vector":[1],"payload":{"a":1,"a":2,"b":{"c":1,"c":{"d":[]}}}}]}"#,
            #"{"points":[{"id":1,"vector":[1],"payload":{"\u0041":1,"A":2}}]}"#,
            #"{"filter":{"must":[{"key":"a","match":{"value":1.0}}]}}"#,
            #"{"filter":{"must":[{"key":"a","range":{"gte":1e-400}}]}}"#,
        ]
        for body in bodies { expectAgreement(body) }
        // Bytes that are not UTF-8, used and unused.
        for bytes: [UInt8] in [
            Array(#"{"limit":3,"junk":""#.utf8) + [0xFF] + Array(#""}"#.utf8),
            Array(#"{"points":[{"id":1,"vector":[1],"payload":{"a":""#.utf8) + [0xC0, 0x80] + Array(#""}}]}"#.utf8),
            Array(#"{"limit":3,""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"":1}"#.utf8),
        ] {
            let difference = RequestDecoding.disagreement(bytes)
            #expect(difference == nil, "\(bytes): \(difference ?? "")")
        }
    }

    @Test func agreesOnGeneratedUpserts() {
        var generator = SeededGenerator(seed: 25)
        for _ in 0..<40 {
            var points: [String] = []
            for id in 0..<Int.random(in: 1...20, using: &generator) {
                let dimension = Int.random(in: 1...64, using: &generator)
                let vector = (0..<dimension).map { _ -> String in
                    let value = Float.random(in: -2...2, using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: return "\(Double(value))"  // a float32 as a 17-digit double, as numpy clients send
                    case 1: return "\(value)"
                    case 2: return "\(value * 1e-6)"
                    default: return String(format: "%.3e", value)
                    }
                }
                points.append(
                    #"{"id":\#(id),"vector":[\#(vector.joined(separator: ","))],"payload":{"n":\#(id),"f":\#(Double(id) / 7),"s":"t\#(id)"}}"#
                )
            }
            expectAgreement(#"{"points":[\#(points.joined(separator: ","))]}"#)
        }
    }

    @Test func agreesOnMutatedBodies() throws {
        let files = try FileManager.default.contentsOfDirectory(
            at: RequestCorpusTests.corpus, includingPropertiesForKeys: nil)
        let seeds = try files.map { Array(try Data(contentsOf: $0)) }.filter { !$0.isEmpty && $0.count < 4096 }
        let alphabet = Array(#"{}[],:"\-0123456789.eE+ tfnulx\/"#.utf8) + [0x00, 0x1F, 0xFF, 0xC3, 0xA9]
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            var bytes = seeds.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                default: bytes[at] = alphabet.randomElement(using: &generator)!
                }
                if bytes.isEmpty { bytes = [0x7B, 0x7D] }
            }
            // Mutations can leave several errors in one object: only the decision and values must agree.
            let difference = RequestDecoding.disagreement(bytes, messages: false)
            #expect(difference == nil, "\(String(decoding: bytes, as: UTF8.self)): \(difference ?? "")")
        }
    }
}
