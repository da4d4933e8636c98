import CStrataJSON
import Foundation
import StrataTestSupport
import Testing

/// The number reader (`strata_json_read_number`, the scan's) and the token
/// readers (`strata_json_number_f64`, `_f32`) against the C library, bit for
/// bit, on about 1.3 million tokens of the shapes that decide the rounding:
/// float32 values as clients print them, doubles with 17 digits, random digit
/// strings of 1...25 digits, exact halfway points between doubles (and between
/// floats) with one more or one less in the last digit, values near 2^53 and
/// 2^64, subnormal boundaries and huge exponents. A token a reader leaves to
/// the C library (status 0) is not compared; the counts show the readers take
/// almost everything else.
@Suite struct NumberDifferentialTests {
    /// One token in a reused C buffer (NUL-terminated for strtod), followed by
    /// a comma for the scan's reader.
    final class Checker {
        let text = UnsafeMutablePointer<CChar>.allocate(capacity: 1300)
        var checked = 0, converted = 0, failures: [String] = []

        deinit { text.deallocate() }

        func format(_ format: String, _ arguments: CVarArg...) {
            _ = withVaList(arguments) { vsnprintf(text, 1200, format, $0) }
        }

        func check() {
            let length = strlen(text)
            checked += 1
            let expected = strtod(text, nil).bitPattern
            let expected32 = strtof(text, nil).bitPattern
            text[length] = 0x2C  // ','
            defer { text[length] = 0 }
            text.withMemoryRebound(to: UInt8.self, capacity: length + 1) { bytes in
                var end = 0
                var value = 0.0
                let read = strata_json_read_number(bytes, length + 1, 0, &end, &value)
                if end != length { fail("end \(end)") }
                if read == 1 {
                    converted += 1
                    if value.bitPattern != expected { fail("read_number \(value)") }
                }
                var value64 = 0.0
                let status64 = strata_json_number_f64(bytes, length, &value64)
                if status64 < 0 { fail("not a number") }
                if status64 == 1 && value64.bitPattern != expected { fail("number_f64 \(value64)") }
                var value32: Float = 0
                if strata_json_number_f32(bytes, length, &value32) == 1 && value32.bitPattern != expected32 {
                    fail("number_f32 \(value32)")
                }
            }
        }

        private func fail(_ what: String) {
            text.withMemoryRebound(to: UInt8.self, capacity: 1300) { bytes in
                var length = 0
                while bytes[length] != 0 && bytes[length] != 0x2C { length += 1 }
                if failures.count < 20 {
                    failures.append(
                        "\(String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)): \(what)")
                }
            }
        }

        /// Changes the last digit of the significand (before any 'e') by `delta`
        /// when that needs no carry; false when it would.
        func nudgeLastDigit(_ delta: Int8) -> Bool {
            var at = strlen(text) - 1
            if let e = strchr(text, 0x65) { at = text.distance(to: e) - 1 }
            if text[at] == 0x2E { at -= 1 }  // '.'
            let digit = text[at] - 0x30 + CChar(delta)
            guard (0...9).contains(digit) else { return false }
            text[at] = digit + 0x30
            return true
        }

        /// Drops trailing zeros of a %e significand (an exact expansion ends in them).
        func trimZeros() {
            guard let e = strchr(text, 0x65) else { return }
            let exponent = String(cString: e)
            var at = text.distance(to: e) - 1
            while text[at] == 0x30 { at -= 1 }
            if text[at] == 0x2E { at -= 1 }
            _ = exponent.withCString { strcpy(text + at + 1, $0) }
        }
    }

    private static func randomDigits(_ checker: Checker, _ generator: inout SeededGenerator) {
        var token = ""
        if Bool.random(using: &generator) { token += "-" }
        let count = Int.random(in: 1...25, using: &generator)
        var digits = String(Int.random(in: 1...9, using: &generator))
        let run = Int.random(in: 0..<4, using: &generator) == 0 ? Int.random(in: 1...count, using: &generator) : count
        let filler: Character = Bool.random(using: &generator) ? "9" : "0"
        for k in 1..<count {
            digits.append(k >= run ? filler : Character(String(Int.random(in: 0...9, using: &generator))))
        }
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: token += digits
        case 1:
            let point = Int.random(in: 1...count, using: &generator)
            token += digits.prefix(point)
            if point < count { token += "." + digits.dropFirst(point) }
        default: token += "0." + String(repeating: "0", count: Int.random(in: 0...6, using: &generator)) + digits
        }
        if Int.random(in: 0..<4, using: &generator) != 0 { token += "e\(Int.random(in: -40...40, using: &generator))" }
        _ = token.withCString { strcpy(checker.text, $0) }
    }

    /// The exact midpoint between `value` and the next double up (54 bits: exact
    /// in Float80), printed in full, then one more and one less in its last digit.
    private static func halfway(_ checker: Checker, _ value: Double) {
        guard value.isFinite, value != 0, value.nextUp.isFinite else { return }
        let midpoint = (Float80(value) + Float80(value.nextUp)) / 2
        checker.format("%.800Le", midpoint)
        checker.trimZeros()
        checker.check()
        if checker.nudgeLastDigit(1) {
            checker.check()
            _ = checker.nudgeLastDigit(-1)
        }
        if checker.nudgeLastDigit(-1) { checker.check() }
    }

    @Test func readersAgreeWithTheCLibraryBitForBit() {
        var generator = SeededGenerator.forTest()
        let checker = Checker()
        let edges = [
            "9007199254740992", "9007199254740993", "9007199254740995", "9007199254740993.0000000001",
            "4503599627370496.5", "4503599627370497.5", "18446744073709551615", "18446744073709551616",
            "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "2.4703282292062327e-324",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "1e-400",
            "1.17549435e-38", "3.4028235e38", "3.40282357e38", "1e-342", "1e-343", "99999999999999999999e-20",
            "-0.0007521919906139374", "-0.00007521919906139374", "0.07420972734689713",
        ]
        for edge in edges {
            _ = edge.withCString { strcpy(checker.text, $0) }
            checker.check()
        }
        for round in 0..<100_000 {
            // float32 values widened to double: shortest (Python's repr) and with 17...20 digits.
            let float = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
            if float.isFinite {
                _ = "\(Double(float))".withCString { strcpy(checker.text, $0) }
                checker.check()
                checker.format("%.*g", Int32.random(in: 17...20, using: &generator), Double(float))
                checker.check()
            }
            let embedding = Double(Float(Double.random(in: -0.3...0.3, using: &generator)))
            _ = "\(embedding)".withCString { strcpy(checker.text, $0) }
            checker.check()
            // Doubles with 17 digits, anywhere, and with 15...20 digits in a moderate range.
            var double = Double(bitPattern: generator.next())
            if !double.isFinite { double = 1 }
            checker.format("%.17g", double)
            checker.check()
            checker.format(
                "%.*g", Int32.random(in: 15...20, using: &generator),
                Double.random(in: 1...2, using: &generator) * .pow2(Int.random(in: -80...80, using: &generator)))
            checker.check()
            for _ in 0..<2 {
                Self.randomDigits(checker, &generator)
                checker.check()
            }
            // Halfway points: 54-bit midpoints mostly where they have 16...40 digits.
            let significand = Double.random(in: 1..<2, using: &generator)
            Self.halfway(
                checker, significand * .pow2(Int.random(in: round % 4 == 0 ? -70...80 : 20...66, using: &generator)))
            if round % 4 == 0 {
                let low = Float(bitPattern: UInt32.random(in: 0x0080_0000..<0x7F00_0000, using: &generator))
                checker.format("%.70e", (Double(low) + Double(low.nextUp)) / 2)  // exact: 25 bits
                checker.trimZeros()
                checker.check()
                if checker.nudgeLastDigit(1) { checker.check() }
            }
            // Near 2^53 and 2^64; subnormal boundaries and huge exponents.
            checker.format(
                "%llu.%d", UInt64(1 << 53) &+ UInt64(bitPattern: Int64.random(in: -20...20, using: &generator)),
                Int32.random(in: 0...9, using: &generator))
            checker.check()
            checker.format("%llu", UInt64.max - UInt64.random(in: 0...5000, using: &generator))
            checker.check()
            if round % 8 == 0 {
                checker.format(
                    "%.*e", Int32.random(in: 15...20, using: &generator),
                    Double.random(in: 1..<2, using: &generator)
                        * .pow2(Int.random(in: -1074 ... -1015, using: &generator)))
                checker.check()
                checker.format(
                    "%de%d", Int32.random(in: 1...99999, using: &generator),
                    Int32.random(in: -350...320, using: &generator))
                checker.check()
            }
        }
        #expect(checker.failures.isEmpty, "\(checker.failures)")
        #expect(checker.checked > 1_000_000)
        // Everything but full-length halfway points and results outside the normal range.
        #expect(Double(checker.converted) > Double(checker.checked) * 0.7, "\(checker.converted) of \(checker.checked)")
    }
}

extension Double {
    fileprivate static func pow2(_ exponent: Int) -> Double { Double(sign: .plus, exponent: exponent, significand: 1) }
}
