import CStrataJSON
import Foundation

/// An object's members, looked up by key. Every key is read (and checked)
/// when the container is made, as JSONDecoder does; the first of duplicate
/// keys wins.
struct TapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TapeDecoder
    /// (key, value entry index) in document order, duplicates removed.
    private let members: [(key: String, value: Int)]
    /// For large objects: key → position in `members`.
    private let lookup: [String: Int]?

    init(decoder: TapeDecoder) throws {
        self.decoder = decoder
        let document = decoder.document
        let count = Int(document.entry(decoder.index).a)
        var members: [(key: String, value: Int)] = []
        members.reserveCapacity(count)
        var member = decoder.index + 1
        let end = Int(document.entry(decoder.index).b)
        var seen: Set<String>? = count > 8 ? [] : nil
        while member < end {
            let key = try document.string(member)
            let duplicate: Bool
            if seen != nil {
                duplicate = !seen!.insert(key).inserted
            } else {
                duplicate = members.contains { $0.key == key }
            }
            if !duplicate { members.append((key, member + 1)) }
            member = document.next(member + 1)
        }
        self.members = members
        if members.count > 8 {
            var lookup: [String: Int] = [:]
            lookup.reserveCapacity(members.count)
            for (position, member) in members.enumerated() { lookup[member.key] = position }
            self.lookup = lookup
        } else {
            lookup = nil
        }
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    private func valueIndex(_ key: Key) -> Int? {
        let name = key.stringValue
        if let lookup { return lookup[name].map { members[$0].value } }
        for member in members where member.key == name { return member.value }
        return nil
    }

    func contains(_ key: Key) -> Bool { valueIndex(key) != nil }

    private func child(_ key: Key) throws -> TapeDecoder {
        guard let index = valueIndex(key) else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return decoder.child(index, key)
    }

    /// The member's decoder, or nil when the key is absent or its value is null.
    private func presentChild(_ key: Key) -> TapeDecoder? {
        guard let index = valueIndex(key), decoder.document.kind(index) != STRATA_JSON_NULL else { return nil }
        return decoder.child(index, key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).bool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).string() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).double() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).float() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).integer(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).integer(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).integer(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).integer(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).integer(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).integer(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).integer(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).integer(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).integer(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(T.self) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try presentChild(key)?.bool() }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try presentChild(key)?.string() }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try presentChild(key)?.double() }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try presentChild(key)?.float() }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try presentChild(key)?.integer(Int.self)
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try presentChild(key)?.integer(Int64.self)
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try presentChild(key)?.integer(UInt32.self)
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try presentChild(key)?.integer(UInt64.self)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try presentChild(key)?.decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

/// An array's elements in order.
struct TapeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: TapeDecoder
    let count: Int?
    private(set) var currentIndex = 0
    /// The tape index of the current element.
    private var element: Int

    init(decoder: TapeDecoder) {
        self.decoder = decoder
        count = Int(decoder.document.entry(decoder.index).a)
        element = decoder.index + 1
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var isAtEnd: Bool { currentIndex >= count! }

    private func atEnd(_ type: Any.Type) -> DecodingError {
        DecodingError.valueNotFound(
            type,
            DecodingError.Context(
                codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "Unkeyed container is at end."))
    }

    /// The current element's decoder; moves past it when `body` succeeds.
    private mutating func next<T>(_ type: Any.Type, _ body: (TapeDecoder) throws -> T) throws -> T {
        guard !isAtEnd else { throw atEnd(type) }
        let value = try body(decoder.child(element, IndexKey(currentIndex)))
        element = decoder.document.next(element)
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw atEnd(Any?.self) }
        guard decoder.document.kind(element) == STRATA_JSON_NULL else { return false }
        element += 1
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { try $0.bool() } }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) { try $0.string() } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { try $0.double() } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { try $0.float() } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try $0.integer(Int.self) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try $0.integer(Int8.self) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try $0.integer(Int16.self) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try $0.integer(Int32.self) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try $0.integer(Int64.self) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try $0.integer(UInt.self) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try $0.integer(UInt8.self) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try $0.integer(UInt16.self) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try $0.integer(UInt32.self) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try $0.integer(UInt64.self) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) { try $0.decodeValue(T.self) } }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next([String: Any].self) { try $0.container(keyedBy: NestedKey.self) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([Any].self) { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder { try next(Any.self) { $0 } }
}

/// Decodes request bodies: the scan, then `Decodable` over the tape.
public enum JSONBodyDecoder {
    /// True for the error `decode` throws when memory for the tape ran out
    /// (a server error, not a bad body).
    public static func isOutOfMemory(_ error: DecodingError) -> Bool {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
            return context.debugDescription == JSONDocument.outOfMemoryDescription
        }
        return false
    }

    /// Decodes `bytes` as `T`, as `JSONDecoder().decode(T.self, from:)` would
    /// (same value, same errors), `maxDepth` bounding the nesting the scan accepts.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: UnsafeRawBufferPointer, maxDepth: Int = 512
    )
        throws -> T
    {
        let document = try JSONDocument.scan(bytes, maxDepth: maxDepth)
        return try TapeDecoder(document: document, index: 0, node: .root).decodeValue(T.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], maxDepth: Int = 512) throws -> T {
        try bytes.withUnsafeBytes { try decode(T.self, from: $0, maxDepth: maxDepth) }
    }

    /// 1 when arrays and objects nest deeper than `limit` anywhere in `bytes`
    /// (brackets in strings do not count; the bytes need not be valid JSON).
    public static func nestsDeeper(than limit: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return strata_json_nests_deeper_than(
            base.assumingMemoryBound(to: UInt8.self), bytes.count, UInt32(clamping: limit)) == 1
    }
}
