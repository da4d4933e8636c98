import Foundation

/// The encoder's state: the bytes, the containers still open (innermost
/// last), and the coding path of the values being encoded (the keys of the
/// generic values on the call stack; a fast path adds its own keys only when
/// it throws).
///
/// A container is closed when the container that holds it writes its next
/// element or is closed itself, or when the value that opened it returns from
/// `encode(to:)`; a value that encoded nothing is written as `{}`, as
/// JSONEncoder does.
final class JSONBodyWriter {
    struct Open {
        var closer: UInt8
        var count: Int
    }

    var sink: JSONByteSink
    var open: [Open] = []
    var path: [any CodingKey] = []
    /// Where a `superEncoder()`'s value begins, until the next element is
    /// written: if nothing was written there by then, `{}` goes there.
    var pendingSuperMark = -1
    /// Whether `JSONBodyWritable` values write themselves (false: every value
    /// goes through `encode(to:)`, for tests that compare the two paths).
    let usesWritable: Bool

    init(bytes: [UInt8], usesWritable: Bool = true) {
        sink = JSONByteSink(bytes: bytes)
        self.usesWritable = usesWritable
        open.reserveCapacity(16)
        path.reserveCapacity(16)
    }

    /// Closes the containers nested in the one at `level` (all of them for -1).
    @inline(__always) func settle(level: Int) {
        if pendingSuperMark >= 0 {
            if pendingSuperMark == sink.bytes.count { sink.append("{}") }
            pendingSuperMark = -1
        }
        while open.count > level + 1 { sink.append(open.removeLast().closer) }
    }

    /// Opens `{` or `[` for the value that began at `mark` with `depth`
    /// containers open, or returns the one it already opened (JSONEncoder
    /// hands out the same container again).
    func openContainer(depth: Int, mark: Int, opener: UInt8, closer: UInt8) -> Int {
        if sink.bytes.count == mark {
            sink.append(opener)
            open.append(Open(closer: closer, count: 0))
            return depth
        }
        settle(level: depth)
        precondition(
            open.count == depth + 1 && open[depth].closer == closer,
            "Attempt to push a new container when a value was already encoded at this path.")
        return depth
    }

    /// Starts an element of the array at `level`; returns its index.
    @inline(__always) func beginElement(level: Int) -> Int {
        settle(level: level)
        let index = open[level].count
        if index > 0 { sink.append(UInt8(ascii: ",")) }
        open[level].count = index + 1
        return index
    }

    /// Starts a member of the object at `level`: `,"key":`.
    @inline(__always) func beginMember(_ key: String, level: Int) {
        settle(level: level)
        if open[level].count > 0 { sink.append(UInt8(ascii: ",")) }
        open[level].count += 1
        JSONBodyTokens.write(string: key, to: &sink)
        sink.append(UInt8(ascii: ":"))
    }

    func codingPath(_ pathCount: Int, _ extraKeys: [any CodingKey]) -> [any CodingKey] {
        Array(path.prefix(pathCount)) + extraKeys
    }

    func nonFinite(_ error: JSONBodyNonFinite, key: (any CodingKey)?) -> EncodingError {
        error.encodingError(prefix: key.map { path + [$0] } ?? path)
    }

    /// Writes `value` where the next value goes (the member's key or the
    /// array's comma is written), under the coding path `path + extraKeys + key`.
    func writeValue<T: Encodable>(
        _ value: T, key: (any CodingKey)?, extraKeys: [any CodingKey], emptyAsObject: Bool = true
    ) throws {
        let pathCount = path.count
        path.append(contentsOf: extraKeys)
        defer { path.removeSubrange(pathCount...) }
        do {
            if try JSONBodyTokens.writeDirect(value, to: &sink) { return }
        } catch {
            throw nonFinite(error, key: key)
        }
        if writeWritable(value) { return }
        if let special = foundationValue(value) {
            JSONBodyTokens.write(string: special, to: &sink)
            return
        }
        if T.self == Decimal.self {
            sink.write(JSONBodyTokens.reinterpret(value, as: Decimal.self).description)
            return
        }
        if let key { path.append(key) }
        let depth = open.count
        let mark = sink.bytes.count
        try value.encode(to: _JSONBodyEncoder(writer: self, depth: depth, mark: mark, pathCount: path.count))
        settle(level: depth - 1)
        if sink.bytes.count == mark && emptyAsObject { sink.append("{}") }
    }

    /// The string JSONEncoder writes for Data (base64) and URL (absoluteString).
    @inline(__always) func foundationValue<T: Encodable>(_ value: T) -> String? {
        if T.self == Data.self { return JSONBodyTokens.reinterpret(value, as: Data.self).base64EncodedString() }
        if T.self == URL.self { return JSONBodyTokens.reinterpret(value, as: URL.self).absoluteString }
        return nil
    }

    func nonFiniteError(
        _ error: JSONBodyNonFinite, key: (any CodingKey)?, extraKeys: [any CodingKey]
    )
        -> EncodingError
    {
        error.encodingError(prefix: path + extraKeys + (key.map { [$0] } ?? []))
    }

    @inline(__always) func write(float: Float, key: (any CodingKey)?, extraKeys: [any CodingKey]) throws {
        guard float.isFinite else { throw nonFiniteError(JSONBodyNonFinite(float), key: key, extraKeys: extraKeys) }
        float.write(to: &sink)
        JSONBodyTokens.dropPointZero(&sink)
    }

    @inline(__always) func write(double: Double, key: (any CodingKey)?, extraKeys: [any CodingKey]) throws {
        guard double.isFinite else { throw nonFiniteError(JSONBodyNonFinite(double), key: key, extraKeys: extraKeys) }
        double.write(to: &sink)
        JSONBodyTokens.dropPointZero(&sink)
    }
}

// MARK: - Encoder

struct _JSONBodyEncoder: Encoder {
    let writer: JSONBodyWriter
    /// Containers open when this value began (its container, if any, goes at this level).
    let depth: Int
    /// Bytes written when this value began.
    let mark: Int
    let pathCount: Int
    var extraKeys: [any CodingKey] = []

    var codingPath: [any CodingKey] { writer.codingPath(pathCount, extraKeys) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let level = writer.openContainer(
            depth: depth, mark: mark, opener: UInt8(ascii: "{"), closer: UInt8(ascii: "}"))
        return KeyedEncodingContainer(
            _JSONBodyKeyedContainer<Key>(writer: writer, level: level, pathCount: pathCount, extraKeys: extraKeys))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let level = writer.openContainer(
            depth: depth, mark: mark, opener: UInt8(ascii: "["), closer: UInt8(ascii: "]"))
        return _JSONBodyUnkeyedContainer(writer: writer, level: level, pathCount: pathCount, extraKeys: extraKeys)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }
}

extension _JSONBodyEncoder: SingleValueEncodingContainer {
    private func check() {
        precondition(
            writer.sink.bytes.count == mark,
            "Attempt to encode value through single value container when previously value already encoded.")
    }

    func encodeNil() throws {
        check()
        writer.sink.append("null")
    }
    func encode(_ value: Bool) throws {
        check()
        JSONBodyTokens.write(bool: value, to: &writer.sink)
    }
    func encode(_ value: String) throws {
        check()
        JSONBodyTokens.write(string: value, to: &writer.sink)
    }
    func encode(_ value: Double) throws {
        check()
        try writer.write(double: value, key: nil, extraKeys: extraKeys)
    }
    func encode(_ value: Float) throws {
        check()
        try writer.write(float: value, key: nil, extraKeys: extraKeys)
    }
    func encode(_ value: Int) throws { try integer(value) }
    func encode(_ value: Int8) throws { try integer(value) }
    func encode(_ value: Int16) throws { try integer(value) }
    func encode(_ value: Int32) throws { try integer(value) }
    func encode(_ value: Int64) throws { try integer(value) }
    func encode(_ value: UInt) throws { try integer(value) }
    func encode(_ value: UInt8) throws { try integer(value) }
    func encode(_ value: UInt16) throws { try integer(value) }
    func encode(_ value: UInt32) throws { try integer(value) }
    func encode(_ value: UInt64) throws { try integer(value) }
    func encode(_ value: Int128) throws { try integer(value) }
    func encode(_ value: UInt128) throws { try integer(value) }

    private func integer<I: FixedWidthInteger>(_ value: I) throws {
        check()
        JSONBodyTokens.write(integer: value, to: &writer.sink)
    }

    func encode<T: Encodable>(_ value: T) throws {
        check()
        try writer.writeValue(value, key: nil, extraKeys: extraKeys)
    }
}

// MARK: - Keyed container

struct _JSONBodyKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONBodyWriter
    let level: Int
    let pathCount: Int
    let extraKeys: [any CodingKey]

    var codingPath: [any CodingKey] { writer.codingPath(pathCount, extraKeys) }

    @inline(__always) private func begin(_ key: Key) { writer.beginMember(key.stringValue, level: level) }

    mutating func encodeNil(forKey key: Key) throws {
        begin(key)
        writer.sink.append("null")
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        begin(key)
        JSONBodyTokens.write(bool: value, to: &writer.sink)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        begin(key)
        JSONBodyTokens.write(string: value, to: &writer.sink)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        begin(key)
        try writer.write(double: value, key: key, extraKeys: extraKeys)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        begin(key)
        try writer.write(float: value, key: key, extraKeys: extraKeys)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { integer(value, key) }

    private func integer<I: FixedWidthInteger>(_ value: I, _ key: Key) {
        begin(key)
        JSONBodyTokens.write(integer: value, to: &writer.sink)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        begin(key)
        try writer.writeValue(value, key: key, extraKeys: extraKeys)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    )
        -> KeyedEncodingContainer<NestedKey>
    {
        begin(key)
        writer.sink.append(UInt8(ascii: "{"))
        writer.open.append(.init(closer: UInt8(ascii: "}"), count: 0))
        return KeyedEncodingContainer(
            _JSONBodyKeyedContainer<NestedKey>(
                writer: writer, level: level + 1, pathCount: pathCount, extraKeys: extraKeys + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        begin(key)
        writer.sink.append(UInt8(ascii: "["))
        writer.open.append(.init(closer: UInt8(ascii: "]"), count: 0))
        return _JSONBodyUnkeyedContainer(
            writer: writer, level: level + 1, pathCount: pathCount, extraKeys: extraKeys + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: _JSONBodyStringKey("super")) }

    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        writer.beginMember(key.stringValue, level: level)
        writer.pendingSuperMark = writer.sink.bytes.count
        return _JSONBodyEncoder(
            writer: writer, depth: level + 1, mark: writer.sink.bytes.count, pathCount: pathCount,
            extraKeys: extraKeys + [key])
    }
}

// MARK: - Unkeyed container

struct _JSONBodyUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONBodyWriter
    let level: Int
    let pathCount: Int
    let extraKeys: [any CodingKey]

    var codingPath: [any CodingKey] { writer.codingPath(pathCount, extraKeys) }
    var count: Int { writer.open.count > level ? writer.open[level].count : 0 }

    @inline(__always) private func begin() -> Int { writer.beginElement(level: level) }

    mutating func encodeNil() throws {
        _ = begin()
        writer.sink.append("null")
    }
    mutating func encode(_ value: Bool) throws {
        _ = begin()
        JSONBodyTokens.write(bool: value, to: &writer.sink)
    }
    mutating func encode(_ value: String) throws {
        _ = begin()
        JSONBodyTokens.write(string: value, to: &writer.sink)
    }
    mutating func encode(_ value: Double) throws {
        let index = begin()
        try writer.write(double: value, key: _JSONBodyIndexKey(index: index), extraKeys: extraKeys)
    }
    mutating func encode(_ value: Float) throws {
        let index = begin()
        try writer.write(float: value, key: _JSONBodyIndexKey(index: index), extraKeys: extraKeys)
    }
    mutating func encode(_ value: Int) throws { integer(value) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }
    mutating func encode(_ value: Int128) throws { integer(value) }
    mutating func encode(_ value: UInt128) throws { integer(value) }

    private func integer<I: FixedWidthInteger>(_ value: I) {
        _ = begin()
        JSONBodyTokens.write(integer: value, to: &writer.sink)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = begin()
        try writer.writeValue(value, key: _JSONBodyIndexKey(index: index), extraKeys: extraKeys)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    )
        -> KeyedEncodingContainer<NestedKey>
    {
        let index = begin()
        writer.sink.append(UInt8(ascii: "{"))
        writer.open.append(.init(closer: UInt8(ascii: "}"), count: 0))
        return KeyedEncodingContainer(
            _JSONBodyKeyedContainer<NestedKey>(
                writer: writer, level: level + 1, pathCount: pathCount,
                extraKeys: extraKeys + [_JSONBodyIndexKey(index: index)]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = begin()
        writer.sink.append(UInt8(ascii: "["))
        writer.open.append(.init(closer: UInt8(ascii: "]"), count: 0))
        return _JSONBodyUnkeyedContainer(
            writer: writer, level: level + 1, pathCount: pathCount,
            extraKeys: extraKeys + [_JSONBodyIndexKey(index: index)])
    }

    mutating func superEncoder() -> any Encoder {
        let index = begin()
        writer.pendingSuperMark = writer.sink.bytes.count
        return _JSONBodyEncoder(
            writer: writer, depth: level + 1, mark: writer.sink.bytes.count, pathCount: pathCount,
            extraKeys: extraKeys + [_JSONBodyIndexKey(index: index)])
    }
}
