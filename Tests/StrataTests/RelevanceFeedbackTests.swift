import Foundation
@testable import Strata
import StrataTestSupport
import Testing

/// Relevance feedback queries (Qdrant's naive strategy) against the formula
/// computed here in Double: `a·sim(target) + Σ (sᵢ − sⱼ)^b · c · (sim(eᵢ) − sim(eⱼ))`
/// over the ordered pairs with sᵢ > sⱼ, `sim` the raw similarity (dot
/// product; −Σ(x−y)² for Euclid), examples normalised under Cosine.
@Suite struct RelevanceFeedbackTests {
    static let dim = 4

    @Test(arguments: [Distance.dot, .euclid, .cosine])
    func scoresMatchTheFormula(distance: Distance) async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("r", config: CollectionConfig(size: Self.dim, distance: distance))
            var random = SeededGenerator.printing(seed: 31)
            var stored: [PointID: [Double]] = [:]
            var points: [PointStruct] = []
            for index in 0..<40 {
                let vector = random.vector(Self.dim)
                points.append(PointStruct(id: .number(UInt64(index)), vector: vector))
                stored[.number(UInt64(index))] = Self.prepared(vector, distance)
            }
            try await collection.upsert(points)
            try collection.flush()

            let target = random.vector(Self.dim)
            let given = random.vector(Self.dim)
            let feedback = [
                FeedbackItem(example: .point(3), score: 0.9), FeedbackItem(example: .dense(given), score: 0.2),
                FeedbackItem(example: .point(7), score: 0.5), FeedbackItem(example: .point(11), score: 0.5),
            ]
            let (a, b, c): (Float, Float, Float) = (0.8, 1.5, 0.6)
            let examples: [(vector: [Double], score: Double)] = [
                (stored[3]!, 0.9), (Self.prepared(given, distance), 0.2), (stored[7]!, 0.5), (stored[11]!, 0.5),
            ]
            let preparedTarget = Self.prepared(target, distance)
            func sim(_ x: [Double], _ y: [Double]) -> Double {
                distance == .euclid
                    ? -zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                    : zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
            }
            func expected(_ point: [Double]) -> Double {
                var score = Double(a) * sim(preparedTarget, point)
                for positive in examples {
                    for negative in examples where positive.score > negative.score {
                        let weight = pow(Double(Float(positive.score) - Float(negative.score)), Double(b)) * Double(c)
                        score += weight * (sim(positive.vector, point) - sim(negative.vector, point))
                    }
                }
                return score
            }
            let query = QueryKind.relevanceFeedback(
                target: .dense(target), feedback: feedback, strategy: .naive(a: a, b: b, c: c))
            let hits = try collection.query(QueryRequest(query: query, limit: 100))
            // The examples given by id are left out.
            let want = stored.filter { ![3, 7, 11].contains($0.key) }.map { (id: $0.key, score: expected($0.value)) }
                .sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            #expect(hits.map(\.id) == want.map(\.id))
            for (hit, reference) in zip(hits, want) {
                #expect(abs(Double(hit.score) - reference.score) <= 1e-4 * max(1, abs(reference.score)))
            }
            // Over prefetches: the same scores for the prefetched points.
            let prefetch = QueryStage(query: .nearest(.dense(target)), params: SearchParams(exact: true), limit: 10)
            let rescored = try collection.query(QueryRequest(prefetch: [prefetch], query: query, limit: 100))
            #expect(rescored.count <= 10 && !rescored.isEmpty)
            for hit in rescored {
                let reference = expected(stored[hit.id]!)
                #expect(abs(Double(hit.score) - reference) <= 1e-4 * max(1, abs(reference)))
            }
            db.close()
        }
    }

    @Test func validation() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("r", config: CollectionConfig(size: 2, distance: .dot))
            try await collection.upsert([PointStruct(id: 1, vector: [1, 0])])
            let empty = #expect(throws: StrataError.self) {
                try collection.query(
                    QueryRequest(
                        query: .relevanceFeedback(
                            target: .dense([1, 0]), feedback: [], strategy: .naive(a: 1, b: 1, c: 1))))
            }
            #expect(empty?.message == "feedback elements must be non-empty")
            #expect(throws: StrataError.self) {
                try collection.query(
                    QueryRequest(
                        query: .relevanceFeedback(
                            target: .dense([1, 0]), feedback: [FeedbackItem(example: .dense([0, 1]), score: 1)],
                            strategy: .naive(a: 1, b: -1, c: 1))))
            }
            db.close()
        }
    }

    /// A vector as stored and as an example is used: normalised under Cosine.
    static func prepared(_ vector: [Float], _ distance: Distance) -> [Double] {
        let values = vector.map(Double.init)
        guard distance == .cosine else { return values }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / norm }
    }
}
