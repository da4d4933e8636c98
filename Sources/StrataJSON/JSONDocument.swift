import CStrataJSON
import Foundation

/// A scanned JSON body: its bytes and the tape of its values (see strata_json.h).
/// Values are read on demand, with JSONDecoder's checks and JSONDecoder's
/// results: strings are checked (escapes, control characters, UTF-8) when read,
/// numbers are checked against the JSON grammar and converted when read.
final class JSONDocument {
    /// The body, borrowed: a document lives only inside `JSONBodyDecoder.decode`,
    /// which holds the bytes for its whole duration (decoded values are copies).
    let bytes: UnsafeRawBufferPointer
    private var tape: strata_json_tape

    /// The error JSONDecoder reports for a body it cannot read (syntax, a bad
    /// string, a number that does not fit): at the root, whatever the position.
    static func invalid() -> DecodingError {
        DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: [], debugDescription: "The given data was not valid JSON."))
    }

    /// The tape could not be allocated: not the client's fault; the caller maps
    /// an empty-path `.dataCorrupted` with this description to a server error.
    static let outOfMemoryDescription = "out of memory while reading the request body"

    static func outOfMemory() -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(codingPath: [], debugDescription: outOfMemoryDescription))
    }

    private init(bytes: UnsafeRawBufferPointer, tape: strata_json_tape) {
        self.bytes = bytes
        self.tape = tape
    }

    /// Scans `source` (borrowed for the document's lifetime); throws
    /// JSONDecoder's error when it is not one JSON value.
    static func scan(_ source: UnsafeRawBufferPointer, maxDepth: Int) throws(DecodingError) -> JSONDocument {
        guard let base = source.baseAddress, source.count > 0 else { throw invalid() }
        var tape = strata_json_tape()
        let result = strata_json_scan(
            base.assumingMemoryBound(to: UInt8.self), source.count, UInt32(clamping: maxDepth), &tape)
        guard result == 1 else {
            strata_json_tape_free(&tape)
            // -1: the tape could not grow (memory), which says nothing about the body.
            throw result < 0 ? outOfMemory() : invalid()
        }
        return JSONDocument(bytes: source, tape: tape)
    }

    deinit {
        strata_json_tape_free(&tape)
    }

    var base: UnsafePointer<UInt8> { UnsafePointer(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)) }

    @inline(__always) func entry(_ index: Int) -> strata_json_entry { tape.entries![index] }

    /// Runs `body` with the tape (for the C readers that take it whole).
    @inline(__always) func withTape<R>(_ body: (UnsafePointer<strata_json_tape>) -> R) -> R {
        withUnsafePointer(to: &tape) { body($0) }
    }

    @inline(__always) func kind(_ index: Int) -> strata_json_kind {
        strata_json_kind(rawValue: entry(index).kind_flags & 0xFF)
    }

    /// The index of the entry after the value at `index` (its subtree skipped).
    @inline(__always) func next(_ index: Int) -> Int {
        let entry = entry(index)
        switch entry.kind_flags & 0xFF {
        case STRATA_JSON_ARRAY.rawValue, STRATA_JSON_OBJECT.rawValue: return Int(entry.b)
        default: return index + 1
        }
    }

    /// The bytes of a string (between its quotes, escapes unresolved) or a number token.
    @inline(__always) func span(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let entry = entry(index)
        return UnsafeBufferPointer(start: base + Int(entry.a), count: Int(entry.b - entry.a))
    }

    // MARK: Strings

    /// The string at `index`, checked as JSONDecoder checks it.
    func string(_ index: Int) throws(DecodingError) -> String {
        let raw = span(index)
        if entry(index).kind_flags & STRATA_JSON_FLAG_ESCAPED == 0 {
            for byte in raw where byte < 0x20 { throw Self.invalid() }
            guard let text = String(validating: raw, as: UTF8.self) else { throw Self.invalid() }
            return text
        }
        guard let unescaped = Self.unescape(raw), let text = String(validating: unescaped, as: UTF8.self) else {
            throw Self.invalid()
        }
        return text
    }

    /// True when the string at `index` reads as exactly `text` (no allocation for plain strings).
    func stringEquals(_ index: Int, _ text: String) -> Bool {
        if entry(index).kind_flags & STRATA_JSON_FLAG_ESCAPED == 0 {
            let raw = span(index)
            var text = text
            return text.withUTF8 { utf8 in
                utf8.count == raw.count
                    && (raw.count == 0 || memcmp(utf8.baseAddress!, raw.baseAddress!, raw.count) == 0)
            }
        }
        return (try? string(index)) == text
    }

    /// Resolves escapes; nil for a raw control character, an unknown escape or
    /// a \u escape that is not a valid code point (lone or reversed surrogates).
    private static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var value: UInt32 = 0
            for k in at..<(at + 4) {
                let c = raw[k]
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }
        func append(scalar: UInt32) {
            if scalar < 0x80 {
                out.append(UInt8(scalar))
            } else if scalar < 0x800 {
                out.append(UInt8(0xC0 | scalar >> 6))
                out.append(UInt8(0x80 | scalar & 0x3F))
            } else if scalar < 0x10000 {
                out.append(UInt8(0xE0 | scalar >> 12))
                out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                out.append(UInt8(0x80 | scalar & 0x3F))
            } else {
                out.append(UInt8(0xF0 | scalar >> 18))
                out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                out.append(UInt8(0x80 | scalar & 0x3F))
            }
        }
        while i < raw.count {
            let c = raw[i]
            if c < 0x20 { return nil }
            if c != 0x5C {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { return nil }
            let escape = raw[i + 1]
            i += 2
            switch escape {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard let unit = hex4(i) else { return nil }
                i += 4
                switch unit {
                case 0xD800...0xDBFF:
                    guard i + 6 <= raw.count, raw[i] == 0x5C, raw[i + 1] == 0x75, let low = hex4(i + 2),
                        (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    i += 6
                    append(scalar: 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                case 0xDC00...0xDFFF: return nil
                default: append(scalar: unit)
                }
            default: return nil
            }
        }
        return out
    }

    // MARK: Numbers

    /// The number at `index` as JSONDecoder reads a Double: the nearest double;
    /// an infinite result, or zero from non-zero digits, does not fit.
    func double(_ index: Int) throws(DecodingError) -> Double {
        if entry(index).kind_flags & STRATA_JSON_FLAG_DOUBLE != 0 { return tape.numbers![index] }
        let token = span(index)
        var value = 0.0
        switch strata_json_number_f64(token.baseAddress!, token.count, &value) {
        case 1: return value
        case 0: return try Self.checked(Self.libraryDouble(token), token)
        default: throw Self.invalid()
        }
    }

    /// The nearest double with no range check (JSONDecoder's integer slow path).
    private func uncheckedDouble(_ index: Int) throws(DecodingError) -> Double {
        if entry(index).kind_flags & STRATA_JSON_FLAG_DOUBLE != 0 { return tape.numbers![index] }
        let token = span(index)
        var value = 0.0
        switch strata_json_number_f64(token.baseAddress!, token.count, &value) {
        case 1: return value
        case 0: return Self.libraryDouble(token)
        default: throw Self.invalid()
        }
    }

    /// The number at `index` as JSONDecoder reads a Float (the float nearest the decimal).
    func float(_ index: Int) throws(DecodingError) -> Float {
        let token = span(index)
        var value: Float = 0
        switch strata_json_number_f32(token.baseAddress!, token.count, &value) {
        case 1: return value
        case 0: return try Self.checked(Self.libraryFloat(token), token)
        default: throw Self.invalid()
        }
    }

    private static func withCString<R>(_ token: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<CChar>) -> R) -> R {
        var text = [CChar](repeating: 0, count: token.count + 1)
        for (k, byte) in token.enumerated() { text[k] = CChar(bitPattern: byte) }
        return text.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func libraryDouble(_ token: UnsafeBufferPointer<UInt8>) -> Double {
        withCString(token) { strtod($0, nil) }
    }

    private static func libraryFloat(_ token: UnsafeBufferPointer<UInt8>) -> Float {
        withCString(token) { strtof($0, nil) }
    }

    /// JSONDecoder's range check: infinite, or zero from non-zero digits, does not fit.
    private static func checked<F: BinaryFloatingPoint>(
        _ value: F, _ token: UnsafeBufferPointer<UInt8>
    )
        throws(DecodingError) -> F
    {
        guard value.isFinite, value != 0 || strata_json_number_is_zero(token.baseAddress!, token.count) == 1 else {
            throw invalid()
        }
        return value
    }

    /// The number at `index` as JSONDecoder reads an integer of type T: digits
    /// that fit; otherwise (a fraction or exponent) a double that is exactly an
    /// integer below 2^53; beyond that, JSONDecoder's own decimal path decides.
    func integer<T: FixedWidthInteger & Decodable>(_ index: Int, as type: T.Type) throws(DecodingError) -> T {
        let token = span(index)
        if strata_json_number_is_integer_syntax(token.baseAddress!, token.count) == 1 {
            if let value = Self.parseInteger(token, as: T.self) { return value }
            // Too large for T: JSONDecoder's exact double check fails too.
            throw Self.invalid()
        }
        let value = try uncheckedDouble(index)
        guard let integer = T(exactly: value) else { throw Self.invalid() }
        if value.magnitude < 9_007_199_254_740_992 { return integer }
        // Rare: a large integer written with a fraction or exponent.
        do {
            return try JSONDecoder().decode([T].self, from: Data([0x5B] + Array(token) + [0x5D]))[0]
        } catch {
            throw Self.invalid()
        }
    }

    private static func parseInteger<T: FixedWidthInteger>(_ token: UnsafeBufferPointer<UInt8>, as: T.Type) -> T? {
        var i = 0
        let negative = token[0] == 0x2D
        if negative {
            guard T.isSigned else {
                // "-0" is 0 for unsigned types too; any other negative does not fit.
                return token.count == 2 && token[1] == 0x30 ? 0 : nil
            }
            i = 1
        }
        // JSON forbids leading zeros ("01"): JSONDecoder refuses them.
        if token.count - i > 1, token[i] == 0x30 { return nil }
        var value: T = 0
        while i < token.count {
            let digit = T(token[i] &- 0x30)
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            i += 1
        }
        return value
    }
}
