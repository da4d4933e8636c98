import StrataVectorMath

// Maximal marginal relevance re-ranking of nearest hits (Qdrant's
// maximal_marginal_relevance), over dense and over sparse candidates.

extension MMR {
    /// λ of the MMR formula: 1 − diversity (0.5 by default).
    var lambda: Float { diversity.map { 1 - $0 } ?? 0.5 }
}

extension QueryExecutor {
    /// Re-ranks `candidates` (nearest hits, best first, with vector `using`):
    /// first the most relevant, then repeatedly the one maximising
    /// λ·sim(query) − (1 − λ)·max sim(selected). Scores stay the nearest
    /// scores; candidates without the vector are left out, and the vectors
    /// are not returned.
    func maximalMarginalRelevance(
        _ candidates: [ScoredPoint], query: [Float], using: String, lambda: Float, limit: Int
    )
        throws -> [ScoredPoint]
    {
        let params = try vectorParams(of: using)
        let distance = params.distance
        let usable = candidates.filter { $0.vectors?[using] != nil }
        let vectors = usable.map { $0.vectors![using]! }
        let stripped = usable.map { point -> ScoredPoint in
            var copy = point
            copy.vectors = nil
            return copy
        }
        guard stripped.count >= 2 else { return stripped }
        guard limit > 0 else { return [] }
        let prepared = try prepareCustom(query, using: using)
        // Raw similarity; for multivectors Qdrant's raw max_sim with the first
        // argument's rows as the query (not symmetric).
        var scratch: [Float] = []
        func raw(_ a: [Float], _ b: [Float]) -> Float {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    guard params.isMultiVector else { return Self.similarity(params, a, b) }
                    return MaxSim.similarity(
                        metric: distance, query: a.baseAddress!, queryRows: a.count / params.size,
                        rows: b.baseAddress!, rowCount: b.count / params.size, dim: params.size, scratch: &scratch)
                }
            }
        }
        let relevance = vectors.map { raw(prepared, $0) }
        var matrix = [Float?](repeating: nil, count: vectors.count * vectors.count)
        func similarity(_ i: Int, _ j: Int) -> Float {
            if let cached = matrix[i * vectors.count + j] { return cached }
            let value = raw(vectors[i], vectors[j])
            matrix[i * vectors.count + j] = value
            return value
        }
        let selected = maximalMarginalRelevanceOrder(
            count: stripped.count, relevance: relevance, lambda: lambda, limit: limit,
            similarity: similarity)
        return selected.map { stripped[$0] }
    }

    /// Qdrant's MMR over sparse candidates (nearest hits, best first, each
    /// with its stored vector): relevance is the dot product with the query
    /// as given (Qdrant measures it in a plain, IDF-less vector storage),
    /// similarity between candidates their dot product. Scores stay the
    /// nearest scores. Fewer than 2 candidates come back as they are.
    static func sparseMaximalMarginalRelevance(
        _ candidates: [(point: ScoredPoint, vector: SparseVector)], query: SparseVector,
        lambda: Float, limit: Int
    ) -> [ScoredPoint] {
        guard candidates.count >= 2 else { return candidates.map(\.point) }
        let vectors = candidates.map(\.vector)
        let relevance = vectors.map { SparseVector.dot(query, $0).score }
        var cache = [Float?](repeating: nil, count: vectors.count * vectors.count)
        let order = maximalMarginalRelevanceOrder(
            count: vectors.count, relevance: relevance, lambda: lambda, limit: limit
        ) { i, j in
            if let cached = cache[i * vectors.count + j] { return cached }
            let value = SparseVector.dot(vectors[i], vectors[j]).score
            cache[i * vectors.count + j] = value
            cache[j * vectors.count + i] = value
            return value
        }
        return order.map { candidates[$0].point }
    }
}

/// Qdrant's `maximal_marginal_relevance` selection over `count` candidates:
/// first the most relevant, then repeatedly the one maximising
/// λ·relevance − (1 − λ)·max similarity to those already selected, until
/// `limit` are chosen. Returns candidate indices in selection order.
///
/// `remaining` mimics Qdrant's IndexSet with swap_remove, and ties go to the
/// last maximum in its order (Rust's `max_by_key`), so equal scores resolve
/// as Qdrant resolves them. O(limit · count) calls of `similarity(i, j)`
/// (candidate, selected); callers with costly similarities cache them.
func maximalMarginalRelevanceOrder(
    count: Int, relevance: [Float], lambda: Float, limit: Int,
    similarity: (Int, Int) -> Float
) -> [Int] {
    precondition(relevance.count == count, "one relevance per candidate")
    guard count > 0, limit > 0 else { return [] }
    var remaining = Array(0..<count)
    func take(_ index: Int) {
        let position = remaining.firstIndex(of: index)!
        remaining[position] = remaining[remaining.count - 1]
        remaining.removeLast()
    }
    var selected: [Int] = []
    var best = remaining[0]
    for index in remaining where relevance[index] >= relevance[best] { best = index }
    selected.append(best)
    take(best)
    while selected.count < limit && !remaining.isEmpty {
        var bestIndex = -1
        var bestScore = -Float.infinity
        for candidate in remaining {
            var maxSimilarity = -Float.infinity
            for chosen in selected { maxSimilarity = max(maxSimilarity, similarity(candidate, chosen)) }
            let score = lambda * relevance[candidate] - (1 - lambda) * maxSimilarity
            if bestIndex < 0 || score >= bestScore {
                bestIndex = candidate
                bestScore = score
            }
        }
        selected.append(bestIndex)
        take(bestIndex)
    }
    return selected
}
