import StrataIO
import StrataTestSupport
import Testing

/// The file systems that the conformance suite runs against.
enum FileSystemKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case posix
    case faultInjecting

    var testDescription: String { rawValue }
}

/// Runs `body` with a fresh file system and an empty directory in it: for POSIX,
/// a new `TemporaryDirectory` (removed afterwards); for the fault FS, a
/// durable `/tmp/strata-io-test`.
func withFileSystem(_ kind: FileSystemKind, _ body: (any FileSystem, String) throws -> Void) throws {
    switch kind {
    case .posix:
        try withTemporaryDirectory("io") { root in try body(POSIXFileSystem(), root) }
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
