internal import CStrataKernels

/// Late-interaction scoring of multivectors (ColBERT-style), with Qdrant's
/// `max_sim` semantics: for every query row, the best match among the
/// document's rows, summed over the query rows.
///
/// In Qdrant's terms the per-pair similarity is the dot product for `.cosine`
/// (rows normalised) and `.dot`, −‖q − d‖² for `.euclid` and −Σ|q − d| for
/// `.manhattan`; the sum of the per-row maxima is then reported as the metric
/// reports a single score. So the score is
/// - `.cosine`, `.dot`: Σᵢ maxⱼ qᵢ·dⱼ (higher is better);
/// - `.euclid`: √(Σᵢ minⱼ ‖qᵢ − dⱼ‖²) (lower is better);
/// - `.manhattan`: Σᵢ minⱼ Σ|qᵢ − dⱼ| (lower is better).
/// (Checked against Qdrant Edge 0.9 for all four metrics.)
public enum MaxSim {
    /// The max_sim score of document `rows` (`rowCount × dim` floats, row-major)
    /// for `query` (`queryRows × dim`). `scratch` is reused between calls to
    /// avoid allocation. Preconditions: `dim > 0`, both have at least one row.
    /// Complexity: O(queryRows · rowCount · dim).
    public static func score(
        metric: DistanceMetric, query: UnsafePointer<Float>, queryRows: Int, rows: UnsafePointer<Float>, rowCount: Int,
        dim: Int,
        scratch: inout [Float]
    ) -> Float {
        let total = sumOfBest(
            metric: metric, query: query, queryRows: queryRows, rows: rows, rowCount: rowCount, dim: dim,
            scratch: &scratch)
        return metric == .euclid ? total.squareRoot() : total
    }

    /// Σ over query rows of the best per-row value: the largest dot product
    /// (`.cosine`, `.dot`) or the smallest ‖q − d‖² / L1 (`.euclid`, `.manhattan`).
    private static func sumOfBest(
        metric: DistanceMetric, query: UnsafePointer<Float>, queryRows: Int, rows: UnsafePointer<Float>, rowCount: Int,
        dim: Int,
        scratch: inout [Float]
    ) -> Float {
        precondition(dim > 0 && queryRows > 0 && rowCount > 0, "max_sim needs rows of a positive dimension")
        if scratch.count < rowCount { scratch = [Float](repeating: 0, count: rowCount) }
        var total: Float = 0
        scratch.withUnsafeMutableBufferPointer { out in
            let scores = out.baseAddress!
            for i in 0..<queryRows {
                let q = query + i * dim
                switch metric {
                case .cosine, .dot:
                    strata_dot_batch_f32(q, rows, rowCount, dim, scores)
                    var best = scores[0]
                    for j in 1..<rowCount where scores[j] > best { best = scores[j] }
                    total += best
                case .euclid, .manhattan:
                    if metric == .euclid {
                        strata_l2sq_batch_f32(q, rows, rowCount, dim, scores)
                    } else {
                        strata_l1_batch_f32(q, rows, rowCount, dim, scores)
                    }
                    var best = scores[0]
                    for j in 1..<rowCount where scores[j] < best { best = scores[j] }
                    total += best
                }
            }
        }
        return total
    }

    /// Qdrant's raw max_sim similarity, as recommend, discover and context
    /// compare multivectors: Σᵢ maxⱼ of the metric's similarity — the dot
    /// product for `.cosine` and `.dot`, −‖q − d‖² for `.euclid`, −L1 for
    /// `.manhattan` (always higher is better, no square root).
    public static func similarity(
        metric: DistanceMetric, query: UnsafePointer<Float>, queryRows: Int, rows: UnsafePointer<Float>, rowCount: Int,
        dim: Int,
        scratch: inout [Float]
    ) -> Float {
        let total = sumOfBest(
            metric: metric, query: query, queryRows: queryRows, rows: rows, rowCount: rowCount, dim: dim,
            scratch: &scratch)
        return metric.higherIsBetter ? total : -total
    }

    /// `score` over arrays (tests and small inputs).
    public static func score(metric: DistanceMetric, query: [Float], rows: [Float], dim: Int) -> Float {
        var scratch: [Float] = []
        return query.withUnsafeBufferPointer { q in
            rows.withUnsafeBufferPointer { r in
                score(
                    metric: metric, query: q.baseAddress!, queryRows: q.count / dim, rows: r.baseAddress!,
                    rowCount: r.count / dim,
                    dim: dim, scratch: &scratch)
            }
        }
    }

    /// The single vector a multivector is indexed by: the mean of its rows,
    /// normalised for `.cosine` (a zero mean stays zero). Graph search over
    /// these finds candidates, which are then rescored by `score`.
    public static func aggregate(rows: UnsafeBufferPointer<Float>, dim: Int, metric: DistanceMetric) -> [Float] {
        precondition(dim > 0 && rows.count % dim == 0 && !rows.isEmpty, "aggregate needs whole rows")
        let rowCount = rows.count / dim
        var mean = [Float](repeating: 0, count: dim)
        for r in 0..<rowCount {
            for k in 0..<dim { mean[k] += rows[r * dim + k] }
        }
        let scale = 1 / Float(rowCount)
        for k in 0..<dim { mean[k] *= scale }
        if metric == .cosine { _ = VectorKernels.normalize(&mean) }
        return mean
    }
}
