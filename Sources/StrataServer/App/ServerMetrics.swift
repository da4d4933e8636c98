import Foundation
import Strata
import StrataIO

/// Request counters and latency sums by method, route pattern and status, a
/// latency histogram over every request, points written, and the WAL
/// counters of the database (every collection, deleted ones included), printed in Prometheus' text format by
/// `GET /metrics`.
///
/// Thread safety: each table has its own mutex; recording is O(1).
public final class ServerMetrics: Sendable {
    struct Key: Hashable, Comparable {
        var method: String
        var endpoint: String
        var status: Int

        static func < (a: Key, b: Key) -> Bool {
            (a.endpoint, a.method, a.status) < (b.endpoint, b.method, b.status)
        }
    }
    struct Totals {
        var count = 0
        var seconds = 0.0
    }

    /// Guards the request table.
    private let table = Locked<[Key: Totals]>([:])

    /// The upper bounds of `rest_request_duration_seconds`' buckets (the
    /// last, `+Inf`, is implicit), with their labels as printed.
    static let durationBuckets: [(bound: Double, label: String)] = [
        (0.0005, "0.0005"), (0.001, "0.001"), (0.0025, "0.0025"), (0.005, "0.005"), (0.01, "0.01"),
        (0.025, "0.025"), (0.05, "0.05"), (0.1, "0.1"), (0.25, "0.25"), (0.5, "0.5"), (1, "1"), (2.5, "2.5"),
        (5, "5"), (10, "10"),
    ]
    /// Every REST response's time, in buckets: `counts[i]` responses took at
    /// most bound `i` and more than bound `i - 1` (the last slot: above 10 s).
    struct Histogram {
        var counts = [Int](repeating: 0, count: ServerMetrics.durationBuckets.count + 1)
        var sum = 0.0
        var count = 0
    }
    /// Guards the duration histogram.
    private let durations = Locked(Histogram())
    /// Points in acknowledged upserts and vector updates (REST and gRPC).
    private let pointsWritten = Locked<Int>(0)
    struct GRPCTotals {
        var count = 0
        var failures = 0
        var seconds = 0.0
    }
    /// gRPC calls by full method name (`/qdrant.Points/Upsert`).
    private let grpcTable = Locked<[String: GRPCTotals]>([:])
    let startedAt = Date()

    public init() {}

    func record(method: String, endpoint: String, status: Int, seconds: Double) {
        table.withLock { table in
            table[Key(method: method, endpoint: endpoint, status: status), default: Totals()].count += 1
            table[Key(method: method, endpoint: endpoint, status: status), default: Totals()].seconds += seconds
        }
        let slot = Self.durationBuckets.firstIndex { seconds <= $0.bound } ?? Self.durationBuckets.count
        durations.withLock { histogram in
            histogram.counts[slot] += 1
            histogram.sum += seconds
            histogram.count += 1
        }
    }

    /// Counts `points` written by an acknowledged update.
    func recordPointsWritten(_ points: Int) {
        guard points > 0 else { return }
        pointsWritten.withLock { $0 += points }
    }

    /// Queries stopped by their cancellation (client gone, deadline or timeout passed).
    private let cancelledQueries = Locked<Int>(0)

    /// Counts `error` if it is a query stopped by its cancellation.
    func recordIfCancelled(_ error: any Error) {
        // The engine's `.cancelled`, or the 408 it maps to (APIError.from).
        let cancelled =
            (error as? StrataError)?.code == .cancelled || (error as? APIError)?.status == .requestTimeout
        if cancelled { cancelledQueries.withLock { $0 += 1 } }
    }

    func recordGRPC(endpoint: String, failed: Bool, seconds: Double) {
        grpcTable.withLock { table in
            table[endpoint, default: GRPCTotals()].count += 1
            if failed { table[endpoint, default: GRPCTotals()].failures += 1 }
            table[endpoint, default: GRPCTotals()].seconds += seconds
        }
    }

    var totalRequests: Int { table.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// The Prometheus text exposition of the counters and of `database`'s collections.
    func prometheusText(database: Database) -> String {
        var lines: [String] = []
        lines.append("# HELP app_info information about the Strata server")
        lines.append("# TYPE app_info gauge")
        lines.append("app_info{name=\"strata\",version=\"\(StrataHTTPServer.version)\"} 1")
        lines.append("# HELP app_uptime_seconds seconds since the server started")
        lines.append("# TYPE app_uptime_seconds gauge")
        lines.append("app_uptime_seconds \(Date().timeIntervalSince(startedAt))")
        let names = database.collectionNames()
        lines.append("# HELP collections_total number of collections")
        lines.append("# TYPE collections_total gauge")
        lines.append("collections_total \(names.count)")
        lines.append("# HELP collection_points number of points per collection")
        lines.append("# TYPE collection_points gauge")
        for name in names {
            if let collection = try? database.collection(name) {
                lines.append("collection_points{collection=\"\(Self.escape(name))\"} \(collection.count())")
            }
        }
        let wal = database.walStatistics
        let snapshot = table.withLock { $0 }.sorted { $0.key < $1.key }
        lines.append("# HELP rest_responses_total REST responses by method, endpoint and status")
        lines.append("# TYPE rest_responses_total counter")
        for (key, totals) in snapshot {
            lines.append("rest_responses_total{\(Self.labels(key))} \(totals.count)")
        }
        lines.append("# HELP rest_responses_duration_seconds REST response time by method, endpoint and status")
        lines.append("# TYPE rest_responses_duration_seconds summary")
        for (key, totals) in snapshot {
            lines.append("rest_responses_duration_seconds_sum{\(Self.labels(key))} \(totals.seconds)")
            lines.append("rest_responses_duration_seconds_count{\(Self.labels(key))} \(totals.count)")
        }
        lines.append(
            "# HELP strata_queries_cancelled_total queries stopped because their client went away or their deadline passed"
        )
        lines.append("# TYPE strata_queries_cancelled_total counter")
        lines.append("strata_queries_cancelled_total \(cancelledQueries.withLock { $0 })")
        let grpc = grpcTable.withLock { $0 }.sorted { $0.key < $1.key }
        lines.append("# HELP grpc_responses_total gRPC calls by method")
        lines.append("# TYPE grpc_responses_total counter")
        for (endpoint, totals) in grpc {
            lines.append("grpc_responses_total{endpoint=\"\(Self.escape(endpoint))\"} \(totals.count)")
        }
        lines.append("# HELP grpc_responses_fail_total failed gRPC calls by method")
        lines.append("# TYPE grpc_responses_fail_total counter")
        for (endpoint, totals) in grpc {
            lines.append("grpc_responses_fail_total{endpoint=\"\(Self.escape(endpoint))\"} \(totals.failures)")
        }
        lines.append("# HELP grpc_responses_duration_seconds gRPC call time by method")
        lines.append("# TYPE grpc_responses_duration_seconds summary")
        for (endpoint, totals) in grpc {
            lines.append("grpc_responses_duration_seconds_sum{endpoint=\"\(Self.escape(endpoint))\"} \(totals.seconds)")
            lines.append("grpc_responses_duration_seconds_count{endpoint=\"\(Self.escape(endpoint))\"} \(totals.count)")
        }
        // Every REST response in one histogram (the summary above is per endpoint and status).
        let histogram = durations.withLock { $0 }
        lines.append("# HELP rest_request_duration_seconds REST response time, every request")
        lines.append("# TYPE rest_request_duration_seconds histogram")
        var cumulative = 0
        for (index, bucket) in Self.durationBuckets.enumerated() {
            cumulative += histogram.counts[index]
            lines.append("rest_request_duration_seconds_bucket{le=\"\(bucket.label)\"} \(cumulative)")
        }
        lines.append("rest_request_duration_seconds_bucket{le=\"+Inf\"} \(histogram.count)")
        lines.append("rest_request_duration_seconds_sum \(histogram.sum)")
        lines.append("rest_request_duration_seconds_count \(histogram.count)")
        lines.append("# HELP points_written_total points in acknowledged upserts and vector updates (REST and gRPC)")
        lines.append("# TYPE points_written_total counter")
        lines.append("points_written_total \(pointsWritten.withLock { $0 })")
        lines.append("# HELP wal_syncs_total WAL fdatasyncs of every collection since the server started")
        lines.append("# TYPE wal_syncs_total counter")
        lines.append("wal_syncs_total \(wal.syncs)")
        lines.append("# HELP wal_records_total WAL records written by every collection since the server started")
        lines.append("# TYPE wal_records_total counter")
        lines.append("wal_records_total \(wal.records)")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func labels(_ key: Key) -> String {
        "method=\"\(key.method)\",endpoint=\"\(escape(key.endpoint))\",status=\"\(key.status)\""
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
