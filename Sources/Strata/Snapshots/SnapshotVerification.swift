/// What `Database.verifySnapshot` checked.
public struct SnapshotVerification: Sendable, Equatable {
    /// The archives of the chain, base first, each with its SHA-256.
    public var archives: [(path: String, sha256: String)] {
        zip(paths, checksums).map { ($0, $1) }
    }
    /// The paths of the archives checked, base first, as given.
    public var paths: [String]
    /// The SHA-256 (hex) of each archive in `paths`, at the same index.
    public var checksums: [String]
    /// The final archive's description (kind, collection, op numbers…).
    public var snapshot: SnapshotDescription
    /// Files of the restored state, and their bytes.
    public var files: Int
    /// Bytes of the files of the restored state, base files included
    /// (the final archive's `SnapshotDescription.stateBytes`).
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
