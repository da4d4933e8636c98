import Synchronization

/// Lets the caller of a long read stop it: a query checks its cancellation
/// before each stage and before each segment it searches, and throws
/// `.cancelled` once it is cancelled or its deadline has passed. The server
/// cancels a query whose client went away or whose deadline (gRPC) or
/// `timeout` (REST) passed, so abandoned work frees its thread.
///
/// Thread safety: `cancel()` may be called from any thread while a query runs.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    private let parent: Cancellation?
    /// When the work is cancelled by itself; nil: never.
    public let deadline: ContinuousClock.Instant?

    /// `parent`: cancelling it cancels this one too.
    public init(deadline: ContinuousClock.Instant? = nil, parent: Cancellation? = nil) {
        self.deadline = deadline
        self.parent = parent
    }

    /// Cancels the work: every later `check()` of this cancellation, or of
    /// one created with it as `parent`, throws `.cancelled`.
    ///
    /// Idempotent; a query notices it at its next check, not at once.
    public func cancel() { flag.store(true, ordering: .relaxed) }

    /// Whether `cancel()` was called on this cancellation or on a parent, or
    /// the deadline has passed.
    public var isCancelled: Bool {
        if flag.load(ordering: .relaxed) || parent?.isCancelled == true { return true }
        guard let deadline else { return false }
        return ContinuousClock.now >= deadline
    }

    /// Throws `.cancelled` once cancelled or past the deadline.
    public func check() throws(StrataError) {
        guard isCancelled else { return }
        throw StrataError(.cancelled, "the request was cancelled or its deadline passed; its work was stopped")
    }
}
