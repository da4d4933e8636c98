import StrataIO
import StrataPayload
import StrataSegment
import StrataVectorMath

/// The in-memory segment that takes every write after it is logged.
///
/// Invariants:
/// - `slotOf[id] == s` ⇔ `ids[s] == id`; a slot whose `ids` entry is nil is free
///   and listed once in `freeSlots`.
/// - Each column holds `slotCount * dim` floats; a point's vector for column c is
///   valid iff `column.present[slot]`.
/// - `versions[s]` is the op number that last wrote the point in slot `s`; an
///   operation with an older op number leaves the point unchanged. One with
///   the same op number changes it: the operations of an atomic batch share
///   the batch's op number and apply in order, each after the one before.
///
/// Thread safety: not thread-safe by itself. The owning `CollectionStore`'s
/// state lock guards it: writes arrive under that lock held exclusively, in
/// op-number order; reads under it held shared. Once sealed (`FrozenSegment`)
/// it is never written again and may be read without the lock. The only state
/// a read changes is the field index cache, which has a lock of its own.
/// (The segment used to take an inner reader-writer lock on every call as
/// well, under the store's lock: redundant, and two lock round trips per
/// upserted point.)
final class MutableSegment {
    let config: CollectionConfig
    private(set) var slotOf: [PointID: Int] = [:]
    private(set) var ids: [PointID?] = []
    private(set) var versions: [UInt64] = []
    private(set) var payloads: [Payload?] = []
    /// One column per named vector, in `columnIndex` order. An array (not a
    /// dictionary) so that appends mutate in place: iterating a dictionary's keys
    /// while mutating its values copies every column on each write.
    private(set) var columns: [VectorColumn] = []
    let columnIndex: [String: Int]
    /// One column of per-slot sparse vectors per sparse name (canonical vectors).
    private(set) var sparseColumns: [SparseColumn] = []
    let sparseIndex: [String: Int]
    /// Stored sparse entries (index + value pairs) of live points.
    private var sparseEntries = 0
    /// Floats of multivector rows of live points.
    /// Bytes of every multivector's rows held, in their datatype.
    private var multiVectorBytes = 0
    private var freeSlots: [Int] = []
    /// Bumped by every change, so cached field indexes know they are stale.
    private(set) var generation: UInt64 = 0
    /// Field indexes built from the current state (rebuilt on first use after
    /// a change; a frozen segment's never change). Reads fill it, concurrently.
    let indexCache = Locked<[PayloadPath: CachedIndex]>([:])

    struct CachedIndex {
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
        /// Cosine over raw (`uint8`) vectors: searches divide the dot product
        /// by the norms, this column's kept in `norms` (one per slot).
        let rawCosine: Bool
        var norms: [Float] = []
        /// Bytes of one element in the vector's datatype.
        let elementBytes: Int
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
            return VectorColumn(
                name: name, dim: params.size, distance: params.distance, isMulti: params.isMultiVector,
                rawCosine: params.scoresRawCosine, elementBytes: params.storedDatatype.bytesPerElement)
        }
        columnIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let sparseNames = config.sparseVectors.keys.sorted()
        sparseColumns = sparseNames.map { SparseColumn(name: $0) }
        sparseIndex = Dictionary(uniqueKeysWithValues: sparseNames.enumerated().map { ($1, $0) })
    }

    var pointCount: Int { slotOf.count }

    // MARK: - Writes

    /// Removes the point if op `opNum` is not older than it. Returns whether it was here.
    @discardableResult
    func delete(_ id: PointID, opNum: UInt64) -> Bool {
        guard let slot = slotOf[id] else { return false }
        if versions[slot] <= opNum {
            free(slot)
            generation &+= 1
        }
        return true
    }

    /// Changes the payload of the point if it is here; returns whether it was.
    @discardableResult
    func updatePayload(_ id: PointID, opNum: UInt64, _ change: (Payload?) -> Payload?) -> Bool {
        guard let slot = slotOf[id] else { return false }
        if versions[slot] <= opNum {
            payloadBytes -= Self.payloadBytes(payloads[slot])
            payloads[slot] = change(payloads[slot])
            payloadBytes += Self.payloadBytes(payloads[slot])
            versions[slot] = opNum
            generation &+= 1
        }
        return true
    }

    /// Inserts or replaces a whole point written by op `opNum` (no-op if the
    /// stored version is newer). The point must be valid (checked before logging).
    func upsert(_ point: PointStruct, opNum: UInt64) {
        let slot: Int
        if let existing = slotOf[point.id] {
            guard versions[existing] <= opNum else { return }
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
                if columns[c].rawCosine { columns[c].norms.append(0) }
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
        payloadBytes -= Self.payloadBytes(payloads[slot])
        payloads[slot] = point.payload
        payloadBytes += Self.payloadBytes(point.payload)
        for c in columns.indices {
            let dim = columns[c].dim
            if columns[c].isMulti {
                multiVectorBytes -= (columns[c].rows[slot]?.count ?? 0) * columns[c].elementBytes
                columns[c].rows[slot] = point.vectors[columns[c].name]
                multiVectorBytes += (columns[c].rows[slot]?.count ?? 0) * columns[c].elementBytes
            }
            if let given = point.vectors[columns[c].name] {
                let vector =
                    columns[c].isMulti
                    ? given.withUnsafeBufferPointer {
                        MaxSim.aggregate(rows: $0, dim: dim, metric: columns[c].distance)
                    } : given
                vector.withUnsafeBufferPointer { source in
                    columns[c].data.withUnsafeMutableBufferPointer { target in
                        // SAFETY: validation guaranteed vector.count == dim, and the
                        // slot's row lies inside the column.
                        (target.baseAddress! + slot * dim).update(from: source.baseAddress!, count: dim)
                    }
                }
                columns[c].present[slot] = true
                if columns[c].rawCosine {
                    columns[c].norms[slot] = vector.withUnsafeBufferPointer { VectorKernels.dot($0, $0) }.squareRoot()
                }
            } else {
                columns[c].present[slot] = false
            }
        }
    }

    private func free(_ slot: Int) {
        guard let id = ids[slot] else { return }
        slotOf[id] = nil
        ids[slot] = nil
        payloadBytes -= Self.payloadBytes(payloads[slot])
        payloads[slot] = nil
        for c in columns.indices {
            columns[c].present[slot] = false
            if columns[c].isMulti {
                multiVectorBytes -= (columns[c].rows[slot]?.count ?? 0) * columns[c].elementBytes
                columns[c].rows[slot] = nil
            }
        }
        for c in sparseColumns.indices {
            sparseEntries -= sparseColumns[c].vectors[slot]?.count ?? 0
            sparseColumns[c].vectors[slot] = nil
        }
        freeSlots.append(slot)
    }

    // MARK: - Whole points

    /// The version of `id`, if it is here.
    func version(of id: PointID) -> UInt64? { slotOf[id].map { versions[$0] } }

    /// The stored point (vectors and payload), if it is here.
    func point(_ id: PointID) -> (point: PointStruct, version: UInt64)? {
        guard let slot = slotOf[id] else { return nil }
        return (
            PointStruct(
                id: id, vectors: vectors(slot: slot), payload: payloads[slot], sparseVectors: sparseVectors(slot: slot)),
            versions[slot]
        )
    }

    /// The size of the payloads held, as their binary JSON encoding would be
    /// (`JSONValue.estimatedEncodedBytes`), kept up to date on every write.
    private(set) var payloadBytes = 0

    static func payloadBytes(_ payload: Payload?) -> Int {
        payload.map { JSONValue.object($0).estimatedEncodedBytes } ?? 0
    }

    /// Bytes the vector data held here takes once written to an immutable
    /// segment: a row per point and vector in the vector's datatype (absent
    /// vectors too, as segments store zero rows for them), multivector rows,
    /// 8 bytes per sparse entry. What the seal threshold (Qdrant's
    /// `indexing_threshold_kb`, in stored bytes) and strict mode's vector size
    /// limit measure. O(vectors).
    var vectorBytes: Int {
        slotOf.count * columns.reduce(0) { $0 + $1.dim * $1.elementBytes } + sparseEntries * 8 + multiVectorBytes
    }

    /// Every point, sorted by id, as an immutable segment's writer takes them.
    func buildPoints() -> [SegmentBuildPoint] {
        slotOf.keys.sorted().map { id in
            let slot = slotOf[id]!
            return config.segmentBuildPoint(
                id: id, version: versions[slot], vectors: vectors(slot: slot), payload: payloads[slot],
                sparseVectors: sparseVectors(slot: slot))
        }
    }

    /// The point in `slot` (which must be live) as a read returns it.
    func record(slot: Int, withPayload: Bool, withVector: Bool) -> Record {
        Record(
            id: ids[slot]!, version: versions[slot],
            payload: withPayload ? (payloads[slot] ?? [:]) : nil,
            vectors: withVector ? vectors(slot: slot) : nil,
            sparseVectors: withVector && !sparseColumns.isEmpty ? sparseVectors(slot: slot) : nil)
    }

    private func sparseVectors(slot: Int) -> [String: SparseVector] {
        var result: [String: SparseVector] = [:]
        for column in sparseColumns { if let vector = column.vectors[slot] { result[column.name] = vector } }
        return result
    }

    private func vectors(slot: Int) -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for column in columns where column.present[slot] {
            result[column.name] =
                column.isMulti ? column.rows[slot]! : Array(column.data[slot * column.dim..<(slot + 1) * column.dim])
        }
        return result
    }
}
