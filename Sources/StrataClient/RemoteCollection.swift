import StrataAPI

/// A collection on a server, reached through `StrataClient`: the remote
/// counterpart of the embedded `Strata.Collection`, with the same operations
/// (`VectorCollection`), arguments, results and errors.
///
/// A handle is a name and the client's connections; it holds no state of the
/// collection, so it stays valid as long as the client does, and a request
/// on a collection deleted meanwhile throws `.notFound`.
public struct RemoteCollection: VectorCollection {
    /// The collection's name on the server.
    public let name: String
    let backend: Backend
    /// The row size of each multivector of the collection, by vector name.
    let rowSizes: [String: Int]

    init(name: String, backend: Backend, rowSizes: [String: Int]) {
        self.name = name
        self.backend = backend
        self.rowSizes = rowSizes
    }

    private var base: String { "/collections/\(RESTTransport.segment(name))" }

    /// A write over REST, or `grpc` over gRPC.
    private func write(
        _ path: String, _ body: @autoclosure () throws -> JSONValue, method: RESTTransport.Method = .post,
        grpc: (GRPCTransport) async throws -> UpdateResult
    ) async throws -> UpdateResult {
        switch backend {
        case .rest(let transport):
            return try WireDecoding.updateResult(
                try await transport.send(
                    method, base + path, query: [("wait", "true")], body: try body(), idempotent: false))
        case .grpc(let transport):
            return try await grpc(transport)
        }
    }

    private func read(_ path: String, _ body: JSONValue, transport: RESTTransport) async throws -> JSONValue {
        try await transport.send(.post, base + path, body: body, idempotent: true)
    }

    // MARK: - Writes

    /// Inserts points or replaces those with the same ids (`PUT …/points`).
    public func upsert(_ points: [PointStruct]) async throws -> UpdateResult {
        try await write(
            "/points", ["points": .array(points.map { WireEncoding.point($0, rowSizes: rowSizes) })], method: .put
        ) { try await $0.upsert(name, points, rowSizes: rowSizes) }
    }

    /// Deletes the points with these ids.
    public func delete(_ ids: [PointID]) async throws -> UpdateResult {
        try await write("/points/delete", ["points": WireEncoding.ids(ids)]) {
            try await $0.delete(name, GRPCTransport.selector(ids))
        }
    }

    /// Deletes every point matching `filter`.
    public func delete(filter: Filter) async throws -> UpdateResult {
        try await write("/points/delete", ["filter": filter.json]) {
            try await $0.delete(name, try GRPCTransport.selector(filter))
        }
    }

    /// Sets these payload keys on the points (other keys are kept).
    public func setPayload(_ payload: Payload, for ids: [PointID]) async throws -> UpdateResult {
        try await write("/points/payload", ["payload": .object(payload), "points": WireEncoding.ids(ids)]) {
            try await $0.setPayload(name, payload, ids, overwrite: false)
        }
    }

    /// Replaces the whole payload of the points.
    public func overwritePayload(_ payload: Payload, for ids: [PointID]) async throws -> UpdateResult {
        try await write(
            "/points/payload", ["payload": .object(payload), "points": WireEncoding.ids(ids)], method: .put
        ) { try await $0.setPayload(name, payload, ids, overwrite: true) }
    }

    /// Removes these payload keys from the points.
    public func deletePayloadKeys(_ keys: [String], for ids: [PointID]) async throws -> UpdateResult {
        try await write(
            "/points/payload/delete", ["keys": .array(keys.map { .string($0) }), "points": WireEncoding.ids(ids)]
        ) { try await $0.deletePayloadKeys(name, keys, ids) }
    }

    /// Removes every payload key of the points.
    public func clearPayload(for ids: [PointID]) async throws -> UpdateResult {
        try await write("/points/payload/clear", ["points": WireEncoding.ids(ids)]) {
            try await $0.clearPayload(name, ids)
        }
    }

    /// Indexes the payload field `key` (`PUT …/index`).
    public func createFieldIndex(_ key: String, schema: PayloadFieldSchema) async throws -> UpdateResult {
        try await write("/index", ["field_name": .string(key), "field_schema": schema.json], method: .put) {
            try await $0.createFieldIndex(name, key, schema)
        }
    }

    /// Drops the index of the payload field `key`.
    public func deleteFieldIndex(_ key: String) async throws -> UpdateResult {
        guard case .rest(let transport) = backend else { return try await grpc.deleteFieldIndex(name, key) }
        return try WireDecoding.updateResult(
            try await transport.send(
                .delete, base + "/index/\(RESTTransport.segment(key))", query: [("wait", "true")], idempotent: false))
    }

    // MARK: - Reads

    /// The points with these ids that exist, in the order asked. `Record.version`
    /// is 0: Qdrant's API does not report it for retrieved points.
    public func retrieve(
        _ ids: [PointID], withPayload: Bool = true, withVector: Bool = false
    ) async throws
        -> [Record]
    {
        guard case .rest(let transport) = backend else {
            return try await grpc.retrieve(name, ids, withPayload: withPayload, withVector: withVector)
        }
        let result = try await read(
            "/points",
            ["ids": WireEncoding.ids(ids), "with_payload": .bool(withPayload), "with_vector": .bool(withVector)],
            transport: transport)
        return try WireDecoding.array(result, "a list of points").map(WireDecoding.record)
    }

    /// Up to `limit` points in id order from `offset` (inclusive), and the id
    /// of the next page (nil at the end).
    public func scroll(
        offset: PointID? = nil, limit: Int = 10, filter: Filter? = nil, withPayload: Bool = true,
        withVector: Bool = false
    ) async throws -> (points: [Record], nextOffset: PointID?) {
        guard case .rest(let transport) = backend else {
            return try await grpc.scroll(
                name, offset: offset, limit: limit, filter: filter, withPayload: withPayload, withVector: withVector)
        }
        var body: [String: JSONValue] = [
            "limit": .int(Int64(limit)), "with_payload": .bool(withPayload), "with_vector": .bool(withVector),
        ]
        if let offset { body["offset"] = WireEncoding.id(offset) }
        if let filter { body["filter"] = filter.json }
        let page = try WireDecoding.object(
            try await read("/points/scroll", .object(body), transport: transport), "a scroll page")
        let points = try WireDecoding.array(page["points"], "points").map(WireDecoding.record)
        var next: PointID?
        if let value = page["next_page_offset"], value != .null { next = try WireDecoding.id(value) }
        return (points, next)
    }

    /// The number of points matching `filter` (all with nil); `exact: false`
    /// allows an estimate.
    public func count(filter: Filter? = nil, exact: Bool = true) async throws -> Int {
        guard case .rest(let transport) = backend else {
            return try await grpc.count(name, filter: filter, exact: exact)
        }
        var body: [String: JSONValue] = ["exact": .bool(exact)]
        if let filter { body["filter"] = filter.json }
        let result = try WireDecoding.object(
            try await read("/points/count", .object(body), transport: transport), "a count")
        return try WireDecoding.int(result["count"], "count")
    }

    /// The `limit` nearest points to `vector` under vector `using`'s
    /// distance, best first (a nearest query on `POST …/points/query`).
    public func search(
        _ vector: [Float], using: String = CollectionConfig.defaultVectorName, limit: Int = 10,
        params: SearchParams = SearchParams(), filter: Filter? = nil, scoreThreshold: Float? = nil,
        withPayload: Bool = false, withVector: Bool = false
    ) async throws -> [ScoredPoint] {
        try await query(
            QueryRequest(
                query: .nearest(.dense(vector)), using: using, filter: filter, params: params,
                scoreThreshold: scoreThreshold, limit: limit, withPayload: withPayload, withVector: withVector))
    }

    /// Runs a universal query (`POST …/points/query`, or gRPC's `Points/Query`).
    public func query(_ request: QueryRequest) async throws -> [ScoredPoint] {
        guard case .rest(let transport) = backend else { return try await grpc.query(name, request) }
        let result = try WireDecoding.object(
            try await read("/points/query", try WireEncoding.queryRequest(request), transport: transport),
            "a query result")
        return try WireDecoding.array(result["points"], "points").map(WireDecoding.scoredPoint)
    }

    /// The gRPC transport (only called when `backend` is gRPC).
    private var grpc: GRPCTransport {
        guard case .grpc(let transport) = backend else { preconditionFailure("not a gRPC collection") }
        return transport
    }
}
