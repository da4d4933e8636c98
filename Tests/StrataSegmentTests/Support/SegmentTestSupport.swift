import Foundation
import StrataCompression
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

// Helpers shared by the segment tests: seeded randomness, temporary directories,
// random segments, and a checker that compares a reader with what was written.

/// Lower-case hex, 16 bytes per line with the offset, for readable diffs.
func hexString(_ bytes: [UInt8]) -> String {
    stride(from: 0, to: bytes.count, by: 16).map { start in
        let line = bytes[start..<min(start + 16, bytes.count)].map { String(format: "%02x", $0) }.joined(separator: " ")
        return String(format: "%04x: ", start) + line
    }.joined(separator: "\n")
}

/// The `SegmentError` that `body` throws, or nil.
func segmentError(_ body: () throws -> Void) -> SegmentError? {
    do {
        try body()
        return nil
    } catch let error as SegmentError {
        return error
    } catch {
        Issue.record("expected a SegmentError, got \(error)")
        return nil
    }
}

// MARK: - Random segments

extension SeededGenerator {
    mutating func float() -> Float { Float(Int32.random(in: -1_000_000...1_000_000, using: &self)) / 1000 }

    mutating func string(maxLength: Int = 12) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzé😀_ ")
        return String(
            (0..<Int.random(in: 0...maxLength, using: &self)).map { _ in alphabet.randomElement(using: &self)! })
    }

    mutating func json(depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 8 : 6), using: &self) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &self))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &self))
        case 3: return .double(Double.random(in: -1e9...1e9, using: &self))
        case 4, 5: return .string(string())
        case 6: return .array((0..<Int.random(in: 0...4, using: &self)).map { _ in json(depth: depth - 1) })
        default: return .object(payload(depth: depth - 1))
        }
    }

    mutating func payload(depth: Int = 3) -> Payload {
        var payload: Payload = [:]
        for _ in 0..<Int.random(in: 0...4, using: &self) { payload[string(maxLength: 6)] = json(depth: depth) }
        return payload
    }

    mutating func uuid() -> UUID {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            for i in 0..<16 { raw[i] = UInt8.random(in: 0...255, using: &self) }
        }
        return UUID(uuid: bytes)
    }

    /// `count` distinct ids, sorted; about `uuidFraction` of them UUIDs.
    mutating func ids(_ count: Int, uuidFraction: Double) -> [PointID] {
        var set = Set<PointID>()
        while set.count < count {
            if Double.random(in: 0..<1, using: &self) < uuidFraction {
                set.insert(.uuid(uuid()))
            } else {
                // Small and huge numbers both.
                set.insert(.number(Bool.random(using: &self) ? UInt64.random(in: 0...1000, using: &self) : next()))
            }
        }
        return set.sorted()
    }

    /// Random points for `specs`: each vector present with probability
    /// `vectorProbability`, a payload with `payloadProbability`.
    mutating func points(
        _ count: Int, specs: [SegmentVectorSpec], uuidFraction: Double = 0.3,
        vectorProbability: Double = 0.8, payloadProbability: Double = 0.7
    ) -> [SegmentBuildPoint] {
        ids(count, uuidFraction: uuidFraction).map { id in
            var vectors: [String: [Float]] = [:]
            for spec in specs where Double.random(in: 0..<1, using: &self) < vectorProbability {
                vectors[spec.name] = (0..<spec.dimension).map { _ in float() }
            }
            let payload = Double.random(in: 0..<1, using: &self) < payloadProbability ? self.payload() : nil
            return SegmentBuildPoint(id: id, version: next() >> 1, vectors: vectors, payload: payload)
        }
    }
}

// MARK: - Checking a reader

/// Checks every accessor of `reader` against the points it was written from.
func expectSegment(
    _ reader: SegmentReader, holds points: [SegmentBuildPoint], specs: [SegmentVectorSpec],
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(reader.pointCount == points.count, sourceLocation: sourceLocation)
    #expect(reader.vectorSpecs == specs, sourceLocation: sourceLocation)
    guard reader.pointCount == points.count else { return }
    for (offset, point) in points.enumerated() {
        #expect(reader.id(at: offset) == point.id, "offset \(offset)", sourceLocation: sourceLocation)
        #expect(reader.offset(of: point.id) == offset, "id \(point.id)", sourceLocation: sourceLocation)
        #expect(reader.version(at: offset) == point.version, "offset \(offset)", sourceLocation: sourceLocation)
        for spec in specs {
            let expected = point.vectors[spec.name]
            #expect(reader.hasVector(spec.name, at: offset) == (expected != nil), sourceLocation: sourceLocation)
            #expect(
                reader.vector(spec.name, at: offset) == expected, "vector \(spec.name) of offset \(offset)",
                sourceLocation: sourceLocation)
        }
        #expect(
            try reader.payload(at: offset) == point.payload, "payload of offset \(offset)",
            sourceLocation: sourceLocation)
    }
    for spec in specs {
        let rows = reader.withVectorRows(spec.name) { rows -> [[Float]] in
            #expect(rows.dimension == spec.dimension && rows.datatype == spec.datatype, sourceLocation: sourceLocation)
            #expect(rows.count == points.count, sourceLocation: sourceLocation)
            #expect(
                Int(bitPattern: rows.base) % 64 == 0, "vector data is 64-byte aligned", sourceLocation: sourceLocation)
            return (0..<points.count).map { rows.row($0) }
        }
        // The float32 view exists only for float32 rows.
        #expect(
            (reader.withVectors(spec.name) { _, _ in 1 } != nil) == (spec.datatype == .float32),
            sourceLocation: sourceLocation)
        #expect(
            rows == points.map { $0.vectors[spec.name] ?? [Float](repeating: 0, count: spec.dimension) },
            "rows of \(spec.name)", sourceLocation: sourceLocation)
    }
    #expect(reader.withVectors("no such vector") { _, _ in 1 } == nil, sourceLocation: sourceLocation)
    #expect(!points.isEmpty || reader.payloadBlockCount == 0, sourceLocation: sourceLocation)
    #expect(
        reader.verifyAll().isEmpty, "verifyAll of a sound segment: \(reader.verifyAll())",
        sourceLocation: sourceLocation)
}

/// Writes `points` to a fresh POSIX file and opens it.
func writeAndOpen(
    _ points: [SegmentBuildPoint], specs: [SegmentVectorSpec], codec: CompressionCodec, in directory: String,
    name: String = "segment.seg"
) throws -> (SegmentReader, SegmentWriteStats) {
    let path = joinPath(directory, name)
    let fs = POSIXFileSystem()
    let stats = try SegmentWriter.write(points, vectors: specs, compression: codec, to: path, fileSystem: fs)
    return (try SegmentReader.open(path: path, fileSystem: fs), stats)
}

/// Points whose payloads fill several 64 KiB blocks.
func pointsFillingSeveralBlocks(
    _ generator: inout SeededGenerator, specs: [SegmentVectorSpec], count: Int = 40
) -> [SegmentBuildPoint] {
    var points = generator.points(count, specs: specs)
    for index in points.indices where index % 3 != 2 {
        // ~10 KiB of poorly compressible text per payload.
        let text = String(
            (0..<10_000).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &generator))) })
        points[index].payload = ["text": .string(text), "index": .int(Int64(index))]
    }
    return points
}
