import StrataIO

/// What became of a `Collection` handle that a schema change closed
/// (`Database.createVectorName`, `deleteVectorName`): writes that the closed
/// handle refused wait here for the reopened collection and go there instead,
/// so a write racing a change lands before it or after it, never nowhere.
///
/// Thread safety: all state is behind one mutex; `successor()` suspends (it
/// does not block a thread) while a change is in progress.
final class CollectionReplacement: Sendable {
    private enum State {
        /// The handle was never replaced: a `.closed` error is final.
        case none
        /// A change is closing and reopening the collection.
        case pending([CheckedContinuation<Collection?, Never>])
        /// The change finished; nil when no collection could be reopened.
        case done(Collection?)
    }

    /// Guards what became of the handle, and the writes waiting for it.
    private let state = Locked(State.none)

    /// Called (under the database lock) before the handle is closed.
    func begin() {
        state.withLock { state in
            if case .none = state { state = .pending([]) }
        }
    }

    /// Called once the change finished, with the reopened collection (or nil).
    func finish(_ successor: Collection?) {
        let waiters: [CheckedContinuation<Collection?, Never>] = state.withLock { state in
            defer { state = .done(successor) }
            if case .pending(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(returning: successor) }
    }

    /// The collection that replaced this handle: nil at once when it was never
    /// replaced, else after the change finished.
    func successor() async -> Collection? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Collection?, Never>) in
            let immediate: Collection?? = state.withLock { state in
                switch state {
                case .none: return .some(nil)
                case .done(let successor): return .some(successor)
                case .pending(var waiters):
                    waiters.append(continuation)
                    state = .pending(waiters)
                    return .none
                }
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }
}
