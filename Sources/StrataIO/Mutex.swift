#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain non-recursive mutex over `pthread_mutex_t`, for guarding small
/// critical sections from any thread (async or not). Each use site documents
/// what it guards.
public final class Mutex: @unchecked Sendable {
    // SAFETY: the pthread mutex lives in stable heap memory owned by this object.
    private let handle: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        handle = .allocate(capacity: 1)
        pthread_mutex_init(handle, nil)
    }

    deinit {
        pthread_mutex_destroy(handle)
        handle.deallocate()
    }

    public func lock() { pthread_mutex_lock(handle) }
    public func unlock() { pthread_mutex_unlock(handle) }

    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(handle)
        defer { pthread_mutex_unlock(handle) }
        return try body()
    }
}

/// A condition variable paired with a `Mutex`.
public final class ConditionVariable: @unchecked Sendable {
    // SAFETY: the pthread condition lives in stable heap memory owned by this object.
    private let handle: UnsafeMutablePointer<pthread_cond_t>
    public let mutex: Mutex

    public init(mutex: Mutex) {
        self.mutex = mutex
        handle = .allocate(capacity: 1)
        pthread_cond_init(handle, nil)
    }

    deinit {
        pthread_cond_destroy(handle)
        handle.deallocate()
    }

    /// Waits; the caller must hold `mutex`.
    public func wait() { mutex.withRawHandle { pthread_cond_wait(handle, $0) } }

    /// Waits at most `nanoseconds`; the caller must hold `mutex`.
    public func wait(nanoseconds: UInt64) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = UInt64(now.tv_nsec) + nanoseconds
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        mutex.withRawHandle { _ = pthread_cond_timedwait(handle, $0, &deadline) }
    }

    public func signal() { pthread_cond_signal(handle) }
    public func broadcast() { pthread_cond_broadcast(handle) }
}

/// A reader-writer lock over `pthread_rwlock_t`: many readers or one writer.
public final class ReadWriteLock: @unchecked Sendable {
    // SAFETY: the pthread rwlock lives in stable heap memory owned by this object.
    private let handle: UnsafeMutablePointer<pthread_rwlock_t>

    public init() {
        handle = .allocate(capacity: 1)
        pthread_rwlock_init(handle, nil)
    }

    deinit {
        pthread_rwlock_destroy(handle)
        handle.deallocate()
    }

    @inline(__always)
    public func withReadLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(handle)
        defer { pthread_rwlock_unlock(handle) }
        return try body()
    }

    @inline(__always)
    public func withWriteLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(handle)
        defer { pthread_rwlock_unlock(handle) }
        return try body()
    }
}

extension Mutex {
    fileprivate func withRawHandle(_ body: (UnsafeMutablePointer<pthread_mutex_t>) -> Void) {
        body(handle)
    }
}
