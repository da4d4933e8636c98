import ArgumentParser
import Foundation
import Strata
import StrataServer

/// `strata collection …`: manage a data directory's collections without a
/// server (each subcommand opens the directory, so no other process may have
/// it open): list, rename, batches of writes (atomic or not), expiring points.
///
/// Exit codes: 0 success; 1 failure (the message says what; nothing changed
/// unless it says otherwise); 64 usage.
struct CollectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection",
        abstract: "List, rename and write to a data directory's collections; configure and run point expiry.",
        discussion:
            "Opens the data directory, so no server may have it open. Exit codes: 0 success; 1 failure; 64 usage.",
        subcommands: [
            CollectionListCommand.self, CollectionRenameCommand.self, CollectionBatchCommand.self,
            CollectionTTLCommand.self, CollectionExpireCommand.self, CollectionQueryCommand.self,
            CollectionVersionsCommand.self,
        ])
}

/// `--data-dir`, and running a body on the opened database with errors as messages.
struct CollectionLocation: ParsableArguments {
    @Option(name: .long, help: "The data directory.")
    var dataDir: String

    func withDatabase(_ body: (Database) async throws -> Void) async throws {
        do {
            let db = try Database.open(at: dataDir)
            defer { db.close() }
            try await body(db)
        } catch let error as StrataError {
            FileHandle.standardError.write(Data("strata collection: \(error.message)\n".utf8))
            throw ExitCode(1)
        } catch let error as APIError {
            FileHandle.standardError.write(Data("strata collection: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Reads a file, or standard input for `-`.
func readBody(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return Array(data)
}

struct CollectionListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the collections: points, aliases and expiry settings.")
    @OptionGroup var location: CollectionLocation

    func run() async throws {
        try await location.withDatabase { db in
            let aliases = db.aliases()
            for name in db.collectionNames() {
                let collection = try db.collection(name)
                let named = aliases.filter { $0.collection == name }.map(\.alias)
                var line = "\(name)  \(collection.count()) points"
                if !named.isEmpty { line += "  aliases: \(named.joined(separator: ", "))" }
                if let ttl = collection.config.ttl {
                    line += "  ttl: key \(ttl.key)" + (ttl.defaultSeconds.map { ", default \($0) s" } ?? "")
                }
                print(line)
            }
        }
    }
}

struct CollectionRenameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename",
        abstract: "Rename a collection (its aliases follow it; atomic and durable).")
    @OptionGroup var location: CollectionLocation
    @Argument(help: "The collection.") var name: String
    @Argument(help: "Its new name.") var newName: String

    func run() async throws {
        try await location.withDatabase { db in
            try db.renameCollection(name, to: newName)
            print("renamed \(name) to \(newName)")
        }
    }
}

struct CollectionBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Apply a points/batch body (Qdrant's JSON: {\"operations\": [...]}) to a collection.",
        discussion:
            "With --atomic (or \"atomic\": true in the body) the whole batch is one write: all or nothing, also after a crash."
    )
    @OptionGroup var location: CollectionLocation
    @Argument(help: "The collection (or an alias).") var name: String
    @Argument(help: "The JSON body: a file, or - for standard input.") var body: String
    @Flag(name: .long, help: "Apply the batch as one atomic write.") var atomic = false

    func run() async throws {
        var bytes = try readBody(body)
        if atomic {
            guard var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw ValidationError("the body is not a JSON object")
            }
            object["atomic"] = true
            bytes = Array(try JSONSerialization.data(withJSONObject: object))
        }
        let body = bytes
        try await location.withDatabase { db in
            let ids = try await OfflineRequests.batch(body, on: try db.collection(named: name))
            print("applied \(ids.count) operation(s); operation ids: \(ids.map(String.init).joined(separator: " "))")
        }
    }
}

struct CollectionTTLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ttl",
        abstract: "Show or set when a collection's points expire (ttl_config).",
        discussion:
            "Without options, prints the setting. A point expires at the RFC 3339 time or Unix seconds in its payload at --key; with --default-seconds, writes that leave a point without the key set it to the write's time plus that many seconds."
    )
    @OptionGroup var location: CollectionLocation
    @Argument(help: "The collection.") var name: String
    @Option(name: .long, help: "The payload key holding each point's expiry (default expires_at).") var key: String?
    @Option(name: .long, help: "Seconds from a write to the expiry of a point it leaves without the key.")
    var defaultSeconds: Int?
    @Flag(name: .long, help: "Points never expire (removes the setting).") var disable = false

    func run() async throws {
        try await location.withDatabase { db in
            let collection = try db.collection(named: name)
            if disable || key != nil || defaultSeconds != nil {
                let ttl: TTLConfig? =
                    disable ? nil : TTLConfig(key: key ?? TTLConfig.defaultKey, defaultSeconds: defaultSeconds)
                try db.updateCollectionConfig(collection.name) { $0.ttl = ttl }
            }
            let ttl = try db.collection(collection.name).config.ttl
            print(
                ttl.map { "\(collection.name): key \($0.key)" + ($0.defaultSeconds.map { ", default \($0) s" } ?? "") }
                    ?? "\(collection.name): points never expire")
        }
    }
}

struct CollectionExpireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expire", abstract: "Delete a collection's expired points now (through its WAL).")
    @OptionGroup var location: CollectionLocation
    @Argument(help: "The collection.") var name: String

    func run() async throws {
        try await location.withDatabase { db in
            let deletion = try await db.collection(named: name).deleteExpiredPoints()
            print(
                "deleted \(deletion.points) expired point(s)"
                    + (deletion.operationID.map { " (operation \($0))" } ?? ""))
        }
    }
}

struct CollectionQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a query over one or several collections (the body of POST /query) and print the JSON answer.")
    @OptionGroup var location: CollectionLocation
    @Argument(help: "The JSON body ({\"collections\": [...], \"query\": ...}): a file, or - for standard input.")
    var body: String

    func run() async throws {
        let bytes = try readBody(body)
        try await location.withDatabase { db in
            print(String(decoding: try OfflineRequests.query(bytes, on: db), as: UTF8.self))
        }
    }
}

struct CollectionVersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "List a collection's retained versions; tag, untag or restore one.",
        discussion:
            "--tag flushes and keeps the state as a named version; --restore makes a version (tag or number) the current state, as one logged write."
    )
    @OptionGroup var location: CollectionLocation
    @Argument(help: "The collection.") var name: String
    @Option(name: .long, help: "Tag the current state with this name.") var tag: String?
    @Option(name: .long, help: "Delete this tag.") var untag: String?
    @Option(name: .long, help: "Make this version (a tag or a number) the current state.") var restore: String?

    func run() async throws {
        try await location.withDatabase { db in
            let collection = try db.collection(named: name)
            if let tag { try collection.tagVersion(tag) }
            if let untag { try collection.deleteTag(untag) }
            if let restore {
                let selector: VersionSelector = UInt64(restore).map { .number($0) } ?? .tag(restore)
                let result = try await collection.restore(selector)
                print("restored \(restore) (operation \(result.operationID))")
            }
            let formatter = ISO8601DateFormatter()
            for version in collection.versions {
                print(
                    "version \(version.number)  op \(version.operation)  \(formatter.string(from: version.time))"
                        + (version.tag.map { "  tag \($0)" } ?? ""))
            }
        }
    }
}
