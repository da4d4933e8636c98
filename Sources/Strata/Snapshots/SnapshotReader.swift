import StrataIO
import StrataTar
import StrataWAL

/// Reads snapshot archives and checks everything about them before a byte of
/// live data is touched (docs/format/snapshot.md, "Verifying"): the tar
/// structure, `snapshot.json`, every entry's name, size and SHA-256 against
/// it, that nothing is missing or extra, the archive's SHA-256 against its
/// `.sha256` file and any checksum the caller gives, each collection's
/// MANIFEST (decoded by the engine) and WAL (it must end exactly at the
/// snapshot's op number), and for a chain, that each incremental builds on
/// the archive before it.
struct SnapshotReader {
    let fileSystem: any FileSystem

    /// One archive, read through and verified.
    struct Scanned {
        var path: String
        var manifest: SnapshotManifest
        var sha256: String
        var size: UInt64
    }

    /// Chooses, per file of an archive, where its verified bytes go (nil:
    /// nowhere). The returned file is written from offset 0 and `sync`ed;
    /// a file whose bytes turn out wrong makes the whole read throw.
    typealias Extract = (_ archiveIndex: Int, _ entry: SnapshotManifest.FileEntry) throws -> (any StorageFile)?

    /// Reads only `snapshot.json` (the first entry) of the archive at `path`.
    func readManifest(_ path: String) throws -> SnapshotManifest {
        let reader = try TarReader(file: try open(path), path: path)
        return try StrataError.mappingTarErrors { try readManifest(reader) }
    }

    /// Verifies the chain `paths` (a full snapshot, or a base followed by its
    /// incrementals in order) and extracts the files of the last archive's
    /// state. `checksum`, if given, is the expected SHA-256 of the last archive.
    /// Returns every archive read, base first.
    func readChain(_ paths: [String], checksum: String?, extract: Extract? = nil) throws -> [Scanned] {
        guard let last = paths.last else { throw StrataError.invalid("no snapshot archive given") }
        var explicit: String?
        if let checksum {
            let normalized = checksum.lowercased()
            guard SHA256Hasher.isHexDigest(normalized) else {
                throw StrataError.invalid("checksum \"\(checksum)\" is not a SHA-256 digest (64 hex digits)")
            }
            explicit = normalized
        }
        let final = try readManifest(last)
        let wanted = Dictionary(final.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var extracted = Set<String>()
        var available: [String: String] = [:]
        var scanned: [Scanned] = []
        for (index, path) in paths.enumerated() {
            let archive = try scan(path, expected: index == paths.count - 1 ? explicit : nil) { entry in
                guard let extract, let want = wanted[entry.path], want.sha256 == entry.sha256, want.size == entry.size,
                    !extracted.contains(entry.path)
                else { return nil }
                extracted.insert(entry.path)
                return try extract(index, entry)
            }
            let manifest = archive.manifest
            if index == 0 {
                if let base = manifest.base {
                    throw StrataError(
                        .invalidArgument,
                        "snapshot \(path) is incremental: it builds on \(base.name) (SHA-256 \(base.archiveSHA256)); give the whole chain, the full snapshot first, then each incremental in order"
                    )
                }
            } else {
                let previous = scanned[index - 1]
                guard let base = manifest.base else {
                    throw StrataError(
                        .invalidArgument,
                        "snapshot \(path) is not incremental, so it cannot follow \(previous.path) in a chain")
                }
                guard base.archiveSHA256 == previous.sha256 else {
                    throw StrataError(
                        .invalidArgument,
                        "snapshot \(path) builds on an archive with SHA-256 \(base.archiveSHA256) (\(base.name)), but the archive before it in the chain, \(previous.path), has SHA-256 \(previous.sha256)"
                    )
                }
            }
            guard manifest.kind == final.kind, manifest.collection == final.collection else {
                throw StrataError(
                    .invalidArgument,
                    "snapshot \(path) holds \(Self.describe(manifest)) but \(last) holds \(Self.describe(final)); a chain must be of one kind and collection"
                )
            }
            for entry in manifest.files where entry.source == .archive { available[entry.path] = entry.sha256 }
            scanned.append(archive)
        }
        guard scanned.last?.manifest == final else {
            throw StrataError(.corruption, "snapshot archive \(last) changed while it was being read")
        }
        for file in final.files where available[file.path] != file.sha256 {
            throw StrataError(
                .corruption,
                "snapshot \(last) needs \(file.path) (SHA-256 \(file.sha256)) from its base, but no archive of the chain holds it; give the chain from its full snapshot on"
            )
        }
        return scanned
    }

    static func describe(_ manifest: SnapshotManifest) -> String {
        manifest.kind == .full ? "a full-storage snapshot" : "collection `\(manifest.collection ?? "?")`"
    }

    // MARK: - One archive

    private func open(_ path: String) throws -> any StorageFile {
        guard fileSystem.fileKind(path) == .file else {
            throw StrataError(
                fileSystem.fileKind(path) == nil ? .notFound : .invalidArgument,
                "snapshot archive \(path) does not exist or is not a regular file")
        }
        do {
            return try fileSystem.open(path, mode: .readOnly)
        } catch {
            throw StrataError.wrapping(error, context: "opening snapshot archive \(path)")
        }
    }

    private func readManifest(_ reader: TarReader) throws -> SnapshotManifest {
        guard let first = try reader.next() else {
            throw StrataError(
                .corruption, "snapshot archive \(reader.path) is empty: it has no \(SnapshotManifest.entryName)")
        }
        guard first.path == SnapshotManifest.entryName else {
            throw StrataError(
                .corruption,
                "snapshot archive \(reader.path) starts with \(first.path), not \(SnapshotManifest.entryName): it is not a Strata snapshot"
            )
        }
        return try SnapshotManifest.decode(
            try reader.readContent(limit: SnapshotManifest.maxBytes), archive: reader.path)
    }

    /// The expected SHA-256 from `<archive>.sha256`, if that file exists.
    func sidecarChecksum(_ path: String) throws -> String? {
        let sidecar = path + ".sha256"
        guard fileSystem.fileKind(sidecar) == .file else { return nil }
        let file = try fileSystem.open(sidecar, mode: .readOnly)
        let bytes = try file.read(at: 0, count: min(4096, Int(try file.size())))
        let text = String(decoding: bytes, as: UTF8.self)
        let token =
            text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.map { String($0).lowercased() }
            ?? ""
        guard SHA256Hasher.isHexDigest(token) else {
            throw StrataError(
                .corruption,
                "checksum file \(sidecar) does not start with a SHA-256 digest (sha256sum format: \"<64 hex digits>  <name>\")"
            )
        }
        return token
    }

    /// Reads the archive at `path` to its end, checking everything, and
    /// passing verified bytes to the files `extract` returns.
    func scan(
        _ path: String, expected explicit: String?, extract: (SnapshotManifest.FileEntry) throws -> (any StorageFile)?
    ) throws
        -> Scanned
    {
        try StrataError.mappingTarErrors { try scanArchive(path, expected: explicit, extract: extract) }
    }

    private func scanArchive(
        _ path: String, expected explicit: String?,
        extract: (SnapshotManifest.FileEntry) throws -> (any StorageFile)?
    ) throws -> Scanned {
        let file = try open(path)
        let reader = try TarReader(file: file, path: path)
        let manifest = try readManifest(reader)
        let listed = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let kept = Set(
            manifest.collections.flatMap { entry in
                [entry.directory + Manifest.fileName, entry.directory + Collection.configFileName]
            })
        var seen: Set<String> = [SnapshotManifest.entryName]
        var keptBytes: [String: [UInt8]] = [:]
        while let header = try reader.next() {
            func bad(_ why: String) -> StrataError {
                StrataError(.corruption, "snapshot archive \(path): entry \(header.path) \(why)")
            }
            guard seen.insert(header.path).inserted else { throw bad("appears twice") }
            guard let entry = listed[header.path] else { throw bad("is not listed in \(SnapshotManifest.entryName)") }
            guard entry.source == .archive else {
                throw bad("is in the archive, but \(SnapshotManifest.entryName) says it comes from the base snapshot")
            }
            guard header.size == entry.size else {
                throw bad("is \(header.size) bytes, but \(SnapshotManifest.entryName) says \(entry.size)")
            }
            let keep = kept.contains(entry.path) || Self.isWAL(entry.path)
            let target = try extract(entry)
            var hasher = SHA256Hasher()
            var offset: UInt64 = 0
            var bytes: [UInt8] = []
            try reader.readContent { chunk in
                hasher.update(chunk)
                if let target {
                    do { try target.write(at: offset, chunk) } catch {
                        throw StrataError.wrapping(error, context: "unpacking \(entry.path) from \(path)")
                    }
                }
                if keep { bytes.append(contentsOf: chunk) }
                offset += UInt64(chunk.count)
            }
            let digest = hasher.hex()
            guard digest == entry.sha256 else {
                throw bad(
                    "fails its checksum: \(SnapshotManifest.entryName) says SHA-256 \(entry.sha256), the content has \(digest)"
                )
            }
            if let target {
                do { try target.sync() } catch {
                    throw StrataError.wrapping(error, context: "unpacking \(entry.path) from \(path)")
                }
            }
            if keep { keptBytes[entry.path] = bytes }
        }
        let sha256 = try reader.finish()
        for entry in manifest.files where entry.source == .archive && !seen.contains(entry.path) {
            throw StrataError(
                .corruption,
                "snapshot archive \(path): \(entry.path) is listed in \(SnapshotManifest.entryName) but missing from the archive"
            )
        }
        if let sidecar = try sidecarChecksum(path), sidecar != sha256 {
            throw StrataError(
                .corruption,
                "snapshot archive \(path) fails its checksum: \(path).sha256 says SHA-256 \(sidecar), the archive has \(sha256); the archive or its checksum file is damaged"
            )
        }
        if let explicit, explicit != sha256 {
            throw StrataError(
                .corruption,
                "snapshot archive \(path) fails its checksum: expected SHA-256 \(explicit), the archive has \(sha256)")
        }
        for collection in manifest.collections {
            try checkCollection(collection, manifest: manifest, bytes: keptBytes, archive: path)
        }
        return Scanned(path: path, manifest: manifest, sha256: sha256, size: try file.size())
    }

    static func isWAL(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        return components.count >= 2 && components[components.count - 2] == Substring(Collection.walDirectoryName)
            && WALFormat.firstOpNum(fromFileName: String(components.last!)) != nil
    }

    /// Checks that a collection of the archive can be opened at exactly its
    /// op number: config.json present, the MANIFEST's checkpoint and files
    /// agree with `snapshot.json`, and the WAL holds exactly checkpoint+1 …
    /// op_num, every record intact.
    private func checkCollection(
        _ collection: SnapshotManifest.CollectionEntry, manifest snapshot: SnapshotManifest,
        bytes: [String: [UInt8]], archive: String
    ) throws {
        func bad(_ why: String) -> StrataError {
            StrataError(.corruption, "snapshot archive \(archive): collection `\(collection.name)`: \(why)")
        }
        let files = Dictionary(snapshot.files(of: collection).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        guard files[Collection.configFileName]?.source == .archive else {
            throw bad("\(collection.directory)\(Collection.configFileName) is missing")
        }
        var checkpoint: UInt64 = 0
        if let manifestBytes = bytes[collection.directory + Manifest.fileName] {
            let decoded = try Manifest.decode(
                manifestBytes, path: "\(archive): \(collection.directory)\(Manifest.fileName)")
            checkpoint = decoded.checkpoint
            for entry in decoded.segments {
                var names = [Manifest.segmentFileName(entry.segmentID)]
                if entry.tombstoneGeneration > 0 {
                    names.append(Manifest.tombstoneFileName(entry.segmentID, generation: entry.tombstoneGeneration))
                }
                for name in names where files["segments/" + name] == nil {
                    throw bad("its MANIFEST names segments/\(name), which the snapshot does not hold")
                }
            }
        } else if files[Manifest.fileName] != nil {
            throw bad("\(collection.directory)\(Manifest.fileName) must be in the archive itself, not inherited")
        }
        guard checkpoint == collection.checkpoint else {
            throw bad(
                "its MANIFEST has checkpoint \(checkpoint) but \(SnapshotManifest.entryName) says \(collection.checkpoint)"
            )
        }
        let walPaths = files.keys.filter { Self.isWAL(collection.directory + $0) }.sorted()
        guard !walPaths.isEmpty else { throw bad("it has no WAL file") }
        var next: UInt64?
        for relative in walPaths {
            let path = collection.directory + relative
            guard let image = bytes[path] else {
                throw bad("WAL file \(path) must be in the archive itself, not inherited")
            }
            let scan: WALFileScan
            do {
                scan = try image.withUnsafeBytes { try WALFileScanner.scan($0) }
            } catch {
                throw bad("WAL file \(path) has a bad header: \(error)")
            }
            let named = WALFormat.firstOpNum(fromFileName: String(relative.split(separator: "/").last!))
            guard scan.firstOpNum == named else {
                throw bad("WAL file \(path) starts at op \(scan.firstOpNum), not the op its name says")
            }
            if let stop = scan.stop { throw bad("WAL file \(path) is damaged: \(stop)") }
            if let next, scan.firstOpNum != next {
                throw bad("WAL file \(path) starts at op \(scan.firstOpNum), expected \(next): the log has a gap")
            }
            if next == nil, checkpoint < .max, scan.firstOpNum > checkpoint + 1 {
                throw bad(
                    "the WAL starts at op \(scan.firstOpNum) but operations after the checkpoint \(checkpoint) are needed"
                )
            }
            let (end, past) = scan.firstOpNum.addingReportingOverflow(UInt64(scan.records.count))
            guard !past else { throw bad("WAL file \(path) runs past the largest operation number") }
            next = end
        }
        let last = next! - 1
        guard last == collection.opNum else {
            throw bad(
                "the WAL ends at op \(last) but the snapshot is of op \(collection.opNum); restore must replay exactly up to it"
            )
        }
    }
}
