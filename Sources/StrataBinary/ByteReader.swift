/// Reads what `ByteWriter` wrote, bounds-checked: malformed or truncated input
/// throws `FormatError`, never traps, and no length read from the input can make
/// it allocate more than the input holds.
public struct ByteReader {
    // SAFETY: `buffer` must stay valid for the reader's lifetime; the reader is
    // only created inside `withUnsafeBytes`-style scopes.
    public let buffer: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var remaining: Int { buffer.count - offset }
    public var isAtEnd: Bool { offset >= buffer.count }

    mutating func require(_ n: Int, _ what: StaticString) throws(FormatError) {
        guard n >= 0, n <= buffer.count - offset else {
            throw FormatError(
                "truncated input: \(what) needs \(n) bytes at offset \(offset), only \(buffer.count - offset) remain")
        }
    }

    mutating func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ what: StaticString) throws(FormatError) -> T {
        try require(MemoryLayout<T>.size, what)
        let value = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    public mutating func readUInt8() throws(FormatError) -> UInt8 { try readLittleEndian(UInt8.self, "u8") }
    public mutating func readUInt16() throws(FormatError) -> UInt16 { try readLittleEndian(UInt16.self, "u16") }
    public mutating func readUInt32() throws(FormatError) -> UInt32 { try readLittleEndian(UInt32.self, "u32") }
    public mutating func readUInt64() throws(FormatError) -> UInt64 { try readLittleEndian(UInt64.self, "u64") }
    public mutating func readInt64() throws(FormatError) -> Int64 { Int64(bitPattern: try readUInt64()) }
    public mutating func readFloat() throws(FormatError) -> Float { Float(bitPattern: try readUInt32()) }
    public mutating func readDouble() throws(FormatError) -> Double { Double(bitPattern: try readUInt64()) }

    /// Unsigned LEB128, at most 10 bytes; overlong or overflowing encodings throw.
    public mutating func readVarint() throws(FormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            try require(1, "varint")
            let byte = buffer[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw FormatError("varint overflows 64 bits at offset \(offset - 1)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw FormatError("varint longer than 10 bytes at offset \(offset)")
    }

    /// A varint that must fit in `Int` and not exceed `limit` (typically the
    /// bytes remaining), so hostile counts cannot trigger huge allocations.
    public mutating func readCount(limit: Int, _ what: StaticString) throws(FormatError) -> Int {
        let value = try readVarint()
        guard value <= UInt64(max(limit, 0)) else {
            throw FormatError("\(what) count \(value) exceeds the limit \(limit) at offset \(offset)")
        }
        return Int(value)
    }

    /// `n` raw bytes.
    public mutating func readBytes(_ n: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        try require(n, "bytes")
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + n])
        offset += n
        return slice
    }

    /// A varint length followed by that many bytes.
    public mutating func readLengthPrefixed() throws(FormatError) -> [UInt8] {
        let n = try readCount(limit: remaining, "byte string")
        return Array(try readBytes(n))
    }

    /// A varint length followed by UTF-8; invalid UTF-8 throws.
    public mutating func readString() throws(FormatError) -> String {
        let n = try readCount(limit: remaining, "string")
        let raw = try readBytes(n)
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw FormatError("invalid UTF-8 in a string at offset \(offset - n)")
        }
        return string
    }

    /// `count` little-endian floats.
    public mutating func readFloats(_ count: Int) throws(FormatError) -> [Float] {
        guard count <= remaining / 4 else {
            throw FormatError(
                "truncated input: \(count) floats need \(count * 4) bytes at offset \(offset), only \(remaining) remain"
            )
        }
        let raw = try readBytes(count * 4)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
            initialized = count
        }
    }
}

/// Bytes that do not parse as the format says. The message names what was
/// expected and where; callers add which file it came from.
public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
