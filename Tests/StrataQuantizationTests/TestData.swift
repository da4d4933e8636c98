import CStrataKernels
import StrataQuantization
import StrataTestSupport
import StrataVectorMath

/// A row-major data set with queries, built from a fixed seed (the quality
/// thresholds were measured on exactly these sets).
struct Dataset: Sendable {
    let dimension: Int
    let count: Int
    let vectors: [Float]
    let queries: [Float]
    var queryCount: Int { queries.count / dimension }
}

/// Standard normal samples (Box–Muller), two per draw.
func gaussians(_ n: Int, using rng: inout SeededGenerator) -> [Float] {
    var out = [Float](repeating: 0, count: n)
    var i = 0
    while i < n {
        let u1 = Double(rng.next() >> 11) * 0x1p-53 + 0x1p-60, u2 = Double(rng.next() >> 11) * 0x1p-53
        let r = (-2 * _log(u1)).squareRoot()
        out[i] = Float(r * _cos(2 * Double.pi * u2))
        if i + 1 < n { out[i + 1] = Float(r * _sin(2 * Double.pi * u2)) }
        i += 2
    }
    return out
}

// Swift's Foundation-free math: these go through the C library.
@_silgen_name("log") func _log(_ x: Double) -> Double
@_silgen_name("cos") func _cos(_ x: Double) -> Double
@_silgen_name("sin") func _sin(_ x: Double) -> Double

/// 5,000 × 128 Gaussian mixture: 32 centres ~ N(0, 1), points = centre + N(0, 0.5²).
let mixture128: Dataset = {
    var rng = SeededGenerator(seed: 0x5EED_0128)
    let d = 128, n = 5000, q = 40, clusters = 32
    let centres = gaussians(clusters * d, using: &rng)
    func make(_ rows: Int) -> [Float] {
        let noise = gaussians(rows * d, using: &rng)
        var out = [Float](repeating: 0, count: rows * d)
        for r in 0..<rows {
            let c = Int(rng.next() % UInt64(clusters))
            for i in 0..<d { out[r * d + i] = centres[c * d + i] + 0.5 * noise[r * d + i] }
        }
        return out
    }
    return Dataset(dimension: d, count: n, vectors: make(n), queries: make(q))
}()

/// 5,000 × 384 unit vectors of intrinsic dimension ~32: a random linear map of a
/// 32-d Gaussian plus 5% uniform noise, normalised (cosine).
let lowRank384: Dataset = {
    var rng = SeededGenerator(seed: 0x5EED_0384)
    let d = 384, n = 5000, q = 40, latent = 32
    let map = gaussians(d * latent, using: &rng)  // row i: the weights of output dimension i
    func make(_ rows: Int) -> [Float] {
        let z = gaussians(rows * latent, using: &rng)
        var out = [Float](repeating: 0, count: rows * d)
        map.withUnsafeBufferPointer { m in
            z.withUnsafeBufferPointer { z in
                for r in 0..<rows {
                    var norm: Float = 0
                    for i in 0..<d {
                        let noise = Float(Double(rng.next() >> 11) * 0x1p-53 - 0.5) * 0.05 * 11
                        let v = strata_dot_f32(m.baseAddress! + i * latent, z.baseAddress! + r * latent, latent) + noise
                        out[r * d + i] = v
                        norm += v * v
                    }
                    let scale = 1 / norm.squareRoot()
                    for i in 0..<d { out[r * d + i] *= scale }
                }
            }
        }
        return out
    }
    return Dataset(dimension: d, count: n, vectors: make(n), queries: make(q))
}()

func train(
    _ method: QuantizationMethod, _ metric: DistanceMetric, _ data: Dataset, seed: UInt64 = 7,
    threads: Int = 2, present: (Int) -> Bool = { _ in true }
) throws -> QuantizedVectors {
    try data.vectors.withUnsafeBufferPointer {
        try QuantizedVectors.train(
            method: method, metric: metric, dimension: data.dimension, count: data.count,
            vectors: $0.baseAddress!, isPresent: present, seed: seed, threads: threads)
    }
}

/// Exact distance, lower is better, on the same scale as the quantized ones.
func exactDistance(_ metric: DistanceMetric, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
    switch metric {
    case .dot, .cosine: -strata_dot_f32(a, b, d)
    case .euclid: strata_l2sq_f32(a, b, d)
    case .manhattan: strata_l1_f32(a, b, d)
    }
}

/// Indices of the `m` smallest values (ascending), by bounded insertion: cheap
/// even in debug builds, where sorting thousands of elements with a closure is not.
func smallest(_ values: [Float], _ m: Int) -> [Int] {
    var top: [Int] = []
    top.reserveCapacity(m + 1)
    for i in values.indices {
        if top.count == m, values[i] >= values[top[m - 1]] { continue }
        var at = top.count
        while at > 0, values[top[at - 1]] > values[i] { at -= 1 }
        top.insert(i, at: at)
        if top.count > m { top.removeLast() }
    }
    return top
}

/// Mean recall@k of: top k·oversampling rows by quantized distance, rescored exactly.
func rescoredRecall(
    _ quantized: QuantizedVectors, _ data: Dataset, metric: DistanceMetric, k: Int = 10,
    oversampling: Int
) -> Double {
    let d = data.dimension
    var total = 0.0
    data.vectors.withUnsafeBufferPointer { vectors in
        data.queries.withUnsafeBufferPointer { queries in
            let rows = (0..<UInt32(data.count)).map { $0 }
            var approx = [Float](repeating: 0, count: data.count)
            for qi in 0..<data.queryCount {
                let q = queries.baseAddress! + qi * d
                let prepared = quantized.prepare(query: q)
                rows.withUnsafeBufferPointer { r in
                    approx.withUnsafeMutableBufferPointer { out in
                        quantized.distances(prepared, rows: r.baseAddress!, count: data.count, into: out.baseAddress!)
                    }
                }
                let exact = (0..<data.count).map { exactDistance(metric, q, vectors.baseAddress! + $0 * d, d) }
                let truth = Set(smallest(exact, k))
                let candidates = smallest(approx, k * oversampling)
                let found = Set(smallest(candidates.map { exact[$0] }, k).map { candidates[$0] })
                total += Double(found.intersection(truth).count) / Double(k)
            }
        }
    }
    return total / Double(data.queryCount)
}
