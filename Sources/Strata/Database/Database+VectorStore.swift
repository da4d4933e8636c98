// The embedded store behind the protocols application code shares with
// StrataClient (StrataAPI/VectorStore.swift). Every requirement is met by the
// methods the engine already has; they are synchronous, which satisfies the
// protocols' `async` requirements.

extension Database: VectorStore {
    /// The embedded store hands out `Collection`s.
    public typealias CollectionHandle = Collection

    /// Takes a full (not incremental) snapshot of collection `name`
    /// (`createSnapshot(of:incrementalFrom:)` with no base).
    @discardableResult
    public func createSnapshot(of name: String) throws -> SnapshotDescription {
        try createSnapshot(of: name, incrementalFrom: nil)
    }

    /// The snapshots of collection `name` (`listSnapshots(collection:)`);
    /// throws `.notFound` for an unknown collection.
    public func snapshots(of name: String) throws -> [SnapshotDescription] {
        _ = try collection(name)
        return try listSnapshots(collection: name)
    }
}

extension Collection: VectorCollection {
    /// Runs `request` against this collection alone (ids used as examples are
    /// looked up here; a `lookupFrom` naming another collection is refused).
    /// `query(_:collections:cancellation:)` resolves other collections too.
    public func query(_ request: QueryRequest) throws -> [ScoredPoint] {
        try query(request, collections: nil, cancellation: nil)
    }
}
