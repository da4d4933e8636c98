import Foundation
import StrataModel
import StrataPayload
import Testing

/// The reference semantics of every condition, with expected answers written
/// by hand (the engine's index paths are checked against this reference).
@Suite struct FilterSemanticsTests {
    static func parse(_ json: String) throws -> Filter {
        try JSONDecoder().decode(Filter.self, from: Data(json.utf8))
    }

    static func matches(_ json: String, _ payload: Payload, id: PointID = 1, vectors: Set<String> = [""]) throws -> Bool
    {
        try parse(json).matches(FilterSubject(id: id, payload: payload, hasVector: { vectors.contains($0) }))
    }

    let shop: Payload = [
        "city": "London", "tags": ["red", "big"], "price": 12.5, "count": 3, "sold": false,
        "created": "2024-03-01T10:00:00Z", "location": ["lon": 13.40, "lat": 52.52],
        "nested": ["inner": ["x": 1]], "note": .null, "empty": [],
        "reviews": [["stars": 5, "who": "ann"], ["stars": 2, "who": "bob"]],
        "text": "The quick brown Fox jumps",
    ]

    @Test func matchValueAnyExcept() throws {
        #expect(try Self.matches(#"{"must":[{"key":"city","match":{"value":"London"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"city","match":{"value":"Paris"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"tags","match":{"value":"big"}}]}"#, shop), "array element")
        #expect(try Self.matches(#"{"must":[{"key":"count","match":{"value":3}}]}"#, shop))
        #expect(
            try !Self.matches(#"{"must":[{"key":"price","match":{"value":12}}]}"#, shop),
            "integer match never equals a float")
        #expect(try Self.matches(#"{"must":[{"key":"sold","match":{"value":false}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"city","match":{"any":["Paris","London"]}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"city","match":{"any":["Paris"]}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"city","match":{"except":["London"]}}]}"#, shop))
        #expect(
            try Self.matches(#"{"must":[{"key":"tags","match":{"except":["red"]}}]}"#, shop), "one element not excluded"
        )
        #expect(
            try !Self.matches(#"{"must":[{"key":"missing","match":{"except":["x"]}}]}"#, shop),
            "no value: except does not hold (Qdrant)")
        #expect(try !Self.matches(#"{"must":[{"key":"note","match":{"except":["x"]}}]}"#, shop), "null is no value")
        #expect(try !Self.matches(#"{"must":[{"key":"empty","match":{"except":["x"]}}]}"#, shop))
    }

    /// Qdrant 1.20's newer match kinds, and the slice condition against ids
    /// hashed by qdrant-client's local mode (SipHash-2-4, zero key).
    @Test func prefixSubstringTextAnyAndSlices() throws {
        #expect(try Self.matches(#"{"must":[{"key":"city","match":{"prefix":"Lon"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"city","match":{"prefix":"lon"}}]}"#, shop), "case-sensitive")
        #expect(try Self.matches(#"{"must":[{"key":"tags","match":{"prefix":"bi"}}]}"#, shop), "array element")
        #expect(try !Self.matches(#"{"must":[{"key":"count","match":{"prefix":""}}]}"#, shop), "strings only")
        #expect(try Self.matches(#"{"must":[{"key":"city","match":{"substring":"ndo"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"city","match":{"substring":"NDO"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"text","match":{"text_any":"cat FOX"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"text","match":{"text_any":"cat dog"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"text","match":{"text_any":""}}]}"#, shop))
        // Hashes computed with qdrant_client.local.siphash.siphash24.
        #expect(PointSlice.hash(.number(0)) == 0xe849_e8bb_6ffe_2567)
        #expect(PointSlice.hash(.number(1)) == 0x8004_c5a6_9410_5f5e)
        #expect(PointSlice.hash(.number(42)) == 0x0fc2_553f_0761_9dd3)
        #expect(PointSlice.hash(.number(9_223_372_036_854_775_813)) == 0x89f5_f39b_fbc9_2e1c)
        let uuid = UUID(uuidString: "12345678-1234-5678-1234-567812345678")!
        #expect(PointSlice.hash(.uuid(uuid)) == 0x1ffc_0765_84f7_cd05)
        for id in 0..<50 {
            let hits = (0..<4).filter { index in
                (try? Self.matches(
                    #"{"must":[{"slice":{"index":\#(index),"total":4}}]}"#, shop, id: .number(UInt64(id))))
                    == true
            }
            #expect(hits.count == 1, "id \(id) is in exactly one of 4 slices")
        }
        #expect(throws: (any Error).self) { try Self.parse(#"{"must":[{"slice":{"index":4,"total":4}}]}"#) }
        #expect(throws: (any Error).self) { try Self.parse(#"{"must":[{"slice":{"index":0,"total":0}}]}"#) }
    }

    /// Qdrant's counting and emptiness rules on arrays and nulls (qdrant-client
    /// local mode is the reference).
    @Test func arraysNullsAndNestedElements() throws {
        let payload: Payload = [
            "nulls": [.null], "mixed": [1, .null], "grid": [[1, 2], [3]], "obj": ["a": 1, "b": 2],
            "single": ["x": 1], "rows": [["x": 1, "y": 1], ["x": 2, "y": 2]],
        ]
        #expect(try !Self.matches(#"{"must":[{"is_empty":{"key":"nulls"}}]}"#, payload), "[null] is not empty")
        #expect(try Self.matches(#"{"must":[{"is_null":{"key":"nulls"}}]}"#, payload))
        #expect(try Self.matches(#"{"must":[{"is_null":{"key":"mixed"}}]}"#, payload), "an array holding null")
        #expect(try Self.matches(#"{"must":[{"key":"mixed","values_count":{"gte":2}}]}"#, payload), "null counts")
        #expect(try Self.matches(#"{"must":[{"key":"obj","values_count":{"lte":1,"gte":1}}]}"#, payload))
        #expect(try Self.matches(#"{"must":[{"key":"missing","values_count":{"lt":1}}]}"#, payload))
        #expect(try Self.matches(#"{"must":[{"key":"grid","values_count":{"gte":2,"lte":2}}]}"#, payload))
        #expect(try Self.matches(#"{"must":[{"key":"rows[].x","values_count":{"lt":2}}]}"#, payload))
        #expect(try Self.matches(#"{"must":[{"key":"obj","is_empty":false}]}"#, payload))
        #expect(try Self.matches(#"{"must":[{"key":"missing","is_empty":true}]}"#, payload))
        #expect(try !Self.matches(#"{"must":[{"key":"nulls","is_null":false}]}"#, payload))
        let nestedX2 = #"{"must":[{"nested":{"key":"KEY","filter":{"must":[{"key":"x","match":{"value":2}}]}}}]}"#
        #expect(try Self.matches(nestedX2.replacingOccurrences(of: "KEY", with: "rows"), payload))
        #expect(try Self.matches(nestedX2.replacingOccurrences(of: "KEY", with: "rows[]"), payload))
        #expect(
            try !Self.matches(
                #"{"must":[{"nested":{"key":"single","filter":{"must":[{"key":"x","match":{"value":1}}]}}}]}"#, payload),
            "an object is not an array of objects")
        #expect(
            try !Self.matches(#"{"must":[{"nested":{"key":"rows","filter":{"must":[{"has_id":[1]}]}}}]}"#, payload),
            "an element has no id")
    }

    @Test func nestedKeysAndArrays() throws {
        #expect(try Self.matches(#"{"must":[{"key":"nested.inner.x","match":{"value":1}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"reviews[].who","match":{"value":"bob"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"reviews[1].stars","match":{"value":2}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"reviews[0].stars","match":{"value":2}}]}"#, shop))
        // nested: both conditions must hold for the same element.
        #expect(
            try !Self.matches(
                #"{"must":[{"nested":{"key":"reviews","filter":{"must":[{"key":"who","match":{"value":"bob"}},{"key":"stars","range":{"gte":4}}]}}}]}"#,
                shop))
        #expect(
            try Self.matches(
                #"{"must":[{"nested":{"key":"reviews","filter":{"must":[{"key":"who","match":{"value":"ann"}},{"key":"stars","range":{"gte":4}}]}}}]}"#,
                shop))
        // Without nested, the two conditions may hold for different elements.
        #expect(
            try Self.matches(
                #"{"must":[{"key":"reviews[].who","match":{"value":"bob"}},{"key":"reviews[].stars","range":{"gte":4}}]}"#,
                shop))
    }

    @Test func rangesNumbersAndDatetimes() throws {
        #expect(try Self.matches(#"{"must":[{"key":"price","range":{"gt":12,"lte":12.5}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"price","range":{"lt":12.5}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"count","range":{"gte":3,"lt":4}}]}"#, shop), "integers are numbers")
        #expect(try !Self.matches(#"{"must":[{"key":"city","range":{"gte":0}}]}"#, shop), "strings are not numbers")
        #expect(
            try Self.matches(
                #"{"must":[{"key":"created","range":{"gte":"2024-03-01T09:00:00Z","lt":"2024-03-01T12:00:00+01:00"}}]}"#,
                shop))
        #expect(
            try !Self.matches(#"{"must":[{"key":"created","range":{"gt":"2024-03-01T11:00:00+01:00"}}]}"#, shop),
            "same instant, not greater")
        #expect(
            try Self.matches(#"{"must":[{"key":"created","range":{"gte":"2024-03-01"}}]}"#, shop), "date-only bound")
    }

    @Test func geoConditions() throws {
        // Berlin: inside a box around it, within 10 km of Alexanderplatz, inside a polygon, outside its hole.
        #expect(
            try Self.matches(
                #"{"must":[{"key":"location","geo_bounding_box":{"top_left":{"lon":13.0,"lat":53.0},"bottom_right":{"lon":14.0,"lat":52.0}}}]}"#,
                shop))
        #expect(
            try !Self.matches(
                #"{"must":[{"key":"location","geo_bounding_box":{"top_left":{"lon":0,"lat":53.0},"bottom_right":{"lon":1,"lat":52.0}}}]}"#,
                shop))
        #expect(
            try Self.matches(
                #"{"must":[{"key":"location","geo_radius":{"center":{"lon":13.41,"lat":52.52},"radius":2000}}]}"#, shop)
        )
        #expect(
            try !Self.matches(
                #"{"must":[{"key":"location","geo_radius":{"center":{"lon":13.41,"lat":52.52},"radius":500}}]}"#, shop),
            "~680 m away")
        let ring =
            #"{"points":[{"lon":13,"lat":52},{"lon":14,"lat":52},{"lon":14,"lat":53},{"lon":13,"lat":53},{"lon":13,"lat":52}]}"#
        let hole =
            #"{"points":[{"lon":13.3,"lat":52.4},{"lon":13.5,"lat":52.4},{"lon":13.5,"lat":52.6},{"lon":13.3,"lat":52.6},{"lon":13.3,"lat":52.4}]}"#
        #expect(try Self.matches(#"{"must":[{"key":"location","geo_polygon":{"exterior":\#(ring)}}]}"#, shop))
        #expect(
            try !Self.matches(
                #"{"must":[{"key":"location","geo_polygon":{"exterior":\#(ring),"interiors":[\#(hole)]}}]}"#, shop))
    }

    @Test func countsEmptinessNullsIdsVectors() throws {
        #expect(try Self.matches(#"{"must":[{"key":"tags","values_count":{"gte":2,"lt":3}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"tags","values_count":{"gt":2}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"is_empty":{"key":"empty"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"is_empty":{"key":"missing"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"is_empty":{"key":"note"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"is_empty":{"key":"city"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"is_null":{"key":"note"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"is_null":{"key":"missing"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"is_null":{"key":"empty"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"has_id":[1, "6f0c2d5e-8a0b-4c1d-9e2f-3a4b5c6d7e8f"]}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"has_id":[2]}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"has_vector":""}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"has_vector":"image"}]}"#, shop))
    }

    @Test func fullText() throws {
        #expect(
            try Self.matches(#"{"must":[{"key":"text","match":{"text":"fox QUICK"}}]}"#, shop),
            "all tokens, any order, lowercase")
        #expect(try !Self.matches(#"{"must":[{"key":"text","match":{"text":"fox cat"}}]}"#, shop))
        #expect(try Self.matches(#"{"must":[{"key":"text","match":{"phrase":"brown fox"}}]}"#, shop))
        #expect(try !Self.matches(#"{"must":[{"key":"text","match":{"phrase":"fox brown"}}]}"#, shop))
        #expect(TextTokenizer(minLength: 4).tokens("a quick fox, jumped!") == ["quick", "jumped"])
        #expect(TextTokenizer(kind: .whitespace, lowercase: false).tokens("Hello, World") == ["Hello,", "World"])
    }

    @Test func clauses() throws {
        let red = #"{"key":"tags","match":{"value":"red"}}"#
        let paris = #"{"key":"city","match":{"value":"Paris"}}"#
        let cheap = #"{"key":"price","range":{"lt":10}}"#
        #expect(try Self.matches(#"{"should":[\#(paris),\#(red)]}"#, shop))
        #expect(try !Self.matches(#"{"should":[\#(paris),\#(cheap)]}"#, shop))
        #expect(try !Self.matches(#"{"must_not":[\#(red)]}"#, shop))
        #expect(try Self.matches(#"{"must_not":[\#(paris)]}"#, shop))
        #expect(try Self.matches(#"{"min_should":{"conditions":[\#(paris),\#(red),\#(cheap)],"min_count":1}}"#, shop))
        #expect(try !Self.matches(#"{"min_should":{"conditions":[\#(paris),\#(red),\#(cheap)],"min_count":2}}"#, shop))
        #expect(
            try Self.matches(#"{"must":[{"should":[\#(paris),\#(red)]}],"must_not":[{"must":[\#(cheap)]}]}"#, shop),
            "sub-filters")
        #expect(try Self.matches(#"{"must":\#(red)}"#, shop), "a single condition instead of a list")
        #expect(try Self.matches("{}", shop))
    }

    @Test func badFiltersAreRefusedWithTheirPath() {
        func message(_ json: String) -> String {
            do {
                _ = try Self.parse(json)
                return "parsed"
            } catch {
                return "\(error)"
            }
        }
        #expect(message(#"{"must":[{"key":"a","match":{"value":1.5}}]}"#).contains("filter.must[0].match.value"))
        #expect(message(#"{"must":[{"key":"a","range":{"gt":"yesterday"}}]}"#).contains("not an RFC 3339 datetime"))
        #expect(message(#"{"must":[{"key":"a","match":{"value":1},"range":{"gt":1}}]}"#).contains("exactly one of"))
        #expect(message(#"{"must":[{"key":"a[x]","match":{"value":1}}]}"#).contains("invalid payload key"))
        #expect(message(#"{"mus":[]}"#).contains("unknown member \"mus\""))
        #expect(
            message(#"{"must":[{"key":"g","geo_radius":{"center":{"lon":200,"lat":0},"radius":1}}]}"#).contains("lon"))
        #expect(message(#"{"must":[{"has_id":[-1]}]}"#).contains("has_id[0]"))
        #expect(
            message(
                #"{"must":[{"key":"g","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":0,"lat":0}]}}}]}"#
            ).contains("closed ring"))
    }

    @Test func filtersRoundTripThroughJSON() throws {
        let json =
            #"{"must":[{"key":"a.b[].c","match":{"any":["x","y"]}},{"key":"d","range":{"gte":"2024-01-01T00:00:00.000001Z"}},{"has_id":[3]}],"should":[{"is_empty":{"key":"e"}},{"nested":{"key":"r","filter":{"must":[{"key":"s","values_count":{"gt":1}}]}}}],"must_not":[{"key":"g","geo_radius":{"center":{"lon":1,"lat":2},"radius":3}}],"min_should":{"conditions":[{"has_vector":"v"}],"min_count":1}}"#
        let filter = try Self.parse(json)
        let again = try JSONDecoder().decode(Filter.self, from: try JSONEncoder().encode(filter))
        #expect(again == filter)
    }

    @Test func datetimesParseAndPrint() {
        #expect(Datetime.microseconds("1970-01-01T00:00:00Z") == 0)
        #expect(Datetime.microseconds("1970-01-01T01:00:00+01:00") == 0)
        #expect(Datetime.microseconds("2000-02-29 12:30:00.5") == 951_827_400_500_000)
        #expect(Datetime.microseconds("2001-02-29") == nil)
        #expect(Datetime.microseconds("2024-13-01") == nil)
        #expect(Datetime.microseconds("2024-01-01T10:00:00Q") == nil)
        // The other forms Qdrant's parser takes (qdrant-client writes `%z` as +HHMM).
        #expect(Datetime.microseconds("1970-01-01T01:00:00+0100") == 0)
        #expect(Datetime.microseconds("1970-01-01 01:00:00 +0100") == 0)
        #expect(Datetime.microseconds("1970-01-01T01:00:00.000+01") == 0)
        #expect(Datetime.microseconds("1969-12-31 23:00:00.000000-01:00") == 0)
        #expect(Datetime.microseconds("  1970-01-01T00:00:00 UTC") == 0)
        #expect(Datetime.microseconds("1970-01-01T00:00:00.1234567z") == 123_456)
        #expect(Datetime.microseconds("1970-01-01T00:00:00+01:0") == nil)
        #expect(Datetime.microseconds("1970-01-01T00:00:00 ") == nil)
        for micros: Int64 in [0, 951_827_400_500_000, -1, 4_102_444_800_000_001] {
            #expect(Datetime.microseconds(Datetime.rfc3339(microseconds: micros)) == micros)
        }
    }

    @Test func payloadPathsEditPayloads() throws {
        var payload: Payload = ["a": ["b": 1], "list": [["x": 1], ["x": 2]], "n": 5]
        try PayloadPath("a.c").merge(["z": true], into: &payload)
        #expect(payload["a"] == ["b": 1, "c": ["z": true]])
        try PayloadPath("list[]").merge(["y": 0], into: &payload)
        #expect(payload["list"] == [["x": 1, "y": 0], ["x": 2, "y": 0]])
        try PayloadPath("n.deep").merge(["k": 1], into: &payload)
        #expect(payload["n"] == ["deep": ["k": 1]], "a non-object on the path is replaced")
        try PayloadPath("list[].x").remove(from: &payload)
        #expect(payload["list"] == [["y": 0], ["y": 0]])
        try PayloadPath("a.b").remove(from: &payload)
        #expect(payload["a"] == ["c": ["z": true]])
        try PayloadPath("\"a.c\"").remove(from: &payload)
        #expect(payload["a"] != nil, "a quoted key with a dot is one key")
        #expect(try PayloadPath("x.\"y.z\"[].w[3]").description == "x.\"y.z\"[].w[3]")
    }
}
