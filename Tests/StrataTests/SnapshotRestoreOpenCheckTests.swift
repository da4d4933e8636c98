import Foundation
@testable import Strata
import StrataBinary
import StrataIO
import StrataTestSupport
import StrataWAL
import Testing

/// Restore opens every staged collection with the engine's own open code and
/// checks every checksum of every segment before its commit point. Each
/// archive here is *self-consistent*: a member is damaged, then its SHA-256 and
/// size in snapshot.json and the archive's `.sha256` are recomputed, so the
/// archive-level checks pass (`verifySnapshot` accepts it) and only opening
/// the files can tell. The restore must fail naming the archive, the member and
/// the problem, and leave the collection it would overwrite exactly as it was,
/// still serving, with no staging left behind.
@Suite struct SnapshotRestoreOpenCheckTests {
    enum Damage: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case segmentHeader, segmentTruncated, segmentVectorData, segmentFooter, tombstones, manifestPayloadIndex
        case configNotJSON, configWrongDimension, walRecordNotAnOperation

        var testDescription: String { rawValue }
    }

    // MARK: - Crafting self-consistent archives

    /// Replaces the content of entry `index` and records its new SHA-256 and size in snapshot.json.
    static func replace(_ entries: inout [RawTarEntry], _ index: Int, with content: [UInt8]) {
        entries[index].content = content
        editManifestFile(&entries, path: entries[index].name) { file in
            file["size"] = content.count
            file["sha256"] = sha256Hex(content)
        }
    }

    /// Writes the archive and a `.sha256` that matches it.
    static func writeArchive(_ entries: [RawTarEntry], to path: String) throws {
        let bytes = writeRawTar(entries)
        try writeFile(path, bytes)
        try writeFile(path + ".sha256", Array("\(sha256Hex(bytes))  \(path.split(separator: "/").last!)\n".utf8))
    }

    /// The byte range of the first section of `kind` in a segment file
    /// (docs/format/segment.md: the 40-byte footer points to the section table).
    static func sectionRange(_ segment: [UInt8], kind: UInt16) -> Range<Int>? {
        func u32(_ at: Int) -> UInt32 { segment[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ at: Int) -> Int { Int(segment[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        let footer = segment.count - 40
        let table = u64(footer)
        var position = table + 8
        for _ in 0..<Int(u32(table)) {
            if UInt16(truncatingIfNeeded: u32(position)) == kind {
                let offset = u64(position + 8)
                return offset..<(offset + u64(position + 16))
            }
            position += 32 + Int(u32(position) >> 16)
        }
        return nil
    }

    /// Damages the archive `entries` (files of collection "c" under `prefix`)
    /// and returns the member at fault and a phrase the error must contain.
    static func damage(
        _ damage: Damage, _ entries: inout [RawTarEntry], prefix: String
    ) throws -> (member: String, phrase: String) {
        func index(_ where: (String) -> Bool) throws -> Int {
            try #require(
                entries.firstIndex { $0.name.hasPrefix(prefix) && `where`(String($0.name.dropFirst(prefix.count))) })
        }
        let segment = try index { $0.hasPrefix("segments/") && $0.hasSuffix(".seg") }
        var content: [UInt8]
        let target: Int
        let phrase: String
        switch damage {
        case .segmentHeader:
            target = segment
            content = entries[target].content
            content[0] ^= 0xFF  // the magic
            phrase = "header"
        case .segmentTruncated:
            target = segment
            content = Array(entries[target].content.prefix(entries[target].content.count / 2))
            phrase = "footer"
        case .segmentVectorData:
            target = segment
            content = entries[target].content
            let data = try #require(sectionRange(content, kind: 5))  // vector data: checked by verifyAll, not at open
            content[data.lowerBound + data.count / 2] ^= 0x01
            phrase = "checksum mismatch"
        case .segmentFooter:
            target = segment
            content = entries[target].content
            content[content.count - 24] ^= 0x01  // file_length, under the footer's CRC
            phrase = "footer"
        case .tombstones:
            target = try index { $0.hasPrefix("segments/") && $0.hasSuffix(".del") }
            content = entries[target].content
            content[32] ^= 0x01  // the first deleted offset, under the file's CRC
            phrase = "tombstones"
        case .manifestPayloadIndex:
            // A MANIFEST with a valid CRC, the right checkpoint and files, but a
            // payload index schema the engine cannot use.
            target = try index { $0 == Manifest.fileName }
            var manifest = try Manifest.decode(entries[target].content, path: "MANIFEST")
            manifest.payloadSchema.append(.init(key: "token", schema: .string("not-a-type")))
            content = manifest.encoded()
            phrase = "not-a-type"
        case .configNotJSON:
            target = try index { $0 == Strata.Collection.configFileName }
            content = Array("{\"format_version\": 1, \"config\": ".utf8)
            phrase = "is not a valid collection config"
        case .configWrongDimension:
            // The engine's message names both files (either may be the damaged
            // one); its subject, the segment, is named as the member.
            target = try index { $0 == Strata.Collection.configFileName }
            var stored = try JSONDecoder().decode(
                Strata.Collection.StoredConfig.self, from: Data(entries[target].content))
            stored.config = CollectionConfig(size: 16, distance: .euclid)
            content = Array(try JSONEncoder().encode(stored))
            phrase = "config.json says"
        case .walRecordNotAnOperation:
            // One record with a valid CRC whose payload is not an operation;
            // the snapshot's op numbers are raised to include it.
            target = try index { $0.hasPrefix("wal/") }
            var writer = ByteWriter(capacity: 64)
            let checkpoint =
                WALFormat.firstOpNum(fromFileName: String(entries[target].name.split(separator: "/").last!))! - 1
            writer.write(contentsOf: WALFormat.encodeFileHeader(firstOpNum: checkpoint + 1))
            [UInt8](repeating: 0xEE, count: 40).withUnsafeBytes {
                WALFormat.appendRecord(opNum: checkpoint + 1, syncedThrough: checkpoint, payload: $0, to: &writer)
            }
            content = writer.bytes
            editManifest(&entries) { object in
                if let op = object["op_num"] as? Int { object["op_num"] = op + 1 }
                var collections = object["collections"] as! [[String: Any]]
                for i in collections.indices where collections[i]["name"] as? String == "c" {
                    collections[i]["op_num"] = (collections[i]["op_num"] as! Int) + 1
                }
                object["collections"] = collections
            }
            phrase = "does not decode"
        }
        let member = damage == .configWrongDimension ? entries[segment].name : entries[target].name
        replace(&entries, target, with: content)
        return (member, phrase)
    }

    /// The refused restore left "c" as it was: same state, still serving
    /// reads and writes, nothing staged left in the data directory, and the
    /// same after a reopen.
    static func expectUntouched(_ fixture: SnapshotFixture, _ label: String) async throws {
        let db = fixture.db
        #expect(db.collectionNames() == ["c"], "\(label)")
        let c = try db.collection("c")
        #expect(try CollectionState(c) == fixture.state, "\(label)")
        #expect(try c.search(SnapshotTests.vector(5), limit: 1).first?.id == .number(5), "\(label)")
        let dataDirectory = fixture.directory.path
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/collections") == ["c"], "\(label)")
        let root = try FileManager.default.contentsOfDirectory(atPath: dataDirectory)
        #expect(!root.contains { $0.hasPrefix(".restore-") }, "\(label): \(root)")
        try await c.upsert([SnapshotTests.point(100, token: 100)])
        #expect(c.count() == fixture.state.points.count + 1, "\(label)")
    }

    // MARK: - Tests

    @Test(arguments: Damage.allCases)
    func selfConsistentArchiveWithFilesThatDoNotOpenIsRefused(_ damage: Damage) async throws {
        let fixture = try await SnapshotFixture(flushDeletion: true)
        defer { fixture.db.close() }
        var entries = fixture.entries
        let (member, phrase) = try Self.damage(damage, &entries, prefix: "")
        let path = fixture.archivePath("\(damage.rawValue).snapshot")
        try Self.writeArchive(entries, to: path)
        // The archive-level checks pass: only opening the files can tell.
        _ = try Database.verifySnapshot(at: [path])

        let error = #expect(throws: StrataError.self) { try fixture.db.restoreSnapshot(from: [path], overwrite: true) }
        let message = error?.message ?? ""
        #expect(error?.code == .corruption, "\(damage): \(String(describing: error))")
        #expect(message.contains("snapshot archive \(path): member \(member) does not open"), "\(damage): \(message)")
        #expect(message.contains(phrase), "\(damage): \(message)")
        #expect(!message.contains(".restore-"), "\(damage): the message names staging paths: \(message)")
        try await Self.expectUntouched(fixture, "\(damage)")
    }

    @Test func fullSnapshotWithADamagedSegmentIsRefusedAndChangesNothing() async throws {
        let fixture = try await SnapshotFixture(flushDeletion: true)
        defer { fixture.db.close() }
        try fixture.db.updateAliases([.create(alias: "a", collection: "c")])
        var entries = fixture.fullEntries
        let (member, phrase) = try Self.damage(.segmentVectorData, &entries, prefix: "collections/c/")
        let path = fixture.archivePath("full-damaged.snapshot")
        try Self.writeArchive(entries, to: path)
        _ = try Database.verifySnapshot(at: [path])
        let error = #expect(throws: StrataError.self) { try fixture.db.restoreSnapshot(from: [path], overwrite: true) }
        #expect(member == "collections/c/segments/" + member.split(separator: "/").last!)
        #expect(
            error?.message.contains("snapshot archive \(path): member \(member) does not open") == true,
            "\(String(describing: error))")
        #expect(error?.message.contains(phrase) == true, "\(String(describing: error))")
        #expect(fixture.db.resolveAlias("a") == "c")
        try await Self.expectUntouched(fixture, "full")
    }

    @Test func damagedSegmentInheritedFromTheBaseIsNamedInTheBaseArchive() async throws {
        let fixture = try await SnapshotFixture(flushDeletion: true)
        defer { fixture.db.close() }
        var base = fixture.entries
        let (member, _) = try Self.damage(.segmentVectorData, &base, prefix: "")
        let basePath = fixture.archivePath("base.snapshot")
        let incrementalPath = fixture.archivePath("incremental.snapshot")
        try Self.writeArchive(base, to: basePath)
        // An incremental on the damaged base, taken by the engine itself: it
        // inherits the segment (source "base") because its path, size and hash match.
        try await fixture.db.collection("c").upsert([SnapshotTests.point(50, token: 50)])
        let baseBytes = try readFile(basePath)
        var incremental = readRawTar(
            try readFile(
                try fixture.db.createSnapshot(
                    of: "c", incrementalFrom: fixture.db.listSnapshots(collection: "c").first!.path
                ).path))
        // Re-link the incremental to the damaged base: same segment entry as the base.
        editManifest(&incremental) { object in
            object["base"] = ["name": "base.snapshot", "archive_sha256": sha256Hex(baseBytes)]
            var files = object["files"] as! [[String: Any]]
            let baseManifest = try! JSONSerialization.jsonObject(with: Data(base[0].content)) as! [String: Any]
            let damagedEntry = (baseManifest["files"] as! [[String: Any]]).first { $0["path"] as? String == member }!
            for i in files.indices where files[i]["path"] as? String == member {
                files[i]["sha256"] = damagedEntry["sha256"]
                files[i]["size"] = damagedEntry["size"]
            }
            object["files"] = files
        }
        #expect(!incremental.contains { $0.name == member }, "the incremental must inherit \(member)")
        try Self.writeArchive(incremental, to: incrementalPath)
        _ = try Database.verifySnapshot(at: [basePath, incrementalPath])
        let error = #expect(throws: StrataError.self) {
            try fixture.db.restoreSnapshot(from: [basePath, incrementalPath], as: "c", overwrite: true)
        }
        #expect(
            error?.message.contains("snapshot archive \(basePath): member \(member) does not open") == true,
            "\(String(describing: error))")
        #expect(fixture.db.collectionNames() == ["c"])
        #expect(try fixture.db.collection("c").count() == fixture.state.points.count + 1)
    }

    /// The positive case, and that the check keeps nothing open: after the
    /// restore each live segment file is mapped exactly once (by the restored
    /// collection), so the staged copy the check opened was unmapped before
    /// the swap.
    @Test func selfConsistentSoundArchiveRestoresAndTheCheckKeepsNothingMapped() async throws {
        let fixture = try await SnapshotFixture(flushDeletion: true)
        defer { fixture.db.close() }
        try await fixture.db.collection("c").upsert([SnapshotTests.point(100, token: 100)])
        let path = fixture.archivePath("sound.snapshot")
        try Self.writeArchive(fixture.entries, to: path)
        let result = try fixture.db.restoreSnapshot(from: [path], overwrite: true)
        #expect(result.replaced == ["c"])
        #expect(try CollectionState(fixture.db.collection("c")) == fixture.state)
        let segments = fixture.directory.path + "/collections/c/segments"
        let files = try FileManager.default.contentsOfDirectory(atPath: segments).filter { $0.hasSuffix(".seg") }
        #expect(!files.isEmpty)
        // /proc files report size 0: read to the end, not by size.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        try handle.close()
        #expect(maps.count > 10, "\(maps.count) lines in /proc/self/maps")
        for file in files {
            let live = segments + "/" + file
            let mappings = maps.filter { $0.hasSuffix(" " + live) }.count
            #expect(mappings == 1, "\(live) is mapped \(mappings) times")
        }
        #expect(!maps.contains { $0.contains("/.restore-") }, "a staged file is still mapped")
    }
}
