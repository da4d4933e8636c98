import Foundation
import Strata
import StrataIO

/// A fresh directory under the system temp dir, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = #function) {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "strata-test-\(safe)-\(UUID().uuidString.prefix(8))"
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Seeded random vectors; tests print their seed so failures replay.
struct TestRandom {
    var rng: SplitMix64
    init(seed: UInt64, quiet: Bool = false) {
        if !quiet { print("seed: \(seed)") }
        rng = SplitMix64(seed: seed)
    }
    mutating func vector(_ dim: Int) -> [Float] {
        (0..<dim).map { _ in Float(Int(rng.next() % 20001) - 10000) / 10000 }
    }
    mutating func int(_ bound: Int) -> Int { Int(rng.next() % UInt64(bound)) }
}

/// Reference distance with Qdrant's score semantics, in Double.
func referenceScore(_ a: [Float], _ b: [Float], _ distance: Distance) -> Float {
    switch distance {
    case .dot, .cosine:
        return Float(zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) })
    case .euclid:
        return Float(zip(a, b).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }.squareRoot())
    case .manhattan:
        return Float(zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) })
    }
}
