import Foundation
@testable import Strata
import StrataTestSupport
import Testing

/// Formula queries (score boosting): each operator against a value computed
/// by hand, defaults, division by zero, the non-finite error and its path,
/// and prefetch scores against brute-force dot products.
@Suite struct FormulaQueryTests {
    static let points: [PointStruct] = [
        PointStruct(
            id: 1, vector: [1, 0],
            payload: [
                "x": .double(2.5), "n": .int(4), "arr": .array([.int(3)]), "many": .array([.int(1), .int(2)]),
                "loc": .object(["lon": .double(13.4), "lat": .double(52.52)]),
                "when": .string("2024-01-01T00:00:00Z"), "tag": .string("red"), "word": .string("text"),
            ]),
        PointStruct(id: 2, vector: [0, 1], payload: ["x": .double(-1), "tag": .string("blue")]),
        PointStruct(id: 3, vector: [0.6, 0.8], payload: [:]),
        PointStruct(id: 4, vector: [-1, 0.5], payload: ["x": .int(0)]),
    ]

    static func withCollection(_ body: (Collection) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("f", config: CollectionConfig(size: 2, distance: .dot))
            try await collection.upsert(points)
            try await body(collection)
            db.close()
        }
    }

    /// A prefetch of the given points (no query: score 1 each).
    static func only(_ ids: [UInt64]) -> QueryStage {
        QueryStage(filter: Filter(must: [.hasID(Set(ids.map { PointID.number($0) }))]), limit: 10)
    }

    /// The formula's value for point `id` (the only candidate).
    static func value(
        _ collection: Collection, _ expression: FormulaExpression, defaults: [FormulaVariable: JSONValue] = [:],
        id: UInt64 = 1
    ) throws -> Float {
        let hits = try collection.query(
            QueryRequest(prefetch: [only([id])], query: .formula(Formula(expression, defaults: defaults))))
        try #require(hits.count == 1)
        return hits[0].score
    }

    static func payload(_ key: String) -> FormulaExpression { try! .variable(named: key) }

    @Test func operatorsMatchHandComputedValues() async throws {
        try await Self.withCollection { c in
            func check(_ expression: FormulaExpression, _ expected: Double, id: UInt64 = 1) throws {
                let got = try Self.value(c, expression, id: id)
                #expect(abs(Double(got) - expected) <= 1e-6 * max(1, abs(expected)), "\(expression)")
            }
            let x = Self.payload("x")  // 2.5 at point 1
            try check(.constant(1.5), 1.5)
            try check(x, 2.5)
            try check(Self.payload("n"), 4)
            try check(Self.payload("arr"), 3)  // an array of one value is that value
            try check(.sum([x, .constant(1), Self.payload("n")]), 7.5)
            try check(.mult([x, .constant(2), Self.payload("n")]), 20)
            try check(.neg(x), -2.5)
            try check(.abs(.neg(x)), 2.5)
            try check(.div(left: x, right: .constant(4), byZeroDefault: nil), 0.625)
            try check(.sqrt(Self.payload("n")), 2)
            try check(.pow(base: x, exponent: .constant(3)), 15.625)
            try check(.exp(.constant(1)), exp(1.0))
            try check(.log10(.constant(1000)), 3)
            try check(.ln(.exp(x)), 2.5)
            try check(.max([.constant(1), x, .neg(x)]), 2.5)
            try check(.min([.constant(1), x, .neg(x)]), -2.5)
            try check(.acosh(Self.payload("n")), log(4 + 15.0.squareRoot()))
            // Berlin (13.4, 52.52) to Paris (2.35, 48.86), haversine on a sphere of radius 6,371,008.8 m.
            let paris = GeoPoint(lon: 2.35, lat: 48.86)
            let (l1, l2) = (52.52 * Double.pi / 180, 48.86 * Double.pi / 180)
            let (dl, dg) = (l2 - l1, (2.35 - 13.4) * Double.pi / 180)
            let h = sin(dl / 2) * sin(dl / 2) + cos(l1) * cos(l2) * sin(dg / 2) * sin(dg / 2)
            try check(.geoDistance(origin: paris, to: try PayloadPath("loc")), 2 * 6_371_008.8 * asin(h.squareRoot()))
            try check(.datetime("2024-01-01T00:00:10Z"), 1_704_067_210)
            try check(.datetimeKey(try PayloadPath("when")), 1_704_067_200)
            try check(.sum([.datetime("2024-01-01T00:00:10Z"), .neg(.datetimeKey(try PayloadPath("when")))]), 10)
            // Decays of x = 2.5 from target 1.5 (|x − target| = 1), scale 2, midpoint 0.25.
            let target = FormulaExpression.constant(1.5)
            try check(.decay(.linear, x: x, target: target, midpoint: 0.25, scale: 2), 1 - 0.75 / 2)
            try check(.decay(.exponential, x: x, target: target, midpoint: 0.25, scale: 2), exp(log(0.25) / 2))
            try check(.decay(.gaussian, x: x, target: target, midpoint: 0.25, scale: 2), exp(log(0.25) / 4))
            // Defaults: target 0, midpoint 0.5, scale 1; the linear decay stops at 0.
            try check(.decay(.linear, x: x, target: nil, midpoint: nil, scale: nil), 0)
            try check(.decay(.gaussian, x: .constant(1), target: nil, midpoint: nil, scale: nil), 0.5)
            // Conditions are 1 or 0.
            let red = Condition.field(FieldCondition(key: try PayloadPath("tag"), .match(.value(.keyword("red")))))
            try check(.condition(red), 1)
            try check(.condition(red), 0, id: 2)
            try check(.sum([.condition(.hasID([2])), .constant(0.5)]), 1.5, id: 2)
        }
    }

    @Test func defaultsAndMissingVariables() async throws {
        try await Self.withCollection { c in
            let missing = Self.payload("missing")
            let withDefault = try Self.value(c, missing, defaults: [.payload(try PayloadPath("missing")): .double(7)])
            #expect(withDefault == 7)
            // A value in the payload wins over the default.
            let payloadWins = try Self.value(c, Self.payload("x"), defaults: [.payload(try PayloadPath("x")): .int(9)])
            #expect(payloadWins == 2.5)
            let error = #expect(throws: StrataError.self) { try Self.value(c, .sum([.constant(1), missing])) }
            #expect(error?.code == .invalidArgument)
            #expect(
                error?.message
                    == "Expected number value for missing in the payload and/or in the formula defaults. Error: No value found in a payload nor defaults"
            )
            let notNumber = #expect(throws: StrataError.self) { try Self.value(c, Self.payload("word")) }
            #expect(notNumber?.message.hasSuffix("Error: Value is not a number") == true)
            let several = #expect(throws: StrataError.self) { try Self.value(c, Self.payload("many")) }
            #expect(several?.message.hasSuffix("Error: Value is not a number") == true)
            // A score of a prefetch the point is missing from: its default, else 0.
            let missingScore = try Self.value(c, .sum([.constant(2), .variable(.score(3))]))
            #expect(missingScore == 2)
            let scoreDefault = try Self.value(c, .variable(.score(3)), defaults: [.score(3): .double(0.25)])
            #expect(scoreDefault == 0.25)
            let parsedDefaults = try Formula(.constant(1), defaults: ["$score": .int(1)]).defaults
            #expect(parsedDefaults == [.score(0): .int(1)])
            #expect(throws: StrataError.self) { try Formula(.constant(1), defaults: ["$other": .int(1)]) }
            let parsedScore = try FormulaVariable(parsing: "$score[2]")
            #expect(parsedScore == .score(2))
            #expect(throws: StrataError.self) { try FormulaVariable(parsing: "$score[x]") }
        }
    }

    @Test func divisionByZeroAndNonFiniteResults() async throws {
        try await Self.withCollection { c in
            let zero = FormulaExpression.constant(0)
            let byZeroDefault = try Self.value(c, .div(left: .constant(3), right: zero, byZeroDefault: 42))
            #expect(byZeroDefault == 42)
            // 0 / anything is 0 (the right side is not evaluated).
            let zeroNumerator = try Self.value(c, .div(left: zero, right: .ln(.constant(-1)), byZeroDefault: nil))
            #expect(zeroNumerator == 0)
            // A factor 0 stops the product.
            let zeroFactor = try Self.value(c, .mult([zero, .ln(.constant(-1))]))
            #expect(zeroFactor == 0)
            let byZero = #expect(throws: StrataError.self) {
                try Self.value(c, .sum([.constant(1), .div(left: .constant(3), right: zero, byZeroDefault: nil)]))
            }
            #expect(byZero?.message.contains("The expression 3/0 = inf produced a non-finite number") == true)
            #expect(byZero?.message.contains("formula.sum[1].div") == true)
            let ln = #expect(throws: StrataError.self) {
                try Self.value(c, .mult([.constant(2), .sum([.constant(1), .ln(.neg(Self.payload("x")))])]))
            }
            #expect(ln?.message.contains("ln(-2.5) = NaN") == true)
            #expect(ln?.message.contains("(at formula.mult[1].sum[1].ln,") == true)
            let acosh = #expect(throws: StrataError.self) { try Self.value(c, .min([.acosh(.constant(0.5))])) }
            #expect(acosh?.message.contains("acosh(0.5) = NaN") == true)
            #expect(acosh?.message.contains("formula.min[0].acosh") == true)
            let sqrt = #expect(throws: StrataError.self) { try Self.value(c, .sqrt(.constant(-4))) }
            #expect(sqrt?.message.contains("√-4 = NaN") == true)
            // Finite in Double but not in Float.
            let big = #expect(throws: StrataError.self) { try Self.value(c, .exp(.constant(100))) }
            #expect(big?.message.contains("as f32 = inf") == true)
            let pow = #expect(throws: StrataError.self) {
                try Self.value(c, .pow(base: .constant(-8), exponent: .constant(1.0 / 3)))
            }
            #expect(pow?.message.contains("formula.pow") == true)
        }
    }

    @Test func prefetchScoresRankingAndPaging() async throws {
        try await Self.withCollection { c in
            let exact = SearchParams(exact: true)
            let first = QueryStage(query: .nearest(.dense([1, 1])), params: exact, limit: 4)
            // The second prefetch only sees points 1 and 3.
            let second = QueryStage(
                query: .nearest(.dense([0.5, -1])), filter: Filter(must: [.hasID([1, 3])]), params: exact, limit: 4)
            let formula = Formula(
                .sum([.variable(.score(0)), .mult([.constant(2), .variable(.score(1))])]),
                defaults: [.score(1): .double(-0.5)])
            func expected(_ id: UInt64) -> Float {
                let v = Self.points[Int(id) - 1].vectors[""]!
                let s0 = v[0] + v[1]
                let s1 = (id == 1 || id == 3) ? 0.5 * v[0] - v[1] : -0.5
                return s0 + 2 * s1
            }
            let all = try c.query(QueryRequest(prefetch: [first, second], query: .formula(formula), limit: 10))
            let want = [UInt64(1), 2, 3, 4].map { (id: PointID.number($0), score: expected($0)) }
                .sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            #expect(all.map(\.id) == want.map(\.id))
            for (hit, reference) in zip(all, want) { #expect(abs(hit.score - reference.score) < 1e-5) }
            let page = try c.query(
                QueryRequest(prefetch: [first, second], query: .formula(formula), limit: 2, offset: 1))
            #expect(page.map(\.id) == Array(want.map(\.id)[1...2]))
            let threshold = want[1].score - 1e-4
            let above = try c.query(
                QueryRequest(
                    prefetch: [first, second], query: .formula(formula), scoreThreshold: threshold, limit: 10))
            #expect(above.map(\.id) == Array(want.map(\.id)[0...1]))
            let withPayload = try c.query(
                QueryRequest(prefetch: [first], query: .formula(formula), limit: 1, withPayload: true))
            #expect(withPayload.first?.payload != nil)
        }
    }

    @Test func validation() async throws {
        try await Self.withCollection { c in
            let noPrefetch = #expect(throws: StrataError.self) {
                try c.query(QueryRequest(query: .formula(Formula(.constant(1)))))
            }
            #expect(noPrefetch?.message == "cannot apply Formula without prefetches")
            let midpoint = #expect(throws: StrataError.self) {
                try c.query(
                    QueryRequest(
                        prefetch: [Self.only([1])],
                        query: .formula(
                            Formula(.decay(.exponential, x: .constant(1), target: nil, midpoint: 1, scale: nil)))))
            }
            #expect(midpoint?.message == "Decay midpoint should be in the range (0.0, 1.0), got 1.")
            #expect(throws: StrataError.self) {
                try c.query(
                    QueryRequest(
                        prefetch: [Self.only([1])],
                        query: .formula(
                            Formula(.decay(.linear, x: .constant(1), target: nil, midpoint: nil, scale: 0)))))
            }
            #expect(throws: StrataError.self) {
                try c.query(QueryRequest(prefetch: [Self.only([1])], query: .formula(Formula(.datetime("soon")))))
            }
            let noOperand = #expect(throws: StrataError.self) {
                try c.query(QueryRequest(prefetch: [Self.only([1])], query: .formula(Formula(.sum([.max([])])))))
            }
            #expect(noOperand?.message == "`max` needs at least one operand")
        }
    }
}

/// A stage given its prefetch results (`prefetchResults`, what a cluster node
/// sends each shard) scores as if it had run those prefetches, skips points it
/// does not hold, and is refused together with prefetches.
@Suite struct GivenPrefetchResultsTests {
    @Test func aFormulaOverGivenResultsEqualsTheSameOverPrefetches() async throws {
        try await FormulaQueryTests.withCollection { c in
            let formula = try Formula(
                .sum([.variable(.score(0)), try .variable(named: "x")]), defaults: ["x": .int(0)])
            let prefetch = QueryStage(query: .nearest(.vector(.dense([1, 0.2]))), limit: 4)
            let ran = try c.query(QueryRequest(prefetch: [prefetch], query: .formula(formula), limit: 4))
            var given = QueryRequest(query: .formula(formula), limit: 4)
            let sources = try c.query(QueryRequest(stage: prefetch))
            // Point 99 lives on another shard: skipped here.
            given.stage.prefetchResults = [sources + [ScoredPoint(id: 99, version: 0, score: 100)]]
            let scored = try c.query(given)
            #expect(scored.map(\.id) == ran.map(\.id))
            #expect(scored.map(\.score) == ran.map(\.score))
            var both = given
            both.stage.prefetch = [prefetch]
            #expect(throws: StrataError.self) { try c.query(both) }
        }
    }

    @Test func givenVectorsRescoreCandidatesThisShardDoesNotHold() async throws {
        try await FormulaQueryTests.withCollection { c in
            var request = QueryRequest(query: .nearest(.vector(.dense([1, 0]))), limit: 2)
            request.stage.prefetchResults = [
                [
                    ScoredPoint(id: 51, version: 0, score: 0, vectors: ["": [0, 1]]),
                    ScoredPoint(id: 50, version: 0, score: 0, vectors: ["": [3, 0]]),
                ]
            ]
            // Scored (Dot) from the given vectors: neither point is stored here.
            let hits = try c.query(request)
            #expect(hits.map(\.id) == [50, 51])
            #expect(hits.map(\.score) == [3, 0])
        }
    }

    @Test func givenIdfStatisticsReplaceTheCollectionsOwn() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            defer { db.close() }
            let c = try db.createCollection("idf", config: SparseQueryTests.config)
            try await c.upsert(
                (1...6).map { id in
                    PointStruct(
                        id: .number(UInt64(id)), vectors: [:], payload: nil,
                        sparseVectors: ["t": SparseVector(indices: id % 2 == 0 ? [1, 2] : [2, 3], values: [1, 0.5])])
                })
            let query = SparseVector(indices: [1, 2, 3], values: [1, 1, 1])
            func scores(_ idf: IDFScope?) throws -> [Float] {
                var params = SearchParams()
                params.idf = idf
                return try c.query(
                    QueryRequest(query: .nearest(.vector(.sparse(query))), using: "t", params: params, limit: 6)
                ).map(\.score)
            }
            let own = try c.sparseStatistics("t", terms: [3, 1, 2])
            #expect(own.points == 6 && own.documentFrequencies == [1: 3, 2: 6, 3: 3])
            #expect(try scores(.given(points: own.points, documentFrequencies: own.documentFrequencies)) == scores(nil))
            // Statistics of a larger collection (other shards) weigh the terms differently.
            #expect(try scores(.given(points: 60, documentFrequencies: [1: 3, 2: 6, 3: 3])) != scores(nil))
            #expect(throws: StrataError.self) { try c.sparseStatistics("missing", terms: [1]) }
        }
    }
}
