internal import CStrataKernels

/// Distance kernels over `Float` vectors, running the best instruction-set level
/// this CPU supports (see ``VectorKernelSet`` and ``instructionSet``).
///
/// The kernels are C functions compiled per level with function target
/// attributes (AVX-512F, AVX2+FMA, portable) and picked at run time, because
/// Swift loops over `Float` do not vectorise and a library cannot pass
/// `-target-cpu` to its clients' builds.
///
/// Contracts for every kernel:
/// - Vectors are `dim` consecutive floats; `dim` may be any value ≥ 0 (0 gives 0).
/// - Pointers need only `Float` alignment; inputs are read, never retained.
/// - Results are float sums in an unspecified order: relative error about
///   `dim · Float.ulpOfOne` against exact arithmetic, and levels may differ in the
///   last bits. NaN or infinity in an input propagates per IEEE 754; validate
///   stored vectors with ``allFinite(_:)`` first.
/// - Thread safety: pure functions; call from any thread.
/// - Complexity: O(dim) per pair.
public enum VectorKernels {
    /// The level in use: "avx512", "avx2" or "portable".
    public static var instructionSet: String { String(cString: strata_distance_isa_name()) }

    // MARK: Pairs

    /// Σ a[i]·b[i] over `dim` floats. Precondition: `dim >= 0`.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Float {
        precondition(dim >= 0, "dimension must not be negative")
        return strata_dot_f32(a, b, dim)
    }

    /// Σ (a[i] − b[i])² over `dim` floats. Precondition: `dim >= 0`.
    public static func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Float {
        precondition(dim >= 0, "dimension must not be negative")
        return strata_l2sq_f32(a, b, dim)
    }

    /// Σ |a[i] − b[i]| over `dim` floats. Precondition: `dim >= 0`.
    public static func manhattan(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Float {
        precondition(dim >= 0, "dimension must not be negative")
        return strata_l1_f32(a, b, dim)
    }

    /// Σ a[i]·b[i]. Precondition: `a.count == b.count`.
    public static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        withPair(a, b) { strata_dot_f32($0, $1, $2) }
    }

    /// a·b / (|a| |b|), and 0 when either is a zero vector: Cosine over
    /// vectors that are not normalised (the `uint8` datatype, as Qdrant
    /// scores it). Precondition: `a.count == b.count`.
    public static func cosine(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        let normA = dot(a, a), normB = dot(b, b)
        guard normA > 0, normB > 0 else { return 0 }
        return Float(Double(dot(a, b)) / (Double(normA) * Double(normB)).squareRoot())
    }

    /// Σ (a[i] − b[i])². Precondition: `a.count == b.count`.
    public static func squaredL2(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        withPair(a, b) { strata_l2sq_f32($0, $1, $2) }
    }

    /// Σ |a[i] − b[i]|. Precondition: `a.count == b.count`.
    public static func manhattan(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        withPair(a, b) { strata_l1_f32($0, $1, $2) }
    }

    /// Σ a[i]·b[i]. Precondition: `a.count == b.count`.
    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in dot(a, b) } }
    }

    /// Σ (a[i] − b[i])². Precondition: `a.count == b.count`.
    public static func squaredL2(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in squaredL2(a, b) } }
    }

    /// Σ |a[i] − b[i]|. Precondition: `a.count == b.count`.
    public static func manhattan(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in manhattan(a, b) } }
    }

    private static func withPair(
        _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
        _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float
    ) -> Float {
        precondition(a.count == b.count, "vectors have different dimensions (\(a.count) and \(b.count))")
        // SAFETY: a nil base address only occurs for an empty buffer, and an
        // empty pair scores 0 without touching memory.
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return kernel(pa, pb, a.count)
    }

    // MARK: Scores

    /// The Qdrant-convention score of `vector` for `query`: the dot product for
    /// `.cosine` and `.dot` (higher is better), √Σ(q−v)² for `.euclid` and Σ|q−v|
    /// for `.manhattan` (lower is better). Precondition: `dim >= 0`.
    public static func score(
        metric: DistanceMetric, query: UnsafePointer<Float>, vector: UnsafePointer<Float>, dim: Int
    ) -> Float {
        switch metric {
        case .cosine, .dot: dot(query, vector, dim: dim)
        case .euclid: strata_sqrt_f32(squaredL2(query, vector, dim: dim))
        case .manhattan: manhattan(query, vector, dim: dim)
        }
    }

    /// Scores `query` against `count` contiguous row-major vectors at `base` (row r
    /// starts at `base + r * dim`) and writes row r's Qdrant-convention score (see
    /// ``score(metric:query:vector:dim:)``) to `scores[r]`. This is the exact-scan
    /// kernel: it streams `base` once, four rows at a time.
    ///
    /// Preconditions: `count >= 0`, `dim >= 0`; `base` holds `count * dim` floats;
    /// `scores` has room for `count` floats and overlaps neither input.
    /// Complexity: O(count · dim). Out of cache it runs at memory bandwidth
    /// (`4 · dim` bytes per row), so keep chunks large (thousands of rows) and
    /// rows contiguous.
    public static func scoreBatch(
        metric: DistanceMetric, query: UnsafePointer<Float>, base: UnsafePointer<Float>,
        count: Int, dim: Int, into scores: UnsafeMutablePointer<Float>
    ) {
        precondition(count >= 0 && dim >= 0, "count and dimension must not be negative")
        switch metric {
        case .cosine, .dot:
            strata_dot_batch_f32(query, base, count, dim, scores)
        case .euclid:
            strata_l2sq_batch_f32(query, base, count, dim, scores)
            // In C: Swift's squareRoot() on Linux calls libm's sqrtf and does not vectorise.
            strata_sqrt_f32_inplace(scores, count)
        case .manhattan:
            strata_l1_batch_f32(query, base, count, dim, scores)
        }
    }
}
