import StrataIO
import StrataPayload
import StrataSegment
import StrataVectorMath

/// One search hit inside one segment.
struct SegmentHit {
    let id: PointID
    let version: UInt64
    let score: Float
}

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
/// Writes arrive from the owning `CollectionStore` in op-number order.
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
    /// One column of per-slot sparse vectors per sparse name (canonical vectors).
    private var sparseColumns: [SparseColumn] = []
    private let sparseIndex: [String: Int]
    /// Stored sparse entries (index + value pairs) of live points.
    private var sparseEntries = 0
    /// Floats of multivector rows of live points.
    private var multiVectorFloats = 0
    private var freeSlots: [Int] = []
    /// Bumped by every change, so cached field indexes know they are stale.
    private var generation: UInt64 = 0
    /// Field indexes built from the current state (rebuilt on first use after
    /// a change; a frozen segment's never change). Guarded by `indexCacheLock`.
    private var indexCache: [PayloadPath: CachedIndex] = [:]
    private let indexCacheLock = Mutex()

    private struct CachedIndex {
        let generation: UInt64
        let index: FieldIndex
    }

    struct VectorColumn {
        let name: String
        let dim: Int
        let distance: Distance
        /// `data` holds each point's vector; for a multivector, the rows'
        /// aggregate (`MaxSim.aggregate`), with the rows themselves in `rows`.
        var data: [Float] = []
        var present: [Bool] = []
        let isMulti: Bool
        var rows: [[Float]?] = []
    }

    struct SparseColumn {
        let name: String
        var vectors: [SparseVector?] = []
    }

    init(config: CollectionConfig) {
        self.config = config
        let names = config.vectors.keys.sorted()
        columns = names.map { name in
            let params = config.vectors[name]!
            return VectorColumn(name: name, dim: params.size, distance: params.distance, isMulti: params.isMultiVector)
        }
        columnIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let sparseNames = config.sparseVectors.keys.sorted()
        sparseColumns = sparseNames.map { SparseColumn(name: $0) }
        sparseIndex = Dictionary(uniqueKeysWithValues: sparseNames.enumerated().map { ($1, $0) })
    }

    var pointCount: Int { lock.withReadLock { slotOf.count } }


    // MARK: - Writes

    /// Inserts or replaces a whole point written by op `opNum` (no-op if the
    /// stored version is newer). The point must be valid (checked before logging).
    func upsert(_ point: PointStruct, opNum: UInt64) {
        lock.withWriteLock {
            upsertLocked(point, opNum: opNum)
        }
    }

    /// Removes the point if op `opNum` is newer than it. Returns whether it was here.
    @discardableResult
    func delete(_ id: PointID, opNum: UInt64) -> Bool {
        lock.withWriteLock {
            guard let slot = slotOf[id] else { return false }
            if versions[slot] < opNum {
                free(slot)
                generation &+= 1
            }
            return true
        }
    }

    /// Changes the payload of the point if it is here; returns whether it was.
    @discardableResult
    func updatePayload(_ id: PointID, opNum: UInt64, _ change: (Payload?) -> Payload?) -> Bool {
        lock.withWriteLock {
            guard let slot = slotOf[id] else { return false }
            if versions[slot] < opNum {
                payloads[slot] = change(payloads[slot])
                versions[slot] = opNum
                generation &+= 1
            }
            return true
        }
    }

    private func upsertLocked(_ point: PointStruct, opNum: UInt64) {
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
                if columns[c].isMulti { columns[c].rows.append(nil) }
            }
            for c in sparseColumns.indices { sparseColumns[c].vectors.append(nil) }
        }
        for c in sparseColumns.indices {
            sparseEntries -= sparseColumns[c].vectors[slot]?.count ?? 0
            let vector = point.sparseVectors[sparseColumns[c].name]
            sparseEntries += vector?.count ?? 0
            sparseColumns[c].vectors[slot] = vector
        }
        versions[slot] = opNum
        generation &+= 1
        payloads[slot] = point.payload
        for c in columns.indices {
            let dim = columns[c].dim
            if columns[c].isMulti {
                multiVectorFloats -= columns[c].rows[slot]?.count ?? 0
                columns[c].rows[slot] = point.vectors[columns[c].name]
                multiVectorFloats += columns[c].rows[slot]?.count ?? 0
            }
            if let given = point.vectors[columns[c].name] {
                let vector = columns[c].isMulti
                    ? given.withUnsafeBufferPointer { MaxSim.aggregate(rows: $0, dim: dim, metric: columns[c].distance) } : given
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
        for c in columns.indices {
            columns[c].present[slot] = false
            if columns[c].isMulti {
                multiVectorFloats -= columns[c].rows[slot]?.count ?? 0
                columns[c].rows[slot] = nil
            }
        }
        for c in sparseColumns.indices {
            sparseEntries -= sparseColumns[c].vectors[slot]?.count ?? 0
            sparseColumns[c].vectors[slot] = nil
        }
        freeSlots.append(slot)
    }

    // MARK: - Reads

    func retrieve(_ targets: [PointID], withPayload: Bool, withVector: Bool) -> [Record] {
        lock.withReadLock {
            targets.compactMap { id in
                guard let slot = slotOf[id] else { return nil }
                return record(slot: slot, withPayload: withPayload, withVector: withVector)
            }
        }
    }

    /// The version of `id`, if it is here.
    func version(of id: PointID) -> UInt64? {
        lock.withReadLock { slotOf[id].map { versions[$0] } }
    }

    /// The stored point (vectors and payload), if it is here.
    func point(_ id: PointID) -> (point: PointStruct, version: UInt64)? {
        lock.withReadLock {
            guard let slot = slotOf[id] else { return nil }
            return (PointStruct(id: id, vectors: vectors(slot: slot), payload: payloads[slot], sparseVectors: sparseVectors(slot: slot)),
                    versions[slot])
        }
    }

    /// Every id here, sorted.
    func sortedIDs() -> [PointID] { lock.withReadLock { slotOf.keys.sorted() } }

    /// Bytes of vector data held (what the seal threshold is measured in).
    var vectorBytes: Int {
        lock.withReadLock { slotOf.count * columns.reduce(0) { $0 + $1.dim * 4 } + sparseEntries * 8 + multiVectorFloats * 4 }
    }

    /// Every point, sorted by id, as an immutable segment's writer takes them.
    func buildPoints() -> [SegmentBuildPoint] {
        lock.withReadLock {
            slotOf.keys.sorted().map { id in
                let slot = slotOf[id]!
                return config.segmentBuildPoint(id: id, version: versions[slot], vectors: vectors(slot: slot), payload: payloads[slot],
                                                sparseVectors: sparseVectors(slot: slot))
            }
        }
    }

    /// Caller holds the lock.
    private func record(slot: Int, withPayload: Bool, withVector: Bool) -> Record {
        Record(
            id: ids[slot]!, version: versions[slot],
            payload: withPayload ? (payloads[slot] ?? [:]) : nil,
            vectors: withVector ? vectors(slot: slot) : nil,
            sparseVectors: withVector && !sparseColumns.isEmpty ? sparseVectors(slot: slot) : nil)
    }

    /// Caller holds the lock.
    private func sparseVectors(slot: Int) -> [String: SparseVector] {
        var result: [String: SparseVector] = [:]
        for column in sparseColumns { if let vector = column.vectors[slot] { result[column.name] = vector } }
        return result
    }

    /// Caller holds the lock.
    private func vectors(slot: Int) -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for column in columns where column.present[slot] {
            result[column.name] = column.isMulti ? column.rows[slot]! : Array(column.data[slot * column.dim..<(slot + 1) * column.dim])
        }
        return result
    }

    /// Exact top-`limit` hits by scanning every point that has vector `using`,
    /// skipping ids in `excluded` and, when `allowed` is given, slots not in
    /// it. `query` is validated (and normalised for cosine) by the caller.
    func searchHits(query: [Float], using name: String, limit: Int, excluded: [PointID: UInt64] = [:], allowed: PointBitset? = nil)
        -> [SegmentHit]
    {
        lock.withReadLock {
            guard let index = columnIndex[name], limit > 0 else { return [] }
            let column = columns[index]
            if column.isMulti { return multiVectorHits(column, query: query, limit: limit, excluded: excluded, allowed: allowed) }
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
                            // Free slots, points without this vector and excluded ids
                            // never rank: the selector ignores NaN scores.
                            for i in 0..<n where !column.present[start + i] { out[i] = .nan }
                            if let allowed {
                                for i in 0..<n where start + i >= allowed.count || !allowed.contains(start + i) { out[i] = .nan }
                            }
                            if !excluded.isEmpty {
                                for i in 0..<n {
                                    if let id = ids[start + i], excluded[id] != nil { out[i] = .nan }
                                }
                            }
                            selector.insert(scores: UnsafeBufferPointer(start: out.baseAddress!, count: n), firstID: start)
                            start += n
                        }
                    }
                }
            }
            return selector.sorted().map { SegmentHit(id: ids[$0.id]!, version: versions[$0.id], score: $0.score) }
        }
    }
}

extension MutableSegment {
    /// Exact top-`limit` by max_sim over the rows of multivector `column`
    /// (`query`: rows back to back). Caller holds the lock.
    private func multiVectorHits(_ column: VectorColumn, query: [Float], limit: Int, excluded: [PointID: UInt64],
                                 allowed: PointBitset?) -> [SegmentHit] {
        var selector = TopKSelector(k: limit, higherIsBetter: column.distance.higherIsBetter)
        var scratch: [Float] = []
        let dim = column.dim
        query.withUnsafeBufferPointer { q in
            for (slot, rows) in column.rows.enumerated() {
                guard let rows, let id = ids[slot] else { continue }
                if let allowed, slot >= allowed.count || !allowed.contains(slot) { continue }
                if !excluded.isEmpty, excluded[id] != nil { continue }
                let score = rows.withUnsafeBufferPointer { r in
                    MaxSim.score(metric: column.distance, query: q.baseAddress!, queryRows: q.count / dim, rows: r.baseAddress!,
                                 rowCount: r.count / dim, dim: dim, scratch: &scratch)
                }
                selector.insert(id: slot, score: score)
            }
        }
        return selector.sorted().map { SegmentHit(id: ids[$0.id]!, version: versions[$0.id], score: $0.score) }
    }
}

// MARK: - Filtering

extension MutableSegment {
    /// The slots of live points that match `filter`, leaving out ids in
    /// `excluded` (a frozen segment's tombstones). Indexed fields of `schema`
    /// are answered through field indexes built from this segment's payloads.
    func matching(_ filter: Filter, schema: [PayloadPath: PayloadFieldSchema], settings: FilterSettings,
                  excluded: [PointID: UInt64] = [:]) throws -> PointBitset
    {
        try lock.withReadLock {
            try SegmentFilter.matching(filter, in: FilterView(segment: self, schema: schema, excluded: excluded), settings: settings)
        }
    }

    /// Field index of `key` over the current slots. Caller holds `lock`.
    fileprivate func cachedIndex(_ key: PayloadPath, schema: PayloadFieldSchema) -> FieldIndex {
        let current = generation
        if let cached = indexCacheLock.withLock({ indexCache[key] }), cached.generation == current, cached.index.schema == schema {
            return cached.index
        }
        let index = FieldIndex.build(key: key, schema: schema, pointCount: ids.count) { slot in
            ids[slot] == nil ? nil : payloads[slot]
        }
        indexCacheLock.withLock { indexCache[key] = CachedIndex(generation: current, index: index) }
        return index
    }

    /// Records of these slots (which must be live), in the order given.
    func records(slots: [Int], withPayload: Bool, withVector: Bool) -> [Record] {
        lock.withReadLock {
            slots.compactMap { slot in
                guard slot < ids.count, ids[slot] != nil else { return nil }
                return record(slot: slot, withPayload: withPayload, withVector: withVector)
            }
        }
    }

    /// The ids of these slots (free slots left out).
    func ids(ofSlots slots: PointBitset) -> [PointID] {
        lock.withReadLock {
            var result: [PointID] = []
            slots.forEach { if $0 < ids.count, let id = ids[$0] { result.append(id) } }
            return result
        }
    }

    /// Per value of `key`'s index, how many of `slots` hold it.
    func facetCounts(key: PayloadPath, schema: PayloadFieldSchema, slots: PointBitset) -> [IndexKey: Int] {
        lock.withReadLock { cachedIndex(key, schema: schema).facetCounts(allowed: slots) }
    }

    /// (id, value) of `slots` ordered by `key`'s indexed values.
    func ordered(key: PayloadPath, schema: PayloadFieldSchema, slots: PointBitset, descending: Bool) -> [(id: PointID, value: Double)] {
        lock.withReadLock {
            cachedIndex(key, schema: schema).ordered(allowed: slots, descending: descending).compactMap { entry in
                ids[entry.offset].map { (id: $0, value: entry.value) }
            }
        }
    }

    /// Live slots (free slots and ids in `excluded` left out).
    func liveSlots(excluding excluded: [PointID: UInt64] = [:]) -> PointBitset {
        lock.withReadLock { FilterView(segment: self, schema: [:], excluded: excluded).filterLivePoints() }
    }

    /// A view for filter evaluation; only used while the caller holds `lock`.
    fileprivate struct FilterView: FilterableSegment {
        let segment: MutableSegment
        let schema: [PayloadPath: PayloadFieldSchema]
        let excluded: [PointID: UInt64]

        var filterPointCount: Int { segment.ids.count }

        func filterLivePoints() -> PointBitset {
            var live = PointBitset(count: segment.ids.count)
            for (slot, id) in segment.ids.enumerated() {
                if let id, excluded[id] == nil { live.insert(slot) }
            }
            return live
        }

        func filterIndex(for key: PayloadPath) -> FieldIndex? {
            schema[key].map { segment.cachedIndex(key, schema: $0) }
        }

        func filterOffsets(of wanted: Set<PointID>) -> [Int] { wanted.compactMap { segment.slotOf[$0] } }

        func filterHasVector(_ name: String, at slot: Int) -> Bool {
            if let column = segment.sparseIndex[name] { return segment.sparseColumns[column].vectors[slot] != nil }
            guard let column = segment.columnIndex[name] else { return false }
            return segment.columns[column].present[slot]
        }

        func filterSubject(at slot: Int) throws -> FilterSubject {
            let segment = self.segment
            var present = Dictionary(uniqueKeysWithValues: segment.columns.map { ($0.name, $0.present[slot]) })
            for column in segment.sparseColumns { present[column.name] = column.vectors[slot] != nil }
            return FilterSubject(id: segment.ids[slot]!, payload: segment.payloads[slot], hasVector: { present[$0] ?? false })
        }
    }
}


// MARK: - Query scans

extension MutableSegment {
    /// Calls `body` with the id, version and vector `name` of every slot in
    /// `slots` (live points) that has that vector (a multivector: its rows back
    /// to back). For the query executor's exact scans with custom scores.
    func forEachVector(_ name: String, slots: PointBitset, _ body: (PointID, UInt64, UnsafeBufferPointer<Float>) -> Void) {
        lock.withReadLock {
            guard let index = columnIndex[name] else { return }
            let column = columns[index]
            if column.isMulti {
                // A multivector: its rows back to back.
                slots.forEach { slot in
                    guard slot < ids.count, let id = ids[slot], let rows = column.rows[slot] else { return }
                    rows.withUnsafeBufferPointer { body(id, versions[slot], $0) }
                }
                return
            }
            let dim = column.dim
            column.data.withUnsafeBufferPointer { base in
                slots.forEach { slot in
                    guard slot < ids.count, let id = ids[slot], column.present[slot] else { return }
                    body(id, versions[slot], UnsafeBufferPointer(rebasing: base[slot * dim..<(slot + 1) * dim]))
                }
            }
        }
    }
}


// MARK: - Sparse vectors

extension MutableSegment {
    /// Exact top-`limit` by dot product with the canonical `query` over the
    /// points that have sparse vector `name` (brute force: this segment is
    /// small), skipping ids in `excluded` and slots not in `allowed`. Scores
    /// are `SparseVector.dot`'s; points scoring 0 are left out.
    func sparseHits(query: SparseVector, using name: String, limit: Int, excluded: [PointID: UInt64] = [:],
                    allowed: PointBitset? = nil) -> [SegmentHit] {
        lock.withReadLock {
            guard let column = sparseIndex[name], limit > 0 else { return [] }
            // Slots are not in id order: rank by (score, id) over all hits.
            var hits: [SegmentHit] = []
            for (slot, vector) in sparseColumns[column].vectors.enumerated() {
                guard let vector, let id = ids[slot] else { continue }
                if let allowed, slot >= allowed.count || !allowed.contains(slot) { continue }
                if !excluded.isEmpty, excluded[id] != nil { continue }
                let score = SparseVector.dot(query, vector).score
                if score != 0 { hits.append(SegmentHit(id: id, version: versions[slot], score: score)) }
            }
            hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            return Array(hits.prefix(limit))
        }
    }

    /// Points with sparse vector `name` and, per term of `terms`, how many of
    /// them hold it (ids in `excluded` left out).
    func sparseStatistics(_ name: String, terms: [UInt32], excluded: [PointID: UInt64] = [:]) -> (points: Int, df: [Int]) {
        lock.withReadLock {
            guard let column = sparseIndex[name] else { return (0, Array(repeating: 0, count: terms.count)) }
            var points = 0
            var df = [Int](repeating: 0, count: terms.count)
            for (slot, vector) in sparseColumns[column].vectors.enumerated() {
                guard let vector, let id = ids[slot], excluded[id] == nil else { continue }
                points += 1
                var i = 0, j = 0
                while i < terms.count && j < vector.indices.count {
                    if terms[i] == vector.indices[j] {
                        df[i] += 1
                        i += 1
                        j += 1
                    } else if terms[i] < vector.indices[j] { i += 1 } else { j += 1 }
                }
            }
            return (points, df)
        }
    }

    /// The sparse vector `name` of `id`, if here.
    func sparseVector(_ name: String, of id: PointID) -> SparseVector? {
        lock.withReadLock {
            guard let column = sparseIndex[name], let slot = slotOf[id] else { return nil }
            return sparseColumns[column].vectors[slot]
        }
    }

    /// Calls `body` with the id, version and sparse vector `name` of every
    /// slot in `slots` (live points) that has that vector. For the query
    /// executor's exact scans with custom scores.
    func forEachSparseVector(_ name: String, slots: PointBitset, _ body: (PointID, UInt64, SparseVector) -> Void) {
        lock.withReadLock {
            guard let column = sparseIndex[name] else { return }
            let vectors = sparseColumns[column].vectors
            slots.forEach { slot in
                guard slot < ids.count, let id = ids[slot], let vector = vectors[slot] else { return }
                body(id, versions[slot], vector)
            }
        }
    }
}
