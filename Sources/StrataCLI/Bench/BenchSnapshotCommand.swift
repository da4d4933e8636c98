import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `strata bench snapshot`: what a snapshot costs at scale — create, verify and
/// restore time, archive size against the collection's size on disk, and the
/// size of an incremental snapshot after 1% new writes.
struct BenchSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract:
            "Load N points, optimize, then time snapshot create / verify / restore and an incremental snapshot after 1% new writes; one JSON line."
    )

    @Option(name: .long, help: "Data directory to create (must not exist).")
    var dataDir: String

    @OptionGroup var synthetic: SyntheticLoadOptions

    @Option(name: .long, help: "HNSW m of the collection (0: no graphs, segments are scanned).")
    var hnswM: Int = 16

    @Option(name: .long, help: "Percent of new points written before the incremental snapshot.")
    var newPercent: Double = 1

    @Flag(name: .long, help: "Print only the JSON line (progress goes to standard error either way).")
    var json = false

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: dataDir) else {
            throw ValidationError("\(dataDir) exists; give a new directory")
        }
        let (points, dim) = (synthetic.points, synthetic.dim)
        func note(_ text: String) { FileHandle.standardError.write(Data("bench snapshot: \(text)\n".utf8)) }
        let db = try Database.open(at: dataDir, options: DatabaseOptions(durability: .periodic(milliseconds: 1000)))
        defer { db.close() }
        let config = CollectionConfig(size: dim, distance: .euclid, hnswConfig: HnswConfig(m: hnswM))
        let collection = try db.createCollection("bench", config: config)
        var rng = SplitMix64(seed: 11)
        func load(_ range: Range<Int>) async throws {
            var row = range.lowerBound
            while row < range.upperBound {
                let end = min(row + synthetic.batch, range.upperBound)
                try await collection.upsert(synthetic.points(row..<end, rng: &rng))
                row = end
            }
        }
        let loadStart = ContinuousClock.now
        try await load(0..<points)
        note(
            "loaded \(points) points in \(String(format: "%.1f", seconds(ContinuousClock.now - loadStart))) s; optimizing"
        )
        try collection.optimize()
        let loadSeconds = seconds(ContinuousClock.now - loadStart)
        let collectionBytes = Self.directoryBytes(joinedPath(dataDir, "collections/bench"))
        let segmentBytes = Self.directoryBytes(joinedPath(dataDir, "collections/bench/segments"))
        let walBytes = Self.directoryBytes(joinedPath(dataDir, "collections/bench/wal"))

        note("creating a snapshot")
        var start = ContinuousClock.now
        let full = try db.createSnapshot(of: "bench")
        let createSeconds = seconds(ContinuousClock.now - start)

        note("verifying it")
        start = ContinuousClock.now
        _ = try Database.verifySnapshot(at: [full.path])
        let verifySeconds = seconds(ContinuousClock.now - start)

        note("restoring it as a new collection")
        start = ContinuousClock.now
        let restored = try db.restoreSnapshot(from: [full.path], as: "bench-restored")
        let restoreSeconds = seconds(ContinuousClock.now - start)
        let restoredCount = try db.collection("bench-restored").count()
        precondition(restoredCount == collection.count(), "restore lost points")

        let newPoints = Int((Double(points) * newPercent / 100).rounded())
        note("writing \(newPoints) new points, then an incremental snapshot")
        try await load(points..<(points + newPoints))
        start = ContinuousClock.now
        let incremental = try db.createSnapshot(of: "bench", incrementalFrom: full.path)
        let incrementalSeconds = seconds(ContinuousClock.now - start)
        start = ContinuousClock.now
        let fullAfter = try db.createSnapshot(of: "bench")
        let fullAfterSeconds = seconds(ContinuousClock.now - start)
        start = ContinuousClock.now
        try db.restoreSnapshot(from: [full.path, incremental.path], as: "bench-chain")
        let chainRestoreSeconds = seconds(ContinuousClock.now - start)
        let chainCount = try db.collection("bench-chain").count()
        precondition(chainCount == collection.count(), "chain restore lost points")

        let mib = { (bytes: UInt64) in (Double(bytes) / 1_048_576 * 10).rounded() / 10 }
        let round3 = { (value: Double) in (value * 1000).rounded() / 1000 }
        let row: [String: Any] = [
            "bench": "snapshot", "points": points, "dim": dim, "hnsw_m": hnswM,
            "load_and_optimize_s": round3(loadSeconds),
            "segments": collection.storageInfo.segments.count,
            "collection_dir_mib": mib(collectionBytes), "segments_mib": mib(segmentBytes), "wal_mib": mib(walBytes),
            "archive_mib": mib(full.size),
            "archive_vs_collection": round3(Double(full.size) / Double(max(collectionBytes, 1))),
            "create_s": round3(createSeconds), "verify_s": round3(verifySeconds), "restore_s": round3(restoreSeconds),
            "restore_mib": mib(restored.bytes),
            "new_points": newPoints, "incremental_mib": mib(incremental.size),
            "incremental_create_s": round3(incrementalSeconds),
            "full_after_new_writes_mib": mib(fullAfter.size),
            "full_after_new_writes_create_s": round3(fullAfterSeconds),
            "chain_restore_s": round3(chainRestoreSeconds),
        ]
        let line = String(
            decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
        print(line)
        if !json {
            note(
                String(
                    format:
                        "collection %.1f MiB → archive %.1f MiB in %.2f s (verify %.2f s, restore %.2f s); +%d points → incremental %.1f MiB in %.2f s",
                    mib(collectionBytes), mib(full.size), createSeconds, verifySeconds, restoreSeconds, newPoints,
                    mib(incremental.size), incrementalSeconds))
        }
    }

    /// Sum of the sizes of the regular files below `path`.
    static func directoryBytes(_ path: String) -> UInt64 {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: UInt64 = 0
        while let relative = enumerator.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + relative)
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                total += (attributes?[.size] as? UInt64) ?? 0
            }
        }
        return total
    }
}
