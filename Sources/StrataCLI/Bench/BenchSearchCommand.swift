import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `strata bench search`: the embedded API's search throughput on an existing
/// collection, with the same shape of load as the server benchmarks' query
/// phase (T concurrent searchers, top-k), so that they can report the
/// transport's overhead on the same data: random normal query vectors
/// (seeded) and no payload by default; with `--queries FILE.fvecs` those
/// vectors in turn, and with `--with-payload` the universal query a server's
/// `query_points` runs (`Collection.query`, payload attached), as
/// Benchmarks/run_transport.sh compares it with REST and gRPC.
///
/// Method: T threads (one OS thread each) each search in a loop for `--seconds`; QPS = searches /
/// wall time; p50/p99/mean over every search's latency. `--pause-ms` idles
/// each thread that long between searches (not timed), as a server's thread
/// idles while its client is busy: the latency of a search on a thread that
/// just woke up, rather than of back-to-back searches on a hot one.
struct BenchSearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Concurrent embedded search throughput on an existing collection; prints one JSON line.")

    @Option(name: .long, help: "Data directory (not open in another process).")
    var dataDir: String

    @Option(name: .long, help: "Collection to search.")
    var collection: String

    @Option(name: .long, help: "Concurrent searchers.")
    var threads: Int = 4

    @Option(name: .long, help: "Seconds to run.")
    var seconds: Double = 10

    @Option(name: .long, help: "Results per search.")
    var limit: Int = 10

    @Option(name: .long, help: "Seed of the query vectors.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Query vectors (fvecs) to use in turn instead of random ones.")
    var queries: String?

    @Flag(name: .long, help: "Run the universal query with payload, as a server's query_points does.")
    var withPayload = false

    @Option(name: .long, help: "Milliseconds each thread sleeps between searches (not timed).")
    var pauseMs: Double = 0

    func run() async throws {
        let database = try Database.open(at: dataDir)
        defer { database.close() }
        let target = try database.collection(collection)
        guard let (name, params) = target.config.vectors.min(by: { $0.key < $1.key }) else { return }
        let dimension = params.size
        let duration = seconds
        let (threads, limit, seed, withPayload) = (self.threads, self.limit, self.seed, self.withPayload)
        let pause = UInt32(max(0, pauseMs * 1000))
        var fixed: [[Float]] = []
        if let queries {
            let (flat, queryDimension) = try VectorDataset.readVectors(queries)
            guard queryDimension == dimension else {
                throw ValidationError("\(queries) has dimension \(queryDimension), the collection \(dimension)")
            }
            fixed = stride(from: 0, to: flat.count, by: dimension).map { Array(flat[$0..<$0 + dimension]) }
        }
        let queryVectors = fixed
        let results = LatencyBox(threads: threads)
        let start = Date()
        // One OS thread per searcher: `concurrentPerform` would run at most one
        // iteration per core at a time, so 32 "threads" would be 2 on 2 cores.
        @Sendable func search(_ worker: Int) {
            var state = seed &+ UInt64(worker) &* 0x9E37_79B9_7F4A_7C15
            func normal() -> Float {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u1 = max(Double(state >> 11) / Double(1 << 53), 1e-12)
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u2 = Double(state >> 11) / Double(1 << 53)
                return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
            }
            var latencies: [Double] = []
            var next = worker
            while Date().timeIntervalSince(start) < duration {
                let query: [Float]
                if queryVectors.isEmpty {
                    query = (0..<dimension).map { _ in normal() }
                } else {
                    query = queryVectors[next % queryVectors.count]
                    next += threads
                }
                let t0 = DispatchTime.now().uptimeNanoseconds
                if withPayload {
                    _ = try? target.query(
                        QueryRequest(
                            query: .nearest(.vector(.dense(query))), using: name, limit: limit, withPayload: true))
                } else {
                    _ = try? target.search(query, using: name, limit: limit)
                }
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                if pause > 0 { usleep(pause) }
            }
            results.store(worker, latencies)
        }
        let finished = DispatchGroup()
        for worker in 0..<threads {
            finished.enter()
            Thread {
                search(worker)
                finished.leave()
            }.start()
        }
        finished.wait()
        let wall = Date().timeIntervalSince(start)
        let all = results.all.sorted()
        func percentile(_ p: Double) -> Double { all.isEmpty ? 0 : all[min(all.count - 1, Int(Double(all.count) * p))] }
        let line: [String: Double] = [
            "threads": Double(threads), "seconds": wall, "searches": Double(all.count),
            "qps": Double(all.count) / wall, "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
            "points": Double(target.count()), "dimension": Double(dimension),
            "mean_ms": all.isEmpty ? 0 : all.reduce(0, +) / Double(all.count), "pause_ms": pauseMs,
        ]
        let json = try JSONSerialization.data(
            withJSONObject: ["bench": "search-embedded", "result": line], options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

/// Per-worker latency lists, stored once by each worker at its end.
private final class LatencyBox: Sendable {
    /// Guards the per-worker slots.
    private let slots: Locked<[[Double]]>
    init(threads: Int) { slots = Locked(Array(repeating: [], count: threads)) }
    func store(_ worker: Int, _ values: [Double]) { slots.withLock { $0[worker] = values } }
    var all: [Double] { slots.withLock { $0.flatMap { $0 } } }
}
