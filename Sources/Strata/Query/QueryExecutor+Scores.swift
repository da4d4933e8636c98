import StrataVectorMath

// Scores of dense vectors and multivectors: similarities, the scorers of the
// custom objectives (recommend best_score and sum_scores, discover, context),
// and the order and threshold every stage applies.

extension QueryExecutor {
    /// Qdrant's raw similarity (larger is better): the dot product for Cosine
    /// and Dot, −Σ(a−b)² for Euclid, −Σ|a−b| for Manhattan.
    static func similarity(
        _ distance: Distance, _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>
    ) -> Float {
        switch distance {
        case .cosine, .dot: VectorKernels.dot(a, b)
        case .euclid: -VectorKernels.squaredL2(a, b)
        case .manhattan: -VectorKernels.manhattan(a, b)
        }
    }

    static func similarity(_ distance: Distance, _ a: [Float], _ b: UnsafeBufferPointer<Float>) -> Float {
        a.withUnsafeBufferPointer { similarity(distance, $0, b) }
    }

    /// `similarity` for a vector with `params`: the true cosine for raw-cosine
    /// (`uint8`) vectors.
    static func similarity(
        _ params: VectorParams, _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>
    ) -> Float {
        params.scoresRawCosine ? VectorKernels.cosine(a, b) : similarity(params.distance, a, b)
    }

    /// `nearestScore` for a vector with `params` (see `similarity(_:_:_:)`).
    static func nearestScore(_ params: VectorParams, _ query: [Float], _ stored: [Float]) -> Float {
        guard params.scoresRawCosine else { return nearestScore(params.distance, query, stored) }
        return query.withUnsafeBufferPointer { q in stored.withUnsafeBufferPointer { VectorKernels.cosine(q, $0) } }
    }

    /// The score a nearest search reports (Strata's and Qdrant's convention).
    static func nearestScore(_ distance: Distance, _ query: [Float], _ stored: [Float]) -> Float {
        query.withUnsafeBufferPointer { q in
            stored.withUnsafeBufferPointer { v in
                VectorKernels.score(
                    metric: distance, query: q.baseAddress!, vector: v.baseAddress!, dim: min(q.count, v.count))
            }
        }
    }

    /// x / (1 + |x|), in (−1, 1).
    static func fastSigmoid(_ x: Float) -> Float { x / (1 + abs(x)) }
    /// 0.5 · (fastSigmoid(x) + 1), in (0, 1).
    static func scaledFastSigmoid(_ x: Float) -> Float { 0.5 * (fastSigmoid(x) + 1) }

    /// The scorer of a custom objective over a stored vector of a vector with `params`.
    func customScorer(_ query: ResolvedQuery, params: VectorParams) -> (UnsafeBufferPointer<Float>) -> Float {
        let distance = params.distance
        if params.isMultiVector {
            // Multivectors compare by Qdrant's raw max_sim, the example's rows as the query.
            let dim = params.size
            let similarity: ([Float], UnsafeBufferPointer<Float>) -> Float = { example, stored in
                var scratch: [Float] = []
                return example.withUnsafeBufferPointer { e in
                    MaxSim.similarity(
                        metric: distance, query: e.baseAddress!, queryRows: e.count / dim, rows: stored.baseAddress!,
                        rowCount: stored.count / dim, dim: dim, scratch: &scratch)
                }
            }
            return Self.customScorer(query, similarity: similarity)
        }
        return Self.customScorer(query) { example, stored in
            example.withUnsafeBufferPointer { Self.similarity(params, $0, stored) }
        }
    }

    /// The scorer of a custom objective, given how an example compares with a
    /// stored vector (the formulas: `CustomObjective`). Precondition: `query`
    /// is a custom objective.
    private static func customScorer(
        _ query: ResolvedQuery, similarity: @escaping ([Float], UnsafeBufferPointer<Float>) -> Float
    )
        -> (UnsafeBufferPointer<Float>) -> Float
    {
        let objective: CustomObjective<[Float]>
        switch query {
        case .bestScore(let positive, let negative): objective = .bestScore(positive: positive, negative: negative)
        case .sumScores(let positive, let negative): objective = .sumScores(positive: positive, negative: negative)
        case .discover(let target, let pairs): objective = .discover(target: target, pairs: pairs)
        case .context(let pairs): objective = .context(pairs: pairs)
        case .feedback(let feedback): objective = feedback
        default: preconditionFailure("not a custom objective")
        }
        return { stored in objective.score { example in similarity(example, stored) } }
    }

    /// Best first; equal scores by id.
    static func order(higherIsBetter: Bool) -> (ScoredPoint, ScoredPoint) -> Bool {
        { a, b in a.score != b.score ? (higherIsBetter ? a.score > b.score : a.score < b.score) : a.id < b.id }
    }

    /// Keeps the points at least as good as the threshold (the list is sorted best first).
    /// `strict` (Qdrant's vector queries): only scores strictly better than
    /// the threshold; otherwise (fusion, formulas) scores at least as good.
    func applyThreshold(
        _ points: [ScoredPoint], _ threshold: Float?, higherIsBetter: Bool, strict: Bool = true
    )
        -> [ScoredPoint]
    {
        guard let threshold else { return points }
        return points.filter { Self.passes($0.score, threshold, higherIsBetter: higherIsBetter, strict: strict) }
    }

    static func passes(_ score: Float, _ threshold: Float, higherIsBetter: Bool, strict: Bool = true) -> Bool {
        switch (higherIsBetter, strict) {
        case (true, true): score > threshold
        case (true, false): score >= threshold
        case (false, true): score < threshold
        case (false, false): score <= threshold
        }
    }
}
