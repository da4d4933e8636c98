#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operation of `FaultInjectingFileSystem` that `injectError` can fail.
public enum FaultOperation: String, Sendable, CaseIterable {
    /// `open` in every mode.
    case open
    /// `StorageFile.read` (also `read(at:count:)` and `readAll()`).
    case read
    /// `StorageFile.write`.
    case write
    /// `StorageFile.truncate`.
    case truncate
    /// `StorageFile.sync()` and `StorageFile.dataSync()`.
    case sync
    case syncDirectory
    /// `rename`; `pathContains` matches the source or the destination.
    case rename
    /// `removeFile`, and each unlink and rmdir inside `removeTree`.
    case remove
    /// `StorageFile.map`.
    case map
    case createDirectory
    /// `listDirectory`.
    case list
    /// `lock`.
    case lock
}

/// How long an injected fault lasts.
public enum FaultMode: Sendable, Equatable {
    /// Fails one call, then the rule is gone.
    case once
    /// Fails every matching call until cleared.
    case always
}

/// What happens to unsynced file data at a simulated power loss. Directory
/// entries always revert to their last `syncDirectory`, whatever the mode.
public enum PowerLossMode: Sendable, Equatable {
    /// Every file reverts to its content as of its last successful sync.
    case dropUnsynced
    /// For each file, the first `writes` unsynced changes (writes and
    /// truncations, in order) survive whole; then, if the next change is a
    /// write, its first `tornBytes` bytes survive too (a truncation is never
    /// torn). Models a disk that persisted the writes in order and lost power
    /// in the middle of one.
    case keepUnsyncedPrefix(writes: Int, tornBytes: Int)
    /// For each file (in path order), a choice of `keepUnsyncedPrefix` drawn
    /// from a generator seeded with `seed`: the same seed on the same state
    /// gives the same result.
    case randomTear(seed: UInt64)
}

extension FaultInjectingFileSystem {
    /// Counts of what the file system did, for tests that check I/O behaviour
    /// (for example, that concurrent writers shared one sync).
    public struct Statistics: Sendable, Equatable {
        /// Successful `sync()` calls.
        public var syncs = 0
        /// Successful `dataSync()` calls.
        public var dataSyncs = 0
        /// `sync()` and `dataSync()` calls that failed by injection.
        public var failedSyncs = 0
        /// Successful `syncDirectory` calls.
        public var directorySyncs = 0
        /// Writes that changed data (a write cut short by ENOSPC counts if any byte landed).
        public var writes = 0
        public var bytesWritten = 0
        public var powerLosses = 0
        public init() {}
    }

    /// A snapshot of the counters.
    public var statistics: Statistics { locked { $0.statistics } }

    /// Successful file syncs: `sync()` plus `dataSync()`.
    public var syncCount: Int { locked { $0.statistics.syncs + $0.statistics.dataSyncs } }

    /// Successful `syncDirectory` calls.
    public var directorySyncCount: Int { locked { $0.statistics.directorySyncs } }

    /// Data-changing writes.
    public var writeCount: Int { locked { $0.statistics.writes } }

    /// Resets `statistics` (not `operationCount`).
    public func resetStatistics() { locked { $0.statistics = Statistics() } }

    // MARK: Crash points

    /// Mutating operations performed so far (since creation; never reset):
    /// write, truncate, sync, dataSync, syncDirectory, rename, each unlink and
    /// rmdir, createDirectory, open with `.create`/`.createNew`, and lock.
    /// Operations refused by the crash point are not counted.
    public var operationCount: Int { locked { $0.operationCount } }

    /// When set to `n`, mutating operations go ahead while `operationCount < n`;
    /// the next one throws `.io` ("simulated crash") without any effect, and
    /// from then on every operation (also reads, and on old handles) throws,
    /// until `simulatePowerLoss` reboots the file system and clears this.
    ///
    /// To sweep: run the workload once to read `operationCount`, then for each
    /// `k` in `0...count`, rebuild, set `crashAfterOperations = k`, run, power
    /// loss, recover, check. It counts from creation, so add the count of any
    /// setup done before.
    public var crashAfterOperations: Int? {
        get { locked { $0.crashAfterOperations } }
        set { locked { $0.crashAfterOperations = newValue } }
    }

    /// The most recent mutating operations (`<number> <operation> <path>`)
    /// and power losses whose line contains any of `needles` (all of them
    /// when empty), oldest first; the log keeps the last 10,000–20,000.
    public func recentOperations(containing needles: [String] = []) -> [String] {
        locked { model in
            needles.isEmpty ? model.history : model.history.filter { line in needles.contains { line.contains($0) } }
        }
    }

    /// Whether the crash point was reached (and no power loss since).
    public var hasCrashed: Bool { locked { $0.crashed } }

    // MARK: Disk full

    /// When set, a write that would make the total size of all files exceed
    /// this many bytes writes the part that fits and throws ENOSPC (`.noSpace`).
    /// Truncating and removing files frees space; `nil` means unlimited. Files
    /// removed while still open stop counting at once.
    public var capacityBytes: Int? {
        get { locked { $0.capacityBytes } }
        set { locked { $0.capacityBytes = newValue } }
    }

    /// The total size of all files that have a name.
    public var usedBytes: Int { locked { $0.usedBytes } }

    // MARK: Errors

    /// Makes matching calls of `operation` throw `IOError(errno:)`.
    ///
    /// - Parameters:
    ///   - pathContains: only calls whose path contains this text (`nil`: all).
    ///   - afterHits: how many matching calls succeed first.
    ///   - mode: `.once` fails one call; `.always` fails every later one too.
    ///   - errno: the error to report, e.g. `EIO`, `ENOSPC`, `EACCES`.
    ///
    /// A failing call has no effect, except a failing sync, which forgets the
    /// file's unsynced writes as Linux does (see the type's documentation).
    public func injectError(
        _ operation: FaultOperation, pathContains: String? = nil, afterHits: Int = 0,
        mode: FaultMode, errno: Int32
    ) {
        precondition(afterHits >= 0, "afterHits must not be negative")
        locked {
            $0.errorRules.append(
                ErrorRule(
                    operation: operation, pathContains: pathContains, hitsToSkip: afterHits, mode: mode, errno: errno))
        }
    }

    /// Makes `sync()` and `dataSync()` fail: the writes since the last sync do
    /// not become durable, and are not written by later syncs either.
    ///
    /// - Parameter code: `.io` (EIO, the default), `.noSpace` (ENOSPC) or
    ///   `.permissionDenied` (EROFS); other codes give EIO.
    public func failSyncs(mode: FaultMode, code: IOError.Code = .io, pathContains: String? = nil) {
        let err: Int32
        switch code {
        case .noSpace: err = ENOSPC
        case .permissionDenied: err = EROFS
        default: err = EIO
        }
        injectError(.sync, pathContains: pathContains, mode: mode, errno: err)
    }

    /// Removes every rule made by `injectError` and `failSyncs`.
    public func clearInjectedErrors() { locked { $0.errorRules.removeAll() } }

    /// Removes the rules for one operation.
    public func clearInjectedErrors(for operation: FaultOperation) {
        locked { $0.errorRules.removeAll { $0.operation == operation } }
    }

    // MARK: Corruption

    /// Makes `read` and `map` of files whose path contains `pathContains`
    /// return the byte at file offset `atOffset` XORed with `mask`. Stored
    /// data is unchanged (a flaky cable or bad RAM, not a bad disk).
    public func flipBitsOnRead(pathContains: String, atOffset: UInt64, mask: UInt8) {
        locked { $0.bitFlips.append(ReadBitFlip(pathContains: pathContains, offset: atOffset, mask: mask)) }
    }

    /// Removes every `flipBitsOnRead` rule.
    public func clearBitFlips() { locked { $0.bitFlips.removeAll() } }

    /// XORs the stored byte at `offset` of the file at `path` with `xor`, in
    /// what reads see and in what survives power loss (and in unsynced writes
    /// covering it): a bad sector. Not an operation: not counted, not failed.
    ///
    /// - Throws: `.notFound` if no file is at `path`; `.shortRead` if `offset`
    ///   is not inside the file.
    public func corruptStoredByte(path: String, offset: UInt64, xor: UInt8) throws {
        try locked { model in
            guard case .file(let inode)? = model.lookup(FaultModel.components(path)) else {
                throw IOError(errno: ENOENT, operation: "corrupt", path: path)
            }
            guard offset < UInt64(inode.current.count) else {
                throw IOError(
                    code: .shortRead, operation: "corrupt", path: path,
                    message: "cannot corrupt byte \(offset) of \(path): the file has only \(inode.current.count) bytes")
            }
            let index = Int(offset)
            inode.current[index] ^= xor
            if index < inode.durable.count { inode.durable[index] ^= xor }
            for i in inode.pending.indices {
                if case .write(let start, var bytes) = inode.pending[i], index >= start, index < start + bytes.count {
                    bytes[index - start] ^= xor
                    inode.pending[i] = .write(offset: start, bytes: bytes)
                }
            }
        }
    }

    /// Clears every fault: injected errors, bit flips, the capacity limit and
    /// the crash point (a crash already happened still needs a power loss).
    public func clearAllFaults() {
        locked { model in
            model.errorRules.removeAll()
            model.bitFlips.removeAll()
            model.capacityBytes = nil
            model.crashAfterOperations = nil
        }
    }

    // MARK: Inspection

    /// The bytes of the file at `path` that would survive a power loss now
    /// (ignoring whether its directory entry is durable), or `nil` when no file
    /// is there. Not an operation: works even after a crash.
    public func durableContents(of path: String) -> [UInt8]? {
        locked { model in
            guard case .file(let inode)? = model.lookup(FaultModel.components(path)) else { return nil }
            return inode.durable
        }
    }

    /// The number of unsynced writes and truncations of the file at `path`.
    public func unsyncedChangeCount(of path: String) -> Int {
        locked { model in
            guard case .file(let inode)? = model.lookup(FaultModel.components(path)) else { return 0 }
            return inode.pending.count
        }
    }
}
