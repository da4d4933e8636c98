import CStrataKernels

/// The two walks every HNSW operation is made of, over a graph image. Shared
/// by the builder (searching the graph built so far) and by queries.
extension HNSWGraphLinks {
    /// Greedy descent on one upper level: moves to the best neighbour until no
    /// neighbour is better. Returns the local optimum.
    @inline(__always)
    func greedy<S: HNSWDistanceSource>(
        from start: Neighbor, level: Int, source: S, scratch: HNSWSearchScratch
    ) -> Neighbor {
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
        let stamp = scratch.begin(nodeCount: Int(nodeCount), width: max(layout.m0, layout.m))
        let visited = scratch.visited
        let gather = scratch.gather
        let distances = scratch.gatherDistances
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        @inline(__always) func isExcluded(_ node: UInt32) -> Bool {
            guard let excluded else { return false }
            return excluded[Int(node) >> 6] & (1 << UInt64(node & 63)) != 0
        }

        visited[Int(entry.node)] = stamp
        candidates.push(entry)
        if !isExcluded(entry.node) { results.push(entry) }
        var bound = results.isEmpty ? Float.infinity : results.top.distance

        while !candidates.isEmpty {
            let current = candidates.top
            if current.distance > bound && results.count >= ef { break }
            candidates.pop()
            guard let (row, capacity) = row(current.node, level: level) else { continue }
            let count = min(Int(row[0]), capacity)
            var fresh = 0
            for i in 0..<count {
                let neighbour = row[1 + i]
                guard neighbour < nodeCount, visited[Int(neighbour)] != stamp else { continue }
                visited[Int(neighbour)] = stamp
                gather[fresh] = neighbour
                fresh += 1
            }
            guard fresh > 0 else { continue }
            source.distances(gather, count: fresh, into: distances)
            for i in 0..<fresh {
                let distance = distances[i]
                guard results.count < ef || distance < bound else { continue }
                let neighbour = Neighbor(distance: distance, node: gather[i])
                candidates.push(neighbour)
                if !isExcluded(neighbour.node) {
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
        let width = max(layout.m0, layout.m)
        let stamp = scratch.begin(nodeCount: Int(nodeCount), width: max(width, expansion))
        let visited = scratch.visited
        let gather = scratch.gather
        let distances = scratch.gatherDistances
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        @inline(__always) func isAllowed(_ node: UInt32) -> Bool {
            allowed[Int(node) >> 6] & (1 << UInt64(node & 63)) != 0
        }

        visited[Int(entry.node)] = stamp
        candidates.push(entry)
        if isAllowed(entry.node) { results.push(entry) }
        var bound = results.isEmpty ? Float.infinity : results.top.distance

        while !candidates.isEmpty {
            let current = candidates.top
            if current.distance > bound && results.count >= ef { break }
            candidates.pop()
            guard let (row, capacity) = row(current.node, level: 0) else { continue }
            let count = min(Int(row[0]), capacity)
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
            guard fresh > 0 else { continue }
            source.distances(gather, count: fresh, into: distances)
            for i in 0..<fresh {
                let distance = distances[i]
                guard results.count < ef || distance < bound else { continue }
                let neighbour = Neighbor(distance: distance, node: gather[i])
                candidates.push(neighbour)
                results.push(neighbour)
                if results.count > ef { results.pop() }
                bound = results.top.distance
            }
        }
    }
}
