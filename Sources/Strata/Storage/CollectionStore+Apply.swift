import Foundation
import StrataPayload
import StrataSegment

/// Applying logged operations to the segment set. These are methods of the
/// state itself, so they run only where the state is reachable: under the
/// store's lock held exclusively.
extension CollectionStore.State {
    /// Applies one logged operation. Called in op-number order, by the WAL
    /// thread once the operation is durable, or by replay at open. Returns
    /// whether the mutable segment was sealed (the optimizer should run).
    mutating func apply(_ operation: WriteOperation, opNum: UInt64) -> Bool {
        applyChanges(operation, opNum: opNum)
        appliedOpNum = max(appliedOpNum, opNum)
        // Seal here, not when the optimizer gets to it: while it builds a
        // big graph the mutable segment would otherwise keep growing past
        // every size limit. (Never in the middle of an atomic batch: its
        // operations share one op number, which a sealed segment's points
        // would then carry too.)
        guard mutable.vectorBytes >= config.optimizers.indexingThresholdKB * 1024 else { return false }
        frozen.append(FrozenSegment(segment: mutable, sealOpNum: appliedOpNum))
        mutable = MutableSegment(config: config)
        return true
    }

    /// What `operation` changes, without sealing. The operations of an
    /// atomic batch share its op number: a point one of them wrote may be
    /// written again by a later one (the mutable segment lets an operation
    /// replace a version carrying its own op number).
    private mutating func applyChanges(_ operation: WriteOperation, opNum: UInt64) {
        switch operation {
        case .atomicBatch(let operations):
            for operation in operations { applyChanges(operation, opNum: opNum) }
        case .matching(let filter, let selected):
            applyChanges(selected.selecting(matchingIDs(filter)), opNum: opNum)
        case .timed(let time, let operation):
            expiryTime = time
            defer { expiryTime = nil }
            applyChanges(operation, opNum: opNum)
        case .upsert(let points):
            for point in points {
                mutable.upsert(point, opNum: opNum)
                supersedeOlderCopies(of: point.id, opNum: opNum)
            }
        case .delete(let ids):
            for id in Self.once(ids) {
                mutable.delete(id, opNum: opNum)
                supersedeOlderCopies(of: id, opNum: opNum)
            }
        case .setPayload(let ids, let payload):
            for id in Self.once(ids) {
                updatePayload(id, opNum: opNum) { existing in
                    var merged = existing ?? [:]
                    // Qdrant's merge: a null removes the key.
                    for (key, value) in payload {
                        if value == .null { merged.removeValue(forKey: key) } else { merged[key] = value }
                    }
                    return merged
                }
            }
        case .overwritePayload(let ids, let payload):
            for id in Self.once(ids) { updatePayload(id, opNum: opNum) { _ in payload } }
        case .deletePayloadKeys(let ids, let keys):
            // Validated before logging; a key that does not parse removes nothing.
            let paths = keys.compactMap { try? PayloadPath($0) }
            for id in Self.once(ids) {
                updatePayload(id, opNum: opNum) { existing in
                    guard var remaining = existing else { return nil }
                    for path in paths { path.remove(from: &remaining) }
                    return remaining
                }
            }
        case .clearPayload(let ids):
            for id in Self.once(ids) { updatePayload(id, opNum: opNum) { _ in [:] } }
        case .setPayloadAtKey(let ids, let payload, let key):
            guard let path = try? PayloadPath(key) else { break }
            for id in Self.once(ids) {
                updatePayload(id, opNum: opNum) { existing in
                    var merged = existing ?? [:]
                    path.merge(payload, into: &merged)
                    return merged
                }
            }
        case .createFieldIndex(let key, let schemaJSON):
            guard let path = try? PayloadPath(key), let schema = try? PayloadFieldSchema(json: schemaJSON) else {
                break
            }
            createFieldIndex(path, schema: schema)
        case .conditionalUpsert(let points, let mode, let filter):
            let kept = points.filter { point in
                let current = currentPoint(point.id)
                switch mode {
                case .insertOnly where current != nil: return false
                case .updateOnly where current == nil: return false
                default: break
                }
                guard let current, let filter else { return true }
                return matches(filter, current)
            }
            applyChanges(.upsert(kept), opNum: opNum)
        case .conditionalUpdateVectors(let points, let filter):
            let kept = points.filter { point in currentPoint(point.id).map { matches(filter, $0) } ?? false }
            applyChanges(.updateVectors(kept), opNum: opNum)
        case .updateVectors(let points):
            // One change per id: a repeated id gets its entries applied in
            // order (the last vector of each name wins), as for upserts.
            var order: [PointID] = []
            var merged: [PointID: [String: [Float]]] = [:]
            var mergedSparse: [PointID: [String: SparseVector]] = [:]
            for point in points {
                if merged[point.id] == nil { order.append(point.id) }
                merged[point.id, default: [:]].merge(point.vectors) { _, later in later }
                mergedSparse[point.id, default: [:]].merge(point.sparseVectors) { _, later in later }
            }
            for id in order {
                updatePoint(id, opNum: opNum) { stored in
                    for (name, vector) in merged[id]! { stored.vectors[name] = vector }
                    for (name, vector) in mergedSparse[id]! { stored.sparseVectors[name] = vector }
                }
            }
        case .deleteVectors(let ids, let names):
            for id in Self.once(ids) {
                updatePoint(id, opNum: opNum) { stored in
                    for name in names {
                        stored.vectors[name] = nil
                        stored.sparseVectors[name] = nil
                    }
                }
            }
        case .deleteFieldIndex(let key):
            guard let path = try? PayloadPath(key) else { break }
            payloadSchema[path] = nil
            for segment in immutables { segment.fieldIndexes[path] = nil }
        }
    }

    /// `ids` without repeats, in order: an operation changes each point once,
    /// however often it lists it (a path removal like `r[0]` is not
    /// idempotent). The operations of an atomic batch are separate
    /// operations: each changes the point again.
    private static func once(_ ids: [PointID]) -> [PointID] {
        var seen = Set<PointID>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The live points matching `filter` now (a `matching` operation of an
    /// atomic batch, decided when applied so that it sees the batch's earlier
    /// operations; replay decides the same on the same state). The filter's
    /// vector names were checked before logging; a payload block that fails
    /// its checksum matches nothing here, as in `liveCopyOutsideMutable`
    /// (reads and `strata verify` report it).
    private func matchingIDs(_ filter: Filter) -> [PointID] {
        let view = CollectionReadView(
            name: "", config: config, segments: [mutable] + frozen + immutables,
            context: SegmentReadContext(payloadSchema: payloadSchema),
            hidden: expiryTime.flatMap { config.ttl?.expired(at: $0) })
        return (try? view.matchingIDs(filter)) ?? []
    }

    /// Tombstones every older copy of `id`
    /// outside the mutable segment.
    private mutating func supersedeOlderCopies(of id: PointID, opNum: UInt64) {
        for segment in frozen where segment.tombstones[id] == nil {
            if let version = segment.segment.version(of: id), version < opNum { segment.tombstones[id] = opNum }
        }
        for segment in immutables {
            if let offset = segment.liveOffset(of: id), segment.reader.version(at: offset) < opNum {
                segment.tombstone(UInt32(offset), opNum: opNum)
            }
        }
    }

    /// A payload change to a point outside the
    /// mutable segment copies it in with the new payload (copy-on-write) and
    /// tombstones the old copy.
    private mutating func updatePayload(_ id: PointID, opNum: UInt64, _ change: (Payload?) -> Payload?) {
        if expiryTime != nil, let stored = mutable.point(id), isExpired(stored.point) { return }
        if mutable.updatePayload(id, opNum: opNum, change) { return }
        guard let (point, version) = liveCopyOutsideMutable(id), version < opNum, !isExpired(point) else { return }
        var updated = point
        updated.payload = change(point.payload)
        mutable.upsert(updated, opNum: opNum)
        supersedeOlderCopies(of: id, opNum: opNum)
    }

    /// Rewrites the live copy of `id` (if
    /// any, and older than `opNum`) with `change` applied, as a new version in
    /// the mutable segment; older copies are tombstoned.
    private mutating func updatePoint(_ id: PointID, opNum: UInt64, _ change: (inout PointStruct) -> Void) {
        let current: (PointStruct, UInt64)? =
            mutable.point(id).map { ($0.point, $0.version) } ?? liveCopyOutsideMutable(id)
        guard let (point, version) = current, version <= opNum, !isExpired(point) else { return }
        var updated = point
        change(&updated)
        mutable.upsert(updated, opNum: opNum)
        supersedeOlderCopies(of: id, opNum: opNum)
    }

    /// The live copy of `id`, wherever it is, unless it has expired (at the
    /// time of the `timed` operation applying).
    private func currentPoint(_ id: PointID) -> PointStruct? {
        guard let point = mutable.point(id)?.point ?? liveCopyOutsideMutable(id)?.0, !isExpired(point) else {
            return nil
        }
        return point
    }

    /// Whether `point` had expired at `expiryTime` (never outside a `timed` operation).
    private func isExpired(_ point: PointStruct) -> Bool {
        guard let expiryTime, let ttl = config.ttl else { return false }
        return matches(ttl.expired(at: expiryTime), point)
    }

    /// Whether `point` matches `filter` (the condition of a conditional write).
    private func matches(_ filter: Filter, _ point: PointStruct) -> Bool {
        let subject = FilterSubject(
            id: point.id, payload: point.payload,
            hasVector: { name in point.vectors[name] != nil || point.sparseVectors[name] != nil })
        return filter.matches(subject, settings: SegmentReadContext(payloadSchema: payloadSchema).filterSettings)
    }

    /// The live copy of `id` in a frozen or immutable segment.
    private func liveCopyOutsideMutable(_ id: PointID) -> (PointStruct, UInt64)? {
        for segment in frozen.reversed() where segment.tombstones[id] == nil {
            if let found = segment.segment.point(id) { return (found.point, found.version) }
        }
        for segment in immutables {
            if let offset = segment.liveOffset(of: id) {
                // A payload block that fails its checksum cannot be copied; the
                // corruption is reported by reads and `strata verify`. (A point
                // without a payload has payload nil, which is copied.)
                let payload: Payload?
                do { payload = try segment.reader.payload(at: offset) } catch { return nil }
                return (
                    PointStruct(
                        id: id, vectors: segment.vectors(at: offset), payload: payload,
                        sparseVectors: segment.sparseVectors(at: offset)), segment.reader.version(at: offset)
                )
            }
        }
        return nil
    }
}
