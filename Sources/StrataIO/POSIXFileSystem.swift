#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system: thin wrappers over POSIX calls, retrying on EINTR,
/// every failure turned into an `IOError` that names the call and the path.
public struct POSIXFileSystem: FileSystem {
    public init() {}

    public func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
        let flags: Int32
        switch mode {
        case .readOnly: flags = O_RDONLY
        case .readWrite: flags = O_RDWR
        case .create: flags = O_RDWR | O_CREAT
        case .createNew: flags = O_RDWR | O_CREAT | O_EXCL
        }
        let fd = retryingEINTR { Glibc.open(path, flags | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw IOError(errno: errno, operation: "open", path: path) }
        return POSIXFile(fd: fd, path: path)
    }

    public func createDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw IOError(errno: errno, operation: "mkdir", path: current)
            }
        }
        guard fileKind(path) == .directory else {
            throw IOError(
                code: .alreadyExists, operation: "mkdir", path: path,
                message: "mkdir failed on \(path): a file (not a directory) is in the way; move it aside")
        }
    }

    public func syncDirectory(_ path: String) throws {
        let fd = retryingEINTR { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw IOError(errno: errno, operation: "open directory", path: path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw IOError(errno: errno, operation: "fsync directory", path: path) }
    }

    public func rename(_ source: String, to destination: String) throws {
        if Glibc.rename(source, destination) != 0 {
            throw IOError(errno: errno, operation: "rename to \(destination)", path: source)
        }
    }

    public func removeFile(_ path: String) throws {
        if unlink(path) != 0 { throw IOError(errno: errno, operation: "unlink", path: path) }
    }

    public func removeTree(_ path: String) throws {
        // lstat, not stat: a symlink to a directory is removed as a link; following
        // it would delete the contents of a directory outside the tree.
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw IOError(errno: errno, operation: "lstat", path: path)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) { try removeTree(joinPath(path, name)) }
            if rmdir(path) != 0 { throw IOError(errno: errno, operation: "rmdir", path: path) }
        } else {
            try removeFile(path)
        }
    }

    public func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw IOError(errno: errno, operation: "opendir", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            // readdir returns nil both at the end and on error; only errno tells
            // them apart. A silently short listing would hide files from recovery.
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw IOError(errno: errno, operation: "readdir", path: path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func fileKind(_ path: String) -> FileKind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    public func lock(_ path: String) throws -> FileLock {
        let fd = retryingEINTR { Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw IOError(errno: errno, operation: "open lock file", path: path) }
        // flock locks belong to the open file description, so a second open()
        // in this same process conflicts too: one opener per directory.
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let err = errno
            close(fd)
            if err == EWOULDBLOCK {
                throw IOError(
                    code: .locked, operation: "flock", path: path, errno: err,
                    message:
                        "\(path) is locked: another Strata process (or another open database in this process) is using this data directory; stop it or use another directory"
                )
            }
            throw IOError(errno: err, operation: "flock", path: path)
        }
        return FileLock(path: path) {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }
}

/// An open POSIX file descriptor, closed on deinit.
///
/// Thread safety: `fd` is immutable; pread/pwrite/fsync on one descriptor are
/// thread-safe in the kernel.
final class POSIXFile: StorageFile, Sendable {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// `offset` as an `off_t` with room for `count` more bytes, or EINVAL
    /// (instead of a trap) when an offset read from a damaged file is absurd.
    private func fileOffset(_ offset: UInt64, count: Int, _ operation: String) throws -> off_t {
        guard let start = off_t(exactly: offset), count >= 0, start <= off_t.max - off_t(count) else {
            throw IOError(errno: EINVAL, operation: operation, path: path)
        }
        return start
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let start = try fileOffset(offset, count: buffer.count, "pread")
        return try transfer(buffer.count, "pread", stopAtZero: true) { done in
            pread(fd, buffer.baseAddress! + done, buffer.count - done, start + off_t(done))
        }
    }

    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws {
        let start = try fileOffset(offset, count: bytes.count, "pwrite")
        _ = try transfer(bytes.count, "pwrite", stopAtZero: false) { done in
            pwrite(fd, bytes.baseAddress! + done, bytes.count - done, start + off_t(done))
        }
    }

    /// Calls `call(done)` (a `pread` or `pwrite` of the bytes after the first
    /// `done`) until `count` bytes are done, retrying on EINTR; with
    /// `stopAtZero`, a call that moves 0 bytes (end of file) ends it early.
    /// Returns the bytes done. Throws the `IOError` of `operation` on failure.
    private func transfer(_ count: Int, _ operation: String, stopAtZero: Bool, _ call: (Int) -> Int) throws -> Int {
        var done = 0
        while done < count {
            let n = call(done)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(errno: errno, operation: operation, path: path)
            }
            if n == 0 && stopAtZero { break }
            done += n
        }
        return done
    }

    func size() throws -> UInt64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IOError(errno: errno, operation: "fstat", path: path) }
        return UInt64(info.st_size)
    }

    func truncate(to length: UInt64) throws {
        let newLength = try fileOffset(length, count: 0, "ftruncate")
        if retryingEINTR({ ftruncate(fd, newLength) }) != 0 {
            throw IOError(errno: errno, operation: "ftruncate", path: path)
        }
    }

    func sync() throws {
        if fsync(fd) != 0 { throw IOError(errno: errno, operation: "fsync", path: path) }
    }

    func dataSync() throws {
        if fdatasync(fd) != 0 { throw IOError(errno: errno, operation: "fdatasync", path: path) }
    }

    func map(offset: UInt64, length: Int) throws -> MappedRegion {
        if length == 0 { return MappedRegion(bytes: UnsafeRawBufferPointer(start: nil, count: 0), release: .none) }
        let fileSize = try size()
        // Checked without overflow: a negative length or a huge offset read from
        // a damaged header must be an error, not a trap.
        guard length > 0, offset <= fileSize, UInt64(length) <= fileSize - offset else {
            // Mapping past the end would turn a later access into SIGBUS.
            throw IOError(
                code: .shortRead, operation: "mmap", path: path,
                message:
                    "mmap of \(length) bytes at \(offset) in \(path) goes past its end (\(fileSize) bytes): the file is truncated"
            )
        }
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let alignedOffset = offset / page * page
        let slack = Int(offset - alignedOffset)
        guard let base = mmap(nil, length + slack, PROT_READ, MAP_SHARED, fd, off_t(alignedOffset)),
            base != MAP_FAILED
        else {
            throw IOError(errno: errno, operation: "mmap", path: path)
        }
        return MappedRegion(
            bytes: UnsafeRawBufferPointer(start: base + slack, count: length),
            release: .unmap(base, length + slack))
    }
}

@inline(__always)
func retryingEINTR(_ call: () -> Int32) -> Int32 {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}
