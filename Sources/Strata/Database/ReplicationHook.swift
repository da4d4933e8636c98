import StrataIO

/// What a cluster plugs into the engine so that a collection's writes are
/// replicated (docs/cluster.md, "Data path"). Without a hook (a single node,
/// an embedded database) writes are acknowledged once they are durable here.
///
/// For each write to a collection, `Collection` calls `authorizeWrite` before
/// logging it (a node that is not the collection's primary, or whose lease may
/// have expired, refuses: nothing is written) and `replicate` after it is
/// durable here and before acknowledging it (the hook waits until enough
/// replicas have it; if it throws, the write is not acknowledged, though it
/// stays in this log: it was in flight). `authorizeWrite` returns a token
/// (the cluster's epoch) that `replicate` gets back, so that a node deposed in
/// between acknowledges nothing. Replicated records applied with
/// `applyReplicated` are not hooked.
public protocol ReplicationHook: Sendable {
    /// Decides whether this node may take a write to `collection` now, before
    /// anything is logged.
    ///
    /// Called once per write, before the write waits for the optimizer's
    /// backlog (`DatabaseOptions.maxUnindexedBytes`) or is appended. Throw to
    /// refuse the write: nothing is written and the writer gets the error as
    /// thrown.
    ///
    /// - Parameter collection: The name of the collection written to.
    /// - Returns: A token (the cluster uses its placement's epoch) that
    ///   `replicate(collection:through:authorization:)` receives for this write.
    func authorizeWrite(collection: String) throws -> UInt64

    /// Waits until enough replicas hold the write logged as `opNum`, before
    /// it is acknowledged.
    ///
    /// Called after the write is in this node's WAL (durable, in `.durable`
    /// mode) and applied here. Throwing means the write is not acknowledged,
    /// though it stays in this log (it was in flight). A `StrataError`
    /// reaches the writer as thrown; any other error becomes an `.io` error
    /// naming the collection.
    ///
    /// - Parameters:
    ///   - collection: The name of the collection written to.
    ///   - opNum: The op number of the write, as this node's WAL gave it.
    ///   - authorization: What `authorizeWrite(collection:)` returned for
    ///     this write, so that a node deposed in between can refuse.
    func replicate(collection: String, through opNum: UInt64, authorization: UInt64) async throws
}

/// Where a database keeps its hook; shared by all its collections, set with
/// `Database.setReplicationHook`. Thread-safe.
public final class ReplicationHookSlot: Sendable, Equatable {
    private let hook = Locked<(any ReplicationHook)?>(nil)

    /// Creates an empty slot: writes are not replicated until a hook is set.
    public init() {}

    /// The hook writes go through now; nil when none is set.
    public var current: (any ReplicationHook)? { hook.withLock { $0 } }

    func set(_ newHook: (any ReplicationHook)?) { hook.withLock { $0 = newHook } }

    public static func == (left: ReplicationHookSlot, right: ReplicationHookSlot) -> Bool { left === right }
}

extension Database {
    /// Makes every write to every collection go through `hook` (nil: none).
    public func setReplicationHook(_ hook: (any ReplicationHook)?) { options.replication.set(hook) }
}
