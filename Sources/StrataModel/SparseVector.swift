/// A sparse vector: the non-zero dimensions `indices` and their `values`
/// (Qdrant's `SparseVector`). Stored and compared with `indices` strictly
/// ascending; `validated()` puts a vector given in any order into that form.
public struct SparseVector: Sendable, Hashable {
    /// The dimensions with a stored value; strictly ascending in a canonical
    /// vector.
    public var indices: [UInt32]
    /// The value of each dimension in `indices`, at the same position.
    public var values: [Float]

    /// Creates a vector from `indices` and `values` as given, without
    /// checking them; call `validated()` for the checked, sorted form.
    public init(indices: [UInt32], values: [Float]) {
        self.indices = indices
        self.values = values
    }

    /// Number of stored dimensions.
    public var count: Int { indices.count }

    /// True when `indices` are strictly ascending and match `values` in length.
    public var isCanonical: Bool {
        guard indices.count == values.count else { return false }
        for i in indices.indices.dropFirst() where indices[i - 1] >= indices[i] { return false }
        return true
    }

    /// The vector sorted by index, or a description of why it is invalid:
    /// `indices` and `values` of different lengths, a repeated index, or a NaN
    /// or infinite value (Qdrant rejects the same; it also sorts).
    public func validated() -> Result<SparseVector, SparseVectorError> {
        guard indices.count == values.count else {
            return .failure(.lengthMismatch(indices: indices.count, values: values.count))
        }
        for value in values where !value.isFinite { return .failure(.nonFinite) }
        if isCanonical { return .success(self) }
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        let sorted = SparseVector(indices: order.map { indices[$0] }, values: order.map { values[$0] })
        for i in sorted.indices.indices.dropFirst() where sorted.indices[i - 1] == sorted.indices[i] {
            return .failure(.duplicateIndex(sorted.indices[i]))
        }
        return .success(sorted)
    }

    /// The dot product of two canonical vectors, summed in ascending index
    /// order starting from 0 — the one summation order every sparse search
    /// path uses, so their scores agree bit for bit.
    public static func dot(_ a: SparseVector, _ b: SparseVector) -> (score: Float, overlap: Bool) {
        var i = 0, j = 0
        var sum: Float = 0
        var overlap = false
        let ai = a.indices, bi = b.indices
        while i < ai.count && j < bi.count {
            let x = ai[i], y = bi[j]
            if x == y {
                sum += a.values[i] * b.values[j]
                overlap = true
                i += 1
                j += 1
            } else if x < y {
                i += 1
            } else {
                j += 1
            }
        }
        return (sum, overlap)
    }
}

/// Why a sparse vector is invalid.
public enum SparseVectorError: Error, Equatable, CustomStringConvertible {
    /// `indices` and `values` have different lengths (the two counts).
    case lengthMismatch(indices: Int, values: Int)
    /// This index appears more than once.
    case duplicateIndex(UInt32)
    /// A value is NaN or infinite.
    case nonFinite

    /// A message that says what is wrong with the vector, for API errors.
    public var description: String {
        switch self {
        case .lengthMismatch(let indices, let values):
            return "indices and values must have the same length (got \(indices) indices and \(values) values)"
        case .duplicateIndex(let index):
            return "indices must be unique (index \(index) appears more than once)"
        case .nonFinite:
            return "values must be finite (NaN or infinity found)"
        }
    }
}
