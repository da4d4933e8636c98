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
/// Thread safety: the segment set lives in `state`, reachable only under its
/// lock: reads hold it shared for their whole duration (`read`), applying an
/// operation holds it exclusively. Maintenance does its slow work (writing
/// files) without it and takes it exclusively only to swap segments; one
/// maintenance pass runs at a time (`maintenancePass`).
final class CollectionStore: Sendable {
    let name: String
    let directory: String
    let config: CollectionConfig
    /// Older incarnations of vector names in segments and the WAL (`VectorNameHistory`).
    let vectorHistory: [String: VectorNameHistory]
    let fileSystem: any FileSystem
    /// The clock reads judge expiry by (`TTLConfig`).
    let clock: WallClock
    /// The segment set and what describes it.
    let state: ReadWriteLocked<State>
    /// Held for a whole flush, merge or snapshot cut: one at a time.
    let maintenancePass = Locked(())
    /// When the maintenance thread works, and whether it should stop.
    let schedule = Locked(MaintenanceSchedule())
    /// Writers stalled by the backlog of sealed segments (`+Backlog`).
    let backlog = Locked(Backlog())
    /// The running and recent optimizations (`OptimizationLog.swift`).
    let optimizationLog = Locked(OptimizationLog())

    /// The retained versions (`VersionLog`); changed only under `maintenancePass`.
    let versionLog: Locked<VersionLog>

    /// The LSM tree's state (guarded by `CollectionStore.state`'s lock).
    struct State {
        let config: CollectionConfig
        /// Takes every write.
        var mutable: MutableSegment
        /// Sealed, oldest first, waiting to be written.
        var frozen: [FrozenSegment] = []
        var immutables: [ImmutableSegment] = []
        /// The durable MANIFEST as last published.
        var manifest: Manifest
        /// The payload field indexes, as of `appliedOpNum`.
        var payloadSchema: [PayloadPath: PayloadFieldSchema] = [:]
        var appliedOpNum: UInt64
        var lastMaintenanceError: String?
        /// While a `timed` operation applies: the time expiry is judged at.
        var expiryTime: Date?
    }

    struct MaintenanceSchedule {
        var wakeRequested = false
        var stopping = false
        var stopped = true
        /// The WAL to truncate after a checkpoint (nil before `start`).
        var wal: WriteAheadLog?
        /// While true the maintenance thread does no work.
        var paused = false
    }

    struct Backlog {
        /// Writes stall while sealed segments hold more vector bytes than this
        /// (`DatabaseOptions.maxUnindexedBytes`).
        var limitBytes = Int.max
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    var segmentsDirectory: String { joinPath(directory, "segments") }

    // MARK: - Opening

    /// Loads the manifest and the segments it lists (checking their headers,
    /// footers and metadata checksums), their tombstone files, and removes
    /// leftovers of interrupted flushes and merges (files neither the
    /// manifest nor a retained version names). The WAL is replayed by the
    /// caller through `apply`, skipping operations ≤ `checkpoint`.
    convenience init(
        name: String, directory: String, config: CollectionConfig, vectorHistory: [String: VectorNameHistory] = [:],
        fileSystem: any FileSystem, clock: WallClock = .system
    ) throws {
        let manifestPath = joinPath(directory, Manifest.fileName)
        let manifest: Manifest
        if fileSystem.fileKind(manifestPath) != nil {
            manifest = try Manifest.decode(
                try fileSystem.open(manifestPath, mode: .readOnly).readAll(), path: manifestPath)
        } else {
            manifest = Manifest()
        }
        let segmentsPath = joinPath(directory, "segments")
        if fileSystem.fileKind(segmentsPath) == nil { try fileSystem.createDirectoryDurably(segmentsPath) }
        let versions = try VersionLog.load(directory: directory, fileSystem: fileSystem)
        try self.init(
            manifest: manifest, path: manifestPath, versions: versions, name: name, directory: directory,
            config: config, vectorHistory: vectorHistory, fileSystem: fileSystem, clock: clock)
        let referenced = manifest.files.union(try versions.referencedFiles(path: versionLogPath))
        var removedLeftovers = false
        for file in try fileSystem.listDirectory(segmentsPath) where !referenced.contains(file) {
            try fileSystem.removeFile(joinPath(segmentsPath, file))
            removedLeftovers = true
        }
        if removedLeftovers { try fileSystem.syncDirectory(segmentsPath) }
    }

    /// A read-only store of a retained version: the segments `manifest` names,
    /// with their tombstones as of its checkpoint; expiry judged by `clock`
    /// (the version's time). Never started: no writes, no maintenance.
    convenience init(
        version manifest: Manifest, name: String, directory: String, config: CollectionConfig,
        vectorHistory: [String: VectorNameHistory], fileSystem: any FileSystem, clock: WallClock
    ) throws {
        try self.init(
            manifest: manifest, path: joinPath(directory, VersionLog.fileName), versions: VersionLog(), name: name,
            directory: directory, config: config, vectorHistory: vectorHistory, fileSystem: fileSystem, clock: clock)
    }

    /// A store of the segments `manifest` (read from `path`) names, with
    /// `versions` as its retained versions.
    private init(
        manifest: Manifest, path: String, versions: VersionLog, name: String, directory: String,
        config: CollectionConfig, vectorHistory: [String: VectorNameHistory], fileSystem: any FileSystem,
        clock: WallClock
    ) throws {
        self.clock = clock
        self.name = name
        self.directory = directory
        self.config = config
        self.vectorHistory = vectorHistory
        self.fileSystem = fileSystem
        self.versionLog = Locked(versions)
        let (immutables, payloadSchema) = try Self.loadSegments(
            of: manifest, path: path, directory: directory, config: config, vectorHistory: vectorHistory,
            fileSystem: fileSystem)
        state = ReadWriteLocked(
            State(
                config: config, mutable: MutableSegment(config: config), immutables: immutables, manifest: manifest,
                payloadSchema: payloadSchema, appliedOpNum: manifest.checkpoint))
    }

    /// The segments `manifest` lists, checked against the config, with their
    /// durable tombstones, and its payload schema.
    static func loadSegments(
        of manifest: Manifest, path manifestPath: String, directory: String, config: CollectionConfig,
        vectorHistory: [String: VectorNameHistory], fileSystem: any FileSystem
    ) throws -> ([ImmutableSegment], [PayloadPath: PayloadFieldSchema]) {
        var payloadSchema: [PayloadPath: PayloadFieldSchema] = [:]
        var immutables: [ImmutableSegment] = []
        for entry in manifest.payloadSchema {
            do {
                payloadSchema[try PayloadPath(entry.key)] = try PayloadFieldSchema(json: entry.schema)
            } catch {
                throw StrataError(
                    .corruption,
                    "manifest \(manifestPath) names payload index \"\(entry.key)\" with schema \(entry.schema), which does not parse: \(error)"
                )
            }
        }
        let segmentsPath = joinPath(directory, "segments")
        for entry in manifest.segments {
            let segmentFile = Manifest.segmentFileName(entry.segmentID)
            let reader = try SegmentReader.open(path: joinPath(segmentsPath, segmentFile), fileSystem: fileSystem)
            // config.json has no checksum: a damaged one must not be used to read
            // the segments. Sections of names changed after the segment was
            // written are stale and ignored; every other name must agree.
            let hidden = vectorHistory.hiddenNames(inSegment: entry.segmentID)
            let specs = Dictionary(
                reader.vectorSpecs.map { ($0.name, VectorShape(size: $0.dimension, datatype: $0.datatype)) },
                uniquingKeysWith: { a, _ in a }
            ).filter { !hidden.contains($0.key) }
            let expected = config.vectors.mapValues { VectorShape(size: $0.size, datatype: $0.storedDatatype) }
                .filter { !hidden.contains($0.key) }
            if specs != expected {
                throw StrataError(
                    .corruption,
                    "segment \(reader.path) holds vectors \(specs.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }) but \(joinPath(directory, "config.json")) says \(expected.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }): config.json or the segment is damaged; restore the collection from a snapshot"
                )
            }
            var tombstones: [UInt32: UInt64] = [:]
            if entry.tombstoneGeneration > 0 {
                let tombstoneFile = Manifest.tombstoneFileName(entry.segmentID, generation: entry.tombstoneGeneration)
                for offset in try TombstoneFile.read(
                    joinPath(segmentsPath, tombstoneFile), segmentPointCount: reader.pointCount, fileSystem: fileSystem)
                {
                    // The exact op is not stored; any value ≤ checkpoint says "durable".
                    tombstones[offset] = manifest.checkpoint
                }
            }
            immutables.append(
                try ImmutableSegment(
                    id: entry.segmentID, reader: reader, tombstones: tombstones,
                    persistedGeneration: entry.tombstoneGeneration,
                    config: config, payloadSchema: payloadSchema, hiddenVectors: hidden))
        }
        return (immutables, payloadSchema)
    }

    /// Runs `body` with the state locked exclusively.
    func withStateLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try state.withWriteLock(body)
    }

    func recordMaintenanceError(_ error: any Error) {
        let message = "\(error)"
        withStateLock { $0.lastMaintenanceError = message }
        wakeStalledWriters()
        FileHandle.standardError.write(
            Data("strata: collection `\(name)`: background flush or merge failed, will retry: \(message)\n".utf8))
    }

    func clearMaintenanceError() { withStateLock { $0.lastMaintenanceError = nil } }

    /// The WAL to truncate after a checkpoint (nil before `start`).
    func walForTruncation() -> WriteAheadLog? { schedule.withLock { $0.wal } }

    /// Operations at or below this are already in the segments.
    var checkpoint: UInt64 { state.withReadLock { $0.manifest.checkpoint } }

    /// Starts background maintenance; `wal` is truncated after each checkpoint.
    func start(wal: WriteAheadLog) {
        schedule.withLock {
            $0.wal = wal
            $0.stopping = false
            $0.stopped = false
        }
        let thread = Thread { [self] in self.runMaintenance() }
        thread.name = "strata-optimizer"
        thread.start()
    }

    /// Stops background maintenance, waiting for a running pass to finish.
    func stop() {
        schedule.withLock { $0.stopping = true }
        schedule.broadcast()
        wakeStalledWriters()
        schedule.withLock(whenReady: { $0.stopped }) { _ in }
    }

    /// Pauses background maintenance (RocksDB's `PauseBackgroundWork`): the
    /// maintenance thread finishes the pass it is in and then does nothing
    /// until `continueBackgroundWork`; explicit `flush`/`optimize` calls still
    /// work. For bulk loads that want segments written only at the end, and for
    /// tests that hold segments in a given state. Writes still stall at the
    /// backlog limit while paused.
    func pauseBackgroundWork() { setBackgroundWorkPaused(true) }

    /// Ends `pauseBackgroundWork` and wakes the maintenance thread.
    func continueBackgroundWork() { setBackgroundWorkPaused(false) }

    private func setBackgroundWorkPaused(_ paused: Bool) {
        schedule.withLock {
            $0.paused = paused
            $0.wakeRequested = true
        }
        schedule.broadcast()
    }

    // MARK: - Applying operations

    /// Applies one logged operation. Called in op-number order, by the WAL
    /// thread once the operation is durable, or by replay at open.
    func apply(_ operation: WriteOperation, opNum: UInt64) {
        let needsFlush = withStateLock { $0.apply(operation, opNum: opNum) }
        if needsFlush { requestMaintenance() }
    }

    // MARK: - Reads

    /// Runs `body` over one consistent view of the segment set, holding the
    /// state lock shared for the whole closure (see `CollectionReadView`).
    /// `body` must not take the lock again or let the view escape. With a
    /// `ttl` config the view hides the points expired when the read starts,
    /// unless `includingExpired`.
    func read<T>(includingExpired: Bool = false, _ body: (CollectionReadView) throws -> T) rethrows -> T {
        let hidden = includingExpired ? nil : config.ttl?.expired(at: clock.now)
        return try state.withReadLock { state in
            let segments: [any ReadableSegment] = [state.mutable] + state.frozen + state.immutables
            return try body(
                CollectionReadView(
                    name: name, config: config, segments: segments,
                    context: SegmentReadContext(payloadSchema: state.payloadSchema), hidden: hidden))
        }
    }

    /// Live points (visible ones: not expired). With a `ttl` config this reads
    /// payloads; if a payload block fails its checksum the expired points are
    /// counted too (`count(filter:exact:)` and `verify` report the damage).
    func count() -> Int { read { view in (try? view.count()) ?? view.storedCount } }

    func retrieve(_ ids: [PointID], withPayload: Bool, withVector: Bool) throws -> [Record] {
        try read { try $0.retrieve(ids, withPayload: withPayload, withVector: withVector) }
    }

    func scroll(
        offset: PointID?, limit: Int, filter: Filter? = nil, withPayload: Bool, withVector: Bool
    ) throws
        -> (records: [Record], next: PointID?)
    {
        try read {
            try $0.scroll(
                offset: offset, limit: limit, filter: filter, withPayload: withPayload, withVector: withVector)
        }
    }

    /// The best `limit` points for the prepared `query`, with payload and
    /// vectors attached in the same read.
    func search(
        query: [Float], using name: String, limit: Int, params: SearchParams = SearchParams(),
        filter: Filter? = nil, withPayload: Bool, withVector: Bool
    ) throws -> [ScoredPoint] {
        try read { view in
            let hits = try view.search(query: query, using: name, limit: limit, params: params, filter: filter)
            return try view.attach(hits, withPayload: withPayload, withVector: withVector)
        }
    }

    /// Checks every checksum of every immutable segment (vector data and payload
    /// blocks included); returns how many segments it read and the problems,
    /// each naming file and section.
    func verifySegments() -> (segments: Int, problems: [String]) {
        let segments = state.withReadLock { $0.immutables }
        return (segments.count, segments.flatMap { $0.reader.verifyAll().map { "\($0)" } })
    }

    /// What `strata inspect` and tests look at.
    struct Statistics: Sendable {
        var mutablePoints: Int
        var frozenSegments: Int
        var immutableSegments: [StorageInfo.Segment]
        var checkpoint: UInt64
        var appliedOpNum: UInt64
        var lastMaintenanceError: String?
        /// While a `timed` operation applies: the time expiry is judged at.
        var expiryTime: Date?
    }

    var statistics: Statistics {
        state.withReadLock { state in
            Statistics(
                mutablePoints: state.mutable.pointCount, frozenSegments: state.frozen.count,
                immutableSegments: state.immutables.map { segment in
                    let reader = segment.reader
                    return StorageInfo.Segment(
                        id: segment.id, points: reader.pointCount, deleted: segment.tombstones.count, path: reader.path,
                        sections: reader.sectionSizes.map {
                            StorageInfo.Segment.Section(name: $0.name, bytes: $0.bytes)
                        }, fileBytes: reader.fileBytes,
                        payloadRawBytes: reader.payloadRawBytes, payloadCompressedBytes: reader.payloadCompressedBytes,
                        holdsPayloads: reader.holdsPayloads)
                },
                checkpoint: state.manifest.checkpoint, appliedOpNum: state.appliedOpNum,
                lastMaintenanceError: state.lastMaintenanceError)
        }
    }

    /// Estimated bytes of the collection's vectors (each in its datatype;
    /// sparse entries 8 bytes) and payloads (binary JSON, uncompressed) over
    /// its live points: immutable segments count their sections scaled by
    /// their live fraction, the mutable and frozen segments what they hold.
    var estimatedDataBytes: (vectors: Int, payloads: Int) {
        state.withReadLock { state in
            var vectors = 0
            var payloads = 0
            for segment in [state.mutable] + state.frozen.map(\.segment) {
                vectors += segment.vectorBytes
                payloads += segment.payloadBytes
            }
            for segment in state.immutables {
                let reader = segment.reader
                guard reader.pointCount > 0 else { continue }
                let live = Double(reader.pointCount - segment.tombstones.count) / Double(reader.pointCount)
                // Sections of removed (hidden) vector names no longer count.
                let hidden = Set(
                    segment.hiddenVectors.flatMap {
                        ["vectors[\($0)].data", "multivector[\($0)].data", "sparse[\($0)].vectors"]
                    })
                let vectorSections = reader.sectionSizes.reduce(0) { total, section in
                    guard !hidden.contains(section.name) else { return total }
                    let isVectorData =
                        section.name.hasPrefix("vectors[") && section.name.hasSuffix("].data")
                        || section.name.hasPrefix("multivector[") && section.name.hasSuffix("].data")
                        || section.name.hasPrefix("sparse[") && section.name.hasSuffix("].vectors")
                    return isVectorData ? total + section.bytes : total
                }
                vectors += Int(Double(vectorSections) * live)
                payloads += Int(Double(reader.payloadRawBytes) * live)
            }
            return (vectors, payloads)
        }
    }
}

/// A vector's dimension and stored datatype, as a segment and config.json must agree on them.
struct VectorShape: Equatable, CustomStringConvertible {
    var size: Int
    var datatype: VectorDatatype
    var description: String { datatype == .float32 ? "\(size)" : "\(size) \(datatype.rawValue)" }
}
