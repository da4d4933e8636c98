import Foundation
import StrataCompression
import StrataFuzzChecks
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// Damage anywhere in a segment is reported, naming the file and the section,
/// never a crash and never a wrong payload: `open` catches damage to the header,
/// footer, table, padding and small sections; `verifyAll` catches damage to
/// vector data and payload blocks; `payload(at:)` refuses a damaged block.
@Suite struct SegmentCorruptionTests {
    static let specs = [SegmentVectorSpec(name: "", dimension: 4), SegmentVectorSpec(name: "image", dimension: 7)]
    static let path = "/s/segment.seg"

    /// A real segment (numbers and UUIDs, two vectors with absent rows, several
    /// payload blocks) on an in-memory file system.
    static func makeSegment(
        _ generator: inout SeededGenerator, codec: CompressionCodec = .zstd
    )
        throws -> (FaultInjectingFileSystem, [SegmentBuildPoint], [UInt8])
    {
        let points = pointsFillingSeveralBlocks(&generator, specs: specs, count: 30)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try SegmentWriter.write(points, vectors: specs, compression: codec, to: path, fileSystem: fs)
        return (fs, points, try fs.open(path, mode: .readOnly).readAll())
    }

    /// Which part of the file each byte belongs to: header, section names, padding, table, footer.
    static func regions(of reader: SegmentReader) -> [(name: String, range: Range<Int>)] {
        var regions: [(String, Range<Int>)] = [("header", 0..<64)]
        var end = 64
        for section in reader.layout.sections {
            if section.offset > end { regions.append(("padding", end..<section.offset)) }
            regions.append((section.displayName, section.offset..<(section.offset + section.length)))
            end = section.offset + section.length
        }
        let footer = reader.fileBytes - 40
        regions.append(("section table", end..<footer))
        regions.append(("footer", footer..<reader.fileBytes))
        return regions
    }

    @Test(arguments: [CompressionCodec.zstd, .lz4, .none])
    func flippedByteInEverySectionIsReportedWithItsName(codec: CompressionCodec) throws {
        var generator = SeededGenerator.forTest("flippedByteInEverySectionIsReportedWithItsName(\(codec))")
        let (fs, points, _) = try Self.makeSegment(&generator, codec: codec)
        let clean = try SegmentReader.open(path: Self.path, fileSystem: fs)
        #expect(clean.verifyAll().isEmpty)
        let regions = Self.regions(of: clean)
        let bulky: Set<String> = ["payload.blocks", "vectors[].data", "vectors[image].data"]
        #expect(
            Set(regions.map(\.name)).isSuperset(
                of: bulky.union(["padding", "ids.numbers", "ids.uuids", "versions", "payload.index"])))
        var checked: [String: Int] = [:]
        for (name, range) in regions where !range.isEmpty {
            // Every byte of the small parts; a sample of the bulky ones.
            var positions = Array(range)
            if bulky.contains(name) {
                positions =
                    [range.lowerBound, range.upperBound - 1]
                    + (0..<24).map { _ in Int.random(in: range, using: &generator) }
            }
            for position in positions {
                let mask = UInt8(1) << UInt8.random(in: 0...7, using: &generator)
                try fs.corruptStoredByte(path: Self.path, offset: UInt64(position), xor: mask)
                defer { try? fs.corruptStoredByte(path: Self.path, offset: UInt64(position), xor: mask) }
                let context: Comment = "byte \(position) (\(name)) ^ \(mask)"
                checked[name, default: 0] += 1
                let reader: SegmentReader
                do {
                    reader = try SegmentReader.open(path: Self.path, fileSystem: fs)
                } catch let error as SegmentError {
                    #expect(!bulky.contains(name), "open should not read \(name); \(context): \(error)")
                    #expect(
                        error.code == .corruption || (name == "header" && error.code == .unsupportedVersion), context)
                    #expect(error.file == Self.path && error.section == name, "\(context): \(error)")
                    #expect(error.message.contains(Self.path) && error.message.contains(name), context)
                    continue
                }
                #expect(bulky.contains(name), "open missed damage in \(name); \(context)")
                let problems = reader.verifyAll()
                #expect(!problems.isEmpty, "verifyAll missed \(context)")
                for problem in problems {
                    #expect(
                        problem.file == Self.path && problem.section == name && problem.code == .corruption,
                        "\(context): \(problem)")
                }
                if name == "payload.blocks" {
                    try checkPayloads(reader, points, damagedAt: position, problems, context)
                }
            }
        }
        print("checked flips per region: \(checked.sorted { $0.key < $1.key })")
    }

    /// Every payload of the damaged block throws naming section and block; every
    /// other payload reads back exactly.
    private func checkPayloads(
        _ reader: SegmentReader, _ points: [SegmentBuildPoint], damagedAt position: Int, _ problems: [SegmentError],
        _ context: Comment
    ) throws {
        let damaged = reader.layout.blocks.firstIndex {
            $0.blockOffset <= position && position < $0.blockOffset + $0.compressedLength
        }!
        #expect(problems.contains { $0.block == damaged }, context)
        for offset in points.indices {
            if reader.layout.pointRange(ofBlock: damaged).contains(offset) {
                let error = segmentError { _ = try reader.payload(at: offset) }
                #expect(
                    error?.code == .corruption && error?.section == "payload.blocks" && error?.block == damaged, context
                )
                #expect(error?.message.contains("block \(damaged)") == true, context)
            } else {
                #expect(try reader.payload(at: offset) == points[offset].payload, context)
            }
        }
    }

    @Test func truncatedFilesAreRefusedAtEveryLength() throws {
        var generator = SeededGenerator.forTest()
        let (_, _, bytes) = try Self.makeSegment(&generator)
        let golden = try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden.seg"))
        let fs = FaultInjectingFileSystem(durableDirectories: ["/t"])
        var lengths: [(file: [UInt8], length: Int)] = (0..<golden.count).map { (golden, $0) }
        lengths += (Array(0..<400) + Array((bytes.count - 800)..<bytes.count)).map { (bytes, $0) }
        lengths += (0..<200).map { _ in (bytes, Int.random(in: 0..<bytes.count, using: &generator)) }
        for (index, (file, length)) in lengths.enumerated() {
            let path = "/t/\(index).seg"
            try fs.open(path, mode: .createNew).write(at: 0, Array(file[0..<length]))
            let error = segmentError { _ = try SegmentReader.open(path: path, fileSystem: fs) }
            #expect(
                error?.code == .corruption && error?.file == path,
                "length \(length) of \(file.count): \(String(describing: error))")
            #expect(
                ["header", "footer"].contains(error?.section ?? ""), "length \(length): \(String(describing: error))")
            try fs.removeFile(path)
        }
    }

    @Test func bytesAppendedAfterTheFooterAreRefused() throws {
        var golden = try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden.seg"))
        golden += [0, 0, 0, 0]
        let fs = FaultInjectingFileSystem(durableDirectories: ["/t"])
        try fs.writeAtomically("/t/a.seg", golden)
        let error = segmentError { _ = try SegmentReader.open(path: "/t/a.seg", fileSystem: fs) }
        #expect(error?.code == .corruption && error?.section == "footer")
    }

    @Test func mediaBitFlipSeenThroughTheMappingIsCaught() throws {
        var generator = SeededGenerator.forTest()
        let (fs, _, _) = try Self.makeSegment(&generator)
        let clean = try SegmentReader.open(path: Self.path, fileSystem: fs)
        let data = clean.layout.sections.first { $0.displayName == "vectors[image].data" }!
        fs.flipBitsOnRead(pathContains: "segment.seg", atOffset: UInt64(data.offset + 5), mask: 0x10)
        let reader = try SegmentReader.open(path: Self.path, fileSystem: fs)
        #expect(reader.verifyAll().map(\.section) == ["vectors[image].data"])
    }

    @Test func notASegmentIsRefusedByMagic() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/t"])
        try fs.writeAtomically("/t/a.seg", Array("STRATWAL".utf8) + [UInt8](repeating: 0, count: 200))
        let error = segmentError { _ = try SegmentReader.open(path: "/t/a.seg", fileSystem: fs) }
        #expect(error?.code == .corruption && error?.section == "header" && error?.message.contains("magic") == true)
    }

    // MARK: - Damage with consistent checksums (what the structure checks must catch)

    /// The golden file, changed by `edit`, with every checksum recomputed, opened.
    func openEditedGolden(_ edit: (inout [UInt8]) -> Void) throws -> Result<SegmentReader, SegmentError> {
        var bytes = try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden.seg"))
        edit(&bytes)
        recomputeSegmentChecksums(&bytes)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/t"])
        try fs.writeAtomically("/t/g.seg", bytes)
        do {
            return .success(try SegmentReader.open(path: "/t/g.seg", fileSystem: fs))
        } catch let error as SegmentError {
            return .failure(error)
        }
    }

    func expectRefused(
        _ section: String, code: SegmentError.Code = .corruption, _ edit: (inout [UInt8]) -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        switch try openEditedGolden(edit) {
        case .success: Issue.record("opened a file damaged in \(section)", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(
                error.code == code && error.section == section, "expected \(section): \(error)",
                sourceLocation: sourceLocation)
        }
    }

    @Test func checksummedStructuralDamageIsRefusedAtOpen() throws {
        // Layout of the golden file: docs/format/segment.md, "Worked example".
        let table = 0x1E0
        let entry = { (index: Int) in table + 8 + 32 * index + (index > 4 ? 2 : index > 3 ? 1 : 0) }
        // The unchanged file opens (the fixer itself is sound).
        if case .failure(let error) = try openEditedGolden({ _ in }) { Issue.record("\(error)") }
        try expectRefused("header", code: .unsupportedVersion) { $0[8] = 3 }
        try expectRefused("header") { $0[12] = 1 }  // flags
        try expectRefused("header") { $0[24] = 9 }  // codec
        try expectRefused("header") { $0[40] = 1 }  // reserved
        try expectRefused("header") { $0[20] = 1 }  // point_count above 2^32 - 1
        try expectRefused("vectors[v].data") { $0[16] = 4 }  // point_count 4: the first length to disagree
        try expectRefused("ids.numbers") { $0[64] = 9 }  // ids 9, 7: not ascending
        try expectRefused("ids.numbers") { $0[72] = 1 }  // ids 1, 1: duplicate
        try expectRefused("padding") { $0[100] = 1 }
        try expectRefused("footer") { $0[0x2CA] = 0xE1 }  // table offset
        try expectRefused("section table") { $0[table] = 8 }  // section count
        try expectRefused("section table") { $0[table + 4] = 1 }  // reserved
        try expectRefused("section table") { $0[entry(0)] = 2 }  // kinds out of order
        try expectRefused("section table", code: .unsupportedVersion) { $0[entry(6)] = 0x42 }  // unknown required kind
        try expectRefused("section table") { $0[entry(1) + 8] = 0x81 }  // offset not canonical
        try expectRefused("section table") {
            $0[entry(2) + 16] = 0xFF; $0[entry(2) + 17] = 0xFF
        }  // length past the table
        try expectRefused("section table") { $0[entry(3) + 4] = 3 }  // presence and data dimensions differ
        try expectRefused("section table") {
            $0[entry(3) + 4] = 0; $0[entry(4) + 4] = 0
        }  // dimension 0
        try expectRefused("section table") { $0[entry(3) + 32] = 0xFF }  // name not UTF-8
        try expectRefused("versions") { $0[entry(2) + 16] = 32 }  // 4 versions for 3 points
        try expectRefused("vectors[v].presence") { $0[256] = 0x0D }  // bit beyond the last point
        try expectRefused("vectors[v].data") {
            $0[entry(3) + 4] = 1; $0[entry(4) + 4] = 1
        }  // dimension 1: 24 bytes ≠ 12
        try expectRefused("payload.index") { $0[0x1C0] = 1 }  // block 0 starts at point 1
        try expectRefused("payload.index") { $0[0x1C8] = 0x81 }  // block offset
        try expectRefused("payload.index") { $0[0x1D0] = 0x21 }  // compressed length past the section
        try expectRefused("payload.index") { $0[0x1D4] = 8 }  // raw length smaller than the entry table
        try expectRefused("payload.index") { $0[0x1D7] = 0x20 }  // raw length above 256 MiB
        try expectRefused("payload.index") { $0[0x1DC] = 1 }  // reserved
    }

    @Test func checksummedPayloadDamageIsReportedNotReturned() throws {
        // Entry table ends 25, 25, 32 at 0x180; payload bytes follow.
        let cases: [(String, (inout [UInt8]) -> Void)] = [
            ("entry end beyond the block", { $0[0x180] = 40 }),
            ("entries out of order", { $0[0x184] = 20 }),
            ("last end short of the block", { $0[0x188] = 31 }),
            ("unknown JSON tag", { $0[0x18C + 4] = 0x09 }),
            ("payload not an object", { $0[0x18C] = 0x06 }),
            (
                "trailing byte in an entry",
                {
                    $0[0x180] = 24; $0[0x184] = 24
                }
            ),
            // {"a": 1} becomes {"a": NaN}: JSON has no NaN (found by SegmentReaderFuzz).
            (
                "NaN in a payload",
                {
                    $0[0x190] = 0x04; $0[0x191] = 0; $0[0x197] = 0xF8; $0[0x198] = 0x7F
                }
            ),
        ]
        for (what, edit) in cases {
            guard case .success(let reader) = try openEditedGolden(edit) else {
                Issue.record("\(what): open should not decode payload blocks")
                continue
            }
            let problems = reader.verifyAll()
            #expect(
                problems.count == 1 && problems.first?.section == "payload.blocks" && problems.first?.block == 0,
                "\(what): \(problems)")
            let error = segmentError { _ = try reader.payload(at: 0) }
            #expect(error?.code == .corruption && error?.block == 0, "\(what): \(String(describing: error))")
        }
    }

    @Test func ancillarySectionsAreSkippedButVerified() throws {
        // Append an ancillary section (kind 0x8001, 5 bytes) between payload.index and the table.
        var bytes = try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden.seg"))
        let table = Array(bytes[0x1E0..<0x2CA])
        var body = Array(bytes[0..<0x1E0]) + [UInt8](repeating: 0, count: 32) + [1, 2, 3, 4, 5]
        var newTable = table
        newTable[0] = 8
        newTable +=
            [0x01, 0x80, 0, 0, 0, 0, 0, 0] + ReferenceSegment.le(UInt64(0x200)) + ReferenceSegment.le(UInt64(5))
            + [0, 0, 0, 0, 0, 0, 0, 0]
        let tableOffset = body.count
        body += newTable
        bytes =
            body + ReferenceSegment.le(UInt64(tableOffset)) + ReferenceSegment.le(UInt64(newTable.count))
            + [UInt8](repeating: 0, count: 16) + Array("STRATEND".utf8)
        recomputeSegmentChecksums(&bytes)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/t"])
        try fs.writeAtomically("/t/g.seg", bytes)
        let reader = try SegmentReader.open(path: "/t/g.seg", fileSystem: fs)
        try expectSegment(reader, holds: SegmentGoldenFixtureTests.points, specs: SegmentGoldenFixtureTests.specs)
        #expect(reader.sectionSizes.last?.name == "section kind 0x8001")
        try fs.corruptStoredByte(path: "/t/g.seg", offset: 0x202, xor: 1)
        let damaged = try SegmentReader.open(path: "/t/g.seg", fileSystem: fs)
        #expect(damaged.verifyAll().map(\.section) == ["section kind 0x8001"])
    }
}
