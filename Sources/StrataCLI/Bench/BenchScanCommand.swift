import ArgumentParser
import Strata
import Foundation
import StrataVectorMath

/// `strata bench scan`: exact (brute-force) top-k search, one query at a time on
/// one thread, over a TEXMEX data set as written by `shared/bench/gen_dataset.py`.
///
/// Method: the base vectors are loaded into one 64-byte-aligned row-major buffer;
/// each query scores every row with `VectorKernels.scoreBatch` in chunks of
/// `chunkRows` rows (the scores of a chunk stay in L1) and feeds them to a
/// `TopKSelector`. Latency is timed per query (scan + selection + sorting the k
/// results) after a short warm-up; QPS = queries / sum of latencies. Recall is
/// against `gt.ivecs` (computed by FAISS with the data set's metric).
/// The FAISS peer is `Benchmarks/flat_scan_peer.py`, same data, same shape of
/// output.
///
/// With `--kernels`, also prints one line per instruction-set level this CPU
/// supports: ns per distance in L1, in L2, and streaming the whole base.
///
/// Runs on the calling task's thread for the whole measurement (the process has
/// no other work).
struct BenchScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Exact top-k scan, single-threaded, one query at a time; prints one JSON line.")

    @Option(name: .long, help: "Data set directory with base.fvecs, query.fvecs, gt.ivecs and meta.json.")
    var data: String

    @Option(name: .long, help: "Number of queries to run (at most the number in query.fvecs).")
    var queries: Int = 1000

    @Option(name: .long, help: "Results per query.")
    var k: Int = 10

    @Option(
        name: .long,
        help:
            "Cosine, Dot, Euclid or Manhattan (also ip, l2). Default: from meta.json (cosine data is unit-length, so it is scanned with Dot)."
    )
    var metric: String?

    @Option(name: .long, help: "Kernel level: auto, portable, avx2 or avx512.")
    var isa: String = "auto"

    @Flag(name: .long, help: "Print JSON lines only.")
    var json = false

    @Flag(name: .long, help: "Also measure every supported kernel level (ns per distance in L1, L2 and out of cache).")
    var kernels = false

    @Flag(
        name: .long,
        help:
            "Also load the base into a temporary Strata collection (real write path) and time Collection.search, printing a second line with \"bench\":\"scan-engine\"."
    )
    var engine = false

    @Option(name: .long, help: "Where --engine creates its temporary data directory.")
    var workDir: String = NSTemporaryDirectory()

    /// Rows scored per scoreBatch call: 2048 scores = 8 KiB, resident in L1.
    static let chunkRows = 2048

    func validate() throws {
        guard queries > 0 else { throw ValidationError("--queries must be positive") }
        guard k > 0 else { throw ValidationError("--k must be positive") }
    }

    func run() async throws {
        let meta = try DatasetMeta.load(directory: data)
        let scanMetric = try resolveMetric(meta: meta)
        let kernelSet = try resolveKernelSet()

        let base = try AlignedMatrix.readVecs(path: scanDataPath(data, "base.fvecs"))
        let query = try AlignedMatrix.readVecs(path: scanDataPath(data, "query.fvecs"), maxRows: queries)
        guard query.dim == base.dim else {
            throw BenchScanError(
                "query.fvecs has dimension \(query.dim) but base.fvecs has \(base.dim); regenerate the data set")
        }
        if scanMetric == .cosine {
            base.normalizeRows()
            query.normalizeRows()
        }
        let groundTruth =
            FileManager.default.fileExists(atPath: scanDataPath(data, "gt.ivecs"))
            ? try AlignedMatrix.readVecs(path: scanDataPath(data, "gt.ivecs"), maxRows: queries) : nil

        let result = runScan(base: base, queries: query, metric: scanMetric, kernels: kernelSet)

        let engineResult = engine ? try await runThroughEngine(base: base, queries: query, metric: scanMetric) : nil

        var recall: Double?
        var engineRecall: Double?
        if let groundTruth, meta.groundTruthMatches(scanMetric), groundTruth.dim >= k {
            recall = result.recall(against: groundTruth, k: k)
            engineRecall = engineResult?.recall(against: groundTruth, k: k)
        }
        let fields: [(String, JSONField)] = [
            ("bench", .string("scan")), ("n", .int(base.rows)), ("dim", .int(base.dim)),
            ("queries", .int(query.rows)), ("k", .int(k)), ("metric", .string(scanMetric.rawValue)),
            ("qps", .number(result.qps, digits: 1)), ("p50_ms", .number(result.percentileMs(0.50), digits: 3)),
            ("p99_ms", .number(result.percentileMs(0.99), digits: 3)),
            ("recall\(k)", recall.map { .number($0, digits: 4) } ?? .null),
            ("isa", .string(kernelSet.instructionSet.rawValue)),
        ]
        if !json {
            print(
                "exact scan of \(base.rows) x \(base.dim) (\(scanMetric.rawValue)), \(query.rows) queries, k=\(k), "
                    + "kernels \(kernelSet.instructionSet.rawValue): \(String(format: "%.1f", result.qps)) QPS, "
                    + "p50 \(String(format: "%.3f", result.percentileMs(0.5))) ms, p99 \(String(format: "%.3f", result.percentileMs(0.99))) ms"
                    + (recall.map { ", recall@\(k) \(String(format: "%.4f", $0))" } ?? ""))
        }
        print(JSONField.line(fields))

        if let engineResult {
            print(
                JSONField.line([
                    ("bench", .string("scan-engine")), ("n", .int(base.rows)), ("dim", .int(base.dim)),
                    ("queries", .int(query.rows)), ("k", .int(k)), ("metric", .string(scanMetric.rawValue)),
                    ("qps", .number(engineResult.qps, digits: 1)),
                    ("p50_ms", .number(engineResult.percentileMs(0.50), digits: 3)),
                    ("p99_ms", .number(engineResult.percentileMs(0.99), digits: 3)),
                    ("recall\(k)", engineRecall.map { .number($0, digits: 4) } ?? .null),
                    ("isa", .string(VectorKernelSet.selected.instructionSet.rawValue)),
                ]))
        }

        if kernels {
            for set in VectorKernelSet.supported {
                print(JSONField.line(KernelMicrobenchmark(set: set, dim: base.dim).run(base: base, metric: scanMetric)))
            }
        }
    }

    private func resolveMetric(meta: DatasetMeta) throws -> DistanceMetric {
        guard let name = metric else { return meta.scanMetric }
        guard let parsed = DistanceMetric(cliName: name) else {
            throw ValidationError("unknown metric \(name); use Cosine, Dot, Euclid, Manhattan, ip or l2")
        }
        return parsed
    }

    private func resolveKernelSet() throws -> VectorKernelSet {
        if isa == "auto" { return .selected }
        guard let level = VectorInstructionSet(rawValue: isa) else {
            throw ValidationError("unknown --isa \(isa); use auto, portable, avx2 or avx512")
        }
        guard let set = VectorKernelSet(level) else {
            throw ValidationError(
                "this CPU cannot run the \(isa) kernels; supported: \(VectorKernelSet.supported.map(\.instructionSet.rawValue))"
            )
        }
        return set
    }

    private func runScan(
        base: borrowing AlignedMatrix, queries: borrowing AlignedMatrix, metric: DistanceMetric,
        kernels: VectorKernelSet
    ) -> ScanResult {
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunkRows)
        defer { scores.deallocate() }
        func search(_ q: UnsafePointer<Float>) -> [(id: Int, score: Float)] {
            var selector = TopKSelector(k: k, metric: metric)
            var start = 0
            while start < base.rows {
                let count = min(Self.chunkRows, base.rows - start)
                kernels.scoreBatch(
                    metric: metric, query: q, base: base.row(start), count: count, dim: base.dim, into: scores)
                selector.insert(scores: UnsafeBufferPointer(start: scores, count: count), firstID: start)
                start += count
            }
            return selector.sorted()
        }
        for i in 0..<min(5, queries.rows) { _ = search(queries.row(i)) }  // warm-up: page in, train predictors
        var latencies: [Duration] = []
        var results: [[Int]] = []
        latencies.reserveCapacity(queries.rows)
        results.reserveCapacity(queries.rows)
        let clock = ContinuousClock()
        for i in 0..<queries.rows {
            let q = queries.row(i)
            var hits: [(id: Int, score: Float)] = []
            latencies.append(clock.measure { hits = search(q) })
            results.append(hits.map(\.id))
        }
        return ScanResult(latencies: latencies, results: results)
    }
}

// MARK: - Through the engine

extension BenchScanCommand {
    /// Loads the base into a fresh collection through the public API (relaxed
    /// durability: the load is not what is measured), flushes it into an
    /// immutable mmap'd segment, then times
    /// `Collection.search` per query: the path users get, with its locking,
    /// chunking and result building.
    fileprivate func runThroughEngine(
        base: borrowing AlignedMatrix, queries: borrowing AlignedMatrix, metric: DistanceMetric
    ) async throws -> ScanResult {
        let directory = scanDataPath(workDir, "strata-bench-scan-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database.open(at: directory, options: DatabaseOptions(durability: .periodic(milliseconds: 1000)))
        defer { db.close() }
        let collection = try db.createCollection("scan", config: CollectionConfig(size: base.dim, distance: metric))
        let dim = base.dim
        var row = 0
        while row < base.rows {
            let end = min(row + 1000, base.rows)
            var points: [PointStruct] = []
            points.reserveCapacity(end - row)
            for r in row..<end {
                points.append(
                    PointStruct(
                        id: .number(UInt64(r)), vector: Array(UnsafeBufferPointer(start: base.row(r), count: dim))))
            }
            try await collection.upsert(points)
            row = end
        }
        // Search the disk-first path: the points in immutable, mmap'd segments,
        // merged to the optimizer's target before the clock starts.
        try collection.optimize()
        let segments = collection.storageInfo.segments.count
        let queryVectors = (0..<queries.rows).map { Array(UnsafeBufferPointer(start: queries.row($0), count: dim)) }
        for q in queryVectors.prefix(5) { _ = try collection.search(q, limit: k) }  // warm-up
        var latencies: [Duration] = []
        var results: [[Int]] = []
        let clock = ContinuousClock()
        for q in queryVectors {
            var hits: [ScoredPoint] = []
            latencies.append(try clock.measure { hits = try collection.search(q, limit: k) })
            results.append(
                hits.map { hit in
                    if case .number(let n) = hit.id { return Int(n) }
                    return -1
                })
        }
        FileHandle.standardError.write(
            Data("engine: \(collection.count()) points in \(segments) immutable segment(s)\n".utf8))
        return ScanResult(latencies: latencies, results: results)
    }
}

// MARK: - Results

private struct ScanResult {
    var latencies: [Duration]
    var results: [[Int]]

    var qps: Double {
        let total = latencies.reduce(Duration.zero, +)
        return Double(latencies.count) / total.inSeconds
    }

    /// Nearest-rank percentile of the per-query latencies, in milliseconds.
    func percentileMs(_ p: Double) -> Double {
        let sorted = latencies.sorted()
        let rank = max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)
        return sorted[min(rank, sorted.count - 1)].inSeconds * 1000
    }

    /// Mean over queries of |found ∩ true top-k| / k.
    func recall(against groundTruth: borrowing AlignedMatrix, k: Int) -> Double {
        var total = 0.0
        for (i, found) in results.enumerated() {
            let truth = Set((0..<k).map { Int(Int32(bitPattern: groundTruth.row(i)[$0].bitPattern)) })
            total += Double(found.prefix(k).filter(truth.contains).count) / Double(k)
        }
        return total / Double(results.count)
    }
}

extension Duration {
    fileprivate var inSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

// MARK: - Kernel microbenchmark

/// ns per distance of one kernel level at `dim`: pairs over 16 vectors (L1),
/// batches over 32 rows (L1) and 512 rows (L2 on current x86), and streaming
/// the whole base (memory). Each figure is the best of 5 timed repetitions.
private struct KernelMicrobenchmark {
    let set: VectorKernelSet
    let dim: Int

    func run(base: borrowing AlignedMatrix, metric: DistanceMetric) -> [(String, JSONField)] {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(base.rows, 512))
        defer { out.deallocate() }
        var sink: Float = 0
        let q = base.row(base.rows - 1)
        let pairNs = best { () -> Int in
            let reps = 200_000
            for r in 0..<reps { sink += set.dot(q, base.row(r & 15), dim: dim) }
            return reps
        }
        func batchNs(rows: Int, reps: Int) -> Double {
            best { () -> Int in
                for _ in 0..<reps {
                    set.scoreBatch(metric: .dot, query: q, base: base.row(0), count: rows, dim: dim, into: out)
                }
                sink += out[0]
                return reps * rows
            }
        }
        let l1 = batchNs(rows: min(32, base.rows), reps: 20_000)
        let l2 = batchNs(rows: min(512, base.rows), reps: 1_000)
        let memory = best(repetitions: 3) { () -> Int in
            for _ in 0..<4 {
                set.scoreBatch(metric: metric, query: q, base: base.row(0), count: base.rows, dim: dim, into: out)
            }
            sink += out[0]
            return 4 * base.rows
        }
        return [
            ("bench", .string("kernels")), ("isa", .string(set.instructionSet.rawValue)), ("dim", .int(dim)),
            ("pair_l1_ns", .number(pairNs, digits: 2)), ("batch_l1_ns", .number(l1, digits: 2)),
            ("batch_l2_ns", .number(l2, digits: 2)), ("batch_memory_ns", .number(memory, digits: 2)),
            ("memory_gb_s", .number(Double(dim * 4) / memory, digits: 1)),
            ("checksum_is_finite", .bool(sink.isFinite)),
        ]
    }

    /// Best (smallest) ns per operation over `repetitions` runs of `body`,
    /// which returns how many operations it did.
    private func best(repetitions: Int = 5, _ body: () -> Int) -> Double {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<repetitions {
            var operations = 0
            let elapsed = clock.measure { operations = body() }
            best = min(best, elapsed.inSeconds * 1e9 / Double(operations))
        }
        return best
    }
}

// MARK: - Data set

/// Row-major float rows in one 64-byte-aligned allocation, freed on deinit.
/// (`.ivecs` rows are stored as their raw bit patterns.)
private struct AlignedMatrix: ~Copyable {
    let rows: Int
    let dim: Int
    private let storage: UnsafeMutablePointer<Float>

    init(rows: Int, dim: Int) {
        self.rows = rows
        self.dim = dim
        // SAFETY: 64-byte alignment so every row of a 16-float multiple starts on
        // a cache line; freed exactly once in deinit; never escapes this owner
        // except as a borrowed pointer used during the owner's lifetime.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(rows * dim, 1) * 4, alignment: 64)
        storage = raw.bindMemory(to: Float.self, capacity: max(rows * dim, 1))
    }

    deinit { storage.deallocate() }

    func row(_ index: Int) -> UnsafeMutablePointer<Float> {
        precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
        return storage + index * dim
    }

    func normalizeRows() {
        for r in 0..<rows {
            var v = Array(UnsafeBufferPointer(start: row(r), count: dim))
            if VectorKernels.normalize(&v) { row(r).update(from: v, count: dim) }
        }
    }

    /// Reads a TEXMEX `.fvecs`/`.ivecs` file: per row a little-endian int32
    /// dimension, then that many 4-byte values. Reads at most `maxRows` rows.
    static func readVecs(path: String, maxRows: Int = .max) throws -> AlignedMatrix {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BenchScanError("cannot open \(path); pass --data with a directory written by gen_dataset.py")
        }
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        guard size >= 4, let header = try handle.read(upToCount: 4), header.count == 4 else {
            throw BenchScanError("\(path) is empty or truncated; regenerate the data set")
        }
        let dim = Int(header.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }.littleEndian)
        let rowBytes = (dim + 1) * 4
        guard dim > 0, size % rowBytes == 0 else {
            throw BenchScanError(
                "\(path) is not a vecs file (first row claims dimension \(dim), size \(size) bytes); regenerate it")
        }
        try handle.seek(toOffset: 0)
        let matrix = AlignedMatrix(rows: min(size / rowBytes, maxRows), dim: dim)
        let chunkRows = max(1, (8 << 20) / rowBytes)
        var done = 0
        while done < matrix.rows {
            let count = min(chunkRows, matrix.rows - done)
            guard let chunk = try handle.read(upToCount: count * rowBytes), chunk.count == count * rowBytes else {
                throw BenchScanError("\(path) ended early at row \(done); regenerate it")
            }
            try chunk.withUnsafeBytes { raw in
                for r in 0..<count {
                    let rowStart = raw.baseAddress! + r * rowBytes
                    guard Int(rowStart.loadUnaligned(as: Int32.self).littleEndian) == dim else {
                        throw BenchScanError(
                            "\(path) row \(done + r) has a different dimension than row 0; regenerate it")
                    }
                    UnsafeMutableRawPointer(matrix.row(done + r)).copyMemory(from: rowStart + 4, byteCount: dim * 4)
                }
            }
            done += count
        }
        return matrix
    }
}

/// What `meta.json` says about the data set.
private struct DatasetMeta {
    /// "cosine", "euclid" (gen_dataset.py), or "ip"/"l2"/"dot".
    var metric: String

    static func load(directory: String) throws -> DatasetMeta {
        let path = scanDataPath(directory, "meta.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchScanError("cannot read \(path); pass --data with a directory written by gen_dataset.py")
        }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let metric = object["metric"] as? String
        else {
            throw BenchScanError("\(path) has no \"metric\" string; regenerate the data set")
        }
        return DatasetMeta(metric: metric.lowercased())
    }

    /// Cosine data from gen_dataset.py is unit-length, so Dot gives the same
    /// ranking and scores without re-normalising.
    var scanMetric: DistanceMetric {
        switch metric {
        case "euclid", "l2": .euclid
        case "manhattan", "l1": .manhattan
        default: .dot
        }
    }

    /// Whether gt.ivecs (FAISS inner product for cosine/ip data, L2 for euclid)
    /// ranks like `scanMetric`.
    func groundTruthMatches(_ scanMetric: DistanceMetric) -> Bool {
        switch (self.scanMetric, scanMetric) {
        case (.dot, .dot), (.dot, .cosine), (.euclid, .euclid), (.manhattan, .manhattan): true
        default: false
        }
    }
}

extension DistanceMetric {
    /// Qdrant names case-insensitively, plus FAISS-style "ip" and "l2".
    fileprivate init?(cliName: String) {
        switch cliName.lowercased() {
        case "cosine": self = .cosine
        case "dot", "ip": self = .dot
        case "euclid", "l2": self = .euclid
        case "manhattan", "l1": self = .manhattan
        default: return nil
        }
    }
}

private struct BenchScanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - JSON output

private enum JSONField {
    case string(String)
    case int(Int)
    case number(Double, digits: Int)
    case bool(Bool)
    case null

    var rendered: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .int(let i): String(i)
        case .number(let x, let digits): x.isFinite ? String(format: "%.\(digits)f", x) : "null"
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        }
    }

    /// One JSON object on one line, keys in the given order.
    static func line(_ fields: [(String, JSONField)]) -> String {
        "{" + fields.map { "\"\($0.0)\":\($0.1.rendered)" }.joined(separator: ",") + "}"
    }
}

private func scanDataPath(_ directory: String, _ file: String) -> String {
    directory.hasSuffix("/") ? directory + file : directory + "/" + file
}
