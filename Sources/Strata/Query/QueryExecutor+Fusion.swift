// Fusion of prefetch results (Qdrant's rrf_scoring and score_fusion).

extension QueryExecutor {
    /// The points of every source, each once, scored by `fusion` summed over
    /// the sources it appears in, best first (equal scores by id). A point
    /// keeps the fields of its first appearance, without `orderValue`.
    /// Precondition: RRF weights, if any, number the sources (validation checks it).
    static func fuse(_ sources: [[ScoredPoint]], _ fusion: Fusion) -> [ScoredPoint] {
        var fused: [PointID: ScoredPoint] = [:]
        var order: [PointID] = []
        func add(_ point: ScoredPoint, _ score: Float) {
            if fused[point.id] != nil {
                fused[point.id]!.score += score
            } else {
                var first = point
                first.score = score
                first.orderValue = nil
                fused[point.id] = first
                order.append(point.id)
            }
        }
        switch fusion {
        case .rrf(let k, let weights):
            for (index, source) in sources.enumerated() {
                let weight = weights?[index] ?? 1
                for (position, point) in source.enumerated() {
                    add(point, Fusion.rrfScore(position: position, k: k, weight: weight))
                }
            }
        case .dbsf:
            for source in sources {
                for (point, score) in zip(source, Fusion.distributionNormalized(source.map(\.score))) {
                    add(point, score)
                }
            }
        }
        return order.map { fused[$0]! }.sorted(by: Self.order(higherIsBetter: true))
    }
}

// The score of each fusion, also computed by a cluster node over the merged
// prefetches of a collection of several shards (ShardedQueries.swift).
extension Fusion {
    /// 1 / ((position + 1) / weight + k − 1), position from 0; 0 for a weight ≤ 0.
    public static func rrfScore(position: Int, k: Int, weight: Float) -> Float {
        guard weight > 0 else { return 0 }
        return 1 / (Float(position + 1) / weight + Float(k) - 1)
    }

    /// Scores mapped by (s − (μ − 3σ)) / 6σ (σ of the sample, Welford's method
    /// in Float as Qdrant); one score → 0.5; all equal → 0.5.
    public static func distributionNormalized(_ scores: [Float]) -> [Float] {
        guard scores.count >= 2 else { return scores.map { _ in 0.5 } }
        var mean: Float = 0
        var aggregate: Float = 0
        for (index, score) in scores.enumerated() {
            let oldDelta = score - mean
            mean += oldDelta / Float(index + 1)
            aggregate += oldDelta * (score - mean)
        }
        let deviation = (aggregate / Float(scores.count - 1)).squareRoot()
        let low = mean - 3 * deviation
        let high = mean + 3 * deviation
        guard low != high else { return scores.map { _ in 0.5 } }
        return scores.map { ($0 - low) / (high - low) }
    }
}
