import Foundation

/// A JSON value, used for point payloads. Integers and floating-point numbers
/// stay distinct (as Qdrant keeps them).
///
/// Equality is structural and typed: `.int(3)` and `.double(3)` are different
/// values, which is what lets a `match` condition on `3` miss a stored `3.0`.
/// Literals build values directly:
///
/// ```swift
/// let payload: Payload = [
///     "city": "London",
///     "population": 8_982_000,
///     "area_km2": 1_572.0,
///     "tags": ["capital", "port"],
///     "mayor": nil,
/// ]
/// payload["city"] == .string("London")  // true
/// ```
public enum JSONValue: Hashable, Sendable, Codable, CustomStringConvertible {
    /// JSON `null`.
    case null
    /// JSON `true` or `false`.
    case bool(Bool)
    /// An integer number.
    case int(Int64)
    /// A floating-point number (see `init(from:)` for which JSON numbers
    /// decode as integers instead).
    case double(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array, elements in order.
    case array([JSONValue])
    /// A JSON object; member order is not kept.
    case object([String: JSONValue])

    /// Decodes any JSON value, trying null, `Bool`, `Int64`, `Double`, `String`,
    /// array and object in that order.
    ///
    /// The decoder decides which numbers count as integers: Foundation's
    /// `JSONDecoder` decodes `3.0` and `1e2` as `.int`, and an integer above
    /// `Int64.max` as `.double`. Throws `DecodingError.dataCorrupted` when the
    /// value is none of these.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    /// Encodes the value as the JSON value it holds (with Foundation's
    /// `JSONEncoder`, an integral `.double` such as `3.0` is written as `3`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    /// Compact JSON text with sorted keys (`"<unencodable>"` when the value
    /// holds a NaN or infinite number, which JSON cannot write).
    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "<unencodable>"
    }

    /// About the bytes of the value's binary encoding (a type byte, 8-byte
    /// numbers, strings and keys with a short length prefix): what strict
    /// mode's `max_collection_payload_size_bytes` counts for points not yet
    /// written to a segment. An estimate, as Qdrant's payload storage size is.
    public var estimatedEncodedBytes: Int {
        switch self {
        case .null, .bool: return 1
        case .int, .double: return 9
        case .string(let s): return 3 + s.utf8.count
        case .array(let a): return a.reduce(3) { $0 + $1.estimatedEncodedBytes }
        case .object(let o): return o.reduce(3) { $0 + 2 + $1.key.utf8.count + $1.value.estimatedEncodedBytes }
        }
    }

    /// True when every number in the value is finite (JSON cannot hold NaN or infinity).
    public var isFinite: Bool {
        switch self {
        case .double(let d): return d.isFinite
        case .array(let a): return a.allSatisfy(\.isFinite)
        case .object(let o): return o.values.allSatisfy(\.isFinite)
        default: return true
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A string literal as `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal as `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A floating-point literal as `.double` (`1.0` stays a double).
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `true` or `false` as `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array literal as `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal as `.object`; of repeated keys, the last one wins.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    /// `nil` as `.null`.
    public init(nilLiteral: ()) { self = .null }
}

/// A point's payload: a JSON object.
public typealias Payload = [String: JSONValue]
