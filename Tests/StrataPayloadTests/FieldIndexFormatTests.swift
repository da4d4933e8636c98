import Foundation
import StrataModel
import StrataPayload
import Testing

/// The payload-index encoding: round trips for every field type, the
/// documented worked example, and malformed input refused (never a trap).
@Suite struct FieldIndexFormatTests {
    static let payloads: [Payload?] = [
        [
            "k": "b", "n": 3, "f": 1.5, "b": true, "d": "2024-01-02T03:04:05Z", "g": ["lon": 1, "lat": 2],
            "u": "0b7e7c5a-1a1e-4c59-9b7b-6c1f8a3a9d01", "t": "Hello big World",
        ],
        [
            "k": ["a", "b"], "n": [1, 2.5], "f": 7, "b": false, "d": "2023-12-31", "g": [["lon": -3, "lat": 4]],
            "t": "small world",
        ],
        nil,
        ["k": 5, "n": "x", "t": 3],
    ]

    static let schemas: [(String, PayloadFieldSchema)] = PayloadFieldSchema.FieldType.allCases.map { type in
        let key = [
            "keyword": "k", "integer": "n", "float": "f", "bool": "b", "datetime": "d", "uuid": "u", "geo": "g",
            "text": "t",
        ][type.rawValue]!
        return (key, PayloadFieldSchema(type))
    }

    @Test(arguments: PayloadFieldSchema.FieldType.allCases)
    func roundTripsAndAnswersTheSame(type: PayloadFieldSchema.FieldType) throws {
        let (key, schema) = Self.schemas.first { $0.1.type == type }!
        let path = try PayloadPath(key)
        let index = FieldIndex.build(key: path, schema: schema, pointCount: Self.payloads.count) { Self.payloads[$0] }
        let bytes = index.encoded()
        let decoded = try bytes.withUnsafeBytes {
            try FieldIndex.decode($0, key: path, pointCount: Self.payloads.count)
        }
        #expect(decoded.encoded() == bytes)
        #expect(decoded.schema == schema)
        #expect(decoded.emptyPoints() == index.emptyPoints())
        #expect(decoded.indexedPointCount == index.indexedPointCount)
        #expect(index.indexedPointCount >= 1)
        // Every truncation and the wrong key or size are refused with an error.
        for length in 0..<bytes.count {
            #expect(throws: (any Error).self) {
                try Array(bytes.prefix(length)).withUnsafeBytes {
                    try FieldIndex.decode($0, key: path, pointCount: Self.payloads.count)
                }
            }
        }
        #expect(throws: (any Error).self) {
            try bytes.withUnsafeBytes { try FieldIndex.decode($0, key: try PayloadPath("other"), pointCount: 4) }
        }
        #expect(throws: (any Error).self) {
            try bytes.withUnsafeBytes { try FieldIndex.decode($0, key: path, pointCount: 5) }
        }
        // Flipped bytes either decode (the section checksum catches them) or throw; never trap.
        for offset in bytes.indices {
            var damaged = bytes
            damaged[offset] ^= 0x81
            _ = try? damaged.withUnsafeBytes { try FieldIndex.decode($0, key: path, pointCount: Self.payloads.count) }
        }
    }

    @Test func theWorkedExampleOfTheSpec() throws {
        let payloads: [Payload?] = [["c": "b"], ["c": ["a", "b"]], [:]]
        let index = FieldIndex.build(key: try PayloadPath("c"), schema: PayloadFieldSchema(.keyword), pointCount: 3) {
            payloads[$0]
        }
        var golden: [UInt8] = Array("STRATPIX".utf8)
        golden += [1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]  // version, flags, point_count
        golden += [1, 0x63]  // key "c"
        golden += [7, 1, 4] + Array("type".utf8) + [5, 7] + Array("keyword".utf8)  // schema {"type": "keyword"}
        golden += [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]  // value counts 1, 2, 0
        golden += [2, 2, 1, 0x61, 1, 1, 0, 0, 0, 2, 1, 0x62, 2, 0, 0, 0, 0, 1, 0, 0, 0]  // "a": [1], "b": [0, 1]
        golden += [0, 0]  // no sorted values, no geo points
        #expect(index.encoded() == golden)
        let match = index.evaluate(.match(.value(.keyword("b"))))
        #expect(match?.bits.offsets == [0, 1] && match?.exact == true)
    }
}
