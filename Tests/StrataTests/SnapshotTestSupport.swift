import Foundation
@testable import Strata
import StrataIO
import StrataTar
import StrataTestSupport

/// A tar entry as the hostile-archive tests build them: any name, any type,
/// any size claim, independent of the code under test.
struct RawTarEntry {
    var name: String
    var type: UInt8 = UInt8(ascii: "0")
    var linkName = ""
    var content: [UInt8]
    /// Overrides the size written in the header (the content is still written whole).
    var claimedSize: Int?
}

/// Parses a well-formed ustar archive (the tests' own reader).
func readRawTar(_ bytes: [UInt8]) -> [RawTarEntry] {
    var entries: [RawTarEntry] = []
    var offset = 0
    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range].prefix { $0 != 0 }, as: UTF8.self)
    }
    while offset + 512 <= bytes.count, !bytes[offset..<(offset + 512)].allSatisfy({ $0 == 0 }) {
        let name = text((offset)..<(offset + 100))
        let prefix = text((offset + 345)..<(offset + 500))
        let size = Int(text((offset + 124)..<(offset + 136)).trimmingCharacters(in: .whitespaces), radix: 8)!
        let type = bytes[offset + 156]
        let content = Array(bytes[(offset + 512)..<(offset + 512 + size)])
        entries.append(
            RawTarEntry(
                name: prefix.isEmpty ? name : prefix + "/" + name, type: type,
                linkName: text((offset + 157)..<(offset + 257)), content: content))
        offset += 512 + (size + 511) / 512 * 512
    }
    return entries
}

/// Writes entries as ustar, with the end-of-archive marker.
func writeRawTar(_ entries: [RawTarEntry], endMarker: Bool = true) -> [UInt8] {
    var out: [UInt8] = []
    for entry in entries {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int) {
            for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
        }
        var name = entry.name
        if name.utf8.count > 100, let slash = name.lastIndex(of: "/") {
            put(String(name[..<slash]), 345)
            name = String(name[name.index(after: slash)...])
        }
        put(name, 0)
        put("0000644", 100)
        put("0000000", 108)
        put("0000000", 116)
        put(String(format: "%011o", entry.claimedSize ?? entry.content.count), 124)
        put("00000000000", 136)
        header[156] = entry.type
        put(entry.linkName, 157)
        put("ustar", 257)
        put("00", 263)
        for index in 148..<156 { header[index] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum), 148)
        header[154] = 0
        out += header
        out += entry.content
        out += [UInt8](repeating: 0, count: (512 - entry.content.count % 512) % 512)
    }
    if endMarker { out += [UInt8](repeating: 0, count: 1024) }
    return out
}

func sha256Hex(_ bytes: [UInt8]) -> String { SHA256Hasher.hex(of: bytes) }

/// Rewrites `snapshot.json` (the first entry) through `edit` on its JSON object.
func editManifest(_ entries: inout [RawTarEntry], _ edit: (inout [String: Any]) -> Void) {
    var object = try! JSONSerialization.jsonObject(with: Data(entries[0].content)) as! [String: Any]
    edit(&object)
    entries[0].content = Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

/// Changes the manifest's record of `path` through `edit`.
func editManifestFile(_ entries: inout [RawTarEntry], path: String, _ edit: @escaping (inout [String: Any]) -> Void) {
    editManifest(&entries) { object in
        var files = object["files"] as! [[String: Any]]
        for index in files.indices where files[index]["path"] as? String == path { edit(&files[index]) }
        object["files"] = files
    }
}

/// Everything a collection holds, for exact comparisons: id → (version, vectors, payload).
struct CollectionState: Equatable, CustomStringConvertible {
    var points: [PointID: Record]

    init(_ collection: Collection) throws {
        let records = try collection.scroll(limit: Int.max, withPayload: true, withVector: true).points
        points = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
    }

    init(points: [PointID: Record]) { self.points = points }

    var description: String { "\(points.count) points" }

    /// Human-readable differences (empty when equal).
    func differences(from other: CollectionState) -> [String] {
        var out: [String] = []
        for id in Set(points.keys).union(other.points.keys).sorted() where points[id] != other.points[id] {
            out.append("\(id): \(String(describing: points[id])) vs \(String(describing: other.points[id]))")
            if out.count > 5 { break }
        }
        return out
    }
}

/// A collection "c" (20 points, flushed, point 2 deleted), its collection
/// snapshot's entries and a full snapshot's entries, for tests that craft
/// archives from real ones. With `flushDeletion` the deletion is flushed too,
/// so the snapshot holds a tombstone file.
struct SnapshotFixture {
    let directory: TemporaryDirectory
    /// Where crafted archives go (removed with the fixture): `archivePath(_:)`.
    let archives = TemporaryDirectory("archives")
    let db: Database
    let entries: [RawTarEntry]
    let fullEntries: [RawTarEntry]
    let state: CollectionState

    init(flushDeletion: Bool) async throws {
        directory = TemporaryDirectory()
        db = try Database.open(at: directory.path)
        // Two segments may stay apart: an incremental snapshot after one more
        // upsert inherits the first segment instead of a merge rewriting it.
        let c = try db.createCollection(
            "c",
            config: CollectionConfig(
                size: 8, distance: .euclid, optimizers: OptimizersConfig(defaultSegmentNumber: 2)))
        try await c.upsert((0..<20).map { SnapshotTests.point($0, token: $0) })
        try c.flush()
        try await c.delete([.number(2)])
        if flushDeletion { try c.flush() }
        entries = readRawTar(try readFile(try db.createSnapshot(of: "c").path))
        fullEntries = readRawTar(try readFile(try db.createFullSnapshot().path))
        state = try CollectionState(c)
    }

    /// A path for an archive named `name` (and its `.sha256`), removed with the fixture.
    func archivePath(_ name: String) -> String { archives.path + "/" + name }
}
