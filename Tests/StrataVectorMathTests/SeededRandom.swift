import Foundation
import StrataIO

/// A repeatable generator for randomized tests (SplitMix64). Every test that
/// uses one prints its seed; rerun with `STRATA_TEST_SEED=<seed>` to reproduce.
typealias SeededRandom = SplitMix64

extension SplitMix64 {

    /// A generator seeded from STRATA_TEST_SEED, or a fresh random seed; prints it.
    static func forTest(_ name: String = #function) -> SplitMix64 {
        let seed = ProcessInfo.processInfo.environment["STRATA_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("\(name): seed \(seed) (rerun with STRATA_TEST_SEED=\(seed))")
        return SplitMix64(seed: seed)
    }

    mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}
