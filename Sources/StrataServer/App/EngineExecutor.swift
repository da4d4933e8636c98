import NIOPosix

/// Runs blocking engine work (searches, reads, flushes, collection create and
/// delete, request decoding and response encoding) on a dedicated thread pool,
/// so that neither NIO's event loops nor Swift's cooperative pool block on it.
/// With one thread per core, concurrent searches use every core.
///
/// Lifetime: started by `init`; `shutdown()` waits for queued work to finish.
/// Thread safety: `run` may be called from any task.
public final class EngineExecutor: Sendable {
    private let pool: NIOThreadPool
    public let threadCount: Int

    public init(threads: Int) {
        threadCount = threads
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Runs `body` on a pool thread and returns its result. Throws
    /// `NIOThreadPoolError.ThreadPoolInactive` after `shutdown()`.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
