import Foundation
import Hummingbird
import Strata

/// What a web dashboard shows of a collection's storage (Strata's extension,
/// issue 18): `GET /collections/{c}/storage`, the LSM layout now (WAL files
/// and counters, mutable and sealed segments, segment files with their
/// sections, the optimizer), and `POST /collections/{c}/verify`, every
/// checksum of every segment checked, as `strata verify` does offline.
///
/// On a cluster node `storage` answers for one replica like the other reads
/// (ClusterRoutingMiddleware: this node's when it is Active, else the
/// primary's), and 501 for a collection of several shards (ShardRouter);
/// `verify` checks every replica of every shard (ClusterVerify.swift), each
/// node serving its part here.
extension StrataHTTPServer {
    func addStorageRoutes(to router: Router<StrataRequestContext>) {
        router.get("/collections/{collection_name}/storage") { _, context in
            let collection = try self.collection(context, .read)
            let maxFileBytes = self.database.options.walFileSize
            return try await self.answer(context) { StorageOutput(collection, walMaxFileBytes: maxFileBytes) }
        }

        // Reads every byte of every segment: on the engine pool, never on an event loop.
        router.post("/collections/{collection_name}/verify") { _, context in
            let collection = try self.collection(context, .read)
            // Files are named from the data directory: a caller allowed one collection
            // learns nothing of the server's file system.
            let root = self.database.path.hasSuffix("/") ? self.database.path : self.database.path + "/"
            return try await self.answer(context) { () -> VerifyOutput in
                let started = ContinuousClock.now
                let report = collection.verifyReport()
                let elapsed = ContinuousClock.now - started
                let problems = report.problems.map { $0.replacingOccurrences(of: root, with: "") }
                return VerifyOutput(
                    ok: problems.isEmpty, segments: report.segments, problems: problems,
                    seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
        }
    }
}

/// `GET /collections/{c}/storage`.
struct StorageOutput: Encodable {
    struct WALFile: Encodable {
        var name: String
        var first_op: UInt64
        var bytes: UInt64
    }
    /// The files on disk now and the counters since the collection was opened.
    struct WAL: Encodable {
        var files: [WALFile]
        var bytes: UInt64
        /// The size at which the log starts a new file (per database).
        var max_file_bytes: Int
        /// Operations up to this one are in segment files; the WAL holds the rest.
        var checkpoint_op: UInt64
        var last_op: UInt64
        var records: UInt64
        var batches: UInt64
        var syncs: UInt64
        var rotations: UInt64
    }
    struct MutableSegment: Encodable { var points: Int }
    struct Section: Encodable {
        var name: String
        var bytes: Int
    }
    struct Segment: Encodable {
        var id: UInt64
        var kind = "immutable"
        /// The file's name in the collection's `segments/` directory.
        var file: String
        var points: Int
        var deleted: Int
        /// The file's size (its sections plus header, section table and footer).
        var file_bytes: Int
        var sections: [Section]
        var payload_raw_bytes: Int
        var payload_compressed_bytes: Int
        /// Raw over compressed payload bytes; null when no point in the segment has a payload.
        var payload_compression_ratio: Double?

        init(_ segment: StorageInfo.Segment) {
            id = segment.id
            file = URL(fileURLWithPath: segment.path).lastPathComponent
            points = segment.points
            deleted = segment.deleted
            file_bytes = segment.fileBytes
            sections = segment.sections.map { Section(name: $0.name, bytes: $0.bytes) }
            payload_raw_bytes = segment.payloadRawBytes
            payload_compressed_bytes = segment.payloadCompressedBytes
            payload_compression_ratio =
                segment.holdsPayloads && segment.payloadCompressedBytes > 0
                ? Double(segment.payloadRawBytes) / Double(segment.payloadCompressedBytes) : nil
        }

        private enum CodingKeys: String, CodingKey {
            case id, kind, file, points, deleted, file_bytes, sections, payload_raw_bytes, payload_compressed_bytes
            case payload_compression_ratio
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(kind, forKey: .kind)
            try container.encode(file, forKey: .file)
            try container.encode(points, forKey: .points)
            try container.encode(deleted, forKey: .deleted)
            try container.encode(file_bytes, forKey: .file_bytes)
            try container.encode(sections, forKey: .sections)
            try container.encode(payload_raw_bytes, forKey: .payload_raw_bytes)
            try container.encode(payload_compressed_bytes, forKey: .payload_compressed_bytes)
            try container.encode(payload_compression_ratio, forKey: .payload_compression_ratio)  // null too
        }
    }
    struct Optimizer: Encodable {
        /// `"ok"`, or the error of the last background flush or merge when it failed.
        var status: String
        /// The optimization running now (`indexing`, `merge`, `vacuum`), or null.
        var running: String?
        /// Optimizations the planner would run next.
        var queued: Int
        /// The newest failed optimization's error since the collection was opened (even if a later one succeeded), or null.
        var last_error: String?

        private enum CodingKeys: String, CodingKey { case status, running, queued, last_error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(running, forKey: .running)  // null too
            try container.encode(queued, forKey: .queued)
            try container.encode(last_error, forKey: .last_error)  // null too
        }
    }

    var wal: WAL
    var mutable_segment: MutableSegment
    /// Sealed in-memory segments waiting to be written as segment files.
    var sealed_segments: Int
    var segments: [Segment]
    var optimizer: Optimizer

    /// Reads the WAL directory (blocking: call it on the engine pool).
    init(_ collection: Strata.Collection, walMaxFileBytes: Int) {
        let info = collection.storageInfo
        let stats = collection.walStatistics
        let files = collection.walFiles.map { WALFile(name: $0.name, first_op: $0.firstOpNum, bytes: $0.bytes) }
        wal = WAL(
            files: files, bytes: files.reduce(0) { $0 + $1.bytes }, max_file_bytes: walMaxFileBytes,
            checkpoint_op: info.checkpoint, last_op: collection.lastOperation, records: stats.records,
            batches: stats.batches, syncs: stats.syncs, rotations: stats.rotations)
        mutable_segment = MutableSegment(points: info.mutablePoints)
        sealed_segments = info.frozenSegments
        segments = info.segments.map(Segment.init)
        let report = collection.optimizations
        let lastError = report.completed.lazy.compactMap { optimization -> String? in
            if case .error(let message) = optimization.status { return message }
            return nil
        }.first
        optimizer = Optimizer(
            status: info.backgroundError ?? "ok", running: report.running.first?.kind.rawValue,
            queued: report.queued.count, last_error: lastError)
    }
}

/// `POST /collections/{c}/verify`.
struct VerifyOutput: Encodable {
    var ok: Bool
    /// Segment files read.
    var segments: Int
    /// Each names the file and the section.
    var problems: [String]
    var seconds: Double
}
