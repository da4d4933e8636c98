import ArgumentParser
import Foundation
import Strata
import StrataIO
import StrataVectorMath

/// `strata bench ann`: approximate nearest-neighbour search on a data set in the
/// layout of `shared/bench/gen_dataset.py`, through the real engine path:
/// ingest with the embedded API (WAL, segments, optimizer building the graphs),
/// then, in a fresh process, open the store and run every query single-threaded
/// at each `ef`. One JSON line per ef.
struct BenchANNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "HNSW recall@10 / QPS / latency per ef on an fvecs data set, one JSON line per ef.")

    @Option(name: .long, help: "Data set directory (base.fvecs, query.fvecs, gt.ivecs, meta.json).")
    var data: String

    @OptionGroup var storage: BenchStoreOptions<KeptStoreHelp>

    @OptionGroup var hnsw: HNSWBuildOptions

    @Option(name: .long, help: "Comma-separated hnsw_ef values to measure.")
    var ef: String = "16,32,64,128,256"

    @Option(
        name: .long,
        help:
            "Quantization: none, int8, binary, binary15 (1.5 bits), binary2 (2 bits), binary-q4 / binary15-q4 / binary2-q4 (4-bit query), pq (x8)."
    )
    var quantization: String = "none"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Vector datatype: float32, float16 or uint8.",
            discussion:
                "uint8 on a Cosine data set stores each component mapped affinely from the base's [min, max] onto 0…255 and searches by Euclid: for unit vectors that keeps the neighbour order (and the ground truth) up to the rounding, which is what the run measures."
        ))
    var datatype: String = "float32"

    @Option(name: .long, help: "Quantization oversampling (candidates = limit × oversampling, then rescored).")
    var oversampling: Double = 1

    @Option(name: .long, help: "Indexing threads (0 = all cores).")
    var threads: Int = 0

    @Option(
        name: .long,
        help: "optimizers_config.default_segment_number (0 = the engine's default: as few as max_segment_size allows).")
    var segments: Int = 0

    @Option(
        name: .customLong("max-segment-size-kb"),
        help: "optimizers_config.max_segment_size in KiB of vectors (default: the engine's, 200 MiB).")
    var maxSegmentSizeKB: Int?

    @Option(
        name: .customLong("indexing-threshold-kb"),
        help: "optimizers_config.indexing_threshold_kb (segments with fewer KiB of vectors are not indexed).")
    var indexingThresholdKB: Int = 10_000

    @Option(name: .long, help: "Use only the first N queries.")
    var queries: Int = .max

    @Flag(name: .long, help: "Evict the store's files from the page cache (posix_fadvise DONTNEED) before each ef.")
    var cold = false

    @Flag(name: .long, help: "Print only the JSON lines on stdout (progress still goes to stderr).")
    var json = false

    @Option(
        name: .customLong("memory-limit"),
        help: ArgumentHelp(
            "Cap the query process's memory, page cache included, e.g. 512M or 1G (a memory cgroup, v1 or v2).",
            discussion:
                "The store's files are dropped from the page cache first, so every page the queries read is charged to the cap. Needs a writable cgroup (root). Each line reports the group's usage, peak, page cache and anonymous memory."
        ))
    var memoryLimit: String?

    @Option(
        name: .customLong("query-threads"),
        help: "Comma-separated numbers of concurrent query threads to measure at each ef.")
    var queryThreads: String = "1"

    @Option(name: .long, help: ArgumentHelp(visibility: .private))
    var cgroup: String?

    @Option(name: .long, help: ArgumentHelp(visibility: .private))
    var phase: String = "all"

    @Option(name: .customLong("build-seconds"), help: ArgumentHelp(visibility: .private))
    var buildSeconds: Double = -1

    static let collectionName = "ann"

    func run() async throws {
        if phase == "query" {
            try runQueries()
            return
        }
        let storeDirectory = storage.store ?? NSTemporaryDirectory() + "strata-bench-ann-\(getpid())"
        defer { if storage.store == nil { try? FileManager.default.removeItem(atPath: storeDirectory) } }
        var build: Double = -1
        if !FileManager.default.fileExists(atPath: storeDirectory) {
            build = try await ingest(into: storeDirectory)
        } else {
            progress("reusing the store at \(storeDirectory) (no build time)")
        }
        // Queries in a fresh process: resident memory is what opening costs,
        // not what ingest left behind.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try currentExecutablePath())
        var arguments = [
            "bench", "ann", "--data", data, "--store", storeDirectory, "--phase", "query", "--ef", ef,
            "--quantization", quantization, "--oversampling", String(oversampling), "--datatype", datatype,
            "--build-seconds=\(build)", "--m", String(hnsw.m), "--ef-construct", String(hnsw.efConstruct),
        ]
        if queries != .max { arguments += ["--queries", String(queries)] }
        if cold { arguments.append("--cold") }
        arguments += ["--query-threads", queryThreads]
        var group: MemoryCgroup?
        if let memoryLimit {
            guard let limit = MemoryCgroup.parseBytes(memoryLimit) else {
                throw ValidationError("--memory-limit \(memoryLimit): give bytes, or a number with K, M or G")
            }
            do {
                group = try MemoryCgroup.create(limit: limit, name: "strata-bench-\(getpid())")
            } catch let failure as MemoryCgroup.Failure {
                throw ValidationError(failure.description)
            }
            progress("queries capped at \(limit >> 20) MiB (cgroup \(group!.version.rawValue): \(group!.path))")
            arguments += ["--cgroup", "\(group!.version.rawValue):\(group!.path)", "--memory-limit", memoryLimit]
        }
        defer { group?.remove() }
        child.arguments = arguments
        try child.run()
        child.waitUntilExit()
        if child.terminationReason == .uncaughtSignal, child.terminationStatus == SIGKILL, let memoryLimit {
            progress(
                "the query process was killed (SIGKILL): under --memory-limit \(memoryLimit) that is the cgroup's OOM killer; what the queries must hold in RAM (codes, the process itself) does not fit the cap"
            )
        }
        guard child.terminationStatus == 0 else { throw ExitCode(child.terminationStatus) }
    }

    private func quantizationConfig() throws -> QuantizationConfig? {
        switch quantization {
        case "none": nil
        case "int8": .scalar(quantile: nil, alwaysRam: true)
        case "binary": .binary(encoding: .oneBit, queryEncoding: .scalar8Bits, alwaysRam: true)
        case "binary2": .binary(encoding: .twoBits, queryEncoding: .scalar8Bits, alwaysRam: true)
        case "binary-q4": .binary(encoding: .oneBit, queryEncoding: .scalar4Bits, alwaysRam: true)
        case "binary2-q4": .binary(encoding: .twoBits, queryEncoding: .scalar4Bits, alwaysRam: true)
        case "binary15": .binary(encoding: .oneAndHalfBits, queryEncoding: .scalar8Bits, alwaysRam: true)
        case "binary15-q4": .binary(encoding: .oneAndHalfBits, queryEncoding: .scalar4Bits, alwaysRam: true)
        case "pq": .product(compression: .x8, alwaysRam: true)
        default:
            throw ValidationError(
                "--quantization must be none, int8, binary, binary15, binary2, binary-q4, binary15-q4, binary2-q4 or pq"
            )
        }
    }

    /// Loads the base vectors through the embedded API and optimizes; returns seconds.
    private func ingest(into directory: String) async throws -> Double {
        let dataset = try VectorDataset.load(data, maxQueries: 0)
        let (distance, mapping) = try storedSpace(metric: dataset.metric) { dataset.base }
        let database = try Database.open(at: directory)
        var config = CollectionConfig(
            size: dataset.dimension, distance: distance,
            optimizers: OptimizersConfig(
                defaultSegmentNumber: segments, maxSegmentSizeKB: maxSegmentSizeKB,
                indexingThresholdKB: indexingThresholdKB),
            hnswConfig: HnswConfig(m: hnsw.m, efConstruct: hnsw.efConstruct, maxIndexingThreads: threads),
            quantizationConfig: try quantizationConfig())
        config.vectors[CollectionConfig.defaultVectorName]?.datatype = try vectorDatatype()
        let collection = try database.createCollection(Self.collectionName, config: config)
        progress("ingesting \(dataset.count) × \(dataset.dimension) (\(dataset.metric)) into \(directory)")
        let start = ContinuousClock.now
        var lastReport = start
        try await upsertFromTwoWriters(count: dataset.count, into: collection) { row in
            PointStruct(
                id: .number(UInt64(row)),
                vector: mapping(Array(dataset.base[(row * dataset.dimension)..<((row + 1) * dataset.dimension)])))
        } afterBatch: { next in
            if ContinuousClock.now - lastReport > .seconds(3) {
                lastReport = ContinuousClock.now
                let info = collection.storageInfo
                progress(
                    "  ingested \(min(next, dataset.count))/\(dataset.count), \(info.segments.count) segments, \(elapsed(start))"
                )
            }
        }
        progress("ingest done in \(elapsed(start)); optimizing (flush, merge, build graphs)")
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                if Task.isCancelled { break }
                let info = collection.storageInfo
                progress(
                    "  optimizing: \(info.segments.count) segments (\(info.segments.map(\.points))), \(elapsed(start))")
            }
        }
        try collection.optimize()
        reporter.cancel()
        let total = seconds(ContinuousClock.now - start)
        let info = collection.storageInfo
        progress(
            "indexed in \(String(format: "%.1f", total)) s: \(info.segments.count) segments \(info.segments.map(\.points))"
        )
        database.close()
        return total
    }

    /// The group the query process runs in (`--cgroup`, from the parent's `--memory-limit`).
    private func joinedGroup() throws -> MemoryCgroup? {
        guard let cgroup else { return nil }
        let parts = cgroup.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let version = MemoryCgroup.Version(rawValue: String(parts[0])) else {
            throw ValidationError("bad --cgroup \(cgroup)")
        }
        let group = MemoryCgroup(path: String(parts[1]), version: version)
        try group.join()
        // Pages cached before (charged to another group) would be read for free: drop them.
        evictFromPageCache(storage.store!)
        return group
    }

    private func runQueries() throws {
        let group = try joinedGroup()
        let threadCounts = try queryThreads.split(separator: ",").map {
            guard let value = Int($0.trimmingCharacters(in: .whitespaces)), (1...1024).contains(value) else {
                throw ValidationError("bad --query-threads \($0)")
            }
            return value
        }
        let (queryRows, dimension) = try VectorDataset.readVectors(joinedPath(data, "query.fvecs"))
        let (truthRows, k) = try VectorDataset.readVectors(joinedPath(data, "gt.ivecs"))
        let queryCount = min(queryRows.count / dimension, queries, truthRows.count / k)
        let rssBeforeOpen = residentMB()
        var database = try Database.open(at: storage.store!)
        var collection = try database.collection(Self.collectionName)
        let rssAfterOpen = residentMB()
        let rssAnonAfterOpen = residentMB("RssAnon"), rssFileAfterOpen = residentMB("RssFile")
        let info = collection.storageInfo
        let diskBytes = directoryBytes(storage.store!)
        let limit = 10
        let efs = try ef.split(separator: ",").map {
            guard let value = Int($0.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw ValidationError("bad --ef \($0)")
            }
            return value
        }
        let quantizationParams = QuantizationSearchParams(rescore: true, oversampling: oversampling)
        // The base vectors are read only when the mapping needs them (uint8): under
        // --memory-limit they would take the cap.
        let (_, mapping) = try storedSpace(metric: try VectorDataset.metric(of: data)) {
            try VectorDataset.readVectors(joinedPath(data, "base.fvecs")).0
        }
        let vectors = (0..<queryCount).map { mapping(Array(queryRows[($0 * dimension)..<(($0 + 1) * dimension)])) }
        let truth = (0..<queryCount).map { q in
            Set((0..<limit).map { Int(Int32(bitPattern: truthRows[q * k + $0].bitPattern)) })
        }
        // Warm-up (skipped when measuring cold).
        if !cold { for query in vectors.prefix(20) { _ = try collection.search(query, limit: limit) } }
        for efValue in efs {
            for threadCount in threadCounts {
                if cold {
                    // Pages a process has mapped cannot be evicted: close the store,
                    // drop its files from the page cache, reopen (which reads the
                    // metadata and copies the codes into RAM), and drop again what
                    // opening read but does not keep mapped.
                    database.close()
                    evictFromPageCache(storage.store!)
                    database = try Database.open(at: storage.store!)
                    collection = try database.collection(Self.collectionName)
                    evictFromPageCache(storage.store!)
                }
                let readBefore = processReadBytes()
                let params = SearchParams(hnswEf: efValue, quantization: quantizationParams)
                let (latencies, hits, wall) = try searchAll(
                    vectors, truth: truth, limit: limit, params: params, in: collection, threads: threadCount)
                let readAfter = processReadBytes()
                let summary = LatencySummary(latencies)
                var row: [String: Any] = [
                    "engine": "strata", "data": URL(fileURLWithPath: data).lastPathComponent, "ef": efValue,
                    "m": hnsw.m,
                    "ef_construct": hnsw.efConstruct, "quantization": quantization, "oversampling": oversampling,
                    "datatype": datatype,
                    "distance": collection.config.vectors[CollectionConfig.defaultVectorName]!.distance.rawValue,
                    "recall10": Double(hits) / Double(queryCount * limit),
                    "qps": threadCount == 1 ? summary.qps : Double(queryCount) / wall, "query_threads": threadCount,
                    "p50_ms": summary.percentileMs(0.5), "p99_ms": summary.percentileMs(0.99), "rss_mb": residentMB(),
                    "rss_mb_after_open": rssAfterOpen, "rss_mb_before_open": rssBeforeOpen,
                    "rss_anon_mb_after_open": rssAnonAfterOpen, "rss_file_mb_after_open": rssFileAfterOpen,
                    "disk_mb": Double(diskBytes) / 1_048_576, "segments": info.segments.count,
                    "default_segment_number": collection.config.optimizers.defaultSegmentNumber, "queries": queryCount,
                    "cold": cold, "isa": VectorKernels.instructionSet,
                ]
                if buildSeconds >= 0 { row["build_s"] = buildSeconds }
                if let group {
                    let megabytes = { (bytes: Int?) -> Any in bytes.map { Double($0) / 1_048_576 } ?? NSNull() }
                    let (current, peak) = group.usage()
                    let (pageCache, anonymous) = group.breakdown()
                    row["memory_limit_mb"] = megabytes(memoryLimit.flatMap(MemoryCgroup.parseBytes))
                    row["cgroup"] = group.version.rawValue
                    row["cgroup_mb"] = megabytes(current)
                    row["cgroup_peak_mb"] = megabytes(peak)
                    row["cgroup_page_cache_mb"] = megabytes(pageCache)
                    row["cgroup_anon_mb"] = megabytes(anonymous)
                }
                if let readBefore, let readAfter {
                    row["pages_read_per_query"] = Double(readAfter - readBefore) / 4096 / Double(queryCount)
                }
                let line = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
                print(String(decoding: line, as: UTF8.self))
            }
        }
        database.close()
    }

    /// Every query once, from `threads` OS threads (query `i` on thread
    /// `i % threads`): each query's latency, the recall hits, and the wall time.
    private func searchAll(
        _ vectors: [[Float]], truth: [Set<Int>], limit: Int, params: SearchParams, in collection: Collection,
        threads: Int
    ) throws -> ([Duration], Int, Double) {
        let results = Locked<[(latencies: [Duration], hits: Int, error: (any Error)?)]>(
            Array(repeating: ([], 0, nil), count: threads))
        let finished = DispatchGroup()
        let start = ContinuousClock.now
        for worker in 0..<threads {
            finished.enter()
            Thread {
                defer { finished.leave() }
                var latencies: [Duration] = []
                var hits = 0
                let clock = ContinuousClock()
                do {
                    for q in stride(from: worker, to: vectors.count, by: threads) {
                        var found: [ScoredPoint] = []
                        latencies.append(
                            try clock.measure {
                                found = try collection.search(vectors[q], limit: limit, params: params)
                            })
                        for point in found {
                            if case .number(let id) = point.id, truth[q].contains(Int(id)) { hits += 1 }
                        }
                    }
                    results.withLock { $0[worker] = (latencies, hits, nil) }
                } catch {
                    results.withLock { $0[worker] = ([], 0, error) }
                }
            }.start()
        }
        finished.wait()
        let wall = seconds(ContinuousClock.now - start)
        let all = results.withLock { $0 }
        if let error = all.compactMap(\.error).first { throw error }
        return (all.flatMap(\.latencies), all.map(\.hits).reduce(0, +), wall)
    }

    private func vectorDatatype() throws -> VectorDatatype {
        guard let value = VectorDatatype(apiName: datatype) else {
            throw ValidationError("--datatype must be float32, float16 or uint8")
        }
        return value
    }

    /// The distance the collection uses and how a data set vector is mapped
    /// into it: unchanged, except uint8 on a Cosine set (see `--datatype`).
    private func storedSpace(
        metric name: String, base: () throws -> [Float]
    ) throws -> (Distance, @Sendable ([Float]) -> [Float]) {
        let distance = try metric(name)
        guard try vectorDatatype() == .uint8, distance == .cosine || distance == .dot else {
            return (distance, { $0 })
        }
        guard distance == .cosine else {
            throw ValidationError("--datatype uint8 needs a Cosine, Euclid or Manhattan data set")
        }
        let vectors = try base()
        let low = vectors.min() ?? 0
        let high = vectors.max() ?? 1
        let scale = 255 / max(high - low, .leastNormalMagnitude)
        return (.euclid, { $0.map { (($0 - low) * scale).rounded() } })
    }

    private func metric(_ name: String) throws -> Distance {
        switch name.lowercased() {
        case "cosine", "angular": .cosine
        case "dot", "ip": .dot
        case "euclid", "l2", "euclidean": .euclid
        case "manhattan", "l1": .manhattan
        default: throw ValidationError("meta.json metric \(name) is not one of cosine, dot, euclid, manhattan")
        }
    }
}

private func progress(_ message: String) {
    benchProgress("ann", message)
}

private func elapsed(_ start: ContinuousClock.Instant) -> String {
    String(format: "%.1f s", seconds(ContinuousClock.now - start))
}

/// Upserts points `0..<count` (made by `point`) in batches of 1000 from two
/// concurrent writers, which keep the WAL's group commit and the optimizer busy
/// at once. `afterBatch` runs after each acknowledged batch with the number of
/// rows handed out so far.
func upsertFromTwoWriters(
    count: Int, into collection: Collection, point: (Int) -> PointStruct, afterBatch: (Int) -> Void = { _ in }
) async throws {
    let batch = 1000
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        func submit(_ first: Int) {
            let points = (first..<min(first + batch, count)).map(point)
            group.addTask { _ = try await collection.upsert(points) }
        }
        for _ in 0..<2 where next < count {
            submit(next)
            next += batch
        }
        while try await group.next() != nil {
            if next < count {
                submit(next)
                next += batch
            }
            afterBatch(next)
        }
    }
}

/// Bytes of every regular file under `path`.
func directoryBytes(_ path: String) -> Int {
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let file = enumerator.nextObject() as? String {
        if let attributes = try? FileManager.default.attributesOfItem(atPath: joinedPath(path, file)),
            attributes[.type] as? FileAttributeType == .typeRegular
        {
            total += (attributes[.size] as? Int) ?? 0
        }
    }
    return total
}

/// Drops every file under `path` from the page cache (clean pages only; the
/// store's files are written and synced before this is called).
func evictFromPageCache(_ path: String) {
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return }
    while let file = enumerator.nextObject() as? String {
        let fd = open(joinedPath(path, file), O_RDONLY)
        guard fd >= 0 else { continue }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
}

/// Bytes this process caused to be read from storage (read_bytes in /proc/self/io).
func processReadBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("read_bytes:") })
    else { return nil }
    return Int(line.split(separator: " ").last ?? "")
}
