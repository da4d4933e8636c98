import CStrataKernels
import Foundation
import StrataQuantization
import StrataTestSupport
import StrataVectorMath
import Testing

/// ns per distance, in cache, for float and every quantization. Runs only with
/// STRATA_QUANTIZATION_BENCH=1 (use a release build:
/// `swift test -c release --filter quantizedDistanceBenchmark`).
@Suite struct QuantizationBenchmarks {
    static var enabled: Bool { ProcessInfo.processInfo.environment["STRATA_QUANTIZATION_BENCH"] == "1" }

    @Test(.enabled(if: enabled)) func quantizedDistanceBenchmark() throws {
        print("kernels: \(VectorKernels.instructionSet)")
        for d in [384, 1024] {
            var rng = SeededGenerator(seed: 42)
            let n = 2048  // a multiple of the batch size 32
            let data = Dataset(
                dimension: d, count: n, vectors: gaussians(n * d, using: &rng), queries: gaussians(d, using: &rng))
            let rows = (0..<UInt32(n)).map { $0 }
            var out = [Float](repeating: 0, count: n)
            let repeats = 200
            // Float baseline: VectorKernels.dot over the same rows, one call per row.
            let floatNs = data.vectors.withUnsafeBufferPointer { v in
                data.queries.withUnsafeBufferPointer { q in
                    time(repeats * n) {
                        var sink: Float = 0
                        for _ in 0..<repeats {
                            for r in 0..<n { sink += VectorKernels.dot(q.baseAddress!, v.baseAddress! + r * d, dim: d) }
                        }
                        out[0] = sink
                    }
                }
            }
            print(String(format: "BENCH d=%4d %-28@ %7.1f ns", d, "float32 dot" as NSString, floatNs))
            // Asymmetric float × u8 (the alternative to symmetric int8).
            let codes = (0..<(n * d)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let asymNs = codes.withUnsafeBufferPointer { c in
                data.queries.withUnsafeBufferPointer { q in
                    time(repeats * n) {
                        let k = strata_quantized_selected()
                        var sink: Float = 0
                        for _ in 0..<repeats {
                            for r in 0..<n { sink += k.pointee.dot_f32u8(q.baseAddress!, c.baseAddress! + r * d, d) }
                        }
                        out[0] = sink
                    }
                }
            }
            print(String(format: "BENCH d=%4d %-28@ %7.1f ns", d, "kernel float x u8" as NSString, asymNs))
            let int8Query = (0..<d).map { _ in Int8.random(in: -127...127, using: &rng) }
            let symNs = codes.withUnsafeBufferPointer { c in
                int8Query.withUnsafeBufferPointer { q in
                    time(repeats * n) {
                        let k = strata_quantized_selected()
                        var sink: Int32 = 0
                        for _ in 0..<repeats {
                            for r in 0..<n { sink &+= k.pointee.dot_u8i8(c.baseAddress! + r * d, q.baseAddress!, d) }
                        }
                        out[0] = Float(sink)
                    }
                }
            }
            print(String(format: "BENCH d=%4d %-28@ %7.1f ns", d, "kernel u8 x i8" as NSString, symNs))
            let methods: [(String, QuantizationMethod)] = [
                ("int8 (symmetric)", .scalarInt8(quantile: 0.99)),
                ("binary 1-bit symmetric", .binary(bitsPerDimension: 1, asymmetricQuery: false)),
                ("binary 1-bit asymmetric", .binary(bitsPerDimension: 1, asymmetricQuery: true)),
                ("binary 2-bit symmetric", .binary(bitsPerDimension: 2, asymmetricQuery: false)),
                ("binary 2-bit asymmetric", .binary(bitsPerDimension: 2, asymmetricQuery: true)),
                ("pq x8", .product(compressionRatio: 8)),
                ("pq x16", .product(compressionRatio: 16)),
            ]
            for (name, method) in methods {
                let quantized = try train(method, .dot, data)
                let prepared = data.queries.withUnsafeBufferPointer { quantized.prepare(query: $0.baseAddress!) }
                let single = time(repeats * n) {
                    var sink: Float = 0
                    for _ in 0..<repeats {
                        for r in 0..<UInt32(n) { sink += quantized.distance(prepared, to: r) }
                    }
                    out[0] = sink
                }
                let batch = rows.withUnsafeBufferPointer { r in
                    out.withUnsafeMutableBufferPointer { o in
                        time(repeats * n) {
                            for _ in 0..<repeats {
                                var s = 0
                                while s < n {
                                    quantized.distances(
                                        prepared, rows: r.baseAddress! + s, count: 32, into: o.baseAddress! + s)
                                    s += 32
                                }
                            }
                        }
                    }
                }
                print(
                    String(
                        format: "BENCH d=%4d %-28@ %7.1f ns  (batch of 32: %6.1f ns)  x%.1f vs float", d,
                        name as NSString,
                        single, batch, floatNs / single))
            }
        }
    }

    private func time(_ operations: Int, _ body: () -> Void) -> Double {
        body()  // warm up
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(operations))
        }
        return best
    }
}
