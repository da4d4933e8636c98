// Every read of stored points the query executor makes, in one place, all
// over the executor's one view of this collection's segments (another
// collection named by `lookup_from` is read in a read of its own). Each is a
// plain read: arguments are validated before the executor runs.

extension QueryExecutor {
    /// The records of the points in `ids` that exist in `source` (this
    /// collection by default), in the order asked.
    func records(_ ids: [PointID], withPayload: Bool, withVector: Bool, in source: Collection? = nil) throws -> [Record]
    {
        if let source, source !== collection {
            return try source.store.retrieve(ids, withPayload: withPayload, withVector: withVector)
        }
        return try view.retrieve(ids, withPayload: withPayload, withVector: withVector)
    }

    /// The stored point `id` of `source`, with its vectors, used as an
    /// example. Throws `.notFound` when it does not exist.
    func storedExample(_ id: PointID, in source: Collection) throws -> Record {
        guard let record = try records([id], withPayload: false, withVector: true, in: source).first else {
            throw StrataError(.notFound, "No point with id \(id) found")
        }
        return record
    }

    /// Up to `limit` points matching `filter` in id order, score 1.
    func pointsInIDOrder(filter: Filter?, limit: Int) throws -> [ScoredPoint] {
        try view.scroll(offset: nil, limit: limit, filter: filter, withPayload: false, withVector: false).records
            .map { ScoredPoint(id: $0.id, version: $0.version, score: 1) }
    }

    /// The ids of the points matching `filter` (all without one), ascending.
    func matchingIDs(_ filter: Filter?) throws -> [PointID] {
        try view.matchingIDs(filter ?? Filter())
    }

    /// Up to `limit` of the points in `ids` that still exist, chosen at
    /// random, score 1.
    func sample(from ids: [PointID], limit: Int) throws -> [ScoredPoint] {
        var generator = SystemRandomNumberGenerator()
        let chosen = Array(ids.shuffled(using: &generator).prefix(limit))
        return try records(chosen, withPayload: false, withVector: false).map {
            ScoredPoint(id: $0.id, version: $0.version, score: 1)
        }
    }

    /// The `limit` nearest points to `query` (prepared: checked and
    /// normalised) under dense vector `using`, best first, those scoring
    /// worse than `scoreThreshold` left out; with `withVector`, each carries
    /// its vectors.
    func nearest(
        _ query: [Float], using: String, limit: Int, params: SearchParams, filter: Filter?, scoreThreshold: Float?,
        withVector: Bool
    ) throws -> [ScoredPoint] {
        var hits = try view.attach(
            view.search(query: query, using: using, limit: limit, params: params, filter: filter),
            withPayload: false, withVector: withVector)
        if let scoreThreshold, let distance = collection.config.vectors[using]?.distance {
            hits.removeAll { !Self.passes($0.score, scoreThreshold, higherIsBetter: distance.higherIsBetter) }
        }
        return hits
    }

    /// The `limit` best points matching `filter` by `score` over their dense
    /// vector `using` (exact scan), best first.
    func scan(
        using: String, filter: Filter?, limit: Int, score: @escaping (UnsafeBufferPointer<Float>) -> Float
    ) throws
        -> [ScoredPoint]
    {
        try view.scanScored(using: using, filter: filter, limit: limit, score: score)
    }

    /// The candidates in `ids` that exist and have dense vector `using`,
    /// scored by `score` over it; with `withVector`, each carries that vector.
    func scoreCandidates(
        _ ids: [PointID], using: String, withVector: Bool, score: ([Float]) -> Float
    ) throws -> [ScoredPoint] {
        if !givenVectors.isEmpty {
            return ids.compactMap { id in
                guard let given = givenVectors[id], let stored = given.vectors?[using] else { return nil }
                return ScoredPoint(
                    id: id, version: given.version, score: score(stored), vectors: withVector ? [using: stored] : nil)
            }
        }
        return try records(ids, withPayload: false, withVector: true).compactMap { record in
            guard let stored = record.vectors?[using] else { return nil }
            return ScoredPoint(
                id: record.id, version: record.version, score: score(stored),
                vectors: withVector ? [using: stored] : nil)
        }
    }

    /// Up to `limit` points matching `filter`, ordered by `orderBy`, score 1
    /// and `orderValue` set. Throws `.invalidArgument` for a malformed key
    /// or a field without an index that orders.
    func ordered(_ orderBy: Collection.OrderBy, filter: Filter?, limit: Int) throws -> [ScoredPoint] {
        try view.ordered(
            by: try Collection.path(orderBy.key), descending: orderBy.descending, startFrom: orderBy.startFrom,
            filter: filter, limit: limit, withPayload: false, withVector: false
        )
        .map { ScoredPoint(id: $0.record.id, version: $0.record.version, score: 1, orderValue: $0.value) }
    }

    /// The points in `ids` that exist and have sparse vector `using`, each with it.
    func sparseVectors(of ids: [PointID], using: String) throws -> [(record: Record, vector: SparseVector)] {
        if !givenVectors.isEmpty {
            return ids.compactMap { id in
                guard let given = givenVectors[id], let vector = given.sparseVectors?[using] else { return nil }
                return (Record(id: id, version: given.version), vector)
            }
        }
        return try records(ids, withPayload: false, withVector: true).compactMap { record in
            record.sparseVectors?[using].map { (record, $0) }
        }
    }

    /// The `limit` points whose sparse vector `using` has the largest dot
    /// product with `query` (prepared), best first, each with that vector
    /// when `withVector` (an empty one otherwise); the points carry no vectors.
    func sparseNearest(
        _ query: SparseVector, using: String, limit: Int, filter: Filter?, withVector: Bool
    ) throws
        -> [(point: ScoredPoint, vector: SparseVector)]
    {
        try view.attach(
            view.searchSparse(query: query, using: using, limit: limit, filter: filter), withPayload: false,
            withVector: withVector
        )
        .map { hit in
            var point = hit
            let vector = point.sparseVectors?[using] ?? SparseVector(indices: [], values: [])
            point.vectors = nil
            point.sparseVectors = nil
            return (point, vector)
        }
    }

    /// The `limit` best points matching `filter` by `score` over their sparse
    /// vector `using` (exact scan), best first.
    func sparseScan(using: String, filter: Filter?, limit: Int, score: (SparseVector) -> Float) throws -> [ScoredPoint]
    {
        try view.scanSparseScored(using: using, filter: filter, limit: limit, score: score)
    }

    /// The live points with sparse vector `name` and, per term, how many of
    /// them hold it (the IDF statistics).
    func sparseStatistics(_ name: String, terms: [UInt32], scope: IDFScope?) throws -> SparseStatistics {
        switch scope {
        case .corpus(let filter)?: return try view.sparseStatistics(name, terms: terms, corpus: filter)
        case .given(let points, let frequencies)?:
            return SparseStatistics(points: points, documentFrequencies: terms.map { frequencies[$0] ?? 0 })
        case .global?, nil: return try view.sparseStatistics(name, terms: terms)
        }
    }
}
