import CStrataJSON
import Foundation
import StrataModel

/// A coding path as a chain of nodes, materialised only when asked for.
final class CodingPathNode: Sendable {
    let parent: CodingPathNode?
    let key: (any CodingKey)?

    static let root = CodingPathNode(parent: nil, key: nil)

    init(parent: CodingPathNode?, key: (any CodingKey)?) {
        self.parent = parent
        self.key = key
    }

    func appending(_ key: any CodingKey) -> CodingPathNode { CodingPathNode(parent: self, key: key) }

    var path: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node: CodingPathNode? = self
        while let current = node, let key = current.key {
            keys.append(key)
            node = current.parent
        }
        return keys.reversed()
    }
}

/// An array element's coding key (`[3]` in a path), as JSONDecoder's.
struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// `Decoder` over one value of a scanned document. Decodes what JSONDecoder
/// decodes, with the same results and the same errors (kind, type and path),
/// so every `Decodable` request type works unchanged; `[Float]`, `JSONValue`
/// and payload objects are read straight from the tape.
public final class TapeDecoder: Decoder {
    let document: JSONDocument
    let index: Int
    let node: CodingPathNode

    init(document: JSONDocument, index: Int, node: CodingPathNode) {
        self.document = document
        self.index = index
        self.node = node
    }

    public var codingPath: [any CodingKey] { node.path }
    public var userInfo: [CodingUserInfoKey: Any] { [:] }

    public func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch document.kind(index) {
        case STRATA_JSON_OBJECT:
            return KeyedDecodingContainer(try TapeKeyedContainer<Key>(decoder: self))
        case STRATA_JSON_NULL:
            throw DecodingError.valueNotFound(
                [String: Any].self,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default:
            throw mismatch([String: Any].self)
        }
    }

    public func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch document.kind(index) {
        case STRATA_JSON_ARRAY:
            return TapeUnkeyedContainer(decoder: self)
        case STRATA_JSON_NULL:
            throw DecodingError.valueNotFound(
                [Any].self,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default:
            throw mismatch([Any].self)
        }
    }

    public func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ type: Any.Type) -> DecodingError {
        DecodingError.typeMismatch(
            type, DecodingError.Context(codingPath: codingPath, debugDescription: "found \(describeKind()) instead."))
    }

    private func describeKind() -> String {
        switch document.kind(index) {
        case STRATA_JSON_NULL: "null"
        case STRATA_JSON_TRUE, STRATA_JSON_FALSE: "bool"
        case STRATA_JSON_NUMBER: "number"
        case STRATA_JSON_STRING: "string"
        case STRATA_JSON_ARRAY: "array"
        default: "dictionary"
        }
    }

    func child(_ index: Int, _ key: any CodingKey) -> TapeDecoder {
        TapeDecoder(document: document, index: index, node: node.appending(key))
    }

    // MARK: Primitives (shared by the three container kinds)

    func notNull(_ type: Any.Type) throws {
        if document.kind(index) == STRATA_JSON_NULL {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Cannot get value of type \(type) -- found null value instead"
                ))
        }
    }

    /// A null where a Bool belongs is a type mismatch in JSONDecoder (other primitives: value not found).
    func bool() throws -> Bool {
        switch document.kind(index) {
        case STRATA_JSON_TRUE: return true
        case STRATA_JSON_FALSE: return false
        default: throw mismatch(Bool.self)
        }
    }

    func string() throws -> String {
        try notNull(String.self)
        guard document.kind(index) == STRATA_JSON_STRING else { throw mismatch(String.self) }
        return try document.string(index)
    }

    func double() throws -> Double {
        try notNull(Double.self)
        guard document.kind(index) == STRATA_JSON_NUMBER else { throw mismatch(Double.self) }
        return try document.double(index)
    }

    func float() throws -> Float {
        try notNull(Float.self)
        guard document.kind(index) == STRATA_JSON_NUMBER else { throw mismatch(Float.self) }
        return try document.float(index)
    }

    func integer<T: FixedWidthInteger & Decodable>(_ type: T.Type) throws -> T {
        try notNull(T.self)
        guard document.kind(index) == STRATA_JSON_NUMBER else { throw mismatch(T.self) }
        return try document.integer(index, as: T.self)
    }

    /// Any `Decodable`, with the tape's direct paths for the hot types.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == [Float].self, let floats = floats(viaDouble: false) {
            return unsafeBitCast(floats, to: T.self)
        }
        if T.self == JSONValue.self, let value = jsonValue(index) {
            return unsafeBitCast(value, to: T.self)
        }
        if T.self == [String: JSONValue].self, document.kind(index) == STRATA_JSON_OBJECT,
            case .object(let object)? = jsonValue(index)
        {
            return unsafeBitCast(object, to: T.self)
        }
        return try T(from: self)
    }

    /// The array at this position as floats when every element is a number
    /// the fast path converts; nil otherwise (the caller's general path then
    /// decides, with its errors). `viaDouble`: each element as Double, then
    /// narrowed, and finite (the dense-vector rule).
    public func floats(viaDouble: Bool) -> [Float]? {
        guard document.kind(index) == STRATA_JSON_ARRAY else { return nil }
        let count = Int(document.entry(index).a)
        let first = index + 1
        guard count > 0 else { return [] }
        let document = self.document
        let converted = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                done += document.withTape { tape in
                    strata_json_floats(
                        document.base, tape, first + done, count - done, viaDouble ? 1 : 0, buffer.baseAddress! + done)
                }
                guard done < count else { break }
                // A number outside the exact fast path (or not a number): the C
                // library's conversion with JSONDecoder's checks; anything else
                // leaves the whole array to the general path.
                let element = first + done
                guard document.kind(element) == STRATA_JSON_NUMBER else { break }
                if viaDouble {
                    guard let value = try? document.double(element), Float(value).isFinite else { break }
                    buffer[done] = Float(value)
                } else {
                    guard let value = try? document.float(element) else { break }
                    buffer[done] = value
                }
                done += 1
            }
            initialized = done == count ? count : 0
        }
        return converted.count == count ? converted : nil
    }

    /// JSONValue's own decoding (null, bool, Int64, Double, string, array,
    /// object, in that order of attempts), read from the tape; nil when a value
    /// needs the general path (a number or string that does not read, which
    /// JSONValue reports with its own error).
    func jsonValue(_ index: Int) -> JSONValue? {
        switch document.kind(index) {
        case STRATA_JSON_NULL: return .null
        case STRATA_JSON_TRUE: return .bool(true)
        case STRATA_JSON_FALSE: return .bool(false)
        case STRATA_JSON_NUMBER:
            if let integer = try? document.integer(index, as: Int64.self) { return .int(integer) }
            if let double = try? document.double(index) { return .double(double) }
            return nil
        case STRATA_JSON_STRING:
            return (try? document.string(index)).map { .string($0) }
        case STRATA_JSON_ARRAY:
            var values: [JSONValue] = []
            values.reserveCapacity(Int(document.entry(index).a))
            var element = index + 1
            let end = Int(document.entry(index).b)
            while element < end {
                guard let value = jsonValue(element) else { return nil }
                values.append(value)
                element = document.next(element)
            }
            return .array(values)
        default:
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(Int(document.entry(index).a))
            var member = index + 1
            let end = Int(document.entry(index).b)
            // Every key is read (and checked) before any value, as JSONDecoder does.
            while member < end {
                guard (try? document.string(member)) != nil else { return nil }
                member = document.next(member + 1)
            }
            member = index + 1
            while member < end {
                guard let key = try? document.string(member) else { return nil }
                if object[key] == nil {  // the first of duplicate keys wins
                    guard let value = jsonValue(member + 1) else { return nil }
                    object[key] = value
                }
                member = document.next(member + 1)
            }
            return .object(object)
        }
    }
}

extension TapeDecoder: SingleValueDecodingContainer {
    public func decodeNil() -> Bool { document.kind(index) == STRATA_JSON_NULL }
    public func decode(_ type: Bool.Type) throws -> Bool { try bool() }
    public func decode(_ type: String.Type) throws -> String { try string() }
    public func decode(_ type: Double.Type) throws -> Double { try double() }
    public func decode(_ type: Float.Type) throws -> Float { try float() }
    public func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    public func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    public func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    public func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    public func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    public func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    public func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    public func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    public func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    public func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }
}
