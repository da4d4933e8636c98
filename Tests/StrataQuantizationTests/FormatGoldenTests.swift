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
