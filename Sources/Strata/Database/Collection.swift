import Foundation
import StrataIO
import StrataVectorMath
import StrataWAL

/// A named set of points with a fixed vector configuration.
///
/// Get one from `Database.createCollection(_:config:)` or
/// `Database.collection(_:)`:
///
/// ```swift
/// let notes = try db.collection("notes")
/// try await notes.upsert([PointStruct(id: 1, vector: [0.1, 0.2, 0.3, 0.4], payload: ["tag": "a"])])
/// let hits = try notes.search([0.1, 0.2, 0.3, 0.4], limit: 3)
/// let (records, nextOffset) = try notes.scroll(limit: 100)
/// ```
///
/// Writes go to the collection's write-ahead log first and are applied to its
/// in-memory mutable segment once durable (in op-number order); a write that
/// returns is acknowledged: it survives `kill -9` and, with `.durable`
/// (default), power loss. A write that throws changed nothing that will be
/// visible, now or after recovery — except after a `.failed` error, when the
/// outcome of in-flight writes is unknown (see docs/durability.md).
///
/// Thread-safe; reads see every acknowledged write.
public final class Collection: Sendable {
    public let name: String
    /// The configuration this handle was opened with.
    ///
    /// Fixed for the handle's lifetime: a change of settings or of vector
    /// names (`Database.updateCollectionConfig`, `createVectorName`,
    /// `deleteVectorName`) reopens the collection as a new handle, which
    /// `Database.collection(_:)` returns; this one keeps the old value.
    public let config: CollectionConfig
    let directory: String
    let wal: WriteAheadLog
    let store: CollectionStore
    /// Older incarnations of vector names still on disk (config.json version 2).
    let vectorHistory: [String: VectorNameHistory]
    /// Set when a schema change closes this handle (Database+VectorNames.swift):
    /// writes refused because of the close are forwarded to the reopened one.
    let replacement = CollectionReplacement()
    /// The cluster's hook on writes (ReplicationHook.swift).
    let replication: ReplicationHookSlot
    /// The clock expiry is judged by (`DatabaseOptions.clock`).
    let clock: WallClock
    /// The background deletion of expired points (`Collection+Expiry.swift`).
    let expirySweeper = Locked<Task<Void, Never>?>(nil)
    /// Set when `Database.deleteCollection` deleted this collection: every
    /// later read or write of this handle throws `.notFound`, as the name
    /// itself would.
    let deleted = Locked(false)
    /// Set on a read-only view of a retained version (`at(_:)`): writes are refused.
    public let version: CollectionVersionInfo?
    /// Version views opened by `at(_:)`, by version number.
    let versionViews = Locked<[UInt64: Collection]>([:])

    static let configFileName = "config.json"
    static let walDirectoryName = "wal"

    private init(
        name: String, config: CollectionConfig, directory: String, wal: WriteAheadLog, store: CollectionStore,
        vectorHistory: [String: VectorNameHistory], replication: ReplicationHookSlot, clock: WallClock,
        version: CollectionVersionInfo? = nil
    ) {
        self.replication = replication
        self.clock = clock
        self.version = version
        self.vectorHistory = vectorHistory
        self.name = name
        self.config = config
        self.directory = directory
        self.wal = wal
        self.store = store
    }

    /// What recovery found in the WAL when this collection was opened.
    public var recoveryReport: WALRecoveryReport { wal.recoveryReport }

    /// WAL counters (records, group commits, syncs).
    public var walStatistics: WALStatistics { wal.stats }

    /// The WAL's files on disk now, oldest first: name, first op number and
    /// size. Blocking (a directory listing and one open per file).
    public var walFiles: [WALFileInfo] { wal.files() }

    /// Seals the mutable segment, writes it as an immutable segment, publishes
    /// the manifest and truncates the WAL, now (the optimizer also does this in
    /// the background). Blocking: call it off the cooperative pool for big
    /// collections.
    public func flush() throws {
        do { try store.flush() } catch { throw StrataError.wrapping(error, context: "flushing collection `\(name)`") }
    }

    /// Flushes, then merges and vacuums segments until the optimizer config is
    /// met. Blocking.
    public func optimize() throws {
        do { try store.optimize() } catch {
            throw StrataError.wrapping(error, context: "optimizing collection `\(name)`")
        }
    }

    /// Reads every byte of every immutable segment and checks every checksum
    /// (opening already checked headers, metadata, the manifest and the whole
    /// WAL). Returns the problems found, each naming the file and section.
    public func verify() -> [String] { store.verifySegments().problems }

    /// `verify()`, with the number of segments it read (the ones published
    /// when it started; a merge meanwhile does not change what it reads).
    public func verifyReport() -> SegmentsVerification {
        let (segments, problems) = store.verifySegments()
        return SegmentsVerification(segments: segments, problems: problems)
    }

    /// Estimated bytes of the live points' vectors (each in its datatype) and
    /// payloads (binary JSON before compression), as strict mode's
    /// `max_collection_vector_size_bytes` / `max_collection_payload_size_bytes`
    /// compare them. O(points in RAM) plus O(segments).
    public var estimatedDataBytes: (vectors: Int, payloads: Int) { store.estimatedDataBytes }

    /// The shape of the collection's storage right now.
    public var storageInfo: StorageInfo {
        let stats = store.statistics
        return StorageInfo(
            mutablePoints: stats.mutablePoints, frozenSegments: stats.frozenSegments,
            segments: stats.immutableSegments,
            checkpoint: stats.checkpoint, lastOperation: stats.appliedOpNum, walFiles: wal.fileCount,
            backgroundError: stats.lastMaintenanceError)
    }

    // MARK: - Opening

    /// The contents of config.json (docs/format/data-directory.md).
    struct StoredConfig: Codable {
        var formatVersion: Int
        var config: CollectionConfig
        /// Version 2 only: vector names added or removed after creation.
        var vectorHistory: [String: VectorNameHistory]?

        /// The newest version this build reads and writes.
        static let currentVersion = 5

        /// Version 1 while no vector name was ever added or removed, so those
        /// files stay byte-identical and readable by older builds; version 2
        /// (which older builds refuse, rather than serve stale vectors) after;
        /// version 3 once the config holds collection metadata or strict mode, which builds
        /// reading only versions 1–2 would drop on their next rewrite; version 4
        /// once a vector has a compact `datatype`, which older builds would
        /// ignore and then misread every vector as `float32`; version 5 once
        /// points expire (`ttl`), which older builds would ignore.
        init(config: CollectionConfig, vectorHistory: [String: VectorNameHistory]) {
            self.formatVersion =
                config.needsFormatVersion5
                ? 5
                : config.needsFormatVersion4 ? 4 : config.needsFormatVersion3 ? 3 : vectorHistory.isEmpty ? 1 : 2
            self.config = config
            self.vectorHistory = vectorHistory.isEmpty ? nil : vectorHistory
        }

        func encoded() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return Array(try encoder.encode(self))
        }
    }

    static func writeConfig(_ config: CollectionConfig, directory: String, fileSystem: any FileSystem) throws {
        let data = try StoredConfig(config: config, vectorHistory: [:]).encoded()
        let file = try fileSystem.open(joinPath(directory, configFileName), mode: .createNew)
        try file.write(at: 0, data)
        try file.sync()
        try fileSystem.syncDirectory(directory)
    }

    /// Reads and checks `config.json` in `directory`: the config and the
    /// history of vector names added or removed (version 2). Throws
    /// `.corruption` naming the file when it does not decode, does not
    /// validate or has an unknown format version; the file system's error
    /// when it cannot be read.
    static func readConfig(
        directory: String, fileSystem: any FileSystem
    ) throws
        -> (config: CollectionConfig, history: [String: VectorNameHistory])
    {
        let configPath = joinPath(directory, configFileName)
        let bytes = try fileSystem.open(configPath, mode: .readOnly).readAll()
        let stored: StoredConfig
        do {
            stored = try JSONDecoder().decode(StoredConfig.self, from: Data(bytes))
            try stored.config.validate()
        } catch {
            throw StrataError(
                .corruption, "\(configPath) is not a valid collection config (\(error)); restore it from a snapshot")
        }
        guard (1...StoredConfig.currentVersion).contains(stored.formatVersion) else {
            throw StrataError(
                .corruption,
                "\(configPath) has format version \(stored.formatVersion); this build reads versions 1 to \(StoredConfig.currentVersion)"
            )
        }
        guard stored.formatVersion >= 5 || !stored.config.needsFormatVersion5 else {
            throw StrataError(
                .corruption,
                "\(configPath) has format version \(stored.formatVersion) but a ttl config, which needs version 5: the file is damaged; restore it from a snapshot"
            )
        }
        guard stored.formatVersion >= 4 || !stored.config.needsFormatVersion4 else {
            throw StrataError(
                .corruption,
                "\(configPath) has format version \(stored.formatVersion) but a vector datatype other than float32, which needs version 4: the file is damaged; restore it from a snapshot"
            )
        }
        guard stored.formatVersion >= 3 || !stored.config.needsFormatVersion3 else {
            throw StrataError(
                .corruption,
                "\(configPath) has format version \(stored.formatVersion) but collection metadata or strict mode, which needs version 3: the file is damaged; restore it from a snapshot"
            )
        }
        guard stored.formatVersion >= 2 || stored.vectorHistory == nil else {
            throw StrataError(
                .corruption,
                "\(configPath) has format version 1 but a vectorHistory, which needs version 2: the file is damaged; restore it from a snapshot"
            )
        }
        return (stored.config, stored.vectorHistory ?? [:])
    }

    /// Replay of one logged operation, at open (and in `verifyFiles`):
    /// operations up to the store's checkpoint are skipped (they are already
    /// in the segments); the others are decoded, stripped of vectors of names
    /// removed (or removed and added again) after they were logged, checked
    /// against the config and applied. Throws `.corruption` naming the
    /// operation and the WAL directory when a record passed its checksum but
    /// is not a valid operation.
    static func replay(
        _ opNum: UInt64, _ payload: UnsafeRawBufferPointer, checkpoint: UInt64, name: String,
        directory: String, config: CollectionConfig, history: [String: VectorNameHistory],
        into store: CollectionStore
    ) throws {
        guard opNum > checkpoint else { return }
        let walDirectory = joinPath(directory, walDirectoryName)
        var operation: WriteOperation
        do {
            operation = try WriteOperation.decode(payload)
        } catch {
            throw StrataError(
                .corruption,
                "operation \(opNum) in the WAL of collection `\(name)` (\(walDirectory)) passed its checksum but does not decode: \(error)"
            )
        }
        operation = operation.removingVectors(named: history.staleNames(inOperation: opNum))
        if let mismatch = operation.vectorMismatch(config) {
            throw StrataError(
                .corruption,
                "operation \(opNum) in the WAL of collection `\(name)` (\(walDirectory)) \(mismatch): \(joinPath(directory, configFileName)) or the WAL is damaged; restore the collection from a snapshot"
            )
        }
        store.apply(operation, opNum: opNum)
    }

    static func open(
        name: String, directory: String, fileSystem: any FileSystem, options: DatabaseOptions,
        walTotals: WALTotals? = nil
    ) throws -> Collection {
        let (config, history) = try readConfig(directory: directory, fileSystem: fileSystem)
        let store = try CollectionStore(
            name: name, directory: directory, config: config, vectorHistory: history, fileSystem: fileSystem,
            clock: options.clock)
        let checkpoint = store.checkpoint
        let walOptions = WALOptions(
            durability: options.durability.walDurability, maxFileSize: options.walFileSize,
            recentRecordsBytes: options.walRecentRecordsBytes)
        let walDirectory = joinPath(directory, walDirectoryName)
        let wal = try WriteAheadLog.open(
            fileSystem: fileSystem, directory: walDirectory, options: walOptions, totals: walTotals
        ) {
            opNum, payload in
            try replay(
                opNum, payload, checkpoint: checkpoint, name: name, directory: directory, config: config,
                history: history,
                into: store)
        }
        // Operations after the checkpoint must all still be in the log. (A
        // checkpoint of UInt64.max has no operation after it: no `+ 1`, which
        // would trap; the check below then refuses any shorter log.)
        guard checkpoint == .max || wal.recoveryReport.firstOpNum <= checkpoint + 1 else {
            wal.close()
            throw StrataError(
                .corruption,
                "the WAL of collection `\(name)` starts at operation \(wal.recoveryReport.firstOpNum) but its manifest's checkpoint is \(checkpoint): the WAL files with operations \(checkpoint + 1)…\(wal.recoveryReport.firstOpNum - 1) are missing from \(walDirectory)"
            )
        }
        guard wal.lastOpNum >= checkpoint else {
            wal.close()
            throw StrataError(
                .corruption,
                "the WAL of collection `\(name)` ends at operation \(wal.lastOpNum) but its manifest's checkpoint is \(checkpoint): WAL files are missing"
            )
        }
        store.backlog.withLock { $0.limitBytes = max(options.maxUnindexedBytes, 1) }
        store.start(wal: wal)
        let collection = Collection(
            name: name, config: config, directory: directory, wal: wal, store: store, vectorHistory: history,
            replication: options.replication, clock: options.clock)
        if config.ttl != nil, let interval = options.expirySweepInterval {
            collection.startExpirySweeper(every: interval)
        }
        return collection
    }

    /// Throws `.notFound` once the collection has been deleted.
    func checkNotDeleted() throws {
        if deleted.withLock({ $0 }) {
            throw StrataError(.notFound, "Collection `\(name)` doesn't exist! (it was deleted)")
        }
    }

    func close() {
        // A version view shares the live collection's WAL and has no maintenance.
        guard version == nil else { return }
        expirySweeper.withLock { $0?.cancel() }
        versionViews.withLock { $0 = [:] }
        store.stop()
        wal.close()
    }

    /// A read-only view of this collection as it was at a retained version.
    func versionView(_ info: CollectionVersionInfo, store: CollectionStore) -> Collection {
        Collection(
            name: name, config: config, directory: directory, wal: wal, store: store, vectorHistory: vectorHistory,
            replication: ReplicationHookSlot(), clock: store.clock, version: info)
    }

    // MARK: - Writes

    /// Inserts or replaces whole points. Within one call a repeated id keeps its
    /// last occurrence. Throws `.invalidArgument` (nothing changed) for an
    /// unknown vector name, a wrong dimension, NaN or infinite values, or a
    /// zero vector under Cosine.
    ///
    /// For example:
    ///
    /// ```swift
    /// let result = try await notes.upsert([
    ///     PointStruct(id: 1, vector: [0.1, 0.2, 0.3, 0.4], payload: ["tag": "a"]),
    ///     PointStruct(id: 2, vector: [0.4, 0.3, 0.2, 0.1]),
    /// ])
    /// print(result.operationID)  // the op number the write was logged under
    /// ```
    ///
    /// Returns once the write is acknowledged (durable, in `.durable` mode);
    /// every read after that sees it. A point that existed loses the vectors
    /// and payload the new one does not give.
    @discardableResult
    public func upsert(_ points: [PointStruct]) async throws -> UpdateResult {
        try await log(.upsert(try validate(points)))
    }

    /// Deletes points by id; ids that do not exist are ignored.
    @discardableResult
    public func delete(_ ids: [PointID]) async throws -> UpdateResult {
        try await log(.delete(ids))
    }

    /// Merges `payload`'s keys into the payload of each existing point in `ids`.
    @discardableResult
    public func setPayload(_ payload: Payload, for ids: [PointID]) async throws -> UpdateResult {
        try validate(payload)
        return try await log(.setPayload(ids: ids, payload: payload))
    }

    /// Replaces the payload of each existing point in `ids`.
    @discardableResult
    public func overwritePayload(_ payload: Payload, for ids: [PointID]) async throws -> UpdateResult {
        try validate(payload)
        return try await log(.overwritePayload(ids: ids, payload: payload))
    }

    /// Removes the fields at `keys` (payload paths: `a.b`, `a[].c`) from the
    /// payload of each existing point in `ids`.
    @discardableResult
    public func deletePayloadKeys(_ keys: [String], for ids: [PointID]) async throws -> UpdateResult {
        for key in keys { _ = try Self.path(key) }
        return try await log(.deletePayloadKeys(ids: ids, keys: keys))
    }

    /// Removes the whole payload of each existing point in `ids`.
    @discardableResult
    public func clearPayload(for ids: [PointID]) async throws -> UpdateResult {
        try await log(.clearPayload(ids: ids))
    }

    /// Replaces the given named vectors of existing points, keeping their
    /// other vectors and payload (copy-on-write for flushed points). Throws
    /// `.notFound` (nothing changed) when a point does not exist, and
    /// `.invalidArgument` as `upsert` does for bad vectors.
    @discardableResult
    public func updateVectors(_ points: [PointVectors]) async throws -> UpdateResult {
        let prepared = try prepareVectorUpdates(points)
        try requireExisting(prepared.map(\.id))
        return try await log(.updateVectors(prepared))
    }

    /// `points` validated, and normalised under Cosine, as they are logged.
    func prepareVectorUpdates(_ points: [PointVectors]) throws -> [PointVectors] {
        var prepared: [PointVectors] = []
        for point in points {
            var vectors: [String: [Float]] = [:]
            for (vectorName, vector) in point.vectors {
                guard let params = config.vectors[vectorName] else {
                    throw StrataError.invalid(
                        "point \(point.id): Not existing vector name error: \(vectorName.isEmpty ? "(unnamed)" : vectorName); collection `\(name)` has \(config.vectors.keys.sorted())"
                    )
                }
                vectors[vectorName] = try prepare(vector, name: vectorName, params: params, what: "point \(point.id)")
            }
            prepared.append(
                PointVectors(
                    id: point.id, vectors: vectors,
                    sparseVectors: try prepareSparse(point.sparseVectors, what: "point \(point.id)")))
        }
        return prepared
    }

    /// Removes the named vectors `names` from existing points. Throws
    /// `.notFound` when a point does not exist, `.invalidArgument` for an
    /// unknown vector name (nothing changed either way).
    @discardableResult
    public func deleteVectors(_ names: [String], for ids: [PointID]) async throws -> UpdateResult {
        for vectorName in names where config.vectors[vectorName] == nil && config.sparseVectors[vectorName] == nil {
            throw StrataError.invalid(
                "collection `\(name)` has no vector named \"\(vectorName)\"; it has \(config.vectors.keys.sorted())")
        }
        try requireExisting(ids)
        return try await log(.deleteVectors(ids: ids, names: names))
    }

    func requireExisting(_ ids: [PointID]) throws {
        let found = Set(try retrieve(ids, withPayload: false).map(\.id))
        if let missing = ids.first(where: { !found.contains($0) }) {
            throw StrataError(.notFound, "No point with id \(missing) found")
        }
    }

    /// Logs `operation` and applies it once durable. In a collection with a
    /// `ttl` config it gets the default expiry and is logged `timed` (its
    /// decisions judge expiry at this moment), unless `judgingExpiry` is false
    /// (the deletion of expired points).
    func log(
        _ operation: WriteOperation, judgingExpiry: Bool = true, defaultingExpiry: Bool = true
    ) async throws -> UpdateResult {
        if let version {
            throw StrataError.invalid(
                "collection `\(name)` at version \(version.number) is read-only; write to the collection itself")
        }
        let operation = timed(
            defaultingExpiry ? withDefaultExpiry(operation) : operation, judgingExpiry: judgingExpiry)
        let store = self.store
        let hook = replication.current
        let authorization = try hook?.authorizeWrite(collection: name)
        await store.waitWhileBacklogged()
        let failure: StrataError
        do {
            let opNum = try await wal.append(operation.encoded()) { opNum in
                store.apply(operation, opNum: opNum)
            }
            if let hook, let authorization {
                try await hook.replicate(collection: name, through: opNum, authorization: authorization)
            }
            return UpdateResult(operationID: opNum)
        } catch let error as StrataError where error.code == .unavailable {
            throw error
        } catch {
            failure = StrataError.wrapping(error, context: "write to collection `\(name)`")
        }
        if failure.code == .closed { try checkNotDeleted() }
        // Refused because a schema change closed this handle (the WAL took
        // nothing): the write lands after the change, on the reopened
        // collection, if the vectors it names are unchanged there.
        guard failure.code == .closed, let successor = await replacement.successor() else { throw failure }
        for vectorName in operation.vectorNames {
            let sameDense = config.vectors[vectorName].map { old in
                successor.config.vectors[vectorName].map {
                    $0.size == old.size && $0.distance == old.distance && $0.multivectorConfig == old.multivectorConfig
                } ?? false
            }
            let sameSparse = config.sparseVectors[vectorName].map { _ in
                successor.config.sparseVectors[vectorName] != nil
            }
            guard sameDense ?? sameSparse ?? false else {
                throw StrataError.invalid(
                    "collection `\(name)`: vector \"\(vectorName)\" was removed or redefined while this write was in flight; nothing was written"
                )
            }
        }
        return try await successor.log(operation, judgingExpiry: judgingExpiry, defaultingExpiry: false)
    }

    private func timed(_ operation: WriteOperation, judgingExpiry: Bool) -> WriteOperation {
        guard judgingExpiry, config.ttl != nil else { return operation }
        if case .timed = operation { return operation }
        return .timed(clock.now, operation)
    }

    // MARK: - Reads

    /// Number of points.
    public func count() -> Int { store.count() }

    /// Number of points matching `filter` (all without one). `exact: false`
    /// estimates immutable segments from index value counts.
    public func count(filter: Filter?, exact: Bool = true) throws -> Int {
        try checkNotDeleted()
        return try store.count(filter: filter, exact: exact)
    }

    /// The IDF statistics of sparse vector `name` for `terms`: how many live
    /// points (matching `corpus`, all without one) have the vector, and per
    /// term how many of them hold it. A cluster node sums these over the
    /// shards of a collection (`IDFScope.given`). Throws `.invalidArgument`
    /// for an unknown sparse vector.
    public func sparseStatistics(
        _ name: String, terms: [UInt32], corpus: Filter? = nil
    ) throws -> (points: Int, documentFrequencies: [UInt32: Int]) {
        guard config.sparseVectors[name] != nil else {
            throw StrataError.invalid(
                "Not existing vector name error: \(name) is not a sparse vector of `\(self.name)`")
        }
        let sorted = Array(Set(terms)).sorted()
        let statistics = try store.read { try $0.sparseStatistics(name, terms: sorted, corpus: corpus) }
        return (statistics.points, Dictionary(uniqueKeysWithValues: zip(sorted, statistics.documentFrequencies)))
    }

    /// The points with these ids that exist, in the order asked. Throws
    /// `.corruption` naming the file if a needed segment block fails its checksum.
    public func retrieve(_ ids: [PointID], withPayload: Bool = true, withVector: Bool = false) throws -> [Record] {
        try checkNotDeleted()
        return try store.retrieve(ids, withPayload: withPayload, withVector: withVector)
    }

    /// Points in id order, starting at `offset` (inclusive), at most `limit`,
    /// plus the id to pass as `offset` for the next page (nil at the end).
    ///
    /// For example, every point, page by page:
    ///
    /// ```swift
    /// var offset: PointID? = nil
    /// repeat {
    ///     let page = try notes.scroll(offset: offset, limit: 100, withPayload: true)
    ///     for record in page.points { print(record.id, record.payload ?? [:]) }
    ///     offset = page.nextOffset
    /// } while offset != nil
    /// ```
    ///
    /// Each call reads the collection as it is then: a point written between
    /// two calls appears in later pages if its id lies at or after their
    /// `offset`. Throws `.invalidArgument` for a negative `limit`, `.notFound`
    /// once the collection was deleted.
    public func scroll(
        offset: PointID? = nil, limit: Int = 10, filter: Filter? = nil, withPayload: Bool = true,
        withVector: Bool = false
    ) throws
        -> (points: [Record], nextOffset: PointID?)
    {
        try checkNotDeleted()
        try QueryValidation.checkLimit(limit)
        let page = try store.scroll(
            offset: offset, limit: limit, filter: filter?.isEmpty == true ? nil : filter,
            withPayload: withPayload, withVector: withVector)
        return (page.records, page.next)
    }

    /// The `limit` nearest points to `vector` under vector `using`'s distance,
    /// best first (for a multivector, `vector` is the query's rows back to back
    /// and points are scored by max_sim). Indexed segments are searched through their HNSW graph
    /// (`params.hnswEf`, quantization and rescoring per `params`), the others
    /// by exact scan; `params.exact` scans everything. Hits scoring worse than
    /// `scoreThreshold` are left out. Throws `.invalidArgument` for an unknown
    /// vector name, a wrong dimension, non-finite values or bad params.
    ///
    /// For example:
    ///
    /// ```swift
    /// let hits = try notes.search([0.1, 0.2, 0.3, 0.4], limit: 3, withPayload: true)
    /// for hit in hits { print(hit.id, hit.score, hit.payload ?? [:]) }
    ///
    /// // Only points whose payload has "tag": "a".
    /// let tagged = try notes.search(
    ///     [0.1, 0.2, 0.3, 0.4], limit: 3,
    ///     filter: try Filter(json: ["must": [["key": "tag", "match": ["value": "a"]]]]))
    /// ```
    ///
    /// Scores are Qdrant's: similarity for Cosine and Dot (higher is better),
    /// distance for Euclid and Manhattan (lower is better).
    public func search(
        _ vector: [Float], using: String = CollectionConfig.defaultVectorName, limit: Int = 10,
        params searchParams: SearchParams = SearchParams(), filter: Filter? = nil, scoreThreshold: Float? = nil,
        withPayload: Bool = false, withVector: Bool = false
    ) throws -> [ScoredPoint] {
        try checkNotDeleted()
        guard let params = config.vectors[using] else {
            throw StrataError.invalid(
                "collection `\(name)` has no vector named \"\(using)\"; it has \(config.vectors.keys.sorted())")
        }
        try QueryValidation.checkLimit(limit)
        try QueryValidation.check(searchParams)
        try QueryValidation.checkScoreThreshold(scoreThreshold)
        let query = try prepare(vector, name: using, params: params, what: "query vector")
        var hits = try store.search(
            query: query, using: using, limit: limit, params: searchParams,
            filter: filter?.isEmpty == true ? nil : filter, withPayload: withPayload, withVector: withVector)
        if let scoreThreshold {
            hits.removeAll {
                !QueryExecutor.passes($0.score, scoreThreshold, higherIsBetter: params.distance.higherIsBetter)
            }
        }
        return hits
    }
}

extension Durability {
    var walDurability: WALDurability {
        switch self {
        case .durable: return .durable
        case .periodic(let ms): return .periodic(intervalMilliseconds: ms)
        }
    }
}
