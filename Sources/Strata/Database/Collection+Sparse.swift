import Foundation

/// Sparse vectors: validation, IDF and search (docs/query.md, "Sparse vectors").
extension Collection {
    /// Checks every sparse vector of a write and puts it in canonical form
    /// (sorted by index). Throws `.invalidArgument` for an unknown name,
    /// indices and values of different lengths, a repeated index or a NaN or
    /// infinite value.
    func prepareSparse(_ vectors: [String: SparseVector], what: String) throws -> [String: SparseVector] {
        var prepared: [String: SparseVector] = [:]
        for (vectorName, vector) in vectors {
            guard config.sparseVectors[vectorName] != nil else {
                throw StrataError.invalid(
                    "\(what): collection `\(name)` has no sparse vector named \"\(vectorName)\"; it has \(config.sparseVectors.keys.sorted())"
                )
            }
            prepared[vectorName] = try Self.canonical(vector, what: "\(what): sparse vector \"\(vectorName)\"")
        }
        return prepared
    }

    static func canonical(_ vector: SparseVector, what: String) throws -> SparseVector {
        switch vector.validated() {
        case .success(let canonical): return canonical
        case .failure(let error): throw StrataError.invalid("\(what): \(error)")
        }
    }

    /// Qdrant's IDF: `ln((N − n + 0.5) / (n + 0.5) + 1)` in single precision.
    public static func inverseDocumentFrequency(points: Int, documentFrequency df: Int) -> Float {
        let n = Float(points), d = Float(df)
        return Foundation.log((n - d + 0.5) / (d + 0.5) + 1)
    }

    /// The query as it is scored against sparse vector `using`: canonical,
    /// and with the `idf` modifier each value multiplied by its index's IDF
    /// over the collection's live points right now.
    func preparedSparseQuery(_ vector: SparseVector, using: String) throws -> SparseVector {
        try preparedSparseQueries([vector], using: using)[0]
    }

    /// `preparedSparseQuery` for every vector of one query (the examples of a
    /// recommend, discover or context query), with the IDF statistics read
    /// once for all of them, so every example is weighted by the same
    /// snapshot of the collection (Qdrant fills one query context per request).
    /// `statistics` reads the live points with the vector and each term's
    /// document frequency (the store's own by default). Throws
    /// `.invalidArgument` for an unknown sparse vector name or an invalid vector.
    func preparedSparseQueries(
        _ vectors: [SparseVector], using: String,
        statistics: ((String, [UInt32]) throws -> SparseStatistics)? = nil
    ) throws -> [SparseVector] {
        guard let params = config.sparseVectors[using] else {
            throw StrataError.invalid(
                "Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using); collection `\(name)` has sparse vectors \(config.sparseVectors.keys.sorted())"
            )
        }
        var queries = try vectors.map { try Self.canonical($0, what: "query sparse vector") }
        guard params.modifier == .idf else { return queries }
        let terms = Array(Set(queries.flatMap(\.indices))).sorted()
        guard !terms.isEmpty else { return queries }
        let stats = try statistics?(using, terms) ?? store.sparseStatistics(using, terms: terms)
        var idf: [UInt32: Float] = [:]
        for (term, df) in zip(terms, stats.documentFrequencies) {
            idf[term] = Self.inverseDocumentFrequency(points: stats.points, documentFrequency: df)
        }
        for q in queries.indices {
            for i in queries[q].values.indices { queries[q].values[i] *= idf[queries[q].indices[i]]! }
        }
        return queries
    }

    /// The `limit` points whose sparse vector `using` has the largest dot
    /// product with `vector` (IDF-weighted with the `idf` modifier), best
    /// first, ties by id; exact. Points that share no index with the query
    /// (or score exactly 0) are not returned. Throws `.invalidArgument` for
    /// an unknown sparse vector name or an invalid vector.
    public func searchSparse(
        _ vector: SparseVector, using: String, limit: Int = 10, filter: Filter? = nil, scoreThreshold: Float? = nil,
        withPayload: Bool = false, withVector: Bool = false
    ) throws -> [ScoredPoint] {
        try QueryValidation.checkLimit(limit)
        try QueryValidation.checkScoreThreshold(scoreThreshold)
        let query = try preparedSparseQuery(vector, using: using)
        var hits = try store.searchSparse(
            query: query, using: using, limit: limit, filter: filter?.isEmpty == true ? nil : filter,
            withPayload: withPayload, withVector: withVector)
        if let scoreThreshold { hits.removeAll { $0.score <= scoreThreshold } }
        return hits
    }
}
