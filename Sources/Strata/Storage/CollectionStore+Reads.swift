import StrataPayload

/// Single reads, each in a read of its own (`read`). A caller that reads
/// twice for one request — hits, then their payloads — uses `read` once
/// instead, so that both see the same segment set.
extension CollectionStore {
    func count(filter: Filter?, exact: Bool) throws -> Int {
        try read { try $0.count(filter: filter, exact: exact) }
    }

    /// The ids of the points `filter` matches now, sorted.
    func matchingIDs(_ filter: Filter) throws -> [PointID] { try read { try $0.matchingIDs(filter) } }

    func facet(key: PayloadPath, filter: Filter?, limit: Int) throws -> [(value: IndexKey, count: Int)] {
        try read { try $0.facet(key: key, filter: filter, limit: limit) }
    }

    func ordered(
        by key: PayloadPath, descending: Bool, startFrom: Double?, filter: Filter?, limit: Int,
        withPayload: Bool, withVector: Bool
    ) throws -> [(record: Record, value: Double)] {
        try read {
            try $0.ordered(
                by: key, descending: descending, startFrom: startFrom, filter: filter, limit: limit,
                withPayload: withPayload, withVector: withVector)
        }
    }

    func sparseStatistics(_ name: String, terms: [UInt32]) throws -> SparseStatistics {
        try read { try $0.sparseStatistics(name, terms: terms) }
    }

    /// The best `limit` points by sparse dot product, with payload and
    /// vectors attached in the same read.
    func searchSparse(
        query: SparseVector, using name: String, limit: Int, filter: Filter?, withPayload: Bool,
        withVector: Bool
    ) throws -> [ScoredPoint] {
        try read { view in
            let hits = try view.searchSparse(query: query, using: name, limit: limit, filter: filter)
            return try view.attach(hits, withPayload: withPayload, withVector: withVector)
        }
    }

    func scanScored(
        using name: String, filter: Filter?, limit: Int, score: (UnsafeBufferPointer<Float>) -> Float
    )
        throws -> [ScoredPoint]
    {
        try read { try $0.scanScored(using: name, filter: filter, limit: limit, score: score) }
    }

    func scanSparseScored(
        using name: String, filter: Filter?, limit: Int, score: (SparseVector) -> Float
    ) throws
        -> [ScoredPoint]
    {
        try read { try $0.scanSparseScored(using: name, filter: filter, limit: limit, score: score) }
    }
}
