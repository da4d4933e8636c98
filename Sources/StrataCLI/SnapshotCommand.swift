import ArgumentParser
import Foundation
import Strata

/// `strata snapshot …`: back up and restore a data directory's collections
/// (docs/format/snapshot.md). Every subcommand but `verify` opens the data
/// directory, so no other process may have it open.
///
/// Exit codes: 0 success; 1 failure (I/O, not found, bad arguments found
/// late); 2 a damaged or hostile archive (nothing was changed); 3 a restore
/// refused because it would replace collections without `--force`; 64 usage.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract:
            "Create, list, verify, restore and delete snapshots (consistent backups taken while writes continue).",
        discussion: """
            Exit codes: 0 success; 1 failure; 2 damaged or hostile archive (nothing changed); \
            3 restore refused without --force (nothing changed); 64 usage error.
            """,
        subcommands: [
            SnapshotCreateCommand.self, SnapshotListCommand.self, SnapshotVerifyCommand.self,
            SnapshotRestoreCommand.self, SnapshotDeleteCommand.self,
        ])
}

/// Options every subcommand that opens a data directory shares.
struct SnapshotLocation: ParsableArguments {
    @Option(name: .long, help: "The data directory.")
    var dataDir: String

    @Option(name: .long, help: "The snapshots directory (default: <data-dir>/snapshots).")
    var snapshotsDir: String?

    func open() throws -> Database {
        try Database.open(at: dataDir, options: DatabaseOptions(snapshotsDirectory: snapshotsDir))
    }

    /// Opens the data directory, runs `body` on it and closes it, under
    /// `runSnapshotAction` (engine errors become a message and an exit code).
    func withDatabase(_ body: (Database) throws -> Void) throws {
        try runSnapshotAction {
            let db = try open()
            defer { db.close() }
            try body(db)
        }
    }
}

/// Runs `body`, turning engine errors into a message on standard error and
/// the exit codes above.
func runSnapshotAction(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as StrataError {
        FileHandle.standardError.write(Data("strata snapshot: \(error.message)\n".utf8))
        switch error.code {
        case .corruption: throw ExitCode(2)
        case .alreadyExists: throw ExitCode(3)
        default: throw ExitCode(1)
        }
    }
}

func snapshotProgress(_ line: String) {
    FileHandle.standardError.write(Data("strata snapshot: \(line)\n".utf8))
}

func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

extension SnapshotDescription {
    var json: [String: Any] {
        var object: [String: Any] = ["name": name, "path": path, "size": size, "state_bytes": stateBytes]
        if let kind { object["kind"] = kind.rawValue }
        if let collection { object["collection"] = collection }
        if let opNum { object["op_num"] = opNum }
        if !collections.isEmpty { object["collections"] = collections }
        if let createdAt { object["created_at"] = createdAt }
        if let checksum { object["checksum"] = checksum }
        if let baseChecksum { object["base_checksum"] = baseChecksum }
        if let problem { object["problem"] = problem }
        return object
    }

    var line: String {
        let what =
            kind == .full
            ? "full (\(collections.map { "\($0.key)@\($0.value)" }.sorted().joined(separator: ", ")))"
            : "collection \(collection ?? "?") op \(opNum.map(String.init) ?? "?")"
        let incremental = baseChecksum.map { " incremental on \($0.prefix(12))…" } ?? ""
        return
            "\(name)  \(bytes(Int(size)))  \(createdAt ?? "?")  \(what)\(incremental)  sha256 \(checksum ?? "(none)")"
            + (problem.map { "  PROBLEM: \($0)" } ?? "")
    }
}

struct SnapshotCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Snapshot one collection (or, with --full, the whole storage) while writes continue.")

    @OptionGroup var location: SnapshotLocation

    @Option(name: .long, help: "The collection to snapshot.")
    var collection: String?

    @Flag(name: .long, help: "Snapshot every collection and the aliases in one archive.")
    var full = false

    @Option(
        name: .long, help: "An earlier snapshot of the same collection (or full): ship only the segment files it lacks."
    )
    var incrementalFrom: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (collection != nil) != full else { throw ValidationError("give either --collection NAME or --full") }
    }

    func run() throws {
        try location.withDatabase { db in
            let start = ContinuousClock.now
            snapshotProgress(
                "creating \(full ? "a full-storage snapshot" : "a snapshot of collection `\(collection!)`")\(incrementalFrom.map { " incremental on \($0)" } ?? "")…"
            )
            let snapshot =
                full
                ? try db.createFullSnapshot(incrementalFrom: incrementalFrom)
                : try db.createSnapshot(of: collection!, incrementalFrom: incrementalFrom)
            let elapsed = seconds(ContinuousClock.now - start)
            if json {
                var object = snapshot.json
                object["seconds"] = elapsed
                try printJSON(object)
            } else {
                print(snapshot.path)
                snapshotProgress(
                    String(
                        format: "done in %.2f s: %@, holding %@ of state", elapsed, bytes(Int(snapshot.size)),
                        bytes(Int(snapshot.stateBytes))))
            }
        }
    }
}

struct SnapshotListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List snapshots (name, size, creation time, op number, checksum).")

    @OptionGroup var location: SnapshotLocation

    @Option(name: .long, help: "Only this collection's snapshots.")
    var collection: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try location.withDatabase { db in
            let snapshots = try db.listSnapshots(collection: collection)
            if json {
                try printJSON(snapshots.map(\.json))
            } else {
                for snapshot in snapshots { print(snapshot.line) }
                snapshotProgress("\(snapshots.count) snapshot(s) in \(db.snapshotsDirectory)")
            }
        }
    }
}

struct SnapshotVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check an archive (or a chain: full snapshot first, then its incrementals) completely, without restoring it.",
        discussion:
            "Reads every byte: tar structure, every file's size and SHA-256, the archive's .sha256 file, each collection's MANIFEST and WAL, and the chain links. Exit 0 when everything checks out, 2 when something does not."
    )

    @Argument(help: "Snapshot archive(s); a chain in order, the full snapshot first.")
    var archives: [String]

    @Option(name: .long, help: "Expected SHA-256 of the last archive.")
    var checksum: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try runSnapshotAction {
            let start = ContinuousClock.now
            let result = try Database.verifySnapshot(at: archives, checksum: checksum)
            let elapsed = seconds(ContinuousClock.now - start)
            if json {
                var object = result.snapshot.json
                object["files"] = result.files
                object["chain"] = zip(result.paths, result.checksums).map { ["path": $0, "sha256": $1] }
                object["seconds"] = elapsed
                try printJSON(object)
            } else {
                for (path, sha) in zip(result.paths, result.checksums) { print("ok  \(sha)  \(path)") }
                print(
                    "verify: ok: \(result.snapshot.line); \(result.files) files, \(bytes(Int(result.bytes))) of state")
            }
        }
    }
}

struct SnapshotRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a snapshot (or a chain) into the data directory, verifying everything first.",
        discussion:
            "A collection snapshot becomes its collection (or --collection NAME); a full snapshot replaces every collection and the aliases. Replacing existing collections needs --force (else exit 3, nothing changed). A crash at any moment leaves the old or the new state."
    )

    @OptionGroup var location: SnapshotLocation

    @Argument(help: "Snapshot archive(s); a chain in order, the full snapshot first.")
    var archives: [String]

    @Option(name: .long, help: "Restore a collection snapshot under this name.")
    var collection: String?

    @Flag(name: .long, help: "Replace existing collections (and, for a full snapshot, remove those it does not hold).")
    var force = false

    @Option(name: .long, help: "Expected SHA-256 of the last archive.")
    var checksum: String?

    func run() throws {
        try location.withDatabase { db in
            let start = ContinuousClock.now
            snapshotProgress("verifying and unpacking \(archives.joined(separator: " + "))…")
            let result = try db.restoreSnapshot(from: archives, as: collection, overwrite: force, checksum: checksum)
            for (name, op) in result.collections.sorted(by: { $0.key < $1.key }) {
                print("restored collection \(name) at op \(op)")
            }
            if !result.replaced.isEmpty { print("replaced: \(result.replaced.joined(separator: ", "))") }
            snapshotProgress(
                String(
                    format: "done in %.2f s, %@ written", seconds(ContinuousClock.now - start), bytes(Int(result.bytes))
                ))
        }
    }
}

struct SnapshotDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a snapshot archive and its .sha256 file.")

    @OptionGroup var location: SnapshotLocation

    @Argument(help: "The snapshot's file name, as `list` shows it.")
    var name: String

    @Option(name: .long, help: "The collection the snapshot belongs to (when the name is ambiguous).")
    var collection: String?

    func run() throws {
        try location.withDatabase { db in
            try db.deleteSnapshot(named: name, collection: collection)
            print("deleted \(name)")
        }
    }
}
