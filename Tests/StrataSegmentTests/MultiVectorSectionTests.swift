import Foundation
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// The multivector sections (kinds 13 and 14, docs/format/segment.md): rows
/// round-trip, writer validation, and damage to either section is reported
/// naming it (the row starts at open, the rows by full verification).
@Suite struct MultiVectorSectionTests {
    static let path = "/s/segment.seg"
    static let specs = [
        SegmentVectorSpec(name: "colbert", dimension: 3), SegmentVectorSpec(name: "plain", dimension: 2),
    ]

    /// Point i has i % 4 rows (0 = no multivector) with values 10·i + row + k/10.
    static func points() -> [SegmentBuildPoint] {
        (0..<40).map { i in
            let rowCount = i % 4
            var point = SegmentBuildPoint(
                id: .number(UInt64(i * 3)), version: UInt64(i + 1), vectors: ["plain": [Float(i), 1]])
            if rowCount > 0 {
                var rows: [Float] = []
                for r in 0..<rowCount {
                    for k in 0..<3 { rows.append(Float(10 * i + r) + Float(k) / 10) }
                }
                point.multiVectors["colbert"] = rows
                point.vectors["colbert"] = [1, 2, 3]  // the aggregate (any vector of the dimension, to the writer)
            }
            return point
        }
    }

    static func write(_ points: [SegmentBuildPoint] = points()) throws -> FaultInjectingFileSystem {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try SegmentWriter.write(points, vectors: specs, multiVectors: ["colbert"], to: path, fileSystem: fs)
        return fs
    }

    @Test func rowsRoundTrip() throws {
        let fs = try Self.write()
        let reader = try SegmentReader.open(path: Self.path, fileSystem: fs)
        #expect(reader.multiVectorNames == ["colbert"])
        #expect(reader.verifyAll().isEmpty)
        for (offset, point) in Self.points().enumerated() {
            let rows = reader.withMultiVectorRows("colbert", at: offset) { rows, count in (Array(rows), count) }
            #expect(rows?.0 == (point.multiVectors["colbert"] ?? []))
            #expect(rows?.1 == (point.multiVectors["colbert"]?.count ?? 0) / 3)
            #expect(reader.hasVector("colbert", at: offset) == (point.multiVectors["colbert"] != nil))
        }
        #expect(reader.withMultiVectorRows("plain", at: 0) { _, _ in 0 } == nil)
        #expect(
            Set(reader.sectionSizes.map(\.name)).isSuperset(of: [
                "multivector[colbert].offsets", "multivector[colbert].data",
            ]))
    }

    @Test func writerRefusesInconsistentMultivectors() throws {
        var partial = Self.points()
        partial[1].multiVectors["colbert"] = [1, 2]  // not whole rows
        #expect(throws: SegmentError.self) { try Self.write(partial) }
        var missingRows = Self.points()
        missingRows[1].multiVectors["colbert"] = nil  // an aggregate without rows
        #expect(throws: SegmentError.self) { try Self.write(missingRows) }
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        #expect(throws: SegmentError.self) {
            try SegmentWriter.write(
                Self.points(), vectors: Self.specs, multiVectors: ["nope"], to: Self.path, fileSystem: fs)
        }
    }

    /// Every byte of the row starts, flipped, fails open naming the section;
    /// a flipped row byte fails full verification and the pre-merge check.
    @Test func damageIsReportedWithTheSectionName() throws {
        let fs = try Self.write()
        let clean = try SegmentReader.open(path: Self.path, fileSystem: fs)
        let offsets = try #require(clean.layout.sections.first { $0.kind == .multiVectorOffsets })
        let data = try #require(clean.layout.sections.first { $0.kind == .multiVectorData })
        let original = try fs.open(Self.path, mode: .readOnly).readAll()
        func damaged(at position: Int) throws -> FaultInjectingFileSystem {
            var bytes = original
            bytes[position] ^= 0x10
            let copy = FaultInjectingFileSystem(durableDirectories: ["/s"])
            try copy.writeAtomically(Self.path, bytes)
            return copy
        }
        for position in offsets.offset..<(offsets.offset + offsets.length) {
            #expect {
                _ = try SegmentReader.open(path: Self.path, fileSystem: try damaged(at: position))
            } throws: { error in
                (error as? SegmentError)?.section == "multivector[colbert].offsets"
            }
        }
        for position in [data.offset, data.offset + data.length / 2, data.offset + data.length - 1] {
            let reader = try SegmentReader.open(path: Self.path, fileSystem: try damaged(at: position))
            #expect(reader.verifyAll().map(\.section) == ["multivector[colbert].data"])
            #expect(reader.verifyVectorData().map(\.section) == ["multivector[colbert].data"])
        }
    }
}

/// The multivector example of docs/format/segment.md ("Multivectors"):
/// dimension 2, three points with 2, 0 and 1 rows. The writer must keep
/// producing `Fixtures/segment-v1-multivector-golden.seg` byte for byte, and
/// its kind 13 and 14 sections must hold what the spec says, computed here
/// from the spec alone.
@Suite struct MultiVectorGoldenFixtureTests {
    static let name = "segment-v1-multivector-golden.seg"
    static let specs = [SegmentVectorSpec(name: "m", dimension: 2)]
    static let points: [SegmentBuildPoint] = [
        SegmentBuildPoint(id: 1, version: 1, vectors: ["m": [2, 3]], multiVectors: ["m": [1, 2, 3, 4]]),
        SegmentBuildPoint(id: 2, version: 2),
        SegmentBuildPoint(id: 3, version: 3, vectors: ["m": [-1, 0.5]], multiVectors: ["m": [-1, 0.5]]),
    ]

    static func written() throws -> [UInt8] {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try SegmentWriter.write(
            points, vectors: specs, compression: .none, multiVectors: ["m"], to: "/s/m.seg", fileSystem: fs)
        return try fs.open("/s/m.seg", mode: .readOnly).readAll()
    }

    /// Regenerates the fixture (off by default: it writes into the source tree).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STRATA_WRITE_SEGMENT_GOLDEN"] == "1"))
    func writeFixture() throws {
        try writeFile(SegmentGoldenFixtureTests.fixture(Self.name), try Self.written())
    }

    @Test func writerProducesTheFixtureByteForByte() throws {
        #expect(hexString(try Self.written()) == hexString(try readFile(SegmentGoldenFixtureTests.fixture(Self.name))))
    }

    @Test func sectionsHoldWhatTheSpecSays() throws {
        let reader = try SegmentReader.open(
            path: SegmentGoldenFixtureTests.fixture(Self.name), fileSystem: POSIXFileSystem())
        let bytes = try readFile(SegmentGoldenFixtureTests.fixture(Self.name))
        let sections = reader.layout.sections
        #expect(sections.suffix(2).map(\.kind.rawValue) == [13, 14])
        #expect(sections.suffix(2).allSatisfy { $0.name == "m" && $0.dimension == 2 })
        let offsets = sections[sections.count - 2], data = sections[sections.count - 1]
        // Row starts 0, 2, 2, 3 (u64); rows (1, 2), (3, 4), (−1, 0.5) (f32), little-endian.
        let expectedOffsets = [UInt64(0), 2, 2, 3].flatMap { ReferenceSegment.le($0) }
        let expectedRows = [Float(1), 2, 3, 4, -1, 0.5].flatMap { ReferenceSegment.le($0.bitPattern) }
        #expect(Array(bytes[offsets.offset..<offsets.offset + offsets.length]) == expectedOffsets)
        #expect(Array(bytes[data.offset..<data.offset + data.length]) == expectedRows)
        #expect(offsets.crc == ReferenceSegment.mask(ReferenceSegment.crc32c(expectedOffsets)))
        #expect(data.crc == ReferenceSegment.mask(ReferenceSegment.crc32c(expectedRows)))
        #expect(reader.verifyAll().isEmpty)
        #expect(reader.withMultiVectorRows("m", at: 0) { rows, count in (Array(rows), count) }! == ([1, 2, 3, 4], 2))
        #expect(reader.withMultiVectorRows("m", at: 1) { _, count in count } == 0)
        #expect(reader.withMultiVectorRows("m", at: 2) { rows, _ in Array(rows) } == [-1, 0.5])
    }
}
