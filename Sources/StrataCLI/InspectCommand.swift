import ArgumentParser
import Foundation
import Strata

/// `DIR`: the data directory `inspect` and `verify` open.
struct DataDirectoryArgument: ParsableArguments {
    @Argument(help: "The data directory.")
    var directory: String
}

/// `strata inspect DIR`: what is stored where.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a data directory's collections, segments, WAL files and checkpoints.",
        discussion: "Opens the directory (recovering it as a normal open does), so no other process may have it open.")

    @OptionGroup var location: DataDirectoryArgument

    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false

    func run() async throws {
        let db = try Database.open(at: location.directory)
        defer { db.close() }
        var collections: [[String: Any]] = []
        for name in db.collectionNames() {
            let collection = try db.collection(name)
            let info = collection.storageInfo
            let segments: [[String: Any]] = info.segments.map { segment in
                [
                    "id": segment.id, "path": segment.path, "points": segment.points, "deleted": segment.deleted,
                    "file_bytes": segment.sections.reduce(0) { $0 + $1.bytes },
                    "sections": Dictionary(segment.sections.map { ($0.name, $0.bytes) }, uniquingKeysWith: +),
                    "payload_raw_bytes": segment.payloadRawBytes,
                    "payload_compressed_bytes": segment.payloadCompressedBytes,
                ]
            }
            collections.append([
                "name": name, "points": collection.count(),
                "vectors": Dictionary(
                    uniqueKeysWithValues: collection.config.vectors.map {
                        ($0.key, ["size": $0.value.size, "distance": $0.value.distance.rawValue])
                    }),
                "payload_compression": collection.config.payloadCompression.name,
                "mutable_points": info.mutablePoints, "checkpoint": info.checkpoint,
                "last_operation": info.lastOperation,
                "wal_files": info.walFiles, "segments": segments,
                "versions": collection.versions.map { version -> [String: Any] in
                    var object: [String: Any] = [
                        "number": version.number, "op_num": version.operation,
                        "time": version.time.timeIntervalSince1970,
                    ]
                    if let tag = version.tag { object["tag"] = tag }
                    return object
                },
                "bytes_only_versions_hold": try collection.bytesOnlyVersionsHold(),
            ])
        }
        if json {
            let data = try JSONSerialization.data(
                withJSONObject: ["data_directory": location.directory, "collections": collections],
                options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("data directory \(location.directory): \(collections.count) collection(s)")
        for name in db.collectionNames() {
            let collection = try db.collection(name)
            let info = collection.storageInfo
            let vectors = collection.config.vectors.keys.sorted().map { key in
                let params = collection.config.vectors[key]!
                return "\(key.isEmpty ? "(default)" : key): \(params.size)-d \(params.distance.rawValue)"
            }.joined(separator: ", ")
            print(
                "collection `\(name)`: \(collection.count()) points; vectors \(vectors); payload blocks \(collection.config.payloadCompression.name)"
            )
            print(
                "  mutable segment: \(info.mutablePoints) points; checkpoint op \(info.checkpoint), last op \(info.lastOperation); WAL files \(info.walFiles)"
            )
            for segment in info.segments {
                let total = segment.sections.reduce(0) { $0 + $1.bytes }
                let parts = segment.sections.map { "\($0.name) \(bytes($0.bytes))" }.joined(separator: ", ")
                let ratio =
                    segment.payloadCompressedBytes > 0
                    ? String(format: "%.1fx", Double(segment.payloadRawBytes) / Double(segment.payloadCompressedBytes))
                    : "n/a"
                print(
                    "  segment \(segment.id): \(segment.points) points, \(segment.deleted) deleted, \(bytes(total)) [\(parts)]; payload compression \(ratio)"
                )
            }
            let versions = collection.versions
            if !versions.isEmpty {
                let tags = versions.compactMap(\.tag)
                print(
                    "  versions: \(versions.count) retained (ops \(versions.first!.operation)–\(versions.last!.operation))"
                        + (tags.isEmpty ? "" : ", tags \(tags.joined(separator: ", "))")
                        + "; files only versions hold: \(bytes(try collection.bytesOnlyVersionsHold()))")
            }
        }
    }
}

/// `strata verify DIR`: every checksum of everything.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum of every manifest, segment and WAL file; exit non-zero listing the problems.",
        discussion:
            "Opening checks the manifests, segment headers and metadata and the whole WAL; verify then reads every byte of every segment. The directory must not be open in another process."
    )

    @OptionGroup var location: DataDirectoryArgument

    func run() async throws {
        let db: Database
        do {
            db = try Database.open(at: location.directory)
        } catch {
            print("problem: \(error)")
            print("verify: 1 problem")
            throw ExitCode(1)
        }
        defer { db.close() }
        var problems: [String] = []
        var segments = 0
        for name in db.collectionNames() {
            let collection = try db.collection(name)
            segments += collection.storageInfo.segments.count
            problems += collection.verify().map { "collection `\(name)`: \($0)" }
        }
        for problem in problems { print("problem: \(problem)") }
        print(
            "verify: \(db.collectionNames().count) collection(s), \(segments) segment(s), \(problems.count) problem(s)")
        if !problems.isEmpty { throw ExitCode(1) }
    }
}

func bytes(_ n: Int) -> String {
    switch n {
    case ..<1024: return "\(n) B"
    case ..<(1 << 20): return String(format: "%.1f KiB", Double(n) / 1024)
    case ..<(1 << 30): return String(format: "%.1f MiB", Double(n) / 1_048_576)
    default: return String(format: "%.2f GiB", Double(n) / 1_073_741_824)
    }
}
