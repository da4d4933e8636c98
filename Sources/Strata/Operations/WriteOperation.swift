import Foundation
/// One write to a collection, exactly as it is logged in the WAL and replayed
/// at recovery. Writes by filter are resolved to ids before an operation is
/// built; the conditional writes (`update_mode`, `update_filter`) carry their
/// condition and decide per point when applied, which replay repeats in the
/// same op order on the same state.
///
/// Vectors here are already validated and, for Cosine, normalised: replay
/// applies them as they are.
public enum WriteOperation: Sendable, Equatable {
    /// Insert or replace whole points.
    case upsert([PointStruct])
    /// Remove points (missing ids are ignored).
    case delete([PointID])
    /// Merge `payload`'s keys into each point's payload.
    case setPayload(ids: [PointID], payload: Payload)
    /// Replace each point's payload with `payload`.
    case overwritePayload(ids: [PointID], payload: Payload)
    /// Remove the fields at `keys` (payload paths, `a.b`, `a[].c`) from each point's payload.
    case deletePayloadKeys(ids: [PointID], keys: [String])
    /// Remove each point's whole payload.
    case clearPayload(ids: [PointID])
    /// Merge `payload`'s keys into the object(s) at path `key` of each point's
    /// payload (creating objects on the way).
    case setPayloadAtKey(ids: [PointID], payload: Payload, key: String)
    /// Create (or replace) the index of payload field `key`; `schema` is its
    /// canonical JSON (`PayloadFieldSchema.json`).
    case createFieldIndex(key: String, schema: JSONValue)
    /// Drop the index of payload field `key` (no-op if there is none).
    case deleteFieldIndex(key: String)
    /// Replace the named vectors given for each existing point (its other
    /// vectors and its payload stay).
    case updateVectors([PointVectors])
    /// Remove the named vectors `names` from each existing point in `ids`.
    case deleteVectors(ids: [PointID], names: [String])
    /// Upsert with Qdrant's `update_mode` and `update_filter`, decided per
    /// point when the operation is applied (in op order, so replay decides
    /// the same): `insertOnly` skips points that exist, `updateOnly` those
    /// that do not, and an existing point is replaced only if it matches
    /// `filter`.
    case conditionalUpsert(points: [PointStruct], mode: UpdateMode, filter: Filter?)
    /// `updateVectors` of the points that match `filter` when it is applied.
    case conditionalUpdateVectors(points: [PointVectors], filter: Filter)
    /// An atomic batch: these operations, applied in order under one op
    /// number as one step (one WAL record, so after a crash all or none of
    /// them; readers never see part of it). No operation in it is itself a
    /// batch.
    indirect case atomicBatch([WriteOperation])
    /// `operation` (one that selects points by id: delete, the payload
    /// writes, deleteVectors; logged without ids) applied to the points that
    /// match `filter` when it is applied. Only inside an atomic batch, where a
    /// filter must see the batch's earlier operations.
    indirect case matching(Filter, WriteOperation)
    /// `operation`, applied judging expiry (`TTLConfig`) at `time`, the
    /// moment it was logged: points expired then count as absent for its
    /// decisions (conditional writes, filters, updates of existing points),
    /// so replay decides as the first apply did. Every write to a collection
    /// with a `ttl` config is logged so, except the deletion of expired points.
    indirect case timed(Date, WriteOperation)

    /// The kind's tag in the binary encoding (docs/format/operations.md).
    var tag: UInt8 {
        switch self {
        case .upsert(let points): return points.contains { !$0.sparseVectors.isEmpty } ? 12 : 1
        case .delete: return 2
        case .setPayload: return 3
        case .overwritePayload: return 4
        case .deletePayloadKeys: return 5
        case .clearPayload: return 6
        case .setPayloadAtKey: return 7
        case .createFieldIndex: return 8
        case .deleteFieldIndex: return 9
        case .updateVectors(let points): return points.contains { !$0.sparseVectors.isEmpty } ? 13 : 10
        case .deleteVectors: return 11
        case .conditionalUpsert: return 14
        case .conditionalUpdateVectors: return 15
        case .atomicBatch: return 16
        case .matching: return 17
        case .timed: return 18
        }
    }
}

extension WriteOperation {
    /// What in this operation disagrees with the collection's vectors (a
    /// vector name it does not have, or another dimension), or nil. Writes are
    /// validated before they are logged, so at replay a mismatch means
    /// config.json or the WAL is damaged.
    func vectorMismatch(_ config: CollectionConfig) -> String? {
        let sets: [(PointID, [String: [Float]])]
        switch self {
        case .upsert(let points), .conditionalUpsert(let points, _, _): sets = points.map { ($0.id, $0.vectors) }
        case .updateVectors(let points), .conditionalUpdateVectors(let points, _):
            sets = points.map { ($0.id, $0.vectors) }
        case .atomicBatch(let operations):
            return operations.lazy.compactMap { $0.vectorMismatch(config) }.first
        case .timed(_, let operation): return operation.vectorMismatch(config)
        default: return nil
        }
        for (id, vectors) in sets {
            for (name, vector) in vectors {
                if let params = config.vectors[name], params.isMultiVector {
                    guard vector.isEmpty || vector.count % params.size != 0 else { continue }
                    return
                        "writes multivector \"\(name)\" of point \(id) with \(vector.count) numbers, not whole rows of \(params.size)"
                }
                guard config.vectors[name]?.size != vector.count else { continue }
                let expected = config.vectors[name].map { "size \($0.size)" } ?? "no such vector"
                return
                    "writes vector \"\(name)\" of point \(id) with \(vector.count) dimensions (the config says \(expected))"
            }
        }
        return nil
    }
}

extension WriteOperation {
    /// This operation without the vectors (dense or sparse) named in `names`:
    /// what replay applies for an operation logged before those names were
    /// removed or added again (`VectorNameHistory`). Everything else of the
    /// operation (ids, payloads, other vectors) stays as logged.
    func removingVectors(named names: Set<String>) -> WriteOperation {
        guard !names.isEmpty else { return self }
        switch self {
        case .upsert(let points):
            return .upsert(
                points.map { point in
                    var kept = point
                    kept.vectors = point.vectors.filter { !names.contains($0.key) }
                    kept.sparseVectors = point.sparseVectors.filter { !names.contains($0.key) }
                    return kept
                })
        case .updateVectors(let points):
            return .updateVectors(
                points.map { point in
                    PointVectors(
                        id: point.id, vectors: point.vectors.filter { !names.contains($0.key) },
                        sparseVectors: point.sparseVectors.filter { !names.contains($0.key) })
                })
        case .deleteVectors(let ids, let vectorNames):
            return .deleteVectors(ids: ids, names: vectorNames.filter { !names.contains($0) })
        case .conditionalUpsert(let points, let mode, let filter):
            guard case .upsert(let kept) = WriteOperation.upsert(points).removingVectors(named: names) else {
                return self
            }
            return .conditionalUpsert(points: kept, mode: mode, filter: filter)
        case .conditionalUpdateVectors(let points, let filter):
            guard case .updateVectors(let kept) = WriteOperation.updateVectors(points).removingVectors(named: names)
            else { return self }
            return .conditionalUpdateVectors(points: kept, filter: filter)
        case .atomicBatch(let operations):
            return .atomicBatch(operations.map { $0.removingVectors(named: names) })
        case .matching(let filter, let operation):
            return .matching(filter, operation.removingVectors(named: names))
        case .timed(let time, let operation):
            return .timed(time, operation.removingVectors(named: names))
        default:
            return self
        }
    }

    /// This operation (one that selects points by id) applied to `ids` instead.
    func selecting(_ ids: [PointID]) -> WriteOperation {
        switch self {
        case .delete: return .delete(ids)
        case .setPayload(_, let payload): return .setPayload(ids: ids, payload: payload)
        case .overwritePayload(_, let payload): return .overwritePayload(ids: ids, payload: payload)
        case .deletePayloadKeys(_, let keys): return .deletePayloadKeys(ids: ids, keys: keys)
        case .clearPayload: return .clearPayload(ids: ids)
        case .setPayloadAtKey(_, let payload, let key): return .setPayloadAtKey(ids: ids, payload: payload, key: key)
        case .deleteVectors(_, let names): return .deleteVectors(ids: ids, names: names)
        default: return self
        }
    }

    /// Whether this operation selects points by id (and can be `matching` a filter).
    var selectsByID: Bool {
        switch self {
        case .delete, .setPayload, .overwritePayload, .deletePayloadKeys, .clearPayload, .setPayloadAtKey,
            .deleteVectors:
            return true
        default: return false
        }
    }

    /// The vector names (dense and sparse) this operation writes or deletes.
    var vectorNames: Set<String> {
        switch self {
        case .upsert(let points), .conditionalUpsert(let points, _, _):
            return Set(points.flatMap { Array($0.vectors.keys) + Array($0.sparseVectors.keys) })
        case .updateVectors(let points), .conditionalUpdateVectors(let points, _):
            return Set(points.flatMap { Array($0.vectors.keys) + Array($0.sparseVectors.keys) })
        case .deleteVectors(_, let names): return Set(names)
        case .atomicBatch(let operations): return operations.reduce(into: []) { $0.formUnion($1.vectorNames) }
        case .matching(_, let operation), .timed(_, let operation): return operation.vectorNames
        default: return []
        }
    }
}
