import Foundation
import StrataFuzzChecks
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// Vector-index sections (kinds 8 `hnsw[<name>]` and 9 `quantized[<name>]`,
/// docs/format/segment.md): stored as given, checksummed, found by name, and
/// refused when they name no vector of the segment or repeat.
@Suite struct SegmentIndexSectionTests {
    static let specs = [SegmentVectorSpec(name: "", dimension: 4), SegmentVectorSpec(name: "image", dimension: 3)]
    static let path = "/s/segment.seg"

    static func write(_ indexes: [SegmentVectorIndex], fs: FaultInjectingFileSystem) throws {
        var generator = SeededGenerator.forTest()
        let points = generator.points(20, specs: specs)
        try SegmentWriter.write(points, vectors: specs, indexes: indexes, to: path, fileSystem: fs)
    }

    @Test func indexSectionsRoundTripAndVerify() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let graph = (0..<300).map { UInt8($0 % 251) }, codes = [UInt8](repeating: 7, count: 90)
        try Self.write(
            [
                SegmentVectorIndex(kind: .hnswGraph, vectorName: "image", bytes: graph),
                SegmentVectorIndex(kind: .quantizedVectors, vectorName: "", bytes: codes),
            ], fs: fs)
        let reader = try SegmentReader.open(path: Self.path, fileSystem: fs)
        #expect(reader.indexSection(.hnswGraph, vector: "image").map(Array.init) == graph)
        #expect(reader.indexSection(.quantizedVectors, vector: "").map(Array.init) == codes)
        #expect(reader.indexSection(.hnswGraph, vector: "") == nil)
        #expect(reader.sectionSizes.map(\.name).suffix(2) == ["hnsw[image]", "quantized[]"])
        #expect(reader.verifyAll().isEmpty)
        // A flipped byte in an index section is found by full verification, by name.
        var bytes = try fs.open(Self.path, mode: .readOnly).readAll()
        let range = try #require(reader.sectionRanges.first { $0.name == "hnsw[image]" }).range
        bytes[range.lowerBound + 5] ^= 1
        try fs.removeFile(Self.path)
        let file = try fs.open(Self.path, mode: .createNew)
        try file.write(at: 0, bytes)
        try file.sync()
        let damaged = try SegmentReader.open(path: Self.path, fileSystem: fs)
        #expect(damaged.verifyAll().contains { $0.section == "hnsw[image]" })
    }

    @Test func writerRefusesIndexesForUnknownOrRepeatedVectors() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let unknown = segmentError {
            try Self.write([SegmentVectorIndex(kind: .hnswGraph, vectorName: "text", bytes: [1])], fs: fs)
        }
        #expect(unknown?.code == .invalidArgument)
        let twice = segmentError {
            try Self.write(
                [
                    SegmentVectorIndex(kind: .hnswGraph, vectorName: "", bytes: [1]),
                    SegmentVectorIndex(kind: .hnswGraph, vectorName: "", bytes: [2]),
                ], fs: fs)
        }
        #expect(twice?.code == .invalidArgument)
        #expect(fs.fileKind(Self.path) == nil)
    }

    @Test func readerRefusesAnIndexSectionNamingNoVector() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try Self.write([SegmentVectorIndex(kind: .hnswGraph, vectorName: "image", bytes: [1, 2, 3])], fs: fs)
        var bytes = try fs.open(Self.path, mode: .readOnly).readAll()
        // Rename "image" to "imagf" in the section table (the last entry), checksums fixed up.
        let name = Array("image".utf8)
        let at = try #require(
            (0...(bytes.count - 40 - name.count)).last { Array(bytes[$0..<($0 + name.count)]) == name })
        bytes[at + 4] = UInt8(ascii: "f")
        recomputeSegmentChecksums(&bytes)
        try fs.removeFile(Self.path)
        let file = try fs.open(Self.path, mode: .createNew)
        try file.write(at: 0, bytes)
        try file.sync()
        let error = segmentError { _ = try SegmentReader.open(path: Self.path, fileSystem: fs) }
        #expect(error?.code == .corruption)
        #expect(error?.message.contains("hnsw[imagf]") == true, "\(String(describing: error))")
    }
}
