import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `strata bench lsm`: the storage engine's shape at scale — ingest, flush and
/// merge throughput, payload compression, and reopen time and resident memory
/// in a fresh process (vectors must stay on disk, mmap'd, not loaded).
struct BenchLSMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsm",
        abstract:
            "Load N points, flush and merge into immutable segments, then reopen in a fresh process; one JSON line.")

    @Option(name: .long, help: "Data directory to create (must not exist).")
    var dir: String

    @OptionGroup var synthetic: SyntheticLoadOptions

    @Option(
        name: .long,
        help:
            "load: load, optimize and time it, then run the reopen phase in a child process; reopen: only reopen and measure (used by the child)."
    )
    var phase: String = "load"

    func run() async throws {
        if phase == "reopen" {
            try reopen()
            return
        }
        guard FileManager.default.fileExists(atPath: dir) == false else {
            throw ValidationError("\(dir) exists; give a new directory")
        }
        let (points, dim) = (synthetic.points, synthetic.dim)
        let db = try Database.open(at: dir, options: DatabaseOptions(durability: .periodic(milliseconds: 1000)))
        let collection = try db.createCollection("bench", config: CollectionConfig(size: dim, distance: .euclid))
        var rng = SplitMix64(seed: 11)
        let start = ContinuousClock.now
        var lastReport = ContinuousClock.now
        var row = 0
        while row < points {
            let end = min(row + synthetic.batch, points)
            try await collection.upsert(synthetic.points(row..<end, rng: &rng))
            row = end
            if ContinuousClock.now - lastReport > .seconds(5) {
                lastReport = ContinuousClock.now
                FileHandle.standardError.write(
                    Data(
                        "  loaded \(row)/\(points) points, \(collection.storageInfo.segments.count) segments so far\n"
                            .utf8))
            }
        }
        let ingest = seconds(ContinuousClock.now - start)
        let optimizeStart = ContinuousClock.now
        try collection.optimize()
        let optimize = seconds(ContinuousClock.now - optimizeStart)
        let info = collection.storageInfo
        let vectorBytes = points * dim * 4
        let raw = info.segments.reduce(0) { $0 + $1.payloadRawBytes }
        let compressed = info.segments.reduce(0) { $0 + $1.payloadCompressedBytes }
        let fileBytes = info.segments.reduce(0) { $0 + $1.sections.reduce(0) { $0 + $1.bytes } }
        db.close()

        // Reopen in a fresh process, so resident memory is what opening costs.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try currentExecutablePath())
        child.arguments = ["bench", "lsm", "--dir", dir, "--phase", "reopen"]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        let reopened = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any] ?? [:]

        var row0: [String: Any] = [
            "bench": "lsm", "points": points, "dim": dim, "vector_mb": Double(vectorBytes) / 1_048_576,
            "ingest_s": ingest, "ingest_points_per_s": Double(points) / ingest,
            "optimize_s": optimize, "segments": info.segments.count, "segment_file_mb": Double(fileBytes) / 1_048_576,
            "payload_raw_mb": Double(raw) / 1_048_576, "payload_compressed_mb": Double(compressed) / 1_048_576,
            "payload_ratio": compressed > 0 ? Double(raw) / Double(compressed) : 0,
            "compression": "zstd",
        ]
        for (key, value) in reopened { row0[key] = value }
        let json = try JSONSerialization.data(withJSONObject: row0, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    private func reopen() throws {
        let rssBefore = residentMB()
        let start = ContinuousClock.now
        let db = try Database.open(at: dir)
        let open = seconds(ContinuousClock.now - start)
        let rssAfterOpen = residentMB()
        let collection = try db.collection("bench")
        let count = collection.count()
        let query = (0..<synthetic.dim).map { Float($0 % 100) }
        let searchStart = ContinuousClock.now
        _ = try collection.search(query, limit: 10)
        let search = seconds(ContinuousClock.now - searchStart)
        let rssAfterSearch = residentMB()
        db.close()
        let result: [String: Any] = [
            "reopen_s": open, "rss_mb_before_open": rssBefore, "rss_mb_after_open": rssAfterOpen,
            "reopened_points": count, "first_search_s": search, "rss_mb_after_first_search": rssAfterSearch,
        ]
        print(
            String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// Resident set size of this process, MiB (VmRSS from /proc/self/status);
/// `field` RssAnon or RssFile for the anonymous (heap) or file-backed (mapped
/// segment pages) part.
func residentMB(_ field: String = "VmRSS") -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return -1 }
    return kb / 1024
}
