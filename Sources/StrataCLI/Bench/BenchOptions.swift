import ArgumentParser
import Foundation
import Strata
import StrataIO

/// `--points`, `--dim`, `--batch`: the synthetic load of `bench lsm` and
/// `bench snapshot` (seeded random vectors with `SyntheticData` payloads).
struct SyntheticLoadOptions: ParsableArguments {
    @Option(name: .long, help: "Points to load.")
    var points: Int = 1_000_000

    @Option(name: .long, help: "Vector dimension.")
    var dim: Int = 128

    @Option(name: .long, help: "Points per upsert.")
    var batch: Int = 1000

    /// Points `rows` of the load: ids are the row numbers, vectors come from
    /// `rng` (components 0…99.99 in steps of 0.01), payloads from `SyntheticData`.
    func points(_ rows: Range<Int>, rng: inout SplitMix64) -> [PointStruct] {
        rows.map { r in
            PointStruct(
                id: .number(UInt64(r)), vector: (0..<dim).map { _ in Float(rng.next() % 10_000) / 100 },
                payload: SyntheticData.payload(row: r))
        }
    }
}

/// `--m`, `--ef-construct`: the HNSW graph parameters of the benchmark collection.
struct HNSWBuildOptions: ParsableArguments {
    @Option(name: .long, help: "HNSW m.")
    var m: Int = 16

    @Option(name: .customLong("ef-construct"), help: "HNSW ef_construct.")
    var efConstruct: Int = 100
}

/// The wording of a benchmark's `--store` help.
protocol BenchStoreHelp {
    static var store: String { get }
}

/// `--store`: where a benchmark keeps the collection it measures. A missing
/// directory is built (and kept); an existing one is reused; without the option
/// the store is a temporary directory removed at the end.
struct BenchStoreOptions<Help: BenchStoreHelp>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(Help.store))
    var store: String?

    /// Runs `body` on the store directory, after `build` has created it if it
    /// was missing; `body` gets the build's seconds, or nil when the store was
    /// reused. Removes the directory at the end when it is a temporary one.
    func withStore(
        command: String, build: (String) async throws -> Double, _ body: (String, Double?) async throws -> Void
    ) async throws {
        let directory = store ?? NSTemporaryDirectory() + "strata-bench-\(command)-\(getpid())"
        defer { if store == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var buildSeconds: Double?
        if !FileManager.default.fileExists(atPath: directory) {
            buildSeconds = try await build(directory)
        } else {
            benchProgress(command, "reusing the store at \(directory)")
        }
        try await body(directory, buildSeconds)
    }
}

/// `--store` of `bench ann` and `bench filtered`.
enum KeptStoreHelp: BenchStoreHelp {
    static let store =
        "Store directory: built there if missing (kept), reused if it exists. Default: a temporary directory, removed at the end."
}

/// `--store` of `bench multivector` and `bench sparse`.
enum TemporaryStoreHelp: BenchStoreHelp {
    static let store = "Store directory: built there if missing (kept), reused if it exists. Default: temporary."
}

/// A progress line of `strata bench <command>` on standard error.
func benchProgress(_ command: String, _ message: String) {
    FileHandle.standardError.write(Data("[bench \(command)] \(message)\n".utf8))
}
