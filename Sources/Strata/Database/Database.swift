import Foundation
import StrataIO
import StrataWAL

/// A Strata data directory, open in this process: the entry point of the
/// embedded API.
///
/// ```swift
/// let db = try Database.open(at: "./data")
/// let docs = try db.createCollection("docs", config: CollectionConfig(size: 384, distance: .cosine))
/// try await docs.upsert([PointStruct(id: 1, vector: embedding, payload: ["title": "Hello"])])
/// let hits = try docs.search(queryEmbedding, limit: 10, withPayload: true)
/// ```
///
/// One process (and one `Database` in it) may open a directory at a time; a
/// second opener gets `.locked`. All methods are thread-safe. Writes are
/// `async` (they wait for the write-ahead log's group commit); reads are
/// synchronous and CPU-bound, so call them from your own threads or tasks as
/// suits you.
///
/// Layout on disk (docs/architecture.md):
/// `LOCK`, `STRATA` (format marker), `collections/<name>/config.json`,
/// `collections/<name>/wal/wal-*.log`.
public final class Database: Sendable {
    /// The data directory's path, as given to `open(at:options:fileSystem:)`.
    public let path: String
    /// The options the database was opened with.
    ///
    /// Fixed once open, except for the replication hook in
    /// `options.replication`, which `setReplicationHook(_:)` changes.
    public let options: DatabaseOptions
    let fileSystem: any FileSystem
    /// Every collection's WAL counters, added up since this database was opened.
    let walTotals: WALTotals

    /// WAL records, group commits and fdatasyncs of every collection since the
    /// database was opened, deleted and reopened collections included (a
    /// collection's own `walStatistics` start from zero at each open): they
    /// only grow, for `/metrics`' counters.
    public var walStatistics: WALStatistics { walTotals.statistics }
    private let lock: FileLock
    /// Guards the open collections and whether the database is closed; held
    /// across a collection's creation and deletion, so they are serialised.
    let state: Locked<State>
    /// Collection aliases (Database+Aliases.swift).
    let aliasTable: AliasTable

    struct State {
        var collections: [String: Collection] = [:]
        var closed = false
    }

    static let markerName = "STRATA"
    static let markerContents = #"{"format":"strata-data-directory","version":1}"# + "\n"
    static let collectionsDirectory = "collections"

    /// Opens (creating if needed) the data directory at `path` and recovers
    /// every collection by replaying its write-ahead log.
    ///
    /// For example:
    ///
    /// ```swift
    /// let db = try Database.open(at: "./data")
    /// defer { db.close() }
    ///
    /// // Acknowledge writes before they are synced: a power cut may lose the last 100 ms.
    /// let cache = try Database.open(
    ///     at: "./cache", options: DatabaseOptions(durability: .periodic(milliseconds: 100)))
    /// ```
    ///
    /// Also finishes or rolls back a snapshot restore or a collection rename
    /// that a crash interrupted. A path that does not exist is created; an
    /// existing directory must be empty or a Strata data directory.
    ///
    /// Throws `.locked` if another process or handle has it open, `.corruption`
    /// naming the file when something on disk fails its checks,
    /// `.invalidArgument` when `path` is not a directory or is a non-empty
    /// directory that is not a Strata data directory.
    public static func open(
        at path: String, options: DatabaseOptions = DatabaseOptions(),
        fileSystem: any FileSystem = POSIXFileSystem()
    ) throws -> Database {
        do {
            if fileSystem.fileKind(path) == nil { try fileSystem.createDirectoryDurably(path) }
            guard fileSystem.fileKind(path) == .directory else {
                throw StrataError(.invalidArgument, "\(path) exists and is not a directory")
            }
            let lock = try fileSystem.lock(joinPath(path, "LOCK"))
            let marker = joinPath(path, markerName)
            if fileSystem.fileKind(marker) == nil {
                let existing = try fileSystem.listDirectory(path).filter { $0 != "LOCK" }
                guard existing.isEmpty || existing == [collectionsDirectory] else {
                    throw StrataError(
                        .invalidArgument,
                        "\(path) is not empty and is not a Strata data directory (no \(markerName) file); choose an empty or new directory"
                    )
                }
                try fileSystem.writeAtomically(marker, Array(markerContents.utf8))
            } else {
                let contents = try fileSystem.open(marker, mode: .readOnly).readAll()
                guard String(decoding: contents, as: UTF8.self) == markerContents else {
                    throw StrataError(
                        .corruption,
                        "\(marker) does not hold the expected format marker: this directory was written by an incompatible version or is damaged"
                    )
                }
            }
            // From here on a failure must close what was opened: an opened
            // collection runs a WAL writer and an optimizer, and left running
            // after a failed open (with the lock released) it would keep writing
            // files that the next open treats as its own.
            var collections: [String: Collection] = [:]
            let walTotals = WALTotals()
            do {
                let collectionsPath = joinPath(path, collectionsDirectory)
                if fileSystem.fileKind(collectionsPath) == nil {
                    try fileSystem.createDirectoryDurably(collectionsPath)
                }
                // Finish or roll back an interrupted restore first (Snapshots/RestoreJournal.swift).
                try recoverSnapshotWork(at: path, options: options, fileSystem: fileSystem)
                // Finish a rename that passed its commit point (Database+Rename.swift).
                try recoverRename(at: path, fileSystem: fileSystem)
                for name in try fileSystem.listDirectory(collectionsPath) {
                    let entry = joinPath(collectionsPath, name)
                    if name.hasPrefix(".") {
                        // A create or delete that a crash interrupted: never published
                        // (create) or already unpublished (delete).
                        try fileSystem.removeTree(entry)
                        continue
                    }
                    collections[name] = try Collection.open(
                        name: name, directory: entry, fileSystem: fileSystem, options: options, walTotals: walTotals)
                }
                let aliasTable = try AliasTable.load(directory: path, fileSystem: fileSystem)
                return Database(
                    path: path, options: options, fileSystem: fileSystem, lock: lock, collections: collections,
                    aliasTable: aliasTable, walTotals: walTotals)
            } catch {
                for collection in collections.values { collection.close() }
                lock.release()
                throw error
            }
        } catch {
            throw StrataError.wrapping(error, context: "opening the database at \(path)")
        }
    }

    private init(
        path: String, options: DatabaseOptions, fileSystem: any FileSystem, lock: FileLock,
        collections: [String: Collection], aliasTable: AliasTable, walTotals: WALTotals
    ) {
        self.walTotals = walTotals
        self.aliasTable = aliasTable
        self.path = path
        self.options = options
        self.fileSystem = fileSystem
        self.lock = lock
        self.state = Locked(State(collections: collections))
    }

    /// Names of all collections, sorted.
    public func collectionNames() -> [String] {
        state.withLock { $0.collections.keys.sorted() }
    }

    /// The collection called `name`; throws `.notFound` if there is none.
    public func collection(_ name: String) throws -> Collection {
        try state.withLock { state in
            try checkOpen(state)
            guard let collection = state.collections[name] else {
                throw StrataError(.notFound, "Collection `\(name)` doesn't exist!")
            }
            return collection
        }
    }

    /// Creates a collection, durably: after this returns the collection survives
    /// a crash. Throws `.alreadyExists` for a taken name and `.invalidArgument`
    /// for a bad name or config; nothing is changed then.
    ///
    /// For example:
    ///
    /// ```swift
    /// // One unnamed vector of 4 dimensions.
    /// let notes = try db.createCollection("notes", config: CollectionConfig(size: 4, distance: .cosine))
    ///
    /// // Named vectors: points carry either or both; queries say which with `using`.
    /// let media = try db.createCollection(
    ///     "media",
    ///     config: CollectionConfig(vectors: [
    ///         "text": VectorParams(size: 384, distance: .cosine),
    ///         "image": VectorParams(size: 512, distance: .dot),
    ///     ]))
    /// ```
    ///
    /// Names are 1–255 bytes of letters, digits, `_`, `-`, `.` and `~`, not
    /// starting with `.` or `~`.
    @discardableResult
    public func createCollection(_ name: String, config: CollectionConfig) throws -> Collection {
        try Self.validateCollectionName(name)
        try config.validate()
        return try state.withLock { state in
            try checkOpen(state)
            guard state.collections[name] == nil else {
                throw StrataError(.alreadyExists, "Collection `\(name)` already exists!")
            }
            let collectionsPath = joinPath(path, Self.collectionsDirectory)
            let staging = joinPath(collectionsPath, ".creating-\(name)")
            let final = joinPath(collectionsPath, name)
            do {
                try fileSystem.removeTree(staging)
                try fileSystem.createDirectory(staging)
                try Collection.writeConfig(config, directory: staging, fileSystem: fileSystem)
                try fileSystem.syncDirectory(collectionsPath)
                try fileSystem.rename(staging, to: final)
                try fileSystem.syncDirectory(collectionsPath)
                let collection = try Collection.open(
                    name: name, directory: final, fileSystem: fileSystem, options: options, walTotals: walTotals)
                state.collections[name] = collection
                return collection
            } catch {
                try? fileSystem.removeTree(staging)
                throw StrataError.wrapping(error, context: "creating collection `\(name)`")
            }
        }
    }

    /// Deletes a collection and all its points, durably. Reads and writes
    /// through handles to it throw `.notFound` afterwards, as the name does.
    /// Throws `.notFound` if there is none.
    public func deleteCollection(_ name: String) throws {
        try state.withLock { state in
            try checkOpen(state)
            guard let collection = state.collections[name] else {
                throw StrataError(.notFound, "Collection `\(name)` doesn't exist!")
            }
            collection.deleted.withLock { $0 = true }
            collection.close()
            state.collections[name] = nil
            let collectionsPath = joinPath(path, Self.collectionsDirectory)
            let doomed = joinPath(collectionsPath, ".deleting-\(name)-\(UUID().uuidString.prefix(8))")
            do {
                try fileSystem.rename(joinPath(collectionsPath, name), to: doomed)
                try fileSystem.syncDirectory(collectionsPath)
                try fileSystem.removeTree(doomed)
            } catch {
                throw StrataError.wrapping(error, context: "deleting collection `\(name)`")
            }
        }
    }

    /// Finishes queued writes, syncs, closes every collection and releases the
    /// directory lock. Idempotent.
    public func close() {
        let collections: [Collection] = state.withLock { state in
            if state.closed { return [] }
            state.closed = true
            return Array(state.collections.values)
        }
        for collection in collections { collection.close() }
        lock.release()
    }

    deinit { close() }

    func checkOpen(_ state: State) throws {
        if state.closed { throw StrataError(.closed, "the database at \(path) is closed") }
    }

    /// Collection names: 1–255 bytes of letters, digits, `_`, `-`, `.` and
    /// `~`, not starting with `.` or `~` (a cluster names the shards of a
    /// sharded collection `name~i`; its nodes refuse `~` in users' names).
    static func validateCollectionName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D || byte == 0x2E || byte == 0x7E
        }
        guard !name.isEmpty, name.utf8.count <= 255, allowed, !name.hasPrefix("."), !name.hasPrefix("~") else {
            throw StrataError.invalid(
                "collection name \"\(name)\" is not allowed: use 1–255 letters, digits, '_', '-', '.' or '~', not starting with '.' or '~'"
            )
        }
    }
}
