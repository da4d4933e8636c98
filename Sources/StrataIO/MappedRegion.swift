#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes of a file, owned: released exactly once when the value is
/// destroyed. Either a real `mmap` (POSIX) or a heap copy (the fault-injecting
/// file system, which has no kernel pages to map).
///
/// Lifetime: the bytes are reachable only inside `withUnsafeBytes`, while the
/// region is borrowed, so no pointer can outlive the mapping (a stored
/// `bytes` property would let `try file.map(…).bytes` read unmapped memory).
public struct MappedRegion: ~Copyable, @unchecked Sendable {
    // SAFETY: the mapping is read-only and never mutated after creation, so
    // sharing the pointer between threads is safe; ~Copyable guarantees one owner
    // and one release.
    private let bytes: UnsafeRawBufferPointer
    private let release: Release

    enum Release {
        /// `munmap(base, length)` of a real mapping.
        case unmap(UnsafeMutableRawPointer, Int)
        /// Free a heap buffer.
        case deallocate(UnsafeMutableRawBufferPointer)
        /// Nothing to release (zero-length region).
        case none
    }

    init(bytes: UnsafeRawBufferPointer, release: Release) {
        self.bytes = bytes
        self.release = release
    }

    /// A region holding a private copy of `source` (used by non-POSIX file systems).
    public init(copying source: UnsafeRawBufferPointer) {
        if source.isEmpty {
            self.init(bytes: UnsafeRawBufferPointer(start: nil, count: 0), release: .none)
            return
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: source.count, alignment: 64)
        storage.copyMemory(from: source)
        self.init(bytes: UnsafeRawBufferPointer(storage), release: .deallocate(storage))
    }

    public var count: Int { bytes.count }

    /// Calls `body` with the mapped bytes. The pointer is valid only during the
    /// call; do not store it or let it escape.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(bytes)
    }

    /// Tells the kernel this process no longer needs the pages of `range`
    /// (byte offsets in the region) resident: they leave this process's
    /// resident set and stay in the page cache; a later read faults them back
    /// in. For file data copied elsewhere at open (quantized codes). No effect
    /// on heap copies. Whole pages inside the range only.
    public func releasePages(_ range: Range<Int>) {
        guard case .unmap(let base, _) = release, !range.isEmpty, range.upperBound <= bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > start else { return }
        _ = madvise(base + start, end - start, Int32(MADV_DONTNEED))
    }

    /// Tells the kernel that accesses will be random (`MADV_RANDOM`): page
    /// faults read only the page needed instead of reading ahead around it.
    /// For graph walks over large segments, whose reads are scattered.
    public func adviseRandomAccess() {
        guard case .unmap(let base, let length) = release else { return }
        _ = madvise(base, length, Int32(MADV_RANDOM))
    }

    deinit {
        switch release {
        case .unmap(let base, let length):
            munmap(base, length)
        case .deallocate(let storage):
            storage.deallocate()
        case .none:
            break
        }
    }
}
