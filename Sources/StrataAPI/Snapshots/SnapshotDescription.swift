/// A snapshot archive as `Database.listSnapshots` and `createSnapshot` report it.
public struct SnapshotDescription: Sendable, Equatable {
    /// What a snapshot archive holds (from its manifest).
    public enum Kind: String, Sendable, Equatable {
        /// One collection.
        case collection
        /// Every collection plus aliases (a full-storage snapshot).
        case full
    }

    /// The archive's file name, `<collection>-<UTC time>-<op_num>.snapshot`
    /// or `full-<UTC time>.snapshot`.
    public var name: String
    /// Where the archive is.
    public var path: String
    /// The archive's size in bytes.
    public var size: UInt64
    /// nil when the archive's manifest could not be read (see `problem`).
    public var kind: Kind?
    /// The snapshotted collection (collection snapshots).
    public var collection: String?
    /// The last operation the snapshot holds (collection snapshots; a full
    /// snapshot holds each collection at its own op number, see `collections`).
    public var opNum: UInt64?
    /// Per collection in the snapshot: its op number.
    public var collections: [String: UInt64]
    /// When the snapshot was taken: ISO 8601, UTC.
    public var createdAt: String?
    /// SHA-256 of the archive (hex), from its `.sha256` file.
    public var checksum: String?
    /// For an incremental snapshot: the SHA-256 of the archive it builds on.
    public var baseChecksum: String?
    /// Bytes of files the snapshot's state holds, including those in its base.
    public var stateBytes: UInt64
    /// Why the archive's manifest could not be read, if it could not.
    public var problem: String?

    /// Creates a description of the archive `name` at `path`, of `size`
    /// bytes; the other fields default to unknown (nil, empty, 0).
    public init(
        name: String, path: String, size: UInt64, kind: Kind? = nil, collection: String? = nil, opNum: UInt64? = nil,
        collections: [String: UInt64] = [:], createdAt: String? = nil, checksum: String? = nil,
        baseChecksum: String? = nil, stateBytes: UInt64 = 0, problem: String? = nil
    ) {
        self.name = name
        self.path = path
        self.size = size
        self.kind = kind
        self.collection = collection
        self.opNum = opNum
        self.collections = collections
        self.createdAt = createdAt
        self.checksum = checksum
        self.baseChecksum = baseChecksum
        self.stateBytes = stateBytes
        self.problem = problem
    }
}
