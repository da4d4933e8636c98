// The distance matrix API (Qdrant's `points/search/matrix/pairs` and
// `…/offsets`): a random sample of points and, for each, its nearest
// neighbours among the sample.

/// The sampled points, sorted by id, and for each (same index) its nearest
/// other sampled points, best first (equal scores by id), scored as a nearest
/// search scores.
public struct DistanceMatrix: Sendable, Equatable {
    /// The sampled points' ids, in ascending order; empty when fewer than two
    /// points were sampled.
    public var ids: [PointID]
    /// For the point at each index of `ids`, its nearest other sampled
    /// points, at most the `limit` asked, best first.
    public var neighbours: [[ScoredPoint]]

    /// Creates a matrix of `ids` and their `neighbours` (the same count);
    /// with no arguments, the empty matrix.
    public init(ids: [PointID] = [], neighbours: [[ScoredPoint]] = []) {
        self.ids = ids
        self.neighbours = neighbours
    }
}

extension Collection {
    /// Samples up to `sample` points at random among those matching `filter`
    /// that have vector `using` (dense, multi or sparse), then finds, for
    /// each sampled point, its `limit` nearest other sampled points by exact
    /// search (Qdrant's `search_points_matrix`). Fewer than two sampled
    /// points give an empty matrix, as does a `sample` or `limit` of 0.
    /// Throws `.invalidArgument` for an unknown vector name or a negative
    /// `sample` or `limit`.
    public func distanceMatrix(
        sample: Int = 10, limit: Int = 3, filter: Filter? = nil, using: String = CollectionConfig.defaultVectorName
    ) throws -> DistanceMatrix {
        guard sample >= 0, limit >= 0 else {
            throw StrataError.invalid("sample and limit must not be negative, got \(sample) and \(limit)")
        }
        guard config.vectors[using] != nil || config.sparseVectors[using] != nil else {
            throw StrataError.invalid(
                "Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using); collection `\(name)` has \((Array(config.vectors.keys) + Array(config.sparseVectors.keys)).sorted())"
            )
        }
        guard sample > 0, limit > 0 else { return DistanceMatrix() }
        return try store.read { view in
            try QueryExecutor(collection: self, view: view, resolve: nil)
                .distanceMatrix(sample: sample, limit: limit, filter: filter, using: using)
        }
    }
}

extension QueryExecutor {
    /// The matrix of `Collection.distanceMatrix`, read over this executor's view.
    func distanceMatrix(sample: Int, limit: Int, filter: Filter?, using: String) throws -> DistanceMatrix {
        let withVector = merge(filter?.isEmpty == true ? nil : filter, Filter(must: [.hasVector(using)]))
        var generator = SystemRandomNumberGenerator()
        let sampled = try matchingIDs(withVector).shuffled(using: &generator).prefix(sample).sorted()
        guard sampled.count >= 2 else { return DistanceMatrix() }
        if let params = collection.config.vectors[using], !params.isMultiVector {
            return try denseMatrix(Array(sampled), using: using, limit: limit, params: params)
        }
        // Multivectors and sparse vectors: one exact search among the sample per sampled point.
        let members = Condition.hasID(Set(sampled))
        var params = SearchParams()
        params.exact = true
        let neighbours = try sampled.map { id in
            // The sampled point is an example of its own query, so the root
            // stage leaves it out of its neighbours.
            try rootStage(
                QueryStage(
                    query: .nearest(.point(id)), using: using, filter: Filter(must: [members]), params: params,
                    limit: limit),
                take: limit)
        }
        return DistanceMatrix(ids: Array(sampled), neighbours: neighbours)
    }

    /// The matrix of plain dense vectors: the sampled vectors read once and
    /// every pair scored as a nearest search scores it (what an exact search
    /// among the sample per sampled point returns, without a search per point).
    private func denseMatrix(_ ids: [PointID], using: String, limit: Int, params: VectorParams) throws -> DistanceMatrix
    {
        let distance = params.distance
        let rows = try records(ids, withPayload: false, withVector: true).compactMap { record in
            record.vectors?[using].map { (id: record.id, version: record.version, vector: $0) }
        }
        guard rows.count >= 2 else { return DistanceMatrix() }
        let higherIsBetter = distance.higherIsBetter
        /// Best first; equal scores by id (the rows are in id order).
        func better(_ a: (index: Int, score: Float), _ b: (index: Int, score: Float)) -> Bool {
            a.score != b.score ? (higherIsBetter ? a.score > b.score : a.score < b.score) : a.index < b.index
        }
        let neighbours = rows.indices.map { i in
            // The best `limit` so far, best first: a small sorted list, not a sort of the whole row.
            var top: [(index: Int, score: Float)] = []
            for j in rows.indices where j != i {
                let candidate = (index: j, score: Self.nearestScore(params, rows[i].vector, rows[j].vector))
                if top.count == limit, !better(candidate, top[limit - 1]) { continue }
                top.insert(candidate, at: top.firstIndex { better(candidate, $0) } ?? top.count)
                if top.count > limit { top.removeLast() }
            }
            return top.map { ScoredPoint(id: rows[$0.index].id, version: rows[$0.index].version, score: $0.score) }
        }
        return DistanceMatrix(ids: rows.map(\.id), neighbours: neighbours)
    }
}
