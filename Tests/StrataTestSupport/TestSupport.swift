import Foundation
import StrataIO

// Helpers every test target shares (not part of any product): the one seeded
// generator, the one temporary-directory helper, raw file access. This target
// depends on StrataIO only, so the lowest test targets can use it without
// building the engine; the engine-level fuzz checks live in StrataFuzzChecks.

/// The seed for one random test: `STRATA_TEST_SEED` when set (to replay a
/// failure), else `fixed` when given, else a fresh one. Always printed with
/// `name` and how to replay it.
public func testSeed(_ name: String = #function, default fixed: UInt64? = nil) -> UInt64 {
    let seed =
        ProcessInfo.processInfo.environment["STRATA_TEST_SEED"].flatMap { UInt64($0) }
        ?? fixed ?? UInt64.random(in: 0...UInt64.max)
    print("\(name): seed \(seed) (replay with STRATA_TEST_SEED=\(seed))")
    return seed
}

/// The repeatable random generator of the tests (SplitMix64: the same seed gives
/// the same sequence as `StrataIO.SplitMix64`). A test with a random seed takes it
/// from `forTest`, which prints it; rerun a failure with `STRATA_TEST_SEED=<seed>`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var base: SplitMix64
    public let seed: UInt64

    /// A generator with a fixed `seed`; prints nothing.
    public init(seed: UInt64) {
        self.seed = seed
        self.base = SplitMix64(seed: seed)
    }

    /// A generator seeded by `testSeed(name)`: `STRATA_TEST_SEED`, else a fresh seed; printed.
    public static func forTest(_ name: String = #function) -> SeededGenerator {
        SeededGenerator(seed: testSeed(name))
    }

    /// A generator with a fixed `seed`, printed with `name` (for tests that log every seed they use).
    public static func printing(seed: UInt64, _ name: String = #function) -> SeededGenerator {
        print("\(name): seed \(seed)")
        return SeededGenerator(seed: seed)
    }

    public mutating func next() -> UInt64 { base.next() }

    /// `count` uniformly random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// `count` uniformly random floats in `range`.
    public mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}

/// A fresh, empty directory under the system temp directory
/// (`strata-test-<label>-<random>`), removed with everything in it when the last
/// reference goes away. Keep the object alive while the directory is in use (a
/// `let` in the test's scope is enough); for a scoped directory use
/// `withTemporaryDirectory`. Thread safety: immutable, `Sendable`.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path, without a trailing slash.
    public let path: String

    /// Creates the directory; `label` (default: the calling function) names it,
    /// letters and digits only. Traps if the temp directory is not writable: the
    /// machine, not the code under test, is broken then.
    public init(_ label: String = #function) {
        let safe = label.filter { $0.isLetter || $0.isNumber }.prefix(40)
        path =
            URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("strata-test-\(safe)-\(UUID().uuidString.prefix(8))").path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            preconditionFailure("cannot create the temporary directory \(path): \(error)")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` with the path of a fresh `TemporaryDirectory`, removed afterwards.
public func withTemporaryDirectory<T>(_ label: String = #function, _ body: (String) throws -> T) throws -> T {
    let directory = TemporaryDirectory(label)
    return try withExtendedLifetime(directory) { try body(directory.path) }
}

/// Runs `body` with the path of a fresh `TemporaryDirectory`, removed afterwards.
public func withTemporaryDirectory<T>(
    _ label: String = #function, _ body: (String) async throws -> T
) async throws -> T {
    let directory = TemporaryDirectory(label)
    defer { withExtendedLifetime(directory) {} }
    return try await body(directory.path)
}

public func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

public func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Bytes from hex text; everything that is not a hex digit is ignored.
public func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// A file system that hands every call to `forwardedTo`: a test's wrapper
/// conforms and implements only the calls it changes.
public protocol ForwardingFileSystem: FileSystem {
    var forwardedTo: any FileSystem { get }
}

extension ForwardingFileSystem {
    public func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
        try forwardedTo.open(path, mode: mode)
    }
    public func createDirectory(_ path: String) throws { try forwardedTo.createDirectory(path) }
    public func syncDirectory(_ path: String) throws { try forwardedTo.syncDirectory(path) }
    public func rename(_ source: String, to destination: String) throws {
        try forwardedTo.rename(source, to: destination)
    }
    public func removeFile(_ path: String) throws { try forwardedTo.removeFile(path) }
    public func removeTree(_ path: String) throws { try forwardedTo.removeTree(path) }
    public func listDirectory(_ path: String) throws -> [String] { try forwardedTo.listDirectory(path) }
    public func fileKind(_ path: String) -> FileKind? { forwardedTo.fileKind(path) }
    public func lock(_ path: String) throws -> FileLock { try forwardedTo.lock(path) }
}

/// Why a test could not find the `strata` executable.
public struct MissingExecutable: Error, CustomStringConvertible {
    /// Where it was looked for, and what to do.
    public let description: String
}

/// The `strata` executable built next to this test bundle (or $STRATA_EXECUTABLE),
/// for tests that run it as a separate process (crash harness children, servers).
public func strataExecutable() throws -> String {
    if let path = ProcessInfo.processInfo.environment["STRATA_EXECUTABLE"] { return path }
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let candidate = me.deletingLastPathComponent().appendingPathComponent("strata").path
    guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw MissingExecutable(
            description:
                "no strata executable at \(candidate): run `swift build` before `swift test`, or set STRATA_EXECUTABLE")
    }
    return candidate
}
