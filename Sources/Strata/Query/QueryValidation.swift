// The argument checks of the read API (Qdrant's CollectionQueryRequest::
// validation and its query planner's checks), each written once with one
// message. A query is checked whole when it enters the engine
// (`Collection.query`, `Collection.queryGroups`), before anything is read;
// `search`, `searchSparse`, `scroll` and `facet` check their own arguments
// with the same functions. What depends on the collection (vector names,
// dimensions, the points used as examples) is checked as the examples are
// resolved (QueryExecutor+Resolution.swift, QueryExecutor+Sparse.swift).

/// The shared checks and their limits. Each throws `.invalidArgument`.
enum QueryValidation {
    /// How deep prefetches may nest.
    static let maxDepth = 64
    /// The most candidates MMR may re-rank.
    static let maxMMRCandidates = 16384

    static let prefetchWithoutQuery =
        "A query is needed to merge the prefetches. Can't have prefetches without defining a query."

    /// Throws unless `limit ≥ 0`.
    static func checkLimit(_ limit: Int) throws {
        guard limit >= 0 else { throw StrataError.invalid("limit must not be negative, got \(limit)") }
    }

    /// Throws for a NaN or infinite threshold.
    static func checkScoreThreshold(_ threshold: Float?) throws {
        if let threshold, !threshold.isFinite { throw StrataError.invalid("score_threshold must be a finite number") }
    }

    /// Throws for `hnswEf` < 1 or a quantization oversampling < 1 (or NaN).
    static func check(_ params: SearchParams) throws {
        if let ef = params.hnswEf, ef < 1 { throw StrataError.invalid("hnsw_ef must be positive, got \(ef)") }
        if let oversampling = params.quantization?.oversampling, !(oversampling >= 1) {
            throw StrataError.invalid("quantization oversampling must be ≥ 1, got \(oversampling)")
        }
    }

    /// Throws for a diversity outside 0…1 or a candidate count outside 0…`maxMMRCandidates`.
    static func check(_ mmr: MMR) throws {
        if let diversity = mmr.diversity, !(0...1).contains(diversity) {
            throw StrataError.invalid("mmr diversity must be between 0 and 1, got \(diversity)")
        }
        if let candidates = mmr.candidatesLimit, !(0...maxMMRCandidates).contains(candidates) {
            throw StrataError.invalid(
                "mmr candidates_limit must be between 0 and \(maxMMRCandidates), got \(candidates)")
        }
    }
}

extension QueryRequest {
    /// Checks the request's shape as `Collection.query` would, before any
    /// point is read (a cluster node checks a request it splits across
    /// shards whole, first). Throws `.invalidArgument`.
    public func checkShape() throws { try validate() }

    /// As `checkShape`, for `Collection.queryGroups`.
    public func checkGroupedShape(groupSize: Int, groups: Int) throws {
        try validateGrouped(groupSize: groupSize, groups: groups)
    }

    /// Checks the request as `Collection.query` runs it: the page (`limit`,
    /// `offset`, their sum) and every stage. Throws `.invalidArgument` for
    /// the first problem found.
    func validate() throws {
        try QueryValidation.checkLimit(stage.limit)
        guard offset >= 0 else { throw StrataError.invalid("offset must not be negative, got \(offset)") }
        guard !stage.limit.addingReportingOverflow(offset).overflow else {
            throw StrataError.invalid("limit + offset is too large")
        }
        try stage.validate()
    }

    /// Checks the request as `Collection.queryGroups` runs it: `groupSize`
    /// and `groups` (which replaces the root's limit; the offset is ignored)
    /// and every stage. Throws `.invalidArgument` for the first problem found.
    func validateGrouped(groupSize: Int, groups: Int) throws {
        guard groupSize >= 0, groups >= 0 else {
            throw StrataError.invalid("group_size and limit must not be negative")
        }
        var root = stage
        root.limit = groups
        try root.validate()
    }
}

extension QueryStage {
    /// Checks this stage and every stage below it, `depth` being this
    /// stage's (the root's is 0). Throws `.invalidArgument` for the first
    /// problem found.
    func validate(depth: Int = 0) throws {
        guard prefetch.isEmpty || depth < QueryValidation.maxDepth else {
            throw StrataError.invalid("prefetches depth exceeds max depth \(QueryValidation.maxDepth)")
        }
        try QueryValidation.checkLimit(limit)
        if hasSources && query == nil { throw StrataError.invalid(QueryValidation.prefetchWithoutQuery) }
        if prefetchResults != nil && !prefetch.isEmpty {
            throw StrataError.invalid("a stage takes prefetches or prefetch results, not both")
        }
        if let scoreThreshold {
            try QueryValidation.checkScoreThreshold(scoreThreshold)
            switch query {
            case .orderBy?: throw StrataError.invalid("Can't use score_threshold with an order_by query.")
            case nil:
                throw StrataError.invalid(
                    "A query is needed to use the score_threshold. Can't have score_threshold without defining a query."
                )
            default: break
            }
        }
        switch query {
        case .fusion(let fusion)?: try validate(fusion)
        case .relevanceFeedback(_, let feedback, .naive(let a, let b, let c))?:
            if feedback.isEmpty { throw StrataError.invalid("feedback elements must be non-empty") }
            guard ([a, b, c] + feedback.map(\.score)).allSatisfy(\.isFinite) else {
                throw StrataError.invalid("relevance feedback scores and coefficients must be finite")
            }
            guard b >= 0 else {
                throw StrataError.invalid("naive feedback coefficient b must be 0 or larger, got \(b)")
            }
        case .formula(let formula)?:
            if !hasSources { throw StrataError.invalid("cannot apply Formula without prefetches") }
            try formula.expression.validate()
        case .nearest(_, let mmr?)?: try QueryValidation.check(mmr)
        case .recommend(let positive, _, .averageVector)? where positive.isEmpty:
            throw StrataError.invalid("Positive vectors should not be empty with `average` strategy")
        case .recommend(let positive, let negative, _)? where positive.isEmpty && negative.isEmpty:
            throw StrataError.invalid("recommend needs at least one positive or negative example")
        default: break
        }
        try QueryValidation.check(params)
        for child in prefetch { try child.validate(depth: depth + 1) }
    }

    /// Fusion needs prefetches, no `using`, and RRF a k ≥ 1 and one finite,
    /// non-negative weight per prefetch if it has weights.
    private func validate(_ fusion: Fusion) throws {
        guard using == CollectionConfig.defaultVectorName else {
            throw StrataError.invalid("Fusion queries cannot be combined with the 'using' field.")
        }
        if !hasSources { throw StrataError.invalid("cannot apply Fusion without prefetches") }
        guard case .rrf(let k, let weights) = fusion else { return }
        guard k >= 1 else { throw StrataError.invalid("rrf k must be at least 1, got \(k)") }
        guard let weights else { return }
        guard weights.count == prefetch.count else {
            throw StrataError.invalid(
                "Number of weights in RRF should match number of pre-fetches: got \(weights.count), expected \(prefetch.count)"
            )
        }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw StrataError.invalid("rrf weights must be finite and not negative")
        }
    }
}
