import Foundation
@testable import Strata
import StrataTestSupport
import StrataVectorMath
import Testing

/// Multivectors (max_sim): validation, exact search against a reference
/// written here in Double, graph search over the aggregates with rescoring,
/// across mutable, sealed and immutable segments, deletes, vector updates,
/// reopen, and the query API.
@Suite struct MultiVectorTests {
    static let dim = 8

    static func config(_ distance: Distance, indexed: Bool = true) -> CollectionConfig {
        CollectionConfig(
            vectors: [
                "m": VectorParams(size: dim, distance: distance, multivectorConfig: MultiVectorConfig()),
                "d": VectorParams(size: 4, distance: .dot),
            ],
            // A tiny indexing threshold: every flushed segment gets a graph.
            optimizers: OptimizersConfig(
                defaultSegmentNumber: 8, indexingThresholdKB: indexed ? 1 : 1_000_000, flushIntervalSec: 3600),
            hnswConfig: HnswConfig(m: 16, efConstruct: 64, fullScanThresholdKB: 1))
    }

    /// Qdrant's max_sim (checked against Qdrant Edge): Σ over query rows of
    /// the best similarity; euclid √Σ min ‖q−d‖², manhattan Σ min L1.
    static func referenceMaxSim(_ query: [Float], _ rows: [Float], _ distance: Distance) -> Float {
        let q = stride(from: 0, to: query.count, by: dim).map { Array(query[$0..<$0 + dim]) }
        let d = stride(from: 0, to: rows.count, by: dim).map { Array(rows[$0..<$0 + dim]) }
        var total = 0.0
        for row in q {
            let pairs = d.map { doc -> Double in
                switch distance {
                case .cosine, .dot: zip(row, doc).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                case .euclid: zip(row, doc).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }
                case .manhattan: zip(row, doc).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) }
                }
            }
            total += distance.higherIsBetter ? pairs.max()! : pairs.min()!
        }
        return Float(distance == .euclid ? total.squareRoot() : total)
    }

    static func normalizedRows(_ rows: [Float]) -> [Float] {
        stride(from: 0, to: rows.count, by: dim).flatMap { start -> [Float] in
            var row = Array(rows[start..<start + dim])
            _ = VectorKernels.normalize(&row)
            return row
        }
    }

    struct Reference {
        var rows: [PointID: [Float]] = [:]
        var group: [PointID: Int64] = [:]
        let distance: Distance

        func top(_ query: [Float], limit: Int, group wanted: Int64? = nil) -> [(id: PointID, score: Float)] {
            let q = distance == .cosine ? normalizedRows(query) : query
            var hits = rows.compactMap { id, stored -> (id: PointID, score: Float)? in
                if let wanted, group[id] != wanted { return nil }
                return (id, referenceMaxSim(q, stored, distance))
            }
            hits.sort {
                $0.score != $1.score
                    ? (distance.higherIsBetter ? $0.score > $1.score : $0.score < $1.score) : $0.id < $1.id
            }
            return Array(hits.prefix(limit))
        }
    }

    /// Rows as late-interaction models make them: each multivector is about
    /// one of 12 topics (a fixed direction), its rows the topic plus noise.
    static func randomRows(_ random: inout SeededGenerator, maxRows: Int = 6) -> [Float] {
        var topicRandom = SeededGenerator(seed: 1_000 + UInt64(random.int(12)))
        let topic = topicRandom.vector(dim)
        return (0..<(random.int(maxRows) + 1)).flatMap { _ in zip(topic, random.vector(dim)).map { $0 + 0.4 * $1 } }
    }

    static func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-4 * max(1, abs(a), abs(b)) }

    /// Exact search equals the reference; graph search finds most of it with
    /// exact max_sim scores.
    static func check(_ collection: Collection, _ reference: Reference, seed: UInt64, label: String) throws {
        var random = SeededGenerator.printing(seed: seed)
        var found = 0, expectedTotal = 0
        for q in 0..<12 {
            let query = randomRows(&random, maxRows: 4)
            let expected = reference.top(query, limit: 10)
            let exact = try collection.search(query, using: "m", limit: 10, params: SearchParams(exact: true))
            #expect(exact.map(\.id) == expected.map(\.id), "\(label): exact query \(q)")
            #expect(
                zip(exact, expected).allSatisfy { close($0.score, $1.score) }, "\(label): exact scores of query \(q)")
            let graph = try collection.search(query, using: "m", limit: 10, params: SearchParams(hnswEf: 64))
            for hit in graph {
                // Every hit carries its true max_sim score.
                #expect(
                    close(hit.score, referenceScore(of: hit.id, query, reference)), "\(label): graph score of \(hit.id)"
                )
            }
            found += Set(graph.map(\.id)).intersection(expected.map(\.id)).count
            expectedTotal += expected.count
            // Filtered, exact.
            let group = Int64(q % 3)
            let filter = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("g"), .match(.value(.integer(group)))))
            ])
            let filtered = try collection.search(
                query, using: "m", limit: 5, params: SearchParams(exact: true), filter: filter)
            #expect(
                filtered.map(\.id) == reference.top(query, limit: 5, group: group).map(\.id),
                "\(label): filtered query \(q)")
        }
        let recall = Double(found) / Double(max(expectedTotal, 1))
        #expect(recall >= 0.9, "\(label): graph recall \(recall)")
    }

    static func referenceScore(of id: PointID, _ query: [Float], _ reference: Reference) -> Float {
        let q = reference.distance == .cosine ? normalizedRows(query) : query
        return referenceMaxSim(q, reference.rows[id]!, reference.distance)
    }

    @Test(arguments: [Distance.cosine, .dot, .euclid, .manhattan])
    func searchEqualsReferenceAcrossSegmentsAndReopen(distance: Distance) async throws {
        try await withTemporaryDirectory { dir in
            var random = SeededGenerator.printing(seed: 4242 &+ UInt64(distance.rawValue.count))
            var reference = Reference(distance: distance)
            func makePoint(_ i: Int) -> PointStruct {
                var vectors: [String: [Float]] = ["d": random.vector(4)]
                if random.int(8) != 0 { vectors["m"] = Self.randomRows(&random) }
                return PointStruct(id: .number(UInt64(i)), vectors: vectors, payload: ["g": .int(Int64(i % 3))])
            }
            func record(_ point: PointStruct) {
                reference.rows[point.id] = point.vectors["m"].map { distance == .cosine ? Self.normalizedRows($0) : $0 }
                reference.group[point.id] = Int64(point.id.description)! % 3
            }
            do {
                let db = try Database.open(at: dir)
                let collection = try db.createCollection("c", config: Self.config(distance))
                for batch in 0..<3 {
                    let points = (batch * 150..<(batch + 1) * 150).map(makePoint)
                    try await collection.upsert(points)
                    points.forEach(record)
                    if batch < 2 { try collection.flush() }
                }
                #expect(collection.storageInfo.segments.count >= 2)
                let sections = collection.storageInfo.segments.flatMap { $0.sections.map(\.name) }
                #expect(
                    sections.contains("multivector[m].offsets") && sections.contains("multivector[m].data")
                        && sections.contains("hnsw[m]"))
                // Deletes, overwrites and vector updates touching immutable and mutable points.
                let deleted = (0..<450).filter { $0 % 11 == 0 }.map { PointID.number(UInt64($0)) }
                try await collection.delete(deleted)
                for id in deleted { reference.rows[id] = nil }
                let rewritten = (0..<450).filter { $0 % 13 == 1 }.map(makePoint)
                try await collection.upsert(rewritten)
                rewritten.forEach(record)
                let newRows = Self.randomRows(&random)
                try await collection.updateVectors([PointVectors(id: 2, vectors: ["m": newRows])])
                reference.rows[2] = distance == .cosine ? Self.normalizedRows(newRows) : newRows
                try await collection.deleteVectors(["m"], for: [3, 160])
                reference.rows[3] = nil
                reference.rows[160] = nil
                reference.rows = reference.rows.compactMapValues { $0 }
                try Self.check(collection, reference, seed: 1, label: "\(distance) before merge")
                // Retrieve returns the rows as stored (normalised under Cosine).
                let stored = try #require(try collection.retrieve([2], withVector: true).first?.vectors?["m"])
                #expect(stored == reference.rows[2]!)
                try collection.optimize()
                try Self.check(collection, reference, seed: 2, label: "\(distance) after merge")
                db.close()
            }
            let db = try Database.open(at: dir)
            let collection = try db.collection(named: "c")
            try Self.check(collection, reference, seed: 3, label: "\(distance) after reopen")
            try collection.flush()
            try collection.optimize()
            try Self.check(collection, reference, seed: 4, label: "\(distance) after reopen and merge")
            #expect(collection.verify().isEmpty)
            db.close()
        }
    }

    @Test func queryAPIWithMultivectors() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config(.dot))
            var random = SeededGenerator.printing(seed: 9)
            var reference = Reference(distance: .dot)
            var points: [PointStruct] = []
            for i in 0..<200 {
                let rows = Self.randomRows(&random)
                points.append(
                    PointStruct(
                        id: .number(UInt64(i)), vectors: ["m": rows, "d": random.vector(4)],
                        payload: ["g": .int(Int64(i % 3))]))
                reference.rows[.number(UInt64(i))] = rows
                reference.group[.number(UInt64(i))] = Int64(i % 3)
            }
            try await collection.upsert(Array(points[..<120]))
            try collection.flush()
            try await collection.upsert(Array(points[120...]))
            let rows = [random.vector(Self.dim), random.vector(Self.dim)]
            let query = rows.flatMap { $0 }
            // nearest with rows, exact.
            let nearest = try collection.query(
                QueryRequest(query: .nearest(.multi(rows)), using: "m", params: SearchParams(exact: true), limit: 7))
            #expect(nearest.map(\.id) == reference.top(query, limit: 7).map(\.id))
            // A stored point's multivector as the query (it is excluded from the results, as in Qdrant).
            let byID = try collection.query(
                QueryRequest(query: .nearest(.point(5)), using: "m", params: SearchParams(exact: true), limit: 5))
            #expect(
                byID.map(\.id)
                    == reference.top(reference.rows[5]!, limit: 6).map(\.id).filter { $0 != 5 }.prefix(5).map { $0 })
            // Prefetch by the dense vector, rescored by max_sim over the candidates.
            let dense = random.vector(4)
            let prefetched = try collection.search(dense, using: "d", limit: 50, params: SearchParams(exact: true))
            let rescored = try collection.query(
                QueryRequest(
                    prefetch: [
                        Prefetch(
                            query: .nearest(.dense(dense)), using: "d", params: SearchParams(exact: true), limit: 50)
                    ],
                    query: .nearest(.multi(rows)), using: "m", limit: 10))
            var candidates = Reference(distance: .dot)
            for hit in prefetched { candidates.rows[hit.id] = reference.rows[hit.id] }
            #expect(rescored.map(\.id) == candidates.top(query, limit: 10).map(\.id))
            #expect(zip(rescored, candidates.top(query, limit: 10)).allSatisfy { Self.close($0.score, $1.score) })
            // A single dense row is a one-row multivector query.
            let single = try collection.query(
                QueryRequest(query: .nearest(.dense(rows[0])), using: "m", params: SearchParams(exact: true), limit: 3))
            #expect(single.map(\.id) == reference.top(rows[0], limit: 3).map(\.id))
            // recommend (best_score, sum_scores), discover and context compare by
            // Qdrant's raw max_sim (the example's rows as the query), as Qdrant Edge does.
            func raw(_ example: [Float], _ id: PointID) -> Float {
                Self.referenceMaxSim(example, reference.rows[id]!, .dot)
            }
            func fastSigmoid(_ x: Float) -> Float { x / (1 + abs(x)) }
            func scaled(_ x: Float) -> Float { 0.5 * (fastSigmoid(x) + 1) }
            let positive = reference.rows[.number(11)]!, negative = reference.rows[.number(12)]!,
                target = reference.rows[.number(13)]!
            func expectObjective(_ kind: QueryKind, _ label: String, _ formula: (PointID) -> Float) throws {
                for prefetched in [false, true] {
                    let request = QueryRequest(
                        prefetch: prefetched
                            ? [
                                Prefetch(
                                    query: .nearest(.dense(dense)), using: "d", params: SearchParams(exact: true),
                                    limit: 60)
                            ] : [],
                        query: kind, using: "m", limit: 8)
                    let found = try collection.query(request)
                    let pool = prefetched ? prefetchedIDs(60) : Array(reference.rows.keys)
                    let examples: Set<PointID> = [11, 12, 13]
                    var scored: [(id: PointID, score: Float)] = []
                    for id in pool where !examples.contains(id) { scored.append((id: id, score: formula(id))) }
                    scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
                    let expected = Array(scored.prefix(8))
                    #expect(found.map(\.id) == expected.map { $0.id }, "\(label), prefetched \(prefetched)")
                    #expect(
                        zip(found, expected).allSatisfy { Self.close($0.score, $1.score) },
                        "\(label) scores, prefetched \(prefetched)")
                }
            }
            // The prefetch leaves out the examples too (Qdrant's exclude_referenced_ids).
            func prefetchedIDs(_ limit: Int) -> [PointID] {
                let ranked =
                    (try? collection.search(dense, using: "d", limit: limit + 3, params: SearchParams(exact: true)).map(
                        \.id)) ?? []
                return Array(ranked.filter { ![11, 12, 13].contains($0) }.prefix(limit))
            }
            try expectObjective(
                .recommend(positive: [.point(11)], negative: [.point(12)], strategy: .sumScores), "sum_scores"
            ) {
                raw(positive, $0) - raw(negative, $0)
            }
            try expectObjective(
                .recommend(positive: [.point(11)], negative: [.point(12)], strategy: .bestScore), "best_score"
            ) {
                let p = raw(positive, $0), n = raw(negative, $0)
                return p > n ? scaled(p) : -scaled(n)
            }
            try expectObjective(
                .discover(target: .point(13), context: [ContextPair(positive: .point(11), negative: .point(12))]),
                "discover"
            ) {
                let p = raw(positive, $0), n = raw(negative, $0)
                return Float(p > n ? 1 : (p < n ? -1 : 0)) + scaled(raw(target, $0))
            }
            try expectObjective(.context([ContextPair(positive: .point(11), negative: .point(12))]), "context") {
                fastSigmoid(min(raw(positive, $0) - raw(negative, $0) - Float.ulpOfOne, 0))
            }
            // average_vector on a multivector (Qdrant, qdrant-client's local mode):
            // a nearest query with every positive row and every negated negative row.
            let averaged = try collection.query(
                QueryRequest(
                    query: .recommend(positive: [.point(11)], negative: [.point(12)]), using: "m",
                    params: SearchParams(exact: true), limit: 5))
            let combined = positive + negative.map { -$0 }
            #expect(
                averaged.map(\.id)
                    == Array(reference.top(combined, limit: 8).map(\.id).filter { ![11, 12].contains($0) }.prefix(5)))
            // MMR on a multivector: candidates compared by raw max_sim (the
            // candidate's rows as the query); diversity 0 keeps relevance order.
            let mmrPool = reference.top(query, limit: 6)
            let plain = try collection.query(
                QueryRequest(
                    query: .nearest(.multi(rows), mmr: MMR(diversity: 0, candidatesLimit: 6)), using: "m",
                    params: SearchParams(exact: true), limit: 4))
            #expect(plain.map(\.id) == Array(mmrPool.prefix(4).map(\.id)))
            let diverse = try collection.query(
                QueryRequest(
                    query: .nearest(.multi(rows), mmr: MMR(diversity: 0.7, candidatesLimit: 6)), using: "m",
                    params: SearchParams(exact: true), limit: 4))
            var pending = mmrPool.map(\.id)
            var chosen = [pending.removeFirst()]
            while chosen.count < 4 {
                func mmrScore(_ id: PointID) -> Float {
                    let relevance = Self.referenceMaxSim(query, reference.rows[id]!, .dot)
                    let redundancy = chosen.map { Self.referenceMaxSim(reference.rows[id]!, reference.rows[$0]!, .dot) }
                        .max()!
                    return 0.3 * relevance - 0.7 * redundancy
                }
                let best = pending.max { mmrScore($0) < mmrScore($1) }!
                pending.removeAll { $0 == best }
                chosen.append(best)
            }
            #expect(diverse.map(\.id) == chosen)
            // A multivector query on a plain vector is refused.
            #expect(throws: StrataError.self) {
                try collection.query(QueryRequest(query: .nearest(.multi([[1, 0, 0, 0]])), using: "d", limit: 3))
            }
            db.close()
        }
    }

    @Test func validationRejectsBadMultivectorsAndChangesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config(.cosine))
            let good = [Float](repeating: 0.5, count: Self.dim)
            let bad: [[Float]] = [
                [],  // no rows
                Array(good.prefix(5)),  // not whole rows
                good + Array(good.prefix(3)),
                good + [Float](repeating: 0, count: Self.dim),  // a zero row under Cosine
                good + [.nan] + Array(good.prefix(Self.dim - 1)),
            ]
            for rows in bad {
                await #expect(throws: StrataError.self) {
                    try await collection.upsert([PointStruct(id: 1, vectors: ["m": rows])])
                }
            }
            #expect(collection.count() == 0)
            try await collection.upsert([PointStruct(id: 1, vectors: ["m": good + good])])
            #expect(throws: StrataError.self) { try collection.search(Array(good.prefix(3)), using: "m") }
            #expect(try collection.search(good, using: "m").map(\.id) == [1])
            db.close()
        }
    }
}
