import CStrataJSON
import Foundation
import StrataTestSupport
import Testing

@testable import StrataJSON

/// The exact fast path against the C library on numbers of every shape clients send.
@Suite struct NumberConversionTests {
    private func fast32(_ text: String) -> (Int32, Float) {
        var value: Float = 0
        let result = Array(text.utf8).withUnsafeBufferPointer {
            strata_json_number_f32($0.baseAddress!, $0.count, &value)
        }
        return (result, value)
    }

    private func fast64(_ text: String) -> (Int32, Double) {
        var value = 0.0
        let result = Array(text.utf8).withUnsafeBufferPointer {
            strata_json_number_f64($0.baseAddress!, $0.count, &value)
        }
        return (result, value)
    }

    @Test func agreesWithTheCLibraryOnRandomTokens() {
        var generator = SeededGenerator.forTest()
        var checked = 0
        for _ in 0..<200_000 {
            let text: String
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: text = "\(Double(Float.random(in: -1...1, using: &generator)))"  // float32 as a double, 17 digits
            case 1: text = "\(Float.random(in: -1e6...1e6, using: &generator))"
            case 2:
                text = String(
                    format: "%.*g", Int.random(in: 1...19, using: &generator),
                    Double.random(in: -1e30...1e30, using: &generator))
            default:
                // Near a float halfway point: double rounding would go wrong here.
                let f = Float(bitPattern: UInt32.random(in: 0x0080_0000..<0x7F00_0000, using: &generator))
                let mid = (Double(f) + Double(f.nextUp)) / 2
                text = String(format: "%.*g", Int.random(in: 9...19, using: &generator), mid)
            }
            let (r32, v32) = fast32(text)
            let (r64, v64) = fast64(text)
            #expect(r32 >= 0 && r64 >= 0, "\(text) is a JSON number")
            if r32 == 1 {
                #expect(v32.bitPattern == strtof(text, nil).bitPattern, "\(text)")
                checked += 1
            }
            if r64 == 1 { #expect(v64.bitPattern == strtod(text, nil).bitPattern, "\(text)") }
        }
        #expect(checked > 140_000, "the fast path takes most tokens")
    }

    /// The scan's one-pass reader: the token ends where the scan's rule ends it
    /// (the run of number bytes), and a value it converts is the C library's,
    /// bit for bit; tokens that are not JSON syntax are never converted.
    @Test func scanReaderAgreesWithTheTokenReader() {
        var generator = SeededGenerator.forTest()
        let numberBytes = Set("0123456789.eE+-".utf8)
        let alphabet = Array("0123456789.eE+-0123456789x, ]".utf8)
        var converted = 0
        for _ in 0..<200_000 {
            var token: [UInt8]
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: token = Array("\(Double(Float.random(in: -1...1, using: &generator)))".utf8)
            case 1:
                token = Array(
                    String(
                        format: "%.*f", Int.random(in: 0...21, using: &generator),
                        Double.random(in: -10...10, using: &generator)
                    ).utf8)
            case 2:
                token = Array(
                    String(
                        format: "%.*g", Int.random(in: 1...20, using: &generator),
                        Double.random(in: -1e30...1e30, using: &generator)
                    ).utf8)
            default:
                token = [Int.random(in: 0..<2, using: &generator) == 0 ? UInt8(ascii: "-") : UInt8(ascii: "7")]
                for _ in 0..<Int.random(in: 0...23, using: &generator) {
                    token.append(alphabet.randomElement(using: &generator)!)
                }
            }
            // What follows the token (or nothing): the 8-byte reads must stop at the body's end.
            var body = token
            for _ in 0..<Int.random(in: 0...9, using: &generator) {
                body.append(Array(",] }x".utf8).randomElement(using: &generator)!)
            }
            var expectedEnd = 1
            while expectedEnd < body.count && numberBytes.contains(body[expectedEnd]) { expectedEnd += 1 }
            var end = 0
            var value = 0.0
            let result = body.withUnsafeBufferPointer {
                strata_json_read_number($0.baseAddress!, $0.count, 0, &end, &value)
            }
            let text = String(decoding: body[..<expectedEnd], as: UTF8.self)
            #expect(end == expectedEnd, "\(text)")
            let (syntax, _) = fast64(text)
            if result == 1 {
                converted += 1
                #expect(syntax >= 0, "\(text) is not a JSON number but was converted")
                #expect(value.bitPattern == strtod(text, nil).bitPattern, "\(text)")
            }
        }
        #expect(converted > 100_000, "the scan converts most tokens")
    }

    @Test func refusesWhatIsNotJSONNumberSyntax() {
        for text in ["01", "1.", ".5", "-", "1e", "1e+", "--1", "1-2", "+1", "1.e5", "0x1", "", "-01", "1E5x", "1 "] {
            #expect(fast32(text).0 == -1, "\(text)")
            #expect(fast64(text).0 == -1, "\(text)")
        }
    }

    @Test func leavesTheEdgesToTheCLibrary() {
        // More than 19 digits, huge exponents, subnormals, overflow: 0 (slow path), never a wrong value.
        for text in ["123456789012345678901", "1e400", "1e-40", "3.5e38", "1e-320", "0e999999"] {
            #expect(fast32(text).0 == 0, "\(text)")
        }
        #expect(fast64("1e-19") == (1, 1e-19))
        #expect(fast32("-0").1.sign == .minus)
        #expect(fast32("0.000e5") == (1, 0))
    }
}
