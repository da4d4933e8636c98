import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A numbered set of child processes (etcd members, Strata nodes) that can be
/// signalled one by one and stopped together. What `LocalEtcdCluster` and
/// `LocalCluster` (StrataCluster) keep their processes in.
///
/// Thread safety: methods may be called from any thread.
public final class ChildProcesses: Sendable {
    /// The process in each slot (nil: not started, or stopped).
    private let slots: Mutex<[Process?]>

    public init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    /// Records the started `process` in slot `index`.
    public func set(_ index: Int, _ process: Process) { slots.withLock { $0[index] = process } }

    /// The process id in slot `index`, if it runs.
    public func pid(_ index: Int) -> Int32? {
        slots.withLock { $0[index].flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// Slots whose process has exited (crashed, or killed by someone else), with its status.
    public func exited() -> [(index: Int, status: Int32)] {
        slots.withLock { list in
            list.indices.compactMap { index in
                guard let process = list[index], !process.isRunning else { return nil }
                return (index, process.terminationStatus)
            }
        }
    }

    /// Sends `signal` to slot `index`; for SIGKILL and SIGTERM waits until it exited.
    public func signal(_ index: Int, _ signal: Int32) {
        guard let process = slots.withLock({ $0[index] }), process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, signal)
        if signal == SIGKILL || signal == SIGTERM {
            process.waitUntilExit()
            slots.withLock { $0[index] = nil }
        }
    }

    /// Stops every process: SIGTERM to all, then SIGKILL to any still running after `grace`.
    public func stopAll(grace: TimeInterval) {
        let running = slots.withLock { list -> [Process] in
            defer { list = Array(repeating: nil, count: list.count) }
            return list.compactMap { $0 }
        }
        for process in running where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(grace)
        for process in running {
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                _ = Glibc.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }
}
