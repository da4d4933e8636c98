/// Where everything is in an HNSW graph image (docs/format/hnsw-graph.md).
/// The builder writes this image in memory and the segment stores it as is;
/// the reader walks it straight from the segment's mapping.
struct HNSWGraphLayout: Equatable {
    static let magic: [UInt8] = Array("STRATHNS".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 64
    /// "No node": an empty graph's entry point, a level-0-only node's upper slot.
    static let none = UInt32.max

    let nodeCount: Int
    let m: Int
    let m0: Int
    /// Nodes with at least one level above 0.
    let upperCount: Int
    /// Σ over those nodes of their number of levels above 0.
    let upperRows: Int

    /// u32 words per level-0 row: a count, then `m0` neighbour slots.
    var level0Stride: Int { m0 + 1 }
    /// u32 words per upper-level row: a count, then `m` neighbour slots.
    var upperStride: Int { m + 1 }

    var level0Offset: Int { Self.headerSize }
    var upperSlotOffset: Int { level0Offset + nodeCount * level0Stride * 4 }
    var upperStartOffset: Int { upperSlotOffset + nodeCount * 4 }
    var upperLinksOffset: Int { upperStartOffset + (upperCount + 1) * 4 }
    var totalBytes: Int { upperLinksOffset + upperRows * upperStride * 4 }
}

/// Typed access to a graph image. Used read-write by the builder (on memory it
/// owns) and read-only by searches (on a read-only mapping: they never call the
/// mutating paths). Every lookup is bounds-checked against the layout, so a
/// damaged image gives wrong links, never an out-of-bounds access.
struct HNSWGraphLinks {
    let layout: HNSWGraphLayout
    let level0: UnsafeMutablePointer<UInt32>
    let upperSlot: UnsafeMutablePointer<UInt32>
    let upperStart: UnsafeMutablePointer<UInt32>
    let upperLinks: UnsafeMutablePointer<UInt32>
    let nodeCount: UInt32

    init(layout: HNSWGraphLayout, base: UnsafeMutableRawPointer) {
        self.layout = layout
        func words(_ offset: Int) -> UnsafeMutablePointer<UInt32> {
            (base + offset).bindMemory(to: UInt32.self, capacity: 1)
        }
        level0 = words(layout.level0Offset)
        upperSlot = words(layout.upperSlotOffset)
        upperStart = words(layout.upperStartOffset)
        upperLinks = words(layout.upperLinksOffset)
        nodeCount = UInt32(layout.nodeCount)
    }

    /// Neighbour slots of `node` on `level`: the row (count word first) and its
    /// capacity; nil when the node has no such level.
    @inline(__always)
    func row(_ node: UInt32, level: Int) -> (row: UnsafeMutablePointer<UInt32>, capacity: Int)? {
        if level == 0 {
            return (level0 + Int(node) * layout.level0Stride, layout.m0)
        }
        let slot = Int(upperSlot[Int(node)])
        guard slot < layout.upperCount else { return nil }
        let start = Int(upperStart[slot])
        let end = Int(upperStart[slot + 1])
        let index = start + level - 1
        guard index < end, index < layout.upperRows else { return nil }
        return (upperLinks + index * layout.upperStride, layout.m)
    }

    /// Number of levels above 0 that `node` has.
    func upperLevels(of node: UInt32) -> Int {
        let slot = Int(upperSlot[Int(node)])
        guard slot < layout.upperCount else { return 0 }
        let start = Int(upperStart[slot]), end = Int(upperStart[slot + 1])
        return end > start ? end - start : 0
    }
}
