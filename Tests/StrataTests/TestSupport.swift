import Foundation
import Strata
import StrataTestSupport

extension SeededGenerator {
    /// `dim` values in -1...1 on a grid of 1/10,000 (the sequences the tests' expectations were made with).
    mutating func vector(_ dim: Int) -> [Float] {
        (0..<dim).map { _ in Float(Int(next() % 20001) - 10000) / 10000 }
    }

    /// A value in `0..<bound` (by modulo, as the recorded sequences were made).
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
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
