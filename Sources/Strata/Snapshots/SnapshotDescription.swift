/// A snapshot archive as `Database.listSnapshots` and `createSnapshot` report it.
public struct SnapshotDescription: Sendable, Equatable {
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

/// What `Database.verifySnapshot` checked.
public struct SnapshotVerification: Sendable, Equatable {
    /// The archives of the chain, base first, each with its SHA-256.
    public var archives: [(path: String, sha256: String)] {
        zip(paths, checksums).map { ($0, $1) }
    }
    public var paths: [String]
    public var checksums: [String]
    /// The final archive's description (kind, collection, op numbers…).
    public var snapshot: SnapshotDescription
    /// Files of the restored state, and their bytes.
    public var files: Int
    public var bytes: UInt64

    public static func == (a: SnapshotVerification, b: SnapshotVerification) -> Bool {
        a.paths == b.paths && a.checksums == b.checksums && a.snapshot == b.snapshot && a.files == b.files
            && a.bytes == b.bytes
    }
}

/// What `Database.restoreSnapshot` did.
public struct SnapshotRestoreResult: Sendable, Equatable {
    /// The collections now holding the snapshot's state, with their op numbers.
    public var collections: [String: UInt64]
    /// Collections that existed and were replaced (or, for a full restore,
    /// removed because the snapshot does not hold them).
    public var replaced: [String]
    /// Bytes written into the data directory.
    public var bytes: UInt64
}
