import StrataTestSupport
import Testing
@testable import StrataVectorMath

@Suite("Top-k selection")
struct TopKSelectorTests {
    /// The definition: sort everything by (better score, then smaller id), keep k.
    private func expectedTop(
        _ candidates: [(id: Int, score: Float)], k: Int, higherIsBetter: Bool
    ) -> [(id: Int, score: Float)] {
        let ranked = candidates.filter { !$0.score.isNaN }.sorted { a, b in
            if a.score != b.score { return higherIsBetter ? a.score > b.score : a.score < b.score }
            return a.id < b.id
        }
        return Array(ranked.prefix(k))
    }

    private func same(_ a: [(id: Int, score: Float)], _ b: [(id: Int, score: Float)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.id == $1.id && $0.score == $1.score }
    }

    @Test func matchesAFullSortWithTiesBrokenBySmallerID() {
        var rng = SeededGenerator.forTest()
        for round in 0..<300 {
            let n = Int.random(in: 0...3000, using: &rng)
            let k = Int.random(in: 0...40, using: &rng)
            let higherIsBetter = Bool.random(using: &rng)
            // Few distinct values, so many ties; some NaNs, infinities, ±0.
            let levels = Int.random(in: 1...50, using: &rng)
            let scores: [Float] = (0..<n).map { _ in
                switch Int.random(in: 0..<100, using: &rng) {
                case 0: .nan
                case 1: .infinity
                case 2: -.infinity
                case 3: -0.0
                default: Float(Int.random(in: 0..<levels, using: &rng)) / Float(levels) - 0.5
                }
            }
            let candidates = scores.enumerated().map { (id: $0.offset, score: $0.element) }
            let expected = expectedTop(candidates, k: k, higherIsBetter: higherIsBetter)

            var oneByOne = TopKSelector(k: k, higherIsBetter: higherIsBetter)
            for c in candidates.shuffled(using: &rng) { oneByOne.insert(id: c.id, score: c.score) }
            #expect(same(oneByOne.sorted(), expected), "round \(round): n \(n) k \(k) higherIsBetter \(higherIsBetter)")

            var batched = TopKSelector(k: k, higherIsBetter: higherIsBetter)
            let split = Int.random(in: 0...n, using: &rng)
            scores.withUnsafeBufferPointer { all in
                batched.insert(scores: UnsafeBufferPointer(rebasing: all[0..<split]), firstID: 0)
                batched.insert(scores: UnsafeBufferPointer(rebasing: all[split..<n]), firstID: split)
            }
            #expect(same(batched.sorted(), expected), "round \(round) (batched): n \(n) k \(k)")
            #expect(batched.count == expected.count)
        }
    }

    @Test func mergeEqualsSelectingFromTheUnion() {
        var rng = SeededGenerator.forTest()
        for _ in 0..<100 {
            let k = Int.random(in: 1...20, using: &rng)
            let higherIsBetter = Bool.random(using: &rng)
            let candidates = (0..<500).map { (id: $0, score: Float(Int.random(in: 0..<40, using: &rng))) }
            var left = TopKSelector(k: k, higherIsBetter: higherIsBetter)
            var right = TopKSelector(k: k, higherIsBetter: higherIsBetter)
            for c in candidates {
                if c.id % 3 == 0 {
                    left.insert(id: c.id, score: c.score)
                } else {
                    right.insert(id: c.id, score: c.score)
                }
            }
            left.merge(right)
            #expect(same(left.sorted(), expectedTop(candidates, k: k, higherIsBetter: higherIsBetter)))
        }
    }

    @Test func worstScoreIsTheAdmissionThreshold() {
        var top = TopKSelector(k: 2, metric: .euclid)
        #expect(top.worstScore == nil)
        top.insert(id: 1, score: 5)
        #expect(!top.isFull && top.worstScore == nil)
        top.insert(id: 2, score: 3)
        #expect(top.isFull && top.worstScore == 5)
        top.insert(id: 3, score: 5)  // ties the worst with a larger id: rejected
        #expect(top.sorted().map(\.id) == [2, 1])
        top.insert(id: 0, score: 5)  // ties the worst with a smaller id: admitted
        #expect(top.sorted().map(\.id) == [2, 0])
        top.insert(id: 9, score: .nan)
        #expect(top.sorted().map(\.id) == [2, 0])
        top.removeAll()
        #expect(top.count == 0 && top.sorted().isEmpty)
    }

    @Test func zeroKKeepsNothing() {
        var top = TopKSelector(k: 0, higherIsBetter: true)
        top.insert(id: 1, score: 1)
        [Float(1), 2, 3].withUnsafeBufferPointer { top.insert(scores: $0, firstID: 0) }
        #expect(top.sorted().isEmpty && top.isFull && top.worstScore == nil)
    }

    @Test func negativeZeroAndScoresRoundTripExactly() {
        var top = TopKSelector(k: 3, higherIsBetter: false)
        top.insert(id: 1, score: -0.0)
        top.insert(id: 2, score: 0.1)
        top.insert(id: 3, score: .leastNormalMagnitude / 64)  // subnormal
        let sorted = top.sorted()
        #expect(sorted.map(\.id) == [1, 3, 2])
        #expect(sorted[1].score == .leastNormalMagnitude / 64 && sorted[2].score == 0.1)
    }
}
