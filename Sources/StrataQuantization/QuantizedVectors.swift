internal import CStrataKernels
import StrataVectorMath

// Invariants of a QuantizedVectors (established by train/decode, never changed):
//   * `codes` holds count × codeStride bytes (64-byte aligned allocation, owned);
//     row r's code is at codes + r·codeStride. Binary rows are ⌈d/64⌉ 64-bit words
//     per bit plane, so codeStride is a multiple of 8 and rows are 8-byte aligned.
//   * `corrections` holds count × correctionsPerRow floats (row-major, owned).
//   * `codebook` holds codebookCount floats laid out as docs/format/quantization.md
//     says for the method; for product quantization `transposed`/`norms` are the
//     codebook rearranged for the nearest-centroid kernel.
//   * Every float is finite; binary padding bits (dimension..<64·words) are zero.
// So every row in 0..<count can be scored without further checks.

/// Quantized codes of `count` vectors, kept in RAM, with the per-query and
/// per-row distance functions a graph search needs.
///
/// Lifetime: owns its memory (codes, codebook, corrections); `decode` copies out
/// of the caller's bytes, so a mapping may be closed afterwards.
/// Thread safety: immutable after creation; any number of threads may score
/// concurrently, each with its own ``QuantizedQuery``.
public final class QuantizedVectors: @unchecked Sendable {
    // SAFETY: every stored property is immutable after init and the buffers it
    // points to are written only during init, so sharing across threads is safe.

    public let method: QuantizationMethod
    public let metric: DistanceMetric
    public let dimension: Int
    public let count: Int

    let kind: Kind
    /// kind × metric, resolved once so the scoring path tests one value.
    let scoring: Scoring
    let codes: UnsafeMutableRawPointer
    let codeStride: Int
    let corrections: UnsafeMutablePointer<Float>
    let correctionsPerRow: Int
    let codebook: UnsafeMutablePointer<Float>
    let codebookCount: Int
    /// 64-bit words per bit plane (binary).
    let words: Int
    /// Bit planes per stored row (binary: 1 or 2).
    let planes: Int
    /// Binary 1.5 bits: the upper plane has one bit per pair of dimensions,
    /// in `upperWords` words (else `words`).
    let paired: Bool
    let upperWords: Int
    /// Dimensions per sub-space (product) and number of sub-spaces.
    let subDimension: Int
    let subspaces: Int
    /// Scalar: x ≈ lo + alpha·code. Binary: mean of σ² (symmetric scoring).
    let lo: Float
    let alpha: Float
    let meanVariance: Float
    /// Product: per sub-space 256 × len transposed centroids and their squared norms.
    let transposed: UnsafeMutablePointer<Float>
    let norms: UnsafeMutablePointer<Float>
    let kernels: UnsafePointer<strata_quantized_kernels>

    enum Kind {
        case scalar, binary, product
    }

    enum Scoring {
        case scalarDot, scalarEuclid, scalarManhattan
        /// Binary for .dot/.cosine, and for .euclid/.manhattan (both scored as ‖q − x‖²).
        case binaryDot, binaryEuclid
        case product
    }

    /// Takes ownership of the buffers (allocated with `allocateCodes` / `.allocate`).
    init(
        method: QuantizationMethod, metric: DistanceMetric, dimension: Int, count: Int,
        codes: UnsafeMutableRawPointer, corrections: UnsafeMutablePointer<Float>,
        codebook: UnsafeMutablePointer<Float>
    ) {
        self.method = method
        self.metric = metric
        self.dimension = dimension
        self.count = count
        self.codes = codes
        self.corrections = corrections
        self.codebook = codebook
        let shape = Shape(method: method, metric: metric, dimension: dimension)
        codeStride = shape.codeStride
        correctionsPerRow = shape.correctionsPerRow
        codebookCount = shape.codebookCount
        words = shape.words
        planes = shape.planes
        paired = shape.paired
        upperWords = shape.upperWords
        subDimension = shape.subDimension
        subspaces = shape.subspaces
        kernels = strata_quantized_selected()
        switch method {
        case .scalarInt8:
            kind = .scalar
            lo = codebook[0]
            alpha = codebook[1]
            meanVariance = 0
        case .binary:
            kind = .binary
            lo = 0
            alpha = 0
            var sum: Double = 0
            for i in 0..<dimension { sum += Double(codebook[dimension + i]) * Double(codebook[dimension + i]) }
            meanVariance = Float(sum / Double(dimension))
        case .product:
            kind = .product
            lo = 0
            alpha = 0
            meanVariance = 0
        }
        let distanceLike = metric == .euclid || metric == .manhattan
        switch kind {
        case .scalar: scoring = metric == .euclid ? .scalarEuclid : metric == .manhattan ? .scalarManhattan : .scalarDot
        case .binary: scoring = distanceLike ? .binaryEuclid : .binaryDot
        case .product: scoring = .product
        }
        if kind == .product {
            transposed = .allocate(capacity: 256 * dimension)
            norms = .allocate(capacity: 256 * shape.subspaces)
            for m in 0..<shape.subspaces {
                let (offset, length) = shape.subspace(m, dimension: dimension)
                let rowMajor = codebook + 256 * offset
                let t = transposed + 256 * offset
                for c in 0..<256 {
                    var norm: Float = 0
                    for j in 0..<length {
                        let v = rowMajor[c * length + j]
                        t[j * 256 + c] = v
                        norm += v * v
                    }
                    norms[256 * m + c] = norm
                }
            }
        } else {
            transposed = .allocate(capacity: 0)
            norms = .allocate(capacity: 0)
        }
    }

    deinit {
        codes.deallocate()
        corrections.deallocate()
        codebook.deallocate()
        transposed.deallocate()
        norms.deallocate()
    }

    /// RAM held by the codes, codebook and corrections, in bytes.
    public var memoryBytes: Int {
        let productTables = kind == .product ? 4 * (256 * dimension + 256 * subspaces) : 0
        return count * codeStride + 4 * (count * correctionsPerRow + codebookCount) + productTables
    }

    /// Allocates `bytes` (at least 1) zeroed, 64-byte aligned bytes for codes.
    static func allocateCodes(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
        return p
    }

    static func allocateFloats(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        return p
    }
}

/// Sizes derived from (method, metric, dimension); shared by train, decode and the format.
struct Shape {
    var codeStride = 0
    var correctionsPerRow = 0
    var codebookCount = 0
    var words = 0
    var planes = 0
    /// Binary: whether the upper plane is paired (1.5 bits), and its words.
    var paired = false
    var upperWords = 0
    var subDimension = 0
    var subspaces = 0

    init(method: QuantizationMethod, metric: DistanceMetric, dimension: Int) {
        switch method {
        case .scalarInt8:
            codeStride = dimension
            correctionsPerRow = metric == .euclid ? 1 : 0
            codebookCount = 2
        case .binary(let bits, _, _, let pairedUpper):
            words = (dimension + 63) / 64
            planes = bits
            paired = pairedUpper && bits == 2
            upperWords = paired ? ((dimension + 1) / 2 + 63) / 64 : words
            codeStride = 8 * (words + (bits == 2 ? upperWords : 0))
            correctionsPerRow = 2
            codebookCount = 2 * dimension
        case .product(let ratio):
            subDimension = max(1, ratio / 4)
            subspaces = (dimension + subDimension - 1) / subDimension
            codeStride = subspaces
            correctionsPerRow = 0
            codebookCount = 256 * dimension
        }
    }

    /// First dimension and length of sub-space m (product quantization).
    func subspace(_ m: Int, dimension: Int) -> (offset: Int, length: Int) {
        let offset = m * subDimension
        return (offset, min(subDimension, dimension - offset))
    }
}
