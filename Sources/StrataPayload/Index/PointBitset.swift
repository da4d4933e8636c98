/// A set of point offsets (or slots) in one segment: bit i of word i/64.
public struct PointBitset: Sendable, Equatable {
    public private(set) var words: [UInt64]
    /// Offsets are 0..<count.
    public let count: Int

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

    public init(count: Int, offsets: some Sequence<Int>) {
        self.init(count: count)
        for offset in offsets where offset >= 0 && offset < count { insert(offset) }
    }

    private mutating func clearTail() {
        let extra = words.count * 64 - count
        if extra > 0 { words[words.count - 1] &= ~0 >> UInt64(extra) }
    }

    @inline(__always) public func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
    @inline(__always) public mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
    @inline(__always) public mutating func remove(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }

    public var cardinality: Int {
        words.withUnsafeBufferPointer { buffer in
            var total = 0
            for word in buffer { total &+= word.nonzeroBitCount }
            return total
        }
    }
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    public mutating func formIntersection(_ other: PointBitset) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    public mutating func formUnion(_ other: PointBitset) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    public mutating func subtract(_ other: PointBitset) {
        for i in words.indices { words[i] &= ~other.words[i] }
    }

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
