import Foundation
import StrataIO

// Helpers shared by the test targets (not part of any product): seeded
// randomness, temporary directories, raw file access.

/// A repeatable random generator (SplitMix64). Every test that uses one prints
/// its seed; rerun a failure with `STRATA_TEST_SEED=<seed>`.
public struct SeededGenerator: RandomNumberGenerator {
    private var base: SplitMix64
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        self.base = SplitMix64(seed: seed)
    }

    /// Seed from `STRATA_TEST_SEED`, else a fresh one; prints it with the test's name.
    public static func forTest(_ name: String = #function) -> SeededGenerator {
        let seed = ProcessInfo.processInfo.environment["STRATA_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max)
        print("[\(name)] seed \(seed) (rerun with STRATA_TEST_SEED=\(seed))")
        return SeededGenerator(seed: seed)
    }

    public mutating func next() -> UInt64 { base.next() }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

/// A fresh directory under the system temp directory, removed after `body`.
public func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "strata-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A fresh directory under the system temp directory, removed after `body`.
public func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "strata-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
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
