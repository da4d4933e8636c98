import Foundation
import StrataBinary
import StrataIO

/// When an append is acknowledged.
public enum WALDurability: Sendable, Equatable {
    /// Acknowledge only after an `fdatasync` covers the record (the default).
    /// Concurrent appends share one sync (group commit).
    case durable
    /// Acknowledge once the record is written to the file (the OS page cache);
    /// `fdatasync` runs every `intervalMilliseconds`. Survives `kill -9` of the
    /// process, but an OS crash or power loss can lose up to one interval of
    /// acknowledged writes.
    case periodic(intervalMilliseconds: Int)
}

/// Tuning of a log.
public struct WALOptions: Sendable, Equatable {
    public var durability: WALDurability
    /// A new file is started once the current one passes this size.
    public var maxFileSize: Int
    /// Upper bound on the bytes one group commit writes.
    public var maxBatchBytes: Int
    /// Payload bytes of the newest records kept in memory after they are
    /// appended, so `records(after:maxBytes:)` serves recent records without
    /// reading files; 0 keeps none. See `defaultRecentRecordsBytes`.
    public var recentRecordsBytes: Int

    /// 8 MiB: a replica that keeps up lags its primary by the records written
    /// during one shipment round trip, a few batches (a 256-point batch of
    /// 128-d vectors is ~135 KB), so this covers it many times over while
    /// bounding the memory to 8 MiB per log that is written to. A replica
    /// further behind is served from the files.
    public static let defaultRecentRecordsBytes = 8 << 20

    public init(
        durability: WALDurability = .durable, maxFileSize: Int = 32 << 20, maxBatchBytes: Int = 64 << 20,
        recentRecordsBytes: Int = WALOptions.defaultRecentRecordsBytes
    ) {
        self.durability = durability
        self.maxFileSize = maxFileSize
        self.maxBatchBytes = maxBatchBytes
        self.recentRecordsBytes = recentRecordsBytes
    }
}

/// What `WriteAheadLog.open` found.
public struct WALRecoveryReport: Sendable, Equatable {
    public var files = 0
    public var records = 0
    /// The op number the oldest log file starts at (its records may start later
    /// only if it is empty). With truncation, earlier operations are gone.
    public var firstOpNum: UInt64 = 1
    public var lastOpNum: UInt64 = 0
    /// Where a torn tail was cut, if one was: file, offset, reason.
    public var cutTail: CutTail?

    public struct CutTail: Sendable, Equatable {
        public let file: String
        public let offset: UInt64
        public let reason: String
        public let droppedBytes: UInt64
    }
}

/// Counters for tests and benchmarks.
public struct WALStatistics: Sendable, Equatable {
    public var records: UInt64 = 0
    public var batches: UInt64 = 0
    public var syncs: UInt64 = 0
    public var rotations: UInt64 = 0
    /// Calls of `records(after:maxBytes:)` that read log files because the
    /// records kept in memory did not start early enough.
    public var fileReads: UInt64 = 0
}

/// Counters summed over several logs, closed ones included (a database's
/// collections: `Database.walStatistics`). A log's own `stats` start from zero
/// when it is opened again; these only grow, as Prometheus counters must.
/// Thread-safe.
public final class WALTotals: Sendable {
    private let totals = Locked(WALStatistics())

    public init() {}

    public var statistics: WALStatistics { totals.withLock { $0 } }

    func add(records: UInt64, batches: UInt64, syncs: UInt64) {
        totals.withLock {
            $0.records += records
            $0.batches += batches
            $0.syncs += syncs
        }
    }
}

/// One log file on disk (`WriteAheadLog.files()`).
public struct WALFileInfo: Sendable, Equatable {
    /// The file's name in the log directory.
    public var name: String
    /// The op number of its first record (the one its name carries).
    public var firstOpNum: UInt64
    /// Its size on disk now, header included.
    public var bytes: UInt64
}

/// A write-ahead log: an ordered, checksummed, durable sequence of records
/// numbered 1, 2, 3, … (see `docs/format/wal.md`).
///
/// Threading: `append` may be called from any number of threads or tasks at
/// once. One dedicated writer thread per log collects waiting appends into a
/// group, writes them with one `write`, makes them durable with one
/// `fdatasync`, runs each append's `whenDurable` callback in op-number order,
/// and only then acknowledges them. Blocking I/O never runs on the Swift
/// concurrency pool.
///
/// Failure: an error while writing (e.g. ENOSPC) fails that group, cuts the
/// partial bytes off and leaves the log usable. A failed `fdatasync` is
/// permanent: the state of unsynced data is unknown, so every later append
/// fails with `.failed` until the store is reopened (PostgreSQL's lesson).
public final class WriteAheadLog: Sendable {
    public let fileSystem: any FileSystem
    public let directory: String
    public let options: WALOptions
    /// Where this log's counters are also added (its database's), if anywhere.
    private let totals: WALTotals?
    public let recoveryReport: WALRecoveryReport

    /// The state shared by appenders, `sync()` and `close()` callers, and the
    /// writer thread. Its condition is broadcast after every change a waiter
    /// reads: `pending`, `closing` and `syncWaiters` (the writer thread waits
    /// for them), `completedForcedSyncs`, `failure` and `writerStopped`
    /// (`sync()` and `close()` wait for them).
    private let shared: Locked<Shared>

    private struct Shared {
        var pending: [PendingAppend] = []
        var closing = false
        /// Callers of `sync()` waiting for the writer thread to fdatasync.
        var syncWaiters = 0
        var completedForcedSyncs: UInt64 = 0
        var writerStopped = false
        var failure: WALError?
        var lastOpNum: UInt64
        var statistics = WALStatistics()
    }

    /// The newest acknowledged records, for `records(after:maxBytes:)`. Its
    /// own lock, never held together with `shared`'s. The writer thread adds a
    /// group after writing it (and in `.durable` mode syncing it), before it
    /// publishes the group's op numbers as `lastOpNum`, so a reader that read
    /// `lastOpNum` first finds every record up to it here unless the oldest
    /// were dropped; `removeFiles(below:)` drops what a checkpoint removes.
    private let recent: Locked<WALRecentRecords>

    /// The state of the writer thread alone: created by `open`, then moved into
    /// the writer thread, which is the only one to touch it (no lock).
    private struct Writer: Sendable {
        var file: any StorageFile
        var fileEnd: UInt64
        var syncedThrough: UInt64
        var unsynced = false
        var lastSync = ContinuousClock.now
    }

    struct PendingAppend: Sendable {
        let payload: [UInt8]
        /// The op number the record must get, or nil for the next one. A record
        /// that would get another is refused unwritten (a replica's log keeps
        /// its primary's op numbers: docs/cluster.md).
        var expectedOpNum: UInt64? = nil
        let whenDurable: @Sendable (UInt64) -> Void
        let complete: @Sendable (Result<UInt64, WALError>) -> Void
    }

    /// Opens the log in `directory` (created if missing), checks every file,
    /// cuts a torn tail, and calls `replay` for every record in order before
    /// returning. Throws `WALError` with `.corruption` (naming file and offset)
    /// for damage that is not a torn tail, and rethrows what `replay` throws.
    public static func open(
        fileSystem: any FileSystem,
        directory: String,
        options: WALOptions = WALOptions(),
        totals: WALTotals? = nil,
        replay: (_ opNum: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) throws -> WriteAheadLog {
        if fileSystem.fileKind(directory) == nil {
            try wrapIO { try fileSystem.createDirectory(directory) }
        }
        var names = try wrapIO { try fileSystem.listDirectory(directory) }
        for name in names where name.hasSuffix(".tmp") {
            try wrapIO { try fileSystem.removeFile(joinPath(directory, name)) }
        }
        // A crash may have interrupted an earlier open or rotation before it synced
        // these directories; whatever we are about to trust must be durable.
        try wrapIO {
            try fileSystem.syncDirectory(parentDirectory(of: directory))
            try fileSystem.syncDirectory(directory)
        }
        names = names.filter { !$0.hasSuffix(".tmp") }
        var logFiles: [(op: UInt64, name: String)] = []
        for name in names {
            if let op = WALFormat.firstOpNum(fromFileName: name) {
                logFiles.append((op, name))
            }
        }
        logFiles.sort { $0.op < $1.op }

        var report = WALRecoveryReport()
        var expectedNext: UInt64? = nil
        var current: (file: any StorageFile, end: UInt64, firstOp: UInt64)? = nil
        for (index, entry) in logFiles.enumerated() {
            let path = joinPath(directory, entry.name)
            let isNewest = index == logFiles.count - 1
            let handle = try wrapIO { try fileSystem.open(path, mode: isNewest ? .readWrite : .readOnly) }
            let bytes = try wrapIO { try handle.readAll() }
            let scan: WALFileScan
            do {
                scan = try bytes.withUnsafeBytes { raw in try WALFileScanner.scan(raw) }
            } catch {
                throw WALError(
                    code: .corruption,
                    message:
                        "WAL file \(path) is corrupt at offset 0: \(error); the log cannot be trusted (restore from a snapshot, or move the file aside to accept losing its records)",
                    file: path, offset: 0)
            }
            guard scan.firstOpNum == entry.op else {
                throw WALError(
                    code: .corruption,
                    message:
                        "WAL file \(path) says it starts at op \(scan.firstOpNum) but its name says \(entry.op): the file was renamed or damaged",
                    file: path, offset: 16)
            }
            if let expectedNext, scan.firstOpNum != expectedNext {
                throw WALError(
                    code: .corruption,
                    message:
                        "WAL file \(path) starts at op \(scan.firstOpNum) but the previous file ends before op \(expectedNext): a WAL file is missing or was truncated; the log has a gap and cannot be replayed past it",
                    file: path, offset: 0)
            }
            switch scan.stop {
            case nil:
                break
            case .tornTail(let offset, let reason) where isNewest:
                let dropped = UInt64(bytes.count - offset)
                try wrapIO {
                    try handle.truncate(to: UInt64(offset))
                    try handle.dataSync()
                }
                report.cutTail = .init(file: path, offset: UInt64(offset), reason: reason, droppedBytes: dropped)
            case .tornTail(let offset, let reason):
                throw WALError(
                    code: .corruption,
                    message:
                        "WAL file \(path) is corrupt at offset \(offset): \(reason); newer WAL files follow it, so this is damage to synced data, not a torn write",
                    file: path, offset: UInt64(offset))
            case .undecided(let offset, let reason):
                throw WALError(
                    code: .corruption,
                    message:
                        "WAL file \(path) is corrupt at offset \(offset): \(reason); the bytes after it are full of record-like headers, so damage to synced data cannot be ruled out (restore from a snapshot, or move the file aside)",
                    file: path, offset: UInt64(offset))
            case .damagedBeforeValidRecords(let offset, let reason, let later):
                throw WALError(
                    code: .corruption,
                    message:
                        "WAL file \(path) is corrupt at offset \(offset): \(reason); a record at offset \(later) shows this data had been synced, so it is damage, not a torn write (restore from a snapshot)",
                    file: path, offset: UInt64(offset))
            }
            try bytes.withUnsafeBytes { raw in
                for record in scan.records {
                    try replay(record.opNum, UnsafeRawBufferPointer(rebasing: raw[record.payloadRange]))
                }
            }
            if report.files == 0 { report.firstOpNum = scan.firstOpNum }
            report.files += 1
            report.records += scan.records.count
            let nextOp = scan.firstOpNum + UInt64(scan.records.count)
            expectedNext = nextOp
            report.lastOpNum = nextOp - 1
            if isNewest { current = (handle, UInt64(scan.validEnd), scan.firstOpNum) }
        }

        if current == nil {
            let first = (expectedNext ?? 1)
            current = try createLogFile(fileSystem: fileSystem, directory: directory, firstOpNum: first)
        } else {
            // What was recovered may sit only in the page cache (a relaxed-mode
            // writer killed before its periodic sync); make it durable before
            // serving it.
            try wrapIO { try current!.file.dataSync() }
        }
        let log = WriteAheadLog(
            fileSystem: fileSystem, directory: directory, options: options, totals: totals, report: report)
        log.startWriter(Writer(file: current!.file, fileEnd: current!.end, syncedThrough: report.lastOpNum))
        return log
    }

    private init(
        fileSystem: any FileSystem, directory: String, options: WALOptions, totals: WALTotals?,
        report: WALRecoveryReport
    ) {
        self.totals = totals
        self.fileSystem = fileSystem
        self.directory = directory
        self.options = options
        self.recoveryReport = report
        self.shared = Locked(Shared(lastOpNum: report.lastOpNum))
        self.recent = Locked(WALRecentRecords(budget: options.recentRecordsBytes))
    }

    /// The op number of the newest acknowledged record (0 for an empty log).
    public var lastOpNum: UInt64 { shared.withLock { $0.lastOpNum } }

    /// The error that stopped the log, if a sync failed.
    public var permanentFailure: WALError? { shared.withLock { $0.failure } }

    public var stats: WALStatistics { shared.withLock { $0.statistics } }

    /// Number of log files on disk now.
    public var fileCount: Int {
        ((try? fileSystem.listDirectory(directory)) ?? []).filter { WALFormat.firstOpNum(fromFileName: $0) != nil }
            .count
    }

    /// The log files on disk now, oldest first, with their sizes. A file that
    /// a checkpoint removes (or that cannot be opened) while they are listed
    /// is left out; a listing that fails is empty, as for `fileCount`.
    /// Blocking: one directory listing and one open per file.
    public func files() -> [WALFileInfo] {
        let names = (try? fileSystem.listDirectory(directory)) ?? []
        return names.compactMap { name -> WALFileInfo? in
            guard let first = WALFormat.firstOpNum(fromFileName: name),
                let size = try? fileSystem.open(joinPath(directory, name), mode: .readOnly).size()
            else { return nil }
            return WALFileInfo(name: name, firstOpNum: first, bytes: size)
        }.sorted { $0.firstOpNum < $1.firstOpNum }
    }

    /// Appends `payload` as the next record and returns its op number once it
    /// is acknowledged (durable, in `.durable` mode). `whenDurable` runs on the
    /// writer thread, in op-number order, after the record is durable and before
    /// this call returns; it must be quick and must not call back into the log.
    public func append(
        _ payload: [UInt8], whenDurable: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UInt64, Error>) in
            enqueue(
                PendingAppend(payload: payload, whenDurable: whenDurable) { result in
                    continuation.resume(with: result.mapError { $0 as Error })
                })
        }
    }

    /// Appends `payload` only as record `opNum`: if the log's next op number
    /// is another, nothing is written and this throws `.invalidArgument`
    /// ("out of sequence"). Otherwise as `append`. Records enqueued in a row
    /// with consecutive numbers are written as one group when they can be.
    public func append(
        _ payload: [UInt8], asOpNum opNum: UInt64, whenDurable: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UInt64, Error>) in
            enqueue(
                PendingAppend(payload: payload, expectedOpNum: opNum, whenDurable: whenDurable) { result in
                    continuation.resume(with: result.mapError { $0 as Error })
                })
        }
    }

    /// Appends `records` as the ops they name, in order, enqueued together so
    /// that they are written as few groups as possible (a replica applying
    /// what its primary shipped). `whenDurable(opNum, index)` runs as for
    /// `append`. Returns the last op number once all are durable; throws the
    /// first failure (records before it may be durable: see `lastOpNum`).
    public func append(
        run records: [(opNum: UInt64, payload: [UInt8])],
        whenDurable: @escaping @Sendable (UInt64, Int) -> Void = { _, _ in }
    ) async throws -> UInt64 {
        guard let last = records.last?.opNum else { return lastOpNum }
        let outcomes = Locked<[Result<UInt64, WALError>?]>(Array(repeating: nil, count: records.count))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let remaining = Locked(records.count)
            let appends = records.enumerated().map { index, record in
                PendingAppend(
                    payload: record.payload, expectedOpNum: record.opNum, whenDurable: { whenDurable($0, index) }
                ) {
                    result in
                    outcomes.withLock { $0[index] = result }
                    let done = remaining.withLock { count -> Bool in
                        count -= 1
                        return count == 0
                    }
                    guard done else { return }
                    let failure = outcomes.withLock { list in
                        list.lazy.compactMap { outcome -> WALError? in
                            if case .failure(let error) = outcome { return error }
                            return nil
                        }.first
                    }
                    if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
                }
            }
            enqueue(appends)
        }
        return last
    }

    /// Blocking form of `append`, for callers on their own threads.
    public func appendAndWait(
        _ payload: [UInt8], whenDurable: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) throws -> UInt64 {
        let waiter = BlockingResult<UInt64>()
        enqueue(PendingAppend(payload: payload, whenDurable: whenDurable) { waiter.set($0.mapError { $0 as Error }) })
        return try waiter.wait()
    }

    private func enqueue(_ appends: [PendingAppend]) {
        if let tooBig = appends.firstIndex(where: { $0.payload.count > WALFormat.maxPayloadSize }) {
            for append in appends[..<tooBig] { enqueue(append) }
            for append in appends[tooBig...] {
                append.complete(
                    .failure(
                        WALError(
                            code: .invalidArgument,
                            message: "a WAL record exceeds the limit of \(WALFormat.maxPayloadSize) bytes")))
            }
            return
        }
        let rejection: WALError? = shared.withLock { state in
            if let failure = state.failure { return failure }
            if state.closing {
                return WALError(code: .closed, message: "the write-ahead log in \(directory) is closed")
            }
            state.pending.append(contentsOf: appends)
            shared.broadcast()
            return nil
        }
        if let rejection { for append in appends { append.complete(.failure(rejection)) } }
    }

    private func enqueue(_ append: PendingAppend) {
        if append.payload.count > WALFormat.maxPayloadSize {
            append.complete(
                .failure(
                    WALError(
                        code: .invalidArgument,
                        message:
                            "a WAL record of \(append.payload.count) bytes exceeds the limit of \(WALFormat.maxPayloadSize) bytes; split the batch"
                    )))
            return
        }
        let rejection: WALError? = shared.withLock { state in
            if let failure = state.failure { return failure }
            if state.closing {
                return WALError(code: .closed, message: "the write-ahead log in \(directory) is closed")
            }
            state.pending.append(append)
            // broadcast, not signal: `sync()` callers wait on the same condition.
            shared.broadcast()
            return nil
        }
        if let rejection { append.complete(.failure(rejection)) }
    }

    /// Makes every acknowledged record durable now (in `.periodic` mode they may
    /// still be in the page cache), by asking the writer thread to `fdatasync`.
    /// Throws if the log has failed or the sync fails.
    public func sync() throws {
        // Counted as a waiter in one hold of the lock, uncounted in the hold that
        // sees the outcome; in between the lock is free, as during any wait.
        let target: UInt64 = try shared.withLock { state in
            if let failure = state.failure { throw failure }
            state.syncWaiters += 1
            shared.broadcast()
            return state.completedForcedSyncs + 1
        }
        try shared.withLock(whenReady: { state in
            state.completedForcedSyncs >= target || state.failure != nil || state.writerStopped
        }) { state in
            state.syncWaiters -= 1
            if let failure = state.failure { throw failure }
            if state.completedForcedSyncs < target {
                throw WALError(code: .closed, message: "the write-ahead log in \(directory) is closed")
            }
        }
    }

    /// Stops accepting appends, finishes the queued ones, syncs, and stops the
    /// writer thread. Idempotent.
    public func close() {
        shared.withLock { state in
            state.closing = true
            shared.broadcast()
        }
        shared.withLock(whenReady: { $0.writerStopped }) { _ in }
    }

    // MARK: - Writer thread

    private func startWriter(_ writer: Writer) {
        let thread = Thread { [self] in
            var writer = writer
            self.runWriter(&writer)
        }
        thread.name = "strata-wal"
        thread.start()
    }

    private func runWriter(_ writer: inout Writer) {
        var intervalNanos: UInt64? = nil
        if case .periodic(let ms) = options.durability { intervalNanos = UInt64(max(ms, 1)) * 1_000_000 }
        func hasWork(_ state: Shared) -> Bool { !state.pending.isEmpty || state.closing || state.syncWaiters > 0 }
        func take(_ state: inout Shared) -> (batch: [PendingAppend], stopping: Bool, forced: Bool) {
            let batch = takeBatch(&state)
            return (batch, state.closing && batch.isEmpty, state.syncWaiters > 0)
        }
        while true {
            // Wait for work; with unsynced records in periodic mode, wait at most
            // until the interval since the last sync is up.
            let (batch, stopping, forced): ([PendingAppend], Bool, Bool)
            if let intervalNanos, writer.unsynced {
                let elapsed = nanoseconds(ContinuousClock.now - writer.lastSync)
                if elapsed >= intervalNanos {
                    (batch, stopping, forced) = shared.withLock(take)
                } else {
                    (batch, stopping, forced) = shared.withLock(
                        whenReady: hasWork, timeoutNanoseconds: intervalNanos - elapsed, take)
                }
            } else {
                (batch, stopping, forced) = shared.withLock(whenReady: hasWork, take)
            }

            if !batch.isEmpty { writeBatch(batch, &writer) }
            if writer.unsynced, stopping || forced || isSyncDue(intervalNanos, writer) { periodicSync(&writer) }
            if forced {
                shared.withLock { state in
                    state.completedForcedSyncs += 1
                    shared.broadcast()
                }
            }
            if stopping {
                shared.withLock { state in
                    state.writerStopped = true
                    shared.broadcast()
                }
                return
            }
        }
    }

    private func isSyncDue(_ intervalNanos: UInt64?, _ writer: Writer) -> Bool {
        guard let intervalNanos else { return false }
        return nanoseconds(ContinuousClock.now - writer.lastSync) >= intervalNanos
    }

    /// Takes the next group off `state.pending` (called under the lock).
    private func takeBatch(_ state: inout Shared) -> [PendingAppend] {
        guard !state.pending.isEmpty else { return [] }
        var bytes = 0
        var count = 0
        for item in state.pending {
            if count > 0 && bytes + item.payload.count > options.maxBatchBytes { break }
            bytes += item.payload.count + WALFormat.recordHeaderSize
            count += 1
        }
        let batch = Array(state.pending.prefix(count))
        state.pending.removeFirst(count)
        return batch
    }

    private func writeBatch(_ group: [PendingAppend], _ writer: inout Writer) {
        if let failure = shared.withLock({ $0.failure }) {
            for item in group { item.complete(.failure(failure)) }
            return
        }
        let firstOp = shared.withLock { $0.lastOpNum } + 1
        // Records that must have a given op number and would not get it are refused here, unwritten.
        var batch: [PendingAppend] = []
        batch.reserveCapacity(group.count)
        for item in group {
            let assigned = firstOp + UInt64(batch.count)
            if let expected = item.expectedOpNum, expected != assigned {
                item.complete(
                    .failure(
                        WALError(
                            code: .invalidArgument,
                            message:
                                "out of sequence: the record must be op \(expected) but the log's next op is \(assigned); nothing was written"
                        )))
            } else {
                batch.append(item)
            }
        }
        guard !batch.isEmpty else { return }
        var records = ByteWriter(capacity: batch.reduce(0) { $0 + $1.payload.count + WALFormat.recordHeaderSize })
        for (index, item) in batch.enumerated() {
            item.payload.withUnsafeBytes { raw in
                WALFormat.appendRecord(
                    opNum: firstOp + UInt64(index), syncedThrough: writer.syncedThrough, payload: raw, to: &records)
            }
        }
        do {
            try writer.file.write(at: writer.fileEnd, records.bytes)
        } catch {
            let ioError = error as? IOError
            // Cut whatever part of the group reached the file so the next group
            // starts at a record boundary; if even that fails, stop for good.
            do {
                try writer.file.truncate(to: writer.fileEnd)
            } catch {
                fail(
                    batch, &writer, permanently: true,
                    WALError(
                        code: .failed,
                        message:
                            "WAL write failed and the partial write could not be cut off (\(error)); the log is stopped, reopen the store",
                        file: writer.file.path, offset: writer.fileEnd, cause: error as? IOError))
                return
            }
            let permanent = ioError?.code != .noSpace
            fail(
                batch, &writer, permanently: permanent,
                WALError(
                    code: permanent ? .failed : .io,
                    message:
                        "WAL write failed: \(ioError?.message ?? "\(error)"); nothing from this write was acknowledged"
                        + (permanent ? "; the log is stopped, reopen the store" : ""),
                    file: writer.file.path, offset: writer.fileEnd, cause: ioError))
            return
        }
        writer.fileEnd += UInt64(records.count)
        let lastOp = firstOp + UInt64(batch.count) - 1
        writer.unsynced = true
        if options.durability == .durable {
            do {
                try writer.file.dataSync()
            } catch {
                // Do not truncate or retry: after a failed fdatasync the kernel may
                // have dropped the dirty pages, so nothing can be known or promised.
                fail(
                    batch, &writer, permanently: true,
                    WALError(
                        code: .failed,
                        message:
                            "WAL fdatasync failed: \((error as? IOError)?.message ?? "\(error)"); the log stopped accepting writes because the state of unsynced data is unknown; fix the disk and reopen the store",
                        file: writer.file.path, offset: writer.fileEnd, cause: error as? IOError))
                return
            }
            writer.syncedThrough = lastOp
            writer.unsynced = false
            writer.lastSync = .now
        }
        // Before `lastOpNum` says these records exist (see `recent`).
        recent.withLock { recent in
            for (index, item) in batch.enumerated() {
                recent.append(opNum: firstOp + UInt64(index), payload: item.payload)
            }
        }
        let synced: UInt64 = options.durability == .durable ? 1 : 0
        shared.withLock { state in
            state.lastOpNum = lastOp
            state.statistics.records += UInt64(batch.count)
            state.statistics.batches += 1
            state.statistics.syncs += synced
        }
        totals?.add(records: UInt64(batch.count), batches: 1, syncs: synced)
        for (index, item) in batch.enumerated() { item.whenDurable(firstOp + UInt64(index)) }
        for (index, item) in batch.enumerated() { item.complete(.success(firstOp + UInt64(index))) }
        if writer.fileEnd >= UInt64(options.maxFileSize) { rotate(nextOpNum: lastOp + 1, &writer) }
    }

    private func periodicSync(_ writer: inout Writer) {
        do {
            try writer.file.dataSync()
            writer.syncedThrough = shared.withLock { $0.lastOpNum }
            writer.unsynced = false
            writer.lastSync = .now
            shared.withLock { $0.statistics.syncs += 1 }
            totals?.add(records: 0, batches: 0, syncs: 1)
        } catch {
            fail(
                [], &writer, permanently: true,
                WALError(
                    code: .failed,
                    message:
                        "WAL periodic fdatasync failed: \((error as? IOError)?.message ?? "\(error)"); writes acknowledged in the last interval may be lost; the log stopped accepting writes; reopen the store",
                    file: writer.file.path, cause: error as? IOError))
        }
    }

    private func rotate(nextOpNum: UInt64, _ writer: inout Writer) {
        if writer.unsynced { periodicSync(&writer) }
        if shared.withLock({ $0.failure }) != nil { return }
        let path = joinPath(directory, WALFormat.fileName(firstOpNum: nextOpNum))
        do {
            let created = try Self.createLogFile(fileSystem: fileSystem, directory: directory, firstOpNum: nextOpNum)
            writer.file = created.file
            writer.fileEnd = created.end
            shared.withLock { $0.statistics.rotations += 1 }
        } catch let error as WALError where error.cause?.code == .noSpace && fileSystem.fileKind(path) == nil {
            // The new file was never published: keep appending to the current one
            // and retry the rotation after the next group.
            try? fileSystem.removeFile(path + ".tmp")
            return
        } catch {
            // Once the new name exists, records for `nextOpNum` belong in it; going
            // on in the old file would leave two files claiming the same ops.
            fail(
                [], &writer, permanently: true,
                WALError(
                    code: .failed,
                    message:
                        "creating a new WAL file failed: \(error); the log stopped accepting writes; reopen the store",
                    cause: (error as? WALError)?.cause))
        }
    }

    private func fail(_ batch: [PendingAppend], _ writer: inout Writer, permanently: Bool, _ error: WALError) {
        if permanently {
            writer.unsynced = false  // never sync again after a failure: no retry at close, no retry loop in periodic mode
            let queued: [PendingAppend] = shared.withLock { state in
                if state.failure == nil { state.failure = error }
                shared.broadcast()
                let rest = state.pending
                state.pending.removeAll()
                return rest
            }
            for item in queued { item.complete(.failure(error)) }
        }
        for item in batch { item.complete(.failure(error)) }
    }

    /// Creates `wal-<firstOpNum>.log` safely: temp name, header, fsync, rename,
    /// directory fsync.
    static func createLogFile(
        fileSystem: any FileSystem, directory: String, firstOpNum: UInt64
    ) throws
        -> (file: any StorageFile, end: UInt64, firstOp: UInt64)
    {
        let name = WALFormat.fileName(firstOpNum: firstOpNum)
        let path = joinPath(directory, name)
        let temp = path + ".tmp"
        return try wrapIO {
            if fileSystem.fileKind(temp) != nil { try fileSystem.removeFile(temp) }
            let file = try fileSystem.open(temp, mode: .createNew)
            let header = WALFormat.encodeFileHeader(firstOpNum: firstOpNum)
            try file.write(at: 0, header)
            try file.sync()
            try fileSystem.rename(temp, to: path)
            try fileSystem.syncDirectory(directory)
            return (file, UInt64(header.count), firstOpNum)
        }
    }

    // MARK: - Reading acknowledged records

    /// The acknowledged records after op `opNum`, in order, as many as fit in
    /// about `maxBytes` of payload (at least one), for a replica that missed
    /// them (a WAL delta). Returns nil when the log no longer holds op
    /// `opNum + 1` (its file was removed after a checkpoint): the caller needs
    /// a snapshot instead. An empty array: nothing after `opNum`.
    ///
    /// Safe while the writer appends: only records up to `lastOpNum` (as read
    /// on entry) are returned. Served from the newest records kept in memory
    /// (`WALOptions.recentRecordsBytes`: the bytes the log wrote, no I/O) when
    /// they hold op `opNum + 1`; otherwise read from the files, each record
    /// checked (CRC) on the way, fewer than asked for when a file rotated in
    /// while reading (ask again). Complexity: O(records returned) from
    /// memory; from the files, whole files are read and scanned.
    public func records(after opNum: UInt64, maxBytes: Int = 8 << 20) throws -> [(opNum: UInt64, payload: [UInt8])]? {
        let last = lastOpNum
        guard opNum < last else { return [] }
        if let held = recent.withLock({ $0.records(from: opNum + 1, through: last, maxBytes: maxBytes) }) {
            return held
        }
        shared.withLock { $0.statistics.fileReads += 1 }
        let names = try Self.wrapIO { try fileSystem.listDirectory(directory) }
        let starts = names.compactMap { name in WALFormat.firstOpNum(fromFileName: name).map { ($0, name) } }
            .sorted { $0.0 < $1.0 }
        guard let firstFile = starts.lastIndex(where: { $0.0 <= opNum + 1 }) else { return nil }
        var result: [(opNum: UInt64, payload: [UInt8])] = []
        var bytes = 0
        var next = opNum + 1
        for (start, name) in starts[firstFile...] {
            guard start <= next else { break }
            let path = joinPath(directory, name)
            let content: [UInt8]
            do {
                content = try fileSystem.open(path, mode: .readOnly).readAll()
            } catch let error as IOError where error.code == .notFound {
                return result.isEmpty ? nil : result  // removed by a checkpoint meanwhile
            } catch let error as IOError {
                throw WALError(code: .io, message: error.message, file: path, cause: error)
            }
            let scan: WALFileScan
            do {
                scan = try content.withUnsafeBytes { try WALFileScanner.scan($0) }
            } catch {
                throw WALError(
                    code: .corruption, message: "WAL file \(path) is corrupt: \(error)", file: path, offset: 0)
            }
            for record in scan.records where record.opNum >= next {
                guard record.opNum == next, record.opNum <= last else { break }
                result.append((record.opNum, Array(content[record.payloadRange])))
                bytes += record.payloadRange.count
                next += 1
                if bytes >= maxBytes { return result }
            }
            if next > last { return result }
        }
        // A file rotated in after the listing holds the rest: the caller asks again.
        return result.isEmpty ? nil : result
    }

    // MARK: - Truncation

    /// Removes log files whose every record has an op number below `opNum`
    /// (they are durable elsewhere). The newest file is always kept, and the
    /// records kept in memory are dropped with their files, so that
    /// `records(after:)` answers nil for them as before.
    /// Returns the number of files removed.
    @discardableResult
    public func removeFiles(below opNum: UInt64) throws -> Int {
        let names = try Self.wrapIO { try fileSystem.listDirectory(directory) }
        let starts = names.compactMap { name in WALFormat.firstOpNum(fromFileName: name).map { ($0, name) } }
            .sorted { $0.0 < $1.0 }
        // Every record of file `index` is below the next file's first op.
        var removable = 0
        while removable + 1 < starts.count && starts[removable + 1].0 <= opNum { removable += 1 }
        guard removable > 0 else { return 0 }
        let firstKept = starts[removable].0
        recent.withLock { $0.removeRecords(below: firstKept) }
        for entry in starts[..<removable] {
            try Self.wrapIO { try fileSystem.removeFile(joinPath(directory, entry.1)) }
        }
        try Self.wrapIO { try fileSystem.syncDirectory(directory) }
        return removable
    }

    static func wrapIO<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as IOError {
            throw WALError(code: .io, message: error.message, file: error.path, cause: error)
        }
    }
}

private func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    return UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
}

/// A one-shot result a thread can wait for.
final class BlockingResult<Value: Sendable>: Sendable {
    /// The result, once set; its condition is broadcast when it is set.
    private let result = Locked<Result<Value, Error>?>(nil)

    func set(_ value: Result<Value, Error>) {
        result.withLock { result in
            result = value
            self.result.broadcast()
        }
    }

    func wait() throws -> Value {
        try result.withLock(whenReady: { $0 != nil }) { try $0!.get() }
    }
}
