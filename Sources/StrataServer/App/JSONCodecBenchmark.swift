import Foundation
import Strata
import StrataIO
import StrataJSON

/// Encoding throughput of generated response bodies in the server's real
/// output types and envelope: JSONBodyEncoder (what the server uses) against
/// Foundation's JSONEncoder (what it used), on the same values in one run.
/// For `strata bench json`.
public enum JSONCodecBenchmark {
    /// The body shapes of issue 25.
    public enum Body: String, CaseIterable, Sendable {
        /// A search response: 100 hits with payloads (id, version, score, ~10 payload fields), no vectors.
        case searchHits = "search-100-hits"
        /// A scroll (or retrieve) response: 1,000 points with 384-dim vectors and small payloads.
        case scrollVectors = "scroll-1000x384"
    }

    public enum Encoder: String, CaseIterable, Sendable {
        case strata = "JSONBodyEncoder"
        case foundation = "JSONEncoder"
    }

    public struct Measurement: Sendable {
        public var body: Body
        public var encoder: Encoder
        /// Bytes of one encoded body.
        public var bytes: Int
        public var iterations: Int
        public var seconds: Double
        public var megabytesPerSecond: Double { Double(bytes * iterations) / seconds / 1e6 }
    }

    /// Encodes `body` `iterations` times with `encoder` (after one untimed
    /// encoding) and returns the bytes of one body and the seconds taken.
    public static func measure(
        _ body: Body, encoder: Encoder, iterations: Int, seed: UInt64 = 25
    ) throws
        -> Measurement
    {
        let sample = Sample(body, seed: seed)
        let encode: () throws -> Int
        switch encoder {
        case .strata:
            encode = { try Reply.encodeOK(sample, elapsed: 0.001234).count }
        case .foundation:
            let foundation = JSONEncoder()
            foundation.outputFormatting = .withoutEscapingSlashes
            encode = { try foundation.encode(Envelope(result: sample, time: 0.001234)).count }
        }
        let bytes = try encode()
        let start = ContinuousClock.now
        for _ in 0..<iterations { _ = try encode() }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Measurement(body: body, encoder: encoder, bytes: bytes, iterations: iterations, seconds: seconds)
    }

    /// Every body with both encoders, one after the other.
    public static func run(iterations: (Body) -> Int = { $0 == .searchHits ? 2_000 : 20 }) throws -> [Measurement] {
        var results: [Measurement] = []
        for body in Body.allCases {
            for encoder in Encoder.allCases {
                results.append(try measure(body, encoder: encoder, iterations: iterations(body)))
            }
        }
        return results
    }

    /// The encoded body (envelope included) with each encoder, for checks.
    static func encodedBodies(_ body: Body, seed: UInt64 = 25) throws -> (strata: [UInt8], foundation: [UInt8]) {
        let sample = Sample(body, seed: seed)
        let foundation = JSONEncoder()
        foundation.outputFormatting = .withoutEscapingSlashes
        return (
            try Reply.encodeOK(sample, elapsed: 0.001234),
            [UInt8](try foundation.encode(Envelope(result: sample, time: 0.001234)))
        )
    }

    /// The `result` of a generated body, in the types the routes answer with.
    enum Sample: Encodable, Sendable {
        case hits([ScoredPointOutput])
        case scroll(ScrollResultOutput)

        init(_ body: Body, seed: UInt64) {
            var generator = SplitMix64(seed: seed)
            switch body {
            case .searchHits:
                self = .hits(
                    (0..<100).map { index in
                        ScoredPointOutput(
                            ScoredPoint(
                                id: .number(UInt64(index) * 7_919 + 1), version: UInt64(index) + 10,
                                score: Float.random(in: 0...1, using: &generator),
                                payload: Self.payload(index, rich: true, using: &generator)),
                            payload: .all, vector: .none, rowSizes: [:])
                    })
            case .scrollVectors:
                let points = (0..<1_000).map { index in
                    RecordOutput(
                        Record(
                            id: .number(UInt64(index) + 1), version: 1,
                            payload: Self.payload(index, rich: false, using: &generator),
                            vectors: [
                                CollectionConfig.defaultVectorName: (0..<384).map { _ in
                                    Float.random(in: -0.2...0.2, using: &generator)
                                }
                            ]),
                        payload: .all, vector: .all, rowSizes: [:])
                }
                self = .scroll(ScrollResultOutput(points: points, next_page_offset: .number(1_001)))
            }
        }

        static func payload(_ index: Int, rich: Bool, using generator: inout SplitMix64) -> Payload {
            var payload: Payload = [
                "doc_id": .int(Int64(index)),
                "category": .string(["news", "sports", "science", "arts"][index % 4]),
            ]
            guard rich else { return payload }
            payload["title"] = .string("Document \(index): a title of moderate length, with \"quotes\"")
            payload["url"] = .string("https://example.com/articles/\(index)/index.html")
            payload["price"] = .double(Double(Int(generator.next() % 100_000)) / 100)
            payload["rating"] = .double(Double(Float.random(in: 0...5, using: &generator)))
            payload["in_stock"] = .bool(generator.next() % 2 == 0)
            payload["tags"] = .array((0..<3).map { _ in .string("tag\(Int(generator.next() % 50))") })
            payload["published"] = .string("2026-11-\(10 + index % 20)T08:30:00Z")
            payload["author"] = .object(["name": .string("Author \(index % 17)"), "id": .int(Int64(index % 17))])
            return payload
        }

        func encode(to encoder: any Swift.Encoder) throws {
            var single = encoder.singleValueContainer()
            switch self {
            case .hits(let hits): try single.encode(hits)
            case .scroll(let scroll): try single.encode(scroll)
            }
        }
    }
}
