import StrataIO
import StrataVectorMath

/// The in-memory segment that takes every write after it is logged.
///
/// Invariants:
/// - `slotOf[id] == s` ⇔ `ids[s] == id`; a slot whose `ids` entry is nil is free
///   and listed once in `freeSlots`.
/// - Each column holds `slotCount * dim` floats; a point's vector for column c is
///   valid iff `column.present[slot]`.
/// - `versions[s]` is the op number that last wrote the point in slot `s`; an
///   operation with an op number ≤ that version leaves the point unchanged, so
///   replaying the log over a state that already contains it is harmless.
///
/// Thread safety: all state is guarded by `lock` (many readers or one writer).
/// Writes arrive from the WAL writer thread in op-number order.
final class MutableSegment: @unchecked Sendable {
    // SAFETY: every stored property below `lock` is only touched inside
    // `lock.withReadLock` / `lock.withWriteLock`.
    let config: CollectionConfig
    private let lock = ReadWriteLock()
    private var slotOf: [PointID: Int] = [:]
    private var ids: [PointID?] = []
    private var versions: [UInt64] = []
    private var payloads: [Payload?] = []
    /// One column per named vector, in `columnIndex` order. An array (not a
    /// dictionary) so that appends mutate in place: iterating a dictionary's keys
    /// while mutating its values copies every column on each write.
    private var columns: [VectorColumn] = []
    private let columnIndex: [String: Int]
    private var freeSlots: [Int] = []
    private var lastAppliedOpNum: UInt64 = 0

    struct VectorColumn {
        let name: String
        let dim: Int
        let distance: Distance
        var data: [Float] = []
        var present: [Bool] = []
    }

    init(config: CollectionConfig) {
        self.config = config
        let names = config.vectors.keys.sorted()
        columns = names.map { VectorColumn(name: $0, dim: config.vectors[$0]!.size, distance: config.vectors[$0]!.distance) }
        columnIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    }

    var pointCount: Int { lock.withReadLock { slotOf.count } }

    /// The op number of the newest operation applied.
    var appliedOpNum: UInt64 { lock.withReadLock { lastAppliedOpNum } }

    // MARK: - Writes

    /// Applies one logged operation. Operations must be valid (checked before
    /// logging); this never fails.
    func apply(_ operation: WriteOperation, opNum: UInt64) {
        lock.withWriteLock {
            switch operation {
            case .upsert(let points):
                for point in points { upsert(point, opNum: opNum) }
            case .delete(let targets):
                for id in targets {
                    guard let slot = slotOf[id], versions[slot] < opNum else { continue }
                    free(slot)
                }
            case .setPayload(let targets, let payload):
                updatePayloads(targets, opNum: opNum) { existing in
                    var merged = existing ?? [:]
                    for (key, value) in payload { merged[key] = value }
                    return merged
                }
            case .overwritePayload(let targets, let payload):
                updatePayloads(targets, opNum: opNum) { _ in payload }
            case .deletePayloadKeys(let targets, let keys):
                updatePayloads(targets, opNum: opNum) { existing in
                    guard var remaining = existing else { return nil }
                    for key in keys { remaining[key] = nil }
                    return remaining
                }
            case .clearPayload(let targets):
                updatePayloads(targets, opNum: opNum) { _ in [:] }
            }
            lastAppliedOpNum = max(lastAppliedOpNum, opNum)
        }
    }

    private func upsert(_ point: PointStruct, opNum: UInt64) {
        let slot: Int
        if let existing = slotOf[point.id] {
            guard versions[existing] < opNum else { return }
            slot = existing
        } else if let reused = freeSlots.popLast() {
            slot = reused
            slotOf[point.id] = slot
            ids[slot] = point.id
        } else {
            slot = ids.count
            slotOf[point.id] = slot
            ids.append(point.id)
            versions.append(0)
            payloads.append(nil)
            for c in columns.indices {
                columns[c].data.append(contentsOf: repeatElement(0, count: columns[c].dim))
                columns[c].present.append(false)
            }
        }
        versions[slot] = opNum
        payloads[slot] = point.payload
        for c in columns.indices {
            let dim = columns[c].dim
            if let vector = point.vectors[columns[c].name] {
                vector.withUnsafeBufferPointer { source in
                    columns[c].data.withUnsafeMutableBufferPointer { target in
                        // SAFETY: validation guaranteed vector.count == dim, and the
                        // slot's row lies inside the column.
                        (target.baseAddress! + slot * dim).update(from: source.baseAddress!, count: dim)
                    }
                }
                columns[c].present[slot] = true
            } else {
                columns[c].present[slot] = false
            }
        }
    }

    private func free(_ slot: Int) {
        guard let id = ids[slot] else { return }
        slotOf[id] = nil
        ids[slot] = nil
        payloads[slot] = nil
        for c in columns.indices { columns[c].present[slot] = false }
        freeSlots.append(slot)
    }

    private func updatePayloads(_ targets: [PointID], opNum: UInt64, _ change: (Payload?) -> Payload?) {
        for id in targets {
            guard let slot = slotOf[id], versions[slot] < opNum else { continue }
            payloads[slot] = change(payloads[slot])
            versions[slot] = opNum
        }
    }

    // MARK: - Reads

    func contains(_ id: PointID) -> Bool { lock.withReadLock { slotOf[id] != nil } }

    func retrieve(_ targets: [PointID], withPayload: Bool, withVector: Bool) -> [Record] {
        lock.withReadLock {
            targets.compactMap { id in
                guard let slot = slotOf[id] else { return nil }
                return record(slot: slot, withPayload: withPayload, withVector: withVector)
            }
        }
    }

    /// A page of points in id order: at most `limit` starting at `offset`
    /// (inclusive), and the id that starts the next page. Sorts the ids on each
    /// call (O(n log n)); payloads and vectors are copied for the page only.
    func scroll(offset: PointID?, limit: Int, withPayload: Bool, withVector: Bool) -> (records: [Record], next: PointID?) {
        lock.withReadLock {
            let ids = slotOf.keys.sorted()
            var start = 0
            if let offset {
                var high = ids.count
                while start < high {
                    let mid = (start + high) / 2
                    if ids[mid] < offset { start = mid + 1 } else { high = mid }
                }
            }
            let end = start + min(max(limit, 0), ids.count - start)
            let page = ids[start..<end].map { record(slot: slotOf[$0]!, withPayload: withPayload, withVector: withVector) }
            return (page, end < ids.count ? ids[end] : nil)
        }
    }

    /// Caller holds the lock.
    private func record(slot: Int, withPayload: Bool, withVector: Bool) -> Record {
        Record(
            id: ids[slot]!, version: versions[slot],
            payload: withPayload ? (payloads[slot] ?? [:]) : nil,
            vectors: withVector ? vectors(slot: slot) : nil)
    }

    /// Caller holds the lock.
    private func vectors(slot: Int) -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for column in columns where column.present[slot] {
            result[column.name] = Array(column.data[slot * column.dim..<(slot + 1) * column.dim])
        }
        return result
    }

    /// Exact top-`limit` by scanning every point that has vector `using`.
    /// `query` is validated (and normalised for cosine) by the caller.
    func search(query: [Float], using name: String, limit: Int, withPayload: Bool, withVector: Bool) -> [ScoredPoint] {
        lock.withReadLock {
            guard let index = columnIndex[name], limit > 0 else { return [] }
            let column = columns[index]
            let dim = column.dim
            let slotCount = ids.count
            var selector = TopKSelector(k: limit, higherIsBetter: column.distance.higherIsBetter)
            let chunk = 2048
            var scores = [Float](repeating: 0, count: chunk)
            query.withUnsafeBufferPointer { queryBuffer in
                column.data.withUnsafeBufferPointer { base in
                    scores.withUnsafeMutableBufferPointer { out in
                        var start = 0
                        while start < slotCount {
                            let n = min(chunk, slotCount - start)
                            VectorKernels.scoreBatch(
                                metric: column.distance, query: queryBuffer.baseAddress!,
                                base: base.baseAddress! + start * dim, count: n, dim: dim,
                                into: out.baseAddress!)
                            // Free slots and points without this vector never rank:
                            // the selector ignores NaN scores.
                            for i in 0..<n where !column.present[start + i] { out[i] = .nan }
                            selector.insert(scores: UnsafeBufferPointer(start: out.baseAddress!, count: n), firstID: start)
                            start += n
                        }
                    }
                }
            }
            return selector.sorted().map { hit in
                ScoredPoint(
                    id: ids[hit.id]!, version: versions[hit.id], score: hit.score,
                    payload: withPayload ? (payloads[hit.id] ?? [:]) : nil,
                    vectors: withVector ? vectors(slot: hit.id) : nil)
            }
        }
    }
}
