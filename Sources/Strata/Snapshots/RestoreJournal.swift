import Foundation
import StrataIO

/// The commit record of a restore, and the idempotent step that finishes it
/// (docs/format/snapshot.md, "Restore protocol").
///
/// Everything a restore brings in is first unpacked, verified and `fsync`ed
/// under names no open considers live: `collections/.restore-<token>-<name>/`
/// per collection and `<data-dir>/.restore-<token>-<file>` per data-directory
/// file (aliases.json). Then this record is written atomically as
/// `collections/.restore-<token>.commit`: **the commit point**. Before it, a
/// crash leaves only staged names, which the next open removes (the old state
/// stays). After it, `rollForward` moves the staged names in; it runs again at
/// every open until it has finished, so a crash at any step ends in the new state.
///
/// `rollForward` is idempotent because each swap is decided by what exists:
/// a staged directory that still exists has not been moved in yet, so a live
/// directory of that name is the old one and is moved aside first. Both
/// renames happen in `collections/`, one directory, so no crash can leave an
/// entry in two places or in none.
struct RestoreJournal: Codable, Equatable {
    static let formatName = "strata-restore"

    var format = formatName
    var version = 1
    var token: String
    /// Staged collections to move in, replacing live ones of the same name.
    var collections: [String]
    /// Live collections to remove (a full restore of a snapshot without them).
    var removeCollections: [String]
    /// Staged data-directory files to move in.
    var rootFiles: [String]
    /// Data-directory files to remove (a full snapshot without aliases.json).
    var removeRootFiles: [String]

    enum CodingKeys: String, CodingKey {
        case format, version, token, collections
        case removeCollections = "remove_collections"
        case rootFiles = "root_files"
        case removeRootFiles = "remove_root_files"
    }

    static func stagingName(token: String, collection: String) -> String { ".restore-\(token)-\(collection)" }
    static func oldName(token: String, collection: String) -> String { ".restored-old-\(token)-\(collection)" }
    static func commitName(token: String) -> String { ".restore-\(token).commit" }
    static func stagedRootFileName(token: String, file: String) -> String { ".restore-\(token)-\(file)" }

    static func newToken() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self))
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> RestoreJournal {
        guard let journal = try? JSONDecoder().decode(RestoreJournal.self, from: Data(bytes)),
            journal.format == formatName,
            journal.version == 1, path.hasSuffix("/" + commitName(token: journal.token))
        else {
            throw StrataError(
                .corruption,
                "\(path) is not a valid restore commit record; a restore was interrupted and cannot be finished: move the file aside to keep the collections as they are"
            )
        }
        for name in journal.collections + journal.removeCollections { try Database.validateCollectionName(name) }
        for name in journal.rootFiles + journal.removeRootFiles { try Database.validateRootFileName(name) }
        return journal
    }

    /// Finishes the restore this record commits. Idempotent; safe to run
    /// again after a crash at any point inside it.
    func rollForward(dataDirectory: String, fileSystem: any FileSystem) throws {
        let collectionsPath = joinPath(dataDirectory, Database.collectionsDirectory)
        for name in collections {
            let staged = joinPath(collectionsPath, Self.stagingName(token: token, collection: name))
            guard fileSystem.fileKind(staged) == .directory else { continue }  // already moved in
            let live = joinPath(collectionsPath, name)
            if fileSystem.fileKind(live) != nil {
                let old = joinPath(collectionsPath, Self.oldName(token: token, collection: name))
                try fileSystem.removeTree(old)
                try fileSystem.rename(live, to: old)
            }
            try fileSystem.rename(staged, to: live)
        }
        for name in removeCollections {
            let live = joinPath(collectionsPath, name)
            guard fileSystem.fileKind(live) != nil else { continue }
            let old = joinPath(collectionsPath, Self.oldName(token: token, collection: name))
            try fileSystem.removeTree(old)
            try fileSystem.rename(live, to: old)
        }
        try fileSystem.syncDirectory(collectionsPath)
        for name in rootFiles {
            let staged = joinPath(dataDirectory, Self.stagedRootFileName(token: token, file: name))
            if fileSystem.fileKind(staged) == .file { try fileSystem.rename(staged, to: joinPath(dataDirectory, name)) }
        }
        for name in removeRootFiles where fileSystem.fileKind(joinPath(dataDirectory, name)) == .file {
            try fileSystem.removeFile(joinPath(dataDirectory, name))
        }
        try fileSystem.syncDirectory(dataDirectory)
        // Housekeeping: the replaced state, then the record itself.
        for entry in try fileSystem.listDirectory(collectionsPath) where entry.hasPrefix(".restored-old-\(token)-") {
            try fileSystem.removeTree(joinPath(collectionsPath, entry))
        }
        try fileSystem.removeFile(joinPath(collectionsPath, Self.commitName(token: token)))
        try fileSystem.syncDirectory(collectionsPath)
    }
}

extension Database {
    /// Data-directory files a full snapshot may carry: plain names, not the
    /// directory's own LOCK, STRATA marker or subdirectories.
    static func validateRootFileName(_ name: String) throws {
        do { try validateCollectionName(name) } catch {
            throw StrataError(.corruption, "\"\(name)\" is not an allowed data-directory file name")
        }
        guard !["LOCK", markerName, collectionsDirectory, "snapshots", RenameJournal.fileName].contains(name),
            !name.hasSuffix(".tmp")
        else {
            throw StrataError(.corruption, "a snapshot may not replace the data directory's \(name)")
        }
    }

    /// At open, before collections are loaded: finishes restores that passed
    /// their commit point, removes data-directory files staged by restores
    /// that did not (the `.restore-` collection directories they staged are
    /// removed with the other dot-names by `open`), and removes what an
    /// interrupted snapshot left in the snapshots directory.
    static func recoverSnapshotWork(at path: String, options: DatabaseOptions, fileSystem: any FileSystem) throws {
        let collectionsPath = joinPath(path, collectionsDirectory)
        for name in try fileSystem.listDirectory(collectionsPath)
        where name.hasPrefix(".restore-") && name.hasSuffix(".commit") {
            let commit = joinPath(collectionsPath, name)
            let journal = try RestoreJournal.decode(
                try fileSystem.open(commit, mode: .readOnly).readAll(), path: commit)
            try journal.rollForward(dataDirectory: path, fileSystem: fileSystem)
        }
        var removed = false
        for name in try fileSystem.listDirectory(path) where name.hasPrefix(".restore-") {
            try fileSystem.removeTree(joinPath(path, name))
            removed = true
        }
        if removed { try fileSystem.syncDirectory(path) }
        try cleanSnapshotsDirectory(snapshotsPath(path, options), fileSystem: fileSystem)
    }

    static func snapshotsPath(_ path: String, _ options: DatabaseOptions) -> String {
        options.snapshotsDirectory ?? joinPath(path, "snapshots")
    }

    /// Removes `*.tmp` files (archives a crash interrupted) and `.sha256`
    /// files whose archive is missing, in the snapshots directory and its
    /// per-collection subdirectories.
    static func cleanSnapshotsDirectory(_ directory: String, fileSystem: any FileSystem) throws {
        guard fileSystem.fileKind(directory) == .directory else { return }
        var directories = [directory]
        for name in try fileSystem.listDirectory(directory)
        where fileSystem.fileKind(joinPath(directory, name)) == .directory {
            directories.append(joinPath(directory, name))
        }
        for current in directories {
            var removed = false
            let names = try fileSystem.listDirectory(current)
            for name in names where fileSystem.fileKind(joinPath(current, name)) == .file {
                let orphanSidecar =
                    name.hasSuffix(".snapshot.sha256") && !names.contains(String(name.dropLast(".sha256".count)))
                if name.hasSuffix(".tmp") || orphanSidecar {
                    try fileSystem.removeFile(joinPath(current, name))
                    removed = true
                }
            }
            if removed { try fileSystem.syncDirectory(current) }
        }
    }
}
