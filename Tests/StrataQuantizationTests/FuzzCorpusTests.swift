import Foundation
import StrataQuantization
import StrataVectorMath
import Testing

/// Replays the quantized-codes inputs of `fuzz/corpus/vector-index` (first byte
/// odd; see fuzz/Sources/VectorIndexFuzz) on every test run, so a fixed crash
/// stays fixed without building the fuzzer: decoding either throws or gives
/// codes that prepare a query and score every row without trapping.
@Suite struct QuantizedFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/vector-index").path

    @Test func everyCodesInputDecodesOrFailsCleanly() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).sorted()
        #expect(files.contains { $0.hasPrefix("regression-") })
        var replayed = 0
        for file in files {
            let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/" + file)))
            guard input.count > 25, input[0] % 2 == 1 else { continue }
            let bytes = Array(input.dropFirst())
            func word(_ offset: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) } }
            let metric: DistanceMetric =
                switch bytes[13] {
                case 1: .cosine
                case 3: .euclid
                case 4: .manhattan
                default: .dot
                }
            let dimension = word(16), count = word(20)
            guard (1...4096).contains(dimension), (1...(1 << 16)).contains(count) else { continue }
            replayed += 1
            let decoded = bytes.withUnsafeBytes {
                try? QuantizedVectors.decode($0, metric: metric, dimension: dimension, count: count)
            }
            guard let codes = decoded else { continue }
            let query = (0..<dimension).map { Float(($0 * 31) % 17) / 8 - 1 }
            let prepared = query.withUnsafeBufferPointer { codes.prepare(query: $0.baseAddress!) }
            let rows = (0..<UInt32(min(count, 256))).map { $0 }
            var out = [Float](repeating: 0, count: rows.count)
            rows.withUnsafeBufferPointer { r in
                out.withUnsafeMutableBufferPointer {
                    codes.distances(prepared, rows: r.baseAddress!, count: rows.count, into: $0.baseAddress!)
                }
            }
        }
        #expect(replayed >= 4)
    }
}
