import ArgumentParser
import Foundation
import StrataServer

/// `strata bench json`: the REST server's JSON work without the network.
///
/// Decoding. Request bodies of the hot shapes are generated (an upsert of
/// `--points` points of `--dim` floats as a list and as columns, with small
/// payloads; a filtered query), with vectors written as numpy-based clients
/// write them (float32 values as the shortest round-tripping double, up to 17
/// digits). Each body is decoded `--iterations` times by the server's decoder
/// and by Foundation's JSONDecoder, alternating, in this process; the median
/// time per decode gives MB/s. One JSON line per body.
///
/// Encoding. Response bodies in the server's output types and envelope
/// (`JSONCodecBenchmark`: a search answer of 100 hits with payloads; a scroll
/// of 1,000 points with 384-dim vectors and small payloads), encoded by the
/// server's encoder and by Foundation's JSONEncoder, one after the other; MB/s
/// over all iterations. One JSON line per body.
struct BenchJSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract:
            "Request decoding and response encoding MB/s of generated bodies, against Foundation's JSONDecoder and JSONEncoder in the same run."
    )

    @Option(name: .long, help: "Points per upsert body.")
    var points: Int = 1000

    @Option(name: .long, help: "Vector dimension.")
    var dim: Int = 384

    @Option(name: .long, help: "Decodes per body and decoder (the median is reported).")
    var iterations: Int = 15

    @Option(name: .long, help: "Encodings of the scroll body per encoder (the search body: 100 times as many).")
    var encodeIterations: Int = 20

    @Option(
        name: .long,
        help:
            "Also decode this upsert body (e.g. one Benchmarks/rest_bodies.py wrote, as qdrant-client sends it); repeatable."
    )
    var upsertBody: [String] = []

    @Flag(
        inversion: .prefixedNo,
        help:
            "Also time Foundation's JSONDecoder and JSONEncoder (--no-reference: only the server's codec, for profiles)."
    )
    var reference: Bool = true

    func run() throws {
        var bodies = RequestDecodingBenchmark.bodies(points: points, dimension: dim)
        for path in upsertBody {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bodies.append(RequestDecodingBenchmark.upsertBody(named: path, bytes: bytes))
        }
        for body in bodies {
            let result = try RequestDecodingBenchmark.run(body, iterations: iterations, reference: reference)
            let megabytes = Double(result.bytes) / 1e6
            var line: [String: Any] = [
                "bench": "json-decode", "body": result.name, "bytes": result.bytes, "iterations": result.iterations,
                "ms": result.seconds * 1e3, "mb_per_s": megabytes / result.seconds,
            ]
            if reference {
                line["reference_ms"] = result.referenceSeconds * 1e3
                line["reference_mb_per_s"] = megabytes / result.referenceSeconds
                line["speedup"] = result.referenceSeconds / result.seconds
            }
            try printLine(line)
        }
        for body in JSONCodecBenchmark.Body.allCases {
            let iterations = body == .searchHits ? encodeIterations * 100 : encodeIterations
            let strata = try JSONCodecBenchmark.measure(body, encoder: .strata, iterations: iterations)
            var line: [String: Any] = [
                "bench": "json-encode", "body": body.rawValue, "bytes": strata.bytes, "iterations": iterations,
                "mb_per_s": strata.megabytesPerSecond,
            ]
            if reference {
                let foundation = try JSONCodecBenchmark.measure(body, encoder: .foundation, iterations: iterations)
                line["reference_mb_per_s"] = foundation.megabytesPerSecond
                line["speedup"] = strata.megabytesPerSecond / foundation.megabytesPerSecond
            }
            try printLine(line)
        }
    }

    private func printLine(_ line: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
