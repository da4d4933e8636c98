/// Payload field indexes, and the operations that select points by filter.
///
/// A write by filter resolves the filter to ids when it is called and logs
/// those ids (replay never re-evaluates a filter); points that start to match
/// after that moment are not affected.
extension Collection {
    static func path(_ key: String) throws -> PayloadPath {
        do { return try PayloadPath(key) } catch { throw StrataError.invalid(error.message) }
    }

    // MARK: - Field indexes

    /// Creates (or replaces) the index of payload field `key`. Existing
    /// immutable segments are indexed before this returns; filters, `facet`
    /// and `order_by` use it from then on. Logged like any write.
    @discardableResult
    public func createFieldIndex(_ key: String, schema: PayloadFieldSchema) async throws -> UpdateResult {
        let path = try Self.path(key)
        guard path.description.utf8.count <= 255 else {
            throw StrataError.invalid("payload key \"\(key)\" is longer than 255 bytes")
        }
        return try await log(.createFieldIndex(key: path.description, schema: schema.json))
    }

    /// Drops the index of payload field `key` (no error when there is none).
    @discardableResult
    public func deleteFieldIndex(_ key: String) async throws -> UpdateResult {
        try await log(.deleteFieldIndex(key: try Self.path(key).description))
    }

    /// The payload field indexes with the number of points holding a value at each key.
    public var payloadSchema: [(key: String, schema: PayloadFieldSchema, points: Int)] {
        store.payloadSchemaInfo().map { (key: $0.key.description, schema: $0.schema, points: $0.points) }
    }

    // MARK: - Writes by filter

    /// The ids of the points matching `filter` now, sorted.
    public func ids(matching filter: Filter) throws -> [PointID] { try store.matchingIDs(filter) }

    /// Deletes the points matching `filter`.
    @discardableResult
    public func delete(filter: Filter) async throws -> UpdateResult {
        try await delete(try ids(matching: filter))
    }

    /// Merges `payload` into the object at path `key` (the payload's top
    /// level when nil) of each existing point in `ids`.
    @discardableResult
    public func setPayload(_ payload: Payload, for ids: [PointID], key: String?) async throws -> UpdateResult {
        guard let key else { return try await setPayload(payload, for: ids) }
        let path = try Self.path(key)
        guard JSONValue.object(payload).isFinite else {
            throw StrataError.invalid("payload contains a NaN or infinite number, which JSON cannot represent")
        }
        return try await log(.setPayloadAtKey(ids: ids, payload: payload, key: path.description))
    }

    /// `setPayload` on the points matching `filter`.
    @discardableResult
    public func setPayload(_ payload: Payload, filter: Filter, key: String? = nil) async throws -> UpdateResult {
        try await setPayload(payload, for: try ids(matching: filter), key: key)
    }

    /// `overwritePayload` on the points matching `filter`.
    @discardableResult
    public func overwritePayload(_ payload: Payload, filter: Filter) async throws -> UpdateResult {
        try await overwritePayload(payload, for: try ids(matching: filter))
    }

    /// `deletePayloadKeys` on the points matching `filter`.
    @discardableResult
    public func deletePayloadKeys(_ keys: [String], filter: Filter) async throws -> UpdateResult {
        try await deletePayloadKeys(keys, for: try ids(matching: filter))
    }

    /// `clearPayload` on the points matching `filter`.
    @discardableResult
    public func clearPayload(filter: Filter) async throws -> UpdateResult {
        try await clearPayload(for: try ids(matching: filter))
    }

    // MARK: - Reads

    /// Per value of the indexed field `key` (keyword, integer, uuid or bool
    /// index), how many points matching `filter` hold it: the `limit` most
    /// frequent, ties by value.
    public func facet(_ key: String, filter: Filter? = nil, limit: Int = 10) throws -> [(value: JSONValue, count: Int)]
    {
        try QueryValidation.checkLimit(limit)
        return try store.facet(key: try Self.path(key), filter: filter, limit: limit).map {
            (value: $0.value.json, count: $0.count)
        }
    }

    /// How `scroll(orderBy:)` orders (the shared `StrataAPI.OrderBy`).
    public typealias OrderBy = StrataAPI.OrderBy

    /// Up to `limit` points matching `filter`, ordered by the indexed numeric
    /// or datetime field `orderBy.key` (points without a value left out; each
    /// point once; equal values by id).
    public func scroll(
        orderBy: OrderBy, limit: Int = 10, filter: Filter? = nil, withPayload: Bool = true, withVector: Bool = false
    )
        throws -> [(record: Record, orderValue: Double)]
    {
        try QueryValidation.checkLimit(limit)
        return try store.ordered(
            by: try Self.path(orderBy.key), descending: orderBy.descending, startFrom: orderBy.startFrom,
            filter: filter, limit: limit, withPayload: withPayload, withVector: withVector
        ).map { (record: $0.record, orderValue: $0.value) }
    }
}
