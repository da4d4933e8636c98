import ArgumentParser
import Foundation
import Strata

/// `strata bench multivector`: max_sim top-10 on a data set written by
/// Benchmarks/multivector_data.py (rows, row starts, float64 ground truth).
/// Ingests through the embedded API (multivector "m", Cosine, HNSW over the
/// rows' means), optimizes, then runs every query single-threaded, exact and
/// indexed (graph candidates rescored by max_sim). One JSON line per mode.
struct BenchMultiVectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multivector",
        abstract: "Multivector (max_sim) search QPS / latency / recall@10, exact and indexed, one JSON line per mode.")

    @Option(name: .long, help: "Data set directory (Benchmarks/multivector_data.py).")
    var data: String

    @OptionGroup var storage: BenchStoreOptions<TemporaryStoreHelp>

    @Option(name: .long, help: "Use only the first N queries.")
    var queries: Int = .max

    @Option(
        name: .long, parsing: .upToNextOption,
        help: "hnsw_ef values of the indexed runs (candidates rescored per segment).")
    var ef: [Int] = [100]

    struct Rows {
        var indptr: [UInt64]
        var rows: [Float]
        let dim: Int
        var count: Int { indptr.count - 1 }
        func multivector(_ i: Int) -> [Float] { Array(rows[Int(indptr[i]) * dim..<Int(indptr[i + 1]) * dim]) }
    }

    func run() async throws {
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: joinedPath(data, "meta.json")))) as! [String: Any]
        let dim = meta["dim"] as! Int
        let k = 10
        let docs = Rows(
            indptr: try readArray(joinedPath(data, "docs.indptr"), as: UInt64.self),
            rows: try readArray(joinedPath(data, "docs.rows"), as: Float.self), dim: dim)
        let queryRows = Rows(
            indptr: try readArray(joinedPath(data, "queries.indptr"), as: UInt64.self),
            rows: try readArray(joinedPath(data, "queries.rows"), as: Float.self), dim: dim)
        let queryCount = min(queries, queryRows.count)
        let gt: [Int32] = try readArray(joinedPath(data, "gt.i32"), as: Int32.self)

        try await storage.withStore(command: "multivector", build: { try await ingest(docs, into: $0) }) {
            storeDirectory, buildSeconds in
            let database = try Database.open(at: storeDirectory)
            defer { database.close() }
            let collection = try database.collection(named: "multivector")
            let multivectorQueries = (0..<queryCount).map { queryRows.multivector($0) }
            let dataName = URL(fileURLWithPath: data).lastPathComponent
            let clock = ContinuousClock()

            func run(_ mode: String, _ params: SearchParams, extra: [String: Any] = [:]) throws {
                for q in 0..<queryCount {
                    _ = try collection.search(multivectorQueries[q], using: "m", limit: k, params: params)
                }  // warm pass
                var latencies: [Duration] = []
                var hits = 0
                for q in 0..<queryCount {
                    var found: [ScoredPoint] = []
                    latencies.append(
                        try clock.measure {
                            found = try collection.search(multivectorQueries[q], using: "m", limit: k, params: params)
                        })
                    let truth = Set((0..<k).map { Int(gt[q * k + $0]) })
                    hits +=
                        found.filter { if case .number(let id) = $0.id { truth.contains(Int(id)) } else { false } }
                        .count
                }
                var row = LatencySummary(latencies).fields
                row["engine"] = "strata"
                row["mode"] = mode
                row["data"] = dataName
                row["recall10"] = Double(hits) / Double(queryCount * k)
                if let buildSeconds { row["build_s"] = buildSeconds }
                for (key, value) in extra { row[key] = value }
                try printResult(row)
            }
            try run("exact", SearchParams(exact: true))
            for ef in ef { try run("indexed", SearchParams(hnswEf: ef), extra: ["ef": ef]) }
        }
    }

    private func ingest(_ docs: Rows, into directory: String) async throws -> Double {
        let database = try Database.open(at: directory)
        defer { database.close() }
        let config = CollectionConfig(
            vectors: ["m": VectorParams(size: docs.dim, distance: .cosine, multivectorConfig: MultiVectorConfig())],
            hnswConfig: HnswConfig(m: 16, efConstruct: 100))
        let collection = try database.createCollection("multivector", config: config)
        let start = ContinuousClock.now
        progress("ingesting \(docs.count) multivectors of \(docs.dim)-d rows (\(docs.indptr.last!) rows)")
        let batch = 200
        for first in stride(from: 0, to: docs.count, by: batch) {
            let points = (first..<min(first + batch, docs.count)).map { row in
                PointStruct(id: .number(UInt64(row)), vectors: ["m": docs.multivector(row)])
            }
            try await collection.upsert(points)
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
    benchProgress("multivector", message)
}
