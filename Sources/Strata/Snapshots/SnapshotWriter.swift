import Foundation
import StrataTar
import StrataIO

/// Packs collection views (and, for a full snapshot, the data directory's own
/// files) into one archive, published crash-safely (docs/format/snapshot.md,
/// "Writing an archive"):
///
/// 1. hash every file (SHA-256), decide which files an incremental snapshot
///    inherits from its base, build `snapshot.json`;
/// 2. write `<name>.tmp`: `snapshot.json` first, then every file (hashed again
///    while copied: a file that changed is an error, not a bad archive);
///    `fsync` it;
/// 3. write `<name>.sha256` atomically (temp, fsync, rename, directory fsync);
/// 4. rename `<name>.tmp` to `<name>` and `fsync` the directory: the commit
///    point. Listing shows only `*.snapshot` names, so a snapshot is listed
///    only once it is whole and has its checksum file; what a crash leaves
///    before that (`*.tmp`, a `.sha256` without its archive) is removed at open.
struct SnapshotWriter {
    struct Source {
        var path: String
        var size: UInt64
        var content: CollectionFileView.File.Content
    }

    /// A verified base for an incremental snapshot.
    struct Base {
        var name: String
        var sha256: String
        var manifest: SnapshotManifest
    }

    let fileSystem: any FileSystem

    /// Writes the archive into `directory` (created if missing) and returns its description.
    func write(
        kind: SnapshotManifest.Kind, collections: [(name: String, view: CollectionFileView)], rootFiles: [Source],
        base: Base?, directory: String, now: Date = Date()
    ) throws -> SnapshotDescription {
        var sources = rootFiles
        var entries: [SnapshotManifest.CollectionEntry] = []
        for (name, view) in collections {
            let prefix = kind == .collection ? "" : "collections/\(name)/"
            entries.append(.init(name: name, directory: prefix, opNum: view.opNum, checkpoint: view.checkpoint))
            sources += view.files.map { Source(path: prefix + $0.path, size: $0.size, content: $0.content) }
        }
        sources.sort { $0.path < $1.path }
        for source in sources {
            try StrataError.mappingTarErrors { try TarPath.validate(source.path) }
            guard TarFormat.split(source.path) != nil else {
                throw StrataError(
                    .invalidArgument,
                    "cannot snapshot \(source.path): the path does not fit a ustar header (255 bytes, split 155/100 at a '/'); use a shorter collection name"
                )
            }
        }

        // 1. Hash, and decide what an incremental snapshot inherits.
        let baseFiles = Dictionary((base?.manifest.files ?? []).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var files: [SnapshotManifest.FileEntry] = []
        for source in sources {
            let digest = try hash(source, check: nil)
            var source_ = SnapshotManifest.FileEntry.Source.archive
            if let inherited = baseFiles[source.path], Self.isImmutable(source.path),
                inherited.size == source.size, inherited.sha256 == digest
            {
                source_ = .base
            }
            files.append(.init(path: source.path, size: source.size, sha256: digest, source: source_))
        }
        let single = kind == .collection ? collections.first : nil
        let manifest = SnapshotManifest(
            kind: kind, collection: single?.name, opNum: single?.view.opNum, createdAt: Self.iso8601(now),
            base: base.map { .init(name: $0.name, archiveSHA256: $0.sha256) }, collections: entries, files: files)
        let manifestBytes = try manifest.encoded()

        // 2–4. Write, checksum file, publish.
        if fileSystem.fileKind(directory) == nil {
            try fileSystem.createDirectoryDurably(parentDirectory(of: directory))
            try fileSystem.createDirectoryDurably(directory)
        }
        let stem =
            kind == .collection ? "\(single!.name)-\(Self.stamp(now))-\(single!.view.opNum)" : "full-\(Self.stamp(now))"
        var name = stem + ".snapshot"
        var attempt = 1
        while fileSystem.fileKind(joinPath(directory, name)) != nil {
            attempt += 1
            name = "\(stem)-\(attempt).snapshot"
        }
        let path = joinPath(directory, name)
        let temp = path + ".tmp"
        let sidecar = path + ".sha256"
        do {
            if fileSystem.fileKind(temp) != nil { try fileSystem.removeFile(temp) }
            let file = try fileSystem.open(temp, mode: .createNew)
            let writer = TarWriter(file: file, modificationTime: UInt64(max(0, now.timeIntervalSince1970)))
            try writer.addFile(path: SnapshotManifest.entryName, bytes: manifestBytes)
            for (source, entry) in zip(sources, files) where entry.source == .archive {
                try writer.addFile(path: source.path, size: source.size) { sink in
                    _ = try hash(source, check: entry.sha256, into: sink)
                }
            }
            let (size, sha256) = try writer.finish()
            try file.sync()
            try fileSystem.writeAtomically(sidecar, Array("\(sha256)  \(name)\n".utf8))
            try fileSystem.rename(temp, to: path)
            try fileSystem.syncDirectory(directory)
            return SnapshotDescription(
                name: name, path: path, size: size, kind: kind == .collection ? .collection : .full,
                collection: single?.name,
                opNum: single?.view.opNum,
                collections: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.opNum) }),
                createdAt: manifest.createdAt, checksum: sha256, baseChecksum: base?.sha256,
                stateBytes: files.reduce(0) { $0 + $1.size })
        } catch {
            try? fileSystem.removeFile(temp)
            if fileSystem.fileKind(path) == nil { try? fileSystem.removeFile(sidecar) }
            throw StrataError.wrapping(error, context: "writing snapshot \(path)")
        }
    }

    /// Segment and tombstone files never change once written (a new tombstone
    /// set gets a new generation and name), so only they are inherited.
    static func isImmutable(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        return components.count >= 2 && components[components.count - 2] == "segments"
    }

    /// SHA-256 of `source`; with `check`, fails when the content's hash is
    /// not that (the file changed since it was first hashed); `sink` gets the
    /// bytes as they are read.
    @discardableResult
    private func hash(
        _ source: Source, check: String?, into sink: (UnsafeRawBufferPointer) throws -> Void = { _ in }
    ) throws -> String {
        var hasher = SHA256Hasher()
        switch source.content {
        case .bytes(let bytes):
            try bytes.withUnsafeBytes { raw in
                hasher.update(raw)
                try sink(raw)
            }
        case .pinned(let file):
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset: UInt64 = 0
            while offset < source.size {
                let count = Int(min(UInt64(buffer.count), source.size - offset))
                try buffer.withUnsafeMutableBytes { raw in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[..<count])
                    let got = try file.read(at: offset, into: chunk)
                    guard got == count else {
                        throw StrataError(
                            .io,
                            "snapshot: \(file.path) shrank while it was archived (read \(got) of \(count) bytes at \(offset))"
                        )
                    }
                    hasher.update(UnsafeRawBufferPointer(chunk))
                    try sink(UnsafeRawBufferPointer(chunk))
                }
                offset += UInt64(count)
            }
        }
        let digest = hasher.hex()
        if let check, check != digest {
            throw StrataError(
                .io,
                "snapshot: \(source.path) changed while it was archived (SHA-256 \(check) before, \(digest) now); nothing was published"
            )
        }
        return digest
    }

    /// `2026-03-01T12:34:56Z`
    static func iso8601(_ date: Date) -> String {
        let (d, t) = utcParts(date)
        return "\(d.0)-\(pad(d.1))-\(pad(d.2))T\(pad(t.0)):\(pad(t.1)):\(pad(t.2))Z"
    }

    /// `20260301T123456Z`, for file names.
    static func stamp(_ date: Date) -> String {
        let (d, t) = utcParts(date)
        return "\(d.0)\(pad(d.1))\(pad(d.2))T\(pad(t.0))\(pad(t.1))\(pad(t.2))Z"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private static func utcParts(_ date: Date) -> ((Int, Int, Int), (Int, Int, Int)) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return ((c.year!, c.month!, c.day!), (c.hour!, c.minute!, c.second!))
    }
}
