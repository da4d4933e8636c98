import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `strata bench upsert`: acknowledged-upsert throughput through the real write
/// path (validation → WAL group commit → mutable segment), per batch size,
/// writer count and durability mode.
struct BenchUpsertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upsert",
        abstract: "Measure upsert throughput with acknowledged writes; one JSON line per configuration.")

    @Option(name: .long, help: "TEXMEX data set directory (base.fvecs); without it, random unit vectors.")
    var data: String?

    @Option(name: .long, help: "Points to write per configuration.")
    var points: Int = 100_000

    @Option(name: .long, help: "Dimension of generated vectors (without --data).")
    var dim: Int = 384

    @Option(name: .long, help: "Comma-separated batch sizes.")
    var batch: String = "100,1000"

    @Option(name: .long, help: "Comma-separated counts of concurrent writers.")
    var writers: String = "1,4,16"

    @Option(name: .long, help: "Comma-separated modes: durable (fdatasync before ack), relaxed (periodic sync).")
    var mode: String = "durable,relaxed"

    @Option(name: .long, help: "Sync interval of the relaxed mode, in milliseconds.")
    var relaxedMs: Int = 100

    @Option(name: .long, help: "Where to create the temporary data directories.")
    var workDir: String = NSTemporaryDirectory()

    @Option(name: .long, help: "Distance of the collection: Dot, Cosine, Euclid or Manhattan.")
    var distance: String = "Dot"

    @Option(
        name: .long,
        help:
            "Payload of each point: none, or small ({\"group\": id % 97, \"name\": \"point-<id>\"}, what Benchmarks/rest_bodies.py sends)."
    )
    var payload: String = "none"

    func run() async throws {
        let dataset: [Float]
        let dimension: Int
        if let data {
            let (base, d) = try VectorDataset.readVectors(joinedPath(data, "base.fvecs"))
            dimension = d
            dataset = Array(base.prefix(points * d))
        } else {
            dimension = dim
            var rng = SplitMix64(seed: 7)
            dataset = (0..<points * dim).map { _ in Float(Int(rng.next() % 20001) - 10000) / 10000 }
        }
        let count = dataset.count / dimension
        guard let metric = Distance(rawValue: distance) else {
            throw ValidationError("unknown distance \(distance); use Dot, Cosine, Euclid or Manhattan")
        }
        let payloadOf: @Sendable (Int) -> Payload
        switch payload {
        case "none": payloadOf = { _ in [:] }
        case "small": payloadOf = { row in ["group": .int(Int64(row % 97)), "name": .string("point-\(row)")] }
        default: throw ValidationError("unknown payload \(payload); use none or small")
        }
        for modeName in mode.split(separator: ",") {
            let durability: Durability
            switch modeName {
            case "durable": durability = .durable
            case "relaxed": durability = .periodic(milliseconds: relaxedMs)
            default: throw ValidationError("unknown mode \(modeName); use durable or relaxed")
            }
            for batchSize in try parseList(batch) {
                for writerCount in try parseList(writers) {
                    let directory = joinedPath(
                        workDir, "strata-bench-upsert-\(getpid())-\(UUID().uuidString.prefix(8))")
                    defer { try? FileManager.default.removeItem(atPath: directory) }
                    let db = try Database.open(at: directory, options: DatabaseOptions(durability: durability))
                    let collection = try db.createCollection(
                        "bench", config: CollectionConfig(size: dimension, distance: metric))
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for writer in 0..<writerCount {
                            group.addTask {
                                // Writer w takes batches w, w + W, w + 2W, …
                                var batchIndex = writer
                                while batchIndex * batchSize < count {
                                    let lo = batchIndex * batchSize
                                    let hi = min(lo + batchSize, count)
                                    let batchPoints = (lo..<hi).map { row in
                                        PointStruct(
                                            id: .number(UInt64(row)),
                                            vector: Array(dataset[row * dimension..<(row + 1) * dimension]),
                                            payload: payloadOf(row))
                                    }
                                    try await collection.upsert(batchPoints)
                                    batchIndex += writerCount
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    let elapsed = seconds(ContinuousClock.now - start)
                    let stats = collection.walStatistics
                    precondition(collection.count() == count, "benchmark lost points")
                    db.close()
                    let row: [String: Any] = [
                        "bench": "upsert", "peer": "strata", "mode": String(modeName), "batch": batchSize,
                        "writers": writerCount, "points": count, "dim": dimension, "distance": metric.rawValue,
                        "payload": payload,
                        "points_per_s": Int(Double(count) / elapsed), "seconds": (elapsed * 1000).rounded() / 1000,
                        "wal_syncs": stats.syncs, "wal_group_commits": stats.batches,
                        "records_per_group_commit": Double(stats.records) / Double(max(stats.batches, 1)),
                    ]
                    let json = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
                    print(String(decoding: json, as: UTF8.self))
                }
            }
        }
    }

    private func parseList(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { item in
            guard let value = Int(item), value > 0 else {
                throw ValidationError("\"\(item)\" is not a positive integer")
            }
            return value
        }
    }
}
