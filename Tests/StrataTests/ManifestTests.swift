@testable import Strata
import Testing

@Suite struct ManifestTests {
    let sample = Manifest(
        checkpoint: 300, nextSegmentID: 8,
        segments: [.init(segmentID: 3, tombstoneGeneration: 0), .init(segmentID: 7, tombstoneGeneration: 2)])

    /// Format version 1, byte for byte (docs/format/manifest.md).
    @Test func encodingMatchesTheVersion1Golden() throws {
        let golden: [UInt8] = Array("STRATMAN".utf8)
            + [1, 0, 0, 0] + [0, 0, 0, 0]                      // version, flags
            + [0x2C, 0x01, 0, 0, 0, 0, 0, 0]                   // checkpoint 300
            + [8, 0, 0, 0, 0, 0, 0, 0]                         // next_segment_id
            + [2, 0, 0, 0]                                     // segment_count
            + [3, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0]
            + [7, 0, 0, 0, 0, 0, 0, 0] + [2, 0, 0, 0, 0, 0, 0, 0]
        let encoded = sample.encoded()
        #expect(Array(encoded.dropLast(4)) == golden)
        #expect(encoded.count == golden.count + 4)
        #expect(try Manifest.decode(encoded, path: "MANIFEST") == sample)
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
        let duplicate = Manifest(checkpoint: 1, nextSegmentID: 5, segments: [.init(segmentID: 2, tombstoneGeneration: 0),
                                                                              .init(segmentID: 2, tombstoneGeneration: 0)])
        #expect(throws: StrataError.self) { try Manifest.decode(duplicate.encoded(), path: "MANIFEST") }
        let outOfRange = Manifest(checkpoint: 1, nextSegmentID: 2, segments: [.init(segmentID: 2, tombstoneGeneration: 0)])
        #expect(throws: StrataError.self) { try Manifest.decode(outOfRange.encoded(), path: "MANIFEST") }
    }
}
