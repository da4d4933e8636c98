import StrataWAL

/// How a database is opened.
public struct DatabaseOptions: Sendable, Equatable {
    /// When writes are acknowledged; see `Durability` and docs/durability.md.
    public var durability: Durability
    /// Size at which a collection's WAL starts a new file.
    public var walFileSize: Int
    /// Payload bytes of each collection's newest WAL records kept in memory,
    /// from which a cluster primary ships writes to its replicas without
    /// reading the WAL files (`WALOptions.recentRecordsBytes`); 0 keeps none.
    public var walRecentRecordsBytes: Int
    /// Writes to a collection wait while its sealed segments that the optimizer
    /// has not yet written and indexed hold more than this many bytes of vectors
    /// (ingest faster than indexing). Bounds that RAM; `Int.max` turns it off.
    public var maxUnindexedBytes: Int
    /// Where snapshot archives are written and listed; nil means
    /// `<data-dir>/snapshots`. Collection snapshots go in a subdirectory
    /// named after the collection, full-storage snapshots in the directory itself.
    public var snapshotsDirectory: String?
    /// The cluster's replication of writes (`Database.setReplicationHook`).
    public var replication = ReplicationHookSlot()
    /// The clock expiry (`TTLConfig`) is judged by; tests set their own.
    public var clock = WallClock.system
    /// How often a collection with a `ttl` config deletes its expired points
    /// through the WAL; nil: never in the background (`deleteExpiredPoints`
    /// does it when called). Reads hide expired points either way.
    public var expirySweepInterval: Duration? = .seconds(1)

    /// Creates options; every parameter sets the property of the same name.
    ///
    /// - Parameters:
    ///   - durability: When writes are acknowledged; `.durable` by default.
    ///   - walFileSize: Bytes at which a collection's WAL starts a new file;
    ///     32 MiB by default.
    ///   - maxUnindexedBytes: Bytes of vectors in sealed segments not yet
    ///     written by the optimizer above which writes wait; 1 GiB by default.
    ///   - snapshotsDirectory: Where snapshots go; nil (default) means
    ///     `<data-dir>/snapshots`.
    ///   - walRecentRecordsBytes: Bytes of the newest WAL records kept in
    ///     memory for replication; `WALOptions.defaultRecentRecordsBytes` by default.
    ///
    /// `replication`, `clock` and `expirySweepInterval` keep their defaults
    /// (no hook, the system clock, one second); set them on the value.
    public init(
        durability: Durability = .durable, walFileSize: Int = 32 << 20, maxUnindexedBytes: Int = 1 << 30,
        snapshotsDirectory: String? = nil, walRecentRecordsBytes: Int = WALOptions.defaultRecentRecordsBytes
    ) {
        self.durability = durability
        self.walFileSize = walFileSize
        self.walRecentRecordsBytes = walRecentRecordsBytes
        self.maxUnindexedBytes = maxUnindexedBytes
        self.snapshotsDirectory = snapshotsDirectory
    }
}
