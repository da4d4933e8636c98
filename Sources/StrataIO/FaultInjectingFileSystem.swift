#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory `FileSystem` that remembers what would survive a power loss,
/// and injects the faults that real disks and kernels produce: lost unsynced
/// data, torn writes, lost directory operations, fsync EIO, ENOSPC, bit flips,
/// arbitrary errors, and crashes at the Nth mutating operation.
///
/// The model (after LevelDB's `fault_injection_test` and RocksDB's
/// `FaultInjectionTestFS`):
/// - A file is an inode with `current` bytes (what reads see) and `durable`
///   bytes (as of the last successful `sync()` or `dataSync()` on any handle of
///   it), plus the ordered unsynced writes and truncations since.
/// - A directory has its current entries and its durable entries (as of its
///   last `syncDirectory`). Creating, renaming and removing change only the
///   current entries. A new directory's own entry is not durable until its
///   parent is synced.
/// - `simulatePowerLoss(_:)` reverts every directory to its durable entries and
///   every file to its durable bytes (optionally keeping a prefix of the
///   unsynced writes, the last one torn), invalidates every handle and lock,
///   and then the file system works again, like a machine after a reboot.
/// - A failed sync (injected) does not make anything durable and, as on Linux
///   after a failed fsync, forgets the unsynced writes: a later successful sync
///   does not persist them either. The bytes stay readable until power loss.
///
/// Paths: absolute `/`-separated strings; relative paths are taken relative to
/// `/`. The root always exists; its entries follow the same rules as any
/// directory's. Use `init(durableDirectories:)` to start with a durable tree.
///
/// Not modelled: hard links, symlinks, permissions, timestamps, sparse files
/// (a zero-filled gap uses space), and page-cache eviction.
///
/// Thread safety: every method may be called from any thread; all state is
/// guarded by one mutex, so operations are atomic with respect to each other.
public final class FaultInjectingFileSystem: FileSystem, Sendable {
    /// Guards the model and every inode and directory reachable from it (also
    /// through `FaultInjectingFile.inode` and lock tokens): all of them are
    /// read and written only inside `locked`, which makes every access exclusive.
    private let model: Locked<FaultModel>

    /// Creates an empty file system whose root (`/`) always exists.
    ///
    /// - Parameter durableDirectories: directories (and their parents) to
    ///   create with durable entries, as if made and synced before the test.
    public init(durableDirectories: [String] = []) {
        let model = FaultModel()
        for path in durableDirectories {
            var directory = model.root
            for part in FaultModel.components(path) {
                let child: ModelDirectory
                if case .directory(let existing)? = directory.entries[part] {
                    child = existing
                } else {
                    child = ModelDirectory()
                    directory.entries[part] = .directory(child)
                }
                directory.durableEntries[part] = .directory(child)
                directory = child
            }
        }
        self.model = Locked(model)
    }

    /// Runs `body` with the model locked.
    @inline(__always)
    func locked<T>(_ body: (FaultModel) throws -> T) rethrows -> T {
        try model.withLock { try body($0) }
    }

    // MARK: FileSystem

    public func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
        try locked { model in
            let creates = mode == .create || mode == .createNew
            if creates { try model.beginMutation("open", path) } else { try model.checkAlive("open", path) }
            let canonical = FaultModel.canonical(path)
            try model.checkInjected(.open, [canonical], name: "open", reportedPath: path)
            let (directory, name) = try model.parent(of: path, operation: "open")
            let inode: ModelInode
            switch directory.entries[name] {
            case .directory?:
                throw IOError(errno: EISDIR, operation: "open", path: path)
            case .file(let existing)?:
                if mode == .createNew { throw IOError(errno: EEXIST, operation: "open", path: path) }
                inode = existing
            case nil:
                guard creates else { throw IOError(errno: ENOENT, operation: "open", path: path) }
                inode = ModelInode()
                directory.entries[name] = .file(inode)
            }
            return FaultInjectingFile(
                fileSystem: self, inode: inode, path: path, canonicalPath: canonical,
                writable: mode != .readOnly, epoch: model.epoch)
        }
    }

    public func createDirectory(_ path: String) throws {
        try locked { model in
            try model.beginMutation("mkdir", path)
            try model.checkInjected(.createDirectory, [FaultModel.canonical(path)], name: "mkdir", reportedPath: path)
            if path.isEmpty { throw IOError(errno: ENOENT, operation: "mkdir", path: path) }
            var directory = model.root
            for part in FaultModel.components(path) {
                switch directory.entries[part] {
                case .directory(let child)?:
                    directory = child
                case .file?:
                    throw IOError(
                        code: .alreadyExists, operation: "mkdir", path: path,
                        message: "mkdir failed on \(path): a file (not a directory) is in the way; move it aside")
                case nil:
                    let child = ModelDirectory()
                    directory.entries[part] = .directory(child)
                    directory = child
                }
            }
        }
    }

    public func syncDirectory(_ path: String) throws {
        try locked { model in
            try model.beginMutation("fsync directory", path)
            try model.checkInjected(
                .syncDirectory, [FaultModel.canonical(path)], name: "fsync directory", reportedPath: path)
            let directory = try model.directory(at: path, operation: "open directory")
            directory.durableEntries = directory.entries
            model.statistics.directorySyncs += 1
        }
    }

    public func rename(_ source: String, to destination: String) throws {
        try locked { model in
            let operation = "rename to \(destination)"
            try model.beginMutation(operation, source)
            try model.checkInjected(
                .rename, [FaultModel.canonical(source), FaultModel.canonical(destination)],
                name: operation, reportedPath: source)
            let (sourceDirectory, sourceName) = try model.parent(of: source, operation: operation)
            guard let moving = sourceDirectory.entries[sourceName] else {
                throw IOError(errno: ENOENT, operation: operation, path: source)
            }
            let (targetDirectory, targetName) = try model.parent(of: destination, operation: operation)
            let replaced = targetDirectory.entries[targetName]
            switch (moving, replaced) {
            case (.file(let a), .file(let b)?) where a === b:
                return
            case (.directory(let a), .directory(let b)?) where a === b:
                return
            case (.file, .directory?):
                throw IOError(errno: EISDIR, operation: operation, path: source)
            case (.directory, .file?):
                throw IOError(errno: ENOTDIR, operation: operation, path: source)
            case (.directory, .directory(let target)?) where !target.entries.isEmpty:
                throw IOError(errno: ENOTEMPTY, operation: operation, path: source)
            default:
                break
            }
            if case .directory = moving {
                // A directory cannot move below itself.
                let from = FaultModel.components(source)
                let to = FaultModel.components(destination)
                if to.count > from.count && Array(to.prefix(from.count)) == from {
                    throw IOError(errno: EINVAL, operation: operation, path: source)
                }
            }
            if let replaced { model.unlink(replaced) }
            sourceDirectory.entries[sourceName] = nil
            targetDirectory.entries[targetName] = moving
        }
    }

    public func removeFile(_ path: String) throws {
        try locked { model in try model.removeFile(path) }
    }

    public func removeTree(_ path: String) throws {
        try locked { model in
            try model.checkAlive("rmdir", path)
            try model.removeTree(path)
        }
    }

    public func listDirectory(_ path: String) throws -> [String] {
        try locked { model in
            try model.checkAlive("opendir", path)
            try model.checkInjected(.list, [FaultModel.canonical(path)], name: "opendir", reportedPath: path)
            return try model.directory(at: path, operation: "opendir").entries.keys.sorted()
        }
    }

    public func fileKind(_ path: String) -> FileKind? {
        locked { model in
            if path.isEmpty { return nil }
            switch model.lookup(FaultModel.components(path)) {
            case .file?: return .file
            case .directory?: return .directory
            case nil: return nil
            }
        }
    }

    public func lock(_ path: String) throws -> FileLock {
        let token: UInt64 = try locked { model in
            // Like POSIX: open(O_CREAT) then flock, so it counts as a mutation.
            try model.beginMutation("flock", path)
            try model.checkInjected(.lock, [FaultModel.canonical(path)], name: "flock", reportedPath: path)
            let (directory, name) = try model.parent(of: path, operation: "open lock file")
            let inode: ModelInode
            switch directory.entries[name] {
            case .directory?:
                throw IOError(errno: EISDIR, operation: "open lock file", path: path)
            case .file(let existing)?:
                inode = existing
            case nil:
                inode = ModelInode()
                directory.entries[name] = .file(inode)
            }
            let key = ObjectIdentifier(inode)
            if model.heldLocks[key] != nil {
                throw IOError(
                    code: .locked, operation: "flock", path: path, errno: EWOULDBLOCK,
                    message:
                        "\(path) is locked: another Strata process (or another open database in this process) is using this data directory; stop it or use another directory"
                )
            }
            model.nextLockToken += 1
            model.heldLocks[key] = (inode, model.nextLockToken)
            return model.nextLockToken
        }
        return FileLock(path: path) { [self] in
            locked { model in
                // A lock from before a power loss is already gone; releasing it
                // must not release a newer holder of the same inode.
                if let key = model.heldLocks.first(where: { $0.value.token == token })?.key {
                    model.heldLocks[key] = nil
                }
            }
        }
    }
}

extension FaultModel {
    func removeFile(_ path: String) throws {
        try beginMutation("unlink", path)
        try checkInjected(.remove, [Self.canonical(path)], name: "unlink", reportedPath: path)
        let (directory, name) = try parent(of: path, operation: "unlink")
        switch directory.entries[name] {
        case nil: throw IOError(errno: ENOENT, operation: "unlink", path: path)
        case .directory?: throw IOError(errno: EISDIR, operation: "unlink", path: path)
        case .file(let inode)?:
            unlink(.file(inode))
            directory.entries[name] = nil
        }
    }

    /// Removes entries one by one, deepest first, as `POSIXFileSystem` does, so
    /// each unlink and rmdir is its own mutating operation (and crash point).
    func removeTree(_ path: String) throws {
        if path.isEmpty { return }
        switch lookup(Self.components(path)) {
        case nil:
            return
        case .file?:
            try removeFile(path)
        case .directory(let directory)?:
            for name in directory.entries.keys.sorted() { try removeTree(joinPath(path, name)) }
            try beginMutation("rmdir", path)
            try checkInjected(.remove, [Self.canonical(path)], name: "rmdir", reportedPath: path)
            let (parentDirectory, name) = try parent(of: path, operation: "rmdir")
            parentDirectory.entries[name] = nil
        }
    }
}
