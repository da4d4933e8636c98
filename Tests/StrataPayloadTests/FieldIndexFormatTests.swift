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

    /// A uuid index holds every form of UUID Qdrant parses, is written as
    /// version 2, and facets count a UUID once in its canonical form.
    @Test func aUUIDIndexIsVersion2() throws {
        let u = "0b7e7c5a-1a1e-4c59-9b7b-6c1f8a3a9d01"
        let payloads: [Payload?] = [
            ["u": "0b7e7c5a1a1e4c599b7b6c1f8a3a9d01"],  // simple form
            ["u": .array([.string(u), .string("{0B7E7C5A-1A1E-4C59-9B7B-6C1F8A3A9D01}")])],  // two spellings, one point
            ["u": "urn:uuid:00000000-0000-0000-0000-000000000001"],
            ["u": .array([.string("0b7e7c5a-1a1e4c59-9b7b-6c1f8a3a9d01"), .string("not a uuid"), .int(3)])],
        ]
        let path = try PayloadPath("u")
        let index = FieldIndex.build(key: path, schema: PayloadFieldSchema(.uuid), pointCount: 4) { payloads[$0] }
        #expect(
            index.facetCounts(allowed: PointBitset(count: 4, allSet: true)) == [
                .string(u): 2, .string("00000000-0000-0000-0000-000000000001"): 1,
            ])
        #expect(index.facetCounts(allowed: PointBitset(count: 4, offsets: [1])) == [.string(u): 1])
        // Not a UUID in any form: not in the dictionary, so the index leaves it to the payloads.
        #expect(index.evaluate(.match(.value(.keyword("0b7e7c5a-1a1e4c59-9b7b-6c1f8a3a9d01")))) == nil)
        // `match` stays exact, as reading the payloads is.
        let simple = index.evaluate(.match(.value(.keyword("0b7e7c5a1a1e4c599b7b6c1f8a3a9d01"))))
        #expect(simple?.bits == PointBitset(count: 4, offsets: [0]))
        #expect(simple?.exact == true)
        #expect(index.evaluate(.match(.value(.keyword(u))))?.bits == PointBitset(count: 4, offsets: [1]))

        var golden: [UInt8] = Array("STRATPIX".utf8)
        golden += [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]  // version 2, flags, point_count 1
        golden += [1, 0x75]  // key "u"
        golden += [7, 1, 4] + Array("type".utf8) + [5, 4] + Array("uuid".utf8)  // schema {"type": "uuid"}
        golden += [1, 0, 0, 0]  // value count 1
        golden += [1, 2, 32] + Array("0b7e7c5a1a1e4c599b7b6c1f8a3a9d01".utf8) + [1, 0, 0, 0, 0]  // the key: [0]
        golden += [0, 0]  // no sorted values, no geo points
        let one = FieldIndex.build(key: path, schema: PayloadFieldSchema(.uuid), pointCount: 1) { payloads[$0] }
        #expect(one.encoded() == golden)
        let decoded = try golden.withUnsafeBytes { try FieldIndex.decode($0, key: path, pointCount: 1) }
        #expect(!decoded.predatesUUIDForms)

        // The same bytes as version 1 (which could only hold 8-4-4-4-12 UUIDs)
        // decode, marked for a rebuild from the payloads.
        var version1 = golden
        version1[8] = 1
        let old = try version1.withUnsafeBytes { try FieldIndex.decode($0, key: path, pointCount: 1) }
        #expect(old.predatesUUIDForms)
        // Other types are still written as version 1.
        let keyword = FieldIndex.build(key: path, schema: PayloadFieldSchema(.keyword), pointCount: 1) { payloads[$0] }
        #expect(keyword.encoded()[8] == 1)
        #expect(throws: (any Error).self) {
            var version3 = golden
            version3[8] = 3
            return try version3.withUnsafeBytes { try FieldIndex.decode($0, key: path, pointCount: 1) }
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
