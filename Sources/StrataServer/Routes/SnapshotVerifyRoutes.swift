import Foundation
import Hummingbird
import Strata

/// Strata's extensions for a listed snapshot (the dashboard's buttons; also
/// plain REST): verify it where it lies, and restore from it by name — a
/// collection (Qdrant's `recover` needs a `file://` location inside the
/// server's snapshots directory, which a client does not know) or, from a
/// full-storage snapshot, everything.
extension StrataHTTPServer {
    func addSnapshotVerifyRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/snapshots/{snapshot_name}/verify") { _, context in
            let name = try self.collection(context, .read).name
            let snapshot = try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: name)
            return try await self.answer(context) { () throws -> SnapshotVerifyOutput in
                try self.verify(snapshot, collection: name)
            }
        }

        router.post("/collections/{collection_name}/snapshots/{snapshot_name}/restore") { _, context in
            try self.refuseInCluster("restoring a collection from a snapshot")
            try context.access.check(.manage)
            let name = try self.collectionName(context)
            let snapshot = try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: name)
            let database = self.database
            return try await self.answer(context) { () throws -> Bool in
                let chain = try self.chain(ending: snapshot, collection: name)
                do {
                    _ = try database.restoreSnapshot(from: chain.map(\.path), as: name, overwrite: true)
                } catch let error as StrataError {
                    throw APIError.from(error)
                }
                return true
            }
        }

        // Replaces every collection and the aliases with the snapshot's (collections it
        // does not hold are removed), as `strata snapshot restore` does offline. Requests
        // racing it see the old collections or the new ones.
        router.post("/snapshots/{snapshot_name}/restore") { _, context in
            try self.refuseInCluster("restoring a full-storage snapshot")
            try context.access.check(.manage)
            let snapshot = try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: nil)
            let database = self.database
            return try await self.answer(context) { () throws -> Bool in
                let chain = try self.chain(ending: snapshot, collection: nil)
                do {
                    _ = try database.restoreSnapshot(from: chain.map(\.path), overwrite: true)
                } catch let error as StrataError {
                    throw APIError.from(error)
                }
                return true
            }
        }

        router.post("/snapshots/{snapshot_name}/verify") { _, context in
            try context.access.check(.manage)
            let snapshot = try self.snapshot(named: context.parameters.get("snapshot_name") ?? "", collection: nil)
            return try await self.answer(context) { () throws -> SnapshotVerifyOutput in
                try self.verify(snapshot, collection: nil)
            }
        }
    }

    /// The archives a restore of `snapshot` reads: it, after the snapshots it
    /// was taken incrementally from (base first), found among the listed ones
    /// by their checksums.
    func chain(ending snapshot: SnapshotDescription, collection: String?) throws -> [SnapshotDescription] {
        let listed = try engine { try self.database.listSnapshots(collection: collection) }
        var chain = [snapshot]
        while let base = chain[0].baseChecksum {
            guard let found = listed.first(where: { $0.checksum == base }),
                !chain.contains(where: { $0.name == found.name })
            else {
                throw APIError.badRequest(
                    "invalid snapshot: \(snapshot.name) is incremental and its base (SHA-256 \(base)) is not listed")
            }
            chain.insert(found, at: 0)
        }
        return chain
    }

    /// Reads the archive (and its base chain) to the end and checks every
    /// checksum, as a restore does before it touches anything
    /// (`Database.verifySnapshot`). A damaged archive is an answer, not an error.
    func verify(_ snapshot: SnapshotDescription, collection: String?) throws -> SnapshotVerifyOutput {
        let started = Date()
        do {
            let chain = try self.chain(ending: snapshot, collection: collection)
            let verification = try Database.verifySnapshot(at: chain.map(\.path), checksum: snapshot.checksum)
            return SnapshotVerifyOutput(
                ok: true, name: snapshot.name, archives: chain.count, files: verification.files,
                bytes: verification.bytes, checksum: verification.checksums.last,
                seconds: Date().timeIntervalSince(started))
        } catch let error as StrataError {
            switch error.code {
            case .corruption, .corruptInput, .shortRead, .sizeMismatch, .unsupportedVersion, .inputTooLarge, .notFound:
                return SnapshotVerifyOutput(
                    ok: false, name: snapshot.name,
                    problem: error.message.replacingOccurrences(of: snapshot.path, with: snapshot.name),
                    seconds: Date().timeIntervalSince(started))
            default:
                throw APIError.from(error)
            }
        } catch let error as APIError {
            return SnapshotVerifyOutput(
                ok: false, name: snapshot.name, problem: error.message, seconds: Date().timeIntervalSince(started))
        }
    }
}

/// `{"ok", "name", "archives", "files", "bytes", "checksum"}` for a sound
/// archive; `{"ok": false, "name", "problem"}` naming what is wrong.
struct SnapshotVerifyOutput: Encodable, Sendable {
    var ok: Bool
    var name: String
    var archives: Int?
    var files: Int?
    var bytes: UInt64?
    var checksum: String?
    var problem: String?
    var seconds: Double
}
