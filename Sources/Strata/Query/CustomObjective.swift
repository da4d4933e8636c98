import Foundation

// The scoring rules of the custom query objectives and of MMR, written once
// over any kind of example (Qdrant's `Query<T>::score_by` in
// lib/segment/src/vector_storage/query/{reco_query,discover_query,context_query}.rs
// and lib/shard/src/query/mmr/mod.rs). A caller supplies the similarity of
// one example to the candidate; docs/query.md states the formulas.
//
// The dense, multivector and sparse paths all score through these.

/// A custom objective with its examples resolved to `Example`s (dense
/// vectors, sparse vectors…), scoring a candidate from its similarity to
/// each example. Larger scores are better.
enum CustomObjective<Example> {
    case bestScore(positive: [Example], negative: [Example])
    case sumScores(positive: [Example], negative: [Example])
    case discover(target: Example, pairs: [(positive: Example, negative: Example)])
    case context(pairs: [(positive: Example, negative: Example)])
    case feedback(target: Example, pairs: [(positive: Example, negative: Example, weight: Float)], a: Float)

    /// The candidate's score, `similarity(example)` being its raw similarity
    /// to one example (larger = more similar):
    /// - best_score: scaledFastSigmoid(max positive) when the best positive
    ///   beats the best negative, else −scaledFastSigmoid(max negative);
    /// - sum_scores: Σ positive − Σ negative;
    /// - discover: Σ over pairs of sign(positive − negative) +
    ///   scaledFastSigmoid(similarity to the target);
    /// - context: Σ over pairs of fastSigmoid(min(positive − negative − ε, 0));
    /// - feedback: a · target + Σ over pairs of weight · (positive − negative).
    func score(_ similarity: (Example) -> Float) -> Float {
        switch self {
        case .bestScore(let positive, let negative):
            var maxPositive = -Float.infinity
            for example in positive { maxPositive = max(maxPositive, similarity(example)) }
            var maxNegative = -Float.infinity
            for example in negative { maxNegative = max(maxNegative, similarity(example)) }
            return maxPositive > maxNegative
                ? QueryExecutor.scaledFastSigmoid(maxPositive) : -QueryExecutor.scaledFastSigmoid(maxNegative)
        case .sumScores(let positive, let negative):
            var positiveSum: Float = 0
            for example in positive { positiveSum += similarity(example) }
            var negativeSum: Float = 0
            for example in negative { negativeSum += similarity(example) }
            return positiveSum - negativeSum
        case .discover(let target, let pairs):
            var rank = 0
            for pair in pairs {
                let positive = similarity(pair.positive)
                let negative = similarity(pair.negative)
                rank += positive > negative ? 1 : (positive < negative ? -1 : 0)
            }
            return Float(rank) + QueryExecutor.scaledFastSigmoid(similarity(target))
        case .context(let pairs):
            var sum: Float = 0
            for pair in pairs {
                let difference = similarity(pair.positive) - similarity(pair.negative) - Float.ulpOfOne
                sum += QueryExecutor.fastSigmoid(min(difference, 0))
            }
            return sum
        case .feedback(let target, let pairs, let a):
            var score = a * similarity(target)
            for pair in pairs { score += pair.weight * (similarity(pair.positive) - similarity(pair.negative)) }
            return score
        }
    }

    /// Qdrant's naive relevance feedback: every ordered pair of examples
    /// whose judged scores differ by more than 0, weighted by
    /// (difference)^b · c, in the order of Rust's `permutations(2)`.
    static func naiveFeedback(
        target: Example, feedback: [(example: Example, score: Float)], a: Float, b: Float, c: Float
    ) -> CustomObjective {
        var pairs: [(positive: Example, negative: Example, weight: Float)] = []
        for (i, positive) in feedback.enumerated() {
            for (j, negative) in feedback.enumerated() where i != j {
                let confidence = positive.score - negative.score
                guard confidence > 0 else { continue }
                pairs.append((positive.example, negative.example, Foundation.pow(confidence, b) * c))
            }
        }
        return .feedback(target: target, pairs: pairs, a: a)
    }
}
