import StrataModel

/// Encodes response bodies as compact JSON bytes, written straight into a byte
/// buffer as the `Encodable` values call in (no intermediate tree), with the
/// tokens `JSONEncoder` (`outputFormatting = .withoutEscapingSlashes`) writes:
/// the same number text (integers in full, floating-point numbers as Swift's
/// shortest round-trip `description` without a trailing `.0`), the same string
/// escapes, `{}` for a value that encodes nothing, and the same
/// `EncodingError.invalidValue` (path and message) for NaN and infinity.
///
/// One difference in the bytes, by design: members of an object come out in
/// the order the `Encodable` calls encode them (a dictionary's: its iteration
/// order). Swift's JSONEncoder (swift-foundation, Swift 6.3) keeps an object's
/// members in a `Dictionary` and writes them in its hash order, which differs
/// from one encoding to the next; JSON objects are unordered, so both are the
/// same JSON, and ours is deterministic. Encoding one key twice in a keyed
/// container writes it twice (JSONEncoder keeps the last value); no response
/// type does that.
///
/// Fast paths (written without the `Encoder` protocol): `[Float]`, `[[Float]]`,
/// `[Double]`, `[UInt32]`, `[String]`, `JSONValue`, `[JSONValue]`,
/// `[String: JSONValue]` (a point's payload, optional or not) and `PointID`
/// (optional or not), at any depth; and every `JSONBodyWritable` type.
public enum JSONBodyEncoder {
    /// The value's JSON bytes.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        try encode(value, appendingTo: &bytes)
        return bytes
    }

    /// Appends the value's JSON bytes to `bytes`; on error `bytes` is left as it was.
    public static func encode<T: Encodable>(_ value: T, appendingTo bytes: inout [UInt8]) throws {
        try encode(value, appendingTo: &bytes, usesWritable: true)
    }

    /// The value's JSON bytes with every value going through `encode(to:)`,
    /// also those that are `JSONBodyWritable` (for tests of that path).
    package static func encodeGenerically<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, appendingTo: &bytes, usesWritable: false)
        return bytes
    }

    static func encode<T: Encodable>(_ value: T, appendingTo bytes: inout [UInt8], usesWritable: Bool) throws {
        let start = bytes.count
        let writer = JSONBodyWriter(bytes: bytes, usesWritable: usesWritable)
        bytes = []
        do {
            try writer.writeValue(value, key: nil, extraKeys: [], emptyAsObject: false)
            if writer.sink.bytes.count == start {
                throw EncodingError.invalidValue(
                    value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
            }
            writer.settle(level: -1)
        } catch {
            bytes = writer.sink.bytes
            bytes.removeSubrange(start...)
            throw error
        }
        bytes = writer.sink.bytes
    }
}

/// The output buffer. A `TextOutputStream` so that `Float.write(to:)` and
/// `Double.write(to:)` hand their digits over without making a `String`.
struct JSONByteSink: TextOutputStream {
    var bytes: [UInt8]

    mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }

    @inline(__always) mutating func append(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always) mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// A number JSON cannot hold, found by a fast path: the keys below the point
/// where the fast path started, innermost first, so that the caller can throw
/// JSONEncoder's error with the full coding path.
struct JSONBodyNonFinite: Error, @unchecked Sendable {  // the keys: thrown and caught on one thread
    var value: Double
    var isFloat: Bool
    var reversedKeys: [any CodingKey] = []

    init(_ value: Float) {
        self.value = Double(value)
        isFloat = true
    }

    init(_ value: Double) {
        self.value = value
        isFloat = false
    }

    func encodingError(prefix: [any CodingKey]) -> EncodingError {
        let typeName = isFloat ? "Float" : "Double"
        let description = isFloat ? "\(Float(value))" : "\(value)"
        return EncodingError.invalidValue(
            isFloat ? Float(value) as Any : value as Any,
            .init(
                codingPath: prefix + reversedKeys.reversed(),
                debugDescription: "Unable to encode \(typeName).\(description) directly in JSON."))
    }

    func adding(_ key: any CodingKey) -> JSONBodyNonFinite {
        var copy = self
        copy.reversedKeys.append(key)
        return copy
    }
}

/// JSONEncoder's key for an element of an unkeyed container.
struct _JSONBodyIndexKey: CodingKey {
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
    let index: Int

    init(index: Int) { self.index = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { index = intValue }
}

/// JSONEncoder's key for a dictionary's entry (and `super`).
struct _JSONBodyStringKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

// MARK: - Primitive tokens

enum JSONBodyTokens {
    /// A string with JSONEncoder's escapes: `"` and `\`, `\b \f \n \r \t`, other
    /// control characters as `\u00xx` (lowercase hex); `/`, DEL and everything
    /// above 0x7F (U+2028 included) as they are.
    @inline(__always) static func write(string: String, to sink: inout JSONByteSink) {
        var string = string
        string.withUTF8 { write(utf8: $0, to: &sink) }
    }

    static func write(utf8: UnsafeBufferPointer<UInt8>, to sink: inout JSONByteSink) {
        sink.append(UInt8(ascii: "\""))
        guard let base = utf8.baseAddress else {
            sink.append(UInt8(ascii: "\""))
            return
        }
        var mark = 0
        var index = 0
        let count = utf8.count
        while index < count {
            let byte = base[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if index > mark {
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: base + mark, count: index - mark))
            }
            sink.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): sink.append(byte)
            case 0x08: sink.append(UInt8(ascii: "b"))
            case 0x0C: sink.append(UInt8(ascii: "f"))
            case 0x0A: sink.append(UInt8(ascii: "n"))
            case 0x0D: sink.append(UInt8(ascii: "r"))
            case 0x09: sink.append(UInt8(ascii: "t"))
            default:
                sink.append("u00")
                sink.append(hexDigit(byte >> 4))
                sink.append(hexDigit(byte & 0xF))
            }
            index += 1
            mark = index
        }
        if count > mark { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: base + mark, count: count - mark)) }
        sink.append(UInt8(ascii: "\""))
    }

    @inline(__always) static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") &+ value : UInt8(ascii: "a") &+ (value &- 10)
    }

    @inline(__always) static func write(bool: Bool, to sink: inout JSONByteSink) {
        if bool { sink.append("true") } else { sink.append("false") }
    }

    /// An unsigned integer's decimal digits.
    @inline(__always) static func write(magnitude: UInt64, negative: Bool, to sink: inout JSONByteSink) {
        if negative { sink.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            sink.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var value = magnitude
            var start = 20
            while value > 0 {
                let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
                value = quotient
            }
            sink.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    @inline(__always) static func write<I: FixedWidthInteger>(integer: I, to sink: inout JSONByteSink) {
        if I.bitWidth <= 64 {
            write(magnitude: UInt64(truncatingIfNeeded: integer.magnitude), negative: integer < 0, to: &sink)
        } else {
            sink.write(integer.description)
        }
    }

    /// Swift's shortest round-trip text (`description`) without a trailing
    /// `.0`, as JSONEncoder writes a Float.
    @inline(__always) static func write(float: Float, to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        guard float.isFinite else { throw JSONBodyNonFinite(float) }
        float.write(to: &sink)
        dropPointZero(&sink)
    }

    @inline(__always) static func write(double: Double, to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        guard double.isFinite else { throw JSONBodyNonFinite(double) }
        double.write(to: &sink)
        dropPointZero(&sink)
    }

    @inline(__always) static func dropPointZero(_ sink: inout JSONByteSink) {
        let count = sink.bytes.count
        if sink.bytes[count - 1] == UInt8(ascii: "0") && sink.bytes[count - 2] == UInt8(ascii: ".") {
            sink.bytes.removeLast(2)
        }
    }

    // MARK: Fast paths

    static func write(floats: [Float], to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        sink.append(UInt8(ascii: "["))
        for (index, value) in floats.enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            do {
                try write(float: value, to: &sink)
            } catch {
                throw error.adding(_JSONBodyIndexKey(index: index))
            }
        }
        sink.append(UInt8(ascii: "]"))
    }

    static func write(rows: [[Float]], to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        sink.append(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            do {
                try write(floats: row, to: &sink)
            } catch {
                throw error.adding(_JSONBodyIndexKey(index: index))
            }
        }
        sink.append(UInt8(ascii: "]"))
    }

    static func write(doubles: [Double], to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        sink.append(UInt8(ascii: "["))
        for (index, value) in doubles.enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            do {
                try write(double: value, to: &sink)
            } catch {
                throw error.adding(_JSONBodyIndexKey(index: index))
            }
        }
        sink.append(UInt8(ascii: "]"))
    }

    static func write<I: FixedWidthInteger>(integers: [I], to sink: inout JSONByteSink) {
        sink.append(UInt8(ascii: "["))
        for (index, value) in integers.enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            write(integer: value, to: &sink)
        }
        sink.append(UInt8(ascii: "]"))
    }

    static func write(strings: [String], to sink: inout JSONByteSink) {
        sink.append(UInt8(ascii: "["))
        for (index, value) in strings.enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            write(string: value, to: &sink)
        }
        sink.append(UInt8(ascii: "]"))
    }

    static func write(json value: JSONValue, to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        switch value {
        case .null: sink.append("null")
        case .bool(let bool): write(bool: bool, to: &sink)
        case .int(let int): write(integer: int, to: &sink)
        case .double(let double): try write(double: double, to: &sink)
        case .string(let string): write(string: string, to: &sink)
        case .array(let array): try write(jsonArray: array, to: &sink)
        case .object(let object): try write(jsonObject: object, to: &sink)
        }
    }

    static func write(jsonArray: [JSONValue], to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        sink.append(UInt8(ascii: "["))
        for (index, element) in jsonArray.enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            do {
                try write(json: element, to: &sink)
            } catch {
                throw error.adding(_JSONBodyIndexKey(index: index))
            }
        }
        sink.append(UInt8(ascii: "]"))
    }

    static func write(jsonObject: [String: JSONValue], to sink: inout JSONByteSink) throws(JSONBodyNonFinite) {
        sink.append(UInt8(ascii: "{"))
        var first = true
        for (key, element) in jsonObject {
            if first { first = false } else { sink.append(UInt8(ascii: ",")) }
            write(string: key, to: &sink)
            sink.append(UInt8(ascii: ":"))
            do {
                try write(json: element, to: &sink)
            } catch {
                throw error.adding(_JSONBodyStringKey(key))
            }
        }
        sink.append(UInt8(ascii: "}"))
    }

    /// As `PointID.encode(to:)`: the number, or the UUID as a lowercase string.
    static func write(pointID: PointID, to sink: inout JSONByteSink) {
        switch pointID {
        case .number(let number): write(integer: number, to: &sink)
        case .uuid(let uuid): write(string: uuid.uuidString.lowercased(), to: &sink)
        }
    }

    /// Writes `value` when its type has a fast path; false when it has none.
    @inline(__always) static func writeDirect<T: Encodable>(
        _ value: T, to sink: inout JSONByteSink
    ) throws(JSONBodyNonFinite) -> Bool {
        if T.self == [Float].self {
            try write(floats: reinterpret(value, as: [Float].self), to: &sink)
        } else if T.self == JSONValue.self {
            try write(json: reinterpret(value, as: JSONValue.self), to: &sink)
        } else if T.self == [String: JSONValue].self {
            try write(jsonObject: reinterpret(value, as: [String: JSONValue].self), to: &sink)
        } else if T.self == [String: JSONValue]?.self {
            if let object = reinterpret(value, as: [String: JSONValue]?.self) {
                try write(jsonObject: object, to: &sink)
            } else {
                sink.append("null")
            }
        } else if T.self == PointID.self {
            write(pointID: reinterpret(value, as: PointID.self), to: &sink)
        } else if T.self == PointID?.self {
            if let id = reinterpret(value, as: PointID?.self) {
                write(pointID: id, to: &sink)
            } else {
                sink.append("null")
            }
        } else if T.self == Float.self {
            try write(float: reinterpret(value, as: Float.self), to: &sink)
        } else if T.self == Double.self {
            try write(double: reinterpret(value, as: Double.self), to: &sink)
        } else if T.self == String.self {
            write(string: reinterpret(value, as: String.self), to: &sink)
        } else if T.self == [[Float]].self {
            try write(rows: reinterpret(value, as: [[Float]].self), to: &sink)
        } else if T.self == [JSONValue].self {
            try write(jsonArray: reinterpret(value, as: [JSONValue].self), to: &sink)
        } else if T.self == [Double].self {
            try write(doubles: reinterpret(value, as: [Double].self), to: &sink)
        } else if T.self == [UInt32].self {
            write(integers: reinterpret(value, as: [UInt32].self), to: &sink)
        } else if T.self == [String].self {
            write(strings: reinterpret(value, as: [String].self), to: &sink)
        } else if T.self == Bool.self {
            write(bool: reinterpret(value, as: Bool.self), to: &sink)
        } else if T.self == Int.self {
            write(integer: reinterpret(value, as: Int.self), to: &sink)
        } else if T.self == Int64.self {
            write(integer: reinterpret(value, as: Int64.self), to: &sink)
        } else if T.self == UInt64.self {
            write(integer: reinterpret(value, as: UInt64.self), to: &sink)
        } else if T.self == UInt32.self {
            write(integer: reinterpret(value, as: UInt32.self), to: &sink)
        } else {
            return false
        }
        return true
    }

    /// `value` as `U`, which the caller checked is `T`.
    @inline(__always) static func reinterpret<T, U>(_ value: T, as _: U.Type) -> U {
        withUnsafePointer(to: value) { UnsafeRawPointer($0).load(as: U.self) }
    }
}
