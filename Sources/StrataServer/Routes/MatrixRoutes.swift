import Foundation
import Hummingbird
import Strata

/// The distance matrix endpoints (`points/search/matrix/pairs` and
/// `…/offsets`), answered by `Collection.distanceMatrix`.
extension StrataHTTPServer {
    func addMatrixRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/points/search/matrix/pairs") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchMatrixInput.self, from: request, context)
            return try await self.answer(context) { MatrixPairsOutput(try input.matrix(of: collection)) }
        }

        router.post("/collections/{collection_name}/points/search/matrix/offsets") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchMatrixInput.self, from: request, context)
            return try await self.answer(context) { MatrixOffsetsOutput(try input.matrix(of: collection)) }
        }
    }
}

/// Qdrant's `SearchMatrixRequest`.
struct SearchMatrixInput: Decodable, Sendable {
    var sample: Int?
    var limit: Int?
    var filter: FilterInput?
    var using: String?
    var shard_key: JSONValue?

    /// The matrix (checked as Qdrant's validation does: 422 for `sample` < 2 or `limit` < 1).
    func matrix(of collection: Strata.Collection) throws -> DistanceMatrix {
        try requireAbsent(shard_key, "shard_key")
        let sample = self.sample ?? 10
        let limit = self.limit ?? 3
        guard sample >= 2 else { throw APIError.validation("sample: value \(sample) invalid, must be 2 or larger") }
        try requirePositiveLimit(limit)
        do {
            return try collection.distanceMatrix(
                sample: sample, limit: limit, filter: filter.engine, using: using ?? CollectionConfig.defaultVectorName
            )
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }
}

/// Qdrant's `SearchMatrixPairsResponse`: `{"pairs": [{"a", "b", "score"}]}`.
struct MatrixPairsOutput: Encodable {
    struct Pair: Encodable {
        var a: PointID
        var b: PointID
        var score: Float
    }
    var pairs: [Pair]

    init(_ matrix: DistanceMatrix) {
        pairs = zip(matrix.ids, matrix.neighbours).flatMap { a, row in
            row.map { Pair(a: a, b: $0.id, score: $0.score) }
        }
    }
}

/// Qdrant's `SearchMatrixOffsetsResponse`: the ids, and per pair the row
/// (the sampled point's position in `ids`), the column (its neighbour's)
/// and the score.
struct MatrixOffsetsOutput: Encodable {
    var offsets_row: [Int] = []
    var offsets_col: [Int] = []
    var scores: [Float] = []
    var ids: [PointID]

    init(_ matrix: DistanceMatrix) {
        ids = matrix.ids
        let position = Dictionary(uniqueKeysWithValues: matrix.ids.enumerated().map { ($1, $0) })
        for (row, neighbours) in matrix.neighbours.enumerated() {
            for point in neighbours {
                guard let column = position[point.id] else { continue }
                offsets_row.append(row)
                offsets_col.append(column)
                scores.append(point.score)
            }
        }
    }
}
