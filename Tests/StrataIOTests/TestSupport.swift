#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO
import Testing

/// The file systems that the conformance suite runs against.
enum FileSystemKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case posix
    case faultInjecting

    var testDescription: String { rawValue }
}

/// Runs `body` with a fresh file system and an empty directory in it: for POSIX,
/// a new temp directory under /tmp (removed afterwards); for the fault FS, a
/// durable `/tmp/strata-io-test`.
func withFileSystem(_ kind: FileSystemKind, _ body: (any FileSystem, String) throws -> Void) throws {
    switch kind {
    case .posix:
        var template = Array("/tmp/strata-io-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw IOError(errno: errno, operation: "mkdtemp", path: "/tmp")
        }
        let root = String(cString: made)
        let fs = POSIXFileSystem()
        defer { try? fs.removeTree(root) }
        try body(fs, root)
    case .faultInjecting:
        let root = "/tmp/strata-io-test"
        try body(FaultInjectingFileSystem(durableDirectories: [root]), root)
    }
}

/// A fault FS with a durable `/db`, the directory most tests work in.
func makeFaultFS() -> FaultInjectingFileSystem {
    FaultInjectingFileSystem(durableDirectories: ["/db"])
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Expects `body` to throw an `IOError` with `code` and returns it.
@discardableResult
func expectIOError<T>(
    _ code: IOError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> IOError? {
    do {
        _ = try body()
        Issue.record("expected IOError \(code), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as IOError {
        #expect(error.code == code, "wrong code; message: \(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected IOError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Writes `content` to a new file at `path`.
func writeFile(_ fs: any FileSystem, _ path: String, _ content: [UInt8], sync: Bool = false) throws {
    let file = try fs.open(path, mode: .create)
    try file.truncate(to: 0)
    try file.write(at: 0, content)
    if sync { try file.sync() }
}

/// The whole content of the file at `path`, or nil when there is none.
func contents(_ fs: any FileSystem, _ path: String) throws -> [UInt8]? {
    guard fs.fileKind(path) == .file else { return nil }
    return try fs.open(path, mode: .readOnly).readAll()
}

/// A seed for a random test: `STRATA_TEST_SEED` if set, else a fresh one.
/// Always printed, so that a failure can be replayed.
func testSeed(_ name: String) -> UInt64 {
    let seed: UInt64
    if let text = getenv("STRATA_TEST_SEED"), let value = UInt64(String(cString: text)) {
        seed = value
    } else {
        seed = UInt64.random(in: 0...UInt64.max)
    }
    print("\(name): seed \(seed) (replay with STRATA_TEST_SEED=\(seed))")
    return seed
}

