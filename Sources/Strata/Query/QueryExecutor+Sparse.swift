// Query stages whose `using` names a sparse vector (docs/query.md, "Sparse
// vectors"): examples resolved to sparse vectors, IDF-weighted, and scored
// by the dot product over shared indices.

extension QueryExecutor {
    /// True for the query kinds that score by the vector `using` names
    /// (order_by, sample and fusion do not look at it).
    static func scoresByVector(_ query: QueryKind) -> Bool {
        switch query {
        case .nearest, .recommend, .discover, .context, .relevanceFeedback: true
        case .orderBy, .fusion, .sampleRandom, .formula: false
        }
    }

    /// A sparse query with every example resolved.
    enum ResolvedSparseQuery {
        /// Nearest to `prepared` (IDF-weighted); with MMR, `raw` is the
        /// unweighted query its relevance is measured against.
        case nearest(prepared: SparseVector, mmr: (lambda: Float, candidates: Int, raw: SparseVector)?)
        /// A custom objective over IDF-weighted examples.
        case custom(CustomObjective<SparseVector>)
    }

    /// A stage whose `using` names a sparse vector, `query` its query (one
    /// that scores by the vector). Similarity is the dot product over shared
    /// indices (0 without any); with the `idf` modifier every query vector
    /// and example is IDF-weighted first, as Qdrant does. Without prefetches,
    /// nearest (and average_vector) searches the inverted indexes, custom
    /// objectives scan every live point matching the filter exactly; with
    /// prefetches the prefetched points are rescored from their stored sparse
    /// vectors. Nearest results leave out points scoring 0; custom objectives
    /// score every point that has the vector.
    func sparseStage(_ stage: QueryStage, query: QueryKind, defaultMMRCandidates: Int) throws -> [ScoredPoint] {
        let (using, limit, threshold) = (stage.using, stage.limit, stage.scoreThreshold)
        let resolved = try resolveSparse(
            query, using: using, lookupFrom: stage.lookupFrom, idf: stage.params.idf,
            defaultMMRCandidates: defaultMMRCandidates)
        let candidates = stage.hasSources ? Self.distinctIDs(try stage.prefetchResults ?? prefetched(stage)) : nil
        guard limit > 0 else { return [] }
        switch resolved {
        case .nearest(let prepared, let mmr):
            let take = mmr?.candidates ?? limit
            var ranked: [(point: ScoredPoint, vector: SparseVector)]
            if let candidates {
                ranked = []
                for (record, stored) in try sparseVectors(of: candidates, using: using) {
                    let score = SparseVector.dot(prepared, stored).score
                    if score != 0 {
                        ranked.append((ScoredPoint(id: record.id, version: record.version, score: score), stored))
                    }
                }
                ranked.sort { Self.order(higherIsBetter: true)($0.point, $1.point) }
            } else {
                ranked = try sparseNearest(
                    prepared, using: using, limit: take, filter: stage.filter, withVector: mmr != nil)
            }
            if let threshold { ranked.removeAll { $0.point.score <= threshold } }
            ranked = Array(ranked.prefix(take))
            guard let mmr else { return ranked.map(\.point) }
            return Self.sparseMaximalMarginalRelevance(ranked, query: mmr.raw, lambda: mmr.lambda, limit: limit)
        case .custom(let objective):
            let score = { (stored: SparseVector) in
                objective.score { example in SparseVector.dot(example, stored).score }
            }
            var ranked: [ScoredPoint]
            if let candidates {
                ranked = try sparseVectors(of: candidates, using: using).compactMap { record, stored in
                    let value = score(stored)
                    return value.isNaN ? nil : ScoredPoint(id: record.id, version: record.version, score: value)
                }
                ranked.sort(by: Self.order(higherIsBetter: true))
            } else {
                ranked = try sparseScan(using: using, filter: stage.filter, limit: limit, score: score)
            }
            return Array(applyThreshold(ranked, threshold, higherIsBetter: true).prefix(limit))
        }
    }

    /// The sparse vector of one example, canonical and not yet IDF-weighted:
    /// a given sparse vector (checked), or a stored point's. Throws
    /// `.invalidArgument` for a dense example or an invalid vector,
    /// `.notFound` for a missing point or a point without the vector.
    private func sparseExample(_ input: VectorInput, using: String, lookupFrom: LookupLocation?) throws -> SparseVector
    {
        switch input {
        case .vector(.sparse(let given)):
            return try Collection.canonical(given, what: "query sparse vector")
        case .vector(.dense), .vector(.multi):
            throw StrataError.invalid(
                "vector \"\(using)\" is sparse; the query must be a sparse vector (indices and values)")
        case .point(let id):
            let source = try lookupFrom.map { try lookupCollection($0.collection) } ?? collection
            let name = lookupFrom?.vector ?? using
            guard source.config.sparseVectors[name] != nil else {
                throw StrataError.invalid(
                    "Not existing vector name error: \(name.isEmpty ? "(unnamed)" : name) is not a sparse vector of collection `\(source.name)`"
                )
            }
            guard let stored = try storedExample(id, in: source).sparseVectors?[name] else {
                throw Self.missingVector(name, of: id)
            }
            return stored
        }
    }

    /// Resolves a sparse stage's query: examples looked up, IDF-weighted
    /// together (the average of average_vector is weighted after averaging,
    /// as Qdrant weights the nearest query it becomes).
    private func resolveSparse(
        _ query: QueryKind, using: String, lookupFrom: LookupLocation?, idf: IDFScope?, defaultMMRCandidates: Int
    )
        throws -> ResolvedSparseQuery
    {
        func example(_ input: VectorInput) throws -> SparseVector {
            try sparseExample(input, using: using, lookupFrom: lookupFrom)
        }
        func weighted(_ vectors: [SparseVector]) throws -> [SparseVector] {
            try collection.preparedSparseQueries(vectors, using: using) { name, terms in
                try sparseStatistics(name, terms: terms, scope: idf)
            }
        }
        switch query {
        case .nearest(let input, let mmr):
            let raw = try example(input)
            let prepared = try weighted([raw])[0]
            guard let mmr else { return .nearest(prepared: prepared, mmr: nil) }
            return .nearest(
                prepared: prepared,
                mmr: (lambda: mmr.lambda, candidates: mmr.candidatesLimit ?? defaultMMRCandidates, raw: raw))
        case .recommend(let positive, let negative, .averageVector):
            let average = SparseVector.recommendationAverage(
                positive: try positive.map(example), negative: try negative.map(example))
            return .nearest(prepared: try weighted([average])[0], mmr: nil)
        case .recommend(let positive, let negative, let strategy):
            let all = try weighted(try (positive + negative).map(example))
            let positives = Array(all.prefix(positive.count)), negatives = Array(all.dropFirst(positive.count))
            return .custom(
                strategy == .sumScores
                    ? .sumScores(positive: positives, negative: negatives)
                    : .bestScore(positive: positives, negative: negatives))
        case .discover(let target, let context):
            let all = try weighted(try ([target] + context.flatMap { [$0.positive, $0.negative] }).map(example))
            return .custom(.discover(target: all[0], pairs: Self.pairs(Array(all.dropFirst()))))
        case .context(let context):
            let all = try weighted(try context.flatMap { [$0.positive, $0.negative] }.map(example))
            return .custom(.context(pairs: Self.pairs(all)))
        case .relevanceFeedback(let target, let feedback, .naive(let a, let b, let c)):
            let all = try weighted(try ([target] + feedback.map(\.example)).map(example))
            let examples = zip(all.dropFirst(), feedback).map { (example: $0, score: $1.score) }
            return .custom(.naiveFeedback(target: all[0], feedback: examples, a: a, b: b, c: c))
        case .orderBy, .fusion, .sampleRandom, .formula:
            preconditionFailure("not a vector query (see scoresByVector)")
        }
    }

    /// [p₀, n₀, p₁, n₁, …] → [(p₀, n₀), (p₁, n₁), …].
    private static func pairs(_ flat: [SparseVector]) -> [(positive: SparseVector, negative: SparseVector)] {
        stride(from: 0, to: flat.count, by: 2).map { (positive: flat[$0], negative: flat[$0 + 1]) }
    }
}
