import Foundation
import StrataIO

/// Renaming a collection, atomically and durably, with its aliases following
/// it (docs/format/data-directory.md, "Renaming a collection").
///
/// A rename changes two things on disk: the collection's directory name and
/// the alias table. Its commit point is `<data-dir>/rename.json`, written
/// atomically before either changes. Before the record exists a crash leaves
/// the old name; once it exists the rename is finished by whoever gets there
/// first — the rename itself, or the next open (`recoverRename`) — and every
/// step is decided by what exists, so it can run again after a crash at any
/// point:
/// 1. `collections/<from>` exists: rename it to `collections/<to>`, fsync `collections/`;
/// 2. aliases naming `<from>` are made to name `<to>` (aliases.json replaced atomically);
/// 3. the record is removed and the data directory fsynced.
/// Snapshots taken under the old name stay in `snapshots/<from>/`.
struct RenameJournal: Codable, Equatable {
    static let fileName = "rename.json"
    static let formatName = "strata-rename"

    var format = formatName
    var version = 1
    var from: String
    var to: String

    static func read(dataDirectory: String, fileSystem: any FileSystem) throws -> RenameJournal? {
        let path = joinPath(dataDirectory, fileName)
        guard fileSystem.fileKind(path) != nil else { return nil }
        let bytes = try fileSystem.open(path, mode: .readOnly).readAll()
        guard let journal = try? JSONDecoder().decode(RenameJournal.self, from: Data(bytes)),
            journal.format == formatName, journal.version == 1
        else {
            throw StrataError(
                .corruption,
                "\(path) is not a valid rename record; a rename was interrupted: check which of the collections it names exists, then remove the file"
            )
        }
        return journal
    }

    func write(dataDirectory: String, fileSystem: any FileSystem) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try fileSystem.writeAtomically(joinPath(dataDirectory, Self.fileName), Array(try encoder.encode(self)))
    }

    /// Steps 1–3 above; idempotent.
    func rollForward(dataDirectory: String, aliases: AliasTable, fileSystem: any FileSystem) throws {
        let collections = joinPath(dataDirectory, Database.collectionsDirectory)
        let old = joinPath(collections, from)
        let new = joinPath(collections, to)
        switch (fileSystem.fileKind(old) != nil, fileSystem.fileKind(new) != nil) {
        case (true, false):
            try fileSystem.rename(old, to: new)
            try fileSystem.syncDirectory(collections)
        case (false, true):
            break  // renamed before a crash
        case (true, true):
            throw StrataError(
                .corruption,
                "\(joinPath(dataDirectory, Self.fileName)) records a rename of collection `\(from)` to `\(to)`, but both directories exist in \(collections); keep one and remove the record"
            )
        case (false, false):
            throw StrataError(
                .corruption,
                "\(joinPath(dataDirectory, Self.fileName)) records a rename of collection `\(from)` to `\(to)`, but neither directory exists in \(collections)"
            )
        }
        if aliases.snapshot.values.contains(from) {
            try aliases.update { table in
                for (alias, target) in table where target == from { table[alias] = to }
            }
        }
        try fileSystem.removeFile(joinPath(dataDirectory, Self.fileName))
        try fileSystem.syncDirectory(dataDirectory)
    }
}

extension Database {
    /// Renames collection `name` to `newName`; aliases of `name` then name
    /// `newName`. Atomic and durable: after a crash the collection has one of
    /// the two names, with its aliases. Returns the collection under its new
    /// name. Handles to the old one keep their `config`; writes through them
    /// are forwarded to the renamed collection, reads should use the new handle.
    ///
    /// Throws `.notFound` when `name` is not a collection, `.alreadyExists`
    /// when `newName` is a collection or an alias, `.invalidArgument` for a
    /// bad name; nothing changes then.
    @discardableResult
    public func renameCollection(_ name: String, to newName: String) throws -> Collection {
        try Self.validateCollectionName(newName)
        return try state.withLock { state in
            try checkOpen(state)
            guard let current = state.collections[name] else {
                throw StrataError(.notFound, "Collection `\(name)` doesn't exist!")
            }
            guard state.collections[newName] == nil else {
                throw StrataError(.alreadyExists, "Collection `\(newName)` already exists!")
            }
            if let target = aliasTable.snapshot[newName], state.collections[target] != nil {
                throw StrataError(
                    .alreadyExists,
                    "`\(newName)` is an alias of collection `\(target)`; delete or rename the alias first")
            }
            let journal = RenameJournal(from: name, to: newName)
            let collectionsPath = joinPath(path, Self.collectionsDirectory)
            current.replacement.begin()
            current.close()
            state.collections[name] = nil
            var reopened: Collection? = nil
            defer { current.replacement.finish(reopened) }
            do {
                try journal.write(dataDirectory: path, fileSystem: fileSystem)
            } catch {
                // Not committed (or, after a failed directory fsync, maybe
                // committed: the next open finishes it then).
                reopened = try? Collection.open(
                    name: name, directory: joinPath(collectionsPath, name), fileSystem: fileSystem, options: options,
                    walTotals: walTotals)
                state.collections[name] = reopened
                throw StrataError.wrapping(error, context: "renaming collection `\(name)` to `\(newName)`")
            }
            do {
                try journal.rollForward(dataDirectory: path, aliases: aliasTable, fileSystem: fileSystem)
            } catch {
                // Committed: the next open finishes it. Serve whichever directory is there now.
                for (candidate, directory) in [
                    (newName, joinPath(collectionsPath, newName)), (name, joinPath(collectionsPath, name)),
                ]
                where fileSystem.fileKind(directory) != nil {
                    reopened = try? Collection.open(
                        name: candidate, directory: directory, fileSystem: fileSystem, options: options,
                        walTotals: walTotals)
                    state.collections[candidate] = reopened
                    break
                }
                throw StrataError.wrapping(error, context: "renaming collection `\(name)` to `\(newName)`")
            }
            reopened = try Collection.open(
                name: newName, directory: joinPath(collectionsPath, newName), fileSystem: fileSystem, options: options,
                walTotals: walTotals)
            state.collections[newName] = reopened
            return reopened!
        }
    }

    /// At open, before collections are loaded: finishes a rename that passed
    /// its commit point.
    static func recoverRename(at path: String, fileSystem: any FileSystem) throws {
        guard let journal = try RenameJournal.read(dataDirectory: path, fileSystem: fileSystem) else { return }
        let aliases = try AliasTable.load(directory: path, fileSystem: fileSystem)
        try journal.rollForward(dataDirectory: path, aliases: aliases, fileSystem: fileSystem)
    }
}
