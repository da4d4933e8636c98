internal import CStrataKernels
import Dispatch
import StrataIO
import StrataVectorMath

// Training and encoding. Determinism: every random choice draws from a
// SplitMix64 seeded from `seed` (and the sub-space index for product
// quantization); statistics are summed sequentially in row order; parallel
// work is split into items whose results do not depend on which thread runs
// them. So the bytes depend on (inputs, seed) and not on `threads`.

/// Wraps values that parallel workers share read-only or write disjointly.
struct SendableBox<T>: @unchecked Sendable {
    // SAFETY: used only for pointers into buffers that outlive the
    // concurrentPerform call and that workers read, or write at disjoint rows.
    let value: T
    init(_ value: T) { self.value = value }
}

/// Runs body(item) for item in 0..<items on up to `threads` threads.
func parallelFor(items: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    let workers = max(1, min(threads, items))
    if workers == 1 {
        for item in 0..<items { body(item) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var item = worker
        while item < items {
            body(item)
            item += workers
        }
    }
}

/// Rows to train on: every present row, or an evenly strided subset of at most `limit`.
func trainingRows(present: [Int], limit: Int) -> [Int] {
    guard present.count > limit else { return present }
    return (0..<limit).map { present[$0 * present.count / limit] }
}

extension QuantizedVectors {
    /// Largest dimension accepted (the int8 kernels' exactness bound, and the segment format's limit).
    public static let maximumDimension = 65_536
    /// Values sampled to choose the int8 clipping range.
    static let scalarSampleValues = 1 << 20
    /// Rows sampled for the binary per-dimension mean and deviation.
    static let binarySampleRows = 65_536
    /// Rows sampled for product-quantization k-means, and its iteration count.
    static let productSampleRows = 65_536
    static let productIterations = 15
    /// 2-bit thresholds at mean ± k·σ: k of the Lloyd–Max 3-level quantizer of a Gaussian.
    static let twoBitThreshold: Float = 0.612

    /// Trains on and encodes `count` row-major vectors of `dimension` floats.
    ///
    /// - Parameters:
    ///   - isPresent: false for absent rows (all zeros, never searched): they are
    ///     encoded but do not influence training. Called once per row, on the caller's thread.
    ///   - seed: drives every random choice (product quantization's k-means).
    ///   - threads: worker threads for encoding and k-means (≥ 1 is sensible;
    ///     values < 1 mean 1). The result is identical for any value.
    /// - Precondition: `vectors` holds count × dimension finite floats.
    /// - Throws: `invalidArgument` for a bad method, dimension or count.
    /// - Complexity: O(count·dimension) for int8 and binary; product adds
    ///   O(min(count, 65 536)·256·dimension·15) for k-means.
    public static func train(
        method: QuantizationMethod, metric: DistanceMetric, dimension: Int, count: Int,
        vectors: UnsafePointer<Float>, isPresent: (Int) -> Bool,
        seed: UInt64, threads: Int
    ) throws -> QuantizedVectors {
        try method.validate()
        guard dimension >= 1, dimension <= maximumDimension else {
            throw QuantizationError(.invalidArgument, "dimension \(dimension) is outside 1...\(maximumDimension)")
        }
        guard count >= 0, count <= Int(UInt32.max) else {
            throw QuantizationError(.invalidArgument, "vector count \(count) is outside 0...\(UInt32.max)")
        }
        let present = (0..<count).filter(isPresent)
        let shape = Shape(method: method, metric: metric, dimension: dimension)
        let codes = allocateCodes(count * shape.codeStride)
        let corrections = allocateFloats(count * shape.correctionsPerRow)
        let codebook = allocateFloats(shape.codebookCount)
        switch method {
        case .scalarInt8(let quantile):
            let (lo, alpha) = scalarRange(quantile: quantile, dimension: dimension, vectors: vectors, present: present)
            codebook[0] = lo
            codebook[1] = alpha
        case .binary:
            binaryStatistics(dimension: dimension, vectors: vectors, present: present, into: codebook)
        case .product:
            productCodebook(
                shape: shape, dimension: dimension, vectors: vectors, present: present,
                seed: seed, threads: threads, into: codebook)
        }
        let result = QuantizedVectors(
            method: method, metric: metric, dimension: dimension, count: count,
            codes: codes, corrections: corrections, codebook: codebook)
        result.encodeAll(vectors: vectors, threads: threads)
        return result
    }

    /// Encodes every row into `codes` and `corrections`, in parallel blocks of rows.
    func encodeAll(vectors: UnsafePointer<Float>, threads: Int) {
        let block = 1024
        let blocks = (count + block - 1) / block
        let box = SendableBox(vectors)
        parallelFor(items: blocks, threads: threads) { b in
            for row in (b * block)..<min(self.count, (b + 1) * block) {
                self.encode(row: row, vector: box.value + row * self.dimension)
            }
        }
    }

    /// Writes the code and corrections of `row`.
    func encode(row: Int, vector x: UnsafePointer<Float>) {
        let code = codes + row * codeStride
        let correction = corrections + row * correctionsPerRow
        switch kind {
        case .scalar:
            let out = code.assumingMemoryBound(to: UInt8.self)
            let inverse = 1 / alpha
            for i in 0..<dimension {
                let v = ((x[i] - lo) * inverse).rounded()
                out[i] = UInt8(min(max(v, 0), 255))
            }
            if correctionsPerRow == 1 { correction[0] = strata_dot_f32(x, x, dimension) }
        case .binary:
            let out = code.assumingMemoryBound(to: UInt64.self)
            let mean = UnsafePointer(codebook), sigma = UnsafePointer(codebook + dimension)
            let (factor, norm, meanDot) = Self.binaryEncode(
                x, centre: mean, sigma: sigma, dimension: dimension,
                planes: planes, words: words, upperWords: paired ? upperWords : nil, into: out)
            correction[0] = factor
            correction[1] = (metric == .euclid || metric == .manhattan) ? norm : meanDot
        case .product:
            let out = code.assumingMemoryBound(to: UInt8.self)
            let shape = Shape(method: method, metric: metric, dimension: dimension)
            var score: Float = 0
            for m in 0..<subspaces {
                let (offset, length) = shape.subspace(m, dimension: dimension)
                out[m] = UInt8(
                    kernels.pointee.nearest256(x + offset, length, transposed + 256 * offset, norms + 256 * m, &score))
            }
        }
    }

    /// Thermometer bit planes of x − centre (1 plane: x' > 0; 2 planes: x' > −kσ,
    /// x' > kσ; a nil centre is 0) and the row's corrections: the scale f = ‖x'‖² / ⟨x', w⟩ with
    /// w = σ·level (so ⟨q, x'⟩ ≈ f·⟨q, w⟩), ‖x'‖² and ⟨centre, x'⟩. With `upperWords`
    /// (1.5 bits) the upper plane is paired: its bit j is the OR of dimensions 2j and
    /// 2j+1's upper bits, in `upperWords` words, and the levels are read back that way.
    static func binaryEncode(
        _ x: UnsafePointer<Float>, centre: UnsafePointer<Float>?, sigma: UnsafePointer<Float>,
        dimension: Int, planes: Int, words: Int, upperWords: Int? = nil,
        into out: UnsafeMutablePointer<UInt64>
    ) -> (factor: Float, norm: Float, centreDot: Float) {
        if let upperWords {
            return pairedBinaryEncode(
                x, centre: centre, sigma: sigma, dimension: dimension, words: words, upperWords: upperWords, into: out)
        }
        out.initialize(repeating: 0, count: planes * words)
        var projected: Float = 0, norm: Float = 0, centreDot: Float = 0
        for i in 0..<dimension {
            let c = centre?[i] ?? 0
            let v = x[i] - c
            norm += v * v
            centreDot += c * v
            let word = i >> 6, bit = UInt64(1) << UInt64(i & 63)
            if planes == 1 {
                if v > 0 {
                    out[word] |= bit
                    projected += v * sigma[i]
                } else {
                    projected -= v * sigma[i]
                }
            } else {
                let t = twoBitThreshold * sigma[i]
                if v > -t { out[word] |= bit }
                if v > t {
                    out[words + word] |= bit
                    projected += v * sigma[i]
                } else if v <= -t {
                    projected -= v * sigma[i]
                }
            }
        }
        let factor: Float = projected > 0 ? norm / projected : 0
        return (factor, norm, centreDot)
    }

    /// `binaryEncode` with a paired upper plane (1.5 bits): lower plane bit i =
    /// x'ᵢ > −kσᵢ, upper bit j = x'₂ⱼ > kσ₂ⱼ or x'₂ⱼ₊₁ > kσ₂ⱼ₊₁; levels as
    /// `pairedLevel` reads them back.
    private static func pairedBinaryEncode(
        _ x: UnsafePointer<Float>, centre: UnsafePointer<Float>?, sigma: UnsafePointer<Float>,
        dimension: Int, words: Int, upperWords: Int, into out: UnsafeMutablePointer<UInt64>
    ) -> (factor: Float, norm: Float, centreDot: Float) {
        out.initialize(repeating: 0, count: words + upperWords)
        let upper = out + words
        var norm: Float = 0, centreDot: Float = 0
        for i in 0..<dimension {
            let c = centre?[i] ?? 0
            let v = x[i] - c
            norm += v * v
            centreDot += c * v
            let t = twoBitThreshold * sigma[i]
            if v > -t { out[i >> 6] |= UInt64(1) << UInt64(i & 63) }
            if v > t { upper[(i / 2) >> 6] |= UInt64(1) << UInt64((i / 2) & 63) }
        }
        var projected: Float = 0
        for i in 0..<dimension {
            let v = x[i] - (centre?[i] ?? 0)
            let level = pairedLevel(UnsafePointer(out), UnsafePointer(upper), i)
            projected += v * sigma[i] * Float(level)
        }
        let factor: Float = projected > 0 ? norm / projected : 0
        return (factor, norm, centreDot)
    }

    /// Level of dimension i of paired planes (`lower` X, `upper` Y):
    /// ℓᵢ = Xᵢ·(1 + Y⌊i/2⌋) − 1. A dimension below −kσ (X = 0) is −1 whatever its
    /// pair's bit; one above keeps 0 or, when its pair has a dimension above kσ,
    /// +1 — exact unless both are above −kσ and only one above kσ.
    @inline(__always)
    static func pairedLevel(_ lower: UnsafePointer<UInt64>, _ upper: UnsafePointer<UInt64>, _ i: Int) -> Int {
        let x1 = (lower[i >> 6] >> UInt64(i & 63)) & 1
        let y = (upper[(i / 2) >> 6] >> UInt64((i / 2) & 63)) & 1
        return Int(x1 * (1 + y)) - 1
    }

    // MARK: Scalar int8

    /// The clipping range [lo, lo + 255·alpha] holding the central `quantile` of
    /// (a strided sample of) the present values, via a 65 536-bin histogram.
    static func scalarRange(
        quantile: Double, dimension: Int, vectors: UnsafePointer<Float>,
        present: [Int]
    ) -> (lo: Float, alpha: Float) {
        let rows = trainingRows(present: present, limit: max(1, scalarSampleValues / dimension))
        guard !rows.isEmpty else { return (0, 1) }
        var minimum = Float.infinity, maximum = -Float.infinity
        for row in rows {
            let x = vectors + row * dimension
            for i in 0..<dimension {
                minimum = min(minimum, x[i])
                maximum = max(maximum, x[i])
            }
        }
        var lo = minimum, hi = maximum
        if quantile < 1, maximum > minimum {
            let bins = 65_536
            let width = (Double(maximum) - Double(minimum)) / Double(bins)
            var histogram = [Int](repeating: 0, count: bins)
            for row in rows {
                let x = vectors + row * dimension
                for i in 0..<dimension {
                    histogram[min(bins - 1, Int((Double(x[i]) - Double(minimum)) / width))] += 1
                }
            }
            let total = Double(rows.count * dimension)
            let lowRank = (1 - quantile) / 2 * total, highRank = (1 + quantile) / 2 * total
            var cumulative = 0.0
            var foundLow = false
            for b in 0..<bins {
                let next = cumulative + Double(histogram[b])
                if !foundLow, next > lowRank {
                    lo = Float(Double(minimum) + (Double(b) + (lowRank - cumulative) / Double(histogram[b])) * width)
                    foundLow = true
                }
                if next >= highRank {
                    hi = Float(
                        Double(minimum) + (Double(b) + (highRank - cumulative) / Double(max(histogram[b], 1))) * width)
                    break
                }
                cumulative = next
            }
            hi = min(max(hi, lo), maximum)
            lo = max(lo, minimum)
        }
        let alpha = (hi - lo) / 255
        return (lo, alpha.isNormal ? alpha : 1)
    }

    // MARK: Binary

    /// Per-dimension mean (codebook[0..<d]) and standard deviation (codebook[d..<2d]).
    static func binaryStatistics(
        dimension: Int, vectors: UnsafePointer<Float>, present: [Int],
        into codebook: UnsafeMutablePointer<Float>
    ) {
        let rows = trainingRows(present: present, limit: binarySampleRows)
        guard !rows.isEmpty else { return }
        var sum = [Double](repeating: 0, count: dimension), squares = [Double](repeating: 0, count: dimension)
        for row in rows {
            let x = vectors + row * dimension
            for i in 0..<dimension {
                let v = Double(x[i])
                sum[i] += v
                squares[i] += v * v
            }
        }
        let n = Double(rows.count)
        for i in 0..<dimension {
            let mean = sum[i] / n
            codebook[i] = Float(mean)
            codebook[dimension + i] = Float(max(0, squares[i] / n - mean * mean).squareRoot())
        }
    }

    // MARK: Product

    /// k-means (random distinct initial centroids, Lloyd iterations) per
    /// sub-space on a seeded sample of ≤ 65 536 present rows; sub-spaces train in
    /// parallel. Centroid c of sub-space m goes to codebook[256·offset + c·length ...].
    static func productCodebook(
        shape: Shape, dimension: Int, vectors: UnsafePointer<Float>, present: [Int],
        seed: UInt64, threads: Int, into codebook: UnsafeMutablePointer<Float>
    ) {
        var sample = present
        if sample.count > productSampleRows {
            var rng = SplitMix64(seed: seed)
            for i in 0..<productSampleRows {
                let j = i + Int(rng.next() % UInt64(sample.count - i))
                sample.swapAt(i, j)
            }
            sample = Array(sample[0..<productSampleRows]).sorted()
        }
        guard !sample.isEmpty else { return }
        let rows = sample
        let vectorsBox = SendableBox(vectors), codebookBox = SendableBox(codebook)
        let kernels = strata_quantized_selected()
        let kernelsBox = SendableBox(kernels)
        parallelFor(items: shape.subspaces, threads: threads) { m in
            let (offset, length) = shape.subspace(m, dimension: dimension)
            var rng = SplitMix64(seed: seed ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(m + 1)))
            kMeans(
                vectors: vectorsBox.value + offset, stride: dimension, rows: rows, length: length,
                rng: &rng, kernels: kernelsBox.value, centroids: codebookBox.value + 256 * offset)
        }
    }

    /// 256-centroid k-means of the `length`-float sub-vectors at vectors + row·stride.
    static func kMeans(
        vectors: UnsafePointer<Float>, stride: Int, rows: [Int], length: Int,
        rng: inout SplitMix64, kernels: UnsafePointer<strata_quantized_kernels>,
        centroids: UnsafeMutablePointer<Float>
    ) {
        let n = rows.count
        let points = UnsafeMutablePointer<Float>.allocate(capacity: n * length)
        defer { points.deallocate() }
        for (k, row) in rows.enumerated() {
            (points + k * length).update(from: vectors + row * stride, count: length)
        }
        // Initial centroids: 256 distinct sample points (all of them, then copies
        // of the first, when fewer; ties resolve to the lowest index, so copies stay unused).
        var order = Array(0..<n)
        let initial = min(256, n)
        for i in 0..<initial {
            let j = i + Int(rng.next() % UInt64(n - i))
            order.swapAt(i, j)
        }
        for c in 0..<256 {
            (centroids + c * length).update(from: points + order[c < initial ? c : 0] * length, count: length)
        }
        let transposed = UnsafeMutablePointer<Float>.allocate(capacity: 256 * length)
        let norms = UnsafeMutablePointer<Float>.allocate(capacity: 256)
        defer { transposed.deallocate(); norms.deallocate() }
        var assignment = [Int](repeating: -1, count: n)
        var sums = [Double](repeating: 0, count: 256 * length)
        var sizes = [Int](repeating: 0, count: 256)
        var score: Float = 0
        for _ in 0..<productIterations {
            for c in 0..<256 {
                var norm: Float = 0
                for j in 0..<length {
                    let v = centroids[c * length + j]
                    transposed[j * 256 + c] = v
                    norm += v * v
                }
                norms[c] = norm
            }
            var changed = false
            for k in 0..<n {
                let c = Int(kernels.pointee.nearest256(points + k * length, length, transposed, norms, &score))
                if c != assignment[k] {
                    assignment[k] = c
                    changed = true
                }
            }
            if !changed { break }
            for i in sums.indices { sums[i] = 0 }
            for i in sizes.indices { sizes[i] = 0 }
            for k in 0..<n {
                let c = assignment[k]
                sizes[c] += 1
                for j in 0..<length { sums[c * length + j] += Double(points[k * length + j]) }
            }
            for c in 0..<256 where sizes[c] > 0 {  // an empty cluster keeps its centroid
                for j in 0..<length { centroids[c * length + j] = Float(sums[c * length + j] / Double(sizes[c])) }
            }
        }
    }
}
