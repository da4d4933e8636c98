/// A set of point offsets (or slots) in one segment: bit i of word i/64.
///
/// Invariant: bits at or past `count` are zero. Offsets given to `contains`,
/// `insert` and `remove` must be in `0..<count` (not checked; a negative
/// offset traps, and one past `count` breaks the invariant). The set
/// operations take a bitset of the same `count` (a shorter one traps).
public struct PointBitset: Sendable, Equatable {
    /// The bits, 64 offsets per word, offset i at bit i % 64 of word i / 64;
    /// `(count + 63) / 64` words.
    public private(set) var words: [UInt64]
    /// Offsets are 0..<count.
    public let count: Int

    /// Creates a bitset of `count` offsets, all of them clear, or all set
    /// when `allSet` is true.
    public init(count: Int, allSet: Bool = false) {
        self.count = count
        words = [UInt64](repeating: allSet ? ~0 : 0, count: (count + 63) / 64)
        if allSet { clearTail() }
    }

    /// Adopts `words` (bit i of word i/64); bits at or past `count` are cleared.
    public init(count: Int, words: [UInt64]) {
        precondition(words.count == (count + 63) / 64, "a bitset of \(count) bits needs \((count + 63) / 64) words")
        self.count = count
        self.words = words
        clearTail()
    }

    /// Creates a bitset of `count` offsets holding `offsets`; offsets outside
    /// `0..<count` are skipped.
    public init(count: Int, offsets: some Sequence<Int>) {
        self.init(count: count)
        for offset in offsets where offset >= 0 && offset < count { insert(offset) }
    }

    private mutating func clearTail() {
        let extra = words.count * 64 - count
        if extra > 0 { words[words.count - 1] &= ~0 >> UInt64(extra) }
    }

    /// True when offset `i` (in `0..<count`) is set. O(1).
    @inline(__always) public func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
    /// Sets offset `i` (in `0..<count`). O(1).
    @inline(__always) public mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
    /// Clears offset `i` (in `0..<count`). O(1).
    @inline(__always) public mutating func remove(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }

    /// The number of set offsets. O(`count` / 64).
    public var cardinality: Int {
        words.withUnsafeBufferPointer { buffer in
            var total = 0
            for word in buffer { total &+= word.nonzeroBitCount }
            return total
        }
    }
    /// True when no offset is set. O(`count` / 64) at worst.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Keeps only the offsets also set in `other` (same `count`).
    public mutating func formIntersection(_ other: PointBitset) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    /// Adds the offsets set in `other` (same `count`).
    public mutating func formUnion(_ other: PointBitset) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    /// Removes the offsets set in `other` (same `count`).
    public mutating func subtract(_ other: PointBitset) {
        for i in words.indices { words[i] &= ~other.words[i] }
    }

    /// The offsets set in both bitsets (same `count`).
    public func intersection(_ other: PointBitset) -> PointBitset {
        var copy = self
        copy.formIntersection(other)
        return copy
    }

    /// The complement within 0..<count.
    public func inverted() -> PointBitset {
        var copy = self
        for i in copy.words.indices { copy.words[i] = ~copy.words[i] }
        copy.clearTail()
        return copy
    }

    /// Calls `body` with every set offset in ascending order.
    @inline(__always)
    public func forEach(_ body: (Int) throws -> Void) rethrows {
        try words.withUnsafeBufferPointer { buffer in
            for w in 0..<buffer.count where buffer[w] != 0 {
                var bits = buffer[w]
                while bits != 0 {
                    try body(w << 6 | bits.trailingZeroBitCount)
                    bits &= bits - 1
                }
            }
        }
    }

    /// The set offsets, ascending (one pass over the words).
    public var offsets: [Int] {
        var result: [Int] = []
        forEach { result.append($0) }
        return result
    }

    /// Number of set offsets among `sortedOffsets` (ascending, in range).
    public func countMembers(of sortedOffsets: [UInt32]) -> Int {
        var n = 0
        for offset in sortedOffsets where contains(Int(offset)) { n += 1 }
        return n
    }
}
