#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The one lock idiom of the code base: the guarded state lives inside the
// lock and is reachable only in the closure that holds it, so forgetting to
// lock does not compile (swift-nio's `NIOLockedValueBox`, Swift's
// `Synchronization.Mutex<Value>`). `Locked` adds a condition to wait on, which
// `Synchronization.Mutex` lacks; `ReadWriteLocked` lets readers share.
//
// Rule for callers: a closure must not let a reference to a non-Sendable part
// of the state escape; copy out values instead. That rule is what makes the
// `@unchecked Sendable` below sound.

/// A value guarded by a mutex, with a condition for waiting on the value.
///
/// Thread safety: every access to the value goes through `withLock`, from any
/// thread (async or not; the closures never suspend). Not recursive: calling
/// `withLock` on the same lock inside its own closure deadlocks.
public final class Locked<State>: @unchecked Sendable {
    // SAFETY: `state` is read and written only between pthread_mutex_lock and
    // pthread_mutex_unlock of `mutex`; the pthread objects live in stable heap
    // memory owned by this object.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var state: State

    public init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    public func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Waits, with the lock released while waiting, until `isReady` holds for
    /// the value (checked under the lock after every wake-up), then runs `body`
    /// under the same hold of the lock. Whoever changes what `isReady` reads
    /// calls `broadcast()` (or `signal()`) afterwards.
    public func withLock<T>(whenReady isReady: (State) -> Bool, _ body: (inout State) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !isReady(state) { pthread_cond_wait(condition, mutex) }
        return try body(&state)
    }

    /// As `withLock(whenReady:_:)`, but waits at most `timeoutNanoseconds`;
    /// `body` runs when the value is ready or the time is up, whichever comes
    /// first (it checks the value itself to tell which).
    public func withLock<T>(
        whenReady isReady: (State) -> Bool, timeoutNanoseconds: UInt64,
        _ body: (inout State) throws -> T
    ) rethrows -> T {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = UInt64(now.tv_nsec) + timeoutNanoseconds
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !isReady(state) {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        return try body(&state)
    }

    /// Wakes every thread waiting in `withLock(whenReady:…)`.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Wakes one thread waiting in `withLock(whenReady:…)`.
    public func signal() { pthread_cond_signal(condition) }
}

/// A value guarded by a reader-writer lock: many readers or one writer.
///
/// Thread safety: as `Locked`. Code running under `withReadLock` is handed the
/// value and never takes the lock again: whether a second read lock waits
/// behind a queued writer is the platform's choice (on glibc it does not), and
/// correctness must not depend on it.
public final class ReadWriteLocked<State>: @unchecked Sendable {
    // SAFETY: `state` is read only between pthread_rwlock_rdlock (or wrlock)
    // and pthread_rwlock_unlock, and written only under wrlock; the pthread
    // lock lives in stable heap memory owned by this object.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private var state: State

    public init(_ state: State) {
        self.state = state
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` with the value, sharing the lock with other readers.
    @inline(__always)
    public func withReadLock<T>(_ body: (State) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(state)
    }

    /// Runs `body` with the value, holding the lock exclusively.
    @inline(__always)
    public func withWriteLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&state)
    }
}
