import Foundation
import StrataIO
import StrataPayload
import StrataSegment
import StrataVectorMath
import StrataWAL

/// The LSM tree of one collection: the mutable segment that takes writes,
/// frozen segments waiting to be written, and the immutable segments the
/// manifest lists — plus the background maintenance that seals, flushes,
/// merges, vacuums and truncates the WAL.
///
/// Invariants (all under `lock`):
/// - A point id has at most one live copy across all segments: whenever an
///   operation writes a newer version of a point into the mutable segment, or
///   deletes it, every older copy in a frozen or immutable segment gets a
///   tombstone carrying that operation's number. So reads need no merging by
///   version.
/// - Every operation ≤ `manifest.checkpoint` is reflected in the immutable
///   segments and their durable tombstone files; tombstones with a larger op
///   number exist only in memory (docs/format/manifest.md, rule 2).
/// - `appliedOpNum` is the newest operation applied; operations are applied in
///   op-number order (by the WAL thread, or by replay at open).
///
/// Thread safety: reads take `lock` shared for their whole duration; applying an
/// operation takes it exclusively. Maintenance does its slow work (writing
/// files) without the lock and takes it exclusively only to swap segments.
/// Only one maintenance pass runs at a time (`maintenanceMutex`).
final class CollectionStore: @unchecked Sendable {
    // SAFETY: see the thread-safety note above; every `var` below is guarded by
    // `lock`, except the maintenance-thread state guarded by `wakeUp.mutex`.
    let name: String
    let directory: String
    let config: CollectionConfig
    /// Older incarnations of vector names in segments and the WAL (`VectorNameHistory`).
    let vectorHistory: [String: VectorNameHistory]
    let fileSystem: any FileSystem
    let lock = ReadWriteLock()
    var mutable: MutableSegment
    var frozen: [FrozenSegment] = []
    var immutables: [ImmutableSegment] = []
    var manifest: Manifest
    /// The payload field indexes, as of `appliedOpNum`.
    var payloadSchema: [PayloadPath: PayloadFieldSchema] = [:]
    var appliedOpNum: UInt64
    var lastMaintenanceError: String?

    let maintenanceMutex = Mutex()
    let wakeUp = ConditionVariable(mutex: Mutex())
    var wakeRequested = false
    var stopping = false
    var stopped = true
    var wal: WriteAheadLog?

    /// Writes stall while sealed segments hold more vector bytes than this
    /// (`DatabaseOptions.maxUnindexedBytes`); set before `start`.
    var backlogLimitBytes = Int.max
    /// Guards `backlogWaiters`.
    let backlog = Mutex()
    var backlogWaiters: [CheckedContinuation<Bool, Never>] = []
    /// Tests: while true the maintenance thread does no work.
    var maintenancePausedForTesting = false

    var segmentsDirectory: String { joinPath(directory, "segments") }

    // MARK: - Opening

    /// Loads the manifest and the segments it lists (checking their headers,
    /// footers and metadata checksums), their tombstone files, and removes
    /// leftovers of interrupted flushes and merges. The WAL is replayed by the
    /// caller through `apply`, skipping operations ≤ `checkpoint`.
    init(name: String, directory: String, config: CollectionConfig, vectorHistory: [String: VectorNameHistory] = [:],
         fileSystem: any FileSystem) throws {
        self.name = name
        self.directory = directory
        self.config = config
        self.vectorHistory = vectorHistory
        self.fileSystem = fileSystem
        let manifestPath = joinPath(directory, Manifest.fileName)
        if fileSystem.fileKind(manifestPath) != nil {
            manifest = try Manifest.decode(try fileSystem.open(manifestPath, mode: .readOnly).readAll(), path: manifestPath)
        } else {
            manifest = Manifest()
        }
        appliedOpNum = manifest.checkpoint
        mutable = MutableSegment(config: config)
        for entry in manifest.payloadSchema {
            do {
                payloadSchema[try PayloadPath(entry.key)] = try PayloadFieldSchema(json: entry.schema)
            } catch {
                throw StrataError(.corruption, "manifest \(manifestPath) names payload index \"\(entry.key)\" with schema \(entry.schema), which does not parse: \(error)")
            }
        }
        let segmentsPath = joinPath(directory, "segments")
        if fileSystem.fileKind(segmentsPath) == nil { try fileSystem.createDirectoryDurably(segmentsPath) }
        var referenced: Set<String> = []
        for entry in manifest.segments {
            let segmentFile = Manifest.segmentFileName(entry.segmentID)
            referenced.insert(segmentFile)
            let reader = try SegmentReader.open(path: joinPath(segmentsPath, segmentFile), fileSystem: fileSystem)
            // config.json has no checksum: a damaged one must not be used to read
            // the segments. Sections of names changed after the segment was
            // written are stale and ignored; every other name must agree.
            let hidden = vectorHistory.hiddenNames(inSegment: entry.segmentID)
            let specs = Dictionary(reader.vectorSpecs.map { ($0.name, $0.dimension) }, uniquingKeysWith: { a, _ in a })
                .filter { !hidden.contains($0.key) }
            let expected = config.vectors.mapValues(\.size).filter { !hidden.contains($0.key) }
            if specs != expected {
                throw StrataError(.corruption,
                    "segment \(reader.path) holds vectors \(specs.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }) but \(joinPath(directory, "config.json")) says \(expected.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }): config.json or the segment is damaged; restore the collection from a snapshot")
            }
            var tombstones: [UInt32: UInt64] = [:]
            if entry.tombstoneGeneration > 0 {
                let tombstoneFile = Manifest.tombstoneFileName(entry.segmentID, generation: entry.tombstoneGeneration)
                referenced.insert(tombstoneFile)
                for offset in try TombstoneFile.read(joinPath(segmentsPath, tombstoneFile), segmentPointCount: reader.pointCount, fileSystem: fileSystem) {
                    // The exact op is not stored; any value ≤ checkpoint says "durable".
                    tombstones[offset] = manifest.checkpoint
                }
            }
            immutables.append(try ImmutableSegment(
                id: entry.segmentID, reader: reader, tombstones: tombstones, persistedGeneration: entry.tombstoneGeneration,
                config: config, payloadSchema: payloadSchema, hiddenVectors: hidden))
        }
        var removedLeftovers = false
        for file in try fileSystem.listDirectory(segmentsPath) where !referenced.contains(file) {
            try fileSystem.removeFile(joinPath(segmentsPath, file))
            removedLeftovers = true
        }
        if removedLeftovers { try fileSystem.syncDirectory(segmentsPath) }
    }

    /// Runs `body` with the state locked exclusively.
    func withStateLock<T>(_ body: (CollectionStore) throws -> T) rethrows -> T {
        try lock.withWriteLock { try body(self) }
    }

    func recordMaintenanceError(_ error: any Error) {
        let message = "\(error)"
        lock.withWriteLock { lastMaintenanceError = message }
        wakeStalledWriters()
        FileHandle.standardError.write(Data("strata: collection `\(name)`: background flush or merge failed, will retry: \(message)\n".utf8))
    }

    func clearMaintenanceError() { lock.withWriteLock { lastMaintenanceError = nil } }

    var wakeUpMutex: Mutex { wakeUp.mutex }
    var wakeUpCondition: ConditionVariable { wakeUp }

    /// The WAL to truncate after a checkpoint (nil before `start`).
    func walForTruncation() -> WriteAheadLog? { wakeUp.mutex.withLock { wal } }

    /// Operations at or below this are already in the segments.
    var checkpoint: UInt64 { lock.withReadLock { manifest.checkpoint } }

    /// Starts background maintenance; `wal` is truncated after each checkpoint.
    func start(wal: WriteAheadLog) {
        wakeUp.mutex.withLock {
            self.wal = wal
            stopping = false
            stopped = false
        }
        let thread = Thread { [self] in self.runMaintenance() }
        thread.name = "strata-optimizer"
        thread.start()
    }

    /// Stops background maintenance, waiting for a running pass to finish.
    func stop() {
        wakeUp.mutex.withLock {
            stopping = true
            wakeUp.broadcast()
        }
        wakeStalledWriters()
        wakeUp.mutex.withLock {
            while !stopped { wakeUp.wait() }
        }
    }

    /// Tests: stops (or resumes) background maintenance work without stopping the thread.
    func pauseMaintenanceForTesting(_ paused: Bool) {
        wakeUp.mutex.withLock {
            maintenancePausedForTesting = paused
            wakeRequested = true
            wakeUp.broadcast()
        }
    }

    // MARK: - Applying operations

    /// Applies one logged operation. Called in op-number order, by the WAL
    /// thread once the operation is durable, or by replay at open.
    func apply(_ operation: WriteOperation, opNum: UInt64) {
        let needsFlush: Bool = lock.withWriteLock {
            switch operation {
            case .upsert(let points):
                for point in points {
                    mutable.upsert(point, opNum: opNum)
                    supersedeOlderCopies(of: point.id, opNum: opNum)
                }
            case .delete(let ids):
                for id in ids {
                    mutable.delete(id, opNum: opNum)
                    supersedeOlderCopies(of: id, opNum: opNum)
                }
            case .setPayload(let ids, let payload):
                for id in ids {
                    updatePayload(id, opNum: opNum) { existing in
                        var merged = existing ?? [:]
                        for (key, value) in payload { merged[key] = value }
                        return merged
                    }
                }
            case .overwritePayload(let ids, let payload):
                for id in ids { updatePayload(id, opNum: opNum) { _ in payload } }
            case .deletePayloadKeys(let ids, let keys):
                // Validated before logging; a key that does not parse removes nothing.
                let paths = keys.compactMap { try? PayloadPath($0) }
                for id in ids {
                    updatePayload(id, opNum: opNum) { existing in
                        guard var remaining = existing else { return nil }
                        for path in paths { path.remove(from: &remaining) }
                        return remaining
                    }
                }
            case .clearPayload(let ids):
                for id in ids { updatePayload(id, opNum: opNum) { _ in [:] } }
            case .setPayloadAtKey(let ids, let payload, let key):
                guard let path = try? PayloadPath(key) else { break }
                for id in ids {
                    updatePayload(id, opNum: opNum) { existing in
                        var merged = existing ?? [:]
                        path.merge(payload, into: &merged)
                        return merged
                    }
                }
            case .createFieldIndex(let key, let schemaJSON):
                guard let path = try? PayloadPath(key), let schema = try? PayloadFieldSchema(json: schemaJSON) else { break }
                createFieldIndex(path, schema: schema)
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
                for id in ids {
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
            appliedOpNum = max(appliedOpNum, opNum)
            // Seal here, not when the optimizer gets to it: while it builds a
            // big graph the mutable segment would otherwise keep growing past
            // every size limit.
            guard mutable.vectorBytes >= config.optimizers.indexingThresholdKB * 1024 else { return false }
            frozen.append(FrozenSegment(segment: mutable, sealOpNum: appliedOpNum))
            mutable = MutableSegment(config: config)
            return true
        }
        if needsFlush { requestMaintenance() }
    }

    /// Caller holds `lock` exclusively. Tombstones every older copy of `id`
    /// outside the mutable segment.
    private func supersedeOlderCopies(of id: PointID, opNum: UInt64) {
        for segment in frozen where segment.tombstones[id] == nil {
            if let version = segment.segment.version(of: id), version < opNum { segment.tombstones[id] = opNum }
        }
        for segment in immutables {
            if let offset = segment.liveOffset(of: id), segment.reader.version(at: offset) < opNum {
                segment.tombstone(UInt32(offset), opNum: opNum)
            }
        }
    }

    /// Caller holds `lock` exclusively. A payload change to a point outside the
    /// mutable segment copies it in with the new payload (copy-on-write) and
    /// tombstones the old copy.
    private func updatePayload(_ id: PointID, opNum: UInt64, _ change: (Payload?) -> Payload?) {
        if mutable.updatePayload(id, opNum: opNum, change) { return }
        guard let (point, version) = liveCopyOutsideMutable(id), version < opNum else { return }
        var updated = point
        updated.payload = change(point.payload)
        mutable.upsert(updated, opNum: opNum)
        supersedeOlderCopies(of: id, opNum: opNum)
    }

    /// Caller holds `lock` exclusively. Rewrites the live copy of `id` (if
    /// any, and older than `opNum`) with `change` applied, as a new version in
    /// the mutable segment; older copies are tombstoned.
    private func updatePoint(_ id: PointID, opNum: UInt64, _ change: (inout PointStruct) -> Void) {
        let current: (PointStruct, UInt64)? = mutable.point(id).map { ($0.point, $0.version) } ?? liveCopyOutsideMutable(id)
        guard let (point, version) = current, version < opNum else { return }
        var updated = point
        change(&updated)
        mutable.upsert(updated, opNum: opNum)
        supersedeOlderCopies(of: id, opNum: opNum)
    }

    /// Caller holds `lock`. The live copy of `id` in a frozen or immutable segment.
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
                return (PointStruct(id: id, vectors: segment.vectors(at: offset), payload: payload,
                                    sparseVectors: segment.sparseVectors(at: offset)), segment.reader.version(at: offset))
            }
        }
        return nil
    }

    // MARK: - Reads

    func count() -> Int {
        lock.withReadLock {
            mutable.pointCount + frozen.reduce(0) { $0 + $1.liveCount } + immutables.reduce(0) { $0 + $1.liveCount }
        }
    }

    func retrieve(_ ids: [PointID], withPayload: Bool, withVector: Bool) throws -> [Record] {
        try lock.withReadLock {
            try ids.compactMap { id in try recordLocked(id, withPayload: withPayload, withVector: withVector) }
        }
    }

    /// Caller holds `lock`.
    func recordLocked(_ id: PointID, withPayload: Bool, withVector: Bool) throws -> Record? {
        if let record = mutable.retrieve([id], withPayload: withPayload, withVector: withVector).first { return record }
        for segment in frozen.reversed() where segment.tombstones[id] == nil {
            if let record = segment.segment.retrieve([id], withPayload: withPayload, withVector: withVector).first { return record }
        }
        for segment in immutables {
            if let offset = segment.liveOffset(of: id) {
                return try wrapSegmentError(segment) { try segment.record(at: offset, withPayload: withPayload, withVector: withVector) }
            }
        }
        return nil
    }

    func scroll(offset: PointID?, limit: Int, filter: Filter? = nil, withPayload: Bool, withVector: Bool) throws
        -> (records: [Record], next: PointID?)
    {
        try lock.withReadLock {
            let wanted = min(max(limit, 0), Int.max - 1) + 1
            if let filter {
                // Every matching id from every segment, then one page of them.
                let matches = try matchesLocked(filter)
                var candidates = matchingIDsLocked(matches)
                if let offset { candidates.removeAll { $0 < offset } }
                candidates.sort()
                let page = candidates.prefix(max(limit, 0))
                let records = try page.compactMap { try recordLocked($0, withPayload: withPayload, withVector: withVector) }
                return (records, candidates.count > page.count ? candidates[page.count] : nil)
            }
            var candidates: [PointID] = []
            func take(_ sorted: some Sequence<PointID>) {
                var taken = 0
                for id in sorted where offset.map({ id >= $0 }) ?? true {
                    candidates.append(id)
                    taken += 1
                    if taken == wanted { break }
                }
            }
            take(mutable.sortedIDs())
            for segment in frozen { take(segment.segment.sortedIDs().lazy.filter { segment.tombstones[$0] == nil }) }
            for segment in immutables {
                let reader = segment.reader
                var start = 0
                if let offset {
                    var high = reader.pointCount
                    while start < high {
                        let mid = (start + high) / 2
                        if reader.id(at: mid) < offset { start = mid + 1 } else { high = mid }
                    }
                }
                take((start..<reader.pointCount).lazy.filter { segment.tombstones[UInt32($0)] == nil }.map { reader.id(at: $0) })
            }
            candidates.sort()
            let page = candidates.prefix(max(limit, 0))
            let records = try page.compactMap { try recordLocked($0, withPayload: withPayload, withVector: withVector) }
            return (records, candidates.count > page.count ? candidates[page.count] : nil)
        }
    }

    func search(query: [Float], using name: String, limit: Int, params searchParams: SearchParams = SearchParams(),
                filter: Filter? = nil, withPayload: Bool, withVector: Bool) throws -> [ScoredPoint] {
        guard let params = config.vectors[name], limit > 0 else { return [] }
        return try lock.withReadLock {
            enum Source { case mutable, frozen(Int), immutable(Int, Int) }
            let matches = try filter.map { try matchesLocked($0) }
            var candidates: [(hit: SegmentHit, source: Source)] = []
            // indexed_only (Qdrant's meaning): leave out segments that are neither
            // indexed nor small — sealed segments waiting for the optimizer, and
            // a mutable segment past the full-scan threshold.
            let fullScanBytes = config.hnsw(for: name).fullScanThresholdKB * 1024
            let skipUnindexed = searchParams.indexedOnly
            if !skipUnindexed || mutable.vectorBytes < fullScanBytes {
                for hit in mutable.searchHits(query: query, using: name, limit: limit, allowed: matches?.mutable) {
                    candidates.append((hit, .mutable))
                }
            }
            for (index, segment) in frozen.enumerated() where !skipUnindexed {
                for hit in segment.segment.searchHits(query: query, using: name, limit: limit, excluded: segment.tombstones,
                                                      allowed: matches?.frozen[index]) {
                    candidates.append((hit, .frozen(index)))
                }
            }
            for (index, segment) in immutables.enumerated() {
                for hit in segment.searchHits(query: query, using: name, distance: params.distance, limit: limit,
                                              params: searchParams, defaultEf: config.hnsw(for: name).efConstruct,
                                              allowed: matches?.immutables[index], fullScanBytes: fullScanBytes) {
                    let reader = segment.reader
                    candidates.append((SegmentHit(id: reader.id(at: hit.offset), version: reader.version(at: hit.offset), score: hit.score),
                                       .immutable(index, hit.offset)))
                }
            }
            let better: (Float, Float) -> Bool = params.distance.higherIsBetter ? { $0 > $1 } : { $0 < $1 }
            candidates.sort { a, b in
                a.hit.score == b.hit.score ? a.hit.id < b.hit.id : better(a.hit.score, b.hit.score)
            }
            var seen = Set<PointID>()
            var results: [ScoredPoint] = []
            for candidate in candidates where results.count < limit && seen.insert(candidate.hit.id).inserted {
                var point = ScoredPoint(id: candidate.hit.id, version: candidate.hit.version, score: candidate.hit.score)
                if withPayload || withVector {
                    let record: Record?
                    switch candidate.source {
                    case .mutable:
                        record = mutable.retrieve([point.id], withPayload: withPayload, withVector: withVector).first
                    case .frozen(let index):
                        record = frozen[index].segment.retrieve([point.id], withPayload: withPayload, withVector: withVector).first
                    case .immutable(let index, let offset):
                        let segment = immutables[index]
                        record = try wrapSegmentError(segment) { try segment.record(at: offset, withPayload: withPayload, withVector: withVector) }
                    }
                    point.payload = record?.payload
                    point.vectors = record?.vectors
                }
                results.append(point)
            }
            return results
        }
    }

    private func wrapSegmentError<T>(_ segment: ImmutableSegment, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SegmentError {
            throw StrataError(.corruption, "collection `\(name)`: \(error.description)", cause: error)
        }
    }

    /// Checks every checksum of every immutable segment (vector data and payload
    /// blocks included); returns the problems, each naming file and section.
    func verifySegments() -> [String] {
        let segments = lock.withReadLock { immutables }
        return segments.flatMap { $0.reader.verifyAll().map { "\($0)" } }
    }

    /// What `strata inspect` and tests look at.
    struct Statistics: Sendable {
        var mutablePoints: Int
        var frozenSegments: Int
        var immutableSegments: [StorageInfo.Segment]
        var checkpoint: UInt64
        var appliedOpNum: UInt64
        var lastMaintenanceError: String?
    }

    var statistics: Statistics {
        lock.withReadLock {
            Statistics(
                mutablePoints: mutable.pointCount, frozenSegments: frozen.count,
                immutableSegments: immutables.map { segment in
                    let reader = segment.reader
                    return StorageInfo.Segment(
                        id: segment.id, points: reader.pointCount, deleted: segment.tombstones.count, path: reader.path,
                        sections: reader.sectionSizes.map { StorageInfo.Segment.Section(name: $0.name, bytes: $0.bytes) },
                        payloadRawBytes: reader.payloadRawBytes, payloadCompressedBytes: reader.payloadCompressedBytes)
                },
                checkpoint: manifest.checkpoint, appliedOpNum: appliedOpNum, lastMaintenanceError: lastMaintenanceError)
        }
    }
}
