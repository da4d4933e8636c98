import ArgumentParser
import Foundation
import Strata
import StrataVectorMath

/// `strata bench filtered`: filtered search on a data set with `payload.jsonl`
/// (shared/bench/gen_dataset.py --payload). Creates the field indexes,
/// ingests points with their payloads through the embedded API, optimizes,
/// computes the exact filtered ground truth itself (reference filter
/// evaluation on the payloads + brute-force distances, independent of the
/// engine's index paths), then runs every query single-threaded per
/// (filter, ef). One JSON line per (filter, ef).
struct BenchFilteredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filtered",
        abstract: "Filtered search recall@10 / QPS / latency per (filter, ef), one JSON line each.")

    @Option(name: .long, help: "Data set directory (base.fvecs, query.fvecs, meta.json, payload.jsonl).")
    var data: String

    @OptionGroup var storage: BenchStoreOptions<KeptStoreHelp>

    @Option(
        name: .long,
        help:
            "Filters and indexes as JSON ({\"indexes\": [...], \"filters\": [{\"name\", \"filter\"}]}); default: the built-in set (Benchmarks/filtered_filters.json)."
    )
    var filters: String?

    @Flag(name: .customLong("print-filters"), help: "Print the built-in filter set and exit.")
    var printFilters = false

    @Option(name: .long, help: "Comma-separated hnsw_ef values.")
    var ef: String = "64,128"

    @OptionGroup var hnsw: HNSWBuildOptions

    @Option(
        name: .customLong("full-scan-threshold-kb"),
        help:
            "hnsw_config.full_scan_threshold (KiB of matching vectors below which a segment scores the matches exactly)."
    )
    var fullScanThresholdKB: Int = 10_000

    @Option(name: .long, help: "Use only the first N queries.")
    var queries: Int = .max

    @Option(
        name: .long,
        help:
            "Filtered graph walk: on (two-hop ACORN-style below 40% selectivity, the default) or off (plain walk, results filtered)."
    )
    var acorn: String = "on"

    @Flag(name: .long, help: "Print only the JSON lines on stdout (progress still goes to stderr).")
    var json = false

    @Option(
        name: .customLong("repeat"),
        help: "Run the queries of each (filter, ef) this many times and report the last run (for profiling).")
    var repetitions: Int = 1

    static let collectionName = "filtered"

    struct Spec: Decodable {
        struct Index: Decodable {
            let field_name: String
            let field_schema: JSONValue
        }
        struct Named: Decodable {
            let name: String
            let filter: Filter
        }
        let indexes: [Index]
        let filters: [Named]
    }

    func run() async throws {
        if printFilters {
            print(Self.builtInFilters)
            return
        }
        guard acorn == "on" || acorn == "off" else { throw ValidationError("--acorn must be on or off") }
        let specText = try filters.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? Self.builtInFilters
        let spec = try JSONDecoder().decode(Spec.self, from: Data(specText.utf8))
        let efs = try ef.split(separator: ",").map {
            guard let value = Int($0.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw ValidationError("bad --ef \($0)")
            }
            return value
        }
        let dataset = try VectorDataset.load(data, maxQueries: queries)
        let payloads = try Self.readPayloads(joinedPath(data, "payload.jsonl"), expected: dataset.count)
        try await storage.withStore(
            command: "filtered", build: { try await ingest(dataset, payloads: payloads, spec: spec, into: $0) }
        ) { storeDirectory, buildSeconds in
            let database = try Database.open(at: storeDirectory)
            defer { database.close() }
            let collection = try database.collection(Self.collectionName)
            let distance = collection.config.vectors[""]!.distance
            let queryVectors = (0..<dataset.queryCount).map {
                Array(dataset.queries[($0 * dataset.dimension)..<(($0 + 1) * dataset.dimension)])
            }

            // Exact filtered ground truth: the reference evaluation of each filter
            // on the payloads, then every query's distance to every base vector.
            progress(
                "computing exact filtered ground truth for \(spec.filters.count) filters × \(queryVectors.count) queries"
            )
            let masks = spec.filters.map { named in
                payloads.enumerated().map { row, payload in
                    named.filter.matches(
                        FilterSubject(id: .number(UInt64(row)), payload: payload, hasVector: { $0.isEmpty }))
                }
            }
            let limit = 10
            var truth = [[Set<Int>]](repeating: [], count: spec.filters.count)
            var scores = [Float](repeating: 0, count: dataset.count)
            let normalizedBase: [Float] = {
                guard distance == .cosine else { return dataset.base }
                var base = dataset.base
                base.withUnsafeMutableBufferPointer { buffer in
                    for row in 0..<dataset.count {
                        var v = Array(buffer[(row * dataset.dimension)..<((row + 1) * dataset.dimension)])
                        _ = VectorKernels.normalize(&v)
                        for i in 0..<dataset.dimension { buffer[row * dataset.dimension + i] = v[i] }
                    }
                }
                return base
            }()
            for query in queryVectors {
                var q = query
                if distance == .cosine { _ = VectorKernels.normalize(&q) }
                q.withUnsafeBufferPointer { qp in
                    normalizedBase.withUnsafeBufferPointer { bp in
                        scores.withUnsafeMutableBufferPointer { out in
                            VectorKernels.scoreBatch(
                                metric: distance, query: qp.baseAddress!, base: bp.baseAddress!, count: dataset.count,
                                dim: dataset.dimension, into: out.baseAddress!)
                        }
                    }
                }
                for (f, mask) in masks.enumerated() {
                    var selector = TopKSelector(k: limit, higherIsBetter: distance.higherIsBetter)
                    for row in 0..<dataset.count where mask[row] { selector.insert(id: row, score: scores[row]) }
                    truth[f].append(Set(selector.sorted().map(\.id)))
                }
            }

            let clock = ContinuousClock()
            for (f, named) in spec.filters.enumerated() {
                let selectivity = Double(masks[f].reduce(0) { $1 ? $0 + 1 : $0 }) / Double(dataset.count)
                // Warm-up.
                for query in queryVectors.prefix(10) {
                    _ = try collection.search(query, limit: limit, filter: named.filter)
                }
                for efValue in efs {
                    for _ in 0..<max(repetitions, 1) {
                        var latencies: [Duration] = []
                        latencies.reserveCapacity(queryVectors.count)
                        var hits = 0
                        var expected = 0
                        for (q, query) in queryVectors.enumerated() {
                            var found: [ScoredPoint] = []
                            latencies.append(
                                try clock.measure {
                                    found = try collection.search(
                                        query, limit: limit, params: params(efValue), filter: named.filter)
                                })
                            for point in found {
                                if case .number(let id) = point.id, truth[f][q].contains(Int(id)) { hits += 1 }
                            }
                            expected += truth[f][q].count
                        }
                        let summary = LatencySummary(latencies)
                        var row: [String: Any] = [
                            "engine": "strata", "data": URL(fileURLWithPath: data).lastPathComponent,
                            "filter": named.name,
                            "selectivity": selectivity, "ef": efValue,
                            "recall10": expected == 0 ? 1 : Double(hits) / Double(expected),
                            "qps": summary.qps,
                            "p50_ms": summary.percentileMs(0.5), "p99_ms": summary.percentileMs(0.99),
                            "queries": queryVectors.count,
                            "full_scan_threshold_kb": fullScanThresholdKB, "m": hnsw.m,
                            "ef_construct": hnsw.efConstruct, "acorn": acorn,
                        ]
                        if let buildSeconds { row["build_s"] = buildSeconds }
                        let line = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
                        print(String(decoding: line, as: UTF8.self))
                    }
                }
            }
        }
    }

    private func params(_ ef: Int) -> SearchParams {
        SearchParams(hnswEf: ef, acorn: AcornSearchParams(enable: acorn != "off"))
    }

    static func readPayloads(_ path: String, expected: Int) throws -> [Payload] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("\(path) is missing: generate the data set with gen_dataset.py --payload")
        }
        let decoder = JSONDecoder()
        var payloads: [Payload] = []
        payloads.reserveCapacity(expected)
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard case .object(let payload) = try decoder.decode(JSONValue.self, from: Data(line.utf8)) else {
                throw ValidationError("\(path) line \(number + 1) is not a JSON object")
            }
            payloads.append(payload)
        }
        guard payloads.count == expected else {
            throw ValidationError("\(path) has \(payloads.count) payloads for \(expected) base vectors")
        }
        return payloads
    }

    private func ingest(
        _ dataset: VectorDataset, payloads: [Payload], spec: Spec, into directory: String
    ) async throws -> Double {
        let database = try Database.open(at: directory)
        defer { database.close() }
        let distance: Distance
        switch dataset.metric.lowercased() {
        case "cosine", "angular": distance = .cosine
        case "dot", "ip": distance = .dot
        default: distance = .euclid
        }
        let config = CollectionConfig(
            size: dataset.dimension, distance: distance, optimizers: OptimizersConfig(),
            hnswConfig: HnswConfig(m: hnsw.m, efConstruct: hnsw.efConstruct, fullScanThresholdKB: fullScanThresholdKB))
        let collection = try database.createCollection(Self.collectionName, config: config)
        let start = ContinuousClock.now
        for index in spec.indexes {
            try await collection.createFieldIndex(
                index.field_name, schema: try PayloadFieldSchema(json: index.field_schema))
        }
        progress(
            "ingesting \(dataset.count) × \(dataset.dimension) with payloads and \(spec.indexes.count) field indexes")
        try await upsertFromTwoWriters(count: dataset.count, into: collection) { row in
            PointStruct(
                id: .number(UInt64(row)),
                vector: Array(dataset.base[(row * dataset.dimension)..<((row + 1) * dataset.dimension)]),
                payload: payloads[row])
        }
        progress("optimizing (flush, merge, graphs, payload indexes)")
        try collection.optimize()
        let total = seconds(ContinuousClock.now - start)
        progress(
            "built in \(String(format: "%.1f", total)) s: segments \(collection.storageInfo.segments.map(\.points))")
        return total
    }

    static let builtInFilters = """
        {
          "indexes": [
            {"field_name": "category", "field_schema": "keyword"},
            {"field_name": "price", "field_schema": "float"},
            {"field_name": "tenant", "field_schema": {"type": "keyword", "is_tenant": true}},
            {"field_name": "year", "field_schema": "integer"},
            {"field_name": "in_stock", "field_schema": "bool"}
          ],
          "filters": [
            {"name": "category_rare", "filter": {"must": [{"key": "category", "match": {"value": "cat000"}}]}},
            {"name": "category_1pct", "filter": {"must": [{"key": "category", "match": {"value": "cat012"}}]}},
            {"name": "category_and_price", "filter": {"must": [{"key": "category", "match": {"value": "cat002"}}, {"key": "price", "range": {"lt": 5.56}}]}},
            {"name": "tenant", "filter": {"must": [{"key": "tenant", "match": {"value": "t7"}}]}},
            {"name": "price_10pct", "filter": {"must": [{"key": "price", "range": {"lt": 5.56}}]}},
            {"name": "category_10pct", "filter": {"must": [{"key": "category", "match": {"any": ["cat003", "cat004"]}}]}},
            {"name": "price_50pct", "filter": {"must": [{"key": "price", "range": {"lt": 20.09}}]}}
          ]
        }
        """
}

private func progress(_ message: String) {
    benchProgress("filtered", message)
}
