// Each operation of `StrataClient` and `RemoteCollection` over Qdrant's gRPC
// API: the request built by `GRPCRequests`, the reply read back into the
// shared model types.
import Foundation
import GRPCCore
import StrataAPI
import StrataGRPCProtocol
import SwiftProtobuf

extension GRPCTransport {
    // MARK: - Collections

    func createCollection(_ name: String, _ config: CollectionConfig) async throws {
        let request = try GRPCRequests.createCollection(name, config)
        let reply = try await call("Collections/Create", idempotent: false) { [request] metadata, options in
            try await self.collections.create(request, metadata: metadata, options: options)
        }
        guard reply.result else { throw StrataError(.io, "the server did not create collection `\(name)`") }
    }

    func collectionExists(_ name: String) async throws -> Bool {
        var request = Qdrant_CollectionExistsRequest()
        request.collectionName = name
        return try await call("Collections/CollectionExists", idempotent: true) { [request] metadata, options in
            try await self.collections.collectionExists(request, metadata: metadata, options: options)
        }.result.exists
    }

    /// The sizes of the collection's multivector rows by vector name (a
    /// `PointStruct` keeps a multivector's rows back to back; gRPC sends rows).
    func multivectorRowSizes(_ name: String) async throws -> [String: Int] {
        var request = Qdrant_GetCollectionInfoRequest()
        request.collectionName = name
        let info = try await call("Collections/Get", idempotent: true) { [request] metadata, options in
            try await self.collections.get(request, metadata: metadata, options: options)
        }
        var sizes: [String: Int] = [:]
        switch info.result.config.params.vectorsConfig.config {
        case .params(let params)?:
            if params.hasMultivectorConfig { sizes[CollectionConfig.defaultVectorName] = Int(params.size) }
        case .paramsMap(let map)?:
            for (vector, params) in map.map where params.hasMultivectorConfig { sizes[vector] = Int(params.size) }
        case nil: break
        }
        return sizes
    }

    func deleteCollection(_ name: String) async throws -> Bool {
        var request = Qdrant_DeleteCollection()
        request.collectionName = name
        return try await call("Collections/Delete", idempotent: false) { [request] metadata, options in
            try await self.collections.delete(request, metadata: metadata, options: options)
        }.result
    }

    func collectionNames() async throws -> [String] {
        try await call("Collections/List", idempotent: true) {
            try await self.collections.list(Qdrant_ListCollectionsRequest(), metadata: $0, options: $1)
        }.collections.map(\.name).sorted()
    }

    // MARK: - Snapshots

    func createSnapshot(of collection: String?) async throws -> SnapshotDescription {
        let reply: Qdrant_CreateSnapshotResponse
        if let collection {
            var request = Qdrant_CreateSnapshotRequest()
            request.collectionName = collection
            reply = try await call("Snapshots/Create", idempotent: false) { [request] metadata, options in
                try await self.snapshots.create(request, metadata: metadata, options: options)
            }
        } else {
            reply = try await call("Snapshots/CreateFull", idempotent: false) {
                try await self.snapshots.createFull(Qdrant_CreateFullSnapshotRequest(), metadata: $0, options: $1)
            }
        }
        return GRPCReplies.snapshot(reply.snapshotDescription, collection: collection)
    }

    func snapshots(of collection: String?) async throws -> [SnapshotDescription] {
        let reply: Qdrant_ListSnapshotsResponse
        if let collection {
            var request = Qdrant_ListSnapshotsRequest()
            request.collectionName = collection
            reply = try await call("Snapshots/List", idempotent: true) { [request] metadata, options in
                try await self.snapshots.list(request, metadata: metadata, options: options)
            }
        } else {
            reply = try await call("Snapshots/ListFull", idempotent: true) {
                try await self.snapshots.listFull(Qdrant_ListFullSnapshotsRequest(), metadata: $0, options: $1)
            }
        }
        return reply.snapshotDescriptions.map { GRPCReplies.snapshot($0, collection: collection) }
            .sorted { $0.name < $1.name }
    }

    func deleteSnapshot(_ name: String, of collection: String?) async throws {
        if let collection {
            var request = Qdrant_DeleteSnapshotRequest()
            request.collectionName = collection
            request.snapshotName = name
            _ = try await call("Snapshots/Delete", idempotent: false) { [request] metadata, options in
                try await self.snapshots.delete(request, metadata: metadata, options: options)
            }
        } else {
            var request = Qdrant_DeleteFullSnapshotRequest()
            request.snapshotName = name
            _ = try await call("Snapshots/DeleteFull", idempotent: false) { [request] metadata, options in
                try await self.snapshots.deleteFull(request, metadata: metadata, options: options)
            }
        }
    }

    // MARK: - Writes

    func upsert(_ collection: String, _ points: [PointStruct], rowSizes: [String: Int]) async throws -> UpdateResult {
        var request = Qdrant_UpsertPoints()
        request.collectionName = collection
        request.wait = true
        request.points = points.map { GRPCRequests.point($0, multivectorRowSizes: rowSizes) }
        return try await write("Points/Upsert") { [request] metadata, options in
            try await self.points.upsert(request, metadata: metadata, options: options)
        }
    }

    func delete(_ collection: String, _ selector: Qdrant_PointsSelector) async throws -> UpdateResult {
        var request = Qdrant_DeletePoints()
        request.collectionName = collection
        request.wait = true
        request.points = selector
        return try await write("Points/Delete") { [request] metadata, options in
            try await self.points.delete(request, metadata: metadata, options: options)
        }
    }

    func setPayload(
        _ collection: String, _ payload: Payload, _ ids: [PointID], overwrite: Bool
    ) async throws
        -> UpdateResult
    {
        var request = Qdrant_SetPayloadPoints()
        request.collectionName = collection
        request.wait = true
        request.payload = GRPCRequests.payload(payload)
        request.pointsSelector = Self.selector(ids)
        if overwrite {
            return try await write("Points/OverwritePayload") { [request] metadata, options in
                try await self.points.overwritePayload(request, metadata: metadata, options: options)
            }
        }
        return try await write("Points/SetPayload") { [request] metadata, options in
            try await self.points.setPayload(request, metadata: metadata, options: options)
        }
    }

    func deletePayloadKeys(_ collection: String, _ keys: [String], _ ids: [PointID]) async throws -> UpdateResult {
        var request = Qdrant_DeletePayloadPoints()
        request.collectionName = collection
        request.wait = true
        request.keys = keys
        request.pointsSelector = Self.selector(ids)
        return try await write("Points/DeletePayload") { [request] metadata, options in
            try await self.points.deletePayload(request, metadata: metadata, options: options)
        }
    }

    func clearPayload(_ collection: String, _ ids: [PointID]) async throws -> UpdateResult {
        var request = Qdrant_ClearPayloadPoints()
        request.collectionName = collection
        request.wait = true
        request.points = Self.selector(ids)
        return try await write("Points/ClearPayload") { [request] metadata, options in
            try await self.points.clearPayload(request, metadata: metadata, options: options)
        }
    }

    func createFieldIndex(
        _ collection: String, _ key: String, _ schema: PayloadFieldSchema
    ) async throws
        -> UpdateResult
    {
        let request = try GRPCRequests.fieldIndex(collection: collection, key: key, schema: schema)
        return try await write("Points/CreateFieldIndex") { [request] metadata, options in
            try await self.points.createFieldIndex(request, metadata: metadata, options: options)
        }
    }

    func deleteFieldIndex(_ collection: String, _ key: String) async throws -> UpdateResult {
        var request = Qdrant_DeleteFieldIndexCollection()
        request.collectionName = collection
        request.wait = true
        request.fieldName = key
        return try await write("Points/DeleteFieldIndex") { [request] metadata, options in
            try await self.points.deleteFieldIndex(request, metadata: metadata, options: options)
        }
    }

    private func write(
        _ method: String, _ body: @Sendable (Metadata, CallOptions) async throws -> Qdrant_PointsOperationResponse
    ) async throws -> UpdateResult {
        let reply = try await call(method, idempotent: false, body)
        return UpdateResult(operationID: reply.result.operationID)
    }

    static func selector(_ ids: [PointID]) -> Qdrant_PointsSelector {
        var list = Qdrant_PointsIdsList()
        list.ids = ids.map(GRPCRequests.pointID)
        var selector = Qdrant_PointsSelector()
        selector.points = list
        return selector
    }

    static func selector(_ filter: Filter) throws -> Qdrant_PointsSelector {
        var selector = Qdrant_PointsSelector()
        selector.filter = try GRPCRequests.filter(filter)
        return selector
    }

    // MARK: - Reads

    func retrieve(
        _ collection: String, _ ids: [PointID], withPayload: Bool, withVector: Bool
    ) async throws
        -> [Record]
    {
        var request = Qdrant_GetPoints()
        request.collectionName = collection
        request.ids = ids.map(GRPCRequests.pointID)
        request.withPayload = Self.payloadSelector(withPayload)
        request.withVectors = Self.vectorsSelector(withVector)
        let reply = try await call("Points/Get", idempotent: true) { [request] metadata, options in
            try await self.points.get(request, metadata: metadata, options: options)
        }
        return try reply.result.map { try GRPCReplies.record($0, withPayload: withPayload) }
    }

    func scroll(
        _ collection: String, offset: PointID?, limit: Int, filter: Filter?, withPayload: Bool, withVector: Bool
    ) async throws -> (points: [Record], nextOffset: PointID?) {
        guard let limit = UInt32(exactly: limit) else {
            throw StrataError(.invalidArgument, "limit must be within 0…\(UInt32.max), got \(limit)")
        }
        var request = Qdrant_ScrollPoints()
        request.collectionName = collection
        request.limit = limit
        if let offset { request.offset = GRPCRequests.pointID(offset) }
        if let filter { request.filter = try GRPCRequests.filter(filter) }
        request.withPayload = Self.payloadSelector(withPayload)
        request.withVectors = Self.vectorsSelector(withVector)
        let reply = try await call("Points/Scroll", idempotent: true) { [request] metadata, options in
            try await self.points.scroll(request, metadata: metadata, options: options)
        }
        let next = reply.hasNextPageOffset ? try GRPCReplies.pointID(reply.nextPageOffset) : nil
        return (try reply.result.map { try GRPCReplies.record($0, withPayload: withPayload) }, next)
    }

    func count(_ collection: String, filter: Filter?, exact: Bool) async throws -> Int {
        var request = Qdrant_CountPoints()
        request.collectionName = collection
        request.exact = exact
        if let filter { request.filter = try GRPCRequests.filter(filter) }
        return Int(
            try await call("Points/Count", idempotent: true) { [request] metadata, options in
                try await self.points.count(request, metadata: metadata, options: options)
            }.result.count)
    }

    func query(_ collection: String, _ request: QueryRequest) async throws -> [ScoredPoint] {
        let message = try GRPCRequests.queryPoints(collection: collection, request)
        let reply = try await call("Points/Query", idempotent: true) { [message] metadata, options in
            try await self.points.query(message, metadata: metadata, options: options)
        }
        return try reply.result.map { try GRPCReplies.scoredPoint($0, withPayload: request.withPayload) }
    }

    static func payloadSelector(_ enabled: Bool) -> Qdrant_WithPayloadSelector {
        var selector = Qdrant_WithPayloadSelector()
        selector.enable = enabled
        return selector
    }

    static func vectorsSelector(_ enabled: Bool) -> Qdrant_WithVectorsSelector {
        var selector = Qdrant_WithVectorsSelector()
        selector.enable = enabled
        return selector
    }
}

/// Qdrant's gRPC replies read into the shared model types.
enum GRPCReplies {
    static func pointID(_ id: Qdrant_PointId) throws -> PointID {
        switch id.pointIDOptions {
        case .num(let number)?: return .number(number)
        case .uuid(let text)?:
            guard let uuid = UUID(uuidString: text) else { throw malformed("a point id", text) }
            return .uuid(uuid)
        case nil: throw malformed("a point id", "an empty PointId")
        }
    }

    static func value(_ value: Qdrant_Value) -> JSONValue {
        switch value.kind {
        case nil, .nullValue?: return .null
        case .doubleValue(let number)?: return .double(number)
        case .integerValue(let number)?: return .int(number)
        case .stringValue(let text)?: return .string(text)
        case .boolValue(let flag)?: return .bool(flag)
        case .structValue(let object)?: return .object(object.fields.mapValues(Self.value))
        case .listValue(let list)?: return .array(list.values.map(Self.value))
        }
    }

    /// A point's vectors: dense ones and multivectors (rows back to back) by
    /// name, and sparse ones by name.
    static func vectors(_ output: Qdrant_VectorsOutput) -> (dense: [String: [Float]], sparse: [String: SparseVector])? {
        var dense: [String: [Float]] = [:]
        var sparse: [String: SparseVector] = [:]
        func add(_ name: String, _ vector: Qdrant_VectorOutput) {
            switch vector.vector {
            case .dense(let values)?: dense[name] = values.data
            case .multiDense(let multi)?: dense[name] = multi.vectors.flatMap(\.data)
            case .sparse(let values)?: sparse[name] = SparseVector(indices: values.indices, values: values.values)
            case nil:
                // Qdrant's older fields: data, with indices for a sparse vector.
                if vector.hasIndices {
                    sparse[name] = SparseVector(indices: vector.indices.data, values: vector.data)
                } else {
                    dense[name] = vector.data
                }
            }
        }
        switch output.vectorsOptions {
        case nil: return nil
        case .vector(let vector)?: add(CollectionConfig.defaultVectorName, vector)
        case .vectors(let named)?: for (name, vector) in named.vectors { add(name, vector) }
        }
        return (dense, sparse)
    }

    /// A retrieved point; its payload is nil unless it was asked for (gRPC
    /// sends an empty map either way).
    static func record(_ point: Qdrant_RetrievedPoint, withPayload: Bool) throws -> Record {
        let vectors = point.hasVectors ? Self.vectors(point.vectors) : nil
        return Record(
            id: try pointID(point.id), version: 0, payload: withPayload ? point.payload.mapValues(Self.value) : nil,
            vectors: vectors?.dense, sparseVectors: vectors.flatMap { $0.sparse.isEmpty ? nil : $0.sparse })
    }

    /// A hit; its payload is nil unless it was asked for.
    static func scoredPoint(_ point: Qdrant_ScoredPoint, withPayload: Bool) throws -> ScoredPoint {
        let vectors = point.hasVectors ? Self.vectors(point.vectors) : nil
        var orderValue: Double?
        if point.hasOrderValue {
            switch point.orderValue.variant {
            case .int(let number)?: orderValue = Double(number)
            case .float(let number)?: orderValue = number
            case nil: orderValue = nil
            }
        }
        return ScoredPoint(
            id: try pointID(point.id), version: point.version, score: point.score,
            payload: withPayload ? point.payload.mapValues(Self.value) : nil, vectors: vectors?.dense,
            orderValue: orderValue, sparseVectors: vectors.flatMap { $0.sparse.isEmpty ? nil : $0.sparse })
    }

    static func snapshot(_ description: Qdrant_SnapshotDescription, collection: String?) -> SnapshotDescription {
        var createdAt: String?
        if description.hasCreationTime {
            let formatter = ISO8601DateFormatter()
            createdAt = formatter.string(from: description.creationTime.date)
        }
        return SnapshotDescription(
            name: description.name, path: description.name, size: UInt64(max(0, description.size)),
            kind: collection == nil ? .full : .collection, collection: collection, createdAt: createdAt,
            checksum: description.hasChecksum ? description.checksum : nil)
    }

    static func malformed(_ what: String, _ got: String) -> StrataError {
        StrataError(.io, "the server's gRPC answer is not what Qdrant's API returns: expected \(what), got \(got)")
    }
}
