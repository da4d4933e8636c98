import Foundation

/// Query latencies of one benchmark mode, summarised as every `strata bench`
/// command and the peer scripts report them (nearest-rank percentiles).
struct LatencySummary {
    let latencies: [Duration]
    private let sorted: [Duration]

    init(_ latencies: [Duration]) {
        precondition(!latencies.isEmpty, "a summary needs at least one latency")
        self.latencies = latencies
        sorted = latencies.sorted()
    }

    var totalSeconds: Double { seconds(latencies.reduce(Duration.zero, +)) }
    /// Queries per second: count / sum of latencies (one thread).
    var qps: Double { Double(latencies.count) / totalSeconds }
    var meanMs: Double { totalSeconds / Double(latencies.count) * 1000 }

    /// The nearest-rank percentile `p` (0…1) in milliseconds.
    func percentileMs(_ p: Double) -> Double {
        let rank = max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)
        return seconds(sorted[min(rank, sorted.count - 1)]) * 1000
    }

    /// `qps`, `mean_ms`, `p50_ms`, `p99_ms`, `queries`: the fields of a result line.
    var fields: [String: Any] {
        [
            "qps": qps, "mean_ms": meanMs, "p50_ms": percentileMs(0.5), "p99_ms": percentileMs(0.99),
            "queries": latencies.count,
        ]
    }
}

/// A whole little-endian file of `T`s (the benchmark data sets' binary arrays).
func readArray<T>(_ path: String, as: T.Type) throws -> [T] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
}

/// Prints one result line: `row` as JSON with sorted keys.
func printResult(_ row: [String: Any]) throws {
    print(String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self))
}
