import Foundation
import StrataIO

/// Retained versions (`VersionLog`): recording a published manifest, tags,
/// and the files versions keep alive. All of it runs under `maintenancePass`
/// (publishes already do), so the version list and the segment files change
/// one pass at a time.
extension CollectionStore {
    var versionLogPath: String { joinPath(directory, VersionLog.fileName) }

    /// After `manifest` was published: records it as a version if the config
    /// keeps versions, drops the versions that expired, and returns the files
    /// retained versions name now and those only expired versions named.
    func recordVersion(_ manifest: Manifest) throws -> (retained: Set<String>, released: Set<String>) {
        try versionLog.withLock { log in
            guard config.versions != nil || !log.records.isEmpty else { return ([], []) }
            let before = try log.referencedFiles(path: versionLogPath)
            var updated = log
            updated.add(manifest, at: clock.now, tag: nil, config: config.versions)
            if updated != log {
                try updated.write(directory: directory, fileSystem: fileSystem)
                log = updated
            }
            let after = try log.referencedFiles(path: versionLogPath)
            return (after, before.subtracting(after))
        }
    }

    /// The retained versions, oldest first.
    var versions: [CollectionVersionInfo] { versionLog.withLock { $0.records.map(\.info) } }

    /// Bytes of the segment and tombstone files only retained versions name
    /// (what dropping every version would free).
    func bytesOnlyVersionsHold() throws -> Int {
        try maintenancePass.withLock { _ in
            let current = state.withReadLock { $0.manifest.files }
            let files = try versionLog.withLock { try $0.referencedFiles(path: versionLogPath) }.subtracting(current)
            return try files.reduce(0) { total, file in
                total + Int(try fileSystem.open(joinPath(segmentsDirectory, file), mode: .readOnly).size())
            }
        }
    }

    /// Flushes every write applied so far and tags the published manifest.
    /// Throws `.alreadyExists` for a tag in use.
    func tagVersion(_ tag: String) throws -> CollectionVersionInfo {
        try maintenancePass.withLock { _ in
            try sealAndFlush(force: true)
            let manifest = state.withReadLock { $0.manifest }
            return try versionLog.withLock { log in
                guard !log.records.contains(where: { $0.tag == tag }) else {
                    throw StrataError(.alreadyExists, "collection `\(name)` already has a version tagged \"\(tag)\"")
                }
                var updated = log
                updated.add(manifest, at: clock.now, tag: tag, config: config.versions)
                try updated.write(directory: directory, fileSystem: fileSystem)
                log = updated
                return updated.records.last { $0.tag == tag }!.info
            }
        }
    }

    /// Drops the version tagged `tag` and the files only it kept. Throws
    /// `.notFound` when no version has the tag.
    func deleteTag(_ tag: String) throws {
        try maintenancePass.withLock { _ in
            let current = state.withReadLock { $0.manifest.files }
            let released = try versionLog.withLock { log -> Set<String> in
                guard log.records.contains(where: { $0.tag == tag }) else {
                    throw StrataError(.notFound, "collection `\(name)` has no version tagged \"\(tag)\"")
                }
                let before = try log.referencedFiles(path: versionLogPath)
                var updated = log
                updated.records.removeAll { $0.tag == tag }
                try updated.write(directory: directory, fileSystem: fileSystem)
                log = updated
                return before.subtracting(try updated.referencedFiles(path: versionLogPath))
            }
            for file in released.subtracting(current) {
                try? fileSystem.removeFile(joinPath(segmentsDirectory, file))
            }
        }
    }

    /// A read-only store of the version `selector` names.
    func versionStore(_ selector: VersionSelector) throws -> (CollectionVersionInfo, CollectionStore) {
        // Under the pass lock: no publish removes the version's files while they open.
        try maintenancePass.withLock { _ in
            let record = try versionLog.withLock { try $0.find(selector, collection: name) }
            let time = Date(timeIntervalSince1970: record.time)
            let store = try CollectionStore(
                version: try record.decodedManifest(path: versionLogPath), name: name, directory: directory,
                config: config, vectorHistory: vectorHistory, fileSystem: fileSystem, clock: WallClock { time })
            return (record.info, store)
        }
    }
}
