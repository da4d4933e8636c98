#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The in-memory model behind `FaultInjectingFileSystem`.
//
// Invariants (all hold whenever the file system's lock is not held):
// - `FaultModel` and every `ModelInode` / `ModelDirectory` reachable from it are
//   touched only inside `FaultInjectingFileSystem.locked` (its `Locked<FaultModel>`).
// - For every inode, replaying `pending` in order onto `durable` yields `current`,
//   except after a failed sync, which drops `pending` without replaying it (the
//   Linux behaviour after a failed fsync: the pages are marked clean, so the
//   writes are neither durable nor retried by a later sync).
// - `durable` and `current` never share storage while writes are in flight, so
//   a write or a sync costs time proportional to the bytes involved, not to the
//   file size (the arrays are mutated in place).
// - `usedBytes` is the sum of `current.count` over inodes with `isLinked == true`,
//   which are exactly the inodes reachable through `entries` from the root.
// - No hard links: an inode has at most one name in the current tree.

/// One unsynced change to a file, in the order it was made.
enum PendingChange {
    case write(offset: Int, bytes: [UInt8])
    case truncate(length: Int)
}

/// A regular file: what reads see, what survives power loss, and what lies between.
final class ModelInode {
    /// What reads see (the page cache).
    var current: [UInt8] = []
    /// What survives power loss (the disk, as of the last successful sync).
    var durable: [UInt8] = []
    /// Changes since `durable`, oldest first.
    var pending: [PendingChange] = []
    /// Whether a name in the current tree refers to this inode.
    var isLinked = true
}

/// A directory: its current entries and those that survive power loss.
final class ModelDirectory {
    var entries: [String: ModelNode] = [:]
    /// As of the last `syncDirectory` of this directory.
    var durableEntries: [String: ModelNode] = [:]
}

enum ModelNode {
    case file(ModelInode)
    case directory(ModelDirectory)
}

/// A rule of `injectError`: which calls it matches, how many it lets through,
/// and what it throws.
struct ErrorRule {
    var operation: FaultOperation
    var pathContains: String?
    var hitsToSkip: Int
    var mode: FaultMode
    var errno: Int32
}

/// A rule of `flipBitsOnRead`.
struct ReadBitFlip {
    var pathContains: String
    var offset: UInt64
    var mask: UInt8
}

/// Everything the fault-injecting file system knows. A class so that the
/// methods below can mutate it through `self` inside `FaultInjectingFileSystem.locked`.
final class FaultModel {
    let root = ModelDirectory()
    /// Bumped by every simulated power loss; handles and locks remember the
    /// epoch they were made in.
    var epoch: UInt64 = 0
    /// Set when the crash point is reached; cleared by power loss.
    var crashed = false
    var crashAfterOperations: Int?
    var operationCount = 0
    var capacityBytes: Int?
    var usedBytes = 0
    var errorRules: [ErrorRule] = []
    var bitFlips: [ReadBitFlip] = []
    /// Held locks by inode; the token tells a stale release from a current one.
    var heldLocks: [ObjectIdentifier: (inode: ModelInode, token: UInt64)] = [:]
    var nextLockToken: UInt64 = 0
    var statistics = FaultInjectingFileSystem.Statistics()

    /// Files larger than this are refused with EFBIG, so a wild offset from a
    /// corrupt header fails cleanly instead of exhausting memory.
    static let maximumFileSize = 1 << 34

    // MARK: Paths

    /// The canonical absolute form of `path`: components without `.`, `..` or
    /// empty parts. Relative paths are taken relative to `/`.
    static func components(_ path: String) -> [String] {
        var parts: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(String(part))
        }
        return parts
    }

    static func canonical(_ path: String) -> String {
        "/" + components(path).joined(separator: "/")
    }

    func lookup(_ parts: [String]) -> ModelNode? {
        var node = ModelNode.directory(root)
        for part in parts {
            guard case .directory(let directory) = node, let next = directory.entries[part] else { return nil }
            node = next
        }
        return node
    }

    /// The directory that holds (or would hold) the last component of `path`.
    func parent(of path: String, operation: String) throws -> (directory: ModelDirectory, name: String) {
        let parts = Self.components(path)
        guard let name = parts.last else {
            throw IOError(errno: path.isEmpty ? ENOENT : EISDIR, operation: operation, path: path)
        }
        switch lookup(Array(parts.dropLast())) {
        case .directory(let directory)?: return (directory, name)
        case .file?: throw IOError(errno: ENOTDIR, operation: operation, path: path)
        case nil: throw IOError(errno: ENOENT, operation: operation, path: path)
        }
    }

    func directory(at path: String, operation: String) throws -> ModelDirectory {
        if path.isEmpty { throw IOError(errno: ENOENT, operation: operation, path: path) }
        switch lookup(Self.components(path)) {
        case .directory(let directory)?: return directory
        case .file?: throw IOError(errno: ENOTDIR, operation: operation, path: path)
        case nil: throw IOError(errno: ENOENT, operation: operation, path: path)
        }
    }

    // MARK: Faults

    /// Throws if the file system is crashed.
    func checkAlive(_ operation: String, _ path: String) throws {
        if crashed { throw Self.crashError(operation, path, first: false) }
    }

    /// Counts one mutating operation, or crashes if the crash point is reached.
    func beginMutation(_ operation: String, _ path: String) throws {
        try checkAlive(operation, path)
        if let limit = crashAfterOperations, operationCount >= limit {
            crashed = true
            throw Self.crashError(operation, path, first: true)
        }
        operationCount += 1
        history.append("\(operationCount) \(operation) \(path)")
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit / 2) }
    }

    /// The last mutating operations (`<count> <operation> <path>`) and power
    /// losses, for explaining a failure; bounded.
    var history: [String] = []
    static let historyLimit = 20_000

    static func crashError(_ operation: String, _ path: String, first: Bool) -> IOError {
        let what =
            first
            ? "simulated crash: the crash point was reached at this \(operation)"
            : "simulated crash: the file system crashed earlier and refuses \(operation)"
        return IOError(
            code: .io, operation: operation, path: path, errno: EIO,
            message: "\(what) on \(path); call simulatePowerLoss() to reboot it")
    }

    /// Throws the injected error for this call, if a rule says so.
    /// `paths` are canonical; a rule matches when any of them contains its text.
    func injectedError(_ operation: FaultOperation, _ paths: [String], name: String, reportedPath: String) -> IOError? {
        var firing: Int?
        for index in errorRules.indices where errorRules[index].operation == operation {
            if let needle = errorRules[index].pathContains, !paths.contains(where: { $0.contains(needle) }) { continue }
            if errorRules[index].hitsToSkip > 0 {
                errorRules[index].hitsToSkip -= 1
            } else if firing == nil {
                firing = index
            }
        }
        guard let index = firing else { return nil }
        let rule = errorRules[index]
        if rule.mode == .once { errorRules.remove(at: index) }
        let base = IOError(errno: rule.errno, operation: name, path: reportedPath)
        return IOError(
            code: base.code, operation: name, path: reportedPath, errno: rule.errno,
            message: "injected fault: \(base.message)")
    }

    func checkInjected(_ operation: FaultOperation, _ paths: [String], name: String, reportedPath: String) throws {
        if let error = injectedError(operation, paths, name: name, reportedPath: reportedPath) { throw error }
    }

    func applyBitFlips(path: String, offset: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int) {
        for flip in bitFlips where path.contains(flip.pathContains) {
            guard flip.offset >= UInt64(offset), flip.offset < UInt64(offset) + UInt64(count) else { continue }
            let index = Int(flip.offset) - offset
            buffer[index] ^= flip.mask
        }
    }

    // MARK: Space

    /// Frees the space of every file below `node` (it is leaving the current tree).
    func unlink(_ node: ModelNode) {
        switch node {
        case .file(let inode):
            if inode.isLinked {
                inode.isLinked = false
                usedBytes -= inode.current.count
            }
        case .directory(let directory):
            for child in directory.entries.values { unlink(child) }
        }
    }

    /// Recomputes `isLinked` and `usedBytes` from the current tree.
    func recountSpace() {
        var total = 0
        var seenDirectories = Set<ObjectIdentifier>()
        func visit(_ directory: ModelDirectory) {
            guard seenDirectories.insert(ObjectIdentifier(directory)).inserted else { return }
            for node in directory.entries.values {
                switch node {
                case .file(let inode):
                    inode.isLinked = true
                    total += inode.current.count
                case .directory(let child):
                    visit(child)
                }
            }
        }
        visit(root)
        usedBytes = total
    }
}

// MARK: Byte arrays

/// Writes `bytes` at `offset`, zero-filling any gap past the end.
func applyWrite(_ bytes: UnsafeRawBufferPointer, at offset: Int, to data: inout [UInt8]) {
    let end = offset + bytes.count
    if data.count < offset { data.append(contentsOf: repeatElement(0, count: offset - data.count)) }
    let overlap = min(end, data.count) - offset
    if overlap > 0 {
        data.withUnsafeMutableBytes { target in
            target.baseAddress!.advanced(by: offset).copyMemory(from: bytes.baseAddress!, byteCount: overlap)
        }
    }
    if end > data.count {
        data.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[overlap...]))
    }
}

/// Cuts or zero-extends to `length`.
func applyTruncate(to length: Int, _ data: inout [UInt8]) {
    if length < data.count {
        data.removeSubrange(length...)
    } else if length > data.count {
        data.append(contentsOf: repeatElement(0, count: length - data.count))
    }
}

func apply(_ change: PendingChange, to data: inout [UInt8]) {
    switch change {
    case .write(let offset, let bytes):
        bytes.withUnsafeBytes { applyWrite($0, at: offset, to: &data) }
    case .truncate(let length):
        applyTruncate(to: length, &data)
    }
}
