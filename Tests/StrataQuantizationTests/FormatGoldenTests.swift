import StrataQuantization
import StrataTestSupport
import StrataVectorMath
import Testing

/// The worked example of docs/format/quantization.md, byte for byte (format version 1).
@Test func formatVersion1WorkedExampleIsStable() throws {
    let expected = hexBytes(
        """
        53 54 52 41 54 41 51 5A  01 00 00 00  01 02 00 00  02 00 00 00  01 00 00 00
        00 00 00 00  02 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00 00 00 F0 3F
        02 00 00 00 00 00 00 00  00 00 00 BF  81 80 80 3B  FF 00
        """)
    let q = try QuantizedVectors.train(
        method: .scalarInt8(quantile: 1), metric: .dot, dimension: 2, count: 1,
        vectors: [0.5, -0.5], isPresent: { _ in true }, seed: 0, threads: 1)
    #expect(q.encoded() == expected)
    let decoded = try expected.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 2, count: 1) }
    let prepared = decoded.prepare(query: [1, 0])
    #expect(abs(decoded.distance(prepared, to: 0) - -0.5) < 0.01)
}

/// Format version 2: a 4-bit asymmetric query (Qdrant's `scalar4bits`) is flags
/// 0b11 in a version 2 header; the codes are those of the 8-bit query, whose
/// file stays version 1. Each version refuses the other's flags.
@Test func formatVersion2MarksAFourBitQuery() throws {
    let vectors: [Float] = [0.5, -0.5, 0.25, 1, -1, 0.75]
    func train(_ queryBits: Int) throws -> QuantizedVectors {
        try QuantizedVectors.train(
            method: .binary(bitsPerDimension: 1, asymmetricQuery: true, queryBits: queryBits), metric: .dot,
            dimension: 2, count: 3, vectors: vectors, isPresent: { _ in true }, seed: 0, threads: 1)
    }
    let eight = try train(8).encoded(), four = try train(4).encoded()
    #expect(Array(eight[8..<12]) == [1, 0, 0, 0] && eight[15] == 0b01)
    #expect(Array(four[8..<12]) == [2, 0, 0, 0] && four[15] == 0b11)
    var same = four
    same.replaceSubrange(8..<12, with: [1, 0, 0, 0])
    same[15] = 0b01
    #expect(same == eight)
    let decoded = try four.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 2, count: 3) }
    #expect(decoded.method == .binary(bitsPerDimension: 1, asymmetricQuery: true, queryBits: 4))
    var fourInVersion1 = four
    fourInVersion1.replaceSubrange(8..<12, with: [1, 0, 0, 0])
    var eightInVersion2 = eight
    eightInVersion2.replaceSubrange(8..<12, with: [2, 0, 0, 0])
    for bad in [fourInVersion1, eightInVersion2] {
        #expect(throws: QuantizationError.self) {
            _ = try bad.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 2, count: 3) }
        }
    }
    // Both queries rank the three rows alike for a clear query.
    let query: [Float] = [1, -1]
    let eightCodes = try eight.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 2, count: 3) }
    func order(_ codes: QuantizedVectors) -> [UInt32] {
        let prepared = codes.prepare(query: query)
        return [UInt32(0), 1, 2].sorted { codes.distance(prepared, to: $0) < codes.distance(prepared, to: $1) }
    }
    #expect(order(decoded) == order(eightCodes))
}

/// Format version 3: 1.5-bit codes (Qdrant's `one_and_half_bits`), the worked
/// example of docs/format/quantization.md byte for byte: flags bit 2, the upper
/// plane one bit per pair of dimensions (the OR of the pair's), levels and
/// factors read back through the pairs.
@Test func formatVersion3WorkedExampleIsStable() throws {
    let expected = hexBytes(
        """
        53 54 52 41 54 41 51 5A 03 00 00 00 02 02 02 04 04 00 00 00 02 00 00 00
        00 00 00 00 10 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        08 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 80 3F 00 00 80 3F 00 00 80 3F 00 00 40 40 00 00 80 3F 00 00 00 00
        00 00 80 3F 00 00 00 00 0B 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00
        04 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00
        """)
    let method = QuantizationMethod.binary(bitsPerDimension: 2, asymmetricQuery: false, pairedUpperPlane: true)
    let q = try QuantizedVectors.train(
        method: method, metric: .dot, dimension: 4, count: 2,
        vectors: [1, 1, -1, 3, -1, -1, 1, -3], isPresent: { _ in true }, seed: 0, threads: 1)
    #expect(q.encoded() == expected)
    let decoded = try expected.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 4, count: 2) }
    #expect(decoded.method == method)
    // Levels (1, 1, −1, 1) and (−1, −1, 1, −1) — dimension 2 of row 0 and dimension 3
    // of row 1 are below −kσ, so −1 although their pair's upper bit is set: Σ ℓ_a·ℓ_b =
    // −4, factors 1 and 1, mean(σ²) = 3, so the row-to-row estimate of ⟨x₀, x₁⟩ is
    // −12, here exactly the true −12.
    let estimate = -decoded.distance(between: 0, and: 1)
    #expect(abs(estimate - -12) < 1e-4)
    // The query (1, 1, −1, 3) scores row 0 with 2 full planes' estimator: exact here too.
    let prepared = decoded.prepare(query: [1, 1, -1, 3])
    #expect(abs(-decoded.distance(prepared, to: 0) - 12) < 1e-3)
    // Other versions refuse the paired flag, and version 3 refuses codes without it.
    for (version, flags): (UInt8, UInt8) in [(1, 0b100), (2, 0b111), (3, 0), (3, 0b11)] {
        var bad = expected
        bad[8] = version
        bad[15] = flags
        #expect(throws: QuantizationError.self) {
            _ = try bad.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 4, count: 2) }
        }
    }
    // An upper-plane bit past the last pair (bit 2 of 2 pairs) is corruption.
    var padded = expected
    padded[expected.count - 8] = 0b110
    #expect(throws: QuantizationError.self) {
        _ = try padded.withUnsafeBytes { try QuantizedVectors.decode($0, metric: .dot, dimension: 4, count: 2) }
    }
}
