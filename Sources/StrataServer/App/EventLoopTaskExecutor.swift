import NIOCore
import NIOPosix

/// Runs the servers' tasks (REST handlers and gRPC calls) on the NIO event
/// loop thread that woke them (another loop of `group` when the waker is not
/// one), instead of Swift's global executor: a request's bytes are read, its
/// body decoded (small ones) and its handler started on the thread that
/// received them, without a wake-up of another thread per step. Reads run on
/// the engine pool (`StrataHTTPServer.answer`, `run`); a write's synchronous
/// part (validation, WAL encoding; `update_vectors`' existence check, which may
/// page in segment data) runs on the loop before the write awaits its fsync,
/// as a NIO handler's work would.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // SAFETY: `group` is immutable and thread-safe.
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) { self.group = group }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
