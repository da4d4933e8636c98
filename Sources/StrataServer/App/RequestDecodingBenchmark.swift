import Foundation
import Strata
import StrataIO

/// Request bodies of the hot shapes, generated, and the time to decode them
/// with the server's decoder and with Foundation's JSONDecoder (the reference)
/// in the same run: `strata bench json`.
public enum RequestDecodingBenchmark {
    public struct Body: Sendable {
        public let name: String
        public let bytes: [UInt8]
        fileprivate let decode: @Sendable ([UInt8], _ reference: Bool) throws -> Void
    }

    public struct Result: Sendable {
        public let name: String
        public let bytes: Int
        public let iterations: Int
        /// Seconds per decode (median over iterations).
        public let seconds: Double
        public let referenceSeconds: Double
    }

    /// Vectors as numpy-based clients send them: float32 values printed as the
    /// shortest double that round-trips (up to 17 significant digits).
    static func vectorJSON(_ dimension: Int, _ generator: inout some RandomNumberGenerator) -> String {
        "["
            + (0..<dimension).map { _ in "\(Double(Float.random(in: -0.2...0.2, using: &generator)))" }
            .joined(separator: ",") + "]"
    }

    /// Upsert of `points` points as a list and as columns, and a query with a filter.
    public static func bodies(points: Int, dimension: Int) -> [Body] {
        var generator = SplitMix64(seed: 25)
        var list: [String] = []
        var ids: [String] = []
        var vectors: [String] = []
        var payloads: [String] = []
        for id in 0..<points {
            let vector = vectorJSON(dimension, &generator)
            let payload = #"{"city":"city-\#(id % 97)","price":\#(Double(id % 1000) / 10),"tags":["a","b\#(id % 7)"]}"#
            list.append(#"{"id":\#(id),"vector":\#(vector),"payload":\#(payload)}"#)
            ids.append("\(id)")
            vectors.append(vector)
            payloads.append(payload)
        }
        let upsert = #"{"points":[\#(list.joined(separator: ","))]}"#
        let batch =
            #"{"batch":{"ids":[\#(ids.joined(separator: ","))],"vectors":[\#(vectors.joined(separator: ","))],"payloads":[\#(payloads.joined(separator: ","))]}}"#
        let query =
            #"{"query":\#(vectorJSON(dimension, &generator)),"limit":10,"with_payload":true,"filter":{"must":[{"key":"city","match":{"value":"city-3"}},{"key":"price","range":{"gte":10.5}}]}}"#
        func body<T: Decodable>(_ name: String, _ text: String, _ type: T.Type) -> Body {
            Body(name: name, bytes: Array(text.utf8)) { bytes, reference in
                if reference {
                    _ = try RequestDecoding.decodeWithReference(T.self, from: bytes)
                } else {
                    _ = try RequestDecoding.decode(T.self, from: bytes)
                }
            }
        }
        return [
            body("upsert-points", upsert, UpsertInput.self), body("upsert-batch", batch, UpsertInput.self),
            body("query", query, QueryRequestInput.self),
        ]
    }

    /// A body read from a file (e.g. one `Benchmarks/rest_bodies.py` wrote, as
    /// qdrant-client sends it), decoded as an upsert.
    public static func upsertBody(named name: String, bytes: [UInt8]) -> Body {
        Body(name: name, bytes: bytes) { bytes, reference in
            if reference {
                _ = try RequestDecoding.decodeWithReference(UpsertInput.self, from: bytes)
            } else {
                _ = try RequestDecoding.decode(UpsertInput.self, from: bytes)
            }
        }
    }

    /// Decodes `body` `iterations` times with each decoder, alternating
    /// (only with the server's decoder when `reference` is false: for profiles).
    public static func run(_ body: Body, iterations: Int, reference withReference: Bool = true) throws -> Result {
        var fast: [Double] = []
        var reference: [Double] = []
        for _ in 0..<max(1, iterations) {
            for useReference in withReference ? [false, true] : [false] {
                let start = ContinuousClock.now
                try body.decode(body.bytes, useReference)
                let elapsed = start.duration(to: .now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                if useReference { reference.append(seconds) } else { fast.append(seconds) }
            }
        }
        func median(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.sorted()[values.count / 2] }
        return Result(
            name: body.name, bytes: body.bytes.count, iterations: fast.count, seconds: median(fast),
            referenceSeconds: median(reference))
    }
}
