import CStrataKernels
import Dispatch
import Foundation
import StrataIO
import StrataVectorMath

/// Parameters of one graph build (Qdrant's `hnsw_config` names).
public struct HNSWBuildParameters: Sendable, Equatable {
    /// Links per node on upper levels; level 0 keeps `2·m`.
    public var m: Int
    public var efConstruct: Int
    /// Seeds the node levels and the insertion order.
    public var seed: UInt64
    /// Threads to use; the graph does not depend on it.
    public var threads: Int
    /// Each parallel batch inserts at most this fraction of the nodes already
    /// in the graph (nodes of one batch do not see each other while they look
    /// for neighbours; keeping batches small keeps recall at sequential level).
    public var batchFraction: Double

    public init(
        m: Int = 16, efConstruct: Int = 100, seed: UInt64 = 0x5354_5241_5441, threads: Int = 0,
        batchFraction: Double = 0.02
    ) {
        self.m = m
        self.efConstruct = efConstruct
        self.seed = seed
        self.threads = threads
        self.batchFraction = batchFraction
    }
}

/// The build was asked to stop (`HNSWBuilder.build`'s `shouldStop`) before it finished.
public struct HNSWBuildStopped: Error, Sendable, Equatable {
    /// Nodes in the graph when it stopped, of `total`.
    public let inserted: Int
    public let total: Int
}

/// Builds an HNSW graph image (docs/format/hnsw-graph.md) over float rows.
///
/// Deterministic and parallel: nodes are inserted in a seeded random order in
/// batches of growing size. Within a batch every node searches the graph as it
/// was when the batch began (in parallel, each writing only its own links),
/// then the reverse links are added grouped by target node (in parallel, each
/// group touching only its target's links, in a fixed order). So the graph
/// depends on the rows, the parameters and the seed, never on thread timing
/// (the approach of ParlayANN's deterministic HNSW, Dobson et al. 2023).
public enum HNSWBuilder {
    /// Builds the graph of the rows `isPresent` accepts (the others get no
    /// links and are never reached). `rows` holds `count` rows of `dimension`
    /// floats. `progress(inserted, total)` is called between batches.
    ///
    /// `shouldStop` is asked between batches and every 64 nodes per worker
    /// within one (a batch is up to 2 % of the graph, hundreds of thousands of
    /// nodes on the largest segments); when it answers true the build ends
    /// and throws `HNSWBuildStopped` (`inserted`: the nodes of the batches
    /// completed), so that a closing collection does not wait for a build of
    /// minutes. Once true it must stay true.
    ///
    /// With `startingFrom`, the nodes of an existing graph (built with the
    /// same `m` over the same vectors, renumbered by its `nodeMap`) keep their
    /// levels and links (links to dropped nodes are removed) and only the
    /// other nodes are inserted: a merge reuses its largest input's graph.
    public static func build(
        rows: UnsafePointer<Float>, dimension: Int, count: Int, metric: DistanceMetric,
        isPresent: (Int) -> Bool, parameters: HNSWBuildParameters, startingFrom seed: HNSWSeedGraph? = nil,
        progress: ((Int, Int) -> Void)? = nil, shouldStop: @Sendable () -> Bool = { false }
    ) throws(HNSWBuildStopped) -> [UInt8] {
        precondition(parameters.m >= 2 && parameters.efConstruct >= 1, "m must be ≥ 2 and ef_construct ≥ 1")
        precondition(count < Int(UInt32.max), "a graph holds at most 2^32 − 2 nodes")
        let m = parameters.m, m0 = 2 * parameters.m
        let reused = seed.flatMap { $0.usable(m: m, count: count) ? $0 : nil }

        // Levels: level ℓ with probability ∝ m^-ℓ (mL = 1/ln m), from a per-node
        // seeded draw; reused nodes keep theirs.
        var levels = [UInt8](repeating: 0, count: count)
        var isReused = [Bool](repeating: false, count: count)
        if let reused {
            for (old, new) in reused.nodeMap.enumerated()
            where new != HNSWGraphLayout.none && reused.wasInserted(UInt32(old)) && isPresent(Int(new)) {
                isReused[Int(new)] = true
                levels[Int(new)] = UInt8(reused.graph.upperLevels(of: UInt32(old)))
            }
        }
        var present: [UInt32] = []
        present.reserveCapacity(count)
        var reusedCount = 0
        let mL = 1 / log(Double(m))
        for node in 0..<count where isPresent(node) {
            if isReused[node] {
                reusedCount += 1
                continue
            }
            var random = SplitMix64(seed: parameters.seed ^ (UInt64(node) &* 0x9E37_79B9_7F4A_7C15))
            let uniform = (Double(random.next() >> 11) + 1) / Double(1 << 53)  // (0, 1]
            levels[node] = UInt8(min(Int(-log(uniform) * mL), 30))
            present.append(UInt32(node))
        }
        // Insertion order: a seeded shuffle, so ids that follow the data's
        // clusters do not put one cluster in one batch.
        var shuffle = SplitMix64(seed: parameters.seed &+ 0x5EED)
        if present.count > 1 {
            for i in stride(from: present.count - 1, to: 0, by: -1) {
                let j = Int(shuffle.next() % UInt64(i + 1))
                present.swapAt(i, j)
            }
        }

        // The image, zero-filled: every row starts with count 0.
        var upperCount = 0, upperRows = 0
        for node in 0..<count where levels[node] > 0 {
            upperCount += 1
            upperRows += Int(levels[node])
        }
        let layout = HNSWGraphLayout(nodeCount: count, m: m, m0: m0, upperCount: upperCount, upperRows: upperRows)
        let image = UnsafeMutableRawPointer.allocate(byteCount: layout.totalBytes, alignment: 64)
        defer { image.deallocate() }
        image.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalBytes)
        let graph = HNSWGraphLinks(layout: layout, base: image)
        var slot = 0, rowIndex = 0
        for node in 0..<count {
            if levels[node] > 0 {
                graph.upperSlot[node] = UInt32(slot)
                graph.upperStart[slot] = UInt32(rowIndex)
                slot += 1
                rowIndex += Int(levels[node])
            } else {
                graph.upperSlot[node] = HNSWGraphLayout.none
            }
        }
        graph.upperStart[upperCount] = UInt32(upperRows)

        var entry = HNSWGraphLayout.none
        var maxLevel = 0
        var toInsert = present[...]
        if let reused, reusedCount > 0 {
            reused.copyLinks(into: graph)
            entry = reused.nodeMap[Int(reused.graph.entryPoint!)]
            maxLevel = reused.graph.maxLevel
        } else if let first = present.first {
            entry = first
            maxLevel = Int(levels[Int(first)])
            toInsert = present.dropFirst()
            reusedCount = 1
        }
        let total = reusedCount + toInsert.count
        if !toInsert.isEmpty {
            let state = BuildState(
                rows: rows, dimension: dimension, kind: FloatRowsDistance.kind(metric), graph: graph,
                levels: levels, parameters: parameters)
            let threads = parameters.threads > 0 ? parameters.threads : ProcessInfo.processInfo.activeProcessorCount
            let scratches = (0..<max(threads, 1)).map { _ in HNSWSearchScratch(nodeCount: count, width: m0) }
            var inserted = reusedCount
            while inserted < total {
                if shouldStop() { throw HNSWBuildStopped(inserted: inserted, total: total) }
                let size = min(total - inserted, max(1, Int(Double(inserted) * parameters.batchFraction)))
                let start = toInsert.startIndex + (inserted - reusedCount)
                let batch = Array(toInsert[start..<(start + size)])
                guard
                    state.insert(batch, entry: entry, maxLevel: maxLevel, scratches: scratches, shouldStop: shouldStop)
                else { throw HNSWBuildStopped(inserted: inserted, total: total) }
                // A batch node above the current top becomes the entry point
                // (the highest; the first in insertion order among equals).
                for node in batch where Int(levels[Int(node)]) > maxLevel {
                    maxLevel = Int(levels[Int(node)])
                    entry = node
                }
                inserted += size
                progress?(inserted, total)
            }
        }

        // Header.
        var header = [UInt8](repeating: 0, count: HNSWGraphLayout.headerSize)
        func put(_ value: UInt32, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { header.replaceSubrange(offset..<offset + 4, with: $0) }
        }
        header.replaceSubrange(0..<8, with: HNSWGraphLayout.magic)
        put(HNSWGraphLayout.formatVersion, at: 8)
        put(0, at: 12)
        put(UInt32(count), at: 16)
        put(UInt32(m), at: 20)
        put(UInt32(m0), at: 24)
        put(entry, at: 28)
        put(UInt32(maxLevel), at: 32)
        put(UInt32(upperCount), at: 36)
        put(UInt32(upperRows), at: 40)
        put(UInt32(entry == HNSWGraphLayout.none ? 0 : total), at: 44)
        header.withUnsafeBytes { image.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return [UInt8](UnsafeRawBufferPointer(start: image, count: layout.totalBytes))
    }
}

/// An existing graph to build on, and where its nodes go in the new one.
public struct HNSWSeedGraph {
    public let graph: HNSWGraph
    /// `nodeMap[old]` = the node number in the new graph, or `UInt32.max` for a
    /// node that is not carried over (deleted). Distinct for carried-over nodes.
    public let nodeMap: [UInt32]

    public init(graph: HNSWGraph, nodeMap: [UInt32]) {
        self.graph = graph
        self.nodeMap = nodeMap
    }

    /// Whether the old node was in the old graph (not an absent row).
    func wasInserted(_ old: UInt32) -> Bool {
        old == graph.entryPoint || !graph.neighbours(of: old, level: 0).isEmpty
    }

    func usable(m: Int, count: Int) -> Bool {
        guard graph.m == m, nodeMap.count == graph.nodeCount, let entry = graph.entryPoint else { return false }
        let mapped = nodeMap[Int(entry)]
        return mapped != HNSWGraphLayout.none && Int(mapped) < count
            && nodeMap.allSatisfy { $0 == HNSWGraphLayout.none || Int($0) < count }
    }

    /// Copies every carried-over node's rows, renumbered, without links to dropped nodes.
    func copyLinks(into target: HNSWGraphLinks) {
        for (old, new) in nodeMap.enumerated() where new != HNSWGraphLayout.none && wasInserted(UInt32(old)) {
            for level in 0...graph.upperLevels(of: UInt32(old)) {
                guard let (row, capacity) = target.row(new, level: level) else { continue }
                var kept = 0
                for neighbour in graph.neighbours(of: UInt32(old), level: level) where Int(neighbour) < nodeMap.count {
                    let mapped = nodeMap[Int(neighbour)]
                    guard mapped != HNSWGraphLayout.none, kept < capacity else { continue }
                    kept += 1
                    row[kept] = mapped
                }
                row[0] = UInt32(kept)
            }
        }
    }
}

/// What every insertion needs; immutable apart from the graph image, whose
/// rows are written under the batch discipline described on `HNSWBuilder`.
private final class BuildState: @unchecked Sendable {
    // SAFETY: `graph` rows are written concurrently only by different threads
    // working on different rows (a batch node's own rows in phase 1, one target
    // node's rows per group in phase 2); everything else is read-only.
    let rows: UnsafePointer<Float>
    let dimension: Int
    let kind: strata_gather_kind
    let graph: HNSWGraphLinks
    let levels: [UInt8]
    let parameters: HNSWBuildParameters

    init(
        rows: UnsafePointer<Float>, dimension: Int, kind: strata_gather_kind, graph: HNSWGraphLinks, levels: [UInt8],
        parameters: HNSWBuildParameters
    ) {
        self.rows = rows
        self.dimension = dimension
        self.kind = kind
        self.graph = graph
        self.levels = levels
        self.parameters = parameters
    }

    @inline(__always)
    func row(_ node: UInt32) -> UnsafePointer<Float> { rows + Int(node) * dimension }

    @inline(__always)
    func distance(_ a: UInt32, _ b: UInt32) -> Float { FloatRowsDistance.pair(kind, row(a), row(b), dimension) }

    /// Inserts `batch`; returns false, leaving the graph incomplete (to be
    /// discarded), when `shouldStop` answers true on the way (it is asked
    /// every 64 nodes per worker, so a large batch stops within
    /// milliseconds; once true it must stay true).
    func insert(
        _ batch: [UInt32], entry: UInt32, maxLevel: Int, scratches: [HNSWSearchScratch],
        shouldStop: @Sendable () -> Bool
    ) -> Bool {
        let threads = min(scratches.count, batch.count)
        // Phase 1: each node finds its neighbours in the graph as of the batch start.
        if threads <= 1 {
            for (index, node) in batch.enumerated() {
                if index & 63 == 63, shouldStop() { break }
                link(node, entry: entry, maxLevel: maxLevel, scratch: scratches[0])
            }
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                for (count, index) in stride(from: worker, to: batch.count, by: threads).enumerated() {
                    if count & 63 == 63, shouldStop() { break }
                    link(batch[index], entry: entry, maxLevel: maxLevel, scratch: scratches[worker])
                }
            }
        }
        if shouldStop() { return false }
        // Phase 2: reverse links, grouped by (level, target) in a fixed order.
        var reverse: [(level: UInt8, target: UInt32, source: UInt32)] = []
        for node in batch {
            for level in 0...min(Int(levels[Int(node)]), maxLevel) {
                guard let (row, capacity) = graph.row(node, level: level) else { continue }
                for i in 0..<min(Int(row[0]), capacity) { reverse.append((UInt8(level), row[1 + i], node)) }
            }
        }
        reverse.sort { ($0.level, $0.target, $0.source) < ($1.level, $1.target, $1.source) }
        var groups: [Range<Int>] = []
        var start = 0
        for i in 1...reverse.count
        where i == reverse.count || reverse[i].level != reverse[start].level
            || reverse[i].target != reverse[start].target
        {
            groups.append(start..<i)
            start = i
        }
        let groupThreads = min(threads, groups.count)
        let pairs = reverse, targets = groups
        if groupThreads <= 1 {
            for group in targets { addReverse(pairs, group) }
        } else {
            DispatchQueue.concurrentPerform(iterations: groupThreads) { worker in
                for index in stride(from: worker, to: targets.count, by: groupThreads) {
                    addReverse(pairs, targets[index])
                }
            }
        }
        return true
    }

    /// Finds and writes `node`'s own links on every level it shares with the graph.
    private func link(_ node: UInt32, entry: UInt32, maxLevel: Int, scratch: HNSWSearchScratch) {
        let exact = FloatRowsDistance(query: row(node), rows: rows, dimension: dimension, kind: kind)
        let nodeLevel = Int(levels[Int(node)])
        var current = Neighbor(distance: distance(node, entry), node: entry)
        var level = maxLevel
        while level > nodeLevel {
            current = graph.greedy(from: current, level: level, source: exact, scratch: scratch)
            level -= 1
        }
        while level >= 0 {
            graph.searchLevel(entry: current, level: level, ef: parameters.efConstruct, source: exact, scratch: scratch)
            let found = scratch.results.drainSorted()
            guard let (row, capacity) = graph.row(node, level: level) else { break }
            let chosen = selectNeighbours(of: node, from: found, limit: capacity)
            row[0] = UInt32(chosen.count)
            for (i, neighbour) in chosen.enumerated() { row[1 + i] = neighbour.node }
            if let best = found.first { current = best }
            level -= 1
        }
    }

    /// Adds the sources of one group to their target's row; when the row would
    /// overflow, keeps the heuristic's choice among old and new neighbours.
    private func addReverse(_ reverse: [(level: UInt8, target: UInt32, source: UInt32)], _ group: Range<Int>) {
        let target = reverse[group.lowerBound].target
        let level = Int(reverse[group.lowerBound].level)
        guard target < graph.nodeCount, let (row, capacity) = graph.row(target, level: level) else { return }
        let existing = min(Int(row[0]), capacity)
        if existing + group.count <= capacity {
            for (i, index) in group.enumerated() { row[1 + existing + i] = reverse[index].source }
            row[0] = UInt32(existing + group.count)
            return
        }
        var candidates: [Neighbor] = []
        candidates.reserveCapacity(existing + group.count)
        for i in 0..<existing { candidates.append(Neighbor(distance: distance(target, row[1 + i]), node: row[1 + i])) }
        for index in group {
            let source = reverse[index].source
            candidates.append(Neighbor(distance: distance(target, source), node: source))
        }
        candidates.sort(by: Neighbor.precedes)
        let chosen = selectNeighbours(of: target, from: candidates, limit: capacity)
        row[0] = UInt32(chosen.count)
        for (i, neighbour) in chosen.enumerated() { row[1 + i] = neighbour.node }
    }

    /// HNSW's neighbour-selection heuristic: take candidates best first, keeping
    /// one only if it is closer to `node` than to every one already kept (so
    /// links spread in different directions). `candidates` are sorted best first.
    private func selectNeighbours(of node: UInt32, from candidates: [Neighbor], limit: Int) -> [Neighbor] {
        if candidates.count <= limit && candidates.count <= 1 { return candidates }
        var chosen: [Neighbor] = []
        chosen.reserveCapacity(limit)
        for candidate in candidates where candidate.node != node {
            if chosen.count >= limit { break }
            var keep = true
            for kept in chosen where distance(candidate.node, kept.node) < candidate.distance {
                keep = false
                break
            }
            if keep { chosen.append(candidate) }
        }
        return chosen
    }
}
