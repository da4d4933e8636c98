import Dispatch
import Foundation
import StrataCompression
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// What the writer writes, the reader reads back: ids, versions, vectors (present
/// and absent), payloads (nested, empty, absent), for every codec and shape.
@Suite struct SegmentRoundTripTests {
    static let specs = [
        SegmentVectorSpec(name: "", dimension: 3),
        SegmentVectorSpec(name: "image", dimension: 16),
        SegmentVectorSpec(name: "text-é", dimension: 1),
    ]

    @Test(arguments: CompressionCodec.allCases)
    func randomSegmentsRoundTrip(codec: CompressionCodec) throws {
        var generator = SeededGenerator.forTest("randomSegmentsRoundTrip(\(codec))")
        try withTemporaryDirectory { dir in
            for (index, count) in [0, 1, 2, 9, 100, 700].enumerated() {
                let uuidFraction = [0.0, 0.3, 1.0][index % 3]
                let points = generator.points(count, specs: Self.specs, uuidFraction: uuidFraction)
                let (reader, stats) = try writeAndOpen(
                    points, specs: Self.specs, codec: codec, in: dir, name: "s\(index).seg")
                try expectSegment(reader, holds: points, specs: Self.specs)
                #expect(stats.pointCount == count)
                #expect(reader.payloadCodec == codec)
            }
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func payloadsSpanningSeveralBlocksRoundTrip(codec: CompressionCodec) throws {
        var generator = SeededGenerator.forTest("payloadsSpanningSeveralBlocksRoundTrip(\(codec))")
        let points = pointsFillingSeveralBlocks(&generator, specs: Self.specs)
        try withTemporaryDirectory { dir in
            let (reader, stats) = try writeAndOpen(points, specs: Self.specs, codec: codec, in: dir)
            #expect(reader.payloadBlockCount >= 4)
            #expect(stats.payloadBlockCount == reader.payloadBlockCount)
            try expectSegment(reader, holds: points, specs: Self.specs)
            // Read in reverse and strided orders too, so the block cache misses.
            for offset in stride(from: points.count - 1, through: 0, by: -7) {
                #expect(try reader.payload(at: offset) == points[offset].payload)
            }
        }
    }

    @Test func emptySegmentRoundTrips() throws {
        try withTemporaryDirectory { dir in
            let (reader, stats) = try writeAndOpen([], specs: Self.specs, codec: .zstd, in: dir)
            try expectSegment(reader, holds: [], specs: Self.specs)
            #expect(reader.offset(of: 0) == nil)
            #expect(reader.offset(of: .uuid(UUID())) == nil)
            #expect(reader.payloadBlockCount == 0 && reader.payloadRawBytes == 0 && reader.payloadCompressedBytes == 0)
            #expect(stats.fileBytes == reader.fileBytes)
            #expect(reader.withVectors("image") { _, dimension in dimension } == 16)
        }
    }

    @Test func segmentWithoutVectorsOrPayloadsRoundTrips() throws {
        var generator = SeededGenerator.forTest()
        let points = generator.points(50, specs: [], payloadProbability: 0)
        try withTemporaryDirectory { dir in
            let (reader, _) = try writeAndOpen(points, specs: [], codec: .lz4, in: dir)
            try expectSegment(reader, holds: points, specs: [])
            #expect(!reader.hasVector("", at: 0))
            #expect(reader.vector("", at: 0) == nil)
        }
    }

    @Test func onePointRoundTrips() throws {
        let point = SegmentBuildPoint(
            id: .uuid(UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!), version: .max,
            vectors: ["image": (0..<16).map(Float.init)], payload: [:])
        try withTemporaryDirectory { dir in
            let (reader, _) = try writeAndOpen([point], specs: Self.specs, codec: .zstd, in: dir)
            try expectSegment(reader, holds: [point], specs: Self.specs)
            #expect(try reader.payload(at: 0) == [:], "an empty payload stays distinct from no payload")
        }
    }

    @Test func offsetOfFindsPresentIdsAndNoOthers() throws {
        var generator = SeededGenerator.forTest()
        let numbers: [PointID] = [0, 2, 4, 10, 1000, .number(UInt64.max - 1)]
        let uuids = (0..<20).map { _ in PointID.uuid(generator.uuid()) }.sorted()
        let points = (numbers + uuids).map { SegmentBuildPoint(id: $0, version: 1) }
        try withTemporaryDirectory { dir in
            let (reader, _) = try writeAndOpen(points, specs: [], codec: .none, in: dir)
            for (offset, point) in points.enumerated() { #expect(reader.offset(of: point.id) == offset) }
            for absent: PointID in [1, 3, 5, 9, 11, 999, 1001, .number(UInt64.max), .number(UInt64.max - 2)] {
                #expect(reader.offset(of: absent) == nil, "\(absent)")
            }
            for _ in 0..<200 {
                let uuid = PointID.uuid(generator.uuid())
                #expect(reader.offset(of: uuid) == uuids.firstIndex(of: uuid).map { numbers.count + $0 })
            }
            #expect(reader.offset(of: .uuid(UUID(uuidString: "00000000-0000-0000-0000-000000000000")!)) == nil)
            #expect(reader.offset(of: .uuid(UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!)) == nil)
        }
        // Only numbers, only UUIDs: the other kind is never found.
        try withTemporaryDirectory { dir in
            let (onlyNumbers, _) = try writeAndOpen(
                numbers.map { SegmentBuildPoint(id: $0, version: 1) }, specs: [], codec: .none, in: dir, name: "a")
            #expect(onlyNumbers.offset(of: uuids[0]) == nil)
            let (onlyUUIDs, _) = try writeAndOpen(
                uuids.map { SegmentBuildPoint(id: $0, version: 1) }, specs: [], codec: .none, in: dir, name: "b")
            #expect(onlyUUIDs.offset(of: 0) == nil)
            #expect(onlyUUIDs.offset(of: uuids[3]) == 3)
        }
    }

    /// `PointID` orders UUIDs by their string; the file by their bytes. Both must agree.
    @Test func uuidByteOrderMatchesPointIDOrder() {
        var generator = SeededGenerator.forTest()
        for _ in 0..<2000 {
            var a = generator.uuid().uuid
            var b = a
            // Often differ in one byte only, to exercise every position.
            withUnsafeMutableBytes(of: &b) {
                $0[Int.random(in: 0..<16, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { a = generator.uuid().uuid }
            let byBytes = UUIDKey(a) < UUIDKey(b)
            #expect(byBytes == (PointID.uuid(UUID(uuid: a)) < PointID.uuid(UUID(uuid: b))))
        }
    }

    @Test func statisticsAgreeBetweenWriterAndReader() throws {
        var generator = SeededGenerator.forTest()
        let points = pointsFillingSeveralBlocks(&generator, specs: Self.specs)
        try withTemporaryDirectory { dir in
            let (reader, stats) = try writeAndOpen(points, specs: Self.specs, codec: .zstd, in: dir)
            #expect(stats.fileBytes == (try FileManager.default.attributesOfItem(atPath: reader.path)[.size] as? Int))
            #expect(
                Dictionary(uniqueKeysWithValues: reader.sectionSizes.map { ($0.name, $0.bytes) }) == stats.sectionBytes)
            #expect(
                reader.sectionSizes.map(\.name) == [
                    "ids.numbers", "ids.uuids", "versions",
                    "vectors[].presence", "vectors[].data", "vectors[image].presence", "vectors[image].data",
                    "vectors[text-é].presence", "vectors[text-é].data", "payload.blocks", "payload.index",
                ])
            #expect(reader.payloadRawBytes == stats.payloadRawBytes)
            #expect(reader.payloadCompressedBytes == stats.payloadCompressedBytes)
            #expect(stats.payloadCompressedBytes < stats.payloadRawBytes)
            #expect(stats.sectionBytes["vectors[image].data"] == points.count * 16 * 4)
            #expect(stats.sectionBytes["versions"] == points.count * 8)
        }
    }

    @Test func readsOnFaultInjectingFileSystemLikeOnDisk() throws {
        var generator = SeededGenerator.forTest()
        let points = generator.points(300, specs: Self.specs)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/segments"])
        try SegmentWriter.write(points, vectors: Self.specs, compression: .lz4, to: "/segments/a.seg", fileSystem: fs)
        #expect(fs.unsyncedChangeCount(of: "/segments/a.seg") == 0, "the writer fsyncs the file")
        try expectSegment(
            try SegmentReader.open(path: "/segments/a.seg", fileSystem: fs), holds: points, specs: Self.specs)
    }

    @Test func concurrentPayloadReadsAgree() throws {
        var generator = SeededGenerator.forTest()
        let points = pointsFillingSeveralBlocks(&generator, specs: [], count: 60)
        try withTemporaryDirectory { dir in
            let (reader, _) = try writeAndOpen(points, specs: [], codec: .zstd, in: dir)
            let mismatches = Locked(0)
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for step in 0..<300 {
                    let offset = (step * (thread + 3) * 7919) % points.count
                    if (try? reader.payload(at: offset)) != points[offset].payload { mismatches.withLock { $0 += 1 } }
                }
            }
            #expect(mismatches.withLock { $0 } == 0)
        }
    }

    @Test func writerRejectsInvalidInputAndCreatesNothing() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let specs = [SegmentVectorSpec(name: "v", dimension: 2)]
        func rejects(_ points: [SegmentBuildPoint], _ specs: [SegmentVectorSpec], _ what: Comment) {
            let error = segmentError {
                try SegmentWriter.write(points, vectors: specs, compression: .zstd, to: "/s/x.seg", fileSystem: fs)
            }
            #expect(error?.code == .invalidArgument, what)
            #expect(error?.file == "/s/x.seg", what)
            #expect(fs.fileKind("/s/x.seg") == nil, what)
        }
        rejects([.init(id: 2, version: 1), .init(id: 1, version: 1)], specs, "unsorted ids")
        rejects([.init(id: .uuid(UUID()), version: 1), .init(id: 1, version: 1)], specs, "a UUID before a number")
        rejects([.init(id: 1, version: 1), .init(id: 1, version: 2)], specs, "duplicate ids")
        rejects([.init(id: 1, version: 1, vectors: ["w": [1, 2]])], specs, "unknown vector name")
        rejects([.init(id: 1, version: 1, vectors: ["v": [1, 2, 3]])], specs, "wrong dimension")
        rejects([], [.init(name: "v", dimension: 2), .init(name: "v", dimension: 3)], "duplicate vector names")
        rejects([], [.init(name: "v", dimension: 0)], "dimension 0")
        rejects([], [.init(name: "v", dimension: 65537)], "dimension above 65536")
        rejects([], [.init(name: String(repeating: "n", count: 256), dimension: 1)], "a 256-byte name")
        rejects([.init(id: 1, version: 1, payload: ["x": .double(.nan)])], specs, "NaN in a payload")
        rejects(
            [.init(id: 1, version: 1, payload: ["x": ["y": [.double(-.infinity)]]])], specs,
            "infinity nested in a payload")
        rejects(
            [.init(id: 1, version: 1, payload: ["big": .string(String(repeating: "x", count: 256 << 20))])], specs,
            "a payload above 256 MiB")
    }

    @Test func writerRefusesAnExistingPath() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try fs.writeAtomically("/s/x.seg", [1, 2, 3])
        let error = segmentError { try SegmentWriter.write([], vectors: [], to: "/s/x.seg", fileSystem: fs) }
        #expect(error?.code == .io)
        #expect(error?.cause?.code == .alreadyExists)
        #expect(try fs.open("/s/x.seg", mode: .readOnly).readAll() == [1, 2, 3], "the existing file is untouched")
    }

    @Test func openReportsAMissingFileAsIO() {
        let error = segmentError {
            _ = try SegmentReader.open(path: "/nope.seg", fileSystem: FaultInjectingFileSystem())
        }
        #expect(error?.code == .io)
        #expect(error?.cause?.code == .notFound)
        #expect(error?.file == "/nope.seg")
    }
}
