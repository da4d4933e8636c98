import Foundation
import StrataHNSW
import StrataTestSupport
import StrataVectorMath
import StrataIO
import Testing

/// A Gaussian-mixture data set: `count` rows of `dimension` floats around 20 centres.
struct TestData {
    let dimension: Int
    var rows: [Float]
    var count: Int { rows.count / dimension }

    init(dimension: Int, rows: [Float]) {
        self.dimension = dimension
        self.rows = rows
    }

    init(count: Int, dimension: Int, normalise: Bool = false, generator: inout SeededGenerator) {
        self.dimension = dimension
        let centres = (0..<20).map { _ in (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) } }
        rows = []
        rows.reserveCapacity(count * dimension)
        for _ in 0..<count {
            let centre = centres[Int.random(in: 0..<centres.count, using: &generator)]
            var row = centre.map { $0 + Float.random(in: -0.35...0.35, using: &generator) }
            if normalise {
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                row = row.map { $0 / norm }
            }
            rows.append(contentsOf: row)
        }
    }

    func row(_ index: Int) -> ArraySlice<Float> { rows[(index * dimension)..<((index + 1) * dimension)] }

    /// Exact top-`k` (lower distance is better) over the rows `include` accepts.
    func exact(_ query: [Float], k: Int, metric: DistanceMetric, include: (Int) -> Bool = { _ in true }) -> [Int] {
        var scored: [(Int, Float)] = []
        for index in 0..<count where include(index) {
            let row = self.row(index)
            var distance: Float = 0
            for (a, b) in zip(query, row) {
                switch metric {
                case .dot, .cosine: distance -= a * b
                case .euclid: distance += (a - b) * (a - b)
                case .manhattan: distance += abs(a - b)
                }
            }
            scored.append((index, distance))
        }
        return scored.sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k).map(\.0)
    }

    func build(
        metric: DistanceMetric, parameters: HNSWBuildParameters = HNSWBuildParameters(),
        isPresent: (Int) -> Bool = { _ in true }
    ) -> [UInt8] {
        rows.withUnsafeBufferPointer {
            try! HNSWBuilder.build(  // never asked to stop: cannot throw
                rows: $0.baseAddress!, dimension: dimension, count: count, metric: metric,
                isPresent: isPresent, parameters: parameters)
        }
    }

    func search(
        _ graph: HNSWGraph, _ query: [Float], k: Int, ef: Int, metric: DistanceMetric,
        excluded: [UInt64]? = nil
    ) -> [Int] {
        rows.withUnsafeBufferPointer { rows in
            query.withUnsafeBufferPointer { q in
                let source = FloatRowsDistance(
                    query: q.baseAddress!, rows: rows.baseAddress!, dimension: dimension, metric: metric)
                if let excluded {
                    return excluded.withUnsafeBufferPointer {
                        graph.search(source, limit: k, ef: ef, excluded: $0.baseAddress!)
                    }
                    .map { Int($0.node) }
                }
                return graph.search(source, limit: k, ef: ef).map { Int($0.node) }
            }
        }
    }
}

func recall(_ found: [[Int]], _ truth: [[Int]]) -> Double {
    var hits = 0, total = 0
    for (f, t) in zip(found, truth) {
        hits += Set(f).intersection(t).count
        total += t.count
    }
    return Double(hits) / Double(max(total, 1))
}

@Suite struct HNSWGraphTests {
    @Test(arguments: [DistanceMetric.euclid, .cosine, .manhattan])
    func recallAgainstExactSearch(metric: DistanceMetric) throws {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 4000, dimension: 24, normalise: metric == .cosine, generator: &generator)
        let image = data.build(metric: metric)
        let graph = try HNSWGraph(copying: image, expectedNodeCount: data.count)
        #expect(graph.insertedCount == data.count)
        let queries = (0..<100).map { _ in
            (0..<data.dimension).map { _ in Float.random(in: -1...1, using: &generator) }
        }
        let truth = queries.map { data.exact($0, k: 10, metric: metric) }
        let recalls = [10, 64, 256].map { ef in
            recall(queries.map { data.search(graph, $0, k: 10, ef: ef, metric: metric) }, truth)
        }
        print("HNSW \(metric) 4000×24 recall@10 at ef 10/64/256: \(recalls)")
        // hnswlib (same m, ef_construct) on this kind of data: ~0.64 / ~0.96 / ~0.99
        // for euclid; queries are uniform in the cube, off the data's clusters.
        #expect(recalls[1] >= 0.87, "seed \(generator.seed)")
        #expect(recalls[2] >= 0.97, "seed \(generator.seed)")
        #expect(recalls[0] <= recalls[1] && recalls[1] <= recalls[2])
    }

    @Test func buildIsDeterministicWhateverTheThreadCount() {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 3000, dimension: 16, generator: &generator)
        let one = data.build(metric: .euclid, parameters: HNSWBuildParameters(threads: 1))
        let two = data.build(metric: .euclid, parameters: HNSWBuildParameters(threads: 2))
        let four = data.build(metric: .euclid, parameters: HNSWBuildParameters(threads: 4))
        #expect(one == two)
        #expect(one == four)
        let otherSeed = data.build(metric: .euclid, parameters: HNSWBuildParameters(seed: 7, threads: 2))
        #expect(one != otherSeed)
    }

    @Test func aBuildAskedToStopEndsWithinABatch() {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 12_000, dimension: 4, generator: &generator)
        var lastProgress = 0
        var askedAtProgress: [Int] = []
        let asked = Locked(0)
        let stop = Locked(false)
        let outcome = data.rows.withUnsafeBufferPointer { rows in
            Result { () throws(HNSWBuildStopped) -> [UInt8] in
                try HNSWBuilder.build(
                    rows: rows.baseAddress!, dimension: data.dimension, count: data.count, metric: .euclid,
                    isPresent: { _ in true }, parameters: HNSWBuildParameters(threads: 2),
                    progress: { inserted, _ in
                        lastProgress = inserted
                        askedAtProgress.append(asked.withLock { $0 })
                        // Stop once 9,000 nodes are in: the next batch is ~180 (2 % of them).
                        if inserted >= 9000 { stop.withLock { $0 = true } }
                    },
                    shouldStop: {
                        asked.withLock { $0 += 1 }
                        return stop.withLock { $0 }
                    })
            }
        }
        guard case .failure(let stopped) = outcome else {
            Issue.record("the build finished although it was asked to stop")
            return
        }
        #expect(stopped.total == data.count)
        #expect(stopped.inserted == lastProgress, "only whole batches count as inserted")
        #expect(stopped.inserted >= 9000 && stopped.inserted < data.count)
        // Asked inside batches too, not only before and after them: a batch of
        // 64+ nodes per worker asks more than twice.
        let asksPerBatch = zip(askedAtProgress.dropFirst(), askedAtProgress).map { $0 - $1 }
        #expect(asksPerBatch.contains { $0 > 2 }, "\(asksPerBatch)")
    }

    @Test func linksAreValidAndBounded() throws {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 2500, dimension: 8, generator: &generator)
        let parameters = HNSWBuildParameters(m: 8, efConstruct: 50)
        let graph = try HNSWGraph(
            copying: data.build(metric: .euclid, parameters: parameters), expectedNodeCount: data.count)
        var upper = 0
        for node in 0..<UInt32(data.count) {
            let level0 = graph.neighbours(of: node, level: 0)
            #expect(level0.count <= 16 && !level0.isEmpty)
            #expect(Set(level0).count == level0.count && !level0.contains(node))
            #expect(level0.allSatisfy { $0 < data.count })
            for level in 1...max(1, graph.upperLevels(of: node)) where graph.upperLevels(of: node) >= level {
                upper += 1
                let links = graph.neighbours(of: node, level: level)
                #expect(links.count <= 8)
                // Upper-level neighbours live on that level too.
                #expect(links.allSatisfy { graph.upperLevels(of: $0) >= level })
            }
        }
        // About 1/m of the nodes have an upper level.
        #expect((100...700).contains(upper))
    }

    @Test func excludedNodesAreNeverReturned() throws {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 2000, dimension: 12, generator: &generator)
        let graph = try HNSWGraph(copying: data.build(metric: .euclid), expectedNodeCount: data.count)
        var excluded = [UInt64](repeating: 0, count: (data.count + 63) / 64)
        for node in 0..<data.count where node % 3 == 0 { excluded[node / 64] |= 1 << UInt64(node % 64) }
        var found: [[Int]] = [], truth: [[Int]] = []
        for _ in 0..<50 {
            let query = (0..<data.dimension).map { _ in Float.random(in: -1...1, using: &generator) }
            let hits = data.search(graph, query, k: 10, ef: 64, metric: .euclid, excluded: excluded)
            #expect(hits.count == 10)
            #expect(hits.allSatisfy { $0 % 3 != 0 })
            found.append(hits)
            truth.append(data.exact(query, k: 10, metric: .euclid) { $0 % 3 != 0 })
        }
        #expect(recall(found, truth) >= 0.95)
    }

    @Test func absentRowsAreNotInTheGraph() throws {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 1500, dimension: 8, generator: &generator)
        let graph = try HNSWGraph(
            copying: data.build(metric: .dot, isPresent: { $0 % 5 != 0 }), expectedNodeCount: data.count)
        #expect(graph.insertedCount == data.count - data.count / 5)
        for node in stride(from: 0, to: data.count, by: 5) {
            #expect(graph.neighbours(of: UInt32(node), level: 0).isEmpty)
        }
        for node in 0..<UInt32(data.count) { #expect(graph.neighbours(of: node, level: 0).allSatisfy { $0 % 5 != 0 }) }
        let hits = data.search(graph, Array(data.row(1)), k: 50, ef: 100, metric: .dot)
        #expect(hits.allSatisfy { $0 % 5 != 0 })
    }

    @Test func emptyAndTinyGraphs() throws {
        var generator = SeededGenerator.forTest()
        let empty = TestData(count: 0, dimension: 4, generator: &generator)
        let graph = try HNSWGraph(copying: empty.build(metric: .euclid), expectedNodeCount: 0)
        #expect(graph.entryPoint == nil)
        #expect(empty.search(graph, [0, 0, 0, 0], k: 3, ef: 10, metric: .euclid).isEmpty)
        let one = TestData(count: 1, dimension: 4, generator: &generator)
        let single = try HNSWGraph(copying: one.build(metric: .euclid), expectedNodeCount: 1)
        #expect(one.search(single, [0, 0, 0, 0], k: 3, ef: 10, metric: .euclid) == [0])
        let none = try HNSWGraph(copying: one.build(metric: .euclid, isPresent: { _ in false }), expectedNodeCount: 1)
        #expect(none.entryPoint == nil)
    }

    @Test func damagedImagesAreRefusedOrHarmless() throws {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 600, dimension: 8, generator: &generator)
        let image = data.build(metric: .euclid)
        #expect(throws: HNSWGraphError.self) { try HNSWGraph(copying: image, expectedNodeCount: 599) }
        #expect(throws: HNSWGraphError.self) {
            try HNSWGraph(copying: Array(image.dropLast(4)), expectedNodeCount: 600)
        }
        // (inserted_count at 44 is informational and not cross-checked.)
        for offset in [0, 8, 12, 16, 20, 24, 28, 32, 36, 40, 50] {
            var bad = image
            bad[offset] ^= 0x40
            #expect(throws: HNSWGraphError.self, "byte \(offset)") {
                try HNSWGraph(copying: bad, expectedNodeCount: 600)
            }
        }
        // Garbage in the neighbour rows: searches stay in bounds.
        var garbled = image
        for _ in 0..<2000 {
            let offset = Int.random(in: 64..<garbled.count, using: &generator)
            garbled[offset] = UInt8.random(in: 0...255, using: &generator)
        }
        if let graph = try? HNSWGraph(copying: garbled, expectedNodeCount: 600) {
            for _ in 0..<20 {
                let query = (0..<8).map { _ in Float.random(in: -1...1, using: &generator) }
                #expect(data.search(graph, query, k: 10, ef: 40, metric: .euclid).allSatisfy { $0 < 600 })
            }
        }
    }

    @Test func buildingOnAnExistingGraphKeepsRecall() throws {
        var generator = SeededGenerator.forTest()
        let data = TestData(count: 4000, dimension: 16, generator: &generator)
        // The old graph covers rows 1000..<4000 in another numbering (old node
        // i = row 1000 + i); every 10th of them was deleted since.
        let old = TestData(dimension: data.dimension, rows: Array(data.rows[(1000 * data.dimension)...]))
        let oldGraph = try HNSWGraph(copying: old.build(metric: .euclid), expectedNodeCount: old.count)
        let nodeMap = (0..<old.count).map { $0 % 10 == 3 ? UInt32.max : UInt32(1000 + $0) }
        let seed = HNSWSeedGraph(graph: oldGraph, nodeMap: nodeMap)
        let deleted: (Int) -> Bool = { $0 >= 1000 && ($0 - 1000) % 10 == 3 }
        let image = data.rows.withUnsafeBufferPointer {
            try! HNSWBuilder.build(  // never asked to stop: cannot throw
                rows: $0.baseAddress!, dimension: data.dimension, count: data.count, metric: .euclid,
                isPresent: { !deleted($0) }, parameters: HNSWBuildParameters(), startingFrom: seed)
        }
        let graph = try HNSWGraph(copying: image, expectedNodeCount: data.count)
        #expect(graph.insertedCount == data.count - 300)
        // Reused nodes keep their levels; dropped nodes are gone from every row.
        #expect(graph.upperLevels(of: 1000) == oldGraph.upperLevels(of: 0))
        for node in 0..<UInt32(data.count) {
            #expect(graph.neighbours(of: node, level: 0).allSatisfy { !deleted(Int($0)) })
        }
        let queries = (0..<100).map { _ in (0..<data.dimension).map { _ in Float.random(in: -1...1, using: &generator) }
        }
        let truth = queries.map { data.exact($0, k: 10, metric: .euclid) { !deleted($0) } }
        let reusedRecall = recall(queries.map { data.search(graph, $0, k: 10, ef: 64, metric: .euclid) }, truth)
        let fresh = try HNSWGraph(
            copying: data.build(metric: .euclid, isPresent: { !deleted($0) }), expectedNodeCount: data.count)
        let freshRecall = recall(queries.map { data.search(fresh, $0, k: 10, ef: 64, metric: .euclid) }, truth)
        print("recall@10 ef=64: fresh build \(freshRecall), on an existing graph \(reusedRecall)")
        // Measured over seeds: usually 0.5–1.5 points below a fresh build with 10%
        // of the old nodes dropped (the most a merge reuses a graph with); their
        // former neighbours keep one link fewer until they are pruned again. The
        // worst seed seen, 9115675820572144823, gives 3.2 points (0.975 fresh,
        // 0.943 reused), hence the 4-point allowance.
        #expect(reusedRecall >= freshRecall - 0.04 && reusedRecall >= 0.94, "seed \(generator.seed)")
    }
}
