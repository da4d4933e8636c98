import Foundation
@testable import Strata
import StrataBinary
import StrataIO
import StrataTestSupport
import StrataText
import Testing

/// Sparse vectors through the engine: validation, WAL encoding, search across
/// mutable, frozen and immutable segments (with filters, deletes, updates,
/// after reopen) against brute force, the `idf` modifier, hybrid queries, BM25.
@Suite struct SparseTests {
    static let config = CollectionConfig(
        vectors: ["d": VectorParams(size: 4, distance: .dot)],
        optimizers: OptimizersConfig(defaultSegmentNumber: 8, indexingThresholdKB: 1_000_000, flushIntervalSec: 3600),
        sparseVectors: ["s": SparseVectorParams(), "t": SparseVectorParams(modifier: .idf)])

    struct Reference {
        var points: [PointID: PointStruct] = [:]

        func search(
            _ query: SparseVector, using name: String, limit: Int, idf: Bool,
            where keep: (PointStruct) -> Bool = { _ in true }, corpus: (PointStruct) -> Bool = { _ in true }
        )
            -> [(id: PointID, score: Float)]
        {
            var weighted = try! query.validated().get()
            if idf {
                let holders = points.values.filter(corpus).compactMap { $0.sparseVectors[name] }
                for (k, term) in weighted.indices.enumerated() {
                    let df = holders.filter { $0.indices.contains(term) }.count
                    weighted.values[k] *= Collection.inverseDocumentFrequency(
                        points: holders.count, documentFrequency: df)
                }
            }
            var hits: [(id: PointID, score: Float)] = []
            for point in points.values where keep(point) {
                guard let vector = point.sparseVectors[name] else { continue }
                let score = SparseVector.dot(weighted, vector).score
                if score != 0 { hits.append((point.id, score)) }
            }
            hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            return Array(hits.prefix(limit))
        }
    }

    static func randomSparse(_ rng: inout SeededGenerator, vocabulary: Int = 120, maxNonZeros: Int = 15) -> SparseVector
    {
        var chosen: [UInt32: Float] = [:]
        for _ in 0..<Int(rng.next() % UInt64(maxNonZeros) + 1) {
            // Skewed vocabulary: low terms are frequent.
            let term = UInt32(min(rng.next() % UInt64(vocabulary), rng.next() % UInt64(vocabulary)))
            chosen[term] = Float(Int(rng.next() % 9) + 1) / 4
        }
        // Given unsorted, as clients may.
        let indices = chosen.keys.shuffled(using: &rng)
        return SparseVector(indices: indices, values: indices.map { chosen[$0]! })
    }

    static func checkAll(_ collection: Collection, _ reference: Reference, seed: UInt64) throws {
        do {
            let terms: [UInt32] = [0, 1, 2, 5, 50]
            let stats = try collection.store.sparseStatistics("t", terms: terms)
            let holders = reference.points.values.compactMap { $0.sparseVectors["t"] }
            #expect(stats.points == holders.count, "N")
            #expect(
                stats.documentFrequencies == terms.map { term in holders.filter { $0.indices.contains(term) }.count },
                "df")
        }
        var rng = SeededGenerator(seed: seed)
        for q in 0..<25 {
            let query = randomSparse(&rng, maxNonZeros: 8)
            let group = Int64(q % 3)
            for (name, idf) in [("s", false), ("t", true)] {
                for limit in [1, 5, 40] {
                    let expected = reference.search(query, using: name, limit: limit, idf: idf)
                    let found = try collection.searchSparse(query, using: name, limit: limit)
                    #expect(found.map(\.id) == expected.map(\.id), "\(name) query \(q) limit \(limit)")
                    #expect(found.map(\.score) == expected.map(\.score), "\(name) query \(q) limit \(limit)")
                    let filter = Filter(must: [
                        .field(FieldCondition(key: try PayloadPath("g"), .match(.value(.integer(group)))))
                    ])
                    let filtered = try collection.searchSparse(query, using: name, limit: limit, filter: filter)
                    let expectedFiltered = reference.search(query, using: name, limit: limit, idf: idf) {
                        $0.payload?["g"] == .int(group)
                    }
                    #expect(
                        filtered.map(\.id) == expectedFiltered.map(\.id), "\(name) filtered query \(q) limit \(limit)")
                    #expect(filtered.map(\.score) == expectedFiltered.map(\.score))
                }
            }
            // `params.idf`: statistics over the corpus filter's points only
            // (independent of the retrieval filter); "global" as without it.
            let inGroup = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("g"), .match(.value(.integer(group)))))
            ])
            for (scope, corpus) in [
                (IDFScope.corpus(inGroup), { (p: PointStruct) in p.payload?["g"] == .int(group) }),
                (IDFScope.global, { (_: PointStruct) in true }),
            ] {
                let found = try collection.query(
                    QueryRequest(
                        query: .nearest(.sparse(query)), using: "t", params: SearchParams(idf: scope), limit: 7))
                let expected = reference.search(query, using: "t", limit: 7, idf: true, corpus: corpus)
                #expect(found.map(\.id) == expected.map(\.id), "idf \(scope) query \(q)")
                #expect(found.map(\.score) == expected.map(\.score), "idf \(scope) query \(q)")
            }
            // Where it cannot apply, it is refused.
            #expect(throws: StrataError.self) {
                try collection.query(
                    QueryRequest(
                        query: .nearest(.sparse(query)), using: "s", params: SearchParams(idf: .global), limit: 7))
            }
        }
    }

    @Test func searchEqualsBruteForceAcrossSegmentsAndReopen() async throws {
        try await withTemporaryDirectory { dir in
            var rng = SeededGenerator(seed: 77)
            var reference = Reference()
            func makePoint(_ i: Int) -> PointStruct {
                var sparse: [String: SparseVector] = [:]
                if rng.next() % 10 != 0 { sparse["s"] = Self.randomSparse(&rng) }
                if rng.next() % 10 != 0 { sparse["t"] = Self.randomSparse(&rng) }
                return PointStruct(
                    id: .number(UInt64(i)), vectors: ["d": [1, 0, 0, 0]], payload: ["g": .int(Int64(i % 3))],
                    sparseVectors: sparse)
            }
            func record(_ point: PointStruct) {
                var canonical = point
                canonical.sparseVectors = point.sparseVectors.mapValues { try! $0.validated().get() }
                reference.points[point.id] = canonical
            }
            do {
                let db = try Database.open(at: dir)
                let collection = try db.createCollection("c", config: Self.config)
                for batch in 0..<3 {
                    let points = (batch * 200..<(batch + 1) * 200).map(makePoint)
                    try await collection.upsert(points)
                    points.forEach(record)
                    if batch < 2 { try collection.flush() }
                }
                // Deletes and overwrites touching immutable and mutable points.
                let deleted = (0..<600).filter { $0 % 13 == 0 }.map { PointID.number(UInt64($0)) }
                try await collection.delete(deleted)
                for id in deleted { reference.points[id] = nil }
                let rewritten = (0..<600).filter { $0 % 17 == 1 }.map(makePoint)
                try await collection.upsert(rewritten)
                rewritten.forEach(record)
                // A payload change copies an immutable point into the mutable segment (copy-on-write).
                try await collection.setPayload(["g": .int(2)], for: [.number(4), .number(205)])
                for id in [PointID.number(4), .number(205)] { reference.points[id]?.payload?["g"] = .int(2) }
                #expect(collection.storageInfo.segments.count == 2)
                try Self.checkAll(collection, reference, seed: 1)
                // Retrieve returns the canonical sparse vectors.
                let record = try #require(try collection.retrieve([.number(3)], withVector: true).first)
                #expect(record.sparseVectors ?? [:] == reference.points[.number(3)]!.sparseVectors)
                try collection.optimize()
                try Self.checkAll(collection, reference, seed: 2)
                db.close()
            }
            // Reopen: WAL replay of the unflushed operations, segments from disk.
            let db = try Database.open(at: dir)
            let collection = try db.collection(named: "c")
            try Self.checkAll(collection, reference, seed: 3)
            try collection.flush()
            try collection.optimize()
            try Self.checkAll(collection, reference, seed: 4)
            #expect(collection.verify().isEmpty)
            db.close()
        }
    }

    @Test func snapshotCarriesSparseVectors() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            var rng = SeededGenerator(seed: 3)
            let points = (0..<100).map {
                PointStruct(id: .number(UInt64($0)), vectors: [:], sparseVectors: ["s": Self.randomSparse(&rng)])
            }
            try await collection.upsert(Array(points[..<60]))
            try collection.flush()
            try await collection.upsert(Array(points[60...]))
            let query = SparseVector(indices: [0, 1, 2, 3], values: [1, 0.5, 0.25, 2])
            let before = try collection.searchSparse(query, using: "s", limit: 20)
            let snapshot = try db.createSnapshot(of: "c")
            _ = try db.restoreSnapshot(from: [snapshot.path], as: "restored")
            let restored = try db.collection(named: "restored")
            #expect(restored.config.sparseVectors == Self.config.sparseVectors)
            #expect(try restored.searchSparse(query, using: "s", limit: 20) == before)
            #expect(
                try restored.retrieve([5, 70], withVector: true).map(\.sparseVectors)
                    == (try collection.retrieve([5, 70], withVector: true).map(\.sparseVectors)))
            db.close()
        }
    }

    @Test func validation() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            let bad: [(SparseVector, String)] = [
                (SparseVector(indices: [1, 2], values: [1]), "same length"),
                (SparseVector(indices: [1, 1], values: [1, 2]), "unique"),
                (SparseVector(indices: [1], values: [.nan]), "finite"),
            ]
            for (vector, message) in bad {
                await #expect(throws: StrataError.self) {
                    try await collection.upsert([PointStruct(id: 1, vectors: [:], sparseVectors: ["s": vector])])
                }
                #expect(throws: StrataError.self) { try collection.searchSparse(vector, using: "s") }
                _ = message
            }
            await #expect(throws: StrataError.self) {
                try await collection.upsert([
                    PointStruct(id: 1, vectors: [:], sparseVectors: ["nope": SparseVector(indices: [1], values: [1])])
                ])
            }
            #expect(throws: StrataError.self) {
                try collection.searchSparse(SparseVector(indices: [1], values: [1]), using: "d")
            }
            // Unsorted input is sorted, and found.
            try await collection.upsert([
                PointStruct(id: 1, vectors: [:], sparseVectors: ["s": SparseVector(indices: [9, 2], values: [3, 4])])
            ])
            let stored = try collection.retrieve([1], withVector: true).first?.sparseVectors?["s"]
            #expect(stored == SparseVector(indices: [2, 9], values: [4, 3]))
            #expect(
                try collection.searchSparse(SparseVector(indices: [9], values: [2]), using: "s").map(\.score) == [6])
            db.close()
        }
    }

    @Test func idfMatchesQdrantFormula() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            // Term 1 in 3 of 4 points, term 2 in 1.
            try await collection.upsert([
                PointStruct(id: 1, vectors: [:], sparseVectors: ["t": SparseVector(indices: [1, 2], values: [1, 1])]),
                PointStruct(id: 2, vectors: [:], sparseVectors: ["t": SparseVector(indices: [1], values: [1])]),
                PointStruct(id: 3, vectors: [:], sparseVectors: ["t": SparseVector(indices: [1], values: [2])]),
                PointStruct(id: 4, vectors: [:], sparseVectors: ["t": SparseVector(indices: [3], values: [1])]),
            ])
            let idf1 = Float(log((4.0 - 3.0 + 0.5) / (3.0 + 0.5) + 1.0))
            let idf2 = Float(log((4.0 - 1.0 + 0.5) / (1.0 + 0.5) + 1.0))
            #expect(abs(Collection.inverseDocumentFrequency(points: 4, documentFrequency: 3) - idf1) < 1e-6)
            let hits = try collection.searchSparse(SparseVector(indices: [1, 2], values: [1, 1]), using: "t")
            #expect(hits.map(\.id) == [1, 3, 2])
            #expect(abs(hits[0].score - (idf1 + idf2)) < 1e-5)
            #expect(abs(hits[1].score - 2 * idf1) < 1e-5)
            // Deleting a point changes N and df, also once flushed (tombstones are subtracted).
            try collection.flush()
            try await collection.delete([3])
            let after = try collection.searchSparse(SparseVector(indices: [1], values: [1]), using: "t")
            let idf1After = Collection.inverseDocumentFrequency(points: 3, documentFrequency: 2)
            #expect(after.map(\.score) == [idf1After, idf1After])
            db.close()
        }
    }

    @Test func hybridQueryWithRRF() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config)
            try await collection.upsert([
                PointStruct(
                    id: 1, vectors: ["d": [1, 0, 0, 0]], sparseVectors: ["s": SparseVector(indices: [5], values: [1])]),
                PointStruct(
                    id: 2, vectors: ["d": [0.5, 0, 0, 0]], sparseVectors: ["s": SparseVector(indices: [5], values: [3])]
                ),
                PointStruct(
                    id: 3, vectors: ["d": [0.9, 0, 0, 0]], sparseVectors: ["s": SparseVector(indices: [6], values: [1])]
                ),
            ])
            let request = QueryRequest(
                prefetch: [
                    Prefetch(query: .nearest(.dense([1, 0, 0, 0])), using: "d", limit: 3),
                    Prefetch(query: .nearest(.sparse(SparseVector(indices: [5], values: [1]))), using: "s", limit: 3),
                ],
                query: .fusion(.rrf()), limit: 3, withVector: true)
            let hits = try collection.query(request)
            // Dense ranks 1, 3, 2; sparse ranks 2, 1 (3 does not match): RRF k = 2.
            let expected: [PointID: Float] = [1: 1.0 / 2 + 1.0 / 3, 2: 1.0 / 4 + 1.0 / 2, 3: 1.0 / 3]
            #expect(hits.map(\.id) == [1, 2, 3])
            for hit in hits { #expect(abs(hit.score - expected[hit.id]!) < 1e-6) }
            #expect(hits[0].sparseVectors?["s"] == SparseVector(indices: [5], values: [1]))
            // A sparse stage rescoring prefetched points.
            let rescored = try collection.query(
                QueryRequest(
                    prefetch: [Prefetch(query: .nearest(.dense([1, 0, 0, 0])), using: "d", limit: 2)],
                    query: .nearest(.sparse(SparseVector(indices: [5, 6], values: [1, 2]))), using: "s"))
            #expect(rescored.map(\.id) == [3, 1])
            #expect(rescored.map(\.score) == [2, 1])
            // A point id as the sparse example (excluded from its own results).
            let byID = try collection.query(QueryRequest(query: .nearest(.point(2)), using: "s"))
            #expect(byID.map(\.id) == [1])
            db.close()
        }
    }

    @Test func writeOperationRoundTrip() throws {
        let sparse = SparseVector(indices: [2, 9], values: [0.5, -1])
        let operations: [WriteOperation] = [
            .upsert([PointStruct(id: 7, vectors: ["": [1]], payload: ["a": .int(1)], sparseVectors: ["s": sparse])]),
            .upsert([PointStruct(id: 7, vectors: ["": [1]])]),
            .updateVectors([
                PointVectors(
                    id: 3, vectors: [:], sparseVectors: ["s": sparse, "t": SparseVector(indices: [], values: [])])
            ]),
        ]
        for operation in operations {
            let bytes = operation.encoded()
            let decoded = try bytes.withUnsafeBytes { try WriteOperation.decode($0) }
            #expect(decoded == operation)
        }
        // Without sparse vectors the encoding is the version-1 tag 1 record, unchanged.
        #expect(operations[1].encoded()[1] == 1)
        #expect(
            operations[0].encoded()
                == hexBytes(
                    """
                    01 0c 01 00 07 01 00 01 00 00 80 3f 01 01 73 02 02 00 00 00 09 00 00 00 00 00 00 3f 00 00 80 bf
                    01 07 01 01 61 03 01 00 00 00 00 00 00 00
                    """))
        // Non-canonical sparse vectors in a record are corruption.
        var bad = operations[0].encoded()
        bad[16] = 0x0a  // index 2 → 10 > 9
        #expect(throws: FormatError.self) { try bad.withUnsafeBytes { try WriteOperation.decode($0) } }
    }

    /// The text options: folding, stopwords and stemming in Qdrant's order
    /// (stopwords before stemming, lengths after), and the whitespace split.
    @Test func bm25TextOptions() throws {
        let encoder = try BM25Encoder(asciiFolding: true, stopwords: StopwordLists.english, stemEnglish: true)
        #expect(encoder.tokenize("The Runners were running to the Café") == ["runner", "run", "cafe"])
        let bounded = try BM25Encoder(minTokenLength: 4, stemEnglish: true)
        #expect(bounded.tokenize("kittens and puppies ran") == ["kitten", "puppi"])
        let whitespace = try BM25Encoder(lowercase: false, splitOnWhitespaceOnly: true)
        #expect(whitespace.tokenize("The Fox_jumps!\tok") == ["The", "Fox_jumps!", "ok"])
        #expect(encoder.document("the a of") == SparseVector(indices: [], values: []))
        // Prefix: documents hold prefixes, queries one (cut) prefix per word.
        let prefix = try BM25Encoder(minTokenLength: 2, maxTokenLength: 4, prefixes: true)
        #expect(prefix.tokenize("Hello me") == ["he", "hel", "hell", "me"])
        #expect(prefix.queryTokens("Hello x") == ["hell"])
        #expect(prefix.query("Hello x").indices == [BM25Encoder.tokenID("hell")])
    }

    /// Token ids and weights checked against Qdrant Edge's `Bm25` (qdrant-edge-py
    /// 0.9.0, word tokenizer, stemmer disabled, no stopwords).
    @Test func bm25MatchesQdrantWithoutStemming() throws {
        let encoder = try BM25Encoder()
        #expect(BM25Encoder.tokenID("foo") == 156_908_512)
        #expect(BM25Encoder.tokenID("hello") == 613_153_351)
        #expect(encoder.tokenize("Héllo wörld 42 foo_bar x2y") == ["héllo", "wörld", "42", "foo", "bar", "x2y"])
        let cases: [(String, [UInt32], [Float])] = [
            (
                "The cat sat on the mat, the END", [69083019, 182765111, 703717300, 939215365, 1132748958, 1751422759],
                [
                    1.656470537185669, 1.656470537185669, 1.656470537185669, 1.656470537185669, 1.9830986261367798,
                    1.656470537185669,
                ]
            ),
            (
                "Héllo wörld 42 foo_bar x2y", [156908512, 797905482, 1130389400, 1135041482, 1158584717, 1861391510],
                Array(repeating: 1.6652867794036865, count: 6)
            ),
            ("running runs RUN", [243905464, 858463077, 1678278552], Array(repeating: 1.6786885261535645, count: 3)),
        ]
        for (text, indices, values) in cases {
            let document = encoder.document(text)
            #expect(document.indices == indices, "\(text)")
            #expect(document.values == values, "\(text)")
            #expect(
                encoder.query(text) == SparseVector(indices: indices, values: Array(repeating: 1, count: indices.count))
            )
        }
        #expect(encoder.document("  ,.; ") == SparseVector(indices: [], values: []))
        #expect(throws: TextError.self) { try BM25Encoder(b: 2) }
    }
}
