import StrataPayload

/// Qdrant's conditional writes: `update_mode` and `update_filter`. The
/// condition is logged with the write and decided per point when the write
/// is applied, in op order, so it is atomic with respect to other writes and
/// replay after a crash decides exactly as the first time did
/// (docs/format/operations.md, tags 14 and 15).
extension Collection {
    /// Upserts `points` as `mode` says (`insertOnly`: only ids that do not
    /// exist; `updateOnly`: only ids that do), and replaces an existing point
    /// only when it matches `filter` (new points are inserted regardless).
    /// Validation is `upsert`'s.
    @discardableResult
    public func upsert(_ points: [PointStruct], mode: UpdateMode, filter: Filter? = nil) async throws -> UpdateResult {
        let validated = try validate(points)
        if mode == .upsert && filter == nil { return try await log(.upsert(validated)) }
        if let filter { try store.read { try $0.requireKnownVectors(in: filter) } }
        return try await log(.conditionalUpsert(points: validated, mode: mode, filter: filter))
    }

    /// `updateVectors` of the points that match `filter` when the write is
    /// applied; the others keep their vectors. Throws `.notFound` (nothing
    /// changed) when a point does not exist.
    @discardableResult
    public func updateVectors(_ points: [PointVectors], filter: Filter) async throws -> UpdateResult {
        let prepared = try prepareVectorUpdates(points)
        try store.read { try $0.requireKnownVectors(in: filter) }
        try requireExisting(prepared.map(\.id))
        return try await log(.conditionalUpdateVectors(points: prepared, filter: filter))
    }
}
