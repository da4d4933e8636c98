internal import CStrataKernels

/// An instruction-set level of the C distance kernels, in increasing capability.
public enum VectorInstructionSet: String, Sendable, CaseIterable, Comparable {
    /// C vector extensions: SSE2 on baseline x86-64, NEON on arm64. Always available.
    case portable
    /// AVX2 with FMA, 8 floats per instruction.
    case avx2
    /// AVX-512F, 16 floats per instruction.
    case avx512

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.level < rhs.level }

    private var level: Int {
        switch self {
        case .portable: 0
        case .avx2: 1
        case .avx512: 2
        }
    }

    var cValue: strata_isa {
        switch self {
        case .portable: STRATA_ISA_PORTABLE
        case .avx2: STRATA_ISA_AVX2
        case .avx512: STRATA_ISA_AVX512
        }
    }
}

/// One implementation level of every distance kernel, pinned.
///
/// ``VectorKernels`` always uses ``selected``, the level chosen once per process
/// (the best the CPU supports, or the one named by the environment variable
/// `STRATA_DISTANCE_ISA=portable|avx2|avx512`). A `VectorKernelSet` lets tests and
/// benchmarks run a specific level side by side with the others.
///
/// The methods have the same contracts as the ``VectorKernels`` methods of the
/// same name. Levels agree to within float rounding (the sums are accumulated in
/// different orders), not bit for bit.
///
/// Thread safety: immutable; share freely.
public struct VectorKernelSet: Sendable {
    typealias PairKernel = @convention(c) (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float
    typealias BatchKernel =
        @convention(c) (
            UnsafePointer<Float>, UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>
        ) -> Void

    /// The level these kernels were compiled for.
    public let instructionSet: VectorInstructionSet

    private let functions: Functions

    // SAFETY: C function pointers into CStrataKernels' immutable static tables;
    // the functions are pure (no shared mutable state), so calling them from any
    // thread is safe and the pointers stay valid for the life of the process.
    private struct Functions: @unchecked Sendable {
        let dot, l2sq, l1: PairKernel
        let dotBatch, l2sqBatch, l1Batch: BatchKernel
    }

    /// The kernels of `instructionSet`, or nil when this build lacks that level or
    /// this CPU (or OS) cannot execute it.
    public init?(_ instructionSet: VectorInstructionSet) {
        guard let table = strata_distance_kernels_for(instructionSet.cValue) else { return nil }
        self.init(table: table.pointee)
    }

    private init(table: strata_distance_kernels) {
        instructionSet =
            switch table.isa {
            case STRATA_ISA_AVX512: .avx512
            case STRATA_ISA_AVX2: .avx2
            default: .portable
            }
        functions = Functions(
            dot: table.dot, l2sq: table.l2sq, l1: table.l1,
            dotBatch: table.dot_batch, l2sqBatch: table.l2sq_batch, l1Batch: table.l1_batch)
    }

    /// The level ``VectorKernels`` uses in this process.
    public static var selected: VectorKernelSet { VectorKernelSet(table: strata_distance_selected().pointee) }

    /// Every level this CPU can run, in the default dispatch order (best first):
    /// avx512, avx2, portable. On AMD Zen 5 AVX-512 measured fastest in cache
    /// and out of cache (docs/benchmarks.md).
    public static var supported: [VectorKernelSet] {
        [.avx512, .avx2, .portable].compactMap { VectorKernelSet($0) }
    }

    /// Σ a[i]·b[i]. Precondition: `dim >= 0`.
    public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Float {
        precondition(dim >= 0, "dimension must not be negative")
        return functions.dot(a, b, dim)
    }

    /// Σ (a[i] − b[i])². Precondition: `dim >= 0`.
    public func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Float {
        precondition(dim >= 0, "dimension must not be negative")
        return functions.l2sq(a, b, dim)
    }

    /// Σ |a[i] − b[i]|. Precondition: `dim >= 0`.
    public func manhattan(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Float {
        precondition(dim >= 0, "dimension must not be negative")
        return functions.l1(a, b, dim)
    }

    /// The Qdrant-convention score of `vector` for `query` (see ``DistanceMetric``).
    public func score(
        metric: DistanceMetric, query: UnsafePointer<Float>, vector: UnsafePointer<Float>, dim: Int
    ) -> Float {
        switch metric {
        case .cosine, .dot: dot(query, vector, dim: dim)
        case .euclid: strata_sqrt_f32(squaredL2(query, vector, dim: dim))
        case .manhattan: manhattan(query, vector, dim: dim)
        }
    }

    /// Scores `query` against `count` contiguous row-major vectors at `base`
    /// (row r starts at `base + r * dim`) and writes the Qdrant-convention score
    /// of row r to `scores[r]`.
    ///
    /// Preconditions: `count >= 0`, `dim >= 0`; `base` holds `count * dim` floats,
    /// `scores` has room for `count`, and `scores` overlaps neither input.
    /// Complexity: O(count · dim); reads `base` once, front to back.
    public func scoreBatch(
        metric: DistanceMetric, query: UnsafePointer<Float>, base: UnsafePointer<Float>,
        count: Int, dim: Int, into scores: UnsafeMutablePointer<Float>
    ) {
        precondition(count >= 0 && dim >= 0, "count and dimension must not be negative")
        switch metric {
        case .cosine, .dot:
            functions.dotBatch(query, base, count, dim, scores)
        case .euclid:
            functions.l2sqBatch(query, base, count, dim, scores)
            strata_sqrt_f32_inplace(scores, count)
        case .manhattan:
            functions.l1Batch(query, base, count, dim, scores)
        }
    }
}
