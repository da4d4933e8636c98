import StrataPayload

/// A point found by a query over several collections, and where.
public struct CollectionScoredPoint: Sendable, Equatable {
    /// The name of the collection the point is in (its name, also when the
    /// query named it by an alias).
    public var collection: String
    /// The hit, scored as the collection's own query scored it.
    public var point: ScoredPoint

    /// Creates a hit `point` found in collection `collection`.
    public init(collection: String, point: ScoredPoint) {
        self.collection = collection
        self.point = point
    }
}

extension QueryRequest {
    /// Whether higher scores of this request's results are better in a
    /// collection with `config`: nearest queries (and recommend by average
    /// vector) score by the distance of the vector they use, every other kind
    /// higher-is-better. Nil for kinds whose results are not ordered by score
    /// (`order_by`, `sample`, MMR).
    public func higherIsBetter(in config: CollectionConfig) -> Bool? {
        let byDistance = config.vectors[stage.using]?.distance.higherIsBetter ?? true
        switch stage.query {
        case nil: return byDistance
        case .nearest(_, let mmr): return mmr == nil ? byDistance : nil
        case .recommend(_, _, let strategy): return strategy == .averageVector ? byDistance : true
        case .orderBy, .sampleRandom: return nil
        default: return true
        }
    }
}

extension Database {
    /// Runs one query over several collections (names or aliases) whose
    /// queried vector (`request.using`) has the same size, distance and kind,
    /// and merges the answers exactly: each collection answers its best
    /// `offset + limit` (its filter: the request's and `filters[name]`, both
    /// when both are given), the answers are merged best first (ties by the
    /// order of `collections`, then id) and the page is cut from the merge.
    ///
    /// Throws `.invalidArgument` for no collections or more than 64, a
    /// repeated one, vectors configured differently, or a query kind not
    /// ordered by score (order_by, sample, MMR); `.notFound` for an unknown
    /// collection; and what `Collection.query` throws.
    public func query(
        _ request: QueryRequest, collections names: [String], filters: [String: Filter] = [:],
        cancellation: Cancellation? = nil
    ) throws -> [CollectionScoredPoint] {
        guard (1...64).contains(names.count), Set(names).count == names.count else {
            throw StrataError.invalid(
                "a query over several collections needs 1 to 64 distinct collections, got \(names)")
        }
        if let unknown = filters.keys.first(where: { !names.contains($0) }) {
            throw StrataError.invalid("a filter is given for `\(unknown)`, which is not one of the collections queried")
        }
        let collections = try names.map { try collection(named: $0) }
        let using = request.stage.using
        let first = collections[0]
        guard let higher = request.higherIsBetter(in: first.config) else {
            throw StrataError.invalid(
                "this query kind (order_by, sample or mmr) is not ordered by score and cannot be merged over several collections"
            )
        }
        for (name, collection) in zip(names, collections) {
            let (a, b) = (first.config.vectors[using], collection.config.vectors[using])
            let sparse = (first.config.sparseVectors[using] != nil, collection.config.sparseVectors[using] != nil)
            guard a != nil || sparse.0 else {
                throw StrataError.invalid(
                    "Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using) in collection `\(names[0])`"
                )
            }
            guard sparse.0 == sparse.1, a?.size == b?.size, a?.distance == b?.distance,
                a?.isMultiVector == b?.isMultiVector
            else {
                throw StrataError.invalid(
                    "collections `\(names[0])` and `\(name)` configure vector \"\(using)\" differently; a query over several collections needs the same size, distance and kind"
                )
            }
        }
        var page = request
        page.offset = 0
        page.limit = request.offset + request.limit
        var hits: [(rank: Int, point: CollectionScoredPoint)] = []
        for (rank, (name, collection)) in zip(names, collections).enumerated() {
            var part = page
            if let own = filters[name] {
                part.filter = part.filter.map { Filter(must: [.filter($0), .filter(own)]) } ?? own
            }
            let found = try collection.query(
                part, collections: { try self.collection(named: $0) }, cancellation: cancellation)
            hits += found.map { (rank, CollectionScoredPoint(collection: collection.name, point: $0)) }
        }
        hits.sort { a, b in
            if a.point.point.score != b.point.point.score {
                return higher ? a.point.point.score > b.point.point.score : a.point.point.score < b.point.point.score
            }
            return a.rank != b.rank ? a.rank < b.rank : a.point.point.id < b.point.point.id
        }
        return hits.dropFirst(request.offset).prefix(request.limit).map(\.point)
    }
}
