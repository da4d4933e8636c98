#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO

/// Where the crash-test workload reports what it does, one line per event
/// (the protocol is documented on `CrashTestChild`). The parent reads the
/// lines after the crash and hands them to the oracle.
public protocol CrashEventSink: Sendable {
    func emit(_ line: String)
}

/// Standard output of the child process, one `write(2)` per line: lines from
/// concurrent writers never interleave (a pipe write of at most `PIPE_BUF`
/// bytes is atomic), and a line is either wholly in the pipe or not at all
/// when the process is killed.
public struct StandardOutputEventSink: CrashEventSink {
    public init() {}

    public func emit(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { exit(3) } }
                offset += n
            }
        }
    }
}

/// Lines kept in memory, for the in-process power-loss mode.
public final class BufferedEventSink: CrashEventSink, @unchecked Sendable {
    // SAFETY: `lines` is only touched under `mutex`.
    private let mutex = Mutex()
    private var lines: [String] = []

    public init() {}

    public func emit(_ line: String) { mutex.withLock { lines.append(line) } }

    /// Everything emitted so far, one line each, newline-terminated.
    public var text: String { mutex.withLock { lines.map { $0 + "\n" }.joined() } }
}
