import Foundation
@testable import Strata
import StrataTar
import Testing

/// Golden bytes of snapshot format version 1 (docs/format/snapshot.md): the
/// ustar header and snapshot.json as the writer lays them out.
@Suite struct SnapshotFormatGoldenTests {
    @Test func ustarHeaderOfARegularFile() throws {
        let header = try TarFormat.header(
            path: "wal/wal-00000000000000000004.log", size: 32, modificationTime: 1_764_122_526)
        #expect(header.count == 512)
        func field(_ offset: Int, _ width: Int) -> String {
            String(decoding: header[offset..<(offset + width)], as: UTF8.self)
        }
        #expect(field(0, 100) == "wal/wal-00000000000000000004.log" + String(repeating: "\0", count: 68))
        #expect(field(100, 8) == "0000644\0")
        #expect(field(108, 16) == "0000000\u{0}0000000\0")
        #expect(field(124, 12) == "00000000040\0")
        #expect(field(136, 12) == "15111457636\0")
        #expect(header[156] == UInt8(ascii: "0"))
        #expect(field(257, 8) == "ustar\u{0}00")
        #expect(field(265, 5) == "root\0" && field(297, 5) == "root\0")
        // Checksum: six octal digits, NUL, space, over the header with the field as spaces.
        let sum = header.enumerated().reduce(0) {
            $0 + (($1.offset >= 148 && $1.offset < 156) ? 0x20 : Int($1.element))
        }
        #expect(field(148, 8) == String(format: "%06o", sum) + "\0 ")
        // Our own reader reads it back; a long path goes to the prefix field.
        let parsed = try header.withUnsafeBytes { try TarFormat.parseHeader($0, offset: 0, archive: "golden") }
        #expect(parsed == TarFormat.Header(path: "wal/wal-00000000000000000004.log", size: 32))
        let long = "collections/" + String(repeating: "n", count: 120) + "/segments/seg-00000000000000000001.seg"
        let longHeader = try TarFormat.header(path: long, size: 0, modificationTime: 0)
        #expect(
            String(decoding: longHeader[345..<(345 + 142)].prefix { $0 != 0 }, as: UTF8.self) == "collections/"
                + String(repeating: "n", count: 120) + "/segments")
        #expect(
            try longHeader.withUnsafeBytes { try TarFormat.parseHeader($0, offset: 0, archive: "golden") }?.path == long
        )
        // 8 GiB and more: GNU base-256.
        #expect(TarFormat.sizeField(1 << 33) == [0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0])
    }

    @Test func snapshotJSON() throws {
        let manifest = SnapshotManifest(
            kind: .collection, collection: "docs", opNum: 5, createdAt: "2026-11-26T02:10:00Z",
            base: .init(name: "docs-20261126T020206Z-3.snapshot", archiveSHA256: String(repeating: "a", count: 64)),
            collections: [.init(name: "docs", directory: "", opNum: 5, checkpoint: 3)],
            files: [
                .init(
                    path: "segments/seg-00000000000000000001.seg", size: 7, sha256: String(repeating: "b", count: 64),
                    source: .base)
            ])
        let text = String(decoding: try manifest.encoded(), as: UTF8.self)
        let expected = """
            {
              "base" : {
                "archive_sha256" : "\(String(repeating: "a", count: 64))",
                "name" : "docs-20261126T020206Z-3.snapshot"
              },
              "collection" : "docs",
              "collections" : [
                {
                  "checkpoint" : 3,
                  "directory" : "",
                  "name" : "docs",
                  "op_num" : 5
                }
              ],
              "created_at" : "2026-11-26T02:10:00Z",
              "files" : [
                {
                  "path" : "segments/seg-00000000000000000001.seg",
                  "sha256" : "\(String(repeating: "b", count: 64))",
                  "size" : 7,
                  "source" : "base"
                }
              ],
              "format" : "strata-snapshot",
              "format_version" : 1,
              "kind" : "collection",
              "op_num" : 5
            }

            """
        #expect(text == expected)
        // It decodes back only with its own format and version.
        #expect(try SnapshotManifest.decode(Array(text.utf8), archive: "golden").files.first?.source == .base)
    }
}
