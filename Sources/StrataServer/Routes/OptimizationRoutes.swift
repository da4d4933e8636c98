import Foundation
import Hummingbird
import Strata
import StrataIO

/// `GET /collections/{c}/optimizations` (what the optimizer is doing, with
/// progress) and the issues API (`GET`/`DELETE /issues`), both backed by the
/// engine's optimization log: a failed background flush or merge is an issue
/// until a later attempt succeeds.
extension StrataHTTPServer {
    func addOptimizationRoutes(to router: Router<StrataRequestContext>) {
        router.get("/collections/{collection_name}/optimizations") { request, context in
            let collection = try self.collection(context, .read)
            let with = Set(
                (request.uri.queryParameters.get("with") ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                })
            if let unknown = with.first(where: { !["queued", "completed", "idle_segments", ""].contains($0) }) {
                throw APIError.wrongInput("with: unknown value \"\(unknown)\" (queued, completed, idle_segments)")
            }
            var completedLimit = 16
            if let text = request.uri.queryParameters.get("completed_limit") {
                guard let limit = Int(text), limit >= 0 else {
                    throw APIError.wrongInput("completed_limit must be a non-negative integer, got \"\(text)\"")
                }
                completedLimit = limit
            }
            let limit = completedLimit
            return try await self.answer(context) {
                OptimizationsOutput(collection.optimizations, with: with, completedLimit: limit)
            }
        }

        router.get("/issues") { _, context in
            let access = context.access
            let cleared = self.issuesClearedAt.withLock { $0 }
            let issues = self.database.collectionNames().filter { access.canRead(collection: $0) }.compactMap {
                name -> IssueOutput? in
                guard let collection = try? self.database.collection(name),
                    let error = collection.storageInfo.backgroundError
                else { return nil }
                let failed = collection.optimizations.completed.first {
                    if case .error = $0.status { true } else { false }
                }
                let at = failed?.finishedAt ?? Date()
                if let cleared, at <= cleared { return nil }
                return IssueOutput(collection: name, error: error, at: at)
            }
            return try Reply.ok(["issues": issues], context: context)
        }

        router.delete("/issues") { _, context in
            try context.access.check(.manage)
            self.issuesClearedAt.withLock { $0 = Date() }
            return try Reply.ok(true, context: context)
        }
    }
}

/// Qdrant's `IssueRecord`.
struct IssueOutput: Encodable {
    var id: String
    var description: String
    var solution: [String: String]
    var timestamp: String
    var related_collection: String

    init(collection: String, error: String, at: Date) {
        id = "OPTIMIZER_FAILED/\(collection)"
        description =
            "Background flush or merge of collection `\(collection)` failed and is retried: \(error). The WAL keeps every acknowledged write meanwhile."
        solution = [
            "refactor":
                "Fix the cause named in the error (disk space, permissions, a damaged segment: `strata verify`), or restore the collection from a snapshot"
        ]
        timestamp = OptimizationsOutput.time(at)
        related_collection = collection
    }
}

/// Qdrant's `OptimizationsResponse`.
struct OptimizationsOutput: Encodable {
    struct Summary: Encodable {
        var queued_optimizations: Int
        var queued_segments: Int
        var queued_points: Int
        var idle_segments: Int
    }
    struct Segment: Encodable {
        var uuid: String
        var points_count: Int

        /// Strata's segments have numeric ids: a file's UUID ends in its id, a
        /// sealed in-memory segment's (`…-ffff-…`) in the op number it was sealed at.
        init(_ ref: OptimizationInfo.SegmentRef) {
            switch ref.source {
            case .file(let id): uuid = "00000000-0000-0000-0000-" + Self.hex12(id)
            case .sealed(let opNum): uuid = "00000000-0000-0000-ffff-" + Self.hex12(opNum)
            }
            points_count = ref.points
        }

        static func hex12(_ value: UInt64) -> String {
            let text = String(value & 0xFFFF_FFFF_FFFF, radix: 16)
            return String(repeating: "0", count: 12 - text.count) + text
        }
    }
    struct Progress: Encodable {
        var name: String
        var started_at: String?
        var finished_at: String?
        var duration_sec: Double?
        var done: Int?
        var total: Int?
        var children: [Progress]
    }
    struct Optimization: Encodable {
        var uuid: String
        var optimizer: String
        var status: JSONValue
        var segments: [Segment]
        var progress: Progress

        init(_ info: OptimizationInfo) {
            uuid = info.id.uuidString.lowercased()
            optimizer = info.kind.rawValue
            switch info.status {
            case .optimizing: status = .string("optimizing")
            case .done: status = .string("done")
            case .error(let message): status = .object(["error": .string(message)])
            }
            segments = info.segments.map(Segment.init)
            let stages = info.stages.map { stage in
                Progress(
                    name: stage.name, started_at: OptimizationsOutput.time(stage.startedAt),
                    finished_at: stage.finishedAt.map(OptimizationsOutput.time),
                    duration_sec: stage.finishedAt.map { $0.timeIntervalSince(stage.startedAt) }, done: stage.done,
                    total: stage.total, children: [])
            }
            progress = Progress(
                name: info.kind.rawValue, started_at: OptimizationsOutput.time(info.startedAt),
                finished_at: info.finishedAt.map(OptimizationsOutput.time),
                duration_sec: info.finishedAt.map { $0.timeIntervalSince(info.startedAt) },
                done: info.stages.filter { $0.finishedAt != nil }.count, total: nil, children: stages)
        }
    }
    struct Pending: Encodable {
        var optimizer: String
        var segments: [Segment]
    }

    var summary: Summary
    var running: [Optimization]
    var queued: [Pending]?
    var completed: [Optimization]?
    var idle_segments: [Segment]?

    init(_ report: OptimizationsReport, with: Set<String>, completedLimit: Int) {
        summary = Summary(
            queued_optimizations: report.queued.count,
            queued_segments: report.queued.reduce(0) { $0 + $1.segments.count },
            queued_points: report.queued.reduce(0) { $0 + $1.segments.reduce(0) { $0 + $1.points } },
            idle_segments: report.idleSegments.count)
        running = report.running.map(Optimization.init)
        if with.contains("queued") {
            queued = report.queued.map { Pending(optimizer: $0.kind.rawValue, segments: $0.segments.map(Segment.init)) }
        }
        if with.contains("completed") { completed = report.completed.prefix(completedLimit).map(Optimization.init) }
        if with.contains("idle_segments") { idle_segments = report.idleSegments.map(Segment.init) }
    }

    static func time(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
