import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `strata bench versions` (issue 20): what retaining versions costs. The same
/// ingest with updates runs twice in one process, keeping no versions and then
/// `--retain` versions: ingest rate (points written per second, updates
/// included), disk bytes of the segments and what only versions hold; then
/// top-10 exact-recall-free HNSW queries against the current state and, on
/// the second store, against its oldest retained version (`as_of`).
struct BenchVersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "Ingest with updates keeping 0 and N versions; disk, ingest rate, as_of query QPS. JSON lines.")

    @Option(name: .long, help: "A new directory for the two stores (removed at the end unless --keep).")
    var dir: String

    @OptionGroup var synthetic: SyntheticLoadOptions

    @Option(name: .long, help: "Rounds of ingest; each upserts points/rounds new points, updates some, flushes.")
    var rounds: Int = 20

    @Option(name: .long, help: "Share of the points already written that each round rewrites.")
    var updateFraction: Double = 0.1

    @Option(name: .long, help: "Versions to retain (retain_count) in the second run.")
    var retain: Int = 10

    @Option(name: .long, help: "Queries per QPS measurement (one thread).")
    var queries: Int = 2000

    @Flag(name: .long, help: "Keep the stores.") var keep = false

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: dir) else { throw ValidationError("\(dir) exists") }
        defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } }
        var baseline: (rate: Double, bytes: Int)?
        for retained in [0, retain] {
            let path = "\(dir)/retain-\(retained)"
            let db = try Database.open(at: path, options: DatabaseOptions(durability: .periodic(milliseconds: 1000)))
            defer { db.close() }
            var config = CollectionConfig(size: synthetic.dim, distance: .euclid)
            if retained > 0 { config.versions = VersionsConfig(retainCount: retained) }
            let collection = try db.createCollection("bench", config: config)
            var rng = SplitMix64(seed: 5)
            let perRound = max(synthetic.points / rounds, 1)
            var written = 0
            var rows = 0
            let start = ContinuousClock.now
            for round in 0..<rounds {
                let end = min(rows + perRound, synthetic.points)
                var batchStart = rows
                while batchStart < end {
                    let batchEnd = min(batchStart + synthetic.batch, end)
                    try await collection.upsert(synthetic.points(batchStart..<batchEnd, rng: &rng))
                    written += batchEnd - batchStart
                    batchStart = batchEnd
                }
                // Rewrite a share of the points already written (new vectors), in batches.
                let updates = rows > 0 ? Int(Double(rows) * updateFraction) : 0
                var done = 0
                while done < updates {
                    let count = min(synthetic.batch, updates - done)
                    let ids = (0..<count).map { _ in Int(rng.next() % UInt64(rows)) }
                    try await collection.upsert(ids.flatMap { synthetic.points($0..<($0 + 1), rng: &rng) })
                    done += count
                }
                written += updates
                rows = end
                try collection.flush()
                FileHandle.standardError.write(
                    Data(
                        "  retain \(retained): round \(round + 1)/\(rounds), \(rows) points, \(collection.versions.count) versions\n"
                            .utf8))
            }
            try collection.optimize()
            let elapsed = seconds(ContinuousClock.now - start)
            let segments = "\(path)/collections/bench/segments"
            let bytes = try FileManager.default.contentsOfDirectory(atPath: segments).reduce(0) {
                $0 + ((try FileManager.default.attributesOfItem(atPath: "\(segments)/\($1)")[.size] as? Int) ?? 0)
            }
            let rate = Double(written) / elapsed
            var row: [String: Any] = [
                "bench": "versions", "retain": retained, "points": synthetic.points, "dim": synthetic.dim,
                "rounds": rounds, "points_written": written, "ingest_s": elapsed, "points_per_s": rate,
                "segment_bytes": bytes, "versions": collection.versions.count,
                "bytes_only_versions_hold": try collection.bytesOnlyVersionsHold(),
            ]
            if let baseline {
                row["ingest_rate_ratio"] = rate / baseline.rate
                row["disk_ratio"] = Double(bytes) / Double(baseline.bytes)
            } else {
                baseline = (rate, bytes)
            }
            var queryRNG = SplitMix64(seed: 77)
            let queryVectors = (0..<queries).map { _ in
                (0..<synthetic.dim).map { _ in Float(queryRNG.next() % 10_000) / 100 }
            }
            row["current_qps"] = try qps(collection, queryVectors)
            // The newest version holds the same points as the current state
            // (in the segments before the final merge); the oldest, the first round's.
            if let newest = collection.versions.last, let oldest = collection.versions.first {
                let latest = try collection.at(.number(newest.number))
                row["as_of_newest_points"] = latest.count()
                row["as_of_newest_segments"] = latest.storageInfo.segments.count
                row["current_segments"] = collection.storageInfo.segments.count
                row["as_of_newest_qps"] = try qps(latest, queryVectors)
                let past = try collection.at(.number(oldest.number))
                row["as_of_oldest_points"] = past.count()
                row["as_of_oldest_qps"] = try qps(past, queryVectors)
            }
            try printResult(row)
        }
    }

    private func qps(_ collection: Collection, _ queries: [[Float]]) throws -> Double {
        for query in queries.prefix(100) { _ = try collection.search(query, limit: 10) }  // warm up
        let start = ContinuousClock.now
        for query in queries { _ = try collection.search(query, limit: 10) }
        return Double(queries.count) / seconds(ContinuousClock.now - start)
    }
}
