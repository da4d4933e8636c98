import Foundation
import StrataCompression
import StrataTestSupport
import Testing

// A measurement, not a check: off unless STRATA_COMPRESSION_BENCH is set, and
// meaningful only from a release build. Source of the numbers in
// docs/design/compression.md:
//
//   STRATA_COMPRESSION_BENCH=1 swift test -c release --filter compressionThroughputOnJSONPayloads
//
// With STRATA_COMPRESSION_BENCH_CORPUS=<path> it also writes the corpus there,
// so the `lz4 -b` / `zstd -b` command-line benchmarks can run on the same bytes.

@Test(.enabled(if: ProcessInfo.processInfo.environment["STRATA_COMPRESSION_BENCH"] != nil))
func compressionThroughputOnJSONPayloads() throws {
    var rng = SeededGenerator(seed: 2024)
    let corpus = TestData.jsonLines(count: 16 << 20, using: &rng)
    if let path = ProcessInfo.processInfo.environment["STRATA_COMPRESSION_BENCH_CORPUS"] {
        try Data(corpus).write(to: URL(fileURLWithPath: path))
    }
    let settings: [(CompressionCodec, Int?, repeats: Int)] = [
        (.lz4, nil, 7), (.lz4, 8, 7), (.zstd, -1, 5), (.zstd, 1, 5), (.zstd, nil, 5), (.zstd, 9, 3), (.zstd, 19, 1),
    ]
    print("| codec | level | block | ratio | compress MB/s | decompress MB/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for blockSize in [16 << 20, 64 << 10] {
        let blocks = stride(from: 0, to: corpus.count, by: blockSize).map {
            corpus[$0..<min($0 + blockSize, corpus.count)]
        }
        for (codec, level, repeats) in settings {
            var compressed: [[UInt8]] = []
            let compressTime = try bestOf(repeats) { () throws(CompressionError) in
                compressed = try blocks.map { (block) throws(CompressionError) in
                    try Compression.compress(block, codec: codec, level: level)
                }
            }
            var restoredBytes = 0
            let decompressTime = try bestOf(max(repeats, 5)) { () throws(CompressionError) in
                restoredBytes = 0
                for (block, frame) in zip(blocks, compressed) {
                    restoredBytes += try Compression.decompress(frame, codec: codec, decompressedSize: block.count)
                        .count
                }
            }
            #expect(restoredBytes == corpus.count)
            let ratio = Double(corpus.count) / Double(compressed.reduce(0) { $0 + $1.count })
            let megabytes = Double(corpus.count) / 1e6
            let levelText = level.map(String.init) ?? (codec == .lz4 ? "1 (default)" : "3 (default)")
            print(
                "| \(codec) | \(levelText) | \(blockSize >> 10) KiB | \(format(ratio)) | \(format(megabytes / compressTime, digits: 0)) | \(format(megabytes / decompressTime, digits: 0)) |"
            )
        }
    }
}

/// The fastest of `repeats` runs of `body`, in seconds.
private func bestOf(_ repeats: Int, _ body: () throws(CompressionError) -> Void) throws(CompressionError) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    return best
}

private func format(_ value: Double, digits: Int = 2) -> String {
    String(format: "%.\(digits)f", value)
}
