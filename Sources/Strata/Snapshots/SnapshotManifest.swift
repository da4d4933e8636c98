import Foundation
import StrataTar

/// `snapshot.json`, the first entry of every snapshot archive: what the
/// snapshot holds and the size and SHA-256 of every file. Format and rules:
/// docs/format/snapshot.md.
struct SnapshotManifest: Codable, Equatable {
    static let formatName = "strata-snapshot"
    static let formatVersion = 1
    /// The archive entry that holds the manifest (always the first entry).
    static let entryName = "snapshot.json"
    /// A manifest larger than this is refused (a hostile size field).
    static let maxBytes: UInt64 = 64 << 20

    enum Kind: String, Codable { case collection, full }

    var format: String = formatName
    var formatVersion: Int = formatVersion
    var kind: Kind
    /// The snapshotted collection (kind `collection`).
    var collection: String?
    /// The last operation the snapshot holds (kind `collection`).
    var opNum: UInt64?
    /// ISO 8601, UTC, second precision.
    var createdAt: String
    /// Set for an incremental snapshot: the snapshot it builds on.
    var base: Base?
    /// Every collection in the snapshot (one for kind `collection`).
    var collections: [CollectionEntry]
    /// Every file of the snapshot's state, sorted by path.
    var files: [FileEntry]

    struct Base: Codable, Equatable {
        /// File name of the base archive when this one was made (informational).
        var name: String
        /// SHA-256 of the whole base archive: what links the chain.
        var archiveSHA256: String

        enum CodingKeys: String, CodingKey {
            case name
            case archiveSHA256 = "archive_sha256"
        }
    }

    struct CollectionEntry: Codable, Equatable {
        var name: String
        /// Where the collection's files are in the archive: "" for a collection
        /// snapshot, `collections/<name>/` for a full one.
        var directory: String
        /// The last operation this collection's files hold.
        var opNum: UInt64
        /// The checkpoint of the collection's MANIFEST: the WAL in the archive
        /// holds exactly operations checkpoint+1 … op_num.
        var checkpoint: UInt64

        enum CodingKeys: String, CodingKey {
            case name, directory, checkpoint
            case opNum = "op_num"
        }
    }

    struct FileEntry: Codable, Equatable {
        enum Source: String, Codable {
            /// The file is an entry of this archive.
            case archive
            /// The file is in the base snapshot's chain, not in this archive.
            case base
        }

        var path: String
        var size: UInt64
        var sha256: String
        var source: Source

        enum CodingKeys: String, CodingKey { case path, size, sha256, source }
    }

    enum CodingKeys: String, CodingKey {
        case format, kind, collection, base, collections, files
        case formatVersion = "format_version"
        case opNum = "op_num"
        case createdAt = "created_at"
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Parses and checks a manifest read from `archive`. Throws `.corruption`
    /// naming the archive for bad JSON, another format or format version,
    /// unsafe or duplicate paths, bad digests, or collections that disagree
    /// with the kind.
    static func decode(_ bytes: [UInt8], archive: String) throws -> SnapshotManifest {
        func bad(_ why: String) -> StrataError {
            StrataError(.corruption, "snapshot archive \(archive): \(entryName) \(why)")
        }
        struct Header: Decodable {
            var format: String?
            var formatVersion: Int?
            enum CodingKeys: String, CodingKey {
                case format
                case formatVersion = "format_version"
            }
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes)) else {
            throw bad("is not a JSON object")
        }
        guard header.format == formatName else {
            throw bad(
                "has format \(header.format.map { "\"\($0)\"" } ?? "(missing)"), expected \"\(formatName)\": this is not a Strata snapshot"
            )
        }
        guard header.formatVersion == formatVersion else {
            throw bad(
                "has format_version \(header.formatVersion.map(String.init) ?? "(missing)"); this build reads version \(formatVersion) (a newer Strata wrote it?)"
            )
        }
        let manifest: SnapshotManifest
        do {
            manifest = try JSONDecoder().decode(SnapshotManifest.self, from: Data(bytes))
        } catch {
            throw bad("does not match the format: \(error)")
        }
        var seen = Set<String>()
        for file in manifest.files {
            do { try TarPath.validate(file.path) } catch let error as TarError {
                throw bad("lists an unsafe file: \(error.message)")
            }
            guard file.path != entryName else { throw bad("lists itself as a file") }
            guard seen.insert(file.path).inserted else { throw bad("lists \(file.path) twice") }
            guard SHA256Hasher.isHexDigest(file.sha256) else {
                throw bad("has a malformed sha256 for \(file.path): \"\(file.sha256)\"")
            }
        }
        if let base = manifest.base, !SHA256Hasher.isHexDigest(base.archiveSHA256) {
            throw bad("has a malformed base archive_sha256 \"\(base.archiveSHA256)\"")
        }
        var names = Set<String>()
        for entry in manifest.collections {
            do { try Database.validateCollectionName(entry.name) } catch {
                throw bad("names a collection \"\(entry.name)\" that is not a valid name")
            }
            guard names.insert(entry.name).inserted else { throw bad("lists collection \(entry.name) twice") }
            let expected = manifest.kind == .collection ? "" : "collections/\(entry.name)/"
            guard entry.directory == expected else {
                throw bad("puts collection \(entry.name) in \"\(entry.directory)\", expected \"\(expected)\"")
            }
            guard entry.checkpoint <= entry.opNum else {
                throw bad(
                    "says collection \(entry.name) has checkpoint \(entry.checkpoint) above its op_num \(entry.opNum)")
            }
        }
        switch manifest.kind {
        case .collection:
            guard manifest.collections.count == 1, let only = manifest.collections.first,
                only.name == manifest.collection,
                manifest.opNum == only.opNum
            else { throw bad("is a collection snapshot but its collection, op_num and collections list disagree") }
        case .full:
            guard manifest.collection == nil, manifest.opNum == nil else {
                throw bad("is a full snapshot but names one collection")
            }
        }
        if manifest.kind == .full {
            let directories = manifest.collections.map(\.directory)
            for file in manifest.files
            where file.path.contains("/") && !directories.contains(where: { file.path.hasPrefix($0) }) {
                throw bad("lists \(file.path), which belongs to no collection of the snapshot")
            }
            for file in manifest.files where !file.path.contains("/") {
                do { try Database.validateRootFileName(file.path) } catch let error as StrataError {
                    throw bad("lists \(file.path): \(error.message)")
                }
            }
        }
        // A collection holds top-level files, segments/<file> and wal/<file>, nothing deeper.
        for collection in manifest.collections {
            for file in manifest.files(of: collection) {
                let components = file.path.split(separator: "/")
                guard
                    components.count == 1
                        || (components.count == 2
                            && ["segments", Collection.walDirectoryName].contains(String(components[0])))
                else {
                    throw bad(
                        "lists \(collection.directory)\(file.path), which is not a place a collection keeps files (top level, segments/, wal/)"
                    )
                }
            }
        }
        if manifest.base == nil, let inherited = manifest.files.first(where: { $0.source == .base }) {
            throw bad("has no base but says \(inherited.path) comes from one")
        }
        return manifest
    }

    /// The files of `collection` (paths relative to its directory).
    func files(of collection: CollectionEntry) -> [FileEntry] {
        files.filter { $0.path.hasPrefix(collection.directory) }.map { entry in
            var relative = entry
            relative.path = String(entry.path.dropFirst(collection.directory.count))
            return relative
        }
    }
}
