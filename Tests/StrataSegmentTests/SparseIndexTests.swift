import Foundation
import StrataFuzzChecks
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// The sparse sections (docs/format/sparse-index.md): encoding, the checked
/// views, and the pruned search against brute force.
@Suite struct SparseIndexTests {
    /// Random canonical vectors over a skewed vocabulary (term t drawn with
    /// probability ∝ 1/(t+1)), some points without a vector.
    static func randomVectors(
        _ n: Int, vocabulary: Int, maxNonZeros: Int, negative: Bool, seed: UInt64
    ) -> [SparseVector?] {
        var rng = SeededGenerator(seed: seed)
        let harmonic = (1...vocabulary).reduce(0.0) { $0 + 1 / Double($1) }
        func term() -> UInt32 {
            var u = Double(rng.next() % 1_000_000) / 1_000_000 * harmonic
            for t in 0..<vocabulary {
                u -= 1 / Double(t + 1)
                if u <= 0 { return UInt32(t * 7 + 3) }
            }
            return UInt32((vocabulary - 1) * 7 + 3)
        }
        return (0..<n).map { _ in
            if rng.next() % 17 == 0 { return nil }
            let count = Int(rng.next() % UInt64(maxNonZeros + 1))
            var chosen: [UInt32: Float] = [:]
            for _ in 0..<count {
                // Small integers and halves: many exact score ties.
                var value = Float(Int(rng.next() % 8) + 1) / 2 * (negative ? 1 : 1.37)
                if negative && rng.next() % 5 == 0 { value = -value }
                chosen[term()] = value
            }
            let indices = chosen.keys.sorted()
            return SparseVector(indices: indices, values: indices.map { chosen[$0]! })
        }
    }

    static func bruteForce(
        _ vectors: [SparseVector?], _ query: SparseVector, limit: Int, excluded: Set<Int>
    ) -> [(offset: Int, score: Float)] {
        var hits: [(offset: Int, score: Float)] = []
        for (offset, vector) in vectors.enumerated() where !excluded.contains(offset) {
            guard let vector else { continue }
            let score = SparseVector.dot(query, vector).score
            if score != 0 { hits.append((offset, score)) }
        }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.offset < $1.offset }
        return Array(hits.prefix(limit))
    }

    @Test(arguments: [false, true])
    func prunedSearchEqualsBruteForce(negative: Bool) throws {
        let n = 5000
        let vectors = Self.randomVectors(
            n, vocabulary: 400, maxNonZeros: 40, negative: negative, seed: negative ? 11 : 7)
        let indexBytes = SparseSectionCodec.encodeIndex(vectors)
        let vectorBytes = SparseSectionCodec.encodeVectors(vectors)
        try indexBytes.withUnsafeBytes { indexRaw in
            try vectorBytes.withUnsafeBytes { vectorRaw in
                let index = try SparseIndexView(indexRaw, pointCount: n)
                let stored = try SparseVectorsView(vectorRaw, pointCount: n)
                for offset in 0..<n { #expect(stored.vector(at: offset) == vectors[offset]) }
                var rng = SeededGenerator(seed: 99)
                let queries = Self.randomVectors(60, vocabulary: 400, maxNonZeros: 25, negative: negative, seed: 5)
                    .compactMap { $0 }
                for (q, query) in queries.enumerated() {
                    var excludedSet = Set<Int>()
                    var words = [UInt64](repeating: 0, count: (n + 63) / 64)
                    if q % 3 == 1 {
                        for offset in 0..<n where rng.next() % 4 == 0 {
                            excludedSet.insert(offset)
                            words[offset >> 6] |= 1 << UInt64(offset & 63)
                        }
                    }
                    for limit in [1, 10, 100] {
                        let expected = Self.bruteForce(vectors, query, limit: limit, excluded: excludedSet)
                        for window in [64, 256, 8192] {
                            let found = words.withUnsafeBufferPointer {
                                index.search(
                                    query, limit: limit, excluded: excludedSet.isEmpty ? nil : $0.baseAddress,
                                    windowSize: window)
                            }
                            #expect(
                                found.map(\.offset) == expected.map(\.offset),
                                "query \(q) limit \(limit) window \(window)")
                            #expect(
                                found.map(\.score) == expected.map(\.score),
                                "query \(q) limit \(limit) window \(window)")
                        }
                    }
                }
            }
        }
    }

    /// The marking cost model: marking pays when the essential lists are rare
    /// and the non-essential ones dense (their blocks span few offsets), not
    /// when the essential lists touch a fifth of the window (SPLADE-like).
    @Test func markingPaysOnlyWhenBlocksCanBeSkipped() {
        let window = SparseIndexView.windowSize
        #expect(SparseIndexView.markingPays(essentialPostings: 10, window: window, nonEssential: [window, window / 2]))
        #expect(
            !SparseIndexView.markingPays(
                essentialPostings: window / 5, window: window, nonEssential: [window * 7 / 10, window / 3]))
        #expect(!SparseIndexView.markingPays(essentialPostings: window, window: window, nonEssential: [window]))
        #expect(!SparseIndexView.markingPays(essentialPostings: 10, window: window, nonEssential: []))
    }

    /// Data where marking is chosen (a rare heavy term, a term in every point):
    /// the pruned search still equals brute force, with deletions.
    @Test func searchWithMarkingEqualsBruteForce() throws {
        let n = 40_000
        var rng = SeededGenerator(seed: 5)
        let vectors: [SparseVector?] = (0..<n).map { i in
            var indices: [UInt32] = [1]
            var values: [Float] = [Float(Int(rng.next() % 8) + 1) / 64]
            if rng.next() % 500 == 0 {
                indices.append(9)
                values.append(Float(Int(rng.next() % 8) + 8))
            }
            if i % 3 == 0 {
                indices.append(20)
                values.append(Float(Int(rng.next() % 4) + 1) / 32)
            }
            return SparseVector(indices: indices, values: values)
        }
        let indexBytes = SparseSectionCodec.encodeIndex(vectors)
        try indexBytes.withUnsafeBytes { raw in
            let index = try SparseIndexView(raw, pointCount: n)
            let query = SparseVector(indices: [1, 9, 20], values: [1, 1, 1])
            var excludedBits = [UInt64](repeating: 0, count: (n + 63) / 64)
            var excluded = Set<Int>()
            for offset in stride(from: 7, to: n, by: 97) {
                excluded.insert(offset)
                excludedBits[offset >> 6] |= 1 << UInt64(offset & 63)
            }
            for limit in [1, 10, 50] {
                let expected = Self.bruteForce(vectors, query, limit: limit, excluded: excluded)
                let found = excludedBits.withUnsafeBufferPointer {
                    index.search(query, limit: limit, excluded: $0.baseAddress)
                }
                #expect(found.map(\.offset) == expected.map(\.offset), "limit \(limit)")
                #expect(found.map(\.score) == expected.map(\.score), "limit \(limit)")
            }
        }
    }

    @Test func postingsRoundTrip() throws {
        let vectors = Self.randomVectors(1000, vocabulary: 50, maxNonZeros: 10, negative: true, seed: 3)
        let bytes = SparseSectionCodec.encodeIndex(vectors)
        try bytes.withUnsafeBytes { raw in
            let index = try SparseIndexView(raw, pointCount: vectors.count)
            var expected: [UInt32: [(Int, Float)]] = [:]
            for (offset, vector) in vectors.enumerated() {
                for (k, term) in (vector?.indices ?? []).enumerated() {
                    expected[term, default: []].append((offset, vector!.values[k]))
                }
            }
            #expect(index.termCount == expected.count)
            for (term, postings) in expected {
                let found = index.postings(term)
                #expect(found.map(\.offset) == postings.map(\.0))
                #expect(found.map(\.weight) == postings.map(\.1))
                #expect(index.postingCount(term) == postings.count)
            }
        }
    }

    /// The worked example of docs/format/sparse-index.md, byte for byte.
    @Test func goldenExample() throws {
        let vectors: [SparseVector?] = [
            SparseVector(indices: [3, 7], values: [1.0, 0.5]),
            nil,
            SparseVector(indices: [7], values: [2.0]),
        ]
        let index = SparseSectionCodec.encodeIndex(vectors)
        #expect(
            index
                == hexBytes(
                    """
                    02000000 80000000 03000000 00000000 0200000000000000 1c00000000000000
                    03000000 00000000 01000000 00000000
                    07000000 01000000 02000000 00000000
                    00000000 00000000 0000000000000000 01000000 10000000 0000803f 0000803f
                    00000000 02000000 0800000000000000 02000000 10000000 00000040 0000003f
                    0000803f 0000 0000
                    0000003f 00000040 0000 0200
                    0000000000000000
                    """))
        let forward = SparseSectionCodec.encodeVectors(vectors)
        #expect(
            forward
                == hexBytes(
                    """
                    0300000000000000 0300000000000000
                    0500000000000000
                    0000000000000000 0200000000000000 0200000000000000 0300000000000000
                    03000000 07000000 07000000
                    0000803f 0000003f 00000040
                    """))
    }

    @Test func damageIsDetectedAndNamed() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let vectors = Self.randomVectors(300, vocabulary: 60, maxNonZeros: 12, negative: false, seed: 21)
            let points = vectors.enumerated().map { offset, vector in
                SegmentBuildPoint(
                    id: .number(UInt64(offset)), version: 1, sparseVectors: vector.map { ["s": $0] } ?? [:])
            }
            let path = dir + "/seg"
            try SegmentWriter.write(points, vectors: [], sparseVectors: ["s"], to: path, fileSystem: fs)
            let reader = try SegmentReader.open(path: path, fileSystem: fs)
            let sections = try #require(try reader.sparseSections("s"))
            #expect(sections.vectors.vector(at: 5) == vectors[5])
            #expect(reader.verifyAll().isEmpty)
            let ranges = Dictionary(uniqueKeysWithValues: reader.sectionRanges.map { ($0.name, $0.range) })
            for name in ["sparse[s].vectors", "sparse[s].index"] {
                var bytes = try readFile(path)
                let range = try #require(ranges[name])
                bytes[range.lowerBound + range.count / 2] ^= 0x40
                let damaged = dir + "/damaged-\(name)"
                try writeFile(damaged, bytes)
                // Opening checks only metadata; the sparse sections are checked when opened.
                let opened = try SegmentReader.open(path: damaged, fileSystem: fs)
                #expect(opened.verifyAll().contains { $0.section == name })
                do {
                    _ = try opened.sparseSections("s")
                    Issue.record("damage to \(name) was not detected")
                } catch let error as SegmentError {
                    #expect(error.section == name)
                }
                // Damage with fixed-up checksums is caught by the structure checks (or is harmless).
                recomputeSegmentChecksums(&bytes)
                let fixed = dir + "/fixed-\(name)"
                try writeFile(fixed, bytes)
                if let reopened = try? SegmentReader.open(path: fixed, fileSystem: fs),
                    let views = try? reopened.sparseSections("s")
                {
                    // Whatever survived the checks must still be searchable without crashing.
                    _ = views.index.search(
                        SparseVector(indices: [3, 10, 17], values: [1, 1, 1]), limit: 10, excluded: nil)
                }
            }
        }
    }
}
