import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// recommend (average_vector, best_score, sum_scores), discover, context and
/// MMR with `using` a sparse vector, against a reference written here from
/// Qdrant's definitions (docs/query.md): vectors as dictionaries, dot
/// products summed in ascending index order (so scores agree bit for bit),
/// IDF from `ln((N − df + 0.5) / (df + 0.5) + 1)`. Checked on a mutable-only
/// collection, then with immutable segments, after deletes, sparse vector
/// updates and removals, and after a merge; with and without filters and
/// prefetches.
@Suite struct SparseQueryTests {
    static let config = CollectionConfig(
        vectors: ["d": VectorParams(size: 2, distance: .dot)],
        optimizers: OptimizersConfig(defaultSegmentNumber: 8, indexingThresholdKB: 1_000_000, flushIntervalSec: 3600),
        sparseVectors: ["s": SparseVectorParams(), "t": SparseVectorParams(modifier: .idf)])

    typealias Terms = [UInt32: Float]

    /// The collection as the reference sees it.
    struct Reference {
        var sparse: [PointID: [String: Terms]] = [:]
        var group: [PointID: Int64] = [:]

        func holders(_ name: String) -> [Terms] { sparse.values.compactMap { $0[name] } }

        /// `vector` with each value times its term's IDF over the live holders of `name` (for "t").
        func weighted(_ vector: Terms, _ name: String) -> Terms {
            guard name == "t" else { return vector }
            let holders = holders(name)
            let n = Float(holders.count)
            var result = vector
            for (term, value) in vector {
                let df = Float(holders.filter { $0[term] != nil }.count)
                result[term] = value * log((n - df + 0.5) / (df + 0.5) + 1)
            }
            return result
        }

        static func dot(_ a: Terms, _ b: Terms) -> Float {
            var sum: Float = 0
            for term in a.keys.sorted() { if let other = b[term] { sum += a[term]! * other } }
            return sum
        }

        /// (id, vector) of the points with `name` that pass the stage: group, not excluded, among `within`.
        func candidates(
            _ name: String, group: Int64?, excluding: Set<PointID>, within: Set<PointID>? = nil
        ) -> [(PointID, Terms)] {
            sparse.compactMap { id, vectors in
                guard let vector = vectors[name], !excluding.contains(id) else { return nil }
                if let group, self.group[id] != group { return nil }
                if let within, !within.contains(id) { return nil }
                return (id, vector)
            }
        }

        static func ranked(_ hits: [(id: PointID, score: Float)], limit: Int) -> [(id: PointID, score: Float)] {
            Array(hits.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(limit))
        }

        func nearest(
            _ query: Terms, _ name: String, group: Int64?, excluding: Set<PointID>, within: Set<PointID>? = nil,
            limit: Int
        ) -> [(id: PointID, score: Float)] {
            let q = weighted(query, name)
            let hits = candidates(name, group: group, excluding: excluding, within: within)
                .map { (id: $0.0, score: Self.dot(q, $0.1)) }.filter { $0.score != 0 }
            return Self.ranked(hits, limit: limit)
        }

        func custom(
            _ name: String, group: Int64?, excluding: Set<PointID>, within: Set<PointID>? = nil, limit: Int,
            score: (Terms) -> Float
        ) -> [(id: PointID, score: Float)] {
            Self.ranked(
                candidates(name, group: group, excluding: excluding, within: within).map {
                    (id: $0.0, score: score($0.1))
                },
                limit: limit)
        }
    }

    static func sigmoid(_ x: Float) -> Float { x / (1 + abs(x)) }
    static func scaledSigmoid(_ x: Float) -> Float { 0.5 * (sigmoid(x) + 1) }

    static func terms(_ vector: SparseVector) -> Terms {
        Dictionary(uniqueKeysWithValues: zip(vector.indices, vector.values))
    }

    /// Distinct-ish values so MMR and ranking rarely tie.
    static func randomSparse(_ rng: inout SeededGenerator, vocabulary: UInt64 = 40) -> SparseVector {
        var chosen: Terms = [:]
        for _ in 0..<Int(rng.next() % 6 + 1) {
            let term = UInt32(min(rng.next() % vocabulary, rng.next() % vocabulary))
            chosen[term] = Float(rng.next() % 1000 + 1) / 256
        }
        let indices = chosen.keys.shuffled(using: &rng)
        return SparseVector(indices: indices, values: indices.map { chosen[$0]! })
    }

    static func groupFilter(_ group: Int64?) throws -> Filter? {
        try group.map {
            Filter(must: [.field(FieldCondition(key: try PayloadPath("g"), .match(.value(.integer($0)))))])
        }
    }

    static func expectSame(_ found: [ScoredPoint], _ expected: [(id: PointID, score: Float)], _ what: String) {
        #expect(found.map(\.id) == expected.map(\.id), "\(what): ids")
        #expect(found.map(\.score) == expected.map(\.score), "\(what): scores")
    }

    /// Every query kind on both sparse vectors, with and without a filter, against the reference.
    static func checkAll(_ collection: Collection, _ reference: Reference, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        // Example points: live points holding both sparse vectors.
        let usable = reference.sparse.filter { $0.value["s"] != nil && $0.value["t"] != nil }.keys.sorted()
        try #require(usable.count >= 6)
        for round in 0..<4 {
            let ids = (0..<3).map { _ in usable[Int(rng.next() % UInt64(usable.count))] }
            let (p1, n1, c1) = (ids[0], ids[1], ids[2])
            let v1 = randomSparse(&rng), v2 = randomSparse(&rng), v3 = randomSparse(&rng)
            for name in ["s", "t"] {
                for group in [nil, Int64(round % 3)] {
                    let filter = try groupFilter(group)
                    let what = "seed \(seed) round \(round) \(name) group \(group.map(String.init) ?? "-")"
                    func run(
                        _ query: QueryKind, limit: Int = 7, threshold: Float? = nil, prefetch: [Prefetch] = []
                    ) throws -> [ScoredPoint] {
                        try collection.query(
                            QueryRequest(
                                prefetch: prefetch, query: query, using: name, filter: filter,
                                scoreThreshold: threshold, limit: limit))
                    }
                    func stored(_ id: PointID) -> Terms { reference.sparse[id]![name]! }
                    func w(_ v: Terms) -> Terms { reference.weighted(v, name) }

                    // average_vector: 2·avg(p1, v1) − avg(n1, v2), then nearest.
                    var positive: Terms = [:], negative: Terms = [:]
                    for vector in [stored(p1), terms(v1)] { for (k, v) in vector { positive[k, default: 0] += v } }
                    for (k, v) in positive { positive[k] = v / 2 }
                    for vector in [stored(n1), terms(v2)] { for (k, v) in vector { negative[k, default: 0] += v } }
                    for (k, v) in negative { negative[k] = v / 2 }
                    var average: Terms = [:]
                    for k in Set(positive.keys).union(negative.keys) {
                        let p = positive[k] ?? 0
                        average[k] = p + p - (negative[k] ?? 0)
                    }
                    let referenced: Set<PointID> = [p1, n1]
                    expectSame(
                        try run(.recommend(positive: [.point(p1), .sparse(v1)], negative: [.point(n1), .sparse(v2)])),
                        reference.nearest(average, name, group: group, excluding: referenced, limit: 7),
                        "\(what) average")

                    // best_score and sum_scores over IDF-weighted examples.
                    let positives = [w(stored(p1)), w(terms(v1))], negatives = [w(stored(n1))]
                    let best = reference.custom(name, group: group, excluding: referenced, limit: 9) { candidate in
                        let maxP = positives.map { Reference.dot($0, candidate) }.max()!
                        let maxN = negatives.map { Reference.dot($0, candidate) }.max()!
                        return maxP > maxN ? scaledSigmoid(maxP) : -scaledSigmoid(maxN)
                    }
                    expectSame(
                        try run(
                            .recommend(
                                positive: [.point(p1), .sparse(v1)], negative: [.point(n1)], strategy: .bestScore),
                            limit: 9),
                        best, "\(what) best_score")
                    let sum = reference.custom(name, group: group, excluding: referenced, limit: 9) { candidate in
                        let p = Reference.dot(positives[0], candidate) + Reference.dot(positives[1], candidate)
                        return p - Reference.dot(negatives[0], candidate)
                    }
                    expectSame(
                        try run(
                            .recommend(
                                positive: [.point(p1), .sparse(v1)], negative: [.point(n1)], strategy: .sumScores),
                            limit: 9),
                        sum, "\(what) sum_scores")
                    // Only negatives: best_score ranks by distance from them.
                    let onlyNegative = reference.custom(name, group: group, excluding: [n1], limit: 5) { candidate in
                        -scaledSigmoid(Reference.dot(negatives[0], candidate))
                    }
                    expectSame(
                        try run(.recommend(positive: [], negative: [.point(n1)], strategy: .bestScore), limit: 5),
                        onlyNegative, "\(what) best_score negatives only")

                    // discover: target v3, pairs (p1, n1) and (v1, c1).
                    let pairs = [(w(stored(p1)), w(stored(n1))), (w(terms(v1)), w(stored(c1)))]
                    let target = w(terms(v3))
                    let discoverReferenced: Set<PointID> = [p1, n1, c1]
                    let discover = reference.custom(name, group: group, excluding: discoverReferenced, limit: 8) {
                        candidate in
                        var rank = 0
                        for (p, n) in pairs {
                            let ps = Reference.dot(p, candidate), ns = Reference.dot(n, candidate)
                            rank += ps > ns ? 1 : (ps < ns ? -1 : 0)
                        }
                        return Float(rank) + scaledSigmoid(Reference.dot(target, candidate))
                    }
                    let contextPairs = [
                        ContextPair(positive: .point(p1), negative: .point(n1)),
                        ContextPair(positive: .sparse(v1), negative: .point(c1)),
                    ]
                    expectSame(
                        try run(.discover(target: .sparse(v3), context: contextPairs), limit: 8), discover,
                        "\(what) discover")

                    // context: Σ fastSigmoid(min(p − n − ε, 0)).
                    let context = reference.custom(name, group: group, excluding: discoverReferenced, limit: 8) {
                        candidate in
                        var total: Float = 0
                        for (p, n) in pairs {
                            total += sigmoid(
                                min(Reference.dot(p, candidate) - Reference.dot(n, candidate) - Float.ulpOfOne, 0))
                        }
                        return total
                    }
                    expectSame(try run(.context(contextPairs), limit: 8), context, "\(what) context")
                    // score_threshold keeps the points scoring strictly better (Qdrant).
                    if let cut = context.dropFirst(3).first?.score {
                        let all = reference.custom(name, group: group, excluding: discoverReferenced, limit: 8) {
                            candidate in
                            var total: Float = 0
                            for (p, n) in pairs {
                                total += sigmoid(
                                    min(Reference.dot(p, candidate) - Reference.dot(n, candidate) - Float.ulpOfOne, 0))
                            }
                            return total
                        }.filter { $0.score > cut }
                        expectSame(
                            try run(.context(contextPairs), limit: 8, threshold: cut), all, "\(what) context threshold")
                    }

                    // best_score rescoring the points a sparse prefetch on the other vector found.
                    let other = name == "s" ? "t" : "s"
                    let prefetched = reference.nearest(terms(v2), other, group: group, excluding: referenced, limit: 30)
                    let rescored = reference.custom(
                        name, group: group, excluding: referenced, within: Set(prefetched.map(\.id)),
                        limit: 6
                    ) { candidate in
                        let maxP = positives.map { Reference.dot($0, candidate) }.max()!
                        let maxN = negatives.map { Reference.dot($0, candidate) }.max()!
                        return maxP > maxN ? scaledSigmoid(maxP) : -scaledSigmoid(maxN)
                    }
                    expectSame(
                        try run(
                            .recommend(
                                positive: [.point(p1), .sparse(v1)], negative: [.point(n1)], strategy: .bestScore),
                            limit: 6,
                            prefetch: [Prefetch(query: .nearest(.sparse(v2)), using: other, limit: 30)]),
                        rescored, "\(what) best_score over prefetch")

                    // MMR: candidates by (IDF-weighted) nearest, relevance against the raw query.
                    for viaPrefetch in [false, true] {
                        let candidateLimit = 15, lambda: Float = 0.4
                        let within: Set<PointID>? =
                            viaPrefetch
                            ? Set(reference.nearest(terms(v2), other, group: group, excluding: [], limit: 40).map(\.id))
                            : nil
                        let nearest = reference.nearest(
                            terms(v3), name, group: group, excluding: [], within: within, limit: candidateLimit)
                        let expected = mmrReference(
                            nearest.map { (id: $0.id, score: $0.score, vector: stored($0.id)) },
                            query: terms(v3), lambda: lambda, limit: 6)
                        let found = try run(
                            .nearest(.sparse(v3), mmr: MMR(diversity: 1 - lambda, candidatesLimit: candidateLimit)),
                            limit: 6,
                            prefetch: viaPrefetch
                                ? [Prefetch(query: .nearest(.sparse(v2)), using: other, limit: 40)] : [])
                        expectSame(found, expected, "\(what) mmr\(viaPrefetch ? " over prefetch" : "")")
                    }
                }
            }
        }
    }

    /// Qdrant's MMR selection written out: the most relevant first, then the
    /// best λ·rel − (1 − λ)·max sim; the remaining set shrinks by swap-remove
    /// and ties go to the last maximum met (Rust's `max_by_key`).
    static func mmrReference(
        _ candidates: [(id: PointID, score: Float, vector: Terms)], query: Terms, lambda: Float, limit: Int
    )
        -> [(id: PointID, score: Float)]
    {
        guard candidates.count >= 2 else { return candidates.map { ($0.id, $0.score) } }
        let relevance = candidates.map { Reference.dot(query, $0.vector) }
        var remaining = Array(candidates.indices)
        var selected: [Int] = []
        func remove(_ index: Int) {
            let at = remaining.firstIndex(of: index)!
            remaining.swapAt(at, remaining.count - 1)
            remaining.removeLast()
        }
        var first = remaining[0]
        for i in remaining where relevance[i] >= relevance[first] { first = i }
        selected.append(first)
        remove(first)
        while selected.count < limit, !remaining.isEmpty {
            var best: (index: Int, score: Float)?
            for i in remaining {
                let maxSimilarity = selected.map { Reference.dot(candidates[i].vector, candidates[$0].vector) }.max()!
                let score = lambda * relevance[i] - (1 - lambda) * maxSimilarity
                if best == nil || score >= best!.score { best = (i, score) }
            }
            selected.append(best!.index)
            remove(best!.index)
        }
        return selected.map { (candidates[$0].id, candidates[$0].score) }
    }

    @Test func customObjectivesAndMMREqualReferenceAcrossSegments() async throws {
        try await withTemporaryDirectory { dir in
            var rng = SeededGenerator(seed: 20261126)
            var reference = Reference()
            func makePoint(_ i: Int) -> PointStruct {
                var sparse: [String: SparseVector] = [:]
                if rng.next() % 8 != 0 { sparse["s"] = Self.randomSparse(&rng) }
                if rng.next() % 8 != 0 { sparse["t"] = Self.randomSparse(&rng) }
                return PointStruct(
                    id: .number(UInt64(i)), vectors: ["d": [1, 0]], payload: ["g": .int(Int64(i % 3))],
                    sparseVectors: sparse)
            }
            func record(_ point: PointStruct) {
                reference.sparse[point.id] = point.sparseVectors.mapValues(Self.terms)
                reference.group[point.id] = Int64(Int(point.id.description)! % 3)
            }
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            let first = (0..<150).map(makePoint)
            try await collection.upsert(first)
            first.forEach(record)
            try Self.checkAll(collection, reference, seed: 1)  // mutable segment only

            try collection.flush()
            let second = (150..<300).map(makePoint)
            try await collection.upsert(second)
            second.forEach(record)
            #expect(collection.storageInfo.segments.count == 1)
            try Self.checkAll(collection, reference, seed: 2)  // immutable + mutable

            // Deletes, sparse vector updates and removals in both segments.
            let deleted = stride(from: 3, to: 300, by: 11).map { PointID.number(UInt64($0)) }
            try await collection.delete(deleted)
            for id in deleted { reference.sparse[id] = nil }
            let updated = stride(from: 5, to: 300, by: 13).map { PointID.number(UInt64($0)) }.filter {
                !deleted.contains($0)
            }
            var updates: [PointVectors] = []
            for id in updated {
                let vector = Self.randomSparse(&rng)
                updates.append(PointVectors(id: id, vectors: [:], sparseVectors: ["t": vector]))
                reference.sparse[id]!["t"] = Self.terms(vector)
            }
            try await collection.updateVectors(updates)
            let stripped = stride(from: 7, to: 300, by: 17).map { PointID.number(UInt64($0)) }.filter {
                !deleted.contains($0)
            }
            try await collection.deleteVectors(["s"], for: stripped)
            for id in stripped { reference.sparse[id]!["s"] = nil }
            try Self.checkAll(collection, reference, seed: 3)

            try collection.flush()
            try collection.optimize()  // merged immutable segments
            try Self.checkAll(collection, reference, seed: 4)
            db.close()
        }
    }

    @Test func averageVectorCombinesExamplesIndexWise() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            try await collection.upsert([
                PointStruct(
                    id: 1, vectors: ["d": [1, 0]], sparseVectors: ["s": SparseVector(indices: [1, 2], values: [1, 4])]),
                PointStruct(
                    id: 2, vectors: ["d": [1, 0]], sparseVectors: ["s": SparseVector(indices: [2, 3], values: [2, 2])]),
                PointStruct(
                    id: 3, vectors: ["d": [1, 0]], sparseVectors: ["s": SparseVector(indices: [3], values: [1])]),
                PointStruct(
                    id: 4, vectors: ["d": [1, 0]],
                    sparseVectors: ["s": SparseVector(indices: [1, 3, 9], values: [1, 1, 1])]),
            ])
            // avg(1, 2) = {1: 0.5, 2: 3, 3: 1}; minus avg(3) = {3: 1}: 2·avg − neg = {1: 1, 2: 6, 3: 1}.
            let hits = try collection.query(
                QueryRequest(
                    query: .recommend(positive: [.point(1), .point(2)], negative: [.point(3)]), using: "s", limit: 5))
            #expect(hits.map(\.id) == [4])
            #expect(hits.map(\.score) == [2])
            // With a vector example and without negatives: avg({2: 2}, point 3 {3: 1}) = {2: 1, 3: 0.5}.
            let plain = try collection.query(
                QueryRequest(
                    query: .recommend(
                        positive: [.sparse(SparseVector(indices: [2], values: [2])), .point(3)], negative: []),
                    using: "s", limit: 5))
            #expect(plain.map(\.id) == [1, 2, 4])
            #expect(plain.map(\.score) == [4, 3, 0.5])
            db.close()
        }
    }

    @Test func badSparseQueriesAreRefusedWithClearErrors() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            try await collection.upsert([
                PointStruct(
                    id: 1, vectors: ["d": [1, 0]], sparseVectors: ["s": SparseVector(indices: [1], values: [1])]),
                PointStruct(id: 2, vectors: ["d": [1, 0]]),
            ])
            func error(_ query: QueryKind, using: String = "s") -> StrataError? {
                do {
                    _ = try collection.query(QueryRequest(query: query, using: using))
                    return nil
                } catch let error as StrataError {
                    return error
                } catch {
                    return nil
                }
            }
            let average = error(.recommend(positive: [], negative: [.point(1)]))
            #expect(average?.code == .invalidArgument)
            #expect(average?.message.contains("Positive vectors should not be empty") == true)
            let none = error(.recommend(positive: [], negative: [], strategy: .bestScore))
            #expect(none?.code == .invalidArgument)
            let dense = error(.context([ContextPair(positive: .dense([1, 0]), negative: .point(1))]))
            #expect(dense?.code == .invalidArgument)
            #expect(dense?.message.contains("is sparse") == true)
            let missing = error(.discover(target: .point(2), context: []))
            #expect(missing?.code == .notFound)
            #expect(missing?.message.contains("Vector with name \"s\" for point 2 not found") == true)
            let unknown = error(.recommend(positive: [.point(99)], negative: [], strategy: .sumScores))
            #expect(unknown?.code == .notFound)
            let duplicate = error(
                .recommend(positive: [.sparse(SparseVector(indices: [3, 3], values: [1, 1]))], negative: []))
            #expect(duplicate?.code == .invalidArgument)
            #expect(duplicate?.message.contains("unique") == true)
            let diversity = error(.nearest(.sparse(SparseVector(indices: [1], values: [1])), mmr: MMR(diversity: 2)))
            #expect(diversity?.code == .invalidArgument)
            // A point id looked up in a dense vector for a sparse stage.
            let lookup = try? collection.query(
                QueryRequest(
                    query: .nearest(.point(1)), using: "s",
                    lookupFrom: LookupLocation(collection: "c", vector: "d")))
            #expect(lookup == nil)
            db.close()
        }
    }
}
