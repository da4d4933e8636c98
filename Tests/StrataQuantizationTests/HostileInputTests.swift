import StrataQuantization
import StrataTestSupport
import StrataVectorMath
import Testing

@Suite struct HostileInputTests {
    static func sample(_ method: QuantizationMethod) throws -> [UInt8] {
        try train(method, .euclid, smallDataset(dimension: 10, count: 12, seed: 6)).encoded()
    }

    func decode(_ bytes: [UInt8], metric: DistanceMetric = .euclid, dimension: Int = 10, count: Int = 12) throws {
        _ = try bytes.withUnsafeBytes {
            try QuantizedVectors.decode($0, metric: metric, dimension: dimension, count: count)
        }
    }

    @Test func everyTruncationThrows() throws {
        for method in allMethods {
            let bytes = try Self.sample(method)
            for length in 0..<bytes.count {
                #expect(throws: QuantizationError.self) { try decode(Array(bytes[0..<length])) }
            }
            #expect(throws: QuantizationError.self) { try decode(bytes + [0]) }
        }
    }

    @Test func mismatchedExpectationsThrow() throws {
        let bytes = try Self.sample(.scalarInt8(quantile: 1))
        #expect(throws: QuantizationError.self) { try decode(bytes, metric: .dot) }
        #expect(throws: QuantizationError.self) { try decode(bytes, dimension: 11) }
        #expect(throws: QuantizationError.self) { try decode(bytes, count: 11) }
        var newer = bytes
        newer[8] = 4
        #expect { try decode(newer) } throws: { ($0 as? QuantizationError)?.code == .unsupportedVersion }
        // Version 2 exists only for binary codes with a 4-bit query, version 3 for 1.5-bit codes.
        for version: UInt8 in [2, 3] {
            var binaryOnly = bytes
            binaryOnly[8] = version
            #expect { try decode(binaryOnly) } throws: { ($0 as? QuantizationError)?.code == .corruption }
        }
    }

    @Test func everyHeaderByteFlipIsRejectedOrHarmless() throws {
        for method in allMethods {
            let bytes = try Self.sample(method)
            for offset in 0..<56 {
                for bit in 0..<8 {
                    var damaged = bytes
                    damaged[offset] ^= UInt8(1 << bit)
                    // Only the quantile (bytes 40..<48) and the binary asymmetric-query
                    // flag (byte 15, bit 0; in version 3 also its 4-bit flag, bit 1) may
                    // change and still decode: all valid settings. The segment's section
                    // checksum catches such flips.
                    do { try decode(damaged) } catch is QuantizationError { continue }
                    let isBinaryFlag = offset == 15 && (bit == 0 || (bit == 1 && bytes[8] == 3))
                    #expect(
                        (offset >= 40 && offset < 48) || isBinaryFlag,
                        "\(method) accepted a flip at header byte \(offset)")
                }
            }
        }
    }

    @Test func randomGarbageNeverTraps() throws {
        var rng = SeededGenerator.forTest()
        for method in allMethods {
            let bytes = try Self.sample(method)
            for _ in 0..<300 {
                var damaged = bytes
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    damaged[Int(rng.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                // Decoding either throws or yields an object that scores without trapping.
                if let q = try? damaged.withUnsafeBytes({
                    try QuantizedVectors.decode($0, metric: .euclid, dimension: 10, count: 12)
                }) {
                    let prepared = q.prepare(query: [Float](repeating: 0.5, count: 10))
                    for r in 0..<UInt32(12) { _ = q.distance(prepared, to: r) }
                }
            }
            let noise = rng.bytes(bytes.count)
            #expect(throws: QuantizationError.self) { try decode(noise) }
        }
    }
}
