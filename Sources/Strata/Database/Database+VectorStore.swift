// The embedded store behind the protocols application code shares with
// StrataClient (StrataAPI/VectorStore.swift). Every requirement is met by the
// methods the engine already has; they are synchronous, which satisfies the
// protocols' `async` requirements.

extension Database: VectorStore {
    /// The embedded store hands out `Collection`s.
    public typealias CollectionHandle = Collection
}

extension Collection: VectorCollection {
    /// Runs `request` against this collection alone (ids used as examples are
    /// looked up here; a `lookupFrom` naming another collection is refused).
    /// `query(_:collections:cancellation:)` resolves other collections too.
    public func query(_ request: QueryRequest) throws -> [ScoredPoint] {
        try query(request, collections: nil, cancellation: nil)
    }
}
