import ArgumentParser
import Foundation
import Strata

/// `strata bench sparse`: exact sparse top-10 on a data set written by
/// Benchmarks/sparse_data.py (CSR files, dense companions, float64 ground
/// truth) or by `strata bench bm25-encode` + Benchmarks/bm25_ground_truth.py
/// (BM25 vectors of a text corpus; meta.json `"modifier": "idf"`, no dense
/// files). Ingests through the embedded API (sparse vector "s", with the IDF
/// modifier when meta.json asks for it, and the dense vector "d" with an HNSW
/// graph for the hybrid run when the data set has one), optimizes, then runs
/// every query single-threaded: sparse alone, dense alone, and hybrid
/// (prefetch dense + sparse, RRF). One JSON line per mode.
struct BenchSparseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse",
        abstract: "Sparse (and hybrid dense + sparse) search QPS / latency / recall@10, one JSON line per mode.")

    @Option(name: .long, help: "Data set directory (Benchmarks/sparse_data.py).")
    var data: String

    @OptionGroup var storage: BenchStoreOptions<TemporaryStoreHelp>

    @Option(name: .long, help: "Use only the first N queries.")
    var queries: Int = .max

    @Option(name: .long, help: "Prefetch limit of each side of the hybrid query.")
    var prefetch: Int = 20

    @Flag(name: .customLong("no-hybrid"), help: "Skip the dense vector and the hybrid run.")
    var noHybrid = false

    @Option(name: .customLong("repeat"), help: "Run the sparse queries this many times, report the last (profiling).")
    var repetitions: Int = 1

    struct CSR {
        var indptr: [UInt64]
        var indices: [UInt32]
        var values: [Float]
        var count: Int { indptr.count - 1 }
        func row(_ i: Int) -> SparseVector {
            let range = Int(indptr[i])..<Int(indptr[i + 1])
            return SparseVector(indices: Array(indices[range]), values: Array(values[range]))
        }
    }

    static func csr(_ directory: String, _ name: String) throws -> CSR {
        CSR(
            indptr: try readArray(joinedPath(directory, "\(name).indptr"), as: UInt64.self),
            indices: try readArray(joinedPath(directory, "\(name).indices"), as: UInt32.self),
            values: try readArray(joinedPath(directory, "\(name).values"), as: Float.self))
    }

    func run() async throws {
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: joinedPath(data, "meta.json")))) as! [String: Any]
        let modifier: SparseModifier = (meta["modifier"] as? String) == "idf" ? .idf : .none
        // A data set without dense files (BM25) has no hybrid part.
        let hasDense = FileManager.default.fileExists(atPath: joinedPath(data, "dense.f32"))
        let noHybrid = self.noHybrid || !hasDense
        let dim = meta["dense_dim"] as? Int ?? 0
        let k = 10
        let docs = try Self.csr(data, "docs")
        var queryRows = try Self.csr(data, "queries")
        let queryCount = min(queries, queryRows.count)
        queryRows.indptr = Array(queryRows.indptr.prefix(queryCount + 1))
        let dense: [Float] = noHybrid ? [] : try readArray(joinedPath(data, "dense.f32"), as: Float.self)
        let denseQueries: [Float] = noHybrid ? [] : try readArray(joinedPath(data, "dense_queries.f32"), as: Float.self)
        let gt: [Int32] = try readArray(joinedPath(data, "gt.i32"), as: Int32.self)
        let gtScores: [Double] = try readArray(joinedPath(data, "gt_scores.f64"), as: Double.self)

        try await storage.withStore(
            command: "sparse", build: { try await ingest(docs, dense: dense, dim: dim, modifier: modifier, into: $0) }
        ) { storeDirectory, buildSeconds in
            let database = try Database.open(at: storeDirectory)
            defer { database.close() }
            let collection = try database.collection(named: "sparse")
            let sparseQueries = (0..<queryCount).map { queryRows.row($0) }
            let denseQueryVectors =
                noHybrid ? [] : (0..<queryCount).map { Array(denseQueries[($0 * dim)..<(($0 + 1) * dim)]) }
            let dataName = URL(fileURLWithPath: data).lastPathComponent

            // With the IDF modifier: each term's IDF over all documents, Qdrant's formula in float64.
            var idf: [UInt32: Double] = [:]
            if modifier == .idf {
                var documentFrequency: [UInt32: Int] = [:]
                for term in docs.indices { documentFrequency[term, default: 0] += 1 }
                let n = Double(docs.count)
                for (term, df) in documentFrequency { idf[term] = log((n - Double(df) + 0.5) / (Double(df) + 0.5) + 1) }
            }
            // Exact float64 score of a document for a query (tie-tolerant recall).
            func exactScore(_ query: SparseVector, _ doc: Int) -> Double {
                let row = docs.row(doc)
                var weights: [UInt32: Double] = [:]
                for (i, term) in row.indices.enumerated() { weights[term] = Double(row.values[i]) }
                return zip(query.indices, query.values).reduce(0.0) {
                    $0 + Double($1.1) * (modifier == .idf ? idf[$1.0] ?? 0 : 1) * (weights[$1.0] ?? 0)
                }
            }

            let clock = ContinuousClock()
            func measure(
                _ body: (Int) throws -> [ScoredPoint]
            ) rethrows -> (latencies: [Duration], results: [[ScoredPoint]]) {
                for q in 0..<min(20, queryCount) { _ = try body(q) }
                var latencies: [Duration] = []
                var results: [[ScoredPoint]] = []
                for q in 0..<queryCount {
                    var found: [ScoredPoint] = []
                    latencies.append(try clock.measure { found = try body(q) })
                    results.append(found)
                }
                return (latencies, results)
            }
            func summary(_ mode: String, _ latencies: [Duration], extra: [String: Any]) throws {
                var row = LatencySummary(latencies).fields
                row["engine"] = "strata"
                row["mode"] = mode
                row["data"] = dataName
                if let buildSeconds { row["build_s"] = buildSeconds }
                if modifier == .idf { row["modifier"] = "idf" }
                for (key, value) in extra { row[key] = value }
                try printResult(row)
            }

            // Sparse alone, exact.
            var sparseRun = try measure { try collection.searchSparse(sparseQueries[$0], using: "s", limit: k) }
            for _ in 1..<max(repetitions, 1) {
                sparseRun = try measure { try collection.searchSparse(sparseQueries[$0], using: "s", limit: k) }
            }
            var strict = 0, tolerant = 0, expected = 0
            for (q, found) in sparseRun.results.enumerated() {
                let truth = (0..<k).map { Int(gt[q * k + $0]) }.filter { $0 >= 0 }
                expected += truth.count
                guard !truth.isEmpty else { continue }
                let kth = gtScores[q * k + truth.count - 1]
                for hit in found {
                    guard case .number(let id) = hit.id else { continue }
                    if truth.contains(Int(id)) {
                        strict += 1
                        tolerant += 1
                    } else if abs(exactScore(sparseQueries[q], Int(id)) - kth) <= 1e-6 * max(1, abs(kth)) {
                        tolerant += 1  // a tie with the 10th within float32 rounding
                    }
                }
            }
            try summary(
                "sparse", sparseRun.latencies,
                extra: [
                    "recall10": Double(strict) / Double(max(expected, 1)),
                    "recall10_tie_tolerant": Double(tolerant) / Double(max(expected, 1)),
                ])
            guard !noHybrid else { return }
            // Whole passes (sparse alone, dense alone, hybrid), twice in turn (A B C A B C):
            // background load hits the three modes alike, and no query finds the caches
            // warmed by the same query of another mode.
            let limit = prefetch
            func hybridQuery(_ q: Int) throws -> [ScoredPoint] {
                try collection.query(
                    QueryRequest(
                        prefetch: [
                            Prefetch(query: .nearest(.dense(denseQueryVectors[q])), using: "d", limit: limit),
                            Prefetch(query: .nearest(.sparse(sparseQueries[q])), using: "s", limit: limit),
                        ],
                        query: .fusion(.rrf()), limit: k))
            }
            var sparseLatencies: [Duration] = [], denseLatencies: [Duration] = [], hybridLatencies: [Duration] = []
            for _ in 0..<2 {
                sparseLatencies += try measure {
                    try collection.searchSparse(sparseQueries[$0], using: "s", limit: limit)
                }.latencies
                denseLatencies += try measure { try collection.search(denseQueryVectors[$0], using: "d", limit: limit) }
                    .latencies
                hybridLatencies += try measure { try hybridQuery($0) }.latencies
            }
            try summary("sparse-limit\(limit)", sparseLatencies, extra: [:])
            try summary("dense-limit\(limit)", denseLatencies, extra: [:])
            let sumOfParts =
                seconds(sparseLatencies.reduce(Duration.zero, +)) + seconds(denseLatencies.reduce(Duration.zero, +))
            try summary(
                "hybrid-rrf", hybridLatencies,
                extra: [
                    "vs_sum_of_parts": seconds(hybridLatencies.reduce(Duration.zero, +)) / sumOfParts
                ])
        }
    }

    private func ingest(
        _ docs: CSR, dense: [Float], dim: Int, modifier: SparseModifier, into directory: String
    ) async throws -> Double {
        let database = try Database.open(at: directory)
        defer { database.close() }
        let vectors: [String: VectorParams] = dense.isEmpty ? [:] : ["d": VectorParams(size: dim, distance: .dot)]
        let config = CollectionConfig(vectors: vectors, sparseVectors: ["s": SparseVectorParams(modifier: modifier)])
        let collection = try database.createCollection("sparse", config: config)
        let start = ContinuousClock.now
        progress("ingesting \(docs.count) sparse documents\(dense.isEmpty ? "" : " with \(dim)-d dense vectors")")
        let batch = 1000
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func submit(_ first: Int) {
                let end = min(first + batch, docs.count)
                let points = (first..<end).map { row in
                    PointStruct(
                        id: .number(UInt64(row)),
                        vectors: dense.isEmpty ? [:] : ["d": Array(dense[(row * dim)..<((row + 1) * dim)])],
                        sparseVectors: ["s": docs.row(row)])
                }
                group.addTask { _ = try await collection.upsert(points) }
            }
            for _ in 0..<2 where next < docs.count {
                submit(next)
                next += batch
            }
            while try await group.next() != nil {
                if next < docs.count {
                    submit(next)
                    next += batch
                }
            }
        }
        let ingested = seconds(ContinuousClock.now - start)
        progress("ingested in \(String(format: "%.1f", ingested)) s; optimizing")
        try collection.optimize()
        let total = seconds(ContinuousClock.now - start)
        progress(
            "built in \(String(format: "%.1f", total)) s: segments \(collection.storageInfo.segments.map(\.points))")
        return total
    }
}

private func progress(_ message: String) {
    benchProgress("sparse", message)
}
