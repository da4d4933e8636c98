import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `strata demo`: the main job until the REST server lands — load a data set
/// into a persistent store through the real write path, reopen it, and answer
/// nearest-neighbour queries.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Load vectors into a Strata data directory and answer nearest-neighbour queries.",
        discussion: """
            Without --dataset, generates a deterministic clustered data set with payloads. With --dataset DIR, \
            loads a TEXMEX-layout data set (base.fvecs, query.fvecs, gt.ivecs, meta.json, as written by \
            shared/bench/gen_dataset.py) and reports recall@10 against its ground truth. Points are written \
            through the write-ahead log (durable group commit); a second run finds them already stored and \
            only recovers and queries.
            """)

    @Option(name: .long, help: "Data directory (created if missing).")
    var dataDir: String = "./data"

    @Option(name: .long, help: "A TEXMEX data set directory to load instead of generated data.")
    var dataset: String?

    @Option(name: .long, help: "Generated points (without --dataset).")
    var points: Int = 20_000

    @Option(name: .long, help: "Generated dimension (without --dataset).")
    var dim: Int = 128

    @Option(name: .long, help: "Queries to run.")
    var queries: Int = 200

    @Option(name: .long, help: "Points per upsert batch.")
    var batch: Int = 1000

    @Option(name: .long, help: "Seed of the generated data.")
    var seed: UInt64 = 42

    func validate() throws {
        guard points > 0, dim > 0, dim <= 65536, queries > 0, batch > 0 else {
            throw ValidationError("--points, --dim, --queries and --batch must be positive (dim ≤ 65536)")
        }
    }

    func run() async throws {
        let source =
            try dataset.map { try VectorDataset.load($0, maxQueries: queries) }
            ?? SyntheticData.generate(points: points, dim: dim, queries: queries, seed: seed)
        let name = dataset.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "demo"
        let distance: Distance =
            source.metric == "euclid" || source.metric == "l2" ? .euclid : (source.metric == "dot" ? .dot : .cosine)

        let openStart = ContinuousClock.now
        let db = try Database.open(at: dataDir)
        defer { db.close() }
        let openTime = ContinuousClock.now - openStart
        if db.collectionNames().contains(name) {
            let info = try db.collection(name).storageInfo
            print(
                "opened \(dataDir) in \(format(openTime)): \(info.segments.count) immutable segment(s) up to op \(info.checkpoint), "
                    + "\(info.lastOperation - info.checkpoint) newer op(s) replayed from the WAL into \(info.mutablePoints) in-memory point(s)"
            )
        } else {
            print("opened \(dataDir) in \(format(openTime))")
        }

        let collection: Collection
        if db.collectionNames().contains(name) {
            collection = try db.collection(name)
        } else {
            collection = try db.createCollection(
                name, config: CollectionConfig(size: source.dimension, distance: distance))
            print("created collection `\(name)`: \(source.dimension)-d, \(distance.rawValue)")
        }

        if collection.count() < source.count {
            let payloads = source.payloadLines()
            let ingestStart = ContinuousClock.now
            var nextReport = 0
            for start in stride(from: 0, to: source.count, by: batch) {
                let end = min(start + batch, source.count)
                let batchPoints = try (start..<end).map { row -> PointStruct in
                    let vector = Array(source.base[row * source.dimension..<(row + 1) * source.dimension])
                    var payload: Payload? = nil
                    if let payloads, row < payloads.count,
                        case .object(let object) = try JSONValue(parsing: payloads[row])
                    {
                        payload = object
                    } else if payloads == nil {
                        payload = SyntheticData.payload(row: row)
                    }
                    return PointStruct(id: .number(UInt64(row)), vector: vector, payload: payload)
                }
                try await collection.upsert(batchPoints)
                if end * 10 / source.count >= nextReport {
                    let seconds = max(seconds(ContinuousClock.now - ingestStart), 1e-9)
                    print("  ingest: \(end)/\(source.count) points (\(Int(Double(end) / seconds)) points/s)")
                    nextReport = end * 10 / source.count + 1
                }
            }
            let seconds = seconds(ContinuousClock.now - ingestStart)
            print("ingested \(source.count) points in \(String(format: "%.2f", seconds)) s (durable group commit)")
        } else {
            print("collection `\(name)` already holds \(collection.count()) points; skipping ingest")
        }

        var latencies: [Double] = []
        var hits = 0
        var checked = 0
        var first: [ScoredPoint] = []
        for q in 0..<source.queryCount {
            let query = Array(source.queries[q * source.dimension..<(q + 1) * source.dimension])
            let start = ContinuousClock.now
            let result = try collection.search(query, limit: 10, withPayload: q == 0)
            latencies.append(seconds(ContinuousClock.now - start) * 1000)
            if q == 0 { first = result }
            if q < source.groundTruth.count {
                let truth = Set(source.groundTruth[q].prefix(10).map { PointID.number(UInt64($0)) })
                hits += result.filter { truth.contains($0.id) }.count
            } else if q < 20 {
                // No ground truth shipped (generated data): check against a plain
                // double-precision scan, independent of the SIMD kernels.
                let truth = Set(SyntheticData.referenceTop10(source, query: query).map { PointID.number(UInt64($0)) })
                hits += result.filter { truth.contains($0.id) }.count
                checked += 1
            }
        }
        latencies.sort()
        print("query 0, top 3:")
        for hit in first.prefix(3) {
            print(
                "  id \(hit.id)  score \(String(format: "%.4f", hit.score))  payload \(JSONValue.object(hit.payload ?? [:]))"
            )
        }
        let judged = source.groundTruth.isEmpty ? checked : source.groundTruth.count
        let against = source.groundTruth.isEmpty ? "a reference scan of \(checked) queries" : "gt.ivecs"
        let recall = String(format: "%.4f", Double(hits) / Double(max(judged, 1) * 10)) + " (vs \(against))"
        print(
            "\(latencies.count) exact searches over \(collection.count()) points: p50 \(String(format: "%.2f", latencies[latencies.count / 2])) ms, p99 \(String(format: "%.2f", latencies[min(latencies.count - 1, latencies.count * 99 / 100)])) ms, recall@10 \(recall)"
        )
    }
}

/// A deterministic clustered data set (SIFT-like Gaussian mixture) with
/// payloads, so the demo needs no files.
enum SyntheticData {
    static func generate(points: Int, dim: Int, queries: Int, seed: UInt64) -> VectorDataset {
        var rng = SplitMix64(seed: seed)
        let clusters = 64
        let centers = (0..<clusters * dim).map { _ in Float(rng.next() % 10_000) / 100 }
        func sample(_ rng: inout SplitMix64) -> [Float] {
            let c = Int(rng.next() % UInt64(clusters))
            return (0..<dim).map { d in centers[c * dim + d] + gaussian(&rng) * 8 }
        }
        var base: [Float] = []
        base.reserveCapacity(points * dim)
        for _ in 0..<points { base.append(contentsOf: sample(&rng)) }
        var query: [Float] = []
        for _ in 0..<queries { query.append(contentsOf: sample(&rng)) }
        return VectorDataset(
            directory: "", dimension: dim, base: base, queries: query, groundTruth: [], metric: "euclid")
    }

    /// Row numbers of the 10 nearest base vectors by Euclidean distance,
    /// computed in Double with a plain loop.
    static func referenceTop10(_ data: VectorDataset, query: [Float]) -> [Int] {
        var best: [(row: Int, distance: Double)] = []
        for row in 0..<data.count {
            var sum = 0.0
            for d in 0..<data.dimension {
                let diff = Double(data.base[row * data.dimension + d]) - Double(query[d])
                sum += diff * diff
            }
            if best.count < 10 || sum < best[best.count - 1].distance {
                best.append((row, sum))
                best.sort { $0.distance < $1.distance }
                if best.count > 10 { best.removeLast() }
            }
        }
        return best.map(\.row)
    }

    static func payload(row: Int) -> Payload {
        [
            "category": .string("cat\(String(format: "%03d", row % 100))"), "price": .double(Double(row % 997) / 10),
            "year": .int(Int64(1990 + row % 36)), "in_stock": .bool(row % 3 == 0),
        ]
    }

    static func gaussian(_ rng: inout SplitMix64) -> Float {
        let u1 = Double(rng.next() >> 11 | 1) / Double(1 << 53)
        let u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

func seconds(_ duration: Duration) -> Double {
    let (s, atto) = duration.components
    return Double(s) + Double(atto) / 1e18
}

func format(_ duration: Duration) -> String {
    String(format: "%.1f ms", seconds(duration) * 1000)
}
