import Foundation
import StrataIO

/// Collection aliases: alternative names under which a collection can be
/// addressed (Qdrant's aliases), kept in `<data-dir>/aliases.json`.
///
/// Invariants: an alias name is a valid collection name and is not itself a
/// collection's name when it is created; every change is written with
/// `FileSystem.writeAtomically` before it becomes visible, so after a crash the
/// file holds either the old or the new table, never a mix. An alias whose
/// collection was deleted is dropped by the next change and is never reported
/// or resolved (`aliases()` and `resolveAlias` check the collection exists).
///
/// Thread safety: the table has its own lock; changes are serialised by it.
final class AliasTable: Sendable {
    static let fileName = "aliases.json"

    private struct StoredAliases: Codable {
        var format: String
        var version: Int
        var aliases: [String: String]
    }

    private let path: String
    private let fileSystem: any FileSystem
    /// Guards the alias → collection map; held while a change is written.
    private let table: Locked<[String: String]>

    private init(path: String, fileSystem: any FileSystem, aliases: [String: String]) {
        self.path = path
        self.fileSystem = fileSystem
        self.table = Locked(aliases)
    }

    /// Reads `aliases.json` in `directory` (an empty table if there is none).
    /// Throws `.corruption` naming the file if it does not parse.
    static func load(directory: String, fileSystem: any FileSystem) throws -> AliasTable {
        let path = joinPath(directory, fileName)
        guard fileSystem.fileKind(path) != nil else {
            return AliasTable(path: path, fileSystem: fileSystem, aliases: [:])
        }
        let bytes = try fileSystem.open(path, mode: .readOnly).readAll()
        guard let stored = try? JSONDecoder().decode(StoredAliases.self, from: Data(bytes)),
            stored.format == "strata-aliases", stored.version == 1
        else {
            throw StrataError(
                .corruption, "\(path) is not a valid alias table; fix or remove it (aliases are lost then)")
        }
        return AliasTable(path: path, fileSystem: fileSystem, aliases: stored.aliases)
    }

    var snapshot: [String: String] { table.withLock { $0 } }

    /// Reads the file again (after a full-storage restore replaced it).
    func reload() throws {
        let fresh = try Self.load(directory: parentDirectory(of: path), fileSystem: fileSystem)
        let aliases = fresh.snapshot
        table.withLock { $0 = aliases }
    }

    /// Applies `change` to a copy of the table, writes the copy durably, then
    /// publishes it. If `change` or the write throws, nothing changes.
    func update(_ change: (inout [String: String]) throws -> Void) throws {
        try table.withLock { aliases in
            var updated = aliases
            try change(&updated)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let bytes = try encoder.encode(StoredAliases(format: "strata-aliases", version: 1, aliases: updated))
            do {
                try fileSystem.writeAtomically(path, Array(bytes))
            } catch {
                throw StrataError.wrapping(error, context: "writing the alias table \(path)")
            }
            aliases = updated
        }
    }
}

/// One change to the alias table (Qdrant's `create_alias`, `delete_alias`,
/// `rename_alias` actions).
public enum AliasOperation: Sendable, Equatable {
    /// Makes `alias` name collection `collection`; an alias of that name
    /// that already exists is moved to `collection` (as Qdrant does).
    ///
    /// `updateAliases(_:)` throws `.notFound` when the collection does not
    /// exist, `.alreadyExists` when a collection is called `alias`, and
    /// `.invalidArgument` for a name a collection could not have.
    case create(alias: String, collection: String)
    /// Removes `alias`; `updateAliases(_:)` throws `.notFound` when there is
    /// no such alias.
    case delete(alias: String)
    /// Renames alias `from` to `to`, keeping its collection.
    ///
    /// `updateAliases(_:)` throws `.notFound` when there is no alias `from`,
    /// `.alreadyExists` when a collection is called `to`, and
    /// `.invalidArgument` for a `to` a collection could not be called.
    case rename(from: String, to: String)
}

/// An alias and the collection it names.
public struct AliasDescription: Sendable, Equatable {
    /// The alias.
    public var alias: String
    /// The name of the collection the alias names.
    public var collection: String

    /// Creates a description of alias `alias` naming collection `collection`.
    public init(alias: String, collection: String) {
        self.alias = alias
        self.collection = collection
    }
}

extension Database {
    /// Every alias whose collection exists, sorted by alias name.
    public func aliases() -> [AliasDescription] {
        let existing = Set(collectionNames())
        return aliasTable.snapshot
            .filter { existing.contains($0.value) }
            .map { AliasDescription(alias: $0.key, collection: $0.value) }
            .sorted { $0.alias < $1.alias }
    }

    /// The collection `alias` names, or nil if it is not an alias of an
    /// existing collection.
    public func resolveAlias(_ alias: String) -> String? {
        guard let collection = aliasTable.snapshot[alias], collectionNames().contains(collection) else { return nil }
        return collection
    }

    /// The collection called `name`, or the one the alias `name` names.
    /// Throws `.notFound` if neither exists.
    public func collection(named name: String) throws -> Collection {
        if collectionNames().contains(name) { return try collection(name) }
        if let target = resolveAlias(name) { return try collection(target) }
        throw StrataError(.notFound, "Collection `\(name)` doesn't exist!")
    }

    /// Applies `operations` in order, all or nothing, and makes the result
    /// durable before returning. Throws `.notFound` for a missing collection or
    /// alias, `.alreadyExists` for an alias name taken by an alias or a
    /// collection, `.invalidArgument` for a bad name; nothing changes then.
    /// Aliases of deleted collections are dropped by any change.
    public func updateAliases(_ operations: [AliasOperation]) throws {
        let existing = Set(collectionNames())
        try aliasTable.update { aliases in
            aliases = aliases.filter { existing.contains($0.value) }
            for operation in operations {
                switch operation {
                case .create(let alias, let collection):
                    try Self.validateCollectionName(alias)
                    guard existing.contains(collection) else {
                        throw StrataError(.notFound, "Collection `\(collection)` doesn't exist!")
                    }
                    guard !existing.contains(alias) else {
                        throw StrataError(
                            .alreadyExists, "Alias `\(alias)` conflicts with an existing collection of that name")
                    }
                    // Qdrant lets create_alias move an existing alias to another collection.
                    aliases[alias] = collection
                case .delete(let alias):
                    guard aliases.removeValue(forKey: alias) != nil else {
                        throw StrataError(.notFound, "Alias `\(alias)` doesn't exist!")
                    }
                case .rename(let from, let to):
                    try Self.validateCollectionName(to)
                    guard let collection = aliases.removeValue(forKey: from) else {
                        throw StrataError(.notFound, "Alias `\(from)` doesn't exist!")
                    }
                    guard !existing.contains(to) else {
                        throw StrataError(
                            .alreadyExists, "Alias `\(to)` conflicts with an existing collection of that name")
                    }
                    aliases[to] = collection
                }
            }
        }
    }
}
