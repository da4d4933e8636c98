import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataCluster

/// Filling a replica from a snapshot of its primary (docs/format/replication.md,
/// "Snapshot transfer"): when the primary's log no longer holds what a replica
/// lacks (a checkpoint removed it), when the replica has no copy at all, or
/// when a transfer asks for it, the primary cuts a snapshot of its collection
/// at op L (the verified archive `Database.createSnapshot` writes, segments,
/// HNSW graphs and quantized codes included), streams it to the replica's
/// internal port, and the replica restores it in place of its copy. Log
/// records after L follow as usual.
extension ClusterReplication {
    /// Sends a snapshot of `local` to replica `peer`; the op number the replica
    /// now holds, or nil when the transfer failed (logged; the next catch-up
    /// round tries again).
    func sendSnapshot(
        _ local: Strata.Collection, to peer: UInt64, url: String, placement: CollectionPlacement
    ) async
        -> UInt64?
    {
        let database = self.database
        let name = local.name
        let started = ContinuousClock.now
        let snapshot: SnapshotDescription
        do {
            snapshot = try await Self.offPool { try database.createSnapshot(of: name) }
        } catch {
            logger.warning(
                "could not take a snapshot for a replica", metadata: ["collection": "\(name)", "error": "\(error)"])
            return nil
        }
        defer { try? database.deleteSnapshot(named: snapshot.name, collection: name) }
        logger.info(
            "sending a snapshot to a replica",
            metadata: [
                "collection": "\(name)", "peer": "\(peer)", "op": "\(snapshot.opNum ?? 0)", "bytes": "\(snapshot.size)",
                "snapshot_seconds": "\(String(format: "%.2f", (ContinuousClock.now - started) / .seconds(1)))",
            ])
        let path =
            "/p2p/v1/collections/\(name)/snapshot?epoch=\(placement.epoch)&from=\(cluster.identity.peerID)"
            + "&sha256=\(snapshot.checksum ?? "")"
        do {
            let reply = try await peers.upload(file: snapshot.path, to: url, path, timeout: .seconds(3600))
            guard reply.status == 200, let last = reply.number("last_operation") else {
                logger.warning(
                    "a replica refused a snapshot",
                    metadata: [
                        "collection": "\(name)", "peer": "\(peer)", "status": "\(reply.status)",
                        "reply": "\(String(decoding: reply.body.prefix(500), as: UTF8.self))",
                    ])
                return nil
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            logger.info(
                "replica filled from a snapshot",
                metadata: [
                    "collection": "\(name)", "peer": "\(peer)", "op": "\(last)", "bytes": "\(snapshot.size)",
                    "seconds": "\(String(format: "%.2f", seconds))",
                ])
            return last
        } catch {
            logger.warning(
                "could not send a snapshot to a replica",
                metadata: ["collection": "\(name)", "peer": "\(peer)", "error": "\(error)"])
            return nil
        }
    }

    /// Runs blocking engine work (snapshots read and write whole files) off the cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}

extension PeerClient {
    /// Streams the file at `file` as the body of a POST to `baseURL + path`,
    /// 1 MiB at a time.
    func upload(file: String, to baseURL: String, _ path: String, timeout: Duration) async throws -> Reply {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let chunks = AsyncStream<ByteBuffer> {
            guard let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty else { return nil }
            return ByteBuffer(bytes: data)
        }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: Self.secretHeader, value: secret)
        request.headers.add(name: "content-type", value: "application/octet-stream")
        request.body = .stream(chunks, length: .known(Int64(size)))
        let (seconds, attoseconds) = timeout.components
        let response = try await http.execute(
            request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: Array(bytes.readableBytesView))
    }
}

extension StrataHTTPServer {
    /// `POST /p2p/v1/collections/{name}/snapshot?epoch=E&from=PEER&sha256=H`:
    /// a replica takes its primary's snapshot. The archive is written to the
    /// snapshots directory as it arrives, verified (its SHA-256, then every
    /// file's checksum) and restored in place of this replica's copy, under
    /// the replica's gate; the sender is checked before and after the upload.
    func receiveReplicaSnapshot(_ request: Request, name: String) async throws -> Response {
        let query = request.uri.queryParameters
        guard let epoch = query.get("epoch").flatMap(UInt64.init), let from = query.get("from").flatMap(UInt64.init),
            let checksum = query.get("sha256"), !checksum.isEmpty
        else { throw APIError.badRequest("snapshot needs ?epoch=E&from=PEER&sha256=HASH") }
        try checkReplicationSender(collection: name, epoch: epoch, from: from)
        let started = ContinuousClock.now
        let database = self.database
        let directory = database.snapshotsDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Not `*.snapshot`: a transfer cut off by a crash is never listed as a snapshot.
        let incoming = directory + "/.incoming-\(name)-\(UUID().uuidString).transfer"
        guard FileManager.default.createFile(atPath: incoming, contents: nil) else {
            throw APIError(.internalServerError, "cannot create \(incoming)")
        }
        defer { try? FileManager.default.removeItem(atPath: incoming) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: incoming))
        do {
            for try await chunk in request.body {
                try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let received = ContinuousClock.now
        logger.info(
            "received a snapshot from the primary; restoring it",
            metadata: [
                "collection": "\(name)", "from": "\(from)",
                "receive_seconds": "\(String(format: "%.2f", (received - started) / .seconds(1)))",
            ])
        return try await replicaGate(name).withLock {
            try self.checkReplicationSender(collection: name, epoch: epoch, from: from)
            let restored = try await self.executor.run { () throws -> SnapshotRestoreResult in
                try database.restoreSnapshot(from: [incoming], as: name, overwrite: true, checksum: checksum)
            }
            return Self.peerJSON(["last_operation": restored.collections[name] ?? 0])
        }
    }
}
