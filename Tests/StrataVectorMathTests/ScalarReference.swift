@testable import StrataVectorMath

/// Plain Double-precision definitions the kernels are checked against, with the
/// sum of absolute terms that bounds the float rounding error.
enum ScalarReference {
    struct Result {
        var value: Double
        var magnitude: Double
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Result {
        var r = Result(value: 0, magnitude: 0)
        for i in 0..<dim {
            let t = Double(a[i]) * Double(b[i])
            r.value += t
            r.magnitude += abs(t)
        }
        return r
    }

    static func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Result {
        var r = Result(value: 0, magnitude: 0)
        for i in 0..<dim {
            let d = Double(a[i]) - Double(b[i])
            r.value += d * d
            r.magnitude += d * d
        }
        return r
    }

    static func manhattan(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int) -> Result {
        var r = Result(value: 0, magnitude: 0)
        for i in 0..<dim {
            let d = abs(Double(a[i]) - Double(b[i]))
            r.value += d
            r.magnitude += d
        }
        return r
    }

    /// The Qdrant-convention score, in Double.
    static func score(
        _ metric: DistanceMetric, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dim: Int
    ) -> Result {
        switch metric {
        case .cosine, .dot: return dot(a, b, dim: dim)
        case .manhattan: return manhattan(a, b, dim: dim)
        case .euclid:
            let r = squaredL2(a, b, dim: dim)
            // d(sqrt x) = dx / (2 sqrt x): the relative error halves.
            return Result(value: r.value.squareRoot(), magnitude: r.magnitude.squareRoot())
        }
    }

    /// Whether a float kernel result is within float rounding of the exact one:
    /// each of the `dim` terms and partial sums rounds once or twice, so the
    /// error is below (dim + 8) · ε · Σ|terms| (a loose, order-independent bound).
    static func agrees(_ got: Float, _ expected: Result, dim: Int) -> Bool {
        let tolerance = Double(dim + 8) * Double(Float.ulpOfOne) * expected.magnitude + 1e-30
        return abs(Double(got) - expected.value) <= tolerance
    }
}
