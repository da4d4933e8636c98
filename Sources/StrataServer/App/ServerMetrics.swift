import Foundation
import Strata
import StrataIO

/// Request counters and latency sums by method, route pattern and status,
/// printed in Prometheus' text format by `GET /metrics`.
///
/// Thread safety: one mutex guards the table; recording is O(1).
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
