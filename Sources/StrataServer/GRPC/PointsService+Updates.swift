import Foundation
import GRPCCore
import Strata
import StrataGRPCProtocol
import StrataJSON

/// `qdrant.Points` writes: points, vectors, payload, payload indexes, batches
/// and named vectors. Each converts its message to the REST layer's input
/// (GRPC/Conversions/GRPCPoints.swift), calls the shared operation
/// (Operations/) and answers with the operation's id. Strata answers once a
/// write is durable, whatever `wait` says, so the status is always Completed.
extension PointsService {
    func upsert(
        request: GRPCCore.ServerRequest<Qdrant_UpsertPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try UpsertInput(
                    message.points, updateFilter: message.hasUpdateFilter ? message.updateFilter : nil,
                    updateMode: message.hasUpdateMode ? message.updateMode : nil, shardKey: false)
                var body = RESTBodies.upsert(input)
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .put, "points", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try UpsertInput(
                message.points, updateFilter: message.hasUpdateFilter ? message.updateFilter : nil,
                updateMode: message.hasUpdateMode ? message.updateMode : nil, shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.upsert(input, into: collection, scope), time: call.elapsed)
        }
    }

    func delete(
        request: GRPCCore.ServerRequest<Qdrant_DeletePoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                guard message.hasPoints else { throw APIError(.badRequest, "PointSelector is missing") }
                var body = RESTBodies.selector(try message.points.selectorInput())
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/delete", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            guard message.hasPoints else { throw APIError(.badRequest, "PointSelector is missing") }
            let selection = try message.points.selection(shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.deletePoints(selection, from: collection, scope), time: call.elapsed)
        }
    }

    func updateVectors(
        request: GRPCCore.ServerRequest<Qdrant_UpdatePointVectors>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try UpdateVectorsInput(
                    message.points, updateFilter: message.hasUpdateFilter ? message.updateFilter : nil, shardKey: false)
                var body = RESTBodies.updateVectors(input)
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .put, "points/vectors", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try UpdateVectorsInput(
                message.points, updateFilter: message.hasUpdateFilter ? message.updateFilter : nil,
                shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.updateVectors(input, in: collection, scope), time: call.elapsed)
        }
    }

    func deleteVectors(
        request: GRPCCore.ServerRequest<Qdrant_DeletePointVectors>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try DeleteVectorsInput(
                    selector: message.hasPointsSelector ? message.pointsSelector : nil,
                    vectors: message.hasVectors ? message.vectors : nil, shardKey: false)
                var body = RESTBodies.deleteVectors(input)
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/vectors/delete", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try DeleteVectorsInput(
                selector: message.hasPointsSelector ? message.pointsSelector : nil,
                vectors: message.hasVectors ? message.vectors : nil, shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.deleteVectors(input, in: collection, scope), time: call.elapsed)
        }
    }

    func setPayload(
        request: GRPCCore.ServerRequest<Qdrant_SetPayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try SetPayloadInput(
                    payload: message.payload, selector: message.hasPointsSelector ? message.pointsSelector : nil,
                    key: message.hasKey ? message.key : nil, shardKey: false)
                var body = RESTBodies.setPayload(input)
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/payload", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try SetPayloadInput(
                payload: message.payload, selector: message.hasPointsSelector ? message.pointsSelector : nil,
                key: message.hasKey ? message.key : nil, shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.setPayload(input, in: collection, scope), time: call.elapsed)
        }
    }

    func overwritePayload(
        request: GRPCCore.ServerRequest<Qdrant_SetPayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try SetPayloadInput(
                    payload: message.payload, selector: message.hasPointsSelector ? message.pointsSelector : nil,
                    key: nil, shardKey: false)
                var body = RESTBodies.setPayload(input)
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .put, "points/payload", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            // Overwriting has no `key`: Qdrant's gRPC API ignores it here.
            let input = try SetPayloadInput(
                payload: message.payload, selector: message.hasPointsSelector ? message.pointsSelector : nil,
                key: nil, shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.overwritePayload(input, in: collection, scope), time: call.elapsed)
        }
    }

    func deletePayload(
        request: GRPCCore.ServerRequest<Qdrant_DeletePayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try DeletePayloadInput(
                    keys: message.keys, selector: message.hasPointsSelector ? message.pointsSelector : nil,
                    shardKey: false)
                var body = RESTBodies.deletePayload(input)
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/payload/delete", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try DeletePayloadInput(
                keys: message.keys, selector: message.hasPointsSelector ? message.pointsSelector : nil,
                shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.deletePayload(input, in: collection, scope), time: call.elapsed)
        }
    }

    func clearPayload(
        request: GRPCCore.ServerRequest<Qdrant_ClearPayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                guard message.hasPoints else { throw APIError(.badRequest, "PointSelector is missing") }
                var body = RESTBodies.selector(try message.points.selectorInput())
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/payload/clear", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            guard message.hasPoints else { throw APIError(.badRequest, "PointSelector is missing") }
            let selection = try message.points.selection(shardKey: message.hasShardKeySelector)
            return Qdrant_PointsOperationResponse(
                try await strata.clearPayload(selection, in: collection, scope), time: call.elapsed)
        }
    }

    func updateBatch(
        request: GRPCCore.ServerRequest<Qdrant_UpdateBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_UpdateBatchResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let operations = try message.operations.map { operation throws(APIError) in
                    try RESTBodies.operation(try operation.input())
                }
                let result = try await sharded.send(
                    .post, "points/batch", body: ["operations": .array(operations)],
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                var reply = Qdrant_UpdateBatchResponse()
                reply.result = try WireDecoding.array(result, "update results").map {
                    Qdrant_UpdateResult(try sharded.updateResult($0))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let operations = try message.operations.map { operation throws(APIError) in try operation.input() }
            let results = try await strata.batchUpdate(operations, in: collection, scope)
            var reply = Qdrant_UpdateBatchResponse()
            reply.result = results.map(Qdrant_UpdateResult.init)
            reply.time = call.elapsed
            return reply
        }
    }

    // MARK: Payload indexes

    func createFieldIndex(
        request: GRPCCore.ServerRequest<Qdrant_CreateFieldIndexCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let input = try CreateFieldIndexInput(message)
                var body: [String: JSONValue] = ["field_name": .string(input.field_name)]
                if let schema = input.field_schema { body["field_schema"] = schema }
                let result = try await sharded.send(
                    .put, "index", body: .object(body),
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, scope) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try CreateFieldIndexInput(message)
            return Qdrant_PointsOperationResponse(
                try await strata.createFieldIndex(input, in: collection, scope), time: call.elapsed)
        }
    }

    func deleteFieldIndex(
        request: GRPCCore.ServerRequest<Qdrant_DeleteFieldIndexCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .write, call) {
                let field =
                    message.fieldName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? message.fieldName
                let result = try await sharded.send(
                    .delete, "index/\(field)", body: nil,
                    query: ShardedGRPCTarget.queryString(
                        timeout: message.hasTimeout ? message.timeout : nil, write: true))
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, _) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            return Qdrant_PointsOperationResponse(
                try await strata.deleteFieldIndex(message.fieldName, in: collection), time: call.elapsed)
        }
    }

    // MARK: Named vectors (Qdrant 1.18+)

    func createVectorName(
        request: GRPCCore.ServerRequest<Qdrant_CreateVectorNameRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            // Changing a collection's vectors needs manage access (as over REST).
            try call.access.check(.manage)
            if let sharded = try sharded(message.collectionName, .write, call) {
                let name = message.vectorName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""
                let body = try VectorNameConfigInput.json(message)
                _ = try VectorNameConfigInput(message, maxDepth: strata.configuration.maxJSONDepth)
                let result = try await sharded.send(.put, "vectors/\(name)", body: body)
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, _) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = try VectorNameConfigInput(message, maxDepth: strata.configuration.maxJSONDepth)
            let read = try strata.createVectorName(message.vectorName, input, in: collection)
            return try await strata.run(read) { Qdrant_PointsOperationResponse($0, time: call.elapsed) }
        }
    }

    func deleteVectorName(
        request: GRPCCore.ServerRequest<Qdrant_DeleteVectorNameRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        try await strata.unary(request, context) { message, call in
            try call.access.check(.manage)
            if let sharded = try sharded(message.collectionName, .write, call) {
                let name = message.vectorName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""
                let result = try await sharded.send(.delete, "vectors/\(name)", body: nil)
                return Qdrant_PointsOperationResponse(try sharded.updateResult(result), time: call.elapsed)
            }
            let (collection, _) = try target(
                message.collectionName, .write, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = strata.deleteVectorName(message.vectorName, in: collection)
            return try await strata.run(read) { Qdrant_PointsOperationResponse($0, time: call.elapsed) }
        }
    }
}

extension VectorNameConfigInput {
    /// `CreateVectorName`'s config as the REST body of
    /// `PUT /collections/{c}/vectors/{v}`, decoded as REST decodes it (its
    /// checks and messages).
    init(_ message: Qdrant_CreateVectorNameRequest, maxDepth: Int) throws(APIError) {
        let bytes: [UInt8]
        do { bytes = try JSONBodyEncoder.encode(try Self.json(message)) } catch let error as APIError {
            throw error
        } catch {
            throw APIError.jsonDeserialize("\(error)")
        }
        self = try RequestDecoding.decode(VectorNameConfigInput.self, from: bytes, maxDepth: maxDepth)
    }

    /// The REST body of `PUT /collections/{c}/vectors/{v}` for `CreateVectorName`.
    static func json(_ message: Qdrant_CreateVectorNameRequest) throws(APIError) -> JSONValue {
        var body: [String: JSONValue] = [:]
        switch message.vectorConfig {
        case .denseConfig(let dense)?:
            var object: [String: JSONValue] = [
                "size": .int(Int64(clamping: dense.size)), "distance": .string(GRPCCollections.name(dense.distance)),
            ]
            if dense.hasMultivectorConfig {
                object["multivector_config"] = [
                    "comparator": .string(GRPCCollections.name(dense.multivectorConfig.comparator))
                ]
            }
            if dense.hasDatatype, let datatype = GRPCCollections.name(dense.datatype) {
                object["datatype"] = .string(datatype)
            }
            body["dense"] = .object(object)
        case .sparseConfig(let sparse)?:
            var object: [String: JSONValue] = [:]
            if sparse.hasModifier { object["modifier"] = .string(GRPCCollections.name(sparse.modifier)) }
            if sparse.hasDatatype, let datatype = GRPCCollections.name(sparse.datatype) {
                object["datatype"] = .string(datatype)
            }
            body["sparse"] = .object(object)
        case nil:
            throw APIError(.badRequest, "vector_config is required (dense_config or sparse_config)")
        }
        return .object(body)
    }
}
