import CStrataKernels
import StrataTestSupport
import Testing

/// Every level of every quantized kernel against a scalar Swift reference, on
/// random inputs of every length 0...1100 (bytes) or 0...40 words (bits).
@Suite struct QuantizedKernelTests {
    static let levels: [strata_isa] = [STRATA_ISA_PORTABLE, STRATA_ISA_AVX2, STRATA_ISA_AVX512]
    static var tables: [UnsafePointer<strata_quantized_kernels>] {
        levels.compactMap { strata_quantized_kernels_for($0) }
    }

    @Test func byteKernelsMatchReferenceForEveryLength() {
        var rng = SeededGenerator.forTest()
        let maxLength = 1100
        // One random buffer, sliced at a random offset so tails are unaligned too.
        let u = rng.bytes(maxLength + 64), v = rng.bytes(maxLength + 64)
        let s = (0..<(maxLength + 64)).map { _ in Int8.random(in: -127...127, using: &rng) }
        let f = (0..<(maxLength + 64)).map { _ in Float.random(in: -1...1, using: &rng) }
        // Every length at three offsets (aligned, odd, last byte of a cache line);
        // the references are running sums, extended by one element per length.
        for o in [0, 5, 63] {
            var dot: Int32 = 0, l1: UInt32 = 0, fdot: Double = 0, dotUU: UInt32 = 0, l2: UInt32 = 0
            for n in 0...maxLength {
                u.withUnsafeBufferPointer { u in
                    v.withUnsafeBufferPointer { v in
                        s.withUnsafeBufferPointer { s in
                            f.withUnsafeBufferPointer { f in
                                let uo = u.baseAddress! + o, vo = v.baseAddress! + o, so = s.baseAddress! + o,
                                    fo = f.baseAddress! + o
                                for k in Self.tables {
                                    let name = String(cString: k.pointee.name)
                                    #expect(k.pointee.dot_u8i8(uo, so, n) == dot, "\(name) dot_u8i8 n=\(n)")
                                    #expect(k.pointee.l1_u8(uo, vo, n) == l1, "\(name) l1_u8 n=\(n)")
                                    let got = Double(k.pointee.dot_f32u8(fo, uo, n))
                                    #expect(
                                        abs(got - fdot) <= 1e-5 * Double(max(n, 1)) * 255, "\(name) dot_f32u8 n=\(n)")
                                }
                                #expect(strata_dot_u8u8(uo, vo, n) == dotUU)
                                #expect(strata_l2sq_u8(uo, vo, n) == l2)
                            }
                        }
                    }
                }
                let i = o + n
                dot += Int32(u[i]) * Int32(s[i])
                l1 += UInt32(abs(Int(u[i]) - Int(v[i])))
                fdot += Double(f[i]) * Double(u[i])
                dotUU += UInt32(u[i]) * UInt32(v[i])
                l2 += UInt32((Int(u[i]) - Int(v[i])) * (Int(u[i]) - Int(v[i])))
            }
        }
    }

    @Test func bitKernelsMatchReferenceForEveryLength() {
        var rng = SeededGenerator.forTest()
        for words in 0...40 {
            let a = (0..<(8 * words)).map { _ in rng.next() }, b = (0..<(2 * words)).map { _ in rng.next() }
            var hamming: UInt64 = 0
            for w in 0..<words { hamming += UInt64((a[w] ^ b[w]).nonzeroBitCount) }
            for queryPlanes in 1...8 {
                for codePlanes in 1...2 {
                    // Reference: Σ_i v_i·t_i with v two's complement over the query planes.
                    // Per word: Σ_j weight(j)·Σ_p popcount(query_j AND code_p).
                    var expected: Int64 = 0
                    for w in 0..<words {
                        for j in 0..<queryPlanes {
                            var c: Int64 = 0
                            for p in 0..<codePlanes {
                                c += Int64((a[j * words + w] & b[p * words + w]).nonzeroBitCount)
                            }
                            expected += (j == queryPlanes - 1) ? -(c << j) : c << j
                        }
                    }
                    for k in Self.tables {
                        let got = k.pointee.bitplane_dot(a, queryPlanes, b, codePlanes, words)
                        #expect(
                            got == expected,
                            "\(String(cString: k.pointee.name)) bitplane_dot words=\(words) planes=\(queryPlanes)x\(codePlanes)"
                        )
                    }
                }
            }
            for k in Self.tables {
                #expect(
                    k.pointee.hamming(a, b, words) == hamming,
                    "\(String(cString: k.pointee.name)) hamming words=\(words)")
            }
        }
    }

    /// The 1.5-bit kernel against Σ_i v_i·(X_i + X_i·Y_⌊i/2⌋), dimension by
    /// dimension (the reference spreads no bits), for every word count 0...40.
    @Test func pairedBitKernelMatchesReferenceForEveryLength() {
        var rng = SeededGenerator.forTest()
        for words in 0...40 {
            let upperWords = (words + 1) / 2
            let query = (0..<(8 * words)).map { _ in rng.next() }
            let code = (0..<(words + upperWords)).map { _ in rng.next() }
            func bit(_ plane: ArraySlice<UInt64>, _ i: Int) -> Int64 {
                Int64((plane[plane.startIndex + i / 64] >> UInt64(i % 64)) & 1)
            }
            for queryPlanes in 1...8 {
                var expected: Int64 = 0
                for i in 0..<(64 * words) {
                    var v: Int64 = 0
                    for j in 0..<queryPlanes {
                        let b = bit(query[(j * words)...], i)
                        v += (j == queryPlanes - 1) ? -(b << j) : b << j
                    }
                    let x = bit(code[0...], i), y = bit(code[words...], i / 2)
                    expected += v * (x + x * y)
                }
                for k in Self.tables {
                    let got = k.pointee.paired_bitplane_dot(query, queryPlanes, code, words)
                    #expect(
                        got == expected,
                        "\(String(cString: k.pointee.name)) paired_bitplane_dot words=\(words) planes=\(queryPlanes)")
                }
            }
        }
    }

    @Test func productKernelsMatchReference() {
        var rng = SeededGenerator.forTest()
        let table = (0..<(256 * 300)).map { _ in Float.random(in: -1...1, using: &rng) }
        let codes = rng.bytes(300)
        for m in 0...300 {
            var expected: Double = 0
            for i in 0..<m { expected += Double(table[i * 256 + Int(codes[i])]) }
            for k in Self.tables {
                let got = Double(k.pointee.pq_lookup(table, codes, m))
                #expect(
                    abs(got - expected) < 1e-4 * Double(max(m, 1)),
                    "\(String(cString: k.pointee.name)) pq_lookup m=\(m)")
            }
        }
        for dim in 1...17 {
            let centroids = (0..<(256 * dim)).map { _ in Float.random(in: -1...1, using: &rng) }
            var transposed = [Float](repeating: 0, count: 256 * dim), norms = [Float](repeating: 0, count: 256)
            for c in 0..<256 {
                for j in 0..<dim {
                    transposed[j * 256 + c] = centroids[c * dim + j]
                    norms[c] += centroids[c * dim + j] * centroids[c * dim + j]
                }
            }
            for _ in 0..<20 {
                let x = (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }
                let distances = (0..<256).map { c in
                    (0..<dim).reduce(0.0) {
                        $0 + Double((x[$1] - centroids[c * dim + $1]) * (x[$1] - centroids[c * dim + $1]))
                    }
                }
                let best = distances.min()!
                for k in Self.tables {
                    var score: Float = 0
                    let got = Int(k.pointee.nearest256(x, dim, transposed, norms, &score))
                    // The winner may differ from the reference only by a float-rounding tie.
                    #expect(distances[got] - best < 1e-5, "\(String(cString: k.pointee.name)) nearest256 dim=\(dim)")
                }
            }
        }
    }
}
