#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataTestSupport
import Testing
@testable import StrataVectorMath

/// Dimensions covering every tail length of the 4-, 8- and 16-wide loops and
/// their 4x unrolled forms, plus common embedding sizes.
private let testedDimensions: [Int] =
    Array(0...130) + [191, 255, 256, 257, 383, 384, 385, 511, 512, 513, 767, 768, 769, 1023, 1024, 1025, 1029, 1030]

private var pairKernels:
    [(
        name: String, kernel: (VectorKernelSet) -> (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float,
        reference: (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> ScalarReference.Result
    )]
{
    [
        ("dot", { set in { set.dot($0, $1, dim: $2) } }, { ScalarReference.dot($0, $1, dim: $2) }),
        ("squaredL2", { set in { set.squaredL2($0, $1, dim: $2) } }, { ScalarReference.squaredL2($0, $1, dim: $2) }),
        ("manhattan", { set in { set.manhattan($0, $1, dim: $2) } }, { ScalarReference.manhattan($0, $1, dim: $2) }),
    ]
}

@Suite("Distance kernels")
struct VectorKernelTests {
    @Test func portableLevelIsAlwaysSupportedAndOrderIsBestFirst() {
        let supported = VectorKernelSet.supported.map(\.instructionSet)
        #expect(supported.contains(.portable))
        #expect(supported == supported.sorted(by: >))
        #expect(VectorKernelSet(.portable)?.instructionSet == .portable)
    }

    @Test func selectedLevelIsTheBestSupportedOrTheForcedOne() {
        let selected = VectorKernelSet.selected.instructionSet
        #expect(VectorKernels.instructionSet == selected.rawValue)
        if let forced = getenv("STRATA_DISTANCE_ISA").map({ String(cString: $0) }),
            let level = VectorInstructionSet(rawValue: forced), VectorKernelSet(level) != nil
        {
            #expect(selected == level)
        } else {
            #expect(selected == VectorKernelSet.supported.first?.instructionSet)
        }
    }

    @Test("Pair kernels match a Double reference at every dimension", arguments: VectorInstructionSet.allCases)
    func pairKernelsMatchReference(level: VectorInstructionSet) {
        guard let set = VectorKernelSet(level) else {
            print("\(level) not supported on this CPU; skipped")
            return
        }
        var rng = SeededGenerator.forTest("pairKernelsMatchReference(\(level))")
        for dim in testedDimensions {
            // One float of padding on each side, and an odd offset, so loads are
            // unaligned and nothing outside [0, dim) may leak into the result.
            let a = [Float.nan] + rng.floats(dim, in: -10...10) + [Float.nan]
            let b = [Float.nan] + rng.floats(dim, in: -10...10) + [Float.nan]
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    let pa = a.baseAddress! + 1, pb = b.baseAddress! + 1
                    for (name, kernel, reference) in pairKernels {
                        let got = kernel(set)(pa, pb, dim)
                        let expected = reference(pa, pb, dim)
                        #expect(
                            ScalarReference.agrees(got, expected, dim: dim),
                            "\(level) \(name) dim \(dim): got \(got), expected \(expected.value)")
                    }
                }
            }
        }
    }

    @Test(
        "Batch kernels match the pair kernels for every row count and metric", arguments: VectorInstructionSet.allCases)
    func batchKernelsMatchReference(level: VectorInstructionSet) {
        guard let set = VectorKernelSet(level) else {
            print("\(level) not supported on this CPU; skipped")
            return
        }
        var rng = SeededGenerator.forTest("batchKernelsMatchReference(\(level))")
        for dim in [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 383, 384, 385, 1030] {
            for count in [0, 1, 2, 3, 4, 5, 7, 8, 9, 13] {
                let query = rng.floats(dim)
                let base = rng.floats(count * dim + 1)  // +1: base starts unaligned
                var scores = [Float](repeating: .nan, count: count + 1)
                for metric in DistanceMetric.allCases {
                    query.withUnsafeBufferPointer { q in
                        base.withUnsafeBufferPointer { x in
                            scores.withUnsafeMutableBufferPointer { out in
                                set.scoreBatch(
                                    metric: metric, query: q.baseAddress!, base: x.baseAddress! + 1,
                                    count: count, dim: dim, into: out.baseAddress!)
                                for r in 0..<count {
                                    let expected = ScalarReference.score(
                                        metric, q.baseAddress!, x.baseAddress! + 1 + r * dim, dim: dim)
                                    #expect(
                                        ScalarReference.agrees(out[r], expected, dim: dim),
                                        "\(level) \(metric) dim \(dim) row \(r)/\(count): got \(out[r]), expected \(expected.value)"
                                    )
                                }
                                #expect(out[count].isNaN, "\(level) \(metric) wrote past row \(count)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Masked tail loads must not touch memory past the vector: place each
    /// vector so that it ends exactly at an inaccessible page. A read past the
    /// end crashes the test process.
    @Test("Kernels never read past the last element", arguments: VectorInstructionSet.allCases)
    func kernelsStopAtTheLastElement(level: VectorInstructionSet) throws {
        guard let set = VectorKernelSet(level) else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let raw = try #require(mmap(nil, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(raw != MAP_FAILED)
        defer { munmap(raw, 3 * page) }
        // Layout: [query page][base page][guard page, PROT_NONE].
        #expect(mprotect(raw + 2 * page, page, PROT_NONE) == 0)
        let floatsPerPage = page / MemoryLayout<Float>.stride
        // SAFETY: the first two pages are mapped read-write and hold only floats.
        let queryPage = raw.bindMemory(to: Float.self, capacity: floatsPerPage)
        let basePage = (raw + page).bindMemory(to: Float.self, capacity: floatsPerPage)
        for i in 0..<floatsPerPage {
            queryPage[i] = Float(i % 7) - 3
            basePage[i] = Float(i % 5) - 2
        }
        var scores = [Float](repeating: 0, count: 16)
        for dim in 1...130 {
            for count in [1, 3, 4, 5] where count * dim <= floatsPerPage {
                let query = UnsafePointer(queryPage + floatsPerPage - dim)
                let base = UnsafePointer(basePage + floatsPerPage - count * dim)
                _ = set.dot(query, base + (count - 1) * dim, dim: dim)
                _ = set.squaredL2(query, base + (count - 1) * dim, dim: dim)
                _ = set.manhattan(query, base + (count - 1) * dim, dim: dim)
                for metric in DistanceMetric.allCases {
                    scores.withUnsafeMutableBufferPointer { out in
                        set.scoreBatch(
                            metric: metric, query: query, base: base, count: count, dim: dim, into: out.baseAddress!)
                    }
                }
            }
        }
    }

    @Test func scoresFollowQdrantConventions() {
        let q: [Float] = [1, 2, 3]
        let v: [Float] = [4, -6, 8]
        q.withUnsafeBufferPointer { q in
            v.withUnsafeBufferPointer { v in
                let score = { (m: DistanceMetric) in
                    VectorKernels.score(metric: m, query: q.baseAddress!, vector: v.baseAddress!, dim: 3)
                }
                #expect(score(.dot) == 16)
                #expect(score(.cosine) == 16)
                #expect(score(.euclid) == Float(9 + 64 + 25).squareRoot())
                #expect(score(.manhattan) == 3 + 8 + 5)
            }
        }
        #expect(DistanceMetric.cosine.higherIsBetter && DistanceMetric.dot.higherIsBetter)
        #expect(!DistanceMetric.euclid.higherIsBetter && !DistanceMetric.manhattan.higherIsBetter)
        #expect(DistanceMetric.allCases.map(\.rawValue) == ["Cosine", "Dot", "Euclid", "Manhattan"])
    }

    @Test func defaultKernelsAgreeWithTheSelectedLevel() {
        var rng = SeededGenerator.forTest()
        let a = rng.floats(385), b = rng.floats(385)
        let selected = VectorKernelSet.selected
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                #expect(VectorKernels.dot(pa, pb) == selected.dot(pa.baseAddress!, pb.baseAddress!, dim: 385))
                #expect(
                    VectorKernels.squaredL2(pa, pb) == selected.squaredL2(pa.baseAddress!, pb.baseAddress!, dim: 385))
                #expect(
                    VectorKernels.manhattan(pa, pb) == selected.manhattan(pa.baseAddress!, pb.baseAddress!, dim: 385))
            }
        }
        let viaPointers = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in selected.dot(pa.baseAddress!, pb.baseAddress!, dim: 385) }
        }
        #expect(VectorKernels.dot(a, b) == viaPointers)
        #expect(VectorKernels.dot([], []) == 0)
        #expect(VectorKernels.squaredL2([1, 2], [1, 2]) == 0)
    }

    @Test func nonFiniteInputsPropagate() {
        for set in VectorKernelSet.supported {
            for dim in [1, 5, 17, 40] {
                for position in [0, dim - 1] {
                    var a = [Float](repeating: 1, count: dim)
                    let b = [Float](repeating: 1, count: dim)
                    a[position] = .nan
                    a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            #expect(
                                set.dot(a.baseAddress!, b.baseAddress!, dim: dim).isNaN,
                                "\(set.instructionSet) dim \(dim)")
                            #expect(set.squaredL2(a.baseAddress!, b.baseAddress!, dim: dim).isNaN)
                            #expect(set.manhattan(a.baseAddress!, b.baseAddress!, dim: dim).isNaN)
                        }
                    }
                }
            }
        }
    }
}
