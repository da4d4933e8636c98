@testable import Strata
import StrataBinary
import StrataIO
import Testing

@Suite struct ManifestTests {
    let sample = Manifest(
        checkpoint: 300, nextSegmentID: 8,
        segments: [.init(segmentID: 3, tombstoneGeneration: 0), .init(segmentID: 7, tombstoneGeneration: 2)])

    static let segmentsPart: [UInt8] =
        [0x2C, 0x01, 0, 0, 0, 0, 0, 0]  // checkpoint 300
        + [8, 0, 0, 0, 0, 0, 0, 0]  // next_segment_id
        + [2, 0, 0, 0]  // segment_count
        + [3, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0]
        + [7, 0, 0, 0, 0, 0, 0, 0] + [2, 0, 0, 0, 0, 0, 0, 0]

    /// Format version 2, byte for byte (docs/format/manifest.md): the segments,
    /// then the payload schema.
    @Test func encodingMatchesTheVersion2Golden() throws {
        var withSchema = sample
        withSchema.payloadSchema = [.init(key: "city", schema: ["type": "keyword"])]
        let golden: [UInt8] =
            Array("STRATMAN".utf8)
            + [2, 0, 0, 0] + [0, 0, 0, 0]  // version, flags
            + Self.segmentsPart
            + [1, 0, 0, 0]  // field_count
            + [4] + Array("city".utf8)  // key
        let encoded = withSchema.encoded()
        #expect(Array(encoded.prefix(golden.count)) == golden)
        #expect(try Manifest.decode(encoded, path: "MANIFEST") == withSchema)
        #expect(try Manifest.decode(sample.encoded(), path: "MANIFEST") == sample)
    }

    /// Version 1 files (no payload schema) written by earlier builds still open.
    @Test func version1FilesAreStillRead() throws {
        var bytes: [UInt8] = Array("STRATMAN".utf8) + [1, 0, 0, 0] + [0, 0, 0, 0] + Self.segmentsPart
        let crc = CRC32C.mask(CRC32C.checksum(bytes))
        bytes += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        #expect(try Manifest.decode(bytes, path: "MANIFEST") == sample)
    }

    /// Any single damaged byte is refused with an error naming the file.
    @Test func everyFlippedByteIsRefused() {
        let encoded = sample.encoded()
        for index in encoded.indices {
            var damaged = encoded
            damaged[index] ^= 0x10
            let error = #expect(throws: StrataError.self) { try Manifest.decode(damaged, path: "/x/MANIFEST") }
            #expect(error?.code == .corruption)
            #expect(error?.message.contains("/x/MANIFEST") == true)
        }
        for length in 0..<encoded.count {
            #expect(throws: StrataError.self) { try Manifest.decode(Array(encoded.prefix(length)), path: "MANIFEST") }
        }
    }

    @Test func duplicateOrOutOfRangeSegmentIDsAreRefused() {
        let duplicate = Manifest(
            checkpoint: 1, nextSegmentID: 5,
            segments: [
                .init(segmentID: 2, tombstoneGeneration: 0),
                .init(segmentID: 2, tombstoneGeneration: 0),
            ])
        #expect(throws: StrataError.self) { try Manifest.decode(duplicate.encoded(), path: "MANIFEST") }
        let outOfRange = Manifest(
            checkpoint: 1, nextSegmentID: 2, segments: [.init(segmentID: 2, tombstoneGeneration: 0)])
        #expect(throws: StrataError.self) { try Manifest.decode(outOfRange.encoded(), path: "MANIFEST") }
    }

    /// Found by ManifestFuzz (fuzz/corpus/manifest/regression-checkpoint-max): a
    /// MANIFEST that passes every check but has checkpoint UInt64.max made opening
    /// the collection trap computing `checkpoint + 1`; now the open fails with a
    /// corruption error, since no WAL can reach that operation.
    @Test func aCheckpointOfUInt64MaxFailsTheOpenInsteadOfTrapping() throws {
        let fs = FaultInjectingFileSystem()
        let db = try Database.open(at: "/db", fileSystem: fs)
        try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
        db.close()
        let bytes = Manifest(checkpoint: .max, nextSegmentID: 1, segments: []).encoded()
        #expect(try Manifest.decode(bytes, path: "MANIFEST").checkpoint == .max)
        let file = try fs.open("/db/collections/c/MANIFEST", mode: .create)
        try file.write(at: 0, bytes)
        try file.sync()
        let error = #expect(throws: StrataError.self) { try Database.open(at: "/db", fileSystem: fs) }
        #expect(error?.code == .corruption)
        #expect(error?.message.contains("checkpoint is 18446744073709551615") == true)
    }
}
