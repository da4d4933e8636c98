import Crypto
import Foundation
import Strata
import StrataBinary
import StrataIO

/// The checks of the `SnapshotArchiveFuzz` target (fuzz/), shared with the test
/// that replays its corpus (fuzz/corpus/snapshot-archive). Each input is one
/// snapshot archive (docs/format/snapshot.md), put on an in-memory
/// `FaultInjectingFileSystem` and
/// - verified (`Database.verifySnapshot`): the tar reader, `snapshot.json`, every
///   entry's size and SHA-256, each collection's MANIFEST and WAL. It must return
///   or throw a `StrataError` naming the archive, and write nothing at all;
/// - restored into a fresh database (`restoreSnapshot`): an archive that failed
///   verification must fail the restore; one that verified may restore (every
///   collection it lists then opens) or throw a `StrataError` (its files do not
///   open); a refused restore leaves the data directory exactly as it was, and
///   either way nothing is created, written, renamed or
///   removed outside the data directory, and nothing outside its `collections/`
///   except its own top-level files.
/// Both run on the bytes as given and again with every checksum recomputed that
/// libFuzzer cannot forge (tar header sums, the SHA-256 and size of each file in
/// `snapshot.json`, the CRC of each MANIFEST), so hostile entries (links, `..`,
/// absolute paths, devices, duplicates, size lies) reach the checks meant for them.
public enum SnapshotArchiveFuzzCheck {
    static let archivePath = "/in/a.snapshot"
    static let root = "/db"
    static let options = DatabaseOptions(durability: .durable, walFileSize: 1 << 20)

    /// Runs the checks on one input; returns whether it (or its checksum-fixed
    /// form) verified.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Bool {
        var verified = check(bytes)
        let fixed = SnapshotArchiveBytes.recomputeChecksums(bytes)
        if fixed != bytes { verified = check(fixed) || verified }
        return verified
    }

    private static func check(_ archive: [UInt8]) -> Bool {
        let fs = FaultInjectingFileSystem()
        let recorder = RecordingFileSystem(fs)
        do {
            try fs.createDirectory("/in")
            let file = try fs.open(archivePath, mode: .createNew)
            try file.write(at: 0, archive)
            try file.sync()
        } catch {
            preconditionFailure("setting up the in-memory archive failed: \(error)")
        }

        // 1. Verify: a value or a typed error naming the archive; nothing written.
        var verification: SnapshotVerification?
        do {
            verification = try Database.verifySnapshot(at: [archivePath], fileSystem: recorder)
        } catch let error as StrataError {
            precondition(
                [.corruption, .invalidArgument].contains(error.code) && error.message.contains(archivePath),
                "verifying gave \(error), not a corruption error naming the archive")
        } catch {
            preconditionFailure("verifying threw \(type(of: error)): \(error)")
        }
        precondition(recorder.mutations.isEmpty, "verifying changed \(recorder.mutations)")

        // 2. Restore into a fresh database.
        let db: Database
        let before: FileTree
        do {
            db = try Database.open(at: root, options: options, fileSystem: recorder)
            before = try FileTree.capture(fs, "/")
        } catch {
            preconditionFailure("opening a fresh in-memory database failed: \(error)")
        }
        defer { db.close() }
        recorder.reset()
        do {
            let result = try db.restoreSnapshot(from: [archivePath])
            precondition(verification != nil, "restore accepted an archive that verification refused")
            precondition(
                Set(result.collections.keys) == Set(verification!.snapshot.collections.keys),
                "restore brought in \(result.collections.keys.sorted()), the snapshot lists \(verification!.snapshot.collections)"
            )
            for name in result.collections.keys { _ = try db.collection(name).count() }
        } catch is StrataError {
            // Refused before its commit point (an archive that verified but
            // whose files do not open included): nothing changed.
            let after = try? FileTree.capture(fs, "/")
            precondition(after == before, "a refused restore changed the data directory")
        } catch {
            preconditionFailure("restoring threw \(type(of: error)): \(error)")
        }
        for path in recorder.mutations {
            precondition(
                path.hasPrefix(root + "/collections/")
                    || (path.hasPrefix(root + "/") && !path.dropFirst(root.count + 1).contains("/")),
                "restore touched \(path), outside the data directory's collections and top-level files")
        }
        return verification != nil
    }
}

/// Byte-level handling of tar archives for tests and the fuzz target, lenient
/// where the engine's reader is strict: it walks whatever looks like headers.
public enum SnapshotArchiveBytes {
    public struct Entry: Equatable, Sendable {
        public var headerOffset: Int
        public var path: String
        public var type: UInt8
        public var contentStart: Int
        /// As the header says (the content may run past the end of the bytes).
        public var size: Int
        public var contentEnd: Int { contentStart + size }
    }

    /// Every header from offset 0 up to the first zero block or the first
    /// header whose size field does not parse or whose content does not fit
    /// (that one is included with size 0 or its claimed size).
    public static func entries(_ bytes: [UInt8]) -> [Entry] {
        var entries: [Entry] = []
        var offset = 0
        while bytes.count - offset >= 512 {
            if bytes[offset..<(offset + 512)].allSatisfy({ $0 == 0 }) { break }
            let name = cString(bytes[offset..<(offset + 100)])
            let prefix = cString(bytes[(offset + 345)..<(offset + 500)])
            let path = String(decoding: prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name, as: UTF8.self)
            let size = parseSize(bytes[(offset + 124)..<(offset + 136)])
            let start = offset + 512
            entries.append(
                Entry(headerOffset: offset, path: path, type: bytes[offset + 156], contentStart: start, size: size ?? 0)
            )
            guard let size, size <= bytes.count - start else { break }
            offset = start + size + padding(size)
        }
        return entries
    }

    /// Recomputes the CRC of every complete MANIFEST entry, then the SHA-256
    /// and size of every file `snapshot.json` (the first entry) lists that the
    /// archive holds in full (rewriting `snapshot.json` with sorted keys), then
    /// every header's checksum.
    public static func recomputeChecksums(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        var found = entries(bytes)
        for entry in found
        where (entry.path == "MANIFEST" || entry.path.hasSuffix("/MANIFEST"))
            && entry.size >= 8 && entry.contentEnd <= bytes.count
        {
            var content = Array(bytes[entry.contentStart..<entry.contentEnd])
            let crc = CRC32C.mask(CRC32C.checksum(Array(content[..<(content.count - 4)])))
            for k in 0..<4 { content[content.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
            bytes.replaceSubrange(entry.contentStart..<entry.contentEnd, with: content)
        }
        if let first = found.first, first.path == "snapshot.json", first.contentEnd <= bytes.count,
            let rewritten = rewriteManifest(
                Array(bytes[first.contentStart..<first.contentEnd]), entries: found.dropFirst(), bytes)
        {
            let oldEnd = min(bytes.count, first.contentEnd + padding(first.size))
            var header = Array(bytes[first.headerOffset..<(first.headerOffset + 512)])
            header.replaceSubrange(124..<136, with: octal(UInt64(rewritten.count), width: 12))
            bytes =
                Array(bytes[..<first.headerOffset]) + header + rewritten
                + [UInt8](repeating: 0, count: padding(rewritten.count))
                + bytes[oldEnd...]
            found = entries(bytes)
        }
        for entry in found { setHeaderChecksum(&bytes, at: entry.headerOffset) }
        return bytes
    }

    private static func rewriteManifest(_ json: [UInt8], entries: ArraySlice<Entry>, _ bytes: [UInt8]) -> [UInt8]? {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any],
            let files = object["files"] as? [Any]
        else { return nil }
        var contents: [String: ArraySlice<UInt8>] = [:]
        for entry in entries where entry.contentEnd <= bytes.count && contents[entry.path] == nil {
            contents[entry.path] = bytes[entry.contentStart..<entry.contentEnd]
        }
        object["files"] = files.map { item -> Any in
            guard var file = item as? [String: Any], let path = file["path"] as? String, let content = contents[path]
            else { return item }
            file["sha256"] = sha256Hex(content)
            file["size"] = content.count
            return file
        }
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        return Array(data)
    }

    /// Lowercase hex SHA-256, the form snapshot manifests use.
    public static func sha256Hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in SHA256.hash(data: Array(bytes)) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Sets the ustar checksum of the header at `offset` (its own field read as spaces).
    public static func setHeaderChecksum(_ bytes: inout [UInt8], at offset: Int) {
        var sum: UInt64 = 0
        for index in 0..<512 { sum += (148..<156).contains(index) ? 0x20 : UInt64(bytes[offset + index]) }
        bytes.replaceSubrange((offset + 148)..<(offset + 156), with: octal(sum, width: 7) + [0x20])
    }

    /// A ustar header for `path` (≤ 100 bytes) of type `type`, checksum set.
    public static func header(
        path: String, size: Int, type: UInt8 = UInt8(ascii: "0"), linkName: String = ""
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], _ at: Int) { block.replaceSubrange(at..<(at + field.count), with: field) }
        put(Array(path.utf8.prefix(100)), 0)
        put(octal(0o644, width: 8), 100)
        put(octal(0, width: 8), 108)
        put(octal(0, width: 8), 116)
        put(octal(UInt64(size), width: 12), 124)
        put(octal(0, width: 12), 136)
        block[156] = type
        put(Array(linkName.utf8.prefix(100)), 157)
        put(Array("ustar\0".utf8), 257)
        put(Array("00".utf8), 263)
        setHeaderChecksum(&block, at: 0)
        return block
    }

    public static func padding(_ size: Int) -> Int { size % 512 == 0 ? 0 : 512 - size % 512 }

    static func octal(_ value: UInt64, width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits + [0]
    }

    private static func cString(_ bytes: ArraySlice<UInt8>) -> [UInt8] { Array(bytes.prefix { $0 != 0 }) }

    private static func parseSize(_ field: ArraySlice<UInt8>) -> Int? {
        if let first = field.first, first & 0x80 != 0 {
            var value: UInt64 = 0
            for byte in field.dropFirst(4) {
                guard value < 1 << 55 else { return nil }
                value = value << 8 | UInt64(byte)
            }
            return value < UInt64(Int.max / 2) ? Int(value) : nil
        }
        var value = 0
        var digits = 0
        for byte in field.drop(while: { $0 == 0x20 }) {
            if byte == 0 || byte == 0x20 { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 21 else { return nil }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits == 0 ? nil : value
    }
}

/// A `FileSystem` that forwards to another and records the path of every call
/// that can change something: opening for writing, creating directories,
/// renaming, removing.
final class RecordingFileSystem: FileSystem, Sendable {
    private let base: any FileSystem
    /// Guards the paths recorded so far, in call order.
    private let recorded = Locked<[String]>([])

    init(_ base: any FileSystem) { self.base = base }

    var mutations: [String] { recorded.withLock { $0 } }
    func reset() { recorded.withLock { $0 = [] } }
    private func note(_ paths: String...) { recorded.withLock { $0 += paths } }

    func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
        if mode != .readOnly { note(path) }
        return try base.open(path, mode: mode)
    }
    func createDirectory(_ path: String) throws { note(path); try base.createDirectory(path) }
    func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
    func rename(_ source: String, to destination: String) throws {
        note(source, destination); try base.rename(source, to: destination)
    }
    func removeFile(_ path: String) throws { note(path); try base.removeFile(path) }
    func removeTree(_ path: String) throws { note(path); try base.removeTree(path) }
    func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    func fileKind(_ path: String) -> FileKind? { base.fileKind(path) }
    func lock(_ path: String) throws -> FileLock { note(path); return try base.lock(path) }
}

// MARK: - Seeds

extension SnapshotArchiveFuzzCheck {
    /// Seed inputs: real archives written by the engine (a collection snapshot of
    /// a collection with a segment, a payload index and a WAL tail; an incremental
    /// one built on it, which alone must fail; a full-storage snapshot of two
    /// collections), and hostile archives derived from the first with their
    /// checksums fixed: every kind of non-regular entry, `..` and absolute paths,
    /// a duplicate, an unlisted file, a size that runs past the end, data after
    /// the end-of-archive marker.
    public static func seeds() async throws -> [(name: String, bytes: [UInt8])] {
        let fs = FaultInjectingFileSystem()
        let db = try Database.open(at: root, options: options, fileSystem: fs)
        defer { db.close() }
        func point(_ id: UInt64) -> PointStruct {
            PointStruct(
                id: .number(id), vector: [Float(id), 1, 0, 0.5],
                payload: ["tag": .string("t\(id % 3)"), "n": .int(Int64(id))])
        }
        let a = try db.createCollection("a", config: CollectionConfig(size: 4, distance: .cosine))
        try await a.upsert((1...3).map(point))
        try await a.createFieldIndex("tag", schema: PayloadFieldSchema(.keyword))
        try a.flush()
        try await a.upsert([point(4)])
        let collection = try db.createSnapshot(of: "a")
        try await a.upsert([point(5)])
        _ = try await a.delete([.number(2)])
        let incremental = try db.createSnapshot(of: "a", incrementalFrom: collection.path)
        let b = try db.createCollection("b", config: CollectionConfig(size: 2, distance: .euclid))
        try await b.upsert([PointStruct(id: .number(7), vector: [0.5, -1])])
        let full = try db.createFullSnapshot()
        func read(_ path: String) throws -> [UInt8] { try fs.open(path, mode: .readOnly).readAll() }
        let base = try read(collection.path)
        var seeds: [(String, [UInt8])] = [
            ("collection.snapshot", base), ("incremental.snapshot", try read(incremental.path)),
            ("full.snapshot", try read(full.path)),
        ]

        // Hostile archives: the real one's entries, changed, re-packed, checksums fixed.
        typealias Item = (path: String, type: UInt8, link: String, content: [UInt8])
        let items: [Item] = SnapshotArchiveBytes.entries(base).map {
            ($0.path, $0.type, "", Array(base[$0.contentStart..<$0.contentEnd]))
        }
        func pack(_ items: [Item], trailer: [UInt8] = []) -> [UInt8] {
            var out: [UInt8] = []
            for item in items {
                out += SnapshotArchiveBytes.header(
                    path: item.path, size: item.content.count, type: item.type, linkName: item.link)
                out += item.content + [UInt8](repeating: 0, count: SnapshotArchiveBytes.padding(item.content.count))
            }
            out += [UInt8](repeating: 0, count: 1024)
            out += [UInt8](repeating: 0, count: (10_240 - out.count % 10_240) % 10_240)
            return SnapshotArchiveBytes.recomputeChecksums(out) + trailer
        }
        func inserted(_ item: Item) -> [Item] { [items[0], item] + items.dropFirst() }
        let ascii = { (c: Character) in c.asciiValue! }
        seeds.append(("hostile-symlink.tar", pack(inserted(("wal/evil", ascii("2"), "/etc/passwd", [])))))
        seeds.append(("hostile-hardlink.tar", pack(inserted(("config.json.bak", ascii("1"), "config.json", [])))))
        seeds.append(("hostile-char-device.tar", pack(inserted(("null", ascii("3"), "", [])))))
        seeds.append(("hostile-block-device.tar", pack(inserted(("sda", ascii("4"), "", [])))))
        seeds.append(("hostile-directory.tar", pack(inserted(("segments", ascii("5"), "", [])))))
        seeds.append(("hostile-fifo.tar", pack(inserted(("pipe", ascii("6"), "", [])))))
        seeds.append(
            (
                "hostile-pax-header.tar",
                pack(inserted(("PaxHeaders/x", ascii("x"), "", Array("30 path=../../../etc/passwd\n".utf8))))
            ))
        seeds.append(
            (
                "hostile-gnu-longname.tar",
                pack(inserted(("././@LongLink", ascii("L"), "", Array("../../escape\0".utf8))))
            ))
        seeds.append(("hostile-dotdot.tar", pack(inserted(("../escape", ascii("0"), "", Array("x".utf8))))))
        seeds.append(
            ("hostile-nested-dotdot.tar", pack(inserted(("segments/../../escape", ascii("0"), "", Array("x".utf8))))))
        seeds.append(("hostile-absolute.tar", pack(inserted(("/tmp/escape", ascii("0"), "", Array("x".utf8))))))
        seeds.append(("hostile-unlisted.tar", pack(inserted(("extra.bin", ascii("0"), "", Array("x".utf8))))))
        seeds.append(("hostile-duplicate.tar", pack(items + [items[1]])))
        seeds.append(("hostile-manifest-not-first.tar", pack(Array(items.dropFirst()) + [items[0]])))
        var lie = pack(items)
        let last = SnapshotArchiveBytes.entries(lie).last!
        lie.replaceSubrange(
            (last.headerOffset + 124)..<(last.headerOffset + 136), with: SnapshotArchiveBytes.octal(1 << 20, width: 12))
        SnapshotArchiveBytes.setHeaderChecksum(&lie, at: last.headerOffset)
        seeds.append(("hostile-size-lie.tar", lie))
        var after = pack(items)
        after[after.count - 1] = 0x41
        seeds.append(("hostile-data-after-end.tar", after))
        seeds.append(("hostile-truncated.tar", Array(base[..<(base.count / 2)])))
        return seeds
    }
}
