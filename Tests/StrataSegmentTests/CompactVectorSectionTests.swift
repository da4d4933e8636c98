import Foundation
import StrataBinary
import StrataCompression
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import StrataVectorMath
import Testing

/// Segment format version 2: vector rows stored as float16 or uint8
/// (docs/format/segment.md#version-2-compact-vector-rows). Files whose vectors
/// are all float32 stay version 1, byte for byte.
@Suite struct CompactVectorSectionTests {
    /// The worked example of the spec: the v1 golden points, vector "v" as float16.
    static let specs = [SegmentVectorSpec(name: "v", dimension: 2, datatype: .float16)]

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name).path
    }

    /// Writes the golden example and returns its bytes.
    static func goldenBytes(in dir: String) throws -> [UInt8] {
        let path = joinPath(dir, "v2.seg")
        _ = try SegmentWriter.write(
            SegmentGoldenFixtureTests.points, vectors: specs, compression: .none, to: path,
            fileSystem: POSIXFileSystem())
        return try readFile(path)
    }

    @Test func writerProducesVersion2GoldenFileByteForByte() throws {
        try withTemporaryDirectory { dir in
            let written = try Self.goldenBytes(in: dir)
            #expect(hexString(written) == hexString(try readFile(Self.fixture("segment-v2-float16-golden.seg"))))
        }
    }

    /// The parts of the golden file that differ from version 1, checked from
    /// the spec rather than from the writer: the header's version, the data
    /// section's binary16 values and the table entry's element type.
    @Test func version2GoldenFileMatchesTheSpec() throws {
        let bytes = try readFile(Self.fixture("segment-v2-float16-golden.seg"))
        let v1 = try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden.seg"))
        #expect(bytes[8..<12] == [2, 0, 0, 0])
        // vectors[v].data at offset 320: 1.0, 2.0 | 0, 0 | -1.5, 0.25 as binary16, 12 bytes.
        #expect(Array(bytes[320..<332]) == [0x00, 0x3C, 0x00, 0x40, 0, 0, 0, 0, 0x00, 0xBE, 0x00, 0x34])
        // Everything before the vector data (but the header's version and CRC) is as in version 1.
        #expect(bytes[0..<8] == v1[0..<8] && bytes[12..<60] == v1[12..<60] && bytes[64..<320] == v1[64..<320])
        let reader = try SegmentReader.open(
            path: Self.fixture("segment-v2-float16-golden.seg"), fileSystem: POSIXFileSystem())
        let data = try #require(reader.layout.sections.first { $0.kind == .vectorData })
        #expect(data.length == 12 && data.elementType == 1)
        #expect(reader.layout.sections.filter { $0.kind != .vectorData }.allSatisfy { $0.elementType == 0 })
        try expectSegment(reader, holds: SegmentGoldenFixtureTests.points, specs: Self.specs)
    }

    @Test func float32SegmentsStayVersion1() throws {
        try withTemporaryDirectory { dir in
            let path = joinPath(dir, "v1.seg")
            _ = try SegmentWriter.write(
                SegmentGoldenFixtureTests.points, vectors: SegmentGoldenFixtureTests.specs, compression: .none,
                to: path, fileSystem: POSIXFileSystem())
            #expect(try readFile(path)[8..<12] == [1, 0, 0, 0])
        }
    }

    @Test(arguments: [VectorDatatype.float16, .uint8])
    func randomCompactSegmentsRoundTrip(datatype: VectorDatatype) throws {
        var generator = SeededGenerator.forTest("randomCompactSegmentsRoundTrip(\(datatype))")
        let specs = [
            SegmentVectorSpec(name: "", dimension: 3, datatype: datatype),
            SegmentVectorSpec(name: "wide", dimension: 37, datatype: .float32),
            SegmentVectorSpec(name: "odd", dimension: 5, datatype: datatype),
        ]
        try withTemporaryDirectory { dir in
            for (index, count) in [0, 1, 9, 300].enumerated() {
                var points = generator.points(count, specs: specs)
                for i in points.indices {
                    for spec in specs {
                        points[i].vectors[spec.name] = points[i].vectors[spec.name].map(spec.datatype.rounded)
                    }
                }
                let (reader, stats) = try writeAndOpen(
                    points, specs: specs, codec: .lz4, in: dir, name: "s\(index).seg")
                try expectSegment(reader, holds: points, specs: specs)
                #expect(stats.sectionBytes["vectors[].data"] == count * 3 * datatype.bytesPerElement)
                #expect(stats.sectionBytes["vectors[wide].data"] == count * 37 * 4)
            }
        }
    }

    /// The writer rounds values the datatype cannot hold (uint8: toward zero, clamped).
    @Test func writerRoundsUnrepresentableValues() throws {
        let specs = [SegmentVectorSpec(name: "b", dimension: 5, datatype: .uint8)]
        let points = [SegmentBuildPoint(id: 1, version: 1, vectors: ["b": [-3, 0.9, 1.5, 254.99, 1000]])]
        try withTemporaryDirectory { dir in
            let (reader, _) = try writeAndOpen(points, specs: specs, codec: .none, in: dir)
            #expect(reader.vector("b", at: 0) == [0, 0, 1, 254, 255])
        }
    }

    @Test(arguments: [VectorDatatype.float16, .uint8])
    func compactMultiVectorRowsRoundTrip(datatype: VectorDatatype) throws {
        let specs = [SegmentVectorSpec(name: "m", dimension: 2, datatype: datatype)]
        let points = [
            SegmentBuildPoint(id: 1, version: 1, vectors: ["m": [2, 3]], multiVectors: ["m": [1, 2, 3, 4]]),
            SegmentBuildPoint(id: 2, version: 2),
            SegmentBuildPoint(id: 3, version: 3, vectors: ["m": [7, 0.5]], multiVectors: ["m": [7, 0.5]]),
        ]
        try withTemporaryDirectory { dir in
            let path = joinPath(dir, "m.seg")
            let fs = POSIXFileSystem()
            let stats = try SegmentWriter.write(
                points, vectors: specs, compression: .none, multiVectors: ["m"], to: path, fileSystem: fs)
            #expect(stats.sectionBytes["multivector[m].data"] == 6 * datatype.bytesPerElement)
            let reader = try SegmentReader.open(path: path, fileSystem: fs)
            #expect(
                reader.withMultiVectorRows("m", at: 0) { rows, count in (Array(rows), count) }! == ([1, 2, 3, 4], 2))
            #expect(reader.withMultiVectorRows("m", at: 1) { _, count in count } == 0)
            #expect(
                reader.withMultiVectorRows("m", at: 2) { rows, _ in Array(rows) } == datatype.rounded([7, 0.5]))
            #expect(reader.verifyAll().isEmpty)
        }
    }

    /// A version 2 table entry with an unknown element type, an element type
    /// on a section that has none, and a version 1 file with an element type:
    /// each is named corruption.
    @Test func badElementTypesAreCorruption() throws {
        try withTemporaryDirectory { dir in
            let golden = try Self.goldenBytes(in: dir)
            let reader = try SegmentReader.open(
                path: Self.fixture("segment-v2-float16-golden.seg"), fileSystem: POSIXFileSystem())
            let tableOffset = Int(golden.count - 40)
            let table = Int(
                UInt64(
                    littleEndian: golden[tableOffset..<tableOffset + 8].withUnsafeBytes {
                        $0.loadUnaligned(as: UInt64.self)
                    }))
            // Entry positions: 8-byte table header, then 32 + name bytes each.
            var entryStarts: [Int] = []
            var position = table + 8
            for entry in reader.layout.sections {
                entryStarts.append(position)
                position += 32 + entry.name.utf8.count
            }
            let dataEntry = entryStarts[reader.layout.sections.firstIndex { $0.kind == .vectorData }!]
            let presenceEntry = entryStarts[reader.layout.sections.firstIndex { $0.kind == .vectorPresence }!]
            func damaged(_ change: (inout [UInt8]) -> Void) throws -> SegmentError? {
                var bytes = golden
                change(&bytes)
                // Re-seal the table and footer checksums so only the change is wrong.
                let tableLength = bytes.count - 40 - table
                let tableCRC = CRC32C.mask(bytes[table..<table + tableLength].withUnsafeBytes { CRC32C.checksum($0) })
                withUnsafeBytes(of: tableCRC.littleEndian) {
                    bytes.replaceSubrange(tableOffset + 24..<tableOffset + 28, with: $0)
                }
                let footerCRC = CRC32C.mask(
                    bytes[tableOffset..<tableOffset + 28].withUnsafeBytes { CRC32C.checksum($0) })
                withUnsafeBytes(of: footerCRC.littleEndian) {
                    bytes.replaceSubrange(tableOffset + 28..<tableOffset + 32, with: $0)
                }
                let headerCRC = CRC32C.mask(bytes[0..<60].withUnsafeBytes { CRC32C.checksum($0) })
                withUnsafeBytes(of: headerCRC.littleEndian) { bytes.replaceSubrange(60..<64, with: $0) }
                let path = joinPath(dir, "bad.seg")
                try? FileManager.default.removeItem(atPath: path)
                _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
                return segmentError { _ = try SegmentReader.open(path: path, fileSystem: POSIXFileSystem()) }
            }
            let unknown = try damaged { $0[dataEntry + 28] = 9 }
            #expect(unknown?.code == .corruption && unknown?.message.contains("unknown vector element type 9") == true)
            let onPresence = try damaged { $0[presenceEntry + 28] = 1 }
            #expect(onPresence?.code == .corruption && onPresence?.message.contains("reserved") == true)
            let asVersion1 = try damaged { $0[8] = 1 }
            #expect(asVersion1?.code == .corruption && asVersion1?.message.contains("reserved") == true)
            let asUint8 = try damaged { $0[dataEntry + 28] = 2 }  // 12 bytes do not make 3 × 2 bytes
            #expect(asUint8?.code == .corruption && asUint8?.message.contains("uint8") == true)
            let future = try damaged { $0[8] = 3 }
            #expect(future?.code == .unsupportedVersion)
        }
    }
}
