import CStrataKernels
import Foundation
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
    /// Zero bytes after the last block's data (reserved slack, kept zero).
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
                var maxWeight = -Float.infinity, minWeight = Float.infinity
                for i in b..<end {
                    maxWeight = max(maxWeight, weights[i])
                    minWeight = min(minWeight, weights[i])
                }
                // Offsets relative to the block's first: u16 when the block spans < 65536 offsets, else u32.
                let width = offsets[end - 1] - offsets[b] < 65536 ? 16 : 32
                blockTable.write(offsets[b])
                blockTable.write(offsets[end - 1])
                blockTable.write(UInt64(data.bytes.count))
                blockTable.write(UInt32(end - b))
                blockTable.write(UInt32(width))
                blockTable.write(maxWeight)
                blockTable.write(minWeight)
                for i in b..<end { data.write(weights[i]) }
                for i in b..<end {
                    if width == 16 {
                        data.write(UInt16(offsets[i] - offsets[b]))
                    } else {
                        data.write(offsets[i] - offsets[b])
                    }
                }
                if width == 16 && (end - b) % 2 == 1 { data.write(UInt16(0)) }
                blockCount += 1
                b = end
            }
        }
        data.write(contentsOf: [UInt8](repeating: 0, count: dataSlack))
        var writer = ByteWriter(
            capacity: indexHeaderSize + termTable.bytes.count + blockTable.bytes.count + data.bytes.count)
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
        guard bytes.count >= 16 else {
            throw FormatError("the section is \(bytes.count) bytes, shorter than its header")
        }
        let storedN = bytes.loadLittleEndian(at: 0, as: UInt64.self)
        let storedEntries = bytes.loadLittleEndian(at: 8, as: UInt64.self)
        guard storedN == UInt64(n) else { throw FormatError("holds \(storedN) points; the segment has \(n)") }
        guard storedEntries <= UInt64(bytes.count / 8) else {
            throw FormatError("claims \(storedEntries) entries, more than fit")
        }
        let entries = Int(storedEntries)
        let startsOffset = 16 + SparseSectionCodec.presenceBytes(n)
        let indicesOffset = startsOffset + 8 * (n + 1)
        let valuesOffset = indicesOffset + 4 * entries
        guard bytes.count == valuesOffset + 4 * entries else {
            throw FormatError(
                "is \(bytes.count) bytes; \(n) points with \(entries) entries need \(valuesOffset + 4 * entries)")
        }
        var previous: UInt64 = 0
        guard bytes.loadLittleEndian(at: startsOffset, as: UInt64.self) == 0 else {
            throw FormatError("the first start is not 0")
        }
        for i in 0..<n {
            let next = bytes.loadLittleEndian(at: startsOffset + 8 * (i + 1), as: UInt64.self)
            guard next >= previous, next <= storedEntries else {
                throw FormatError("the start of point \(i + 1) (\(next)) is out of order")
            }
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
        guard previous == storedEntries else {
            throw FormatError("the starts end at \(previous), not at \(storedEntries) entries")
        }
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

    public func hasVector(at offset: Int) -> Bool {
        bytes[presenceOffset + offset >> 3] & (1 << UInt8(offset & 7)) != 0
    }

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
        guard bytes.count >= header else {
            throw FormatError("the section is \(bytes.count) bytes, shorter than its header")
        }
        let termCount = Int(bytes.loadLittleEndian(at: 0, as: UInt32.self))
        guard bytes.loadLittleEndian(at: 4, as: UInt32.self) == UInt32(SparseSectionCodec.blockSize) else {
            throw FormatError(
                "block size \(bytes.loadLittleEndian(at: 4, as: UInt32.self)) is not \(SparseSectionCodec.blockSize)")
        }
        guard bytes.loadLittleEndian(at: 8, as: UInt32.self) == UInt32(truncatingIfNeeded: n), n <= Int(UInt32.max)
        else {
            throw FormatError("holds \(bytes.loadLittleEndian(at: 8, as: UInt32.self)) points; the segment has \(n)")
        }
        guard bytes.loadLittleEndian(at: 12, as: UInt32.self) == 0 else {
            throw FormatError("reserved header bytes are not zero")
        }
        let storedBlocks = bytes.loadLittleEndian(at: 16, as: UInt64.self)
        let storedData = bytes.loadLittleEndian(at: 24, as: UInt64.self)
        guard storedBlocks <= UInt64(bytes.count / SparseSectionCodec.blockEntrySize), storedData <= UInt64(bytes.count)
        else {
            throw FormatError("claims \(storedBlocks) blocks and \(storedData) data bytes, more than fit")
        }
        let blockCount = Int(storedBlocks), dataLength = Int(storedData)
        let termsOffset = header
        let blocksOffset = termsOffset + termCount * SparseSectionCodec.termEntrySize
        let dataOffset = blocksOffset + blockCount * SparseSectionCodec.blockEntrySize
        guard bytes.count == dataOffset + dataLength, dataLength >= SparseSectionCodec.dataSlack else {
            throw FormatError(
                "is \(bytes.count) bytes; \(termCount) terms, \(blockCount) blocks and \(dataLength) data bytes need \(dataOffset + dataLength)"
            )
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
        for t in 0..<termCount {
            let at = termsOffset + t * SparseSectionCodec.termEntrySize
            let term = bytes.loadLittleEndian(at: at, as: UInt32.self)
            if let previousTerm, previousTerm >= term {
                throw FormatError("term \(term) does not follow term \(previousTerm) in ascending order")
            }
            previousTerm = term
            guard bytes.loadLittleEndian(at: at + 12, as: UInt32.self) == 0 else {
                throw FormatError("term \(term): reserved bytes are not zero")
            }
            let range = blockRange(term: t)
            let firstBlock = bytes.loadLittleEndian(at: at + 4, as: UInt32.self)
            guard Int(firstBlock) == (t == 0 ? 0 : blockRange(term: t - 1).upperBound),
                range.lowerBound < range.upperBound,
                range.upperBound <= blockCount
            else {
                throw FormatError(
                    "term \(term): blocks \(range) do not continue the previous term's or run past \(blockCount)")
            }
            var postings = 0
            var previousLast: UInt32? = nil
            for b in range {
                let block = self.block(b)
                guard (1...SparseSectionCodec.blockSize).contains(block.count), block.width == 16 || block.width == 32,
                    block.dataOffset == expectedData, block.first <= block.last, Int(block.last) < n,
                    block.count > 1 || block.first == block.last, block.width == 32 || block.last - block.first < 65536
                else {
                    throw FormatError("term \(term), block \(b): malformed entry")
                }
                if let previousLast, previousLast >= block.first {
                    throw FormatError("term \(term), block \(b) overlaps the previous block")
                }
                previousLast = block.last
                expectedData += block.byteCount
                guard expectedData + SparseSectionCodec.dataSlack <= dataLength else {
                    throw FormatError("term \(term), block \(b): data runs past the section")
                }
                guard relative(block, 0) == 0 else {
                    throw FormatError("term \(term), block \(b): the first relative offset is not 0")
                }
                for i in 1..<block.count where relative(block, i) <= relative(block, i - 1) {
                    throw FormatError("term \(term), block \(b): offsets are not strictly ascending")
                }
                guard block.first + relative(block, block.count - 1) == block.last else {
                    throw FormatError("term \(term), block \(b): the offsets do not end at the last offset")
                }
                if block.width == 16 && block.count % 2 == 1 {
                    guard relative(block, block.count) == 0 else {
                        throw FormatError("term \(term), block \(b): padding is not zero")
                    }
                }
                postings += block.count
            }
            guard postings == Int(bytes.loadLittleEndian(at: at + 8, as: UInt32.self)) else {
                throw FormatError("term \(term): the posting count does not match its blocks")
            }
        }
        guard expectedData + SparseSectionCodec.dataSlack == dataLength else {
            throw FormatError(
                "the blocks' data ends at \(expectedData), not at \(dataLength - SparseSectionCodec.dataSlack)")
        }
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
        /// Weights, then the relative offsets (`width` bits each) padded to 4 bytes.
        var byteCount: Int { 4 * count + (count * width / 8 + 3) / 4 * 4 }
    }

    @inline(__always)
    func block(_ b: Int) -> Block {
        let at = blocksOffset + b * SparseSectionCodec.blockEntrySize
        return Block(
            first: bytes.loadLittleEndian(at: at, as: UInt32.self),
            last: bytes.loadLittleEndian(at: at + 4, as: UInt32.self),
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
        let end =
            t + 1 < termCount
            ? Int(bytes.loadLittleEndian(at: at + SparseSectionCodec.termEntrySize + 4, as: UInt32.self)) : blockCount
        return first..<max(first, end)
    }

    func term(at t: Int) -> UInt32 {
        bytes.loadLittleEndian(at: termsOffset + t * SparseSectionCodec.termEntrySize, as: UInt32.self)
    }

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

    /// Posting `i`'s offset minus the block's first offset (i < count; i = count
    /// reads the u16 padding of an odd block).
    @inline(__always)
    func relative(_ block: Block, _ i: Int) -> UInt32 {
        let at = dataOffset + block.dataOffset + 4 * block.count
        return block.width == 16
            ? UInt32(bytes.loadLittleEndian(at: at + 2 * i, as: UInt16.self))
            : bytes.loadLittleEndian(at: at + 4 * i, as: UInt32.self)
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
        for b in blockRange(term: t) {
            let block = self.block(b)
            let w = weights(block)
            for i in 0..<block.count { result.append((Int(block.first + relative(block, i)), w[i])) }
        }
        return result
    }
}

// MARK: - Search

extension SparseIndexView {
    /// Offsets per scoring window: the accumulator (64 KiB) stays in L2.
    public static let windowSize = 16384
    /// Marking pays when the postings it lets the non-essential lists skip
    /// (estimated) exceed this many times the essential postings it walks.
    static let markingCost = 1.0
    /// Benchmarks only: STRATA_SPARSE_NO_PRUNING=1 scores every posting.
    static let pruningDisabled = ProcessInfo.processInfo.environment["STRATA_SPARSE_NO_PRUNING"] == "1"

    /// The exact top-`limit` points by dot product with `query` (canonical:
    /// indices strictly ascending), best first, ties by smaller offset. A
    /// point's score is Σ query·weight over the indices it shares with the
    /// query, summed in ascending index order from 0 — the same value
    /// `SparseVector.dot` gives. Points scoring exactly 0 are not returned
    /// (Qdrant's rule). `excluded`: bit i set = skip offset i (deleted, or not
    /// matching a filter).
    ///
    /// Walks the posting lists window by window (16384 offsets), accumulating
    /// into a dense array in ascending term order. Once `limit` points are kept
    /// with worst score θ, each window is pruned MaxScore-style with block-max
    /// bounds: the terms with the smallest bounds whose sum (in the scoring
    /// order) is ≤ θ are *non-essential*; points only they hold cannot enter.
    /// A window without essential terms is skipped; when the essential lists
    /// hold few of the window's postings, they mark their points and the
    /// non-essential lists add only blocks holding a marked point. The bounds
    /// are summed in float in the scoring order, so pruning never drops a
    /// point that belongs in the result.
    public func search(
        _ query: SparseVector, limit: Int, excluded: UnsafePointer<UInt64>?, windowSize: Int = windowSize
    )
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
        var bounds = [Float](repeating: 0, count: cursors.count)
        var postings = [Int](repeating: 0, count: cursors.count)
        var essential = [Bool](repeating: true, count: cursors.count)
        var order = Array(0..<cursors.count)

        accumulator.withUnsafeMutableBufferPointer { accBuffer in
            touched.withUnsafeMutableBufferPointer { touchedBuffer in
                let acc = accBuffer.baseAddress!
                let touchedBits = touchedBuffer.baseAddress!
                var low = cursors.map { block($0.block).first }.min()!
                // Windows to score without computing bounds: after a window whose
                // bounds pruned nothing, 1, 2, 4, then 8 windows are skipped (on
                // SPLADE-like data the bounds never prune and cost ~8 % of a query).
                var boundsSkip = 0, boundsBackoff = 1
                while true {
                    let high = UInt64(low) + UInt64(window)
                    let threshold = Self.pruningDisabled || boundsSkip > 0 ? nil : selector.worstScore
                    if boundsSkip > 0 { boundsSkip -= 1 }
                    var marking = false
                    if let threshold {
                        // Block-max bound and (block-granular) posting count of each term in this window.
                        for c in cursors.indices {
                            var bound: Float = 0
                            var count = 0
                            var b = cursors[c].block
                            let q = cursors[c].weight
                            while b < cursors[c].end {
                                let entry = block(b)
                                if UInt64(entry.first) >= high { break }
                                bound = max(bound, q * entry.maxWeight, q * entry.minWeight)
                                count += entry.count
                                b += 1
                            }
                            bounds[c] = bound
                            postings[c] = count
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
                        if chosen == cursors.count {
                            boundsBackoff = 1
                            // Nothing in this window can enter the result.
                            for c in cursors.indices { walk(&cursors[c], below: high) { _, _, _ in } }
                            guard let next = nextOffset(cursors) else { break }
                            low = next
                            continue
                        }
                        var essentialPostings = 0
                        for c in cursors.indices where essential[c] { essentialPostings += postings[c] }
                        let marks =
                            chosen > 0
                            && Self.markingPays(
                                essentialPostings: essentialPostings, window: window,
                                nonEssential: cursors.indices.lazy.filter { !essential[$0] }.map { postings[$0] })
                        if marks {
                            boundsBackoff = 1
                        } else {
                            boundsSkip = boundsBackoff
                            boundsBackoff = min(boundsBackoff * 2, 8)
                        }
                        if marks {
                            marking = true
                            for c in cursors.indices where essential[c] {
                                var copy = cursors[c]
                                walk(&copy, below: high) { entry, from, to in
                                    let base = Int(entry.first) - Int(low)
                                    forEachRelative(entry, from, to) { r in
                                        let local = base + r
                                        touchedBits[local >> 6] |= 1 << UInt64(local & 63)
                                    }
                                }
                            }
                        }
                    }
                    // Accumulate in ascending term order (the canonical summation order).
                    for c in cursors.indices {
                        let q = cursors[c].weight
                        if !marking || essential[c] {
                            walk(&cursors[c], below: high) { entry, from, to in
                                accumulate(entry, from, to, q: q, base: Int(entry.first) - Int(low), acc: acc)
                            }
                        } else {
                            walk(&cursors[c], below: high) { entry, from, to in
                                let lo = Int(max(entry.first, low) - low)
                                let hi = Int(min(UInt64(entry.last), high - 1) - UInt64(low))
                                if anyBit(touchedBits, lo, hi) {
                                    accumulate(entry, from, to, q: q, base: Int(entry.first) - Int(low), acc: acc)
                                }
                            }
                        }
                    }
                    // Collect: a point enters if the selector is not full or it beats the
                    // worst kept score (a tie loses: it comes later, with a larger offset).
                    // Untouched points' partial sums are ≤ θ, so they never enter.
                    let span = Int(min(high, UInt64(pointCount)) - UInt64(low))
                    var worst = selector.worstScore ?? -.infinity
                    var full = selector.isFull
                    var i = 0
                    while i < span {
                        // Full: jump to the next score that beats the worst kept one
                        // (vector compares in C; most of the window fails).
                        if full {
                            i += strata_first_candidate_f32(acc + i, span - i, worst)
                            if i >= span { break }
                        }
                        let score = acc[i]
                        // Full: only scores above the worst matter (most fail this one test).
                        if score != 0 && (!full || score > worst) {
                            let offset = Int(low) + i
                            if excluded == nil || excluded![offset >> 6] & (1 << UInt64(offset & 63)) == 0 {
                                selector.insert(id: offset, score: score)
                                if selector.isFull {
                                    full = true
                                    worst = selector.worstScore!
                                }
                            }
                        }
                        i += 1
                    }
                    acc.update(repeating: 0, count: span)
                    if marking { for w in 0..<(window / 64) { touchedBits[w] = 0 } }
                    guard let next = nextOffset(cursors) else { break }
                    low = next
                }
            }
        }
        return selector.sorted().map { (offset: $0.id, score: $0.score) }
    }

    /// Whether marking the essential lists' points saves more than it costs.
    /// A non-essential block is skipped only when none of the offsets it spans
    /// is marked; with the marked points spread over the window at density
    /// d (at most essential postings / window), a block spanning s offsets is
    /// skipped with probability about (1 − d)^s. Marking walks the essential
    /// postings once more, so it pays when the expected skipped postings
    /// exceed `markingCost` times those. (On SPLADE-like data the frequent
    /// terms' blocks span ~150 offsets and essential lists touch ~20 % of the
    /// window: nothing would be skipped.)
    static func markingPays(essentialPostings: Int, window: Int, nonEssential: some Sequence<Int>) -> Bool {
        let density = min(1, Double(essentialPostings) / Double(window))
        guard density < 1 else { return false }
        let logMiss = log1p(-density)
        var saved = 0.0
        for count in nonEssential where count > 0 {
            let span = Double(window) * Double(SparseSectionCodec.blockSize) / Double(count)
            saved += Double(count) * exp(min(span, Double(window)) * logMiss)
        }
        return saved > Double(essentialPostings) * markingCost
    }

    struct Cursor {
        var weight: Float
        /// Current block, and the end of the term's blocks.
        var block: Int
        let end: Int
        /// Position inside the current block.
        var position = 0
    }

    /// The smallest offset any cursor has left, or nil when all are done.
    private func nextOffset(_ cursors: [Cursor]) -> UInt32? {
        var best: UInt32? = nil
        for cursor in cursors where cursor.block < cursor.end {
            let entry = block(cursor.block)
            best = min(best ?? .max, entry.first + relative(entry, cursor.position))
        }
        return best
    }

    /// Calls `body(block, from, to)` for the postings `from..<to` of each block
    /// holding postings below `high`, from the cursor on, and advances the cursor past them.
    @inline(__always)
    private func walk(_ cursor: inout Cursor, below high: UInt64, _ body: (Block, Int, Int) -> Void) {
        while cursor.block < cursor.end {
            let entry = block(cursor.block)
            if UInt64(entry.first) >= high { return }
            if UInt64(entry.last) < high {
                body(entry, cursor.position, entry.count)
                cursor.block += 1
                cursor.position = 0
            } else {
                // The first posting at or above `high` (binary search on the relative offsets).
                let target = UInt32(high - UInt64(entry.first))
                var lo = cursor.position, hi = entry.count - 1  // relative(hi) ≥ target
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if relative(entry, mid) < target { lo = mid + 1 } else { hi = mid }
                }
                body(entry, cursor.position, lo)
                cursor.position = lo
                return
            }
        }
    }

    /// acc[base + relative offset] += q · weight for postings from..<to of `entry`.
    @inline(__always)
    private func accumulate(
        _ entry: Block, _ from: Int, _ to: Int, q: Float, base: Int, acc: UnsafeMutablePointer<Float>
    ) {
        let w = weights(entry)
        // SAFETY: relative offsets start 4-byte aligned after the weights; the
        // checks at open guarantee base + offset lies inside the window.
        let raw = bytes.baseAddress! + dataOffset + entry.dataOffset + 4 * entry.count
        let target = acc + base
        if entry.width == 16 {
            let r = raw.assumingMemoryBound(to: UInt16.self)
            for i in from..<to { target[Int(r[i])] += q * w[i] }
        } else {
            let r = raw.assumingMemoryBound(to: UInt32.self)
            for i in from..<to { target[Int(r[i])] += q * w[i] }
        }
    }

    @inline(__always)
    private func forEachRelative(_ entry: Block, _ from: Int, _ to: Int, _ body: (Int) -> Void) {
        let raw = bytes.baseAddress! + dataOffset + entry.dataOffset + 4 * entry.count
        if entry.width == 16 {
            let r = raw.assumingMemoryBound(to: UInt16.self)
            for i in from..<to { body(Int(r[i])) }
        } else {
            let r = raw.assumingMemoryBound(to: UInt32.self)
            for i in from..<to { body(Int(r[i])) }
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
