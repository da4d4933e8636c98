import StrataIO

/// Write stall: when sealed segments waiting for the optimizer hold more than
/// `Backlog.limitBytes` of vectors (ingest faster than indexing), new writes
/// wait for flushes to catch up instead of letting RAM grow without bound.
extension CollectionStore {
    /// Bytes of vectors in sealed segments not yet written and indexed.
    var pendingBytes: Int { state.withReadLock { $0.frozen.reduce(0) { $0 + $1.segment.vectorBytes } } }

    /// Returns when a new write may be logged: the backlog is within the limit,
    /// the store is stopping, or the optimizer is failing (then stalling would
    /// hang writers; the error is reported through `storageInfo`).
    func waitWhileBacklogged() async {
        guard backlog.withLock({ $0.limitBytes }) < Int.max else { return }
        while true {
            let proceed: Bool = await withCheckedContinuation { continuation in
                // Checked and queued under the backlog lock, which
                // `wakeStalledWriters` takes too: no wake-up is lost between.
                backlog.withLock { backlog in
                    let failing = state.withReadLock { $0.lastMaintenanceError != nil }
                    if isStopping || failing || pendingBytes <= backlog.limitBytes {
                        continuation.resume(returning: true)
                    } else {
                        backlog.waiters.append(continuation)
                    }
                }
            }
            if proceed { return }
        }
    }

    /// Writers waiting in `waitWhileBacklogged` right now.
    var stalledWriterCount: Int { backlog.withLock { $0.waiters.count } }

    /// Lets every stalled writer check again (after a flush, an error, or at stop).
    func wakeStalledWriters() {
        let waiters: [CheckedContinuation<Bool, Never>] = backlog.withLock { backlog in
            defer { backlog.waiters = [] }
            return backlog.waiters
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }
}
