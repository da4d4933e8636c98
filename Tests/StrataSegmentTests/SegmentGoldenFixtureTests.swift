import Foundation
import StrataBinary
import StrataCompression
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// Format version 1 must never change under existing files: the writer must
/// produce the worked example of `docs/format/segment.md` byte for byte, and the
/// reader must read it. The example uses codec `none`, whose bytes do not depend
/// on the lz4 or zstd library version; a second fixture with the same points and
/// zstd is only read (a newer zstd may compress differently, which is allowed).
@Suite struct SegmentGoldenFixtureTests {
    static let specs = [SegmentVectorSpec(name: "v", dimension: 2)]
    static let uuid = UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF")!

    /// The worked example: three points, one vector "v" of dimension 2.
    static let points = [
        SegmentBuildPoint(id: 1, version: 5, vectors: ["v": [1.0, 2.0]], payload: ["a": 1]),
        SegmentBuildPoint(id: 7, version: 6),
        SegmentBuildPoint(id: .uuid(uuid), version: 9, vectors: ["v": [-1.5, 0.25]], payload: ["b": "x"]),
    ]

    /// The same bytes as `Fixtures/segment-v1-golden.seg` (754 bytes).
    static let goldenHex = """
        53 54 52 41 54 53 45 47 01 00 00 00 00 00 00 00
        03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 8d a4 00 8c
        01 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        05 00 00 00 00 00 00 00 06 00 00 00 00 00 00 00
        09 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 80 3f 00 00 00 40 00 00 00 00 00 00 00 00
        00 00 c0 bf 00 00 80 3e 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        19 00 00 00 19 00 00 00 20 00 00 00 07 01 01 61
        03 01 00 00 00 00 00 00 00 07 01 01 62 05 01 78
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 80 01 00 00 00 00 00 00
        20 00 00 00 20 00 00 00 a6 ec 15 26 00 00 00 00
        07 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00
        40 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00
        23 7f a3 c6 00 00 00 00 02 00 00 00 00 00 00 00
        80 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00
        97 7c 87 75 00 00 00 00 03 00 00 00 00 00 00 00
        c0 00 00 00 00 00 00 00 18 00 00 00 00 00 00 00
        20 cc c6 85 00 00 00 00 04 00 01 00 02 00 00 00
        00 01 00 00 00 00 00 00 01 00 00 00 00 00 00 00
        f0 b9 1d 31 00 00 00 00 76 05 00 01 00 02 00 00
        00 40 01 00 00 00 00 00 00 18 00 00 00 00 00 00
        00 b9 b2 27 1f 00 00 00 00 76 06 00 00 00 00 00
        00 00 80 01 00 00 00 00 00 00 20 00 00 00 00 00
        00 00 a6 ec 15 26 00 00 00 00 07 00 00 00 00 00
        00 00 c0 01 00 00 00 00 00 00 20 00 00 00 00 00
        00 00 0a 28 2f 5f 00 00 00 00 e0 01 00 00 00 00
        00 00 ea 00 00 00 00 00 00 00 f2 02 00 00 00 00
        00 00 6f e8 ec a3 95 a3 0f b1 53 54 52 41 54 45
        4e 44
        """

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name).path
    }

    @Test func fixtureFileMatchesEmbeddedBytes() throws {
        let embedded = hexBytes(Self.goldenHex)
        #expect(embedded.count == 754)
        #expect(try readFile(Self.fixture("segment-v1-golden.seg")) == embedded)
    }

    @Test func fixtureMatchesSpecComputedIndependently() {
        #expect(hexString(ReferenceSegment.goldenExample()) == hexString(hexBytes(Self.goldenHex)))
    }

    @Test func writerProducesGoldenFileByteForByte() throws {
        try withTemporaryDirectory { dir in
            let path = joinPath(dir, "golden.seg")
            let stats = try SegmentWriter.write(
                Self.points, vectors: Self.specs, compression: .none, to: path, fileSystem: POSIXFileSystem())
            #expect(hexString(try readFile(path)) == hexString(hexBytes(Self.goldenHex)))
            #expect(stats.fileBytes == 754)
            #expect(stats.payloadRawBytes == 32 && stats.payloadCompressedBytes == 32 && stats.payloadBlockCount == 1)
        }
    }

    @Test(arguments: ["segment-v1-golden.seg", "segment-v1-golden-zstd.seg"])
    func readerReadsGoldenFile(name: String) throws {
        let reader = try SegmentReader.open(path: Self.fixture(name), fileSystem: POSIXFileSystem())
        #expect(reader.payloadCodec == (name.contains("zstd") ? .zstd : CompressionCodec.none))
        try expectSegment(reader, holds: Self.points, specs: Self.specs)
        #expect(
            reader.sectionSizes.map(\.name) == [
                "ids.numbers", "ids.uuids", "versions", "vectors[v].presence", "vectors[v].data", "payload.blocks",
                "payload.index",
            ])
        #expect(reader.sectionSizes.map(\.bytes) == [16, 16, 24, 1, 24, reader.payloadCompressedBytes, 32])
        #expect(reader.offset(of: 7) == 1)
        #expect(reader.offset(of: .uuid(Self.uuid)) == 2)
        #expect(reader.layout.sections.map(\.offset) == [64, 128, 192, 256, 320, 384, 448])
    }
}

/// An encoder written from docs/format/segment.md alone (bitwise CRC32C, no
/// production code), for the golden example.
enum ReferenceSegment {
    static func crc32c<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F6_3B78 : 0) }
        }
        return ~crc
    }

    static func mask(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func goldenExample() -> [UInt8] {
        let uuid: [UInt8] = [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
        ]
        // Payload entries: {"a": 1} (object, 1 member, key "a", int 1), none, {"b": "x"}.
        let a: [UInt8] = [0x07, 0x01, 0x01, 0x61, 0x03] + le(Int64(1))
        let b: [UInt8] = [0x07, 0x01, 0x01, 0x62, 0x05, 0x01, 0x78]
        let rawBlock = le(UInt32(12 + a.count)) + le(UInt32(12 + a.count)) + le(UInt32(12 + a.count + b.count)) + a + b
        let floats: [Float] = [1, 2, 0, 0, -1.5, 0.25]
        var sections: [(kind: UInt16, name: String, dimension: UInt32, bytes: [UInt8])] = [
            (1, "", 0, le(UInt64(1)) + le(UInt64(7))),
            (2, "", 0, uuid),
            (3, "", 0, le(UInt64(5)) + le(UInt64(6)) + le(UInt64(9))),
            (4, "v", 2, [0b101]),
            (5, "v", 2, floats.flatMap { le($0.bitPattern) }),
            (6, "", 0, rawBlock),  // codec none: stored as is
        ]
        let blocksOffset = 384
        let indexEntry =
            le(UInt64(0)) + le(UInt64(blocksOffset)) + le(UInt32(rawBlock.count)) + le(UInt32(rawBlock.count))
            + le(mask(crc32c(rawBlock))) + le(UInt32(0))
        sections.append((7, "", 0, indexEntry))

        var header =
            Array("STRATSEG".utf8) + le(UInt32(1)) + le(UInt32(0)) + le(UInt64(3)) + [0]
            + [UInt8](repeating: 0, count: 35)
        header += le(mask(crc32c(header)))
        var file = header
        var table = le(UInt32(sections.count)) + le(UInt32(0))
        for section in sections {
            while file.count % 64 != 0 { file.append(0) }
            table +=
                le(section.kind) + le(UInt16(section.name.utf8.count)) + le(section.dimension)
                + le(UInt64(file.count)) + le(UInt64(section.bytes.count)) + le(mask(crc32c(section.bytes)))
                + le(UInt32(0))
                + Array(section.name.utf8)
            file += section.bytes
        }
        let tableOffset = file.count
        file += table
        var footer =
            le(UInt64(tableOffset)) + le(UInt64(table.count)) + le(UInt64(file.count + 40)) + le(mask(crc32c(table)))
        footer += le(mask(crc32c(footer)))
        return file + footer + Array("STRATEND".utf8)
    }
}
