import Foundation
import StrataCompression
import StrataFuzzChecks
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// Every file in `fuzz/corpus/segment/` (seeds made by the real writer, plus any
/// input the fuzzer ever crashed on) goes through what `SegmentReaderFuzz` does
/// with an input: open, every accessor, `verifyAll`, raw and with checksums
/// recomputed. Each must end in a result or a `SegmentError`, never a trap.
@Suite struct SegmentFuzzCorpusTests {
    static var corpusDirectory: String { FuzzCorpus.directory("segment") }

    static func corpusFiles() throws -> [String] { try FuzzCorpus.files("segment") }

    @Test func seedCorpusIsThere() throws {
        let files = try Self.corpusFiles()
        #expect(files.count >= 8, "the seed corpus is missing: \(Self.corpusDirectory)")
        // The seeds made by the writer open and verify clean.
        for path in files where path.hasSuffix(".seg") && path.contains("/seed-") {
            let reader = try SegmentReader.open(path: path, fileSystem: POSIXFileSystem())
            #expect(reader.verifyAll().isEmpty, "\(path)")
        }
    }

    /// In a child process, so that an input that traps fails this test instead of
    /// killing the test run.
    @Test func everyFuzzCorpusFileOpensOrFailsWithSegmentError() async {
        await #expect(processExitsWith: .success) {
            for path in try SegmentFuzzCorpusTests.corpusFiles() {
                let input = try readFile(path)
                var fixed = input
                recomputeSegmentChecksums(&fixed)
                try replayLikeTheFuzzTarget(input)
                try replayLikeTheFuzzTarget(fixed)
            }
        }
    }

    // MARK: - Seed generation

    /// Regenerates the seed corpus from the real writer. Off by default (it
    /// writes into the source tree); run with
    /// `STRATA_WRITE_SEGMENT_FUZZ_SEEDS=1 swift test --filter writeFuzzSeedCorpus`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STRATA_WRITE_SEGMENT_FUZZ_SEEDS"] == "1"))
    func writeFuzzSeedCorpus() throws {
        defer {
            try? writeMultiVectorSeed()
            try? writeCompactSeed()
        }
        let out = Self.corpusDirectory
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        var generator = SeededGenerator(seed: 20261125)
        func save(
            _ name: String, _ points: [SegmentBuildPoint], _ specs: [SegmentVectorSpec], _ codec: CompressionCodec
        ) throws {
            let path = "/s/" + name
            try SegmentWriter.write(points, vectors: specs, compression: codec, to: path, fileSystem: fs)
            let bytes = try fs.open(path, mode: .readOnly).readAll()
            #expect(bytes.count < 4096, "\(name) is \(bytes.count) bytes")
            try writeFile(joinPath(out, name), bytes)
        }
        let small = [SegmentVectorSpec(name: "", dimension: 2), SegmentVectorSpec(name: "img", dimension: 3)]
        try save("seed-empty-no-vectors.seg", [], [], .zstd)
        try save("seed-empty-two-vectors.seg", [], small, .lz4)
        try save(
            "seed-one-point.seg", [SegmentBuildPoint(id: 42, version: 7, vectors: ["": [1, -1]], payload: ["k": "v"])],
            small, .lz4)
        try save("seed-uuids-zstd.seg", generator.points(6, specs: small, uuidFraction: 1), small, .zstd)
        try save("seed-mixed-lz4.seg", generator.points(12, specs: small, uuidFraction: 0.4), small, .lz4)
        try save("seed-mixed-none.seg", generator.points(10, specs: small, uuidFraction: 0.4), small, .none)
        try save(
            "seed-no-payloads.seg", generator.points(30, specs: [small[0]], payloadProbability: 0), [small[0]], .zstd)
        try save("seed-no-vectors-present.seg", generator.points(8, specs: small, vectorProbability: 0), small, .none)
        // Three payload blocks: long, well-compressible strings.
        let big = (0..<3).map { i in
            SegmentBuildPoint(
                id: .number(UInt64(i)), version: 1, payload: ["s": .string(String(repeating: "ab", count: 20_000))])
        }
        try save("seed-three-blocks-zstd.seg", big, [], .zstd)
        try save("seed-three-blocks-lz4.seg", big, [], .lz4)
        try writeFile(
            joinPath(out, "seed-golden-v1.seg"),
            try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden.seg")))
        try writeFile(
            joinPath(out, "seed-golden-v1-zstd.seg"),
            try readFile(SegmentGoldenFixtureTests.fixture("segment-v1-golden-zstd.seg")))
    }
}

extension SegmentFuzzCorpusTests {
    /// `seed-compact-v2.seg` (format version 2): a float16 vector, a uint8
    /// multivector and a float32 vector; and the version 2 golden file.
    func writeCompactSeed() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let specs = [
            SegmentVectorSpec(name: "", dimension: 3, datatype: .float16),
            SegmentVectorSpec(name: "bytes", dimension: 2, datatype: .uint8),
            SegmentVectorSpec(name: "f", dimension: 1),
        ]
        let points = (0..<7).map { i in
            var point = SegmentBuildPoint(
                id: .number(UInt64(i * 3)), version: UInt64(i + 1), vectors: ["": [Float(i) / 4, -1, 0.5], "f": [2]],
                payload: i % 2 == 0 ? ["i": .int(Int64(i))] : nil)
            if i % 3 != 0 {
                point.multiVectors["bytes"] = (0..<(i % 3) * 2).map { Float($0 * 40 + i) }
                point.vectors["bytes"] = [Float(i), Float(2 * i)]
            }
            return point
        }
        try SegmentWriter.write(
            points, vectors: specs, compression: .lz4, multiVectors: ["bytes"], to: "/s/compact.seg", fileSystem: fs)
        try writeFile(
            joinPath(Self.corpusDirectory, "seed-compact-v2.seg"),
            try fs.open("/s/compact.seg", mode: .readOnly).readAll())
        try writeFile(
            joinPath(Self.corpusDirectory, "seed-golden-v2-float16.seg"),
            try readFile(CompactVectorSectionTests.fixture("segment-v2-float16-golden.seg")))
    }

    /// `seed-multivector.seg`: a multivector (points with 0–3 rows) beside a
    /// plain vector (kinds 13 and 14).
    func writeMultiVectorSeed() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let specs = [SegmentVectorSpec(name: "col", dimension: 2), SegmentVectorSpec(name: "", dimension: 3)]
        let points = (0..<9).map { i in
            var point = SegmentBuildPoint(
                id: .number(UInt64(i * 5)), version: UInt64(i + 1), vectors: ["": [Float(i), 0, 1]],
                payload: i % 2 == 0 ? ["i": .int(Int64(i))] : nil)
            if i % 4 != 0 {
                point.multiVectors["col"] = (0..<(i % 4)).flatMap { r in [Float(i) + Float(r) / 4, -Float(r)] }
                point.vectors["col"] = [1, 0]
            }
            return point
        }
        try SegmentWriter.write(
            points, vectors: specs, compression: .lz4, multiVectors: ["col"], to: "/s/m.seg", fileSystem: fs)
        try writeFile(
            joinPath(Self.corpusDirectory, "seed-multivector.seg"), try fs.open("/s/m.seg", mode: .readOnly).readAll())
    }
}

// MARK: - The fuzz target's handling of an input, for the corpus replay

/// Opens `bytes` as a segment and drives every accessor and `verifyAll`, checking
/// the fuzz target's invariants with `precondition` (so a violation fails the
/// child process).
private func replayLikeTheFuzzTarget(_ bytes: [UInt8]) throws {
    let path = "/segments/fuzz.seg"
    let fs = FaultInjectingFileSystem(durableDirectories: ["/segments"])
    try fs.writeAtomically(path, bytes)
    let reader: SegmentReader
    do {
        reader = try SegmentReader.open(path: path, fileSystem: fs)
    } catch let error as SegmentError {
        precondition(error.file == path && error.section != nil, "\(error)")
        return
    }
    var payloadFailed = false
    for offset in 0..<reader.pointCount {
        let id = reader.id(at: offset)
        if offset > 0 { precondition(reader.id(at: offset - 1) < id) }
        precondition(reader.offset(of: id) == offset)
        _ = reader.version(at: offset)
        for spec in reader.vectorSpecs {
            precondition((reader.vector(spec.name, at: offset) != nil) == reader.hasVector(spec.name, at: offset))
        }
        for name in reader.multiVectorNames {
            let rows = reader.withMultiVectorRows(name, at: offset) { rows, count in (rows.count, count) }!
            precondition(rows.0 == rows.1 * reader.vectorSpecs.first { $0.name == name }!.dimension)
            precondition((rows.1 > 0) == reader.hasVector(name, at: offset))
        }
        do {
            _ = try reader.payload(at: offset)
        } catch let error as SegmentError {
            precondition(error.file == path && error.section == "payload.blocks", "\(error)")
            payloadFailed = true
        }
    }
    let problems = reader.verifyAll()
    precondition(problems.allSatisfy { $0.file == path && $0.section != nil })
    precondition(!payloadFailed || !problems.isEmpty, "payload(at:) failed but verifyAll found nothing")
    guard problems.isEmpty else { return }
    // A segment that verifies clean, written again, reads back the same.
    let specs = reader.vectorSpecs
    let points = try (0..<reader.pointCount).map { offset in
        SegmentBuildPoint(
            id: reader.id(at: offset), version: reader.version(at: offset),
            vectors: Dictionary(
                uniqueKeysWithValues: specs.compactMap { spec in
                    reader.vector(spec.name, at: offset).map { (spec.name, $0) }
                }),
            payload: try reader.payload(at: offset),
            multiVectors: Dictionary(
                uniqueKeysWithValues: reader.multiVectorNames.compactMap { name in
                    reader.withMultiVectorRows(name, at: offset) { rows, count in count > 0 ? (name, Array(rows)) : nil
                    } ?? nil
                }))
    }
    try SegmentWriter.write(
        points, vectors: specs, compression: reader.payloadCodec, multiVectors: reader.multiVectorNames,
        to: "/segments/copy.seg", fileSystem: fs)
    let copy = try SegmentReader.open(path: "/segments/copy.seg", fileSystem: fs)
    for (offset, point) in points.enumerated() {
        precondition(copy.id(at: offset) == point.id && copy.version(at: offset) == point.version)
        for spec in specs {
            precondition(
                copy.vector(spec.name, at: offset)?.map(\.bitPattern) == point.vectors[spec.name]?.map(\.bitPattern))
        }
        for name in reader.multiVectorNames {
            precondition(
                copy.withMultiVectorRows(name, at: offset) { rows, _ in rows.map(\.bitPattern) }
                    == (point.multiVectors[name]?.map(\.bitPattern) ?? []))
        }
        let payload = try copy.payload(at: offset)
        precondition(payload == point.payload, "payload differs after rewrite at \(offset)")
    }
    precondition(copy.verifyAll().isEmpty)
}
