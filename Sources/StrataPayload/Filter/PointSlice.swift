import StrataModel

/// One of `total` disjoint slices of the id space (Qdrant's `slice`
/// condition): a point belongs to slice `index` when
/// `SipHash-2-4(key 0, canonical id bytes) % total == index`. The canonical
/// bytes are the 8 little-endian bytes of a numeric id and the 16 RFC 4122
/// bytes of a UUID, so membership is the same in Strata, Qdrant and
/// qdrant-client's local mode, on every platform and across versions. Slices of
/// different `total` nest (same hash, no salt).
public struct PointSlice: Sendable, Hashable {
    /// Which slice, `0..<total`.
    public var index: UInt32
    /// How many slices the id space is cut into, ≥ 1 (the JSON parser
    /// refuses 0).
    public var total: UInt32

    /// Creates the slice; the values are not checked (`index` ≥ `total`
    /// makes a slice that holds no id).
    public init(index: UInt32, total: UInt32) {
        self.index = index
        self.total = total
    }

    /// True when `id` falls into this slice: `hash(id) % total == index`
    /// (never when `total` is 0).
    public func contains(_ id: PointID) -> Bool {
        total > 0 && Self.hash(id) % UInt64(total) == UInt64(index)
    }

    /// SipHash-2-4 with a zero key over the id's canonical bytes.
    public static func hash(_ id: PointID) -> UInt64 {
        switch id {
        case .number(let n):
            return withUnsafeBytes(of: n.littleEndian) { SipHash24.hash(UnsafeRawBufferPointer($0)) }
        case .uuid(let u):
            return withUnsafeBytes(of: u.uuid) { SipHash24.hash(UnsafeRawBufferPointer($0)) }
        }
    }
}

/// SipHash-2-4 (Aumasson and Bernstein, 2012): 2 compression rounds per
/// 8-byte little-endian block, 4 finalization rounds.
enum SipHash24 {
    static func hash(_ bytes: UnsafeRawBufferPointer, key0: UInt64 = 0, key1: UInt64 = 0) -> UInt64 {
        var v0: UInt64 = key0 ^ 0x736f_6d65_7073_6575
        var v1: UInt64 = key1 ^ 0x646f_7261_6e64_6f6d
        var v2: UInt64 = key0 ^ 0x6c79_6765_6e65_7261
        var v3: UInt64 = key1 ^ 0x7465_6462_7974_6573

        @inline(__always) func round() {
            v0 &+= v1
            v1 = (v1 << 13) | (v1 >> 51)
            v1 ^= v0
            v0 = (v0 << 32) | (v0 >> 32)
            v2 &+= v3
            v3 = (v3 << 16) | (v3 >> 48)
            v3 ^= v2
            v0 &+= v3
            v3 = (v3 << 21) | (v3 >> 43)
            v3 ^= v0
            v2 &+= v1
            v1 = (v1 << 17) | (v1 >> 47)
            v1 ^= v2
            v2 = (v2 << 32) | (v2 >> 32)
        }
        @inline(__always) func compress(_ block: UInt64) {
            v3 ^= block
            round()
            round()
            v0 ^= block
        }

        let count = bytes.count
        let whole = count - count % 8
        var offset = 0
        while offset < whole {
            var block: UInt64 = 0
            for i in 0..<8 { block |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            compress(block)
            offset += 8
        }
        // The last block: the remaining bytes, zero-padded, the length's low byte on top.
        var last = UInt64(count & 0xff) << 56
        for i in 0..<(count - whole) { last |= UInt64(bytes[whole + i]) << (8 * UInt64(i)) }
        compress(last)

        v2 ^= 0xff
        for _ in 0..<4 { round() }
        return v0 ^ v1 ^ v2 ^ v3
    }
}
