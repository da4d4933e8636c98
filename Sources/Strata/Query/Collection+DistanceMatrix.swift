// The distance matrix API (Qdrant's `points/search/matrix/pairs` and
// `…/offsets`): a random sample of points and, for each, its nearest
// neighbours among the sample.

/// The sampled points, sorted by id, and for each (same index) its nearest
/// other sampled points, best first (equal scores by id), scored as a nearest
/// search scores.
public struct DistanceMatrix: Sendable, Equatable {
    public var ids: [PointID]
    public var neighbours: [[ScoredPoint]]

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
}
