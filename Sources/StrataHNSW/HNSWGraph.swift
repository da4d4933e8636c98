/// A graph image that fails the format's checks.
public struct HNSWGraphError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// A built HNSW graph, read straight from its image (usually a section of a
/// segment's read-only mapping; search touches only the rows it walks).
///
/// Opening checks the header and the small per-level index; the neighbour
/// rows are checked as they are walked (out-of-range ids are skipped), so a
/// damaged image can give worse results but never an invalid access. The
/// segment's section checksum (`strata verify`) detects the damage itself.
///
/// Thread safety: immutable; any number of concurrent searches.
public final class HNSWGraph: @unchecked Sendable {
    // SAFETY: `links` points into memory `owner` keeps alive and nobody writes.
    let links: HNSWGraphLinks
    private let owner: AnyObject?
    public let nodeCount: Int
    public let m: Int
    public let maxLevel: Int
    /// The node searches start from; nil for a graph with no nodes.
    public let entryPoint: UInt32?
    /// Nodes that are in the graph (rows without a vector are not).
    public let insertedCount: Int
    /// Size of the image in bytes.
    public let byteCount: Int

    /// Reads the image at `image`, which must stay valid and unchanged while
    /// `owner` (retained here) is alive. `expectedNodeCount`: the segment's point count.
    public init(image: UnsafeRawBufferPointer, expectedNodeCount: Int, owner: AnyObject?) throws(HNSWGraphError) {
        func fail(_ message: String) -> HNSWGraphError { HNSWGraphError(message: "HNSW graph: " + message) }
        guard image.count >= HNSWGraphLayout.headerSize, let base = image.baseAddress else {
            throw fail("\(image.count) bytes is shorter than the \(HNSWGraphLayout.headerSize)-byte header")
        }
        guard Int(bitPattern: base) % 4 == 0 else { throw fail("image is not 4-byte aligned") }
        func word(_ offset: Int) -> UInt32 { image.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian }
        guard Array(image[0..<8]) == HNSWGraphLayout.magic else { throw fail("bad magic") }
        guard word(8) == HNSWGraphLayout.formatVersion else {
            throw fail("format version \(word(8)) is not \(HNSWGraphLayout.formatVersion) (written by a newer Strata?)")
        }
        guard word(12) == 0, image[48..<64].allSatisfy({ $0 == 0 }) else { throw fail("reserved fields are not zero") }
        let nodeCount = Int(word(16)), m = Int(word(20)), m0 = Int(word(24))
        let entry = word(28), maxLevel = Int(word(32))
        let upperCount = Int(word(36)), upperRows = Int(word(40)), inserted = Int(word(44))
        guard nodeCount == expectedNodeCount else {
            throw fail("has \(nodeCount) nodes but the segment has \(expectedNodeCount) points")
        }
        guard (2...512).contains(m), m0 == 2 * m else { throw fail("m \(m) / m0 \(m0) out of range") }
        guard upperCount <= nodeCount, upperRows >= upperCount, upperRows <= upperCount * 31, inserted <= nodeCount,
            maxLevel <= 30
        else {
            throw fail(
                "counts out of range (upper nodes \(upperCount), upper rows \(upperRows), inserted \(inserted), max level \(maxLevel))"
            )
        }
        let layout = HNSWGraphLayout(nodeCount: nodeCount, m: m, m0: m0, upperCount: upperCount, upperRows: upperRows)
        guard image.count == layout.totalBytes else {
            throw fail("\(image.count) bytes; the header's counts need \(layout.totalBytes)")
        }
        let links = HNSWGraphLinks(layout: layout, base: UnsafeMutableRawPointer(mutating: base))
        // The per-slot level index is small (one word per node with upper levels).
        var previous: UInt32 = 0
        for slot in 0...upperCount {
            let start = links.upperStart[slot]
            guard (slot == 0 && start == 0) || (slot > 0 && start > previous), Int(start) <= upperRows else {
                throw fail("upper-level index is not strictly increasing at slot \(slot)")
            }
            previous = start
        }
        guard Int(links.upperStart[upperCount]) == upperRows else {
            throw fail("upper-level index does not end at \(upperRows)")
        }
        if entry == HNSWGraphLayout.none {
            guard inserted == 0 else { throw fail("no entry point but \(inserted) inserted nodes") }
            entryPoint = nil
        } else {
            guard Int(entry) < nodeCount, links.upperLevels(of: entry) == maxLevel, inserted > 0 else {
                throw fail("entry point \(entry) does not exist or is not on the top level \(maxLevel)")
            }
            entryPoint = entry
        }
        self.links = links
        self.owner = owner
        self.nodeCount = nodeCount
        self.m = m
        self.maxLevel = maxLevel
        self.insertedCount = inserted
        self.byteCount = image.count
    }

    /// Reads a copy of `bytes` (tests, tools).
    public convenience init(copying bytes: [UInt8], expectedNodeCount: Int) throws(HNSWGraphError) {
        let storage = AlignedBytes(bytes)
        try self.init(image: storage.buffer, expectedNodeCount: expectedNodeCount, owner: storage)
    }

    /// Bytes of the image that are not level-0 rows (what upper-level walks touch).
    public var upperLevelBytes: Int { links.layout.totalBytes - links.layout.nodeCount * links.layout.level0Stride * 4 }

    /// The neighbours of `node` on `level` (tests and tools).
    public func neighbours(of node: UInt32, level: Int) -> [UInt32] {
        guard node < links.nodeCount, let (row, capacity) = links.row(node, level: level) else { return [] }
        return (0..<min(Int(row[0]), capacity)).map { row[1 + $0] }
    }

    /// Levels above 0 that `node` has.
    public func upperLevels(of node: UInt32) -> Int { node < links.nodeCount ? links.upperLevels(of: node) : 0 }

    /// The `limit` nodes nearest to the query `source` measures, best first,
    /// as (node, distance) with lower distance better. `ef` (≥ limit) is the
    /// candidate list size on level 0. Nodes whose bit is set in `excluded`
    /// (one bit per node, 64 per word) are walked through but not returned.
    @_specialize(exported:true,where S == FloatRowsDistance)
    public func search<S: HNSWDistanceSource>(
        _ source: S, limit: Int, ef: Int, excluded: UnsafePointer<UInt64>? = nil
    ) -> [(node: UInt32, distance: Float)] {
        guard limit > 0, let entryPoint else { return [] }
        let scratch = HNSWSearchScratch.take(nodeCount: nodeCount, width: 2 * m)
        defer { HNSWSearchScratch.give(scratch) }
        let entry = descend(from: entryPoint, source: source, scratch: scratch)
        links.searchLevel(
            entry: entry, level: 0, ef: max(ef, limit), source: source, scratch: scratch, excluded: excluded)
        let found = scratch.results.drainSorted()
        return found.prefix(limit).map { ($0.node, $0.distance) }
    }

    /// The `limit` nearest nodes among those whose bit is set in `allowed`
    /// (a filter's matches, deleted nodes cleared), best first. The upper
    /// levels are descended as usual; level 0 scores only allowed nodes and
    /// reaches them through up to two hops (`HNSWGraphLinks.searchLevelTwoHop`),
    /// scoring at most `expansion` (default 2·m0) new nodes per step.
    @_specialize(exported:true,where S == FloatRowsDistance)
    public func searchTwoHop<S: HNSWDistanceSource>(
        _ source: S, limit: Int, ef: Int, allowed: UnsafePointer<UInt64>, expansion: Int? = nil
    ) -> [(node: UInt32, distance: Float)] {
        guard limit > 0, let entryPoint else { return [] }
        let width = expansion ?? 4 * m
        let scratch = HNSWSearchScratch.take(nodeCount: nodeCount, width: width)
        defer { HNSWSearchScratch.give(scratch) }
        let entry = descend(from: entryPoint, source: source, scratch: scratch)
        links.searchLevelTwoHop(
            entry: entry, ef: max(ef, limit), source: source, scratch: scratch, allowed: allowed, expansion: width)
        let found = scratch.results.drainSorted()
        return found.prefix(limit).map { ($0.node, $0.distance) }
    }
}

extension HNSWGraph {
    /// Greedy descent from the entry point through the upper levels: the
    /// level-0 start of a search.
    @inline(__always)
    func descend<S: HNSWDistanceSource>(from entryPoint: UInt32, source: S, scratch: HNSWSearchScratch) -> Neighbor {
        var node = entryPoint
        var distance: Float = 0
        source.distances(&node, count: 1, into: &distance)
        var current = Neighbor(distance: distance, node: entryPoint)
        var level = maxLevel
        while level > 0 {
            current = links.greedy(from: current, level: level, source: source, scratch: scratch)
            level -= 1
        }
        return current
    }
}

/// 64-byte aligned heap copy of some bytes.
private final class AlignedBytes {
    let buffer: UnsafeRawBufferPointer

    init(_ bytes: [UInt8]) {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { memory.copyMemory(from: $0) }
        buffer = UnsafeRawBufferPointer(start: memory.baseAddress, count: bytes.count)
    }

    deinit { buffer.deallocate() }
}
