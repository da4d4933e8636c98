import Foundation
import StrataIO
import StrataPayload

/// Expiring points (`TTLConfig`): the default expiry written with each write,
/// and the deletion of expired points through the WAL. (Reads hide expired
/// points in `CollectionReadView`.)
extension Collection {
    /// `operation` as it is logged: with `ttl.defaultSeconds`, every point it
    /// leaves without the TTL key gets the default expiry from now. Applied
    /// to every write (`log`), so replicas, snapshots and replay see the value.
    func withDefaultExpiry(_ operation: WriteOperation) -> WriteOperation {
        guard let ttl = config.ttl, let expiry = ttl.defaultExpiry(writtenAt: clock.now) else { return operation }
        let expanded = operation.settingDefault(ttl.key, to: expiry)
        return expanded.count == 1 ? expanded[0] : .atomicBatch(expanded)
    }

    /// What `deleteExpiredPoints` did.
    public struct ExpiredDeletion: Sendable, Equatable {
        /// Points expired when it started.
        public var points: Int
        /// The op number of the logged delete; nil when there was nothing to delete.
        public var operationID: UInt64?
    }

    /// Deletes the points expired now, as one logged write (an atomic batch
    /// deleting the points that match "expired at now" when it applies, so a
    /// point whose expiry a concurrent write moves is decided on its value
    /// then). Logs nothing when no point has expired. The background task
    /// calls this every `DatabaseOptions.expirySweepInterval`.
    @discardableResult
    public func deleteExpiredPoints() async throws -> ExpiredDeletion {
        guard let ttl = config.ttl else { return ExpiredDeletion(points: 0) }
        let expired = ttl.expired(at: clock.now)
        let count = try store.read(includingExpired: true) { try $0.count(filter: expired, exact: true) }
        guard count > 0 else { return ExpiredDeletion(points: 0) }
        let result = try await log(.atomicBatch([.matching(expired, .delete([]))]), judgingExpiry: false)
        return ExpiredDeletion(points: count, operationID: result.operationID)
    }

    func startExpirySweeper(every interval: Duration) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self else { return }
                do {
                    try await self.deleteExpiredPoints()
                } catch let error as StrataError where error.code == .closed {
                    return
                } catch {
                    // A failed delete is retried on the next tick; reads hide
                    // the points meanwhile. Persistent failures (a failed WAL)
                    // surface on every write.
                }
            }
        }
        expirySweeper.withLock { $0 = task }
    }
}

extension WriteOperation {
    /// This operation, with `value` at top-level payload key `key` of every
    /// point it leaves without one: one operation, or two where a payload key
    /// removal needs the default set after it. Inside an atomic batch the
    /// pieces join the batch.
    func settingDefault(_ key: String, to value: JSONValue) -> [WriteOperation] {
        func filled(_ payload: Payload?) -> Payload {
            var payload = payload ?? [:]
            if payload[key] == nil || payload[key] == .null { payload[key] = value }
            return payload
        }
        func filled(_ points: [PointStruct]) -> [PointStruct] {
            points.map { point in
                var point = point
                point.payload = filled(point.payload)
                return point
            }
        }
        switch self {
        case .upsert(let points): return [.upsert(filled(points))]
        case .conditionalUpsert(let points, let mode, let filter):
            return [.conditionalUpsert(points: filled(points), mode: mode, filter: filter)]
        case .overwritePayload(let ids, let payload): return [.overwritePayload(ids: ids, payload: filled(payload))]
        case .clearPayload(let ids): return [.overwritePayload(ids: ids, payload: [key: value])]
        case .setPayload(let ids, let payload) where payload[key] == .null:
            return [.setPayload(ids: ids, payload: filled(payload))]
        case .deletePayloadKeys(let ids, let keys) where keys.contains(key):
            return [self, .setPayload(ids: ids, payload: [key: value])]
        case .matching(let filter, let operation):
            // The ids of a filtered operation are decided when it applies; a
            // removal of the key is followed by setting it on the same points
            // (selected by the same filter, or, where the filter involved the
            // key, on what it selects then).
            return operation.settingDefault(key, to: value).map { .matching(filter, $0) }
        case .atomicBatch(let operations):
            return [.atomicBatch(operations.flatMap { $0.settingDefault(key, to: value) })]
        default: return [self]
        }
    }
}
