/// An exclusive lock on a path, held until `release()` or deinit (or process
/// death, for POSIX `flock`). One process — and one opener within a process —
/// may hold a given lock at a time.
public final class FileLock: Sendable {
    public let path: String
    /// Whether `releaseAction` has been claimed: it runs at most once.
    private let released = Locked(false)
    private let releaseAction: @Sendable () -> Void

    public init(path: String, release: @escaping @Sendable () -> Void) {
        self.path = path
        self.releaseAction = release
    }

    /// Releases the lock. Safe to call more than once.
    public func release() {
        let shouldRelease = released.withLock { released -> Bool in
            if released { return false }
            released = true
            return true
        }
        if shouldRelease { releaseAction() }
    }

    deinit { release() }
}
