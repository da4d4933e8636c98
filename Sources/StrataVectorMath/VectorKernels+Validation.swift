internal import CStrataKernels

extension VectorKernels {
    /// True when every element is finite (no NaN, no ±infinity). Check this
    /// before storing or searching a vector: kernels propagate NaN, and a NaN
    /// score never enters a ``TopKSelector``.
    ///
    /// Complexity: O(n), branch-free over contiguous storage.
    public static func allFinite(_ vector: some Collection<Float>) -> Bool {
        vector.withContiguousStorageIfAvailable { allFinite($0) } ?? vector.allSatisfy(\.isFinite)
    }

    /// True when every element is finite (no NaN, no ±infinity). O(n).
    public static func allFinite(_ vector: UnsafeBufferPointer<Float>) -> Bool {
        // A float is NaN or infinite exactly when its exponent field is all ones.
        // Taking the max of the masked exponents (instead of returning early)
        // keeps the loop free of branches so it vectorises.
        let exponentMask: UInt32 = 0x7F80_0000
        var largest: UInt32 = 0
        for x in vector { largest = max(largest, x.bitPattern & exponentMask) }
        return largest != exponentMask
    }

    /// Scales `vector` to unit Euclidean length in place, as Cosine collections
    /// require of stored vectors and queries.
    ///
    /// Returns false, leaving `vector` unchanged, when it cannot be normalised:
    /// it is empty, all zeros, or contains NaN or infinity. Vectors whose norm
    /// would underflow or overflow a `Float` sum are normalised through a
    /// `Double` sum, so only true zeros fail.
    ///
    /// Complexity: O(n).
    public static func normalize(_ vector: inout [Float]) -> Bool {
        guard !vector.isEmpty else { return false }
        var sumOfSquares = Double(dot(vector, vector))
        if !(sumOfSquares >= Double(Float.leastNormalMagnitude)
            && sumOfSquares <= Double(Float.greatestFiniteMagnitude))
        {
            // Zero, non-finite, or a norm that underflowed or overflowed the
            // Float sum: recompute in Double, whose range holds the square of
            // any finite Float (subnormals included).
            guard allFinite(vector) else { return false }
            sumOfSquares = 0
            for x in vector { sumOfSquares += Double(x) * Double(x) }
        }
        let norm = strata_sqrt_f64(sumOfSquares)
        guard norm > 0, norm.isFinite else { return false }
        let inverse = 1 / norm
        for i in vector.indices { vector[i] = Float(Double(vector[i]) * inverse) }
        return true
    }
}
