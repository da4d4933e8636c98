import Foundation
import Hummingbird
import NIOCore
import Strata

/// Snapshots: collection snapshots (create, list, download, delete, recover
/// from a `file://` location, stream one made on the fly) and full-storage
/// snapshots (create, list, download, delete). Creation and recovery run on
/// the engine pool and answer when done (`wait` is accepted; `wait=false` is treated as true).
extension StrataHTTPServer {
    func addSnapshotRoutes(to router: Router<StrataRequestContext>) {
        // A Strata collection is one shard (0): its shard snapshots are its
        // collection snapshots, the same files through either set of endpoints.
        for prefix in ["/collections/{collection_name}", "/collections/{collection_name}/shards/{shard_id}"] {
            router.post(RouterPath(prefix + "/snapshots")) { _, context in
                try self.checkShard(context)
                return try await self.answer(context, self.createSnapshot(of: try self.collection(context, .write)))
            }

            router.get(RouterPath(prefix + "/snapshots")) { _, context in
                try self.checkShard(context)
                return try await self.answer(context, self.listSnapshots(of: try self.collection(context, .read)))
            }

            router.get(RouterPath(prefix + "/snapshots/{snapshot_name}")) { _, context in
                try self.checkShard(context)
                let name = try self.collection(context, .read).name
                return try await self.download(
                    try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: name),
                    context: context)
            }

            router.delete(RouterPath(prefix + "/snapshots/{snapshot_name}")) { _, context in
                try self.checkShard(context)
                let collection = try self.collection(context, .write)
                let snapshot = context.parameters.get("snapshot_name") ?? ""
                return try await self.answer(context, self.deleteSnapshot(snapshot, of: collection))
            }

            router.put(RouterPath(prefix + "/snapshots/recover")) { request, context in
                try self.refuseInCluster("recovering a collection from a snapshot")
                try self.checkShard(context)
                // Replacing (or creating) a collection from a file is a management operation.
                try context.access.check(.manage)
                let name = try self.collectionName(context)
                let input = try await self.decode(SnapshotRecoverInput.self, from: request, context)
                let database = self.database
                let path: String
                if input.isRemote {
                    // Downloaded under a name that is never listed (`.download-…`), then
                    // verified and restored from there like an upload, and removed.
                    try input.checkPriority()
                    try FileManager.default.createDirectory(
                        atPath: database.snapshotsDirectory, withIntermediateDirectories: true)
                    path = database.snapshotsDirectory + "/.download-\(UUID().uuidString).snapshot"
                    try await SnapshotDownload.fetch(input.location, apiKey: input.api_key, into: path)
                } else {
                    path = try input.localPath(within: database.snapshotsDirectory)
                }
                defer { if input.isRemote { try? FileManager.default.removeItem(atPath: path) } }
                return try await self.answer(context) { () throws -> Bool in
                    try Self.restoreSupplied(
                        path, shownAs: input.location, as: name, checksum: input.checksum, in: database)
                    return true
                }
            }

            router.post(RouterPath(prefix + "/snapshots/upload")) { request, context in
                try self.refuseInCluster("recovering a collection from an uploaded snapshot")
                try self.checkShard(context)
                try context.access.check(.manage)
                let name = try self.collectionName(context)
                let checksum = request.uri.queryParameters.get("checksum")
                if let priority = request.uri.queryParameters.get("priority"),
                    !["replica", "snapshot", "no_sync"].contains(priority)
                {
                    throw APIError.wrongInput("priority must be replica, snapshot or no_sync, got \"\(priority)\"")
                }
                // The upload lands under a name that is never listed (`.upload-…`) in
                // the snapshots directory, is verified and restored from there, and removed.
                let directory = self.database.snapshotsDirectory
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let path = directory + "/.upload-\(UUID().uuidString).snapshot"
                defer { try? FileManager.default.removeItem(atPath: path) }
                await context.continueBody()
                try await MultipartUpload.receive(request, into: path)
                let database = self.database
                return try await self.answer(context) { () throws -> Bool in
                    try Self.restoreSupplied(
                        path, shownAs: "the uploaded snapshot", as: name, checksum: checksum, in: database)
                    return true
                }
            }
        }

        // Qdrant's `stream_shard_snapshot`: a snapshot of the shard made for this download.
        router.get("/collections/{collection_name}/shards/{shard_id}/snapshot") { _, context in
            try self.checkShard(context)
            let name = try self.collection(context, .write).name
            return try await self.streamSnapshot(of: name)
        }

        router.post("/snapshots") { _, context in
            try await self.answer(context, try self.createFullSnapshot(context.access))
        }

        router.get("/snapshots") { _, context in
            try await self.answer(context, try self.listFullSnapshots(context.access))
        }

        router.get("/snapshots/{snapshot_name}") { _, context in
            try context.access.check(.manage)
            return try await self.download(
                try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: nil),
                context: context)
        }

        router.delete("/snapshots/{snapshot_name}") { _, context in
            try await self.answer(
                context, try self.deleteFullSnapshot(context.parameters.get("snapshot_name") ?? "", context.access))
        }
    }

    /// The listed snapshot called `name` — of `collection`, or a full-storage
    /// one when `collection` is nil. Only listed names resolve, so a name can
    /// never reach a file outside the snapshots directory.
    func snapshot(named name: String, collection: String?) throws -> SnapshotDescription {
        let listed = try engine { try self.database.listSnapshots(collection: collection) }
        let wanted = listed.filter { $0.name == name && (collection == nil ? $0.kind == .full : $0.kind != .full) }
        guard let found = wanted.first else {
            let owner = collection.map { "collection `\($0)`" } ?? "the storage"
            throw APIError.notFound("Snapshot \(name) of \(owner) does not exist")
        }
        return found
    }

    /// Streams a snapshot archive (it can be larger than RAM).
    func download(_ snapshot: SnapshotDescription, context: StrataRequestContext) async throws -> Response {
        let body = try await FileIO().loadFile(path: snapshot.path, context: context)
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        headers[.contentDisposition] = "attachment; filename=\"\(snapshot.name)\""
        headers[.contentLength] = String(snapshot.size)
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Takes a snapshot of collection `name` and streams it as
    /// `application/octet-stream`. The snapshot is opened, then deleted at
    /// once (archive and checksum): the open file keeps its bytes until the
    /// stream ends, so nothing is left behind however the download ends
    /// (complete, failed or the client gone).
    func streamSnapshot(of name: String) async throws -> Response {
        let database = self.database
        let (snapshot, file) = try await executor.run { () throws -> (SnapshotDescription, FileHandle) in
            let snapshot = try self.engine { try database.createSnapshot(of: name) }
            defer { try? database.deleteSnapshot(named: snapshot.name, collection: name) }
            guard let file = FileHandle(forReadingAtPath: snapshot.path) else {
                throw APIError(
                    .internalServerError, "Service internal error: cannot open the snapshot \(snapshot.name)")
            }
            return (snapshot, file)
        }
        let executor = self.executor
        let body = ResponseBody(contentLength: Int(snapshot.size)) { writer in
            defer { try? file.close() }
            while true {
                let chunk = try await executor.run { try file.read(upToCount: 256 << 10) ?? Data() }
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        headers[.contentDisposition] = "attachment; filename=\"\(snapshot.name)\""
        return Response(status: .ok, headers: headers, body: body)
    }

    /// On a shard snapshot endpoint: the collection exists and the shard is 0,
    /// the only one a Strata collection has (404 otherwise, as for a missing shard).
    func checkShard(_ context: StrataRequestContext) throws {
        guard let shard = context.parameters.get("shard_id") else { return }
        let name = try self.collection(context, .read).name
        guard shard == "0" else {
            throw APIError.notFound(
                "Shard \(shard) of collection `\(name)` does not exist (a Strata collection has one shard, 0)")
        }
    }

    /// Restores a snapshot the caller supplied (an upload, or a recover
    /// location). What is wrong with the file is the caller's input: a damaged,
    /// truncated, hostile or foreign archive, a checksum mismatch or a newer
    /// format is a 400 naming the problem (the server's own path of an upload
    /// is shown as `label`). Failures of the server itself (I/O errors, a full
    /// disk, a closed database) keep their 5xx.
    static func restoreSupplied(
        _ path: String, shownAs label: String, as name: String, checksum: String?, in database: Database
    ) throws {
        do {
            _ = try database.restoreSnapshot(from: [path], as: name, overwrite: true, checksum: checksum)
        } catch let error as StrataError {
            switch error.code {
            case .corruption, .corruptInput, .shortRead, .sizeMismatch, .unsupportedVersion, .inputTooLarge:
                let message = error.message.replacingOccurrences(of: "snapshot archive \(path)", with: label)
                throw APIError.badRequest("invalid snapshot: \(message.replacingOccurrences(of: path, with: label))")
            default:
                throw APIError.from(error)
            }
        }
    }

    /// Maps engine errors to Qdrant's error bodies.
    func engine<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }
}

/// Qdrant's `SnapshotDescription`.
struct SnapshotOutput: Encodable, Sendable {
    var name: String
    var creation_time: String?
    var size: UInt64
    var checksum: String?

    init(_ snapshot: SnapshotDescription) {
        name = snapshot.name
        // Qdrant writes the time without a zone ("2024-01-02T03:04:05").
        creation_time = snapshot.createdAt.map { $0.hasSuffix("Z") ? String($0.dropLast()) : $0 }
        size = snapshot.size
        checksum = snapshot.checksum
    }
}

/// `PUT /collections/{c}/snapshots/recover` (Qdrant's `SnapshotRecover`).
struct SnapshotRecoverInput: Decodable, Sendable {
    var location: String
    var priority: String?
    var checksum: String?
    var api_key: String?

    /// An http(s) location, which the server downloads (`SnapshotDownload`).
    var isRemote: Bool {
        let lowered = location.lowercased()
        return lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
    }

    func checkPriority() throws(APIError) {
        if let priority, !["replica", "snapshot", "no_sync"].contains(priority) {
            throw APIError.wrongInput("priority must be replica, snapshot or no_sync, got \"\(priority)\"")
        }
    }

    /// The local file a `file://` location names, which must lie inside the
    /// snapshots directory (after resolving `..` and symbolic links); other
    /// schemes and other places are refused.
    func localPath(within snapshotsDirectory: String) throws(APIError) -> String {
        try checkPriority()
        guard let url = URL(string: location), url.scheme == "file", !url.path.isEmpty else {
            throw APIError.wrongInput(
                "location must be a file:// URL inside the snapshots directory or an http(s) URL of a snapshot archive, got \"\(location)\""
            )
        }
        let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: snapshotsDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw APIError.forbidden(
                "snapshot location \(url.path) is outside the snapshots directory \(snapshotsDirectory)")
        }
        return resolved
    }
}

/// Receives a `multipart/form-data` upload with one file part (Qdrant's
/// `snapshot` field) straight into a file, without holding it in memory: the
/// part's bytes are written as they arrive, less the closing boundary.
enum MultipartUpload {
    static func receive(_ request: Request, into path: String) async throws {
        guard let contentType = request.headers[.contentType],
            contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundaryRange = contentType.range(of: "boundary=")
        else {
            throw APIError.wrongInput(
                "the snapshot must be uploaded as multipart/form-data with a `snapshot` file field")
        }
        var boundary = String(contentType[boundaryRange.upperBound...])
        if let end = boundary.firstIndex(of: ";") { boundary = String(boundary[..<end]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !boundary.isEmpty else { throw APIError.wrongInput("multipart/form-data without a boundary") }
        let opening = Array("--\(boundary)".utf8)
        let closing = Array("\r\n--\(boundary)".utf8)
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path)
        else {
            throw APIError(.internalServerError, "Service internal error: cannot create \(path)")
        }
        defer { try? file.close() }
        var header: [UInt8] = []  // bytes before the part's content
        var inContent = false
        var pending: [UInt8] = []  // content not yet written: may hold the start of the closing boundary
        var finished = false
        for try await buffer in request.body {
            var bytes = Array(buffer.readableBytesView)
            if !inContent {
                header += bytes
                guard header.count <= 64 << 10 else { throw APIError.wrongInput("multipart part headers are too long") }
                guard let end = find([13, 10, 13, 10], in: header) else { continue }
                guard find(opening, in: header) != nil else {
                    throw APIError.wrongInput("multipart body does not start with its boundary")
                }
                let headers = String(decoding: header[..<end], as: UTF8.self).lowercased()
                guard headers.contains("name=\"snapshot\"") else {
                    throw APIError.wrongInput("the multipart upload needs a file field named `snapshot`")
                }
                bytes = Array(header[(end + 4)...])
                inContent = true
            }
            pending += bytes
            if let end = find(closing, in: pending) {
                try file.write(contentsOf: pending[..<end])
                pending = []
                finished = true
                break
            }
            // Keep what could be the start of the closing boundary.
            let keep = min(pending.count, closing.count - 1)
            try file.write(contentsOf: pending[..<(pending.count - keep)])
            pending = Array(pending[(pending.count - keep)...])
        }
        guard inContent, finished else {
            throw APIError.wrongInput("the multipart upload is truncated (no closing boundary)")
        }
        try file.synchronize()
    }

    /// First position of `needle` in `haystack` (linear for binary data: a
    /// candidate is only compared further when its first byte matches).
    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                let first = n[0]
                var start = 0
                while start <= h.count - n.count {
                    if h[start] == first {
                        var i = 1
                        while i < n.count && h[start + i] == n[i] { i += 1 }
                        if i == n.count { return start }
                    }
                    start += 1
                }
                return nil
            }
        }
    }
}
