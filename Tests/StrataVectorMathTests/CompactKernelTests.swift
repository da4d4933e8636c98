import CStrataKernels
import StrataTestSupport
import Testing

/// The compact-row kernels (strata_compact.h) at the selected level: binary16
/// and byte rows against a Double reference, and the element conversions. Run
/// once more with STRATA_DISTANCE_ISA=portable to cover the portable level.
@Suite("Compact (float16 / uint8) kernels")
struct CompactKernelTests {
    static let kinds: [strata_gather_kind] = [
        STRATA_GATHER_NEG_DOT, STRATA_GATHER_L2SQ, STRATA_GATHER_L1, STRATA_GATHER_NEG_COSINE,
    ]
    static let dims = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 384]

    /// binary16 bits -> Double, from the IEEE 754 definition (nil for NaN).
    static func referenceHalf(_ h: UInt16) -> Double? {
        let sign: Double = h & 0x8000 != 0 ? -1 : 1
        let e = Int((h >> 10) & 0x1f), m = Double(h & 0x3ff)
        switch e {
        case 0: return sign * m * 0x1p-24
        case 31: return m == 0 ? sign * .infinity : nil
        default: return sign * (1024 + m) * Double(sign: .plus, exponent: e - 25, significand: 1)
        }
    }

    static func encode(_ values: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { strata_f32_to_f16(v.baseAddress!, $0.baseAddress!, values.count) }
        }
        return out
    }

    static func decode(_ halves: [UInt16]) -> [Float] {
        var out = [Float](repeating: 0, count: halves.count)
        halves.withUnsafeBufferPointer { h in
            out.withUnsafeMutableBufferPointer { strata_f16_to_f32(h.baseAddress!, $0.baseAddress!, halves.count) }
        }
        return out
    }

    /// The Double-precision distance and the sum of absolute terms that bounds
    /// the f32 rounding error (as ScalarReference).
    static func reference(
        _ kind: strata_gather_kind, _ q: [Float], _ row: [Double]
    ) -> (value: Double, tolerance: Double) {
        var dot = 0.0, l2 = 0.0, l1 = 0.0, magnitude = 0.0, qn = 0.0, rn = 0.0
        for (a, x) in zip(q.map(Double.init), row) {
            dot += a * x
            magnitude += abs(a * x)
            l2 += (a - x) * (a - x)
            l1 += abs(a - x)
            qn += a * a
            rn += x * x
        }
        let scale = Double(row.count + 8) * Double(Float.ulpOfOne)
        switch kind {
        case STRATA_GATHER_NEG_DOT: return (-dot, scale * magnitude + 1e-30)
        case STRATA_GATHER_L2SQ: return (l2, scale * l2 + 1e-30)
        case STRATA_GATHER_L1: return (l1, scale * l1 + 1e-30)
        default:
            if qn == 0 || rn == 0 { return (0, 0) }
            let norm = (qn * rn).squareRoot()
            return (-dot / norm, 3 * scale * magnitude / norm + 1e-6)
        }
    }

    @Test func gatherMatchesReference() {
        var rng = SeededGenerator.forTest()
        for dim in Self.dims {
            let rowCount = 20
            let query = rng.floats(dim)
            var halves = Self.encode(rng.floats(rowCount * dim, in: -2...2))
            var bytes = rng.bytes(rowCount * dim)
            // Row 0 is all zeros: its cosine distance is 0 by definition.
            for i in 0..<dim {
                halves[i] = 0
                bytes[i] = 0
            }
            let rows: [UInt32] = (0..<12).map { _ in UInt32.random(in: 0..<UInt32(rowCount), using: &rng) } + [0]
            for kind in Self.kinds {
                var outHalf = [Float](repeating: .nan, count: rows.count + 1)
                var outByte = [Float](repeating: .nan, count: rows.count + 1)
                query.withUnsafeBufferPointer { q in
                    strata_gather_distances_f16(kind, q.baseAddress!, halves, dim, rows, rows.count, &outHalf)
                    strata_gather_distances_u8(kind, q.baseAddress!, bytes, dim, rows, rows.count, &outByte)
                }
                for (i, r) in rows.enumerated() {
                    let range = Int(r) * dim..<(Int(r) + 1) * dim
                    let halfRow = halves[range].map { Self.referenceHalf($0)! }
                    let byteRow = bytes[range].map(Double.init)
                    for (name, got, row) in [("f16", outHalf[i], halfRow), ("u8", outByte[i], byteRow)] {
                        let expected = Self.reference(kind, query, row)
                        #expect(
                            abs(Double(got) - expected.value) <= expected.tolerance,
                            "\(name) kind \(kind.rawValue) dim \(dim) row \(r): got \(got), expected \(expected.value)")
                    }
                    if kind == STRATA_GATHER_NEG_COSINE && r == 0 {
                        #expect(outHalf[i] == 0 && outByte[i] == 0, "cosine of a zero row, dim \(dim)")
                    }
                }
                #expect(outHalf[rows.count].isNaN && outByte[rows.count].isNaN, "wrote past the last row")
            }
        }
    }

    @Test func halfDecodeIsExactForEveryBitPattern() {
        let all = (0...UInt16.max).map { $0 }
        let decoded = Self.decode(all)
        for (h, f) in zip(all, decoded) {
            if let expected = Self.referenceHalf(h) {
                #expect(Double(f) == expected && f.sign == (h & 0x8000 != 0 ? .minus : .plus), "decode \(h)")
            } else {
                #expect(f.isNaN && f.sign == (h & 0x8000 != 0 ? .minus : .plus), "decode NaN \(h)")
            }
        }
    }

    @Test func halfEncodeRoundTripsAndRoundsToNearestEven() {
        let all = (0...UInt16.max).map { $0 }
        let back = Self.encode(Self.decode(all))
        for (h, b) in zip(all, back) {
            if h & 0x7c00 == 0x7c00 && h & 0x3ff != 0 {
                #expect(b & 0x7e00 == 0x7e00, "NaN \(h) -> \(b) stays a quiet NaN")
            } else {
                #expect(b == h, "round trip \(h) -> \(b)")
            }
        }
        let cases: [(Float, UInt16)] = [
            (65520, 0x7c00), (-65520, 0xfc00), (65519.99, 0x7bff), (65504, 0x7bff), (1e10, 0x7c00),
            (.infinity, 0x7c00), (-.infinity, 0xfc00), (0, 0), (-0.0, 0x8000),
            (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x1.000002p-25, 0x0001),  // 2^-25 is a tie -> even 0
            (0x1.8p-24, 0x0002), (0x1.4p-23, 0x0002),  // 1.5 and 2.5 units of 2^-24: ties to even
            (0x1p-14, 0x0400), (0x1.ff8p-15, 0x03ff), (.leastNonzeroMagnitude, 0), (-.leastNonzeroMagnitude, 0x8000),
            (1 + 0x1p-11, 0x3c00), (1 + 0x3p-11, 0x3c02), (1 + 0x1p-11 + 0x1p-23, 0x3c01), (2049, 0x6800),
            (2051, 0x6802),
        ]
        let got = Self.encode(cases.map(\.0))
        for ((value, expected), bits) in zip(cases, got) {
            #expect(bits == expected, "encode \(value): got \(bits), expected \(expected)")
        }
        #expect(Self.encode([.nan, Float(bitPattern: 0x7f80_0001)]).allSatisfy { $0 & 0x7e00 == 0x7e00 })
    }

    @Test func byteDecodeIsExact() {
        let bytes = (0...255).map { UInt8($0) }
        var out = [Float](repeating: -1, count: 257)
        strata_u8_to_f32(bytes, &out, bytes.count)
        #expect(Array(out[0..<256]) == (0...255).map { Float($0) })
        #expect(out[256] == -1)
    }
}
