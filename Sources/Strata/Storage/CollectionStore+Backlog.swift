import StrataIO

/// Write stall: when sealed segments waiting for the optimizer hold more than
/// `backlogLimitBytes` of vectors (ingest faster than indexing), new writes
/// wait for flushes to catch up instead of letting RAM grow without bound.
extension CollectionStore {
    /// Bytes of vectors in sealed segments not yet written and indexed.
    var pendingBytes: Int { withStateLock { $0.frozen.reduce(0) { $0 + $1.segment.vectorBytes } } }

    /// Returns when a new write may be logged: the backlog is within the limit,
    /// the store is stopping, or the optimizer is failing (then stalling would
    /// hang writers; the error is reported through `storageInfo`).
    func waitWhileBacklogged() async {
        guard backlogLimitBytes < Int.max else { return }
        while true {
            let proceed: Bool = await withCheckedContinuation { continuation in
                backlog.withLock {
                    let stopping = wakeUpMutex.withLock { self.stopping }
                    let failing = withStateLock { $0.lastMaintenanceError != nil }
                    if stopping || failing || pendingBytes <= backlogLimitBytes {
                        continuation.resume(returning: true)
                    } else {
                        backlogWaiters.append(continuation)
                    }
                }
            }
            if proceed { return }
        }
    }

    /// Writers waiting in `waitWhileBacklogged` right now.
    var stalledWriterCount: Int { backlog.withLock { backlogWaiters.count } }

    /// Lets every stalled writer check again (after a flush, an error, or at stop).
    func wakeStalledWriters() {
        let waiters: [CheckedContinuation<Bool, Never>] = backlog.withLock {
            defer { backlogWaiters = [] }
            return backlogWaiters
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }
}
