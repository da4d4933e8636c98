import StrataTestSupport
import Testing
@testable import StrataVectorMath

@Suite("Normalisation and validation")
struct ValidationTests {
    private func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }

    @Test func zeroAndEmptyVectorsCannotBeNormalised() {
        var zero = [Float](repeating: 0, count: 384)
        #expect(!VectorKernels.normalize(&zero))
        #expect(zero == [Float](repeating: 0, count: 384))
        var negativeZero: [Float] = [-0.0, 0.0, -0.0]
        #expect(!VectorKernels.normalize(&negativeZero))
        var empty: [Float] = []
        #expect(!VectorKernels.normalize(&empty))
    }

    @Test func nonFiniteVectorsCannotBeNormalised() {
        for bad: Float in [.nan, .infinity, -.infinity] {
            var v: [Float] = [1, 2, bad, 4]
            #expect(!VectorKernels.normalize(&v))
            #expect(v[0] == 1 && v[3] == 4, "left unchanged")
        }
    }

    @Test func normalisedVectorsHaveUnitLength() {
        var rng = SeededGenerator.forTest()
        for dim in [1, 2, 3, 16, 17, 384, 1030] {
            for scale: Float in [1, 1e-30, Float.leastNormalMagnitude / 64, 1e30] {
                var v = rng.floats(dim).map { $0 * scale }
                if v.allSatisfy({ $0 == 0 }) { v[0] = scale }
                let original = v
                #expect(VectorKernels.normalize(&v), "dim \(dim) scale \(scale)")
                #expect(abs(norm(v) - 1) < 1e-5, "dim \(dim) scale \(scale): norm \(norm(v))")
                // Direction is kept: every component keeps its sign.
                #expect(zip(original, v).allSatisfy { ($0 < 0) == ($1 < 0) })
            }
        }
    }

    @Test func nanAndInfinityAreDetectedAtEveryPosition() {
        #expect(VectorKernels.allFinite([Float]()))
        #expect(
            VectorKernels.allFinite([
                0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            ]))
        for count in [1, 7, 16, 37] {
            for position in 0..<count {
                for bad: Float in [.nan, -.nan, .signalingNaN, .infinity, -.infinity] {
                    var v = [Float](repeating: 0.5, count: count)
                    v[position] = bad
                    #expect(!VectorKernels.allFinite(v), "\(bad) at \(position) of \(count)")
                    v.withUnsafeBufferPointer { #expect(!VectorKernels.allFinite($0)) }
                }
            }
        }
    }

    @Test func nonContiguousCollectionsAreValidatedToo() {
        #expect(VectorKernels.allFinite([Float(1), 2, 3].lazy.map { $0 * 2 }))
        #expect(!VectorKernels.allFinite([Float(1), .nan].lazy.map { $0 * 2 }))
        #expect(!VectorKernels.allFinite(Set<Float>([1, .infinity])))
    }
}
