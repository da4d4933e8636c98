import Foundation
import StrataIO
import StrataSegment

/// Snapshots: consistent backups taken while writes continue, and restores
/// that verify everything before they touch live data and swap atomically.
/// Format and protocols: docs/format/snapshot.md.
///
/// Every method here blocks (it reads and writes whole files): call it off
/// the cooperative pool for big collections. One snapshot or restore runs at
/// a time per process (`snapshotLock`); writes and reads go on meanwhile,
/// except on collections a restore is replacing.
extension Database {
    /// Serialises snapshot creation, deletion and restore in this process. It
    /// guards no value in memory: what it protects is on disk (the snapshots
    /// directory, and the collections a restore replaces).
    static let snapshotLock = Locked(())

    /// Where this database writes and lists snapshots
    /// (`DatabaseOptions.snapshotsDirectory`, default `<data-dir>/snapshots`).
    public var snapshotsDirectory: String { Self.snapshotsPath(path, options) }

    // MARK: - Create

    /// Takes a snapshot of collection `name` while writes continue: flushes,
    /// then cuts a consistent view at the last applied operation (the
    /// snapshot's `opNum`) and writes `<snapshots>/<name>/<name>-<time>-<op>.snapshot`
    /// and its `.sha256`. With `incrementalFrom` (the path of an earlier
    /// snapshot of this collection, full or incremental, which is verified
    /// first) the archive leaves out the segment and tombstone files that
    /// snapshot's state already holds.
    ///
    /// Throws `.notFound` for an unknown collection, `.corruption` for a bad
    /// base archive, `.invalidArgument` for a base of another collection.
    ///
    /// For example:
    ///
    /// ```swift
    /// let base = try db.createSnapshot(of: "notes")
    /// // Later: only what changed since `base`.
    /// let later = try db.createSnapshot(of: "notes", incrementalFrom: base.path)
    /// print(later.path, later.opNum ?? 0)
    /// ```
    ///
    /// Blocking: it reads and writes whole files.
    @discardableResult
    public func createSnapshot(of name: String, incrementalFrom base: String? = nil) throws -> SnapshotDescription {
        try Self.snapshotLock.withLock { _ in
            let collection = try collection(name)
            do {
                let baseInfo = try base.map { try loadBase($0, kind: .collection, collection: name) }
                let view = try collection.store.captureSnapshotView()
                return try SnapshotWriter(fileSystem: fileSystem).write(
                    kind: .collection, collections: [(name, view)], rootFiles: [], base: baseInfo,
                    directory: joinPath(snapshotsDirectory, name))
            } catch {
                throw StrataError.wrapping(error, context: "snapshot of collection `\(name)`")
            }
        }
    }

    /// Takes a full-storage snapshot: every collection (each cut at its own
    /// last applied operation, as `createSnapshot(of:)` does) plus the data
    /// directory's own files (aliases.json), in one archive
    /// `<snapshots>/full-<time>.snapshot`. `incrementalFrom` as for a collection.
    @discardableResult
    public func createFullSnapshot(incrementalFrom base: String? = nil) throws -> SnapshotDescription {
        try Self.snapshotLock.withLock { _ in
            do {
                let baseInfo = try base.map { try loadBase($0, kind: .full, collection: nil) }
                var views: [(name: String, view: CollectionFileView)] = []
                for name in collectionNames() {
                    views.append((name, try collection(name).store.captureSnapshotView()))
                }
                var rootFiles: [SnapshotWriter.Source] = []
                for name in try fileSystem.listDirectory(path) where (try? Self.validateRootFileName(name)) != nil {
                    let file = joinPath(path, name)
                    guard fileSystem.fileKind(file) == .file else { continue }
                    let bytes = try fileSystem.open(file, mode: .readOnly).readAll()
                    rootFiles.append(.init(path: name, size: UInt64(bytes.count), content: .bytes(bytes)))
                }
                return try SnapshotWriter(fileSystem: fileSystem).write(
                    kind: .full, collections: views, rootFiles: rootFiles, base: baseInfo, directory: snapshotsDirectory
                )
            } catch {
                throw StrataError.wrapping(error, context: "full-storage snapshot")
            }
        }
    }

    private func loadBase(
        _ path: String, kind: SnapshotManifest.Kind, collection: String?
    ) throws -> SnapshotWriter.Base {
        let scanned = try SnapshotReader(fileSystem: fileSystem).scan(path, expected: nil) { _ in nil }
        guard scanned.manifest.kind == kind, scanned.manifest.collection == collection else {
            throw StrataError.invalid(
                "the base snapshot \(path) holds \(SnapshotReader.describe(scanned.manifest)), not \(kind == .full ? "a full-storage snapshot" : "collection `\(collection ?? "")`")"
            )
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return SnapshotWriter.Base(name: name, sha256: scanned.sha256, manifest: scanned.manifest)
    }

    // MARK: - List, delete, verify

    /// The snapshots in the snapshots directory: of collection `collection`,
    /// or (nil) every full-storage and collection snapshot. Sorted by name.
    /// An archive still being written is never listed; one whose manifest
    /// cannot be read is listed with `problem` set.
    public func listSnapshots(collection: String? = nil) throws -> [SnapshotDescription] {
        try Self.listSnapshots(in: snapshotsDirectory, collection: collection, fileSystem: fileSystem)
    }

    static func listSnapshots(
        in root: String, collection: String?, fileSystem: any FileSystem
    ) throws -> [SnapshotDescription] {
        guard fileSystem.fileKind(root) == .directory else { return [] }
        var directories: [String] = []
        if let collection {
            try validateCollectionName(collection)
            directories = [joinPath(root, collection)]
        } else {
            directories = [root]
            for name in try fileSystem.listDirectory(root) where fileSystem.fileKind(joinPath(root, name)) == .directory
            {
                directories.append(joinPath(root, name))
            }
        }
        var result: [SnapshotDescription] = []
        let reader = SnapshotReader(fileSystem: fileSystem)
        for directory in directories where fileSystem.fileKind(directory) == .directory {
            for name in try fileSystem.listDirectory(directory) where name.hasSuffix(".snapshot") {
                let path = joinPath(directory, name)
                guard fileSystem.fileKind(path) == .file else { continue }
                var description = SnapshotDescription(name: name, path: path, size: 0)
                do {
                    description.size = try fileSystem.open(path, mode: .readOnly).size()
                    description.checksum = try reader.sidecarChecksum(path)
                    let manifest = try reader.readManifest(path)
                    description.kind = manifest.kind == .full ? .full : .collection
                    description.collection = manifest.collection
                    description.opNum = manifest.opNum
                    description.collections = Dictionary(
                        uniqueKeysWithValues: manifest.collections.map { ($0.name, $0.opNum) })
                    description.createdAt = manifest.createdAt
                    description.baseChecksum = manifest.base?.archiveSHA256
                    description.stateBytes = manifest.files.reduce(0) { $0 + $1.size }
                } catch {
                    description.problem = "\(error)"
                }
                result.append(description)
            }
        }
        return result.sorted { ($0.createdAt ?? "", $0.name) < ($1.createdAt ?? "", $1.name) }
    }

    /// Deletes the snapshot archive `name` (and its `.sha256`): of collection
    /// `collection`, or wherever it is in the snapshots directory. Throws
    /// `.notFound` if there is none, `.invalidArgument` for a name that is not
    /// a snapshot file name or matches several.
    public func deleteSnapshot(named name: String, collection: String? = nil) throws {
        try Self.snapshotLock.withLock { _ in
            guard name.hasSuffix(".snapshot"), !name.contains("/"), !name.hasPrefix(".") else {
                throw StrataError.invalid("\"\(name)\" is not a snapshot file name (<name>.snapshot, no '/')")
            }
            let matches = try listSnapshots(collection: collection).filter { $0.name == name }
            guard let match = matches.first else {
                throw StrataError(
                    .notFound,
                    "no snapshot named \(name) in \(snapshotsDirectory)\(collection.map { " for collection `\($0)`" } ?? "")"
                )
            }
            guard matches.count == 1 else {
                throw StrataError.invalid(
                    "several snapshots are named \(name): \(matches.map(\.path)); say which collection")
            }
            do {
                // The archive first: from then on it is not listed; an orphan
                // .sha256 left by a crash is removed at the next open.
                try fileSystem.removeFile(match.path)
                if fileSystem.fileKind(match.path + ".sha256") != nil {
                    try fileSystem.removeFile(match.path + ".sha256")
                }
                try fileSystem.syncDirectory(parentDirectory(of: match.path))
            } catch {
                throw StrataError.wrapping(error, context: "deleting snapshot \(match.path)")
            }
        }
    }

    /// Reads `archives` (one snapshot, or a chain: a full snapshot then its
    /// incrementals in order) to the end and checks everything a restore
    /// checks, without writing anything: the tar structure, every file's size
    /// and SHA-256, the archive's SHA-256 against its `.sha256` file and
    /// `checksum` (for the last archive), each collection's MANIFEST and WAL,
    /// the chain links. Throws `.corruption` (or `.invalidArgument`, `.notFound`)
    /// naming the archive, the file and what is wrong.
    ///
    /// It does not open the segment, tombstone and config files (a restore
    /// does, on its staged copy, before its commit point): an archive whose
    /// checksums were recomputed over bad files verifies but does not restore.
    public static func verifySnapshot(
        at archives: [String], checksum: String? = nil,
        fileSystem: any FileSystem = POSIXFileSystem()
    ) throws -> SnapshotVerification {
        let scanned = try SnapshotReader(fileSystem: fileSystem).readChain(archives, checksum: checksum)
        let final = scanned.last!
        let manifest = final.manifest
        let name = final.path.split(separator: "/").last.map(String.init) ?? final.path
        let description = SnapshotDescription(
            name: name, path: final.path, size: final.size, kind: manifest.kind == .full ? .full : .collection,
            collection: manifest.collection, opNum: manifest.opNum,
            collections: Dictionary(uniqueKeysWithValues: manifest.collections.map { ($0.name, $0.opNum) }),
            createdAt: manifest.createdAt, checksum: final.sha256, baseChecksum: manifest.base?.archiveSHA256,
            stateBytes: manifest.files.reduce(0) { $0 + $1.size })
        return SnapshotVerification(
            paths: scanned.map(\.path), checksums: scanned.map(\.sha256), snapshot: description,
            files: manifest.files.count, bytes: description.stateBytes)
    }

    // MARK: - Restore

    /// Restores `archives` (one snapshot, or a full snapshot followed by its
    /// incrementals in order) into this database.
    ///
    /// A collection snapshot becomes collection `name` (default: the name it
    /// was taken from). A full-storage snapshot replaces every collection and
    /// the aliases: collections it does not hold are removed.
    ///
    /// Protocol (docs/format/snapshot.md): every archive is read and every
    /// checksum checked while the files are unpacked into staging directories
    /// inside the data directory (never live names) and `fsync`ed; every staged
    /// collection is opened with the engine's open code and every segment
    /// checksum checked (`Collection.verifyFiles`); only then
    /// are the affected collections closed, a commit record written, and the
    /// staged directories renamed in. A crash before the commit record leaves
    /// the old state, after it the new one (finished at the next open). Handles
    /// to a replaced collection fail with `.closed`; call `collection(_:)` again.
    ///
    /// Throws `.alreadyExists` (nothing changed) when a collection would be
    /// replaced or removed and `overwrite` is false; `.corruption` and the
    /// others as `verifySnapshot` does, and `.corruption` naming the archive
    /// member when a staged collection does not open, before anything live changed.
    ///
    /// For example:
    ///
    /// ```swift
    /// // A chain, base first, as a new collection beside the live one.
    /// let restored = try db.restoreSnapshot(from: [base.path, later.path], as: "notes-copy")
    /// print(restored.collections)  // ["notes-copy": the snapshot's op number]
    ///
    /// // Over the live collection: needs `overwrite`; then ask for a new handle.
    /// try db.restoreSnapshot(from: [base.path], overwrite: true)
    /// let notes = try db.collection("notes")
    /// ```
    ///
    /// `checksum` is the SHA-256 (hex) the last archive must have; it is
    /// checked besides the archive's `.sha256` file, when there is one.
    @discardableResult
    public func restoreSnapshot(
        from archives: [String], as name: String? = nil, overwrite: Bool = false,
        checksum: String? = nil
    ) throws -> SnapshotRestoreResult {
        try Self.snapshotLock.withLock { _ in
            do {
                return try restoreLocked(archives, as: name, overwrite: overwrite, checksum: checksum)
            } catch {
                throw StrataError.wrapping(error, context: "restoring \(archives.last ?? "a snapshot")")
            }
        }
    }

    private func restoreLocked(
        _ archives: [String], as newName: String?, overwrite: Bool, checksum: String?
    ) throws
        -> SnapshotRestoreResult
    {
        let fileSystem = self.fileSystem
        let path = self.path
        let reader = SnapshotReader(fileSystem: fileSystem)
        guard let last = archives.last else { throw StrataError.invalid("no snapshot archive given") }
        let final = try reader.readManifest(last)
        if let newName {
            guard final.kind == .collection else {
                throw StrataError.invalid(
                    "\(last) is a full-storage snapshot: it restores every collection under its own name, so a new name cannot be given"
                )
            }
            try Self.validateCollectionName(newName)
        }
        // What the snapshot brings in, under which names.
        var targets: [String: SnapshotManifest.CollectionEntry] = [:]
        for entry in final.collections {
            targets[final.kind == .collection ? (newName ?? entry.name) : entry.name] = entry
        }
        let rootFiles = final.files.filter { !$0.path.contains("/") && final.kind == .full }.map(\.path)
        for file in rootFiles { try Self.validateRootFileName(file) }
        let affected = try affectedCollections(
            targets: Set(targets.keys), full: final.kind == .full, overwrite: overwrite)

        // 1. Unpack, verify and fsync under staging names.
        let token = RestoreJournal.newToken()
        let collectionsPath = joinPath(path, Self.collectionsDirectory)
        let staging = Dictionary(
            uniqueKeysWithValues: targets.keys.map {
                ($0, joinPath(collectionsPath, RestoreJournal.stagingName(token: token, collection: $0)))
            })
        let byArchiveName = Dictionary(uniqueKeysWithValues: targets.map { ($1.name, $0) })
        var createdDirectories: [String] = []
        var bytes: UInt64 = 0
        /// Staged file → the archive and member it came from, for errors.
        var members: [String: (archive: String, member: String)] = [:]
        func removeStaging() {
            for directory in staging.values { try? fileSystem.removeTree(directory) }
            for file in rootFiles {
                try? fileSystem.removeFile(joinPath(path, RestoreJournal.stagedRootFileName(token: token, file: file)))
            }
        }
        do {
            for directory in staging.values.sorted() {
                try fileSystem.createDirectory(directory)
                createdDirectories.append(directory)
            }
            _ = try reader.readChain(archives, checksum: checksum) { index, entry in
                let destination: String
                if let collection = final.collections.first(where: {
                    entry.path.hasPrefix($0.directory) && !$0.directory.isEmpty
                })
                    ?? (final.kind == .collection ? final.collections.first : nil)
                {
                    let relative = String(entry.path.dropFirst(collection.directory.count))
                    let directory = staging[byArchiveName[collection.name]!]!
                    if let slash = relative.lastIndex(of: "/") {
                        let subdirectory = joinPath(directory, String(relative[..<slash]))
                        if fileSystem.fileKind(subdirectory) == nil {
                            try fileSystem.createDirectory(subdirectory)
                            createdDirectories.append(subdirectory)
                        }
                    }
                    destination = joinPath(directory, relative)
                } else {
                    destination = joinPath(path, RestoreJournal.stagedRootFileName(token: token, file: entry.path))
                }
                bytes += entry.size
                members[destination] = (archives[index], entry.path)
                return try fileSystem.open(destination, mode: .createNew)
            }
            // 2. Open every staged collection as the engine will after the
            // commit, and check every checksum of every segment: the archive's
            // SHA-256s only say the files are the ones its writer hashed.
            for (target, entry) in targets.sorted(by: { $0.key < $1.key }) {
                try verifyStaged(entry, as: target, directory: staging[target]!, archive: last, members: members)
            }
            // Files were synced as they were written; now every directory
            // entry, deepest first, then the parents of the staging names.
            for directory in createdDirectories.sorted(by: { $0.count > $1.count }) {
                try fileSystem.syncDirectory(directory)
            }
            try fileSystem.syncDirectory(collectionsPath)
            if !rootFiles.isEmpty { try fileSystem.syncDirectory(path) }
        } catch {
            removeStaging()
            throw error
        }

        // 3. Commit and swap, with the affected collections closed.
        return try state.withLock { state in
            do {
                try checkOpen(state)
                let nowAffected = try affectedCollections(
                    targets: Set(targets.keys), full: final.kind == .full, overwrite: overwrite, locked: state)
                guard nowAffected == affected || overwrite else {
                    throw StrataError(.alreadyExists, "collections changed during the restore")
                }
            } catch {
                removeStaging()
                throw error
            }
            let closing =
                final.kind == .full
                ? Array(state.collections.keys) : targets.keys.filter { state.collections[$0] != nil }
            for name in closing {
                state.collections[name]?.close()
                state.collections[name] = nil
            }
            let journal = RestoreJournal(
                token: token, collections: targets.keys.sorted(),
                removeCollections: final.kind == .full ? closing.filter { targets[$0] == nil }.sorted() : [],
                rootFiles: rootFiles.sorted(),
                removeRootFiles: final.kind == .full && !rootFiles.contains(AliasTable.fileName)
                    ? [AliasTable.fileName] : [])
            do {
                try fileSystem.writeAtomically(
                    joinPath(collectionsPath, RestoreJournal.commitName(token: token)), try journal.encoded())
            } catch {
                // Not committed (a crash here would roll back too): reopen the old state.
                removeStaging()
                for name in closing {
                    state.collections[name] = try? Collection.open(
                        name: name, directory: joinPath(collectionsPath, name), fileSystem: fileSystem,
                        options: options, walTotals: walTotals
                    )
                }
                throw error
            }
            do {
                try journal.rollForward(dataDirectory: path, fileSystem: fileSystem)
            } catch {
                throw StrataError(
                    .io,
                    "the restore is committed but could not be finished (\(error)); reopen the database to finish it (the collections affected are closed until then)"
                )
            }
            var restored: [String: UInt64] = [:]
            for (name, entry) in targets {
                state.collections[name] = try Collection.open(
                    name: name, directory: joinPath(collectionsPath, name), fileSystem: fileSystem, options: options,
                    walTotals: walTotals)
                restored[name] = entry.opNum
            }
            if final.kind == .full { try aliasTable.reload() }
            return SnapshotRestoreResult(collections: restored, replaced: affected.sorted(), bytes: bytes)
        }
    }

    /// Runs `Collection.verifyFiles` on the staged collection `directory`
    /// (collection `entry` of the archive, to become `target`). Throws an
    /// error naming the archive and member that holds the file at fault (the
    /// staged paths in the message are replaced by member paths), with the
    /// code of the problem (`.corruption` for bad bytes).
    private func verifyStaged(
        _ entry: SnapshotManifest.CollectionEntry, as target: String, directory: String, archive: String,
        members: [String: (archive: String, member: String)]
    ) throws {
        do {
            try Collection.verifyFiles(name: target, directory: directory, fileSystem: fileSystem)
        } catch {
            let wrapped = StrataError.wrapping(error, context: "opening the staged collection `\(target)`")
            // The lower layer's own words, without a context prefix.
            let detail = (error as? SegmentError)?.description ?? wrapped.message
            // The staged file the message names first is the file at fault
            // (the subject of the engine's messages comes first).
            let culprit = members.keys.filter { $0.hasPrefix(directory + "/") }
                .compactMap { file in detail.range(of: file).map { (file, $0.lowerBound) } }
                .min { $0.1 < $1.1 }.flatMap { members[$0.0] }
            var message = detail.replacingOccurrences(of: directory + "/", with: entry.directory)
            message = message.replacingOccurrences(
                of: directory, with: entry.directory.isEmpty ? "." : String(entry.directory.dropLast()))
            let place =
                culprit.map { "snapshot archive \($0.archive): member \($0.member)" }
                ?? "snapshot archive \(archive): collection `\(entry.name)`"
            throw StrataError(
                wrapped.code == .notFound ? .corruption : wrapped.code,
                "\(place) does not open (checked before anything live changed; nothing was changed): \(message)",
                cause: wrapped)
        }
    }

    /// The live collections a restore of `targets` replaces (and for a full
    /// restore, removes). Throws `.alreadyExists` if there are any and
    /// `overwrite` is false.
    private func affectedCollections(
        targets: Set<String>, full: Bool, overwrite: Bool, locked: State? = nil
    ) throws -> Set<String> {
        let existing = Set(locked.map { Array($0.collections.keys) } ?? collectionNames())
        let affected = full ? existing : existing.intersection(targets)
        if !affected.isEmpty && !overwrite {
            throw StrataError(
                .alreadyExists,
                "collection\(affected.count == 1 ? "" : "s") \(affected.sorted().map { "`\($0)`" }.joined(separator: ", ")) already exist\(affected.count == 1 ? "s" : ""); restoring over \(affected.count == 1 ? "it" : "them") needs overwrite (--force); nothing was changed"
            )
        }
        return affected
    }
}
