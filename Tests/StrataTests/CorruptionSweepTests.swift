import Foundation
@testable import Strata
import StrataIO
import StrataPayload
import StrataTestSupport
import Testing

/// Issue 8, item 4: one bit flipped at every *offset class* of every kind of
/// file in a real data directory. Each flip must be detected and named (by
/// opening, as every open does, or by `verify`, which reads every byte of every
/// segment — `strata verify` is exactly open + verify), nothing corrupt may be
/// served by a read or a search, and where the WAL still holds the data (a
/// torn tail) the store recovers it. The classes are the table `classes`
/// below; each runs on a few seeded offsets of its range, each time on a fresh
/// copy of the directory.
@Suite struct CorruptionSweepTests {
    static let root = "/data"
    static let collection = "/data/collections/c"
    static let dimension = 16

    // MARK: - The data directory

    /// A collection with every kind of file: immutable segments with HNSW
    /// graphs, quantized codes, a payload field index, integer and UUID ids,
    /// tombstone files, a MANIFEST, WAL files (1 KiB each, so several) with
    /// records after the checkpoint, and a snapshot archive taken before those.
    struct Fixture: Sendable {
        /// Every file of the directory (durable), by absolute path.
        var files: [String: [UInt8]]
        var directories: [String]
        /// Every acknowledged write.
        var model: PointModel
        /// Before the last operation (an upsert of a new point, alone in its record).
        var modelBeforeLastOperation: PointModel
        var snapshotPath: String
        /// The segment file with every section kind.
        var fullSegment: String
    }

    static let config = CollectionConfig(
        size: dimension, distance: .euclid,
        optimizers: OptimizersConfig(
            deletedThreshold: 0.9, vacuumMinVectorNumber: 100_000, defaultSegmentNumber: 2,
            indexingThresholdKB: 8, flushIntervalSec: 3600),
        hnswConfig: HnswConfig(m: 8, efConstruct: 32), quantizationConfig: .scalar())

    static func point(_ id: PointID, _ seed: Int) -> PointStruct {
        PointStruct(
            id: id, vector: (0..<dimension).map { Float(($0 * 7 + seed * 13) % 101) - 50 },
            payload: ["n": .int(Int64(seed)), "tag": .string("t\(seed % 7)"), "text": .string("point number \(seed)")])
    }

    static func uuid(_ i: Int) -> PointID {
        .uuid(UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", i))!)
    }

    /// Built once (in memory), shared by every case.
    static let fixture = Task { try await buildFixture() }

    static func buildFixture() async throws -> Fixture {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        var model = PointModel()
        let db = try Database.open(at: root, options: DatabaseOptions(walFileSize: 1024), fileSystem: fs)
        let c = try db.createCollection("c", config: config)
        try await c.createFieldIndex("n", schema: PayloadFieldSchema(.integer))
        var points = (0..<300).map { point(.number(UInt64($0)), $0) }
        points += (0..<5).map { point(uuid($0), 500 + $0) }
        for start in stride(from: 0, to: points.count, by: 50) {
            let batch = Array(points[start..<min(start + 50, points.count)])
            try await c.upsert(batch)
            model.upsert(batch)
        }
        try c.optimize()
        let deleted = stride(from: 3, to: 300, by: 17).map { PointID.number(UInt64($0)) }
        try await c.delete(deleted)
        model.delete(deleted)
        let updated: [PointID] = [5, 6, 7]
        try await c.setPayload(["cow": .bool(true)], for: updated)
        model.setPayload(["cow": .bool(true)], for: updated)
        try c.flush()
        let snapshot = try db.createSnapshot(of: "c")
        // After the checkpoint: single-point operations, several WAL files.
        for i in 0..<20 {
            let p = point(.number(UInt64(1000 + i)), 1000 + i)
            try await c.upsert([p])
            model.upsert([p])
        }
        try await c.delete([.number(1003)])
        model.delete([.number(1003)])
        let before = model
        let last = point(.number(2000), 2000)
        try await c.upsert([last])
        model.upsert([last])
        let info = c.storageInfo
        let full = try #require(
            info.segments.first { segment in
                ["hnsw[]", "quantized[]", "payload_index[n]", "ids.uuids"].allSatisfy { name in
                    segment.sections.contains { $0.name == name && $0.bytes > 0 }
                }
            }, "no segment has every section: \(info.segments.map { $0.sections.map(\.name) })")
        #expect(info.segments.contains { seg in seg.deleted > 0 })
        #expect(c.verify().isEmpty)
        #expect(model.differences(from: c).isEmpty)
        db.close()
        var files: [String: [UInt8]] = [:]
        var directories: [String] = []
        func walk(_ directory: String) throws {
            directories.append(directory)
            for name in try fs.listDirectory(directory) {
                let path = directory + "/" + name
                if fs.fileKind(path) == .directory {
                    try walk(path)
                } else if name != "LOCK" {
                    files[path] = try fs.open(path, mode: .readOnly).readAll()
                }
            }
        }
        try walk(root)
        return Fixture(
            files: files, directories: directories, model: model, modelBeforeLastOperation: before,
            snapshotPath: snapshot.path, fullSegment: full.path)
    }

    /// A fresh in-memory file system holding `files`.
    static func load(_ fixture: Fixture, files: [String: [UInt8]]) throws -> FaultInjectingFileSystem {
        let fs = FaultInjectingFileSystem(durableDirectories: fixture.directories)
        for (path, bytes) in files {
            let file = try fs.open(path, mode: .createNew)
            try file.write(at: 0, bytes)
            try file.sync()
        }
        return fs
    }

    // MARK: - The classes

    /// What must happen when a bit of the class flips.
    enum Expectation: Sendable, Equatable {
        /// Opening fails with `corruption`, the message naming every fragment.
        case refusedAtOpen
        /// Opening succeeds; `verify` reports a problem naming every fragment;
        /// reads either return the model's data or fail with `corruption` naming the file.
        case reportedByVerify
        /// Either of the two (how deep open looks into the section depends on the byte).
        case refusedAtOpenOrReportedByVerify
        /// Like `reportedByVerify`, but reads serve the flipped value until
        /// `verify` runs (vector rows carry no per-row checksum; see
        /// docs/durability.md, "Known limits"): the damage must stay within one point.
        case reportedByVerifyServedUntilThen
        /// A torn tail: opening cuts it, reports the cut, and recovers every
        /// operation before it from the WAL.
        case tornTailRecovered
        /// A file nothing refers to: opening removes it, the data is whole.
        case removedAtOpen
        /// Opening refuses it, or the flip changed nothing that matters: every
        /// read and search returns the model's data and `verify` is clean
        /// (files without a checksum, whose every value is checked).
        case refusedAtOpenOrHarmless
        /// Snapshot archives: `verifySnapshot` and `restoreSnapshot` refuse
        /// (naming every fragment); live data is untouched.
        case snapshotRefused
    }

    struct Target: Sendable {
        var path: String
        var range: Range<Int>
        /// Fragments every error must contain (the file's name, the section).
        var naming: [String]
    }

    struct Class: Sendable {
        var kind: String
        var name: String
        var expectation: Expectation
        /// The file and byte range of this class in the fixture, nil when the
        /// fixture has none (reported, and a failure).
        var locate: @Sendable (Fixture) -> Target?
    }

    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }

    static func walFiles(_ f: Fixture) -> [String] {
        f.files.keys.filter { $0.hasPrefix(collection + "/wal/") && $0.hasSuffix(".log") }.sorted()
    }

    /// Record ranges of a WAL file (header 32 bytes, record = 24-byte header + payload).
    static func walRecords(_ bytes: [UInt8]) -> [Range<Int>] {
        var records: [Range<Int>] = []
        var offset = 32
        while offset + 24 <= bytes.count {
            let length =
                Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(
                    bytes[offset + 7]) << 24
            records.append(offset..<(offset + 24 + length))
            offset += 24 + length
        }
        return records
    }

    static func u64(_ b: [UInt8], _ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
    static func u32(_ b: [UInt8], _ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
    static func u16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }

    struct Section { var kind: Int; var name: String; var range: Range<Int> }

    /// The section table of a segment file (docs/format/segment.md), read
    /// here independently of the reader under test.
    static func sections(_ b: [UInt8]) -> (sections: [Section], table: Range<Int>) {
        let footer = b.count - 40
        let tableOffset = u64(b, footer), tableLength = u64(b, footer + 8)
        var entries: [Section] = []
        var at = tableOffset + 8
        for _ in 0..<u32(b, tableOffset) {
            let kind = u16(b, at), nameLength = u16(b, at + 2)
            let offset = u64(b, at + 8), length = u64(b, at + 16)
            let name = String(decoding: b[(at + 32)..<(at + 32 + nameLength)], as: UTF8.self)
            let base = [
                "", "ids.numbers", "ids.uuids", "versions", "vectors[\(name)].presence", "vectors[\(name)].data",
                "payload.blocks", "payload.index", "hnsw[\(name)]", "quantized[\(name)]", "payload_index[\(name)]",
            ]
            entries.append(
                Section(
                    kind: kind, name: kind < base.count ? base[kind] : "kind \(kind)", range: offset..<(offset + length)
                ))
            at += 32 + nameLength
        }
        return (entries, tableOffset..<(tableOffset + tableLength))
    }

    static func segmentSection(_ sectionName: String, _ expectation: Expectation) -> Class {
        Class(kind: "segment", name: sectionName, expectation: expectation) { f in
            let bytes = f.files[f.fullSegment]!
            guard let section = sections(bytes).sections.first(where: { $0.name == sectionName }),
                !section.range.isEmpty
            else { return nil }
            return Target(path: f.fullSegment, range: section.range, naming: [name(f.fullSegment), sectionName])
        }
    }

    static func tarEntries(
        _ b: [UInt8]
    ) -> [(name: String, header: Range<Int>, content: Range<Int>, padding: Range<Int>)] {
        var entries: [(String, Range<Int>, Range<Int>, Range<Int>)] = []
        var offset = 0
        while offset + 512 <= b.count, !b[offset..<(offset + 512)].allSatisfy({ $0 == 0 }) {
            let text = { (r: Range<Int>) in String(decoding: b[r].prefix { $0 != 0 }, as: UTF8.self) }
            let prefix = text((offset + 345)..<(offset + 500))
            let entryName =
                prefix.isEmpty ? text(offset..<(offset + 100)) : prefix + "/" + text(offset..<(offset + 100))
            let size = Int(text((offset + 124)..<(offset + 136)).trimmingCharacters(in: .whitespaces), radix: 8)!
            let content = (offset + 512)..<(offset + 512 + size)
            let end = offset + 512 + (size + 511) / 512 * 512
            entries.append((entryName, offset..<(offset + 512), content, content.upperBound..<end))
            offset = end
        }
        return entries.map { (name: $0.0, header: $0.1, content: $0.2, padding: $0.3) }
    }

    static func archiveClass(
        _ name: String, _ naming: [String] = [], _ pick: @escaping @Sendable ([UInt8]) -> Range<Int>?
    ) -> Class {
        Class(kind: "snapshot", name: name, expectation: .snapshotRefused) { f in
            guard let range = pick(f.files[f.snapshotPath]!), !range.isEmpty else { return nil }
            return Target(path: f.snapshotPath, range: range, naming: [Self.name(f.snapshotPath)] + naming)
        }
    }

    /// Every offset class of every file kind. A file kind's classes tile what
    /// matters in it; `coverage` below prints the table.
    static let classes: [Class] = {
        var all: [Class] = []
        // WAL: files after the checkpoint; the newest one's last record is the only unsynced-looking byte range.
        func wal(
            _ name: String, _ expectation: Expectation, _ pick: @escaping @Sendable (Fixture) -> (String, Range<Int>)?
        ) {
            all.append(
                Class(kind: "wal", name: name, expectation: expectation) { f in
                    guard let (path, range) = pick(f), !range.isEmpty else { return nil }
                    return Target(
                        path: path, range: range, naming: expectation == .tornTailRecovered ? [] : [Self.name(path)])
                })
        }
        wal("file header (newest file)", .refusedAtOpen) { f in walFiles(f).last.map { ($0, 0..<32) } }
        wal("file header (older file)", .refusedAtOpen) { f in walFiles(f).first.map { ($0, 0..<32) } }
        wal("record header (older file)", .refusedAtOpen) { f in
            walFiles(f).first.flatMap { p in
                walRecords(f.files[p]!).first.map { (p, $0.lowerBound..<($0.lowerBound + 24)) }
            }
        }
        wal("record payload (older file)", .refusedAtOpen) { f in
            walFiles(f).first.flatMap { p in
                walRecords(f.files[p]!).first.map { (p, ($0.lowerBound + 24)..<$0.upperBound) }
            }
        }
        wal("last record of an older file", .refusedAtOpen) { f in
            let files = walFiles(f)
            guard files.count >= 2 else { return nil }
            return walRecords(f.files[files[files.count - 2]]!).last.map { (files[files.count - 2], $0) }
        }
        wal("record before the last (newest file)", .refusedAtOpen) { f in
            walFiles(f).last.flatMap { p in
                let records = walRecords(f.files[p]!)
                return records.count >= 2 ? (p, records[records.count - 2]) : nil
            }
        }
        wal("last record (newest file)", .tornTailRecovered) { f in
            walFiles(f).last.flatMap { p in walRecords(f.files[p]!).last.map { (p, $0) } }
        }

        // Segment: header, every section of the table, padding, table, footer.
        all.append(
            Class(kind: "segment", name: "header", expectation: .refusedAtOpen) { f in
                Target(path: f.fullSegment, range: 0..<64, naming: [name(f.fullSegment), "header"])
            })
        for section in [
            "ids.numbers", "ids.uuids", "versions", "vectors[].presence", "payload.index", "payload_index[n]",
        ] {
            all.append(segmentSection(section, .refusedAtOpen))
        }
        all.append(segmentSection("vectors[].data", .reportedByVerifyServedUntilThen))
        all.append(segmentSection("payload.blocks", .reportedByVerify))
        all.append(segmentSection("hnsw[]", .refusedAtOpenOrReportedByVerify))
        all.append(segmentSection("quantized[]", .refusedAtOpenOrReportedByVerify))
        all.append(
            Class(kind: "segment", name: "padding", expectation: .refusedAtOpen) { f in
                let list = sections(f.files[f.fullSegment]!).sections
                // The zero bytes between a section's end and the next 64-byte boundary.
                guard let gap = zip(list, list.dropFirst()).first(where: { $0.range.upperBound < $1.range.lowerBound })
                else { return nil }
                return Target(
                    path: f.fullSegment, range: gap.0.range.upperBound..<gap.1.range.lowerBound,
                    naming: [name(f.fullSegment), "padding"])
            })
        all.append(
            Class(kind: "segment", name: "section table", expectation: .refusedAtOpen) { f in
                Target(
                    path: f.fullSegment, range: sections(f.files[f.fullSegment]!).table, naming: [name(f.fullSegment)])
            })
        all.append(
            Class(kind: "segment", name: "footer", expectation: .refusedAtOpen) { f in
                let size = f.files[f.fullSegment]!.count
                return Target(path: f.fullSegment, range: (size - 40)..<size, naming: [name(f.fullSegment)])
            })
        all.append(
            Class(kind: "segment", name: "unreferenced leftover (an interrupted flush)", expectation: .removedAtOpen) {
                f in
                Target(
                    path: collection + "/segments/seg-99999999999999999999.seg",
                    range: 0..<f.files[f.fullSegment]!.count, naming: [])
            })

        // Tombstones: header, offsets, checksum.
        func tombstone(_ name: String, _ pick: @escaping @Sendable (Int) -> Range<Int>) {
            all.append(
                Class(kind: "tombstones", name: name, expectation: .refusedAtOpen) { f in
                    guard let path = f.files.keys.sorted().first(where: { $0.hasSuffix(".del") }) else { return nil }
                    return Target(
                        path: path, range: pick(f.files[path]!.count), naming: [Self.name(path), "tombstone file"])
                })
        }
        tombstone("header") { _ in 0..<32 }
        tombstone("offsets") { size in 32..<(size - 4) }
        tombstone("checksum") { size in (size - 4)..<size }

        // MANIFEST: header, checkpoint and next id, segment list, field indexes, checksum.
        func manifest(_ name: String, _ pick: @escaping @Sendable ([UInt8]) -> Range<Int>) {
            all.append(
                Class(kind: "manifest", name: name, expectation: .refusedAtOpen) { f in
                    let path = collection + "/MANIFEST"
                    return Target(path: path, range: pick(f.files[path]!), naming: [path])
                })
        }
        manifest("header") { _ in 0..<16 }
        manifest("checkpoint, next segment id") { _ in 16..<32 }
        manifest("segment list") { b in 32..<(36 + 16 * u32(b, 32)) }
        manifest("payload field indexes") { b in (36 + 16 * u32(b, 32))..<(b.count - 4) }
        manifest("checksum") { b in (b.count - 4)..<b.count }

        // Small metadata files. config.json has no checksum: a flip must
        // make it fail to parse or validate, or change nothing that matters.
        all.append(
            Class(kind: "config", name: "config.json (any byte)", expectation: .refusedAtOpenOrHarmless) { f in
                let path = collection + "/config.json"
                return Target(path: path, range: 0..<f.files[path]!.count, naming: ["config.json"])
            })
        // The value after `key` in config.json, `length` bytes of it.
        for (field, key, length) in [("the vector size", "\"size\" : ", 2), ("the distance", "\"distance\" : \"", 6)] {
            all.append(
                Class(kind: "config", name: "config.json: \(field)", expectation: .refusedAtOpen) { f in
                    let path = collection + "/config.json"
                    let text = String(decoding: f.files[path]!, as: UTF8.self)
                    guard let found = text.range(of: key) else { return nil }
                    let at = text.utf8.distance(from: text.startIndex, to: found.upperBound)
                    return Target(path: path, range: at..<(at + length), naming: ["config.json"])
                })
        }
        all.append(
            Class(kind: "marker", name: "STRATA", expectation: .refusedAtOpen) { f in
                Target(path: root + "/STRATA", range: 0..<f.files[root + "/STRATA"]!.count, naming: ["STRATA"])
            })

        // Snapshot archive (checked with its .sha256, as the product does).
        all.append(archiveClass("tar header of snapshot.json") { b in tarEntries(b).first?.header })
        all.append(archiveClass("snapshot.json") { b in tarEntries(b).first?.content })
        all.append(
            archiveClass("tar header of a segment file") { b in
                tarEntries(b).first { $0.name.hasSuffix(".seg") }?.header
            })
        all.append(
            archiveClass("data of a segment file", ["segments/seg-"]) { b in
                tarEntries(b).first { $0.name.hasSuffix(".seg") }?.content
            })
        all.append(
            archiveClass("data of the MANIFEST", ["MANIFEST"]) { b in
                tarEntries(b).first { $0.name == "MANIFEST" }?.content
            })
        all.append(
            archiveClass("data of the WAL tail", ["wal/wal-"]) { b in
                tarEntries(b).first { $0.name.hasPrefix("wal/") }?.content
            })
        all.append(archiveClass("padding after a member") { b in tarEntries(b).first { !$0.padding.isEmpty }?.padding })
        all.append(
            archiveClass("end-of-archive trailer") { b in tarEntries(b).last.map { $0.padding.upperBound..<b.count } })
        all.append(
            Class(kind: "snapshot", name: "checksum file", expectation: .snapshotRefused) { f in
                let path = f.snapshotPath + ".sha256"
                return Target(path: path, range: 0..<64, naming: [name(path)])
            })
        return all
    }()

    // MARK: - Running a case

    static let kinds = ["wal", "segment", "tombstones", "manifest", "config", "marker", "snapshot"]

    /// Seeded bytes per class besides the first and the last: 2 by default;
    /// `STRATA_CORRUPTION_SWEEP_FLIPS=<n>` for a deeper run,
    /// `STRATA_TEST_SEED=<seed>` for other bytes.
    static let randomFlipsPerClass =
        ProcessInfo.processInfo.environment["STRATA_CORRUPTION_SWEEP_FLIPS"].flatMap { Int($0) } ?? 2
    static let seed = ProcessInfo.processInfo.environment["STRATA_TEST_SEED"].flatMap { UInt64($0) } ?? 0x5eed_0000

    @Test(arguments: kinds)
    func sweep(_ kind: String) async throws {
        let f = try await Self.fixture.value
        var random = SeededGenerator(seed: Self.seed &+ UInt64(kind.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
        var cases = 0
        var report: [String] = []
        for corruption in Self.classes where corruption.kind == kind {
            var outcomes: [String: Int] = [:]
            guard let target = corruption.locate(f) else {
                Issue.record("\(kind) / \(corruption.name): the fixture has no such bytes")
                continue
            }
            // First and last byte of the range, and two seeded ones between.
            var offsets = [target.range.lowerBound, target.range.upperBound - 1]
            for _ in 0..<Self.randomFlipsPerClass {
                offsets.append(target.range.lowerBound + Int(random.next() % UInt64(target.range.count)))
            }
            for offset in Set(offsets).sorted() {
                let bit = UInt8(1) << UInt8(random.next() % 8)
                let context = "\(kind) / \(corruption.name): \(Self.name(target.path)) byte \(offset) bit \(bit)"
                outcomes[
                    try run(
                        corruption.expectation, target: target, offset: offset, bit: bit, fixture: f, context: context),
                    default: 0] += 1
                cases += 1
            }
            report.append(
                "  \(corruption.name): "
                    + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        print("CorruptionSweep \(kind) (seed \(Self.seed)): \(cases) flips\n" + report.joined(separator: "\n"))
    }

    /// Runs one flip; returns what happened, for the report.
    func run(
        _ expectation: Expectation, target: Target, offset: Int, bit: UInt8, fixture f: Fixture, context: String
    ) throws -> String {
        var files = f.files
        if expectation == .removedAtOpen { files[target.path] = f.files[f.fullSegment]! }
        files[target.path]![offset] ^= bit
        let fs = try Self.load(f, files: files)
        func names(_ message: String?) -> Bool { target.naming.allSatisfy { message?.contains($0) == true } }

        if expectation == .snapshotRefused, target.path.hasSuffix(".sha256"),
            String(decoding: files[target.path]!, as: UTF8.self).lowercased()
                == String(decoding: f.files[target.path]!, as: UTF8.self).lowercased()
        {
            // Bit 5 of a hex letter changes its case: the same digest (sha256sum -c accepts it too).
            #expect(
                try Database.verifySnapshot(at: [f.snapshotPath], fileSystem: fs).checksums.count == 1, "\(context)")
            return "harmless (a hex letter's case)"
        }
        if expectation == .snapshotRefused {
            let verify = #expect(throws: StrataError.self, "\(context): verifySnapshot accepted it") {
                try Database.verifySnapshot(at: [f.snapshotPath], fileSystem: fs)
            }
            #expect(verify?.code == .corruption && names(verify?.message), "\(context): \(String(describing: verify))")
            let db = try Database.open(at: Self.root, fileSystem: fs)
            defer { db.close() }
            let restore = #expect(throws: StrataError.self, "\(context): restore accepted it") {
                try db.restoreSnapshot(from: [f.snapshotPath], as: "c", overwrite: true)
            }
            #expect(
                restore?.code == .corruption && names(restore?.message), "\(context): \(String(describing: restore))")
            #expect(try fs.listDirectory(Self.root + "/collections") == ["c"], "\(context): staging left")
            #expect(f.model.differences(from: try db.collection("c")).isEmpty, "\(context): live data changed")
            return "refused by verify and restore"
        }

        let db: Database
        do {
            db = try Database.open(at: Self.root, fileSystem: fs)
        } catch let error as StrataError {
            #expect(
                [.refusedAtOpen, .refusedAtOpenOrReportedByVerify, .refusedAtOpenOrHarmless].contains(expectation),
                "\(context): open refused it, expected \(expectation): \(error)")
            #expect(error.code == .corruption && names(error.message), "\(context): \(error)")
            return "refused at open"
        }
        defer { db.close() }
        let c = try db.collection("c")
        switch expectation {
        case .refusedAtOpen:
            Issue.record("\(context): opening did not notice")
            return "NOT NOTICED"
        case .refusedAtOpenOrHarmless:
            #expect(f.model.differences(from: c).isEmpty, "\(context): \(f.model.differences(from: c))")
            #expect(c.verify().isEmpty, "\(context): \(c.verify())")
            let served = servedViolations(c, model: f.model, file: Self.name(target.path))
            #expect(served.isEmpty, "\(context): \(served)")
            return "harmless"
        case .tornTailRecovered:
            #expect(c.recoveryReport.cutTail != nil, "\(context): the cut must be reported")
            #expect(
                f.modelBeforeLastOperation.differences(from: c).isEmpty,
                "\(context): \(f.modelBeforeLastOperation.differences(from: c))")
            #expect(c.verify().isEmpty)
            return "torn tail cut, the rest recovered"
        case .removedAtOpen:
            #expect(fs.fileKind(target.path) == nil, "\(context): the leftover is still there")
            #expect(f.model.differences(from: c).isEmpty, "\(context): \(f.model.differences(from: c))")
            return "removed at open"
        case .reportedByVerify, .refusedAtOpenOrReportedByVerify, .reportedByVerifyServedUntilThen, .snapshotRefused:
            break
        }
        let problems = c.verify()
        #expect(problems.contains { names($0) }, "\(context): verify did not report it: \(problems)")
        let served = servedViolations(c, model: f.model, file: Self.name(target.path))
        if expectation == .reportedByVerifyServedUntilThen {
            #expect(Set(served.map(\.id)).count <= 1, "\(context): damage spread beyond one point: \(served)")
            return served.isEmpty ? "reported by verify" : "reported by verify, served until then (1 point)"
        }
        #expect(served.isEmpty, "\(context): corrupt data served: \(served)")
        return "reported by verify, reads refused or correct"
    }

    /// Reads of every point and a few searches (exact and through the graph
    /// with quantization): each must return the model's data or fail with
    /// `corruption` naming `file`. Returns what did neither.
    func servedViolations(_ c: Collection, model: PointModel, file: String) -> [(id: PointID?, what: String)] {
        var violations: [(id: PointID?, what: String)] = []
        func refused(_ error: any Error) -> Bool {
            guard let error = error as? StrataError else { return false }
            return error.code == .corruption && error.message.contains(file)
        }
        for (id, expected) in model.points {
            do {
                guard let record = try c.retrieve([id], withPayload: true, withVector: true).first else {
                    violations.append((id, "missing"))
                    continue
                }
                if record.vectors ?? [:] != expected.vectors { violations.append((id, "vector served differs")) }
                if record.payload != expected.payload { violations.append((id, "payload served differs")) }
            } catch {
                if !refused(error) { violations.append((id, "retrieve: \(error)")) }
            }
        }
        do {
            let ids = try c.scroll(limit: .max, withPayload: false).points.map(\.id)
            if Set(ids) != Set(model.points.keys) { violations.append((nil, "scroll ids differ")) }
        } catch {
            if !refused(error) { violations.append((nil, "scroll: \(error)")) }
        }
        if c.count() != model.points.count { violations.append((nil, "count \(c.count()) != \(model.points.count)")) }
        let probes = model.points.values.sorted { $0.id < $1.id }.prefix(40).map { $0.vectors[""]! }.enumerated().filter
        { $0.offset % 10 == 0 }
        for (_, query) in probes {
            for params in [SearchParams(exact: true), SearchParams(hnswEf: 64)] {
                do {
                    for hit in try c.search(query, limit: 10, params: params, withPayload: true) {
                        guard let expected = model.points[hit.id] else {
                            violations.append((hit.id, "search returned a phantom"))
                            continue
                        }
                        let reference = referenceScore(query, expected.vectors[""]!, .euclid)
                        if !(abs(reference - hit.score) <= 1e-3 * max(1, abs(reference))) {
                            violations.append((hit.id, "search score \(hit.score) != \(reference)"))
                        }
                        if hit.payload != expected.payload { violations.append((hit.id, "search payload differs")) }
                    }
                } catch {
                    if !refused(error) { violations.append((nil, "search: \(error)")) }
                }
            }
        }
        return violations
    }

    /// A merge reads vector rows without per-row checks; if it copied a
    /// flipped row into its output, the output's fresh checksum would hide the
    /// damage from `verify` for good. It must refuse instead.
    @Test func mergeRefusesASegmentWhoseVectorDataFailsItsChecksum() async throws {
        let f = try await Self.fixture.value
        var files = f.files
        let data = try #require(Self.sections(files[f.fullSegment]!).sections.first { $0.name == "vectors[].data" })
        files[f.fullSegment]![data.range.lowerBound + 100] ^= 0x08
        let fs = try Self.load(f, files: files)
        let db = try Database.open(at: Self.root, fileSystem: fs)
        defer { db.close() }
        let c = try db.updateCollectionConfig("c") { $0.optimizers.defaultSegmentNumber = 1 }
        let error = #expect(throws: StrataError.self) { try c.optimize() }
        #expect(
            error?.code == .corruption && error?.message.contains(Self.name(f.fullSegment)) == true
                && error?.message.contains("vectors[].data") == true, "\(String(describing: error))")
        #expect(
            c.verify().contains { $0.contains(Self.name(f.fullSegment)) && $0.contains("vectors[].data") },
            "\(c.verify())")
    }

    /// The class table, printed (and checked to cover every file kind and
    /// every section kind of the segment format).
    @Test func coverage() async throws {
        let f = try await Self.fixture.value
        var lines: [String] = []
        for corruption in Self.classes {
            let target = corruption.locate(f)
            lines.append(
                "\(corruption.kind) | \(corruption.name) | \(corruption.expectation) | \(target.map { "\(Self.name($0.path)) \($0.range)" } ?? "MISSING")"
            )
            #expect(target != nil, "\(corruption.kind) / \(corruption.name) has no bytes in the fixture")
        }
        print("CorruptionSweep classes:\n" + lines.joined(separator: "\n"))
        let sectionNames = Set(Self.sections(f.files[f.fullSegment]!).sections.map(\.name))
        let covered = Set(Self.classes.filter { $0.kind == "segment" }.map(\.name))
        #expect(sectionNames.isSubset(of: covered), "sections without a class: \(sectionNames.subtracting(covered))")
        #expect(Set(Self.classes.map(\.kind)) == Set(Self.kinds))
    }
}
