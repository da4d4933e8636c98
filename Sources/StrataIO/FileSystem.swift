/// The one seam between Strata's storage code and the operating system.
///
/// Every byte the engine reads or writes, every fsync, rename, directory
/// listing, lock and memory mapping goes through a `FileSystem`, so that tests
/// can replace the real one (`POSIXFileSystem`) with `FaultInjectingFileSystem`,
/// which drops unsynced data at a simulated power loss, tears writes, and
/// injects EIO and ENOSPC.
///
/// Durability contract (what storage code may rely on, and what it must do):
/// - Bytes written to a file are durable only after `StorageFile.sync()` or
///   `StorageFile.dataSync()` returns on that file.
/// - A created, renamed or removed directory entry is durable only after
///   `syncDirectory(_:)` on its parent returns.
/// - `rename(_:to:)` replaces the destination atomically: after a crash the
///   name refers to the old or the new file, never a mix.
/// - After a sync fails, the state of unsynced data is unknown; callers must
///   stop and report, never retry and assume success.
///
/// Paths are plain absolute or relative strings, `/`-separated.
/// Implementations are thread-safe.
public protocol FileSystem: Sendable {
    /// Opens (and with `.create`, creates) a regular file.
    func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile

    /// Creates a directory and any missing parents. Not durable until the
    /// parent directory is synced.
    func createDirectory(_ path: String) throws

    /// Makes the directory's entries (creates, renames, removals) durable.
    func syncDirectory(_ path: String) throws

    /// Atomically renames `source` to `destination`, replacing it if present.
    func rename(_ source: String, to destination: String) throws

    /// Removes a file. Throws `.notFound` when it does not exist.
    func removeFile(_ path: String) throws

    /// Removes a directory and everything below it.
    func removeTree(_ path: String) throws

    /// The names (not paths) in a directory, sorted, without `.` and `..`.
    func listDirectory(_ path: String) throws -> [String]

    /// What is at `path`, or `nil` when nothing is.
    func fileKind(_ path: String) -> FileKind?

    /// Takes an exclusive lock on `path` (created if missing), held until the
    /// returned `FileLock` is released or the process dies. Throws `.locked`
    /// when another holder has it; never waits.
    func lock(_ path: String) throws -> FileLock
}

/// How to open a file.
public enum FileOpenMode: Sendable {
    /// Read only; the file must exist.
    case readOnly
    /// Read and write; the file must exist.
    case readWrite
    /// Read and write; created empty if missing (not durable until the parent
    /// directory is synced).
    case create
    /// Read and write; must not exist yet (`O_EXCL`).
    case createNew
}

/// A kind of directory entry.
public enum FileKind: Sendable, Equatable {
    case file
    case directory
}

/// An open file. Positional reads and writes are safe from several threads
/// at once; `append` is not safe to race with other writers of the same file.
/// The file is closed when the last reference goes away.
public protocol StorageFile: AnyObject, Sendable {
    var path: String { get }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read
    /// (fewer only at end of file).
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Writes all of `bytes` at `offset`, extending the file if needed.
    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws

    /// The current size in bytes.
    func size() throws -> UInt64

    /// Cuts or extends the file to `length` bytes.
    func truncate(to length: UInt64) throws

    /// `fsync`: data and metadata durable.
    func sync() throws

    /// `fdatasync`: data (and the size) durable; cheaper than `sync()`.
    func dataSync() throws

    /// Maps `length` bytes from `offset` read-only. The mapping stays valid
    /// until the `MappedRegion` is released, even after the file is closed.
    func map(offset: UInt64, length: Int) throws -> MappedRegion
}

extension StorageFile {
    /// Reads exactly `count` bytes at `offset`, or throws `.shortRead`.
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let got = try out.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        guard got == count else {
            throw IOError(
                code: .shortRead, operation: "read", path: path,
                message:
                    "read of \(count) bytes at offset \(offset) in \(path) got only \(got): the file is shorter than expected (truncated?)"
            )
        }
        return out
    }

    /// Reads the whole file.
    public func readAll() throws -> [UInt8] {
        let length = try size()
        return try read(at: 0, count: Int(length))
    }

    /// Writes a byte array at `offset`.
    public func write(at offset: UInt64, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(at: offset, $0) }
    }

    /// Writes `bytes` at the current end of the file and returns the offset they
    /// start at. Not atomic with respect to other writers of the same file: a
    /// file has one appender (the WAL keeps its own end offset for that reason).
    @discardableResult
    public func append(_ bytes: [UInt8]) throws -> UInt64 {
        let end = try size()
        try write(at: end, bytes)
        return end
    }
}

extension FileSystem {
    /// Writes `bytes` to `path` so that after a crash the path holds either its
    /// old content or exactly `bytes`: write a temp file, fsync it, rename it
    /// over `path`, fsync the directory. If writing or syncing the temp file
    /// fails, it is removed (best effort): a partial file must not hold on to
    /// the space of a full disk, and a file whose fsync failed is never used.
    public func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let temp = path + ".tmp"
        if fileKind(temp) != nil { try removeFile(temp) }
        let file = try open(temp, mode: .createNew)
        do {
            try file.write(at: 0, bytes)
            try file.sync()
        } catch {
            try? removeFile(temp)
            throw error
        }
        try rename(temp, to: path)
        try syncDirectory(parentDirectory(of: path))
    }

    /// Creates a directory (and parents) and makes its entry durable.
    public func createDirectoryDurably(_ path: String) throws {
        try createDirectory(path)
        try syncDirectory(parentDirectory(of: path))
    }
}

/// The directory part of a path (`"."` when there is none).
public func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

/// Joins path components with `/`.
public func joinPath(_ base: String, _ components: String...) -> String {
    var result = base
    for component in components {
        if result.hasSuffix("/") { result += component } else { result += "/" + component }
    }
    return result
}
