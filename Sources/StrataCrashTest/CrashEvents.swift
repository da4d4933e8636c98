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
public final class BufferedEventSink: CrashEventSink, Sendable {
    /// Guards the lines emitted so far, in order.
    private let lines = Locked<[String]>([])

    public init() {}

    public func emit(_ line: String) { lines.withLock { $0.append(line) } }

    /// Everything emitted so far, one line each, newline-terminated.
    public var text: String { lines.withLock { $0.map { $0 + "\n" }.joined() } }
}
