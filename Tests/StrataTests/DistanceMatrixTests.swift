import Foundation
@testable import Strata
import StrataTestSupport
import Testing

/// `Collection.distanceMatrix` against brute force: with a sample as large
/// as the matching set, every point is sampled, so the matrix is determined.
@Suite struct DistanceMatrixTests {
    static let dim = 4

    @Test(arguments: [Distance.euclid, .cosine, .dot, .manhattan])
    func matchesBruteForce(distance: Distance) async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("m", config: CollectionConfig(size: Self.dim, distance: distance))
            var random = SeededGenerator.printing(seed: 77)
            var stored: [PointID: [Float]] = [:]
            var points: [PointStruct] = []
            for index in 0..<30 {
                var vector = random.vector(Self.dim)
                let id = PointID.number(UInt64(index))
                points.append(PointStruct(id: id, vector: vector, payload: ["even": .bool(index % 2 == 0)]))
                if distance == .cosine {
                    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    vector = vector.map { $0 / norm }
                }
                stored[id] = vector
            }
            try await collection.upsert(points)
            try collection.flush()  // one immutable segment, one (empty) mutable one

            let even = Filter(must: [.field(FieldCondition(key: try PayloadPath("even"), .match(.value(.bool(true)))))])
            let matrix = try collection.distanceMatrix(sample: 100, limit: 4, filter: even)
            let ids = stored.keys.filter { if case .number(let n) = $0 { n % 2 == 0 } else { false } }.sorted()
            #expect(matrix.ids == ids)
            let higherIsBetter = distance.higherIsBetter
            for (row, id) in ids.enumerated() {
                let others: [(id: PointID, score: Float)] = ids.filter { $0 != id }.map { other in
                    (id: other, score: referenceScore(stored[id]!, stored[other]!, distance))
                }
                func better(_ a: (id: PointID, score: Float), _ b: (id: PointID, score: Float)) -> Bool {
                    if a.score != b.score { return higherIsBetter ? a.score > b.score : a.score < b.score }
                    return a.id < b.id
                }
                let expected = others.sorted(by: better).prefix(4)
                #expect(matrix.neighbours[row].map(\.id) == expected.map(\.id))
                for (got, want) in zip(matrix.neighbours[row], expected) { #expect(abs(got.score - want.score) < 1e-4) }
            }

            // A sample smaller than the set: that many distinct matching points.
            let small = try collection.distanceMatrix(sample: 5, limit: 2, filter: even)
            #expect(small.ids.count == 5 && Set(small.ids).count == 5 && small.ids == small.ids.sorted())
            #expect(small.ids.allSatisfy { ids.contains($0) })
            #expect(small.neighbours.allSatisfy { $0.count == 2 })
            #expect(
                zip(small.ids, small.neighbours).allSatisfy { id, row in
                    row.allSatisfy { $0.id != id && small.ids.contains($0.id) }
                })
            // Fewer than two points: empty.
            let one = Filter(must: [.hasID([3])])
            #expect(try collection.distanceMatrix(sample: 10, limit: 3, filter: one) == DistanceMatrix())
            #expect(throws: StrataError.self) { try collection.distanceMatrix(using: "nope") }
            db.close()
        }
    }
    /// Multivectors (max_sim, Dot) and sparse vectors (dot product over shared
    /// indices; points sharing none score 0 and are not neighbours) search
    /// among the sample point by point.
    @Test func multivectorsAndSparseVectorsMatchBruteForce() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let config = CollectionConfig(
                vectors: ["m": VectorParams(size: 2, distance: .dot, multivectorConfig: MultiVectorConfig())],
                sparseVectors: ["s": SparseVectorParams()])
            let collection = try db.createCollection("m", config: config)
            var random = SeededGenerator.printing(seed: 5)
            var rows: [PointID: [[Float]]] = [:]
            var sparse: [PointID: [UInt32: Float]] = [:]
            var points: [PointStruct] = []
            for index in 0..<12 {
                let id = PointID.number(UInt64(index))
                let count = 1 + random.int(3)
                rows[id] = (0..<count).map { _ in random.vector(2) }
                let indices = Array(Set((0..<3).map { _ in UInt32(random.int(6)) })).sorted()
                let values = indices.map { _ in Float(1 + random.int(9)) / 4 }
                sparse[id] = Dictionary(uniqueKeysWithValues: zip(indices, values))
                points.append(
                    PointStruct(
                        id: id, vectors: ["m": rows[id]!.flatMap { $0 }],
                        sparseVectors: ["s": SparseVector(indices: indices, values: values)]))
            }
            try await collection.upsert(points)
            let ids = rows.keys.sorted()
            func check(_ using: String, _ score: (PointID, PointID) -> Float?) throws {
                let matrix = try collection.distanceMatrix(sample: 50, limit: 3, using: using)
                #expect(matrix.ids == ids)
                for (row, id) in ids.enumerated() {
                    let expected: [(id: PointID, score: Float)] = ids.filter { $0 != id }
                        .compactMap { other in score(id, other).map { (id: other, score: $0) } }
                        .sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
                    let top = Array(expected.prefix(3))
                    #expect(matrix.neighbours[row].map(\.id) == top.map(\.id), "\(using) \(id)")
                    for (got, want) in zip(matrix.neighbours[row], top) { #expect(abs(got.score - want.score) < 1e-4) }
                }
            }
            try check("m") { query, stored in
                rows[query]!.reduce(Float(0)) { sum, q in
                    sum + rows[stored]!.map { zip(q, $0).reduce(0) { $0 + $1.0 * $1.1 } }.max()!
                }
            }
            try check("s") { query, stored in
                let dot = sparse[query]!.reduce(Float(0)) { $0 + $1.value * (sparse[stored]![$1.key] ?? 0) }
                return dot == 0 ? nil : dot
            }
            db.close()
        }
    }
}
