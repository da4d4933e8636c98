import CStrataKernels

/// The two walks every HNSW operation is made of, over a graph image. Shared
/// by the builder (searching the graph built so far) and by queries.
extension HNSWGraphLinks {
    /// Greedy descent on one upper level: moves to the best neighbour until no
    /// neighbour is better. Returns the local optimum.
    @inline(__always)
    func greedy<S: HNSWDistanceSource>(from start: Neighbor, level: Int, source: S, scratch: HNSWSearchScratch) -> Neighbor {
        var current = start
        let gather = scratch.gather
        let distances = scratch.gatherDistances
        while true {
            guard let (row, capacity) = row(current.node, level: level) else { return current }
            let count = min(Int(row[0]), capacity)
            var valid = 0
            for i in 0..<count {
                let neighbour = row[1 + i]
                if neighbour < nodeCount { gather[valid] = neighbour; valid += 1 }
            }
            guard valid > 0 else { return current }
            source.distances(gather, count: valid, into: distances)
            var best = current
            for i in 0..<valid where distances[i] < best.distance {
                best = Neighbor(distance: distances[i], node: gather[i])
            }
            if best.node == current.node { return current }
            current = best
        }
    }

    /// Best-first search of one level from `entry` keeping the `ef` best nodes
    /// (HNSW's SEARCH-LAYER). Nodes whose bit is set in `excluded` (deleted
    /// points) are walked through but never returned. Leaves the result in
    /// `scratch.results` (a max-heap of at most `ef`).
    func searchLevel<S: HNSWDistanceSource>(
        entry: Neighbor, level: Int, ef: Int, source: S, scratch: HNSWSearchScratch,
        excluded: UnsafePointer<UInt64>? = nil
    ) {
        bestFirst(
            entry: entry, level: level, ef: ef, width: max(layout.m0, layout.m), source: source, scratch: scratch,
            walk: ExcludingWalk(excluded: excluded))
    }

    /// The best-first loop both searches are made of: pops the nearest
    /// candidate until it is farther than the `ef`-th result, lets `walk` pick
    /// the unvisited nodes to score from its row, scores them in one batch and
    /// queues them; those `walk` allows also enter the results. `width`: the
    /// most nodes `walk` gathers per step. Leaves the result in `scratch.results`.
    ///
    /// Generic over the walk (not a closure) so that each search is
    /// specialised into one loop with no calls in it.
    @inline(__always)
    private func bestFirst<S: HNSWDistanceSource, Walk: HNSWWalk>(
        entry: Neighbor, level: Int, ef: Int, width: Int, source: S, scratch: HNSWSearchScratch, walk: Walk
    ) {
        let stamp = scratch.begin(nodeCount: Int(nodeCount), width: width)
        let visited = scratch.visited
        let gather = scratch.gather
        let distances = scratch.gatherDistances
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }

        visited[Int(entry.node)] = stamp
        candidates.push(entry)
        if walk.mayReturnEntry(entry.node) { results.push(entry) }
        var bound = results.isEmpty ? Float.infinity : results.top.distance

        while !candidates.isEmpty {
            let current = candidates.top
            if current.distance > bound && results.count >= ef { break }
            candidates.pop()
            guard let (row, capacity) = row(current.node, level: level) else { continue }
            let count = min(Int(row[0]), capacity)
            let fresh = walk.gather(row: row, count: count, links: self, visited: visited, stamp: stamp, into: gather)
            guard fresh > 0 else { continue }
            source.distances(gather, count: fresh, into: distances)
            for i in 0..<fresh {
                let distance = distances[i]
                guard results.count < ef || distance < bound else { continue }
                let neighbour = Neighbor(distance: distance, node: gather[i])
                candidates.push(neighbour)
                if walk.mayReturnScored(neighbour.node) {
                    results.push(neighbour)
                    if results.count > ef { results.pop() }
                    bound = results.top.distance
                }
            }
        }
    }
}

extension HNSWGraphLinks {
    /// Level-0 search restricted to the nodes whose bit is set in `allowed`
    /// (a filter's matches), after ACORN (Patel et al., SIGMOD 2024): only
    /// allowed nodes are scored and queued; a neighbour that is not allowed is
    /// not scored but its own neighbours are looked at (two hops), which keeps
    /// the walk connected when few nodes match. At most `expansion` nodes are
    /// scored per step. Leaves the result in `scratch.results`.
    func searchLevelTwoHop<S: HNSWDistanceSource>(
        entry: Neighbor, ef: Int, source: S, scratch: HNSWSearchScratch, allowed: UnsafePointer<UInt64>, expansion: Int
    ) {
        bestFirst(
            entry: entry, level: 0, ef: ef, width: max(max(layout.m0, layout.m), expansion), source: source,
            scratch: scratch, walk: TwoHopWalk(allowed: allowed, expansion: expansion))
    }
}

/// What tells the two searches apart: which nodes of a row are scored, and
/// which scored nodes may be returned. Every method is called in the hot loop.
private protocol HNSWWalk {
    /// Whether the entry point may be returned.
    func mayReturnEntry(_ node: UInt32) -> Bool
    /// Whether a scored node may be returned.
    func mayReturnScored(_ node: UInt32) -> Bool
    /// Puts into `gather` the nodes to score from `row` (its first `count`
    /// neighbours after the count slot), marking each visited with `stamp`;
    /// returns how many.
    func gather(
        row: UnsafeMutablePointer<UInt32>, count: Int, links: HNSWGraphLinks, visited: UnsafeMutablePointer<UInt32>,
        stamp: UInt32, into gather: UnsafeMutablePointer<UInt32>
    ) -> Int
}

/// The plain walk: every unvisited neighbour is scored; nodes whose bit is set
/// in `excluded` (deleted points) are walked through but never returned.
private struct ExcludingWalk: HNSWWalk {
    let excluded: UnsafePointer<UInt64>?

    @inline(__always) func isExcluded(_ node: UInt32) -> Bool {
        guard let excluded else { return false }
        return excluded[Int(node) >> 6] & (1 << UInt64(node & 63)) != 0
    }

    @inline(__always) func mayReturnEntry(_ node: UInt32) -> Bool { !isExcluded(node) }
    @inline(__always) func mayReturnScored(_ node: UInt32) -> Bool { !isExcluded(node) }

    @inline(__always) func gather(
        row: UnsafeMutablePointer<UInt32>, count: Int, links: HNSWGraphLinks, visited: UnsafeMutablePointer<UInt32>,
        stamp: UInt32, into gather: UnsafeMutablePointer<UInt32>
    ) -> Int {
        var fresh = 0
        for i in 0..<count {
            let neighbour = row[1 + i]
            guard neighbour < links.nodeCount, visited[Int(neighbour)] != stamp else { continue }
            visited[Int(neighbour)] = stamp
            gather[fresh] = neighbour
            fresh += 1
        }
        return fresh
    }
}

/// The ACORN walk of `searchLevelTwoHop`: only nodes whose bit is set in
/// `allowed` are scored (so every scored node may be returned), reached
/// directly or through one neighbour that is not allowed; at most `expansion`
/// per step.
private struct TwoHopWalk: HNSWWalk {
    let allowed: UnsafePointer<UInt64>
    let expansion: Int

    @inline(__always) func isAllowed(_ node: UInt32) -> Bool {
        allowed[Int(node) >> 6] & (1 << UInt64(node & 63)) != 0
    }

    @inline(__always) func mayReturnEntry(_ node: UInt32) -> Bool { isAllowed(node) }
    @inline(__always) func mayReturnScored(_ node: UInt32) -> Bool { true }

    @inline(__always) func gather(
        row: UnsafeMutablePointer<UInt32>, count: Int, links: HNSWGraphLinks, visited: UnsafeMutablePointer<UInt32>,
        stamp: UInt32, into gather: UnsafeMutablePointer<UInt32>
    ) -> Int {
        let nodeCount = links.nodeCount
        let layout = links.layout
        let level0 = links.level0
        var fresh = 0
        // First the allowed direct neighbours, then two hops through the
        // others (their rows fetched ahead: each is a likely cache miss).
        // The filter bit is tested before the visited stamp: the bitset is
        // 32 times smaller than the stamps and mostly cached.
        let rowBytes = (layout.m0 + 1) * 4
        for i in 0..<count {
            let neighbour = row[1 + i]
            guard neighbour < nodeCount else { continue }
            if !isAllowed(neighbour) {
                strata_prefetch(level0 + Int(neighbour) * layout.level0Stride, rowBytes)
            } else if visited[Int(neighbour)] != stamp && fresh < expansion {
                visited[Int(neighbour)] = stamp
                gather[fresh] = neighbour
                fresh += 1
            }
        }
        for i in 0..<count where fresh < expansion {
            let neighbour = row[1 + i]
            guard neighbour < nodeCount, !isAllowed(neighbour) else { continue }
            let second = level0 + Int(neighbour) * layout.level0Stride
            let secondCount = min(Int(second[0]), layout.m0)
            for j in 0..<secondCount where fresh < expansion {
                let hop = second[1 + j]
                guard hop < nodeCount, isAllowed(hop), visited[Int(hop)] != stamp else { continue }
                visited[Int(hop)] = stamp
                gather[fresh] = hop
                fresh += 1
            }
        }
        return fresh
    }
}
