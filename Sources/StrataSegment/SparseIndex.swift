import StrataBinary
import StrataModel
import StrataVectorMath

// The two sections of a sparse vector in a segment file (docs/format/sparse-index.md):
// `sparse[<name>].vectors` (kind 11, every point's vector, for retrieval, merges
// and rescoring) and `sparse[<name>].index` (kind 12, the inverted index with
// block-compressed posting lists that search walks). Encoders, checked views
// over the mapped bytes, and the exact pruned top-k search.

/// Encoding of the two sparse sections.
public enum SparseSectionCodec {
    /// Postings per block of a posting list.
    public static let blockSize = 128
    static let indexHeaderSize = 32
    static let termEntrySize = 16
    static let blockEntrySize = 32
    /// Zero bytes after the last block's data, so the bit unpacker may load 8 bytes anywhere inside the data.
    static let dataSlack = 8

    /// `sparse[<name>].vectors` for `vectors[i]` = point i's vector (nil: none).
    /// Each vector must be canonical (indices strictly ascending).
    public static func encodeVectors(_ vectors: [SparseVector?]) -> [UInt8] {
        let n = vectors.count
        let entries = vectors.reduce(0) { $0 + ($1?.count ?? 0) }
        var writer = ByteWriter(capacity: 16 + (n + 7) / 8 + 8 + 8 * (n + 1) + 8 * entries)
        writer.write(UInt64(n))
        writer.write(UInt64(entries))
        var presence = [UInt8](repeating: 0, count: presenceBytes(n))
        for (i, vector) in vectors.enumerated() where vector != nil { presence[i >> 3] |= 1 << UInt8(i & 7) }
        writer.write(contentsOf: presence)
        var start: UInt64 = 0
        writer.write(start)
        for vector in vectors {
            start += UInt64(vector?.count ?? 0)
            writer.write(start)
        }
        for vector in vectors { for index in vector?.indices ?? [] { writer.write(index) } }
        for vector in vectors { for value in vector?.values ?? [] { writer.write(value) } }
        return writer.bytes
    }

    /// ⌈n/8⌉ rounded up to a multiple of 8.
    static func presenceBytes(_ n: Int) -> Int { ((n + 7) / 8 + 7) / 8 * 8 }

    /// `sparse[<name>].index`: the inverted index of `vectors` (point i = offset i).
    public static func encodeIndex(_ vectors: [SparseVector?]) -> [UInt8] {
        // Postings grouped by term, in offset order within a term (points are visited in order).
        var counts: [UInt32: Int] = [:]
        for vector in vectors { for index in vector?.indices ?? [] { counts[index, default: 0] += 1 } }
        let terms = counts.keys.sorted()
        var start: [UInt32: Int] = [:]
        var total = 0
        for term in terms {
            start[term] = total
            total += counts[term]!
        }
        var offsets = [UInt32](repeating: 0, count: total)
        var weights = [Float](repeating: 0, count: total)
        var fill = start
        for (offset, vector) in vectors.enumerated() {
            guard let vector else { continue }
            for (k, index) in vector.indices.enumerated() {
                let slot = fill[index]!
                offsets[slot] = UInt32(offset)
                weights[slot] = vector.values[k]
                fill[index] = slot + 1
            }
        }
        var termTable = ByteWriter(capacity: terms.count * termEntrySize)
        var blockTable = ByteWriter()
        var data = ByteWriter(capacity: total * 6)
        var blockCount = 0
        for term in terms {
            let first = start[term]!
            let count = counts[term]!
            termTable.write(term)
            termTable.write(UInt32(blockCount))
            termTable.write(UInt32(count))
            termTable.write(UInt32(0))
            var b = first
            while b < first + count {
                let end = min(b + blockSize, first + count)
                var maxDelta: UInt32 = 0
                var maxWeight = -Float.infinity, minWeight = Float.infinity
                for i in b..<end {
                    if i > b { maxDelta = max(maxDelta, offsets[i] - offsets[i - 1]) }
                    maxWeight = max(maxWeight, weights[i])
                    minWeight = min(minWeight, weights[i])
                }
                let width = maxDelta == 0 ? 0 : 32 - maxDelta.leadingZeroBitCount
                blockTable.write(offsets[b])
                blockTable.write(offsets[end - 1])
                blockTable.write(UInt64(data.bytes.count))
                blockTable.write(UInt32(end - b))
                blockTable.write(UInt32(width))
                blockTable.write(maxWeight)
                blockTable.write(minWeight)
                for i in b..<end { data.write(weights[i]) }
                // Deltas, `width` bits each, least significant bit first, padded to 4 bytes.
                var packed = [UInt8](repeating: 0, count: ((end - b - 1) * width + 31) / 32 * 4)
                var bit = 0
                for i in (b + 1)..<max(end, b + 1) {
                    let delta = UInt64(offsets[i] - offsets[i - 1])
                    for k in 0..<width where delta & (1 << UInt64(k)) != 0 {
                        packed[(bit + k) >> 3] |= 1 << UInt8((bit + k) & 7)
                    }
                    bit += width
                }
                data.write(contentsOf: packed)
                blockCount += 1
                b = end
            }
        }
        data.write(contentsOf: [UInt8](repeating: 0, count: dataSlack))
        var writer = ByteWriter(capacity: indexHeaderSize + termTable.bytes.count + blockTable.bytes.count + data.bytes.count)
        writer.write(UInt32(terms.count))
        writer.write(UInt32(blockSize))
        writer.write(UInt32(vectors.count))
        writer.write(UInt32(0))
        writer.write(UInt64(blockCount))
        writer.write(UInt64(data.bytes.count))
        writer.write(contentsOf: termTable.bytes)
        writer.write(contentsOf: blockTable.bytes)
        writer.write(contentsOf: data.bytes)
        return writer.bytes
    }
}

// MARK: - Forward store

/// The checked `sparse[<name>].vectors` section of a segment (a view over
/// the mapping: valid while its reader lives).
public struct SparseVectorsView: @unchecked Sendable {
    // SAFETY: `bytes` points into a read-only mapping owned by the segment's
    // reader, which the owner of this view keeps alive.
    let bytes: UnsafeRawBufferPointer
    public let pointCount: Int
    let entryCount: Int
    let presenceOffset = 16
    let startsOffset: Int
    let indicesOffset: Int
    let valuesOffset: Int

    /// Checks the layout: sizes, starts non-decreasing and ending at the entry
    /// count, absent points without entries, indices strictly ascending per point.
    public init(_ bytes: UnsafeRawBufferPointer, pointCount n: Int) throws(FormatError) {
        guard bytes.count >= 16 else { throw FormatError("the section is \(bytes.count) bytes, shorter than its header") }
        let storedN = bytes.loadLittleEndian(at: 0, as: UInt64.self)
        let storedEntries = bytes.loadLittleEndian(at: 8, as: UInt64.self)
        guard storedN == UInt64(n) else { throw FormatError("holds \(storedN) points; the segment has \(n)") }
        guard storedEntries <= UInt64(bytes.count / 8) else { throw FormatError("claims \(storedEntries) entries, more than fit") }
        let entries = Int(storedEntries)
        let startsOffset = 16 + SparseSectionCodec.presenceBytes(n)
        let indicesOffset = startsOffset + 8 * (n + 1)
        let valuesOffset = indicesOffset + 4 * entries
        guard bytes.count == valuesOffset + 4 * entries else {
            throw FormatError("is \(bytes.count) bytes; \(n) points with \(entries) entries need \(valuesOffset + 4 * entries)")
        }
        var previous: UInt64 = 0
        guard bytes.loadLittleEndian(at: startsOffset, as: UInt64.self) == 0 else { throw FormatError("the first start is not 0") }
        for i in 0..<n {
            let next = bytes.loadLittleEndian(at: startsOffset + 8 * (i + 1), as: UInt64.self)
            guard next >= previous, next <= storedEntries else { throw FormatError("the start of point \(i + 1) (\(next)) is out of order") }
            let present = bytes[16 + i >> 3] & (1 << UInt8(i & 7)) != 0
            guard present || next == previous else { throw FormatError("point \(i) has entries but no vector") }
            var last: UInt32? = nil
            for k in Int(previous)..<Int(next) {
                let index = bytes.loadLittleEndian(at: indicesOffset + 4 * k, as: UInt32.self)
                if let last, last >= index { throw FormatError("the indices of point \(i) are not strictly ascending") }
                last = index
            }
            previous = next
        }
        guard previous == storedEntries else { throw FormatError("the starts end at \(previous), not at \(storedEntries) entries") }
        for i in n..<(SparseSectionCodec.presenceBytes(n) * 8) where bytes[16 + i >> 3] & (1 << UInt8(i & 7)) != 0 {
            throw FormatError("presence bits beyond the last point are set")
        }
        self.bytes = bytes
        self.pointCount = n
        self.entryCount = entries
        self.startsOffset = startsOffset
        self.indicesOffset = indicesOffset
        self.valuesOffset = valuesOffset
    }

    public func hasVector(at offset: Int) -> Bool { bytes[presenceOffset + offset >> 3] & (1 << UInt8(offset & 7)) != 0 }

    /// Point `offset`'s vector (nil: none). Precondition: offset in range.
    public func vector(at offset: Int) -> SparseVector? {
        precondition(offset >= 0 && offset < pointCount)
        guard hasVector(at: offset) else { return nil }
        let start = Int(bytes.loadLittleEndian(at: startsOffset + 8 * offset, as: UInt64.self))
        let end = Int(bytes.loadLittleEndian(at: startsOffset + 8 * offset + 8, as: UInt64.self))
        var vector = SparseVector(indices: [], values: [])
        vector.indices.reserveCapacity(end - start)
        vector.values.reserveCapacity(end - start)
        for k in start..<end {
            vector.indices.append(bytes.loadLittleEndian(at: indicesOffset + 4 * k, as: UInt32.self))
            vector.values.append(Float(bitPattern: bytes.loadLittleEndian(at: valuesOffset + 4 * k, as: UInt32.self)))
        }
        return vector
    }

    /// Points that have a vector.
    public var presentCount: Int {
        var count = 0
        for i in 0..<pointCount where hasVector(at: i) { count += 1 }
        return count
    }
}

// MARK: - Inverted index

/// The checked `sparse[<name>].index` section: terms, posting-list blocks,
/// and the exact top-k search over them. Valid while its reader lives.
public struct SparseIndexView: @unchecked Sendable {
    // SAFETY: as for `SparseVectorsView`; every offset below was checked by `init`.
    let bytes: UnsafeRawBufferPointer
    public let pointCount: Int
    public let termCount: Int
    let blockCount: Int
    let termsOffset: Int
    let blocksOffset: Int
    let dataOffset: Int
    let dataLength: Int

    /// Checks the header, the term table (terms strictly ascending, block
    /// ranges contiguous), every block entry (1…128 postings, bit width ≤ 32,
    /// data contiguous and inside the section, offsets < point count, blocks
    /// of a term ascending) and decodes every block once to check that its
    /// deltas lead from its first to its last offset in strictly ascending steps.
    public init(_ bytes: UnsafeRawBufferPointer, pointCount n: Int) throws(FormatError) {
        let header = SparseSectionCodec.indexHeaderSize
        guard bytes.count >= header else { throw FormatError("the section is \(bytes.count) bytes, shorter than its header") }
        let termCount = Int(bytes.loadLittleEndian(at: 0, as: UInt32.self))
        guard bytes.loadLittleEndian(at: 4, as: UInt32.self) == UInt32(SparseSectionCodec.blockSize) else {
            throw FormatError("block size \(bytes.loadLittleEndian(at: 4, as: UInt32.self)) is not \(SparseSectionCodec.blockSize)")
        }
        guard bytes.loadLittleEndian(at: 8, as: UInt32.self) == UInt32(truncatingIfNeeded: n), n <= Int(UInt32.max) else {
            throw FormatError("holds \(bytes.loadLittleEndian(at: 8, as: UInt32.self)) points; the segment has \(n)")
        }
        guard bytes.loadLittleEndian(at: 12, as: UInt32.self) == 0 else { throw FormatError("reserved header bytes are not zero") }
        let storedBlocks = bytes.loadLittleEndian(at: 16, as: UInt64.self)
        let storedData = bytes.loadLittleEndian(at: 24, as: UInt64.self)
        guard storedBlocks <= UInt64(bytes.count / SparseSectionCodec.blockEntrySize), storedData <= UInt64(bytes.count) else {
            throw FormatError("claims \(storedBlocks) blocks and \(storedData) data bytes, more than fit")
        }
        let blockCount = Int(storedBlocks), dataLength = Int(storedData)
        let termsOffset = header
        let blocksOffset = termsOffset + termCount * SparseSectionCodec.termEntrySize
        let dataOffset = blocksOffset + blockCount * SparseSectionCodec.blockEntrySize
        guard bytes.count == dataOffset + dataLength, dataLength >= SparseSectionCodec.dataSlack else {
            throw FormatError("is \(bytes.count) bytes; \(termCount) terms, \(blockCount) blocks and \(dataLength) data bytes need \(dataOffset + dataLength)")
        }
        self.bytes = bytes
        self.pointCount = n
        self.termCount = termCount
        self.blockCount = blockCount
        self.termsOffset = termsOffset
        self.blocksOffset = blocksOffset
        self.dataOffset = dataOffset
        self.dataLength = dataLength
        var expectedData = 0
        var previousTerm: UInt32? = nil
        var scratch = [UInt32](repeating: 0, count: SparseSectionCodec.blockSize)
        for t in 0..<termCount {
            let at = termsOffset + t * SparseSectionCodec.termEntrySize
            let term = bytes.loadLittleEndian(at: at, as: UInt32.self)
            if let previousTerm, previousTerm >= term { throw FormatError("term \(term) does not follow term \(previousTerm) in ascending order") }
            previousTerm = term
            guard bytes.loadLittleEndian(at: at + 12, as: UInt32.self) == 0 else { throw FormatError("term \(term): reserved bytes are not zero") }
            let range = blockRange(term: t)
            let firstBlock = bytes.loadLittleEndian(at: at + 4, as: UInt32.self)
            guard Int(firstBlock) == (t == 0 ? 0 : blockRange(term: t - 1).upperBound), range.lowerBound < range.upperBound,
                  range.upperBound <= blockCount else {
                throw FormatError("term \(term): blocks \(range) do not continue the previous term's or run past \(blockCount)")
            }
            var postings = 0
            var previousLast: UInt32? = nil
            for b in range {
                let block = self.block(b)
                guard (1...SparseSectionCodec.blockSize).contains(block.count), block.width <= 32, block.dataOffset == expectedData,
                      block.first <= block.last, Int(block.last) < n, block.count > 1 || block.first == block.last,
                      block.count == 1 || block.width > 0 else {
                    throw FormatError("term \(term), block \(b): malformed entry")
                }
                if let previousLast, previousLast >= block.first { throw FormatError("term \(term), block \(b) overlaps the previous block") }
                previousLast = block.last
                expectedData += block.byteCount
                guard expectedData + SparseSectionCodec.dataSlack <= dataLength else { throw FormatError("term \(term), block \(b): data runs past the section") }
                scratch.withUnsafeMutableBufferPointer { decode(block, into: $0.baseAddress!) }
                for i in 1..<block.count where scratch[i] <= scratch[i - 1] {
                    throw FormatError("term \(term), block \(b): offsets are not strictly ascending")
                }
                guard scratch[block.count - 1] == block.last else { throw FormatError("term \(term), block \(b): the deltas do not reach the last offset") }
                postings += block.count
            }
            guard postings == Int(bytes.loadLittleEndian(at: at + 8, as: UInt32.self)) else {
                throw FormatError("term \(term): the posting count does not match its blocks")
            }
        }
        guard expectedData + SparseSectionCodec.dataSlack == dataLength else { throw FormatError("the blocks' data ends at \(expectedData), not at \(dataLength - SparseSectionCodec.dataSlack)") }
        for k in (dataLength - SparseSectionCodec.dataSlack)..<dataLength where bytes[dataOffset + k] != 0 {
            throw FormatError("the slack after the last block is not zero")
        }
    }

    struct Block {
        var first: UInt32
        var last: UInt32
        var dataOffset: Int
        var count: Int
        var width: Int
        var maxWeight: Float
        var minWeight: Float
        /// Weights, then the packed deltas padded to 4 bytes.
        var byteCount: Int { 4 * count + ((count - 1) * width + 31) / 32 * 4 }
    }

    @inline(__always)
    func block(_ b: Int) -> Block {
        let at = blocksOffset + b * SparseSectionCodec.blockEntrySize
        return Block(
            first: bytes.loadLittleEndian(at: at, as: UInt32.self), last: bytes.loadLittleEndian(at: at + 4, as: UInt32.self),
            dataOffset: Int(truncatingIfNeeded: bytes.loadLittleEndian(at: at + 8, as: UInt64.self)),
            count: Int(bytes.loadLittleEndian(at: at + 16, as: UInt32.self)),
            width: Int(bytes.loadLittleEndian(at: at + 20, as: UInt32.self)),
            maxWeight: Float(bitPattern: bytes.loadLittleEndian(at: at + 24, as: UInt32.self)),
            minWeight: Float(bitPattern: bytes.loadLittleEndian(at: at + 28, as: UInt32.self)))
    }

    /// Block indices of term entry `t`.
    func blockRange(term t: Int) -> Range<Int> {
        let at = termsOffset + t * SparseSectionCodec.termEntrySize
        let first = Int(bytes.loadLittleEndian(at: at + 4, as: UInt32.self))
        let end = t + 1 < termCount
            ? Int(bytes.loadLittleEndian(at: at + SparseSectionCodec.termEntrySize + 4, as: UInt32.self)) : blockCount
        return first..<max(first, end)
    }

    func term(at t: Int) -> UInt32 { bytes.loadLittleEndian(at: termsOffset + t * SparseSectionCodec.termEntrySize, as: UInt32.self) }

    /// The term entry of `term` (binary search), or nil.
    public func find(_ term: UInt32) -> Int? {
        var low = 0, high = termCount
        while low < high {
            let mid = (low + high) / 2
            let value = self.term(at: mid)
            if value == term { return mid }
            if value < term { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// Points holding `term` (its document frequency in this segment, deleted points included).
    public func postingCount(_ term: UInt32) -> Int {
        guard let t = find(term) else { return 0 }
        return Int(bytes.loadLittleEndian(at: termsOffset + t * SparseSectionCodec.termEntrySize + 8, as: UInt32.self))
    }

    /// The offsets of `block` into `out` (at least `block.count` slots).
    @inline(__always)
    func decode(_ block: Block, into out: UnsafeMutablePointer<UInt32>) {
        let packed = bytes.baseAddress! + dataOffset + block.dataOffset + 4 * block.count
        var value = block.first
        out[0] = value
        guard block.count > 1 else { return }
        let width = block.width
        let mask: UInt64 = (1 << UInt64(width)) - 1
        var bit = 0
        for i in 1..<block.count {
            let word = packed.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self)
            value &+= UInt32(truncatingIfNeeded: (UInt64(littleEndian: word) >> UInt64(bit & 7)) & mask)
            out[i] = value
            bit += width
        }
    }

    @inline(__always)
    func weights(_ block: Block) -> UnsafePointer<Float> {
        // SAFETY: data offsets are multiples of 4 from a 64-byte aligned section start.
        (bytes.baseAddress! + dataOffset + block.dataOffset).assumingMemoryBound(to: Float.self)
    }

    /// Every posting (offset, weight) of `term`, in offset order (tests, tools).
    public func postings(_ term: UInt32) -> [(offset: Int, weight: Float)] {
        guard let t = find(term) else { return [] }
        var result: [(offset: Int, weight: Float)] = []
        var scratch = [UInt32](repeating: 0, count: SparseSectionCodec.blockSize)
        for b in blockRange(term: t) {
            let block = self.block(b)
            scratch.withUnsafeMutableBufferPointer { decode(block, into: $0.baseAddress!) }
            let w = weights(block)
            for i in 0..<block.count { result.append((Int(scratch[i]), w[i])) }
        }
        return result
    }
}

// MARK: - Search

extension SparseIndexView {
    /// Offsets per scoring window: the accumulator (32 KiB) stays in L1/L2.
    public static let windowSize = 8192

    /// The exact top-`limit` points by dot product with `query` (canonical:
    /// indices strictly ascending), best first, ties by smaller offset. A
    /// point's score is Σ query·weight over the indices it shares with the
    /// query, summed in ascending index order from 0 — the same value
    /// `SparseVector.dot` gives. Points scoring exactly 0 are not returned
    /// (Qdrant's rule). `excluded`: bit i set = skip offset i (deleted, or not
    /// matching a filter).
    ///
    /// Walks the posting lists window by window (8192 offsets). Once `limit`
    /// points are kept with worst score θ, each window is pruned MaxScore-style
    /// with block-max bounds: a term whose bound, together with the smaller
    /// ones, cannot lift a point above θ is *non-essential*; points only such
    /// terms hold are not scored, and blocks of non-essential lists that hold
    /// none of the points an essential list holds are skipped undecoded. The
    /// bounds are computed in float in the same summation order as scores, so
    /// pruning never drops a point that belongs in the result.
    public func search(_ query: SparseVector, limit: Int, excluded: UnsafePointer<UInt64>?, windowSize: Int = windowSize)
        -> [(offset: Int, score: Float)]
    {
        precondition(windowSize >= 64 && windowSize % 64 == 0, "the window is a whole number of 64-offset words")
        guard limit > 0, pointCount > 0 else { return [] }
        var cursors: [Cursor] = []
        for (k, term) in query.indices.enumerated() where query.values[k] != 0 {
            guard let t = find(term) else { continue }
            let range = blockRange(term: t)
            cursors.append(Cursor(weight: query.values[k], block: range.lowerBound, end: range.upperBound))
        }
        guard !cursors.isEmpty else { return [] }
        var selector = TopKSelector(k: limit, higherIsBetter: true)
        let window = windowSize
        var accumulator = [Float](repeating: 0, count: window)
        var touched = [UInt64](repeating: 0, count: window / 64)
        var scratch = [UInt32](repeating: 0, count: cursors.count * SparseSectionCodec.blockSize)
        var bounds = [Float](repeating: 0, count: cursors.count)
        var essential = [Bool](repeating: true, count: cursors.count)
        var order = Array(0..<cursors.count)
        for c in cursors.indices { cursors[c].decoded = -1 }

        accumulator.withUnsafeMutableBufferPointer { acc in
        touched.withUnsafeMutableBufferPointer { touchedBits in
        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
            var low = cursors.map { block($0.block).first }.min()!
            while true {
                let high = UInt64(low) + UInt64(window)
                let threshold = selector.worstScore
                var pruning = false
                if let threshold {
                    // Block-max bound of each term inside this window.
                    for c in cursors.indices {
                        var bound: Float = 0
                        var b = cursors[c].block
                        while b < cursors[c].end {
                            let entry = block(b)
                            if UInt64(entry.first) >= high { break }
                            let q = cursors[c].weight
                            bound = max(bound, q * entry.maxWeight, q * entry.minWeight)
                            b += 1
                        }
                        bounds[c] = bound
                        essential[c] = true
                    }
                    // Non-essential: the smallest bounds whose sum (in the
                    // scoring order: ascending term) stays ≤ θ.
                    order.sort { bounds[$0] < bounds[$1] }
                    var chosen = 0
                    for candidate in order {
                        essential[candidate] = false
                        var sum: Float = 0
                        for c in cursors.indices where !essential[c] { sum += bounds[c] }
                        if sum <= threshold {
                            chosen += 1
                        } else {
                            essential[candidate] = true
                            break
                        }
                    }
                    pruning = chosen > 0
                    if chosen == cursors.count {
                        // Nothing in this window can enter the result.
                        for c in cursors.indices { skip(&cursors[c], below: high, scratch: scratchBuffer.baseAddress! + c * SparseSectionCodec.blockSize) }
                        guard let next = nextOffset(cursors, scratch: scratchBuffer.baseAddress!) else { break }
                        low = next
                        continue
                    }
                    if pruning {
                        // Mark the points the essential lists hold.
                        for c in cursors.indices where essential[c] {
                            var copy = cursors[c]
                            forEach(&copy, below: high, scratch: scratchBuffer.baseAddress! + c * SparseSectionCodec.blockSize) { offset, _ in
                                let local = Int(offset &- low)
                                touchedBits[local >> 6] |= 1 << UInt64(local & 63)
                            }
                            cursors[c].decoded = copy.decoded
                        }
                    }
                }
                // Accumulate in ascending term order (the canonical summation order).
                for c in cursors.indices {
                    let out = scratchBuffer.baseAddress! + c * SparseSectionCodec.blockSize
                    let q = cursors[c].weight
                    if !pruning || essential[c] {
                        forEach(&cursors[c], below: high, scratch: out) { offset, weight in
                            acc[Int(offset &- low)] += q * weight
                        }
                    } else {
                        addTouched(&cursors[c], low: low, below: high, scratch: out, touched: touchedBits.baseAddress!, acc: acc.baseAddress!)
                    }
                }
                // Collect.
                let span = Int(min(high, UInt64(pointCount)) - UInt64(low))
                for i in 0..<span {
                    let score = acc[i]
                    guard score != 0 else { continue }
                    acc[i] = 0
                    let offset = Int(low) + i
                    if let excluded, excluded[offset >> 6] & (1 << UInt64(offset & 63)) != 0 { continue }
                    selector.insert(id: offset, score: score)
                }
                if pruning { for w in 0..<touchedBits.count { touchedBits[w] = 0 } }
                guard let next = nextOffset(cursors, scratch: scratchBuffer.baseAddress!) else { break }
                low = next
            }
        }
        }
        }
        return selector.sorted().map { (offset: $0.id, score: $0.score) }
    }

    struct Cursor {
        var weight: Float
        /// Current block, and the end of the term's blocks.
        var block: Int
        let end: Int
        /// Position inside the current block.
        var position = 0
        /// The block whose offsets are in the scratch buffer (-1: none).
        var decoded = -1
    }

    /// The smallest offset any cursor has left, or nil when all are done.
    /// A cursor inside a block has that block decoded in its scratch slots.
    private func nextOffset(_ cursors: [Cursor], scratch: UnsafeMutablePointer<UInt32>) -> UInt32? {
        var best: UInt32? = nil
        for (c, cursor) in cursors.enumerated() where cursor.block < cursor.end {
            let next = cursor.position == 0 ? block(cursor.block).first : scratch[c * SparseSectionCodec.blockSize + cursor.position]
            best = min(best ?? .max, next)
        }
        return best
    }

    @inline(__always)
    private func ensureDecoded(_ cursor: inout Cursor, _ entry: Block, scratch: UnsafeMutablePointer<UInt32>) {
        if cursor.decoded != cursor.block {
            decode(entry, into: scratch)
            cursor.decoded = cursor.block
        }
    }

    /// Calls `body` with every posting below `high` from the cursor on, advancing it.
    @inline(__always)
    private func forEach(_ cursor: inout Cursor, below high: UInt64, scratch: UnsafeMutablePointer<UInt32>,
                         _ body: (UInt32, Float) -> Void) {
        while cursor.block < cursor.end {
            let entry = block(cursor.block)
            if UInt64(entry.first) >= high { return }
            let weights = self.weights(entry)
            if UInt64(entry.last) < high {
                ensureDecoded(&cursor, entry, scratch: scratch)
                for i in cursor.position..<entry.count { body(scratch[i], weights[i]) }
                cursor.block += 1
                cursor.position = 0
            } else {
                ensureDecoded(&cursor, entry, scratch: scratch)
                var i = cursor.position
                while UInt64(scratch[i]) < high {
                    body(scratch[i], weights[i])
                    i += 1
                }
                cursor.position = i
                return
            }
        }
    }

    /// Advances the cursor past every posting below `high` without scoring.
    private func skip(_ cursor: inout Cursor, below high: UInt64, scratch: UnsafeMutablePointer<UInt32>) {
        while cursor.block < cursor.end {
            let entry = block(cursor.block)
            if UInt64(entry.first) >= high { return }
            if UInt64(entry.last) < high {
                cursor.block += 1
                cursor.position = 0
            } else {
                ensureDecoded(&cursor, entry, scratch: scratch)
                var i = cursor.position
                while UInt64(scratch[i]) < high { i += 1 }
                cursor.position = i
                return
            }
        }
    }

    /// A non-essential list inside one window: decodes and adds only blocks
    /// whose offset range holds a point an essential list holds.
    private func addTouched(_ cursor: inout Cursor, low: UInt32, below high: UInt64, scratch: UnsafeMutablePointer<UInt32>,
                            touched: UnsafeMutablePointer<UInt64>, acc: UnsafeMutablePointer<Float>) {
        let q = cursor.weight
        while cursor.block < cursor.end {
            let entry = block(cursor.block)
            if UInt64(entry.first) >= high { return }
            let from = Int(max(entry.first, low) - low)
            let to = Int(min(UInt64(entry.last), high - 1) - UInt64(low))
            if !anyBit(touched, from, to) {
                if UInt64(entry.last) < high {
                    cursor.block += 1
                    cursor.position = 0
                    continue
                }
                skip(&cursor, below: high, scratch: scratch)
                return
            }
            let weights = self.weights(entry)
            ensureDecoded(&cursor, entry, scratch: scratch)
            var i = cursor.position
            while i < entry.count && UInt64(scratch[i]) < high {
                acc[Int(scratch[i] - low)] += q * weights[i]
                i += 1
            }
            if i == entry.count {
                cursor.block += 1
                cursor.position = 0
            } else {
                cursor.position = i
                return
            }
        }
    }

    /// Whether any bit in from...to (inclusive) is set.
    @inline(__always)
    private func anyBit(_ bits: UnsafeMutablePointer<UInt64>, _ from: Int, _ to: Int) -> Bool {
        var word = from >> 6
        let lastWord = to >> 6
        if word == lastWord {
            let mask = (UInt64.max << UInt64(from & 63)) & (UInt64.max >> UInt64(63 - (to & 63)))
            return bits[word] & mask != 0
        }
        if bits[word] & (UInt64.max << UInt64(from & 63)) != 0 { return true }
        word += 1
        while word < lastWord {
            if bits[word] != 0 { return true }
            word += 1
        }
        return bits[lastWord] & (UInt64.max >> UInt64(63 - (to & 63))) != 0
    }
}
