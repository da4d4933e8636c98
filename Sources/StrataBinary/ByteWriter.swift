/// Appends little-endian fixed-width integers, LEB128 varints, floats and
/// length-prefixed byte strings to a growable buffer.
///
/// Every Strata format is little-endian; this type is the only place that
/// knows how to lay the bytes out, paired with `ByteReader`.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func reserveCapacity(_ n: Int) { bytes.reserveCapacity(n) }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) { appendLittleEndian(value) }

    public mutating func write(_ value: UInt32) { appendLittleEndian(value) }

    public mutating func write(_ value: UInt64) { appendLittleEndian(value) }

    public mutating func write(_ value: Int64) { appendLittleEndian(UInt64(bitPattern: value)) }

    public mutating func write(_ value: Float) { appendLittleEndian(value.bitPattern) }

    public mutating func write(_ value: Double) { appendLittleEndian(value.bitPattern) }

    /// Unsigned LEB128: 7 bits per byte, high bit set on all but the last.
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Raw bytes, no length prefix.
    public mutating func write(contentsOf raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    /// Raw bytes, no length prefix.
    public mutating func write(contentsOf raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// A varint byte count followed by the bytes.
    public mutating func writeLengthPrefixed(_ raw: [UInt8]) {
        writeVarint(UInt64(raw.count))
        bytes.append(contentsOf: raw)
    }

    /// A varint byte count followed by the UTF-8 bytes.
    public mutating func writeString(_ string: String) {
        var s = string
        s.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Floats as raw little-endian bit patterns, no prefix (the caller knows the count).
    public mutating func write(floats: UnsafeBufferPointer<Float>) {
        // Little-endian hosts store Float exactly as the format does.
        bytes.append(contentsOf: UnsafeRawBufferPointer(floats))
    }

    /// Overwrites a UInt32 previously written at `offset` (for lengths and checksums
    /// that are known only after the body).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        precondition(offset + 4 <= bytes.count, "patch beyond written bytes")
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<4 { bytes[offset + i] = raw[i] }
        }
    }

    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
