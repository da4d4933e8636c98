import Foundation
import StrataIO

/// The committed corpora of the fuzz targets (`fuzz/corpus/<name>/`), which the
/// normal test run replays through the same checks the fuzzers make.
public enum FuzzCorpus {
    /// `fuzz/corpus/<name>` of this repository (found from this file's path).
    public static func directory(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()  // StrataTestSupport
            .deletingLastPathComponent().deletingLastPathComponent()  // repository root
            .appendingPathComponent("fuzz/corpus/\(name)").path
    }

    /// The paths of the corpus's files (hidden files left out), sorted.
    public static func files(_ name: String) throws -> [String] {
        let directory = directory(name)
        return try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { !$0.hasPrefix(".") }.sorted()
            .map { joinPath(directory, $0) }
    }
}

/// Runs a blocking call on a thread of its own, off the cooperative pool (the
/// engine's blocking APIs must not hold a pool thread while they wait).
public func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
