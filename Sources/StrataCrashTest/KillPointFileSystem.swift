#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO

/// A named place in the engine's I/O where `strata crashtest --kill-at` can
/// kill the process: just before or just after one kind of file-system
/// operation on one kind of file, e.g. `rename.manifest.after` (the new
/// MANIFEST is in place, its directory not yet synced) or `sync.wal.before`
/// (a group of WAL records written, not yet `fdatasync`ed).
///
/// The points live in the I/O seam (`KillPointFileSystem` wraps the real file
/// system), not in the engine: a normal `strata` process never carries an
/// armed point; only `strata crashtest-child --kill-at` installs one.
public struct KillPoint: Hashable, Sendable, CustomStringConvertible {
    public enum Operation: String, Sendable, CaseIterable {
        /// `open` with `.create` or `.createNew`.
        case create
        case write
        case truncate
        /// `sync()` and `dataSync()`.
        case sync
        case syncdir
        case rename
        /// `removeFile` and `removeTree`.
        case remove
    }

    /// What a path is, from its name (docs/format/data-directory.md).
    public enum FileClass: String, Sendable, CaseIterable {
        case wal
        case segment
        case tombstones
        case manifest
        /// `config.json`, `aliases.json`, the `STRATA` marker.
        case config
        /// Snapshot archives and their `.sha256` files.
        case snapshot
        /// A restore's staging, commit record and swap (`.restore-…`, `.restored-old-…`).
        case restore
        /// Directories: `syncdir` of any directory, and collection create/delete renames.
        case directory
        case other

        public static func of(_ path: String, isDirectory: Bool = false) -> FileClass {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            if path.contains("/.restore-") || path.contains("/.restored-old-") || name.hasPrefix(".restore") {
                return .restore
            }
            if name.hasSuffix(".snapshot") || name.hasSuffix(".sha256") || name.hasSuffix(".snapshot.tmp")
                || path.contains("/snapshots/")
            {
                return .snapshot
            }
            if isDirectory { return .directory }
            if name.hasPrefix("wal-") { return .wal }
            if name.hasSuffix(".seg") || name.hasSuffix(".seg.tmp") { return .segment }
            if name.hasSuffix(".del") || name.hasSuffix(".del.tmp") { return .tombstones }
            if name.hasPrefix("MANIFEST") { return .manifest }
            if name.hasPrefix("config.json") || name.hasPrefix("aliases.json") || name.hasPrefix("STRATA") {
                return .config
            }
            if name.hasPrefix(".creating-") || name.hasPrefix(".deleting-") { return .directory }
            return .other
        }
    }

    public var operation: Operation
    public var file: FileClass
    /// Kill before the operation runs (`true`) or after it returned.
    public var before: Bool

    public init(_ operation: Operation, _ file: FileClass, before: Bool) {
        self.operation = operation
        self.file = file
        self.before = before
    }

    /// `<operation>.<file>.<before|after>`
    public var description: String { "\(operation.rawValue).\(file.rawValue).\(before ? "before" : "after")" }

    public init?(_ text: String) {
        let parts = text.split(separator: ".").map(String.init)
        guard parts.count == 3, let operation = Operation(rawValue: parts[0]), let file = FileClass(rawValue: parts[1]),
            parts[2] == "before" || parts[2] == "after"
        else { return nil }
        self.init(operation, file, before: parts[2] == "before")
    }

    /// The points the crash-test workloads reach, grouped by what the engine
    /// is doing there: WAL appends and rotation, WAL truncation, segment and
    /// tombstone publish, manifest update, snapshots and restores.
    public static let catalog: [KillPoint] = {
        var points: [KillPoint] = []
        func both(_ operation: Operation, _ file: FileClass) {
            points.append(KillPoint(operation, file, before: true))
            points.append(KillPoint(operation, file, before: false))
        }
        // WAL: appends (write, then fdatasync), rotation (sync old, create new, directory sync), truncation.
        both(.write, .wal); both(.sync, .wal); both(.create, .wal); both(.remove, .wal)
        // Segments and tombstones: written, synced, published.
        both(.create, .segment); both(.write, .segment); both(.sync, .segment); both(.remove, .segment)
        both(.write, .tombstones); both(.sync, .tombstones); both(.remove, .tombstones)
        // Manifest update: temp file written, synced, renamed over MANIFEST.
        both(.write, .manifest); both(.sync, .manifest); both(.rename, .manifest)
        // Every directory sync (publishing creates, renames, removals).
        both(.syncdir, .directory)
        // Snapshots: archive written, synced, published by rename.
        both(.write, .snapshot); both(.sync, .snapshot); both(.rename, .snapshot)
        // Restores: staging written, commit record, swap renames, cleanup.
        both(.write, .restore); both(.sync, .restore); both(.rename, .restore); both(.remove, .restore)
        return points
    }()
}

/// Wraps a file system and kills the process (SIGKILL, no cleanup, as `kill -9`
/// does) at the `hit`-th time the armed `KillPoint` is reached, after
/// reporting `K <point> <hit>` to the event sink.
public final class KillPointFileSystem: FileSystem, Sendable {
    private let base: any FileSystem
    private let point: KillPoint
    private let hit: Int
    private let sink: any CrashEventSink
    /// Guards the number of times the armed point was reached so far.
    private let hits = Locked(0)

    public init(wrapping base: any FileSystem, point: KillPoint, hit: Int, sink: any CrashEventSink) {
        self.base = base
        self.point = point
        self.hit = max(1, hit)
        self.sink = sink
    }

    func reach(_ operation: KillPoint.Operation, _ path: String, before: Bool, isDirectory: Bool = false) {
        guard operation == point.operation, before == point.before,
            KillPoint.FileClass.of(path, isDirectory: isDirectory) == point.file
        else { return }
        let count = hits.withLock { hits -> Int in
            hits += 1
            return hits
        }
        guard count == hit else { return }
        sink.emit("K \(point) \(count) \(path)")
        kill(getpid(), SIGKILL)
        pause()
    }

    func around<T>(
        _ operation: KillPoint.Operation, _ path: String, isDirectory: Bool = false, _ body: () throws -> T
    ) rethrows -> T {
        reach(operation, path, before: true, isDirectory: isDirectory)
        let result = try body()
        reach(operation, path, before: false, isDirectory: isDirectory)
        return result
    }

    public func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
        switch mode {
        case .create, .createNew:
            return KillPointFile(try around(.create, path) { try base.open(path, mode: mode) }, owner: self)
        case .readOnly, .readWrite:
            return KillPointFile(try base.open(path, mode: mode), owner: self)
        }
    }

    public func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    public func syncDirectory(_ path: String) throws {
        try around(.syncdir, path, isDirectory: true) { try base.syncDirectory(path) }
    }
    public func rename(_ source: String, to destination: String) throws {
        try around(.rename, source, isDirectory: base.fileKind(source) == .directory) {
            try base.rename(source, to: destination)
        }
    }
    public func removeFile(_ path: String) throws { try around(.remove, path) { try base.removeFile(path) } }
    public func removeTree(_ path: String) throws { try around(.remove, path) { try base.removeTree(path) } }
    public func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    public func fileKind(_ path: String) -> FileKind? { base.fileKind(path) }
    public func lock(_ path: String) throws -> FileLock { try base.lock(path) }
}

/// A file of `KillPointFileSystem`.
///
/// Thread safety: immutable after init; the wrapped file is thread-safe.
final class KillPointFile: StorageFile, Sendable {
    let file: any StorageFile
    let owner: KillPointFileSystem

    init(_ file: any StorageFile, owner: KillPointFileSystem) {
        self.file = file
        self.owner = owner
    }

    var path: String { file.path }
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try file.read(at: offset, into: buffer)
    }
    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws {
        try owner.around(.write, path) { try file.write(at: offset, bytes) }
    }
    func size() throws -> UInt64 { try file.size() }
    func truncate(to length: UInt64) throws { try owner.around(.truncate, path) { try file.truncate(to: length) } }
    func sync() throws { try owner.around(.sync, path) { try file.sync() } }
    func dataSync() throws { try owner.around(.sync, path) { try file.dataSync() } }
    func map(offset: UInt64, length: Int) throws -> MappedRegion { try file.map(offset: offset, length: length) }
}
