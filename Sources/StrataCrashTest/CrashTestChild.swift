import Foundation
import Strata
import StrataIO

/// How the crash-test child runs.
public struct CrashChildSettings: Sendable {
    public var writers: Int
    public var durability: Durability = .durable
    public var workload: CrashWorkload.Kind = .basic
    /// Each writer stops after this many operations (nil: until killed or
    /// until an operation fails). Used by the power-loss sweep, which needs a
    /// workload of bounded length.
    public var operationsPerWriter: Int? = nil
    /// Run maintenance (flush, merge, snapshot, restore, reopen) from writer 0
    /// every few operations instead of a thread of its own, so that one
    /// writer gives the same sequence of file-system operations every run.
    public var inlineMaintenance = false

    public init(writers: Int, workload: CrashWorkload.Kind = .basic) {
        self.writers = writers
        self.workload = workload
    }
}

/// The process the crash test kills (or, in the power-loss mode, the task the
/// simulated power cut stops): it opens the store and runs random operations
/// from several concurrent writers, reporting every one on the event sink, one
/// line per event:
///
///     I <w> <seq> U <id>:<token> …      intent: upsert these points
///     I <w> <seq> V <id>:<token> …      intent: replace the vectors of these points
///     I <w> <seq> D <id> …              intent: delete these ids
///     I <w> <seq> F <tag>               intent: delete by filter w == <w> and tag == <tag>
///     I <w> <seq> P <ptoken> <id> …     intent: set payload {"p": ptoken} on these ids
///     I <w> <seq> Q <ptoken> <tag>      intent: set payload {"p": ptoken} by filter w == <w> and tag == <tag>
///     I <w> <seq> O <otoken> <id> …     intent: overwrite the payload with CrashWorkload.overwritePayload(otoken)
///     I <w> <seq> K <key> <id> …        intent: delete payload key <key>
///     I <w> <seq> C <id> …              intent: clear the payload
///     I <w> <seq> X <create|drop> <key> intent: create or drop a field index
///     I <w> <seq> N <mode> <cond> <id>:<token> …
///                                       intent: upsert these points with update mode
///                                       <mode> (upsert, insert_only, update_only) and, unless
///                                       <cond> is `none`, the filter of CrashWorkload.WriteCondition <cond>
///     I <w> <seq> G <cond> <id>:<token> …
///                                       intent: replace the vectors of these points where they
///                                       match the filter of CrashWorkload.WriteCondition <cond>
///     I <w> <seq> B <intent> | <intent> …
///                                       intent: these writes (each as above, without
///                                       the I <w> <seq> prefix) as one atomic batch
///     I <w> <seq> S                     intent: delete the expired points (ack op 0: none)
///     A <w> <seq> <op_num>              acknowledged
///     E <w> <seq> <message>             failed (not acknowledged)
///     M <action>                        maintenance (flush, optimize, reopen…) starting
///     S / R / RA …                      snapshots and restores (`runSnapshotRound`)
///     K <kill point> <hit> <path>       an armed kill point was reached: SIGKILL follows
///     READY                             recovery finished
///
/// Writer `w` only touches ids in its partition (`id % writers == w`) and
/// issues one operation at a time. An intent line is emitted before the
/// operation starts and its ack only after the store acknowledged it, so the
/// parent knows, for every operation, whether it was acknowledged or in flight.
public enum CrashTestChild {
    public static func run(
        directory: String, seed: UInt64, cycle: UInt32, settings: CrashChildSettings,
        fileSystem: any FileSystem = POSIXFileSystem(),
        sink: any CrashEventSink = StandardOutputEventSink()
    ) async throws {
        // Small WAL files under the LSM workloads, so rotation and truncation happen every few seconds.
        let walFileSize = [.optimizer: 64 << 10, .mixed: 128 << 10][settings.workload] ?? DatabaseOptions().walFileSize
        let options = {
            var options = DatabaseOptions(durability: settings.durability, walFileSize: walFileSize)
            // Expired points are deleted by the writers' `S` operations, which the oracle accounts for.
            options.expirySweepInterval = nil
            return options
        }()
        let db = try Database.open(at: directory, options: options, fileSystem: fileSystem)
        var collection: Collection
        let names = db.collectionNames()
        if !names.contains(CrashWorkload.collectionName) && names.contains(CrashWorkload.renamedCollectionName) {
            // A kill between the two renames of a `M rename` step: rename it back.
            collection = try db.renameCollection(CrashWorkload.renamedCollectionName, to: CrashWorkload.collectionName)
        } else if names.contains(CrashWorkload.collectionName) {
            collection = try db.collection(CrashWorkload.collectionName)
        } else {
            collection = try db.createCollection(
                CrashWorkload.collectionName, config: CrashWorkload.collectionConfig(for: settings.workload))
        }
        if settings.workload == .mixed && db.resolveAlias(CrashWorkload.aliasName) == nil {
            try db.updateAliases([.create(alias: CrashWorkload.aliasName, collection: CrashWorkload.collectionName)])
        }
        let gate = DatabaseGate(database: db, collection: collection) {
            let reopened = try Database.open(at: directory, options: options, fileSystem: fileSystem)
            do {
                return (reopened, try reopened.collection(CrashWorkload.collectionName))
            } catch {
                reopened.close()
                throw error
            }
        }
        defer { gate.close() }
        sink.emit("READY")
        let maintenance = Maintenance(
            gate: gate, sink: sink, workload: settings.workload,
            rng: SplitMix64(seed: seed ^ (UInt64(cycle) << 20) ^ 0x4D41_494E), cycle: cycle)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<settings.writers {
                group.addTask {
                    await runWriter(
                        gate, writer: writer, seed: seed, cycle: cycle, settings: settings, sink: sink,
                        maintenance: settings.inlineMaintenance && writer == 0 ? maintenance : nil)
                }
            }
            if !settings.inlineMaintenance && settings.workload != .basic {
                group.addTask { await maintenance.runOnThread() }
            }
        }
    }

    static func runWriter(
        _ gate: DatabaseGate, writer: Int, seed: UInt64, cycle: UInt32, settings: CrashChildSettings,
        sink: any CrashEventSink, maintenance: Maintenance?
    ) async {
        var rng = SplitMix64(seed: seed ^ (UInt64(cycle) << 20) ^ UInt64(writer))
        let writers = UInt64(settings.writers)
        let partitionSize = (CrashWorkload.idSpace - UInt64(writer) + writers - 1) / writers
        var sequence = 0
        var counter: UInt64 = 0
        func nextToken() -> UInt64 {
            counter += 1
            return (UInt64(cycle) << 32) | (UInt64(writer) << 24) | counter
        }
        func ids(_ count: Int) -> [UInt64] {
            (0..<count).map { _ in UInt64(writer) + writers * (rng.next() % partitionSize) }
        }
        while settings.operationsPerWriter.map({ sequence < $0 }) ?? true {
            sequence += 1
            if let maintenance, sequence % 5 == 0 {
                guard maintenance.runOneRound() else { return }
            }
            let roll = Int(rng.next() % 100)
            guard let collection = await gate.enter() else {
                // A reopen failed (in the power-loss mode: the simulated crash); nothing is in flight.
                sink.emit(
                    "E \(writer) \(sequence) stopped: \(gate.reopenFailure ?? "the database is closed")"
                        .replacingOccurrences(of: "\n", with: " "))
                return
            }
            defer { gate.leave() }
            func report(_ intent: String, _ operation: () async throws -> UpdateResult) async throws {
                sink.emit("I \(writer) \(sequence) \(intent)")
                let result = try await operation()
                sink.emit("A \(writer) \(sequence) \(result.operationID)")
            }
            /// One write of kind `kind` on this writer's partition: its intent
            /// (without the `I <w> <seq>` prefix) and the operation, or nil when
            /// there is nothing to do (a vector update of points that do not exist).
            func make(_ kind: Operation) throws -> (intent: String, operation: BatchOperation)? {
                let size = Int(rng.next() % 8) + 1
                switch kind {
                case .index, .atomicBatch, .sweep:
                    return nil
                case .delete:
                    let targets = ids(size)
                    return (
                        "D " + targets.map(String.init).joined(separator: " "),
                        .delete(.ids(targets.map { .number($0) }))
                    )
                case .deleteByFilter:
                    let tag = CrashWorkload.tag(rng.next())
                    return ("F \(tag)", .delete(.filter(CrashWorkload.partitionFilter(writer: writer, tag: tag))))
                case .setPayload:
                    let ptoken = nextToken()
                    let targets = ids(size)
                    return (
                        "P \(ptoken) " + targets.map(String.init).joined(separator: " "),
                        .setPayload(["p": .int(Int64(bitPattern: ptoken))], .ids(targets.map { .number($0) }))
                    )
                case .setPayloadByFilter:
                    let ptoken = nextToken()
                    let tag = CrashWorkload.tag(rng.next())
                    return (
                        "Q \(ptoken) \(tag)",
                        .setPayload(
                            ["p": .int(Int64(bitPattern: ptoken))],
                            .filter(CrashWorkload.partitionFilter(writer: writer, tag: tag)))
                    )
                case .overwritePayload:
                    let otoken = nextToken()
                    let targets = ids(size)
                    return (
                        "O \(otoken) " + targets.map(String.init).joined(separator: " "),
                        .overwritePayload(
                            CrashWorkload.overwritePayload(for: otoken), .ids(targets.map { .number($0) }))
                    )
                case .deletePayloadKey:
                    let key = rng.next() % 2 == 0 ? "tag" : "p"
                    let targets = ids(size)
                    return (
                        "K \(key) " + targets.map(String.init).joined(separator: " "),
                        .deletePayloadKeys([key], .ids(targets.map { .number($0) }))
                    )
                case .clearPayload:
                    let targets = ids(size)
                    return (
                        "C " + targets.map(String.init).joined(separator: " "),
                        .clearPayload(.ids(targets.map { .number($0) }))
                    )
                case .updateVectors, .conditionalUpdateVectors:
                    // Only existing points can have their vectors replaced; this
                    // writer is the only one touching its ids, so what it reads
                    // here is still true when the update is applied. Under a
                    // condition, the filter decides which of them change.
                    let condition: CrashWorkload.WriteCondition? =
                        kind == .updateVectors
                        ? nil
                        : CrashWorkload.WriteCondition.allCases[
                            Int(rng.next() % UInt64(CrashWorkload.WriteCondition.allCases.count))]
                    let present = try collection.retrieve(ids(size).map { .number($0) }, withPayload: false).map(\.id)
                    guard !present.isEmpty else { return nil }
                    var updates: [PointVectors] = []
                    var described: [String] = []
                    for id in present {
                        guard case .number(let raw) = id else { continue }
                        let token = nextToken()
                        let named = settings.workload == .mixed
                        updates.append(
                            PointVectors(
                                id: id, vectors: CrashWorkload.vectors(for: token, named: named),
                                sparseVectors: CrashWorkload.sparseVectors(for: token, named: named)))
                        described.append("\(raw):\(token)")
                    }
                    guard let condition else {
                        return ("V " + described.joined(separator: " "), .updateVectors(updates))
                    }
                    return (
                        "G \(condition.rawValue) " + described.joined(separator: " "),
                        .updateVectors(updates, filter: condition.filter(writer: writer))
                    )
                case .conditionalUpsert:
                    // Ids present and absent alike; the store decides each when it applies the write.
                    let mode = UpdateMode.allCases[Int(rng.next() % UInt64(UpdateMode.allCases.count))]
                    let conditions = CrashWorkload.WriteCondition.allCases
                    // A plain upsert (mode upsert, no filter) is not a conditional write: that mode always
                    // has one (each equally likely); the others have none a quarter of the time.
                    let pick = Int(rng.next() % UInt64(conditions.count + 1))
                    let condition: CrashWorkload.WriteCondition? =
                        pick < conditions.count
                        ? conditions[pick]
                        : mode == .upsert ? conditions[Int(rng.next() % UInt64(conditions.count))] : nil
                    var points: [PointStruct] = []
                    var described: [String] = []
                    for id in ids(size) {
                        let token = nextToken()
                        points.append(CrashWorkload.point(id: id, token: token, named: true))
                        described.append("\(id):\(token)")
                    }
                    return (
                        "N \(mode.rawValue) \(condition?.rawValue ?? "none") " + described.joined(separator: " "),
                        .upsert(points, mode: mode, filter: condition?.filter(writer: writer))
                    )
                case .upsert:
                    var points: [PointStruct] = []
                    var described: [String] = []
                    for id in ids(size) {
                        let token = nextToken()
                        points.append(CrashWorkload.point(id: id, token: token, named: settings.workload == .mixed))
                        described.append("\(id):\(token)")
                    }
                    return ("U " + described.joined(separator: " "), .upsert(points))
                }
            }
            do {
                switch Self.operation(roll: roll, workload: settings.workload) {
                case .index:
                    let (key, schema) = CrashWorkload.indexedFields[
                        Int(rng.next() % UInt64(CrashWorkload.indexedFields.count))]
                    let create = rng.next() % 2 == 0
                    try await report("X \(create ? "create" : "drop") \(key)") {
                        create
                            ? try await collection.createFieldIndex(key, schema: schema)
                            : try await collection.deleteFieldIndex(key)
                    }
                case .atomicBatch:
                    // 2–4 writes of the other kinds as one: a vector update only
                    // first (its points must exist, and nothing before it in the
                    // batch may delete them).
                    var parts: [(intent: String, operation: BatchOperation)] = []
                    for _ in 0..<(2 + Int(rng.next() % 3)) {
                        var kind = Self.operation(roll: Int(rng.next() % 100), workload: settings.workload)
                        if !parts.isEmpty && (kind == .updateVectors || kind == .conditionalUpdateVectors) {
                            kind = .upsert
                        }
                        if let part = try make(kind) { parts.append(part) }
                    }
                    guard !parts.isEmpty else { continue }
                    try await report("B " + parts.map(\.intent).joined(separator: " | ")) {
                        try await collection.batch(parts.map(\.operation), atomic: true)[0]
                    }
                case .sweep:
                    // Deletes every partition's expired points, which every
                    // model already holds absent; acknowledged with op 0 when
                    // nothing had expired (nothing logged).
                    sink.emit("I \(writer) \(sequence) S")
                    let deletion = try await collection.deleteExpiredPoints()
                    sink.emit("A \(writer) \(sequence) \(deletion.operationID ?? 0)")
                case let kind:
                    guard let (intent, operation) = try make(kind) else { continue }
                    try await report(intent) { try await collection.batch([operation])[0] }
                }
            } catch {
                sink.emit("E \(writer) \(sequence) \(error)".replacingOccurrences(of: "\n", with: " "))
                return
            }
        }
    }

    enum Operation {
        case upsert, updateVectors, delete, deleteByFilter, setPayload, setPayloadByFilter
        case overwritePayload, deletePayloadKey, clearPayload, index
        case conditionalUpsert, conditionalUpdateVectors, atomicBatch, sweep
    }

    /// The operation mix: `mixed` uses every kind (12% conditional upserts,
    /// 6% vector updates under a filter, 8% atomic batches of the others, 3%
    /// deletions of expired points),
    /// the others upserts, deletes, payload updates and index changes.
    static func operation(roll: Int, workload: CrashWorkload.Kind) -> Operation {
        guard workload == .mixed else {
            switch roll {
            case 98...: return .index
            case 85...: return .setPayload
            case ..<25: return .delete
            default: return .upsert
            }
        }
        switch roll {
        case ..<2: return .index
        case ..<18: return .delete
        case ..<22: return .deleteByFilter
        case ..<30: return .setPayload
        case ..<34: return .setPayloadByFilter
        case ..<39: return .overwritePayload
        case ..<43: return .deletePayloadKey
        case ..<46: return .clearPayload
        case ..<54: return .updateVectors
        case ..<66: return .conditionalUpsert
        case ..<72: return .conditionalUpdateVectors
        case ..<80: return .atomicBatch
        case ..<83: return .sweep
        default: return .upsert
        }
    }
}

/// The open database, shared by the writers and the maintenance thread, and
/// closed and reopened by the `mixed` workload while the writers wait.
/// Writers hold it *shared* for one operation (across its `await`, so the
/// count is not tied to a thread); a reopen takes it *exclusively*.
final class DatabaseGate: Sendable {
    /// Guards the open database and who is using it. Its condition is
    /// broadcast when `users` drops to 0 (`closeAndReopen` waits for that) and
    /// when `exclusive` is cleared (`shared` waits for that).
    private let state: Locked<State>
    private let reopen: @Sendable () throws -> (Database, Collection)

    private struct State {
        var database: Database
        var collection: Collection
        /// Writers and maintenance steps inside the gate now.
        var users = 0
        /// A reopen is under way (or waiting for the users to leave).
        var exclusive = false
        var closed = false
        /// Why the last reopen failed, if it did (the database stays closed).
        var failure: String?
    }

    init(database: Database, collection: Collection, reopen: @escaping @Sendable () throws -> (Database, Collection)) {
        self.state = Locked(State(database: database, collection: collection))
        self.reopen = reopen
    }

    /// Why the last reopen failed, if it did (the database stays closed).
    var reopenFailure: String? { state.withLock { $0.failure } }

    /// Waits (without blocking a thread of the cooperative pool) until no
    /// reopen is under way, then counts the caller as a user; nil once a
    /// reopen has failed.
    func enter() async -> Collection? {
        while true {
            let entered: (Collection?, Bool) = state.withLock { state in
                if state.failure != nil { return (nil, true) }
                guard !state.exclusive else { return (nil, false) }
                state.users += 1
                return (state.collection, true)
            }
            if entered.1 { return entered.0 }
            try? await Task.sleep(nanoseconds: 200_000)
        }
    }

    func leave() {
        state.withLock { state in
            state.users -= 1
            if state.users == 0 { self.state.broadcast() }
        }
    }

    /// Blocking (for the maintenance thread): runs `body` as a user.
    func shared<T>(_ body: (Database, Collection) throws -> T) rethrows -> T {
        let (db, c): (Database, Collection) = state.withLock(whenReady: { !$0.exclusive }) { state in
            state.users += 1
            return (state.database, state.collection)
        }
        defer { leave() }
        return try body(db, c)
    }

    /// Blocking: waits for every user to leave, runs `body` on the database
    /// with the users held out, then lets them in again. If `body` throws, the
    /// handles the users would get are closed (in the power-loss mode: the
    /// simulated crash): `failure` is set and they stop.
    private func exclusively(_ what: String, _ body: (Database) throws -> Void) throws {
        state.withLock { $0.exclusive = true }
        state.withLock(whenReady: { $0.users == 0 }) { _ in }
        defer {
            state.withLock { state in
                state.exclusive = false
                self.state.broadcast()
            }
        }
        do {
            try body(state.withLock { $0.database })
        } catch {
            state.withLock { $0.failure = "\(what) failed: \(error)" }
            throw error
        }
    }

    /// Blocking: waits for every user to leave, closes the database and opens it again.
    func closeAndReopen() throws {
        try exclusively("reopening the database") { old in
            old.close()
            let (db, c) = try reopen()
            state.withLock { state in
                state.database = db
                state.collection = c
            }
        }
    }

    /// Blocking: waits for every user to leave, renames the collection to
    /// `CrashWorkload.renamedCollectionName` and back (each rename atomic and
    /// durable; a kill between them leaves the other name).
    func renameAndBack() throws {
        try exclusively("renaming the collection") { db in
            try db.renameCollection(CrashWorkload.collectionName, to: CrashWorkload.renamedCollectionName)
            let c = try db.renameCollection(CrashWorkload.renamedCollectionName, to: CrashWorkload.collectionName)
            state.withLock { $0.collection = c }
        }
    }

    func close() {
        let db: Database? = state.withLock { state in
            guard !state.closed else { return nil }
            state.closed = true
            return state.database
        }
        db?.close()
    }
}

/// Flushes, merges, snapshots, restores and reopens, as the workload asks.
///
/// Rounds run one at a time (on the maintenance thread, or inline in writer 0),
/// so the lock on `progress` is never contended; it makes the hand-over of the
/// state between threads safe by construction.
final class Maintenance: Sendable {
    let gate: DatabaseGate
    let sink: any CrashEventSink
    let workload: CrashWorkload.Kind
    /// The crash-test cycle (tag names are unique across cycles).
    let cycle: UInt32
    /// Guards what the rounds carry from one to the next.
    private let progress: Locked<Progress>

    private struct Progress {
        var rng: SplitMix64
        var round = 0
        /// The last snapshot published, and the last full one.
        var previous: SnapshotDescription?
        var lastFull: SnapshotDescription?
        /// Tags this child created and has not deleted, oldest first.
        var tags: [String] = []
    }

    init(
        gate: DatabaseGate, sink: any CrashEventSink, workload: CrashWorkload.Kind, rng: SplitMix64, cycle: UInt32 = 0
    ) {
        self.gate = gate
        self.sink = sink
        self.workload = workload
        self.cycle = cycle
        // Tags earlier cycles left, oldest first: untagged in turn, so they do not pile up.
        let tags = gate.shared { _, c in c.versions.compactMap(\.tag) }
        self.progress = Locked(Progress(rng: rng, tags: tags))
    }

    private func nextRandom() -> UInt64 { progress.withLock { $0.rng.next() } }

    /// Rounds as fast as they go, on a thread of their own (they block).
    func runOnThread() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                while runOneRound() { usleep(workload == .mixed ? UInt32(1000 + nextRandom() % 8000) : 2000) }
                done.resume()
            }
            thread.start()
        }
    }

    /// One step; false (after reporting `E maintenance …`) when it failed.
    func runOneRound() -> Bool {
        let round = progress.withLock { progress in
            progress.round += 1
            return progress.round
        }
        do {
            switch workload {
            case .basic:
                break
            case .optimizer:
                try gate.shared { _, c in if round % 3 == 0 { try c.optimize() } else { try c.flush() } }
            case .snapshot:
                try snapshotRound(round)
            case .mixed:
                let roll = nextRandom() % 100
                switch roll {
                case ..<25:
                    sink.emit("M flush")
                    try gate.shared { _, c in try c.flush() }
                case ..<45:
                    sink.emit("M optimize")
                    try gate.shared { _, c in try c.optimize() }
                case ..<60:
                    try snapshot(incremental: false)
                case ..<70:
                    try snapshot(incremental: true)
                case ..<80:
                    try restore()
                case ..<88:
                    try tagVersion(round)
                case ..<93:
                    sink.emit("M reopen")
                    try gate.closeAndReopen()
                default:
                    sink.emit("M rename")
                    try gate.renameAndBack()
                }
            }
            return true
        } catch {
            sink.emit("E maintenance \(round) \(error)".replacingOccurrences(of: "\n", with: " "))
            return false
        }
    }

    /// Tags a version (`M tag <name>`, then `M tagged <name> <digest>` with
    /// what the tagged version reads), after untagging the oldest of three
    /// (`M untag <name>`, `M untagged <name>`). Names are unique across cycles.
    func tagVersion(_ round: Int) throws {
        if progress.withLock({ $0.tags.count }) >= 3, let oldest = progress.withLock({ $0.tags.first }) {
            sink.emit("M untag \(oldest)")
            try gate.shared { _, c in try c.deleteTag(oldest) }
            progress.withLock { _ = $0.tags.removeFirst() }
            sink.emit("M untagged \(oldest)")
        }
        let name = "tag-\(cycle)-\(round)"
        sink.emit("M tag \(name)")
        let digest = try gate.shared { _, c in
            try c.tagVersion(name)
            return try CrashWorkload.digest(try c.at(.tag(name)))
        }
        progress.withLock { $0.tags.append(name) }
        sink.emit("M tagged \(name) \(digest)")
    }

    /// The snapshot workload's round: a snapshot (every third one
    /// incremental on the one before), and every third round a restore of the
    /// latest full snapshot over collection `restored`.
    func snapshotRound(_ round: Int) throws {
        try snapshot(incremental: round % 3 == 2)
        if round % 3 == 0 { try restore() }
    }

    /// A snapshot (incremental on the previous one if asked and there is
    /// one), reported as
    ///
    ///     S <archive name> <op_num> full|incremental    a snapshot was published
    func snapshot(incremental: Bool) throws {
        try gate.shared { db, _ in
            let base = incremental ? progress.withLock { $0.previous } : nil
            let snapshot = try db.createSnapshot(of: CrashWorkload.collectionName, incrementalFrom: base?.path)
            sink.emit("S \(snapshot.name) \(snapshot.opNum ?? 0) \(base == nil ? "full" : "incremental")")
            progress.withLock { progress in
                progress.previous = snapshot
                if base == nil { progress.lastFull = snapshot }
            }
        }
    }

    /// Restores the latest full snapshot (taken first if there is none) over
    /// collection `restored`:
    ///
    ///     R <archive name>                               about to restore it
    ///     RA <archive name>                              the restore finished
    func restore() throws {
        if progress.withLock({ $0.lastFull }) == nil { try snapshot(incremental: false) }
        guard let source = progress.withLock({ $0.lastFull }) else { return }
        try gate.shared { db, _ in
            sink.emit("R \(source.name)")
            try db.restoreSnapshot(from: [source.path], as: CrashWorkload.restoredCollectionName, overwrite: true)
            sink.emit("RA \(source.name)")
        }
    }
}
