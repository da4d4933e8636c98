import Foundation
@testable import Strata
import StrataTestSupport
import Testing

/// The universal query executor (`Collection.query`, `queryGroups`) against a
/// brute-force reference written here from Qdrant's definitions (docs/query.md),
/// in Double, on a mutable-only collection and on one spread over immutable
/// segments (with HNSW graphs) plus a mutable segment; every search is exact.
@Suite struct QueryTests {
    static let dim = 8
    static let count = 240
    static let exact = SearchParams(exact: true)

    /// One stored point as the reference sees it.
    struct Item {
        var id: PointID
        var a: [Double]  // vector "a": Dot
        var b: [Double]  // vector "b": Euclid
        var c: [Double]  // vector "c": Cosine (normalised, as stored)
        var payload: Payload
    }

    static let config = CollectionConfig(
        vectors: [
            "a": VectorParams(size: dim, distance: .dot), "b": VectorParams(size: dim, distance: .euclid),
            "c": VectorParams(size: dim, distance: .cosine),
        ],
        optimizers: OptimizersConfig(defaultSegmentNumber: 4, indexingThresholdKB: 1, flushIntervalSec: 3600),
        hnswConfig: HnswConfig(m: 8, efConstruct: 64))

    /// A collection of `count` points; with `flushed`, two thirds are in immutable segments.
    static func withCollection(flushed: Bool, _ body: (Collection, [Item], Database) async throws -> Void) async throws
    {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("q", config: config)
            var random = SeededGenerator.printing(seed: 4242)
            var items: [Item] = []
            var points: [PointStruct] = []
            for index in 0..<count {
                let a = random.vector(dim), b = random.vector(dim), c = random.vector(dim)
                var payload: Payload = ["n": .int(Int64(random.int(1000))), "g": .string("g\(index % 7)")]
                if index % 5 == 0 { payload["tags"] = .array([.int(Int64(index % 3)), .string("t\(index % 4)")]) }
                if index % 11 == 0 { payload["g"] = nil }
                points.append(
                    PointStruct(id: .number(UInt64(index)), vectors: ["a": a, "b": b, "c": c], payload: payload))
                let norm = c.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                items.append(
                    Item(
                        id: .number(UInt64(index)), a: a.map(Double.init), b: b.map(Double.init),
                        c: c.map { Double($0) / norm }, payload: payload))
            }
            if flushed {
                try await collection.upsert(Array(points[0..<80]))
                try collection.flush()
                try await collection.upsert(Array(points[80..<160]))
                try collection.flush()
                // The last third stays in RAM (the optimizer would seal it: its threshold is 1 KiB).
                collection.store.pauseBackgroundWork()
                try await collection.upsert(Array(points[160...]))
                #expect(collection.storageInfo.segments.count == 2)
                #expect(collection.storageInfo.segments.allSatisfy { $0.sections.contains { $0.name == "hnsw[a]" } })
            } else {
                try await collection.upsert(points)
            }
            try await collection.createFieldIndex("n", schema: PayloadFieldSchema(.integer))
            try await body(collection, items, db)
            db.close()
        }
    }

    // MARK: - Reference

    enum Metric { case dot, euclid, cosine }

    static func metric(_ using: String) -> Metric { using == "a" ? .dot : (using == "b" ? .euclid : .cosine) }
    static func vector(_ item: Item, _ using: String) -> [Double] {
        using == "a" ? item.a : (using == "b" ? item.b : item.c)
    }

    /// Qdrant's raw similarity: dot, −‖x−y‖².
    static func similarity(_ metric: Metric, _ x: [Double], _ y: [Double]) -> Double {
        switch metric {
        case .dot, .cosine: zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
        case .euclid: -zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }
    }

    /// The reported nearest score: dot, ‖x−y‖.
    static func nearest(_ metric: Metric, _ x: [Double], _ y: [Double]) -> Double {
        metric == .euclid ? (-similarity(metric, x, y)).squareRoot() : similarity(metric, x, y)
    }

    static func normalized(_ x: [Double]) -> [Double] {
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return x.map { $0 / norm }
    }

    /// Ranks (id, score) pairs, best first, ties by id.
    static func ranked(_ scored: [(PointID, Double)], higherIsBetter: Bool = true) -> [(PointID, Double)] {
        scored.sorted { $0.1 != $1.1 ? (higherIsBetter ? $0.1 > $1.1 : $0.1 < $1.1) : $0.0 < $1.0 }
    }

    static func expectSame(
        _ got: [ScoredPoint], _ want: [(PointID, Double)], tolerance: Double = 1e-4,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(got.count == want.count, "got \(got.count) hits, want \(want.count)", sourceLocation: sourceLocation)
        for (index, (hit, expected)) in zip(got, want).enumerated() {
            #expect(
                abs(Double(hit.score) - expected.1) <= tolerance * max(1, abs(expected.1)),
                "rank \(index): score \(hit.score), want \(expected.1)", sourceLocation: sourceLocation)
            // Ids must agree unless the reference has a near-tie at this rank.
            let tied = want.enumerated().contains { other in
                other.offset != index && abs(other.element.1 - expected.1) <= tolerance * max(1, abs(expected.1))
            }
            if !tied {
                #expect(
                    hit.id == expected.0, "rank \(index): id \(hit.id), want \(expected.0)",
                    sourceLocation: sourceLocation)
            }
        }
    }

    static func ids(_ values: [Int]) -> Set<PointID> { Set(values.map { .number(UInt64($0)) }) }

    static func queryVector(_ random: inout SeededGenerator) -> [Float] { random.vector(dim) }

    // MARK: - Nearest, filters, thresholds, offset

    @Test(arguments: [false, true])
    func nearestMatchesTheReference(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            var random = SeededGenerator.printing(seed: 1)
            for using in ["a", "b", "c"] {
                let q = Self.queryVector(&random)
                let metric = Self.metric(using)
                let prepared = metric == .cosine ? Self.normalized(q.map(Double.init)) : q.map(Double.init)
                let all = Self.ranked(
                    items.map { ($0.id, Self.nearest(metric, prepared, Self.vector($0, using))) },
                    higherIsBetter: metric != .euclid)
                let hits = try collection.query(
                    QueryRequest(query: .nearest(.dense(q)), using: using, params: Self.exact, limit: 7, offset: 3))
                Self.expectSame(hits, Array(all[3..<10]))
                // A threshold keeps what is at least as good.
                let threshold = Float(all[12].1)
                let kept = try collection.query(
                    QueryRequest(
                        query: .nearest(.dense(q)), using: using, params: Self.exact,
                        scoreThreshold: threshold, limit: 50))
                #expect(kept.count >= 12 && kept.count <= 13)
                // A filter.
                let filter = Filter(must: [
                    .field(FieldCondition(key: try PayloadPath("g"), .match(.value(.keyword("g3")))))
                ])
                let filtered = try collection.query(
                    QueryRequest(
                        query: .nearest(.dense(q)), using: using, filter: filter,
                        params: Self.exact, limit: 5))
                Self.expectSame(
                    filtered,
                    Array(all.filter { id in items.first { $0.id == id.0 }!.payload["g"] == .string("g3") }.prefix(5)))
            }
        }
    }

    @Test(arguments: [false, true])
    func queryByIDExcludesThePointAndNoQueryListsIDsWithScoreOne(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            let target = items[17]
            let all = Self.ranked(
                items.filter { $0.id != target.id }.map { ($0.id, Self.nearest(.euclid, target.b, $0.b)) },
                higherIsBetter: false)
            let hits = try collection.query(
                QueryRequest(query: .nearest(.point(target.id)), using: "b", params: Self.exact, limit: 5))
            Self.expectSame(hits, Array(all.prefix(5)))
            let listed = try collection.query(QueryRequest(limit: 4, offset: 2, withPayload: true))
            #expect(listed.map(\.id) == (2..<6).map { PointID.number(UInt64($0)) })
            #expect(listed.allSatisfy { $0.score == 1 && $0.payload != nil && $0.vectors == nil })
            #expect(throws: StrataError.self) {
                try collection.query(QueryRequest(query: .nearest(.point(.number(99_999))), using: "a"))
            }
        }
    }

    // MARK: - Prefetch and fusion

    /// Reference RRF: Σ weight-adjusted 1 / ((rank + 1) / w + k − 1), rank from 0.
    static func rrf(_ lists: [[(PointID, Double)]], k: Int = 2, weights: [Double]? = nil) -> [(PointID, Double)] {
        var scores: [PointID: Double] = [:]
        for (index, list) in lists.enumerated() {
            let weight = weights?[index] ?? 1
            for (rank, entry) in list.enumerated() where weight > 0 {
                scores[entry.0, default: 0] += 1 / (Double(rank + 1) / weight + Double(k) - 1)
            }
        }
        return ranked(scores.map { ($0.key, $0.value) })
    }

    /// Reference DBSF: each list mapped by (s − (μ − 3σ)) / 6σ (sample σ), summed.
    static func dbsf(_ lists: [[(PointID, Double)]]) -> [(PointID, Double)] {
        var scores: [PointID: Double] = [:]
        for list in lists {
            let values = list.map(\.1)
            let mean = values.reduce(0, +) / Double(values.count)
            let sigma = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
            for entry in list { scores[entry.0, default: 0] += (entry.1 - (mean - 3 * sigma)) / (6 * sigma) }
        }
        return ranked(scores.map { ($0.key, $0.value) })
    }

    @Test(arguments: [false, true])
    func prefetchFusionMatchesTheReference(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            var random = SeededGenerator.printing(seed: 2)
            let qa = Self.queryVector(&random), qb = Self.queryVector(&random)
            let listA = Array(
                Self.ranked(items.map { ($0.id, Self.nearest(.dot, qa.map(Double.init), $0.a)) }).prefix(30))
            let listB = Array(
                Self.ranked(
                    items.map { ($0.id, Self.nearest(.euclid, qb.map(Double.init), $0.b)) },
                    higherIsBetter: false
                ).prefix(25))
            let prefetch = [
                Prefetch(query: .nearest(.dense(qa)), using: "a", params: Self.exact, limit: 30),
                Prefetch(query: .nearest(.dense(qb)), using: "b", params: Self.exact, limit: 25),
            ]
            let rrf = try collection.query(QueryRequest(prefetch: prefetch, query: .fusion(.rrf()), limit: 15))
            Self.expectSame(rrf, Array(Self.rrf([listA, listB]).prefix(15)), tolerance: 1e-6)
            #expect(abs(rrf[0].score - Float(Self.rrf([listA, listB])[0].1)) < 1e-6)
            let weighted = try collection.query(
                QueryRequest(prefetch: prefetch, query: .fusion(.rrf(k: 60, weights: [3, 0.5])), limit: 20))
            Self.expectSame(
                weighted, Array(Self.rrf([listA, listB], k: 60, weights: [3, 0.5]).prefix(20)), tolerance: 1e-6)
            let dbsf = try collection.query(
                QueryRequest(prefetch: prefetch, query: .fusion(.dbsf), limit: 20, offset: 2))
            Self.expectSame(dbsf, Array(Self.dbsf([listA, listB])[2..<22]), tolerance: 1e-3)
            // Fusion thresholds keep ≥.
            let cut = Float(Self.rrf([listA, listB])[5].1)
            let thresholded = try collection.query(
                QueryRequest(prefetch: prefetch, query: .fusion(.rrf()), scoreThreshold: cut, limit: 50))
            #expect(thresholded.count >= 6 && thresholded.allSatisfy { $0.score >= cut })
        }
    }

    @Test(arguments: [false, true])
    func nestedPrefetchRescoresOnlyPrefetchedPoints(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            var random = SeededGenerator.printing(seed: 3)
            let qa = Self.queryVector(&random), qb = Self.queryVector(&random), qc = Self.queryVector(&random)
            let filter = Filter(mustNot: [
                .field(FieldCondition(key: try PayloadPath("g"), .match(.value(.keyword("g1")))))
            ])
            let inner = Filter(must: [.field(FieldCondition(key: try PayloadPath("n"), .range(RangeBounds(lt: 800))))])
            // Reference: inner leaf on a (root and prefetch filters), limit 60; middle rescored by b, threshold, limit 20;
            // root rescored by cosine c, limit 8.
            let allowed = items.filter { item in
                item.payload["g"] != .string("g1")
                    && { if case .int(let n)? = item.payload["n"] { return n < 800 } else { return false } }()
            }
            let leaf = Self.ranked(allowed.map { ($0.id, Self.nearest(.dot, qa.map(Double.init), $0.a)) }).prefix(60)
            let leafIDs = Set(leaf.map(\.0))
            let middleAll = Self.ranked(
                items.filter { leafIDs.contains($0.id) }.map {
                    ($0.id, Self.nearest(.euclid, qb.map(Double.init), $0.b))
                },
                higherIsBetter: false)
            let threshold = middleAll[12].1
            let middle = middleAll.filter { $0.1 <= threshold }.prefix(20)
            let middleIDs = Set(middle.map(\.0))
            let qcn = Self.normalized(qc.map(Double.init))
            let root = Self.ranked(
                items.filter { middleIDs.contains($0.id) }.map { ($0.id, Self.nearest(.cosine, qcn, $0.c)) })
            let request = QueryRequest(
                prefetch: [
                    Prefetch(
                        prefetch: [
                            Prefetch(
                                query: .nearest(.dense(qa)), using: "a", filter: inner, params: Self.exact, limit: 60)
                        ],
                        query: .nearest(.dense(qb)), using: "b", scoreThreshold: Float(threshold) + 1e-5, limit: 20)
                ],
                query: .nearest(.dense(qc)), using: "c", filter: filter, limit: 8, withVector: true)
            let hits = try collection.query(request)
            Self.expectSame(hits, Array(root.prefix(8)))
            #expect(hits.allSatisfy { $0.vectors?.count == 3 })
            // A prefetch without a query, a fusion without prefetch, and mismatched weights are refused.
            for bad in [
                QueryRequest(
                    prefetch: [Prefetch(prefetch: [Prefetch(query: .nearest(.dense(qa)), using: "a")])],
                    query: .fusion(.rrf())),
                QueryRequest(prefetch: [Prefetch(query: .nearest(.dense(qa)), using: "a")]),
                QueryRequest(query: .fusion(.dbsf)),
                QueryRequest(
                    prefetch: [Prefetch(query: .nearest(.dense(qa)), using: "a")],
                    query: .fusion(.rrf(weights: [1, 2]))),
                QueryRequest(
                    prefetch: [Prefetch(query: .nearest(.dense(qa)), using: "a")], query: .fusion(.rrf()), using: "a"),
                QueryRequest(query: .nearest(.dense(qa)), using: "zzz"),
                QueryRequest(query: .orderBy(Collection.OrderBy(key: "n")), scoreThreshold: 1),
                QueryRequest(scoreThreshold: 1),
            ] {
                #expect(throws: StrataError.self) { try collection.query(bad) }
            }
        }
    }

    /// The whole request is checked before anything is read: a malformed
    /// stage deep down is reported even when the root would fail at reading
    /// first (its example does not exist) or would read nothing (limit 0).
    @Test func wholeRequestIsValidatedBeforeAnyRead() async throws {
        try await Self.withCollection(flushed: false) { collection, _, _ in
            var random = SeededGenerator.printing(seed: 3)
            let q = Self.queryVector(&random)
            let withoutQuery = Prefetch(prefetch: [Prefetch(query: .nearest(.dense(q)), using: "a")], limit: 5)
            let badMMR = Prefetch(query: .nearest(.dense(q), mmr: MMR(diversity: 2)), using: "a")
            func error(_ request: QueryRequest) -> StrataError? {
                do { _ = try collection.query(request) } catch { return error as? StrataError }
                return nil
            }
            let missingRoot = error(
                QueryRequest(prefetch: [withoutQuery], query: .nearest(.point(.number(999_999))), using: "a"))
            #expect(missingRoot?.code == .invalidArgument)
            #expect(missingRoot?.message == QueryValidation.prefetchWithoutQuery)
            let emptyPage = error(QueryRequest(prefetch: [badMMR], query: .fusion(.rrf()), limit: 0))
            #expect(emptyPage?.message == "mmr diversity must be between 0 and 1, got 2.0")
            let grouped = try? collection.queryGroups(
                QueryRequest(prefetch: [withoutQuery], query: .fusion(.rrf())), groupBy: "n",
                limit: 0)
            #expect(grouped == nil)
            let nothing = try collection.query(QueryRequest(query: .nearest(.dense(q)), using: "a", limit: 0))
            #expect(nothing.isEmpty)
        }
    }

    // MARK: - Recommend, discover, context

    static func sigmoid(_ x: Double) -> Double { x / (1 + abs(x)) }
    static func scaledSigmoid(_ x: Double) -> Double { 0.5 * (sigmoid(x) + 1) }

    @Test(arguments: [false, true])
    func recommendStrategiesMatchTheReference(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            var random = SeededGenerator.printing(seed: 5)
            let extra = Self.queryVector(&random)
            for using in ["a", "b", "c"] {
                let metric = Self.metric(using)
                let positiveIDs = [3, 40], negativeIDs = [7]
                func stored(_ index: Int) -> [Double] { Self.vector(items[index], using) }
                let given = metric == .cosine ? Self.normalized(extra.map(Double.init)) : extra.map(Double.init)
                let positives = positiveIDs.map(stored) + [given]
                let negatives = negativeIDs.map(stored)
                let positiveInputs: [VectorInput] = positiveIDs.map { .point(.number(UInt64($0))) } + [.dense(extra)]
                let negativeInputs: [VectorInput] = negativeIDs.map { .point(.number(UInt64($0))) }
                let candidates = items.filter { item in
                    !(positiveIDs + negativeIDs).contains { item.id == .number(UInt64($0)) }
                }
                // average_vector: nearest to 2·avg(pos) − avg(neg) (the given vector averaged raw).
                let rawPositives = positiveIDs.map(stored) + [extra.map(Double.init)]
                var average = (0..<Self.dim).map { d in
                    rawPositives.reduce(0) { $0 + $1[d] } / Double(rawPositives.count)
                }
                let negativeAverage = (0..<Self.dim).map { d in
                    negatives.reduce(0) { $0 + $1[d] } / Double(negatives.count)
                }
                average = zip(average, negativeAverage).map { 2 * $0 - $1 }
                if metric == .cosine { average = Self.normalized(average) }
                let averageWant = Self.ranked(
                    candidates.map { ($0.id, Self.nearest(metric, average, Self.vector($0, using))) },
                    higherIsBetter: metric != .euclid)
                let averageGot = try collection.query(
                    QueryRequest(
                        query: .recommend(positive: positiveInputs, negative: negativeInputs), using: using,
                        params: Self.exact, limit: 10))
                Self.expectSame(averageGot, Array(averageWant.prefix(10)), tolerance: 1e-3)
                // best_score
                let bestWant = Self.ranked(
                    candidates.map { item in
                        let v = Self.vector(item, using)
                        let maxPositive = positives.map { Self.similarity(metric, $0, v) }.max()!
                        let maxNegative = negatives.map { Self.similarity(metric, $0, v) }.max()!
                        return (
                            item.id,
                            maxPositive > maxNegative
                                ? Self.scaledSigmoid(maxPositive) : -Self.scaledSigmoid(maxNegative)
                        )
                    })
                let bestGot = try collection.query(
                    QueryRequest(
                        query: .recommend(positive: positiveInputs, negative: negativeInputs, strategy: .bestScore),
                        using: using, limit: 10))
                Self.expectSame(bestGot, Array(bestWant.prefix(10)), tolerance: 1e-4)
                // sum_scores, with a threshold
                let sumWant = Self.ranked(
                    candidates.map { item in
                        let v = Self.vector(item, using)
                        return (
                            item.id,
                            positives.reduce(0) { $0 + Self.similarity(metric, $1, v) }
                                - negatives.reduce(0) { $0 + Self.similarity(metric, $1, v) }
                        )
                    })
                let sumGot = try collection.query(
                    QueryRequest(
                        query: .recommend(positive: positiveInputs, negative: negativeInputs, strategy: .sumScores),
                        using: using,
                        scoreThreshold: Float(sumWant[6].1) - 1e-4, limit: 10))
                Self.expectSame(sumGot, Array(sumWant.prefix(7)), tolerance: 1e-4)
                // Only negatives with best_score.
                let onlyNegative = try collection.query(
                    QueryRequest(
                        query: .recommend(positive: [], negative: negativeInputs, strategy: .bestScore), using: using,
                        limit: 5))
                let onlyNegativeWant = Self.ranked(
                    candidates.map { item in
                        (
                            item.id,
                            -Self.scaledSigmoid(
                                negatives.map { Self.similarity(metric, $0, Self.vector(item, using)) }.max()!)
                        )
                    })
                Self.expectSame(onlyNegative, Array(onlyNegativeWant.prefix(5)))
            }
            #expect(throws: StrataError.self) {
                try collection.query(
                    QueryRequest(query: .recommend(positive: [], negative: [.point(.number(1))]), using: "a"))
            }
        }
    }

    @Test(arguments: [false, true])
    func discoverAndContextMatchTheReference(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            for using in ["a", "b"] {
                let metric = Self.metric(using)
                func stored(_ index: Int) -> [Double] { Self.vector(items[index], using) }
                let pairs = [(10, 20), (30, 40)]
                let context = pairs.map {
                    ContextPair(positive: .point(.number(UInt64($0.0))), negative: .point(.number(UInt64($0.1))))
                }
                let excluded = Self.ids([5] + pairs.flatMap { [$0.0, $0.1] })
                let candidates = items.filter { !excluded.contains($0.id) }
                let discoverWant = Self.ranked(
                    candidates.map { item in
                        let v = Self.vector(item, using)
                        var rank = 0
                        for pair in pairs {
                            let p = Self.similarity(metric, stored(pair.0), v),
                                n = Self.similarity(metric, stored(pair.1), v)
                            rank += p > n ? 1 : (p < n ? -1 : 0)
                        }
                        return (item.id, Double(rank) + Self.scaledSigmoid(Self.similarity(metric, stored(5), v)))
                    })
                let discoverGot = try collection.query(
                    QueryRequest(
                        query: .discover(target: .point(.number(5)), context: context), using: using, limit: 12))
                Self.expectSame(discoverGot, Array(discoverWant.prefix(12)))
                let contextIDs = Self.ids(pairs.flatMap { [$0.0, $0.1] })
                let contextWant = Self.ranked(
                    items.filter { !contextIDs.contains($0.id) }.map { item in
                        let v = Self.vector(item, using)
                        let loss = pairs.reduce(0.0) { sum, pair in
                            let difference =
                                Self.similarity(metric, stored(pair.0), v) - Self.similarity(metric, stored(pair.1), v)
                                - Double(Float.ulpOfOne)
                            return sum + Self.sigmoid(min(difference, 0))
                        }
                        return (item.id, loss)
                    })
                // Context scores tie at 0 in the best zone: compare scores, and that examples are left out.
                let contextGot = try collection.query(QueryRequest(query: .context(context), using: using, limit: 30))
                #expect(contextGot.count == 30)
                for (hit, want) in zip(contextGot, contextWant.prefix(30)) {
                    #expect(abs(Double(hit.score) - want.1) <= 1e-4)
                }
                #expect(contextGot.allSatisfy { !contextIDs.contains($0.id) })
            }
        }
    }

    // MARK: - order_by, sample, MMR, lookup_from

    @Test(arguments: [false, true])
    func orderBySampleAndMMR(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, _ in
            func n(_ item: Item) -> Int64 { if case .int(let value)? = item.payload["n"] { value } else { -1 } }
            let ordered = try collection.query(
                QueryRequest(query: .orderBy(Collection.OrderBy(key: "n", descending: true)), limit: 10))
            let want = items.sorted { n($0) != n($1) ? n($0) > n($1) : $0.id < $1.id }.prefix(10)
            #expect(ordered.map(\.id) == want.map(\.id))
            #expect(ordered.map { $0.orderValue! } == want.map { Double(n($0)) })
            #expect(ordered.allSatisfy { $0.score == 1 })
            // order_by over prefetched points only.
            var random = SeededGenerator.printing(seed: 7)
            let q = Self.queryVector(&random)
            let top = Self.ranked(items.map { ($0.id, Self.nearest(.dot, q.map(Double.init), $0.a)) }).prefix(20)
            let topIDs = Set(top.map(\.0))
            let rescored = try collection.query(
                QueryRequest(
                    prefetch: [Prefetch(query: .nearest(.dense(q)), using: "a", params: Self.exact, limit: 20)],
                    query: .orderBy(Collection.OrderBy(key: "n")), limit: 5))
            #expect(
                rescored.map(\.id)
                    == items.filter { topIDs.contains($0.id) }.sorted { n($0) != n($1) ? n($0) < n($1) : $0.id < $1.id }
                    .prefix(5).map(\.id))
            // sample: distinct points matching the filter.
            let filter = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("g"), .match(.value(.keyword("g2")))))
            ])
            let sample = try collection.query(
                QueryRequest(query: .sampleRandom, filter: filter, limit: 12, withPayload: true))
            #expect(sample.count == 12 && Set(sample.map(\.id)).count == 12)
            #expect(sample.allSatisfy { $0.payload?["g"] == .string("g2") && $0.score == 1 })
            let sampledPrefetch = try collection.query(
                QueryRequest(
                    prefetch: [Prefetch(query: .nearest(.dense(q)), using: "a", params: Self.exact, limit: 20)],
                    query: .sampleRandom, limit: 30))
            #expect(Set(sampledPrefetch.map(\.id)) == topIDs)
            // MMR against a reference greedy selection.
            for (using, diversity) in [("a", Float(0.5)), ("b", 0.8), ("c", 0.2)] {
                let metric = Self.metric(using)
                let prepared = metric == .cosine ? Self.normalized(q.map(Double.init)) : q.map(Double.init)
                let candidates = Array(
                    Self.ranked(
                        items.map { ($0.id, Self.nearest(metric, prepared, Self.vector($0, using))) },
                        higherIsBetter: metric != .euclid
                    ).prefix(40))
                let vectors = candidates.map { c in Self.vector(items.first { $0.id == c.0 }!, using) }
                let relevance = vectors.map { Self.similarity(metric, prepared, $0) }
                let lambda = 1 - Double(diversity)
                var selected = [relevance.indices.max { relevance[$0] < relevance[$1] }!]
                while selected.count < 8 {
                    let next = candidates.indices.filter { !selected.contains($0) }.max { x, y in
                        func mmr(_ i: Int) -> Double {
                            lambda * relevance[i] - (1 - lambda) * selected.map {
                                Self.similarity(metric, vectors[i], vectors[$0])
                            }.max()!
                        }
                        return mmr(x) < mmr(y)
                    }!
                    selected.append(next)
                }
                let hits = try collection.query(
                    QueryRequest(
                        query: .nearest(.dense(q), mmr: MMR(diversity: diversity, candidatesLimit: 40)), using: using,
                        params: Self.exact, limit: 8))
                Self.expectSame(hits, selected.map { candidates[$0] })
                // Through a prefetch: the nearest rescore picks the candidates.
                let viaPrefetch = try collection.query(
                    QueryRequest(
                        prefetch: [Prefetch(query: .nearest(.dense(q)), using: using, params: Self.exact, limit: 60)],
                        query: .nearest(.dense(q), mmr: MMR(diversity: diversity, candidatesLimit: 40)), using: using,
                        limit: 8))
                Self.expectSame(viaPrefetch, selected.map { candidates[$0] })
            }
        }
    }

    @Test func lookupFromAnotherCollection() async throws {
        try await Self.withCollection(flushed: false) { collection, items, db in
            let other = try db.createCollection(
                "other", config: CollectionConfig(vectors: ["v": VectorParams(size: Self.dim, distance: .dot)]))
            var random = SeededGenerator.printing(seed: 9)
            let stored = Self.queryVector(&random)
            try await other.upsert([PointStruct(id: .number(3), vectors: ["v": stored])])
            let request = QueryRequest(
                query: .nearest(.point(.number(3))), using: "a", params: Self.exact, limit: 5,
                lookupFrom: LookupLocation(collection: "other", vector: "v"))
            let hits = try collection.query(request, collections: { try db.collection(named: $0) })
            // Point 3 of *this* collection is not excluded: the id referred to the other collection.
            let want = Self.ranked(items.map { ($0.id, Self.nearest(.dot, stored.map(Double.init), $0.a)) })
            Self.expectSame(hits, Array(want.prefix(5)))
            #expect(throws: StrataError.self) { try collection.query(request) }
        }
    }

    // MARK: - Groups

    @Test(arguments: [false, true])
    func groupsMatchTheReference(flushed: Bool) async throws {
        try await Self.withCollection(flushed: flushed) { collection, items, db in
            var random = SeededGenerator.printing(seed: 11)
            let q = Self.queryVector(&random)
            let ranking = Self.ranked(
                items.map { ($0.id, Self.nearest(.euclid, q.map(Double.init), $0.b)) }, higherIsBetter: false)
            func reference(_ key: String, size: Int, groups: Int) -> [(JSONValue, [(PointID, Double)])] {
                var order: [JSONValue] = []
                var members: [JSONValue: [(PointID, Double)]] = [:]
                for entry in ranking {
                    let item = items.first { $0.id == entry.0 }!
                    guard let value = item.payload[key] else { continue }
                    var keys: [JSONValue] = []
                    var elements = [value]
                    if case .array(let xs) = value { elements = xs }
                    for element in elements where !keys.contains(element) { keys.append(element) }
                    for k in keys {
                        if members[k] == nil { order.append(k); members[k] = [] }
                        if members[k]!.count < size { members[k]!.append(entry) }
                    }
                }
                return order.prefix(groups).map { ($0, members[$0]!) }
            }
            let request = QueryRequest(query: .nearest(.dense(q)), using: "b", params: Self.exact, withPayload: true)
            for (key, size, groups) in [("g", 3, 4), ("g", 40, 7), ("tags", 2, 10)] {
                let got = try collection.queryGroups(request, groupBy: key, groupSize: size, limit: groups)
                let want = reference(key, size: size, groups: groups)
                #expect(got.map(\.id) == want.map(\.0))
                for (group, expected) in zip(got, want) { Self.expectSame(group.hits, expected.1) }
                #expect(got.allSatisfy { $0.hits.allSatisfy { $0.payload != nil } })
            }
            #expect(try collection.queryGroups(request, groupBy: "missing", limit: 3).isEmpty)
            // with_lookup: group values are ids in another collection.
            let owners = try db.createCollection(
                "owners", config: CollectionConfig(vectors: ["": VectorParams(size: 2, distance: .dot)]))
            try await owners.upsert([PointStruct(id: .number(1), vector: [1, 0], payload: ["name": "one"])])
            let looked = try collection.queryGroups(
                QueryRequest(query: .nearest(.dense(q)), using: "b", params: Self.exact), groupBy: "tags", groupSize: 1,
                limit: 10,
                withLookup: GroupLookup(collection: "owners"), collections: { try db.collection(named: $0) })
            #expect(looked.first { $0.id == .int(1) }?.lookup?.payload == ["name": "one"])
            #expect(looked.filter { $0.id != .int(1) }.allSatisfy { $0.lookup == nil })
            #expect(looked.allSatisfy { $0.hits.allSatisfy { $0.payload == nil } })
            // Groups over fused prefetches.
            let fused = try collection.queryGroups(
                QueryRequest(
                    prefetch: [
                        Prefetch(query: .nearest(.dense(q)), using: "a", params: Self.exact, limit: 10),
                        Prefetch(query: .nearest(.dense(q)), using: "b", params: Self.exact, limit: 10),
                    ],
                    query: .fusion(.rrf())), groupBy: "g", groupSize: 2, limit: 3)
            #expect(fused.count == 3 && fused.allSatisfy { !$0.hits.isEmpty && $0.hits.count <= 2 })
        }
    }
}
