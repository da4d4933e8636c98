import Foundation
import StrataIO

/// The retained versions of a collection: `<collection>/VERSIONS`, a JSON
/// file replaced atomically (docs/format/versions.md). Each version holds the
/// bytes of the manifest it was published as; the segment and tombstone files
/// those manifests name are kept (not removed by flushes, merges or the
/// open-time cleanup) until no retained version and no current manifest names
/// them.
///
/// Thread safety: owned by `CollectionStore`, behind its `versionLog` lock.
struct VersionLog: Equatable {
    static let fileName = "VERSIONS"
    static let formatName = "strata-versions"

    struct Record: Codable, Equatable {
        var number: UInt64
        var operation: UInt64
        /// Seconds since the Unix epoch.
        var time: Double
        var tag: String?
        /// The published manifest (manifest.md), base64.
        var manifest: String

        var info: CollectionVersionInfo {
            CollectionVersionInfo(
                number: number, operation: operation, time: Date(timeIntervalSince1970: time), tag: tag)
        }

        func decodedManifest(path: String) throws -> Manifest {
            guard let bytes = Data(base64Encoded: manifest) else {
                throw StrataError(.corruption, "\(path): version \(number)'s manifest is not base64")
            }
            return try Manifest.decode(Array(bytes), path: "\(path) (version \(number))")
        }
    }

    private struct Stored: Codable {
        var format: String
        var version: Int
        var next: UInt64
        var versions: [Record]
    }

    var next: UInt64 = 1
    /// Oldest first.
    var records: [Record] = []

    static func load(directory: String, fileSystem: any FileSystem) throws -> VersionLog {
        let path = joinPath(directory, fileName)
        guard fileSystem.fileKind(path) != nil else { return VersionLog() }
        let bytes = try fileSystem.open(path, mode: .readOnly).readAll()
        guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(bytes)), stored.format == formatName,
            stored.version == 1
        else {
            throw StrataError(
                .corruption, "\(path) is not a valid version list; restore the collection from a snapshot")
        }
        var log = VersionLog(next: stored.next, records: stored.versions)
        // Every listed manifest must decode: a damaged one is reported now, not when read.
        for record in log.records { _ = try record.decodedManifest(path: path) }
        log.records.sort { $0.number < $1.number }
        return log
    }

    func write(directory: String, fileSystem: any FileSystem) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = try encoder.encode(Stored(format: Self.formatName, version: 1, next: next, versions: records))
        try fileSystem.writeAtomically(joinPath(directory, Self.fileName), Array(bytes))
    }

    /// The segment and tombstone files the retained versions name.
    func referencedFiles(path: String) throws -> Set<String> {
        var files: Set<String> = []
        for record in records { files.formUnion(try record.decodedManifest(path: path).files) }
        return files
    }

    /// Adds `manifest` as a version (tagged, or untagged when its checkpoint
    /// is new), then drops the untagged versions `config` no longer keeps.
    /// A manifest with the checkpoint of versions already kept (a merge or
    /// vacuum publishes the same state in new segments) replaces theirs: they
    /// read the same, from the merged segments and graphs, and the files only
    /// the replaced manifest named are released.
    mutating func add(_ manifest: Manifest, at time: Date, tag: String?, config: VersionsConfig?) {
        let encoded = Data(manifest.encoded()).base64EncodedString()
        for index in records.indices where records[index].operation == manifest.checkpoint {
            records[index].manifest = encoded
        }
        let isNew = records.last(where: { $0.tag == nil })?.operation != manifest.checkpoint
        if tag != nil || (config != nil && isNew) {
            records.append(
                Record(
                    number: next, operation: manifest.checkpoint, time: time.timeIntervalSince1970, tag: tag,
                    manifest: encoded))
            next += 1
        }
        expire(at: time, config: config)
    }

    /// Drops untagged versions that neither rule of `config` keeps.
    mutating func expire(at time: Date, config: VersionsConfig?) {
        let untagged = records.filter { $0.tag == nil }.map(\.number)
        let keepByCount = Set(untagged.suffix(max(config?.retainCount ?? 0, 0)))
        records.removeAll { record in
            guard record.tag == nil, !keepByCount.contains(record.number) else { return false }
            if let seconds = config?.retainSeconds, time.timeIntervalSince1970 - record.time <= Double(seconds) {
                return false
            }
            return true
        }
    }

    /// The version `selector` names, or `.invalidArgument` naming the retained range.
    func find(_ selector: VersionSelector, collection: String) throws -> Record {
        let found: Record?
        switch selector {
        case .number(let number): found = records.first { $0.number == number }
        case .tag(let tag): found = records.first { $0.tag == tag }
        case .time(let time): found = records.last { $0.time <= time.timeIntervalSince1970 }
        }
        if let found { return found }
        let range =
            records.isEmpty
            ? "it retains no versions"
            : "it retains versions \(records.map { String($0.number) }.joined(separator: ", ")) (ops \(records.first!.operation)–\(records.last!.operation), \(TTLConfig.rfc3339(seconds: records.first!.time.rounded(.down))) to \(TTLConfig.rfc3339(seconds: records.last!.time.rounded(.up))))"
                + (records.contains { $0.tag != nil }
                    ? "; tags \(records.compactMap(\.tag).map { "\"\($0)\"" }.joined(separator: ", "))" : "")
        throw StrataError.invalid("collection `\(collection)` has no version \(selector.description): \(range)")
    }
}

extension VersionSelector: CustomStringConvertible {
    public var description: String {
        switch self {
        case .number(let number): return "number \(number)"
        case .tag(let tag): return "tagged \"\(tag)\""
        case .time(let time):
            return "at or before \(TTLConfig.rfc3339(seconds: time.timeIntervalSince1970.rounded(.down)))"
        }
    }
}

extension Manifest {
    /// The segment and tombstone files this manifest names.
    var files: Set<String> {
        var files: Set<String> = []
        for entry in segments {
            files.insert(Manifest.segmentFileName(entry.segmentID))
            if entry.tombstoneGeneration > 0 {
                files.insert(Manifest.tombstoneFileName(entry.segmentID, generation: entry.tombstoneGeneration))
            }
        }
        return files
    }
}
