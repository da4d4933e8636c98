// The `average_vector` recommendation over sparse vectors (Qdrant's
// `avg_vector_for_recommendation`, lib/collection/src/recommendations.rs,
// with `SparseVector::combine_aggregate`, lib/sparse/src/common/sparse_vector.rs).

extension SparseVector {
    /// The vector over the union of both index sets whose value at each index
    /// is `op(a's value, b's value)`, a missing value counting as 0. Both
    /// must be canonical (indices ascending); so is the result. Entries that
    /// come out 0 are kept, as Qdrant keeps them.
    static func combined(_ a: SparseVector, _ b: SparseVector, _ op: (Float, Float) -> Float) -> SparseVector {
        precondition(a.isCanonical && b.isCanonical, "combined needs canonical vectors")
        var result = SparseVector(indices: [], values: [])
        result.indices.reserveCapacity(a.count + b.count)
        result.values.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a.indices[i] < b.indices[j]) {
                result.indices.append(a.indices[i])
                result.values.append(op(a.values[i], 0))
                i += 1
            } else if i == a.count || b.indices[j] < a.indices[i] {
                result.indices.append(b.indices[j])
                result.values.append(op(0, b.values[j]))
                j += 1
            } else {
                result.indices.append(a.indices[i])
                result.values.append(op(a.values[i], b.values[j]))
                i += 1
                j += 1
            }
        }
        return result
    }

    /// The index-wise mean of canonical `vectors` (missing values count as 0),
    /// summed in the given order and then divided by the count. Precondition:
    /// at least one vector.
    static func average(_ vectors: [SparseVector]) -> SparseVector {
        precondition(!vectors.isEmpty, "average of no vectors")
        var sum = SparseVector(indices: [], values: [])
        for vector in vectors { sum = combined(sum, vector, +) }
        let count = Float(vectors.count)
        sum.values = sum.values.map { $0 / count }
        return sum
    }

    /// The query of recommend's `average_vector` strategy: avg(positive), or
    /// avg(positive) + avg(positive) − avg(negative) index-wise when there are
    /// negatives. Precondition: `positive` is not empty; all canonical.
    static func recommendationAverage(positive: [SparseVector], negative: [SparseVector]) -> SparseVector {
        let positiveAverage = average(positive)
        guard !negative.isEmpty else { return positiveAverage }
        return combined(positiveAverage, average(negative)) { pos, neg in pos + pos - neg }
    }
}
