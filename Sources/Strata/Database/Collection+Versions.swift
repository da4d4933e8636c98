import Foundation
import StrataPayload

/// Versions and time travel (issue 20): every flush publishes a version (the
/// state exactly after its checkpoint op); `config.versions` says which are
/// kept, tags keep one until deleted. A version is read through `at(_:)`, a
/// read-only view with the whole read API, and can be made current again
/// with `restore(_:)`.
extension Collection {
    /// The retained versions, oldest first.
    public var versions: [CollectionVersionInfo] { store.versions }

    /// Bytes of the segment and tombstone files only retained versions keep
    /// on disk (what dropping every version would free).
    public func bytesOnlyVersionsHold() throws -> Int { try store.bytesOnlyVersionsHold() }

    /// Flushes everything written so far and keeps the resulting state as a
    /// version tagged `tag` until `deleteTag` (blocking: a flush). Throws
    /// `.alreadyExists` for a tag in use, `.invalidArgument` for an empty or
    /// over-long tag or a tag that reads as a number or a time.
    @discardableResult
    public func tagVersion(_ tag: String) throws -> CollectionVersionInfo {
        try requireLive("tag a version")
        guard !tag.isEmpty, tag.utf8.count <= 255, UInt64(tag) == nil, Datetime.microseconds(tag) == nil else {
            throw StrataError.invalid(
                "a version tag is 1–255 bytes and neither a number nor an RFC 3339 time (those name versions by number and time), got \"\(tag)\""
            )
        }
        do { return try store.tagVersion(tag) } catch {
            throw StrataError.wrapping(error, context: "tagging a version of collection `\(name)`")
        }
    }

    /// Drops the version tagged `tag` (and the files only it kept). Throws
    /// `.notFound` when no version has that tag.
    public func deleteTag(_ tag: String) throws {
        try requireLive("delete a tag")
        try store.deleteTag(tag)
    }

    /// This collection as it was at the version `selector` names: a
    /// read-only `Collection` (query, search, scroll, count, retrieve, facet…
    /// answer from that version's segments and tombstones; expiry is judged
    /// at the version's time; writes throw). Throws `.invalidArgument`
    /// naming the retained range when no retained version matches.
    public func at(_ selector: VersionSelector) throws -> Collection {
        try requireLive("read a version")
        let record = try store.versionLog.withLock { try $0.find(selector, collection: name) }
        if let view = versionViews.withLock({ $0[record.number] }) { return view }
        let (info, versionStore) = try store.versionStore(.number(record.number))
        let view = versionView(info, store: versionStore)
        versionViews.withLock { views in
            // Views of versions that are gone, and all but the newest few, are dropped.
            let retained = Set(store.versions.map(\.number))
            views = views.filter { retained.contains($0.key) }
            if views.count >= 4, let oldest = views.keys.min() { views[oldest] = nil }
            views[info.number] = view
        }
        return view
    }

    /// Makes the version `selector` names the current state: one logged
    /// atomic batch of the differences (deletes of points it lacks, upserts of
    /// points it holds differently), so a crash leaves the old state or the
    /// new one, and replicas and snapshots follow like any write. Writes after
    /// the version are undone; the version stays retained. Cost: a scan of
    /// both states, and a WAL record as large as the difference.
    @discardableResult
    public func restore(_ selector: VersionSelector) async throws -> UpdateResult {
        try requireLive("restore a version")
        let past = try at(selector)
        let before = try past.store.read(includingExpired: true) {
            try $0.scroll(offset: nil, limit: Int.max - 1, filter: nil, withPayload: true, withVector: true).records
        }
        let now = try store.read(includingExpired: true) {
            try $0.scroll(offset: nil, limit: Int.max - 1, filter: nil, withPayload: true, withVector: true).records
        }
        let wanted = Dictionary(uniqueKeysWithValues: before.map { ($0.id, $0) })
        let deletes = now.map(\.id).filter { wanted[$0] == nil }
        let current = Dictionary(uniqueKeysWithValues: now.map { ($0.id, $0) })
        let upserts = before.filter { record in
            guard let present = current[record.id] else { return true }
            return present.payload != record.payload || present.vectors != record.vectors
                || present.sparseVectors != record.sparseVectors
        }.map { record in
            PointStruct(
                id: record.id, vectors: record.vectors ?? [:], payload: record.payload,
                sparseVectors: record.sparseVectors ?? [:])
        }
        var operations: [WriteOperation] = []
        if !deletes.isEmpty { operations.append(.delete(deletes)) }
        if !upserts.isEmpty { operations.append(.upsert(upserts)) }
        // Exactly the stored points of the version: no default expiry added, none judged.
        return try await log(.atomicBatch(operations), judgingExpiry: false, defaultingExpiry: false)
    }

    private func requireLive(_ what: String) throws {
        if let version {
            throw StrataError.invalid(
                "collection `\(name)` at version \(version.number) is read-only; \(what) on the collection itself")
        }
    }
}
