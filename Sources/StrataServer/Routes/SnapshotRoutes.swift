import Foundation
import Hummingbird
import Strata

/// Snapshots: collection snapshots (create, list, download, delete, recover
/// from a `file://` location) and full-storage snapshots (create, list,
/// download, delete). Creation and recovery run on the engine pool and
/// answer when done (`wait` is accepted; `wait=false` is treated as true).
extension StrataHTTPServer {
    func addSnapshotRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/snapshots") { _, context in
            let name = try self.collection(context, .write).name
            let database = self.database
            return try await self.answer(context) { SnapshotOutput(try self.engine { try database.createSnapshot(of: name) }) }
        }

        router.get("/collections/{collection_name}/snapshots") { _, context in
            let name = try self.collection(context, .read).name
            let database = self.database
            return try await self.answer(context) {
                try self.engine { try database.listSnapshots(collection: name) }.filter { $0.kind != .full }.map(SnapshotOutput.init)
            }
        }

        router.get("/collections/{collection_name}/snapshots/{snapshot_name}") { _, context in
            let name = try self.collection(context, .read).name
            return try await self.download(try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: name),
                                           context: context)
        }

        router.delete("/collections/{collection_name}/snapshots/{snapshot_name}") { _, context in
            let name = try self.collection(context, .write).name
            let snapshot = context.parameters.get("snapshot_name") ?? ""
            let database = self.database
            return try await self.answer(context) { () throws -> Bool in
                _ = try self.snapshot(named: snapshot, collection: name)
                try self.engine { try database.deleteSnapshot(named: snapshot, collection: name) }
                return true
            }
        }

        router.put("/collections/{collection_name}/snapshots/recover") { request, context in
            // Replacing (or creating) a collection from a file is a management operation.
            try context.access.check(.manage)
            let name = try self.collectionName(context)
            let input = try await self.decode(SnapshotRecoverInput.self, from: request)
            let path = try input.localPath(within: self.database.snapshotsDirectory)
            let database = self.database
            return try await self.answer(context) { () throws -> Bool in
                _ = try self.engine {
                    try database.restoreSnapshot(from: [path], as: name, overwrite: true, checksum: input.checksum)
                }
                return true
            }
        }

        router.post("/snapshots") { _, context in
            try context.access.check(.manage)
            let database = self.database
            return try await self.answer(context) { SnapshotOutput(try self.engine { try database.createFullSnapshot() }) }
        }

        router.get("/snapshots") { _, context in
            try context.access.check(.manage)
            let database = self.database
            return try await self.answer(context) {
                try self.engine { try database.listSnapshots() }.filter { $0.kind == .full }.map(SnapshotOutput.init)
            }
        }

        router.get("/snapshots/{snapshot_name}") { _, context in
            try context.access.check(.manage)
            return try await self.download(try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: nil),
                                           context: context)
        }

        router.delete("/snapshots/{snapshot_name}") { _, context in
            try context.access.check(.manage)
            let snapshot = context.parameters.get("snapshot_name") ?? ""
            let database = self.database
            return try await self.answer(context) { () throws -> Bool in
                _ = try self.snapshot(named: snapshot, collection: nil)
                try self.engine { try database.deleteSnapshot(named: snapshot) }
                return true
            }
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

    /// The local file a `file://` location names, which must lie inside the
    /// snapshots directory (after resolving `..` and symbolic links); other
    /// schemes and other places are refused.
    func localPath(within snapshotsDirectory: String) throws(APIError) -> String {
        if let priority, !["replica", "snapshot", "no_sync"].contains(priority) {
            throw APIError.wrongInput("priority must be replica, snapshot or no_sync, got \"\(priority)\"")
        }
        guard let url = URL(string: location), url.scheme == "file", !url.path.isEmpty else {
            if location.hasPrefix("http://") || location.hasPrefix("https://") {
                throw APIError.notSupportedYet("recovering from an http(s) location (download the snapshot and use a file:// location)")
            }
            throw APIError.wrongInput("location must be a file:// URL of a snapshot archive, got \"\(location)\"")
        }
        let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: snapshotsDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw APIError.forbidden("snapshot location \(url.path) is outside the snapshots directory \(snapshotsDirectory)")
        }
        return resolved
    }
}
