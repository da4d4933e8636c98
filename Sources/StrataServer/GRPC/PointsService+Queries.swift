import GRPCCore
import Strata
import StrataGRPCProtocol

/// `qdrant.Points` searches: the universal query API, the legacy search,
/// recommend and discover RPCs, and the distance matrix. Each converts its
/// message to the REST layer's input (GRPC/Conversions/GRPCQueries.swift),
/// calls the shared operation (Operations/QueryOperations.swift) and converts
/// the result on the engine pool.
extension PointsService {
    // MARK: Universal query API

    func query(
        request: GRPCCore.ServerRequest<Qdrant_QueryPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_QueryResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let result = try await sharded.send(
                    .post, "points/query", body: try RESTBodies.query(try message.input()),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_QueryResponse()
                reply.result = try sharded.queryPoints(result).map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.query(try message.input(), in: collection, scope)
            return try await strata.run(read) { output in
                var reply = Qdrant_QueryResponse()
                reply.result = output.points.map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func queryBatch(
        request: GRPCCore.ServerRequest<Qdrant_QueryBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_QueryBatchResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let searches = try message.queryPoints.map { try RESTBodies.query(try $0.input()) }
                let result = try await sharded.send(
                    .post, "points/query/batch", body: ["searches": .array(searches)],
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_QueryBatchResponse()
                reply.result = try WireDecoding.array(result, "query results").map {
                    Qdrant_BatchResult(try sharded.queryPoints($0))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let searches = try message.queryPoints.map { query throws(APIError) in try query.input() }
            let read = try strata.queryBatch(searches, in: collection, scope)
            return try await strata.run(read) { outputs in
                var reply = Qdrant_QueryBatchResponse()
                reply.result = outputs.map { Qdrant_BatchResult($0.points) }
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func queryGroups(
        request: GRPCCore.ServerRequest<Qdrant_QueryPointGroups>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_QueryGroupsResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let input = try message.input()
                let body = RESTBodies.grouped(try RESTBodies.query(input.asQuery), input.grouping)
                let result = try await sharded.send(
                    .post, "points/query/groups", body: body,
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_QueryGroupsResponse()
                reply.result = try Qdrant_GroupsResult(try sharded.groups(result))
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.queryGroups(try message.input(), in: collection, scope)
            return try await strata.run(read) { output in
                var reply = Qdrant_QueryGroupsResponse()
                reply.result = try Qdrant_GroupsResult(output)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    // MARK: Legacy search

    func search(
        request: GRPCCore.ServerRequest<Qdrant_SearchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let result = try await sharded.send(
                    .post, "points/search", body: try RESTBodies.search(try message.input()),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_SearchResponse()
                reply.result = try sharded.scoredPoints(result).map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.search(try message.input(), in: collection, scope)
            return try await strata.run(read) { points in
                var reply = Qdrant_SearchResponse()
                reply.result = points.map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func searchBatch(
        request: GRPCCore.ServerRequest<Qdrant_SearchBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchBatchResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let searches = try message.searchPoints.map { try RESTBodies.search(try $0.input()) }
                let result = try await sharded.send(
                    .post, "points/search/batch", body: ["searches": .array(searches)],
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_SearchBatchResponse()
                reply.result = try WireDecoding.array(result, "search results").map {
                    Qdrant_BatchResult(try sharded.scoredPoints($0))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let searches = try message.searchPoints.map { search throws(APIError) in try search.input() }
            let read = try strata.searchBatch(searches, in: collection, scope)
            return try await strata.run(read) { results in
                var reply = Qdrant_SearchBatchResponse()
                reply.result = results.map(Qdrant_BatchResult.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func searchGroups(
        request: GRPCCore.ServerRequest<Qdrant_SearchPointGroups>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchGroupsResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let input = try message.input()
                let search = SearchRequestInput(
                    vector: input.vector, filter: input.filter, params: input.params, limit: 1, offset: nil,
                    with_payload: input.with_payload, with_vector: input.with_vector, with_vectors: input.with_vectors,
                    score_threshold: input.score_threshold, shard_key: nil)
                let body = RESTBodies.grouped(try RESTBodies.search(search), input.grouping)
                let result = try await sharded.send(
                    .post, "points/search/groups", body: body,
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_SearchGroupsResponse()
                reply.result = try Qdrant_GroupsResult(try sharded.groups(result))
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.searchGroups(try message.input(), in: collection, scope)
            return try await strata.run(read) { output in
                var reply = Qdrant_SearchGroupsResponse()
                reply.result = try Qdrant_GroupsResult(output)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    // MARK: Legacy recommend and discover

    func recommend(
        request: GRPCCore.ServerRequest<Qdrant_RecommendPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_RecommendResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let result = try await sharded.send(
                    .post, "points/query", body: try RESTBodies.legacyQuery(try message.input()),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_RecommendResponse()
                reply.result = try sharded.queryPoints(result).map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.legacyQuery(try message.input(), in: collection, scope)
            return try await strata.run(read) { points in
                var reply = Qdrant_RecommendResponse()
                reply.result = points.map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func recommendBatch(
        request: GRPCCore.ServerRequest<Qdrant_RecommendBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_RecommendBatchResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let searches = try message.recommendPoints.map { try RESTBodies.legacyQuery(try $0.input()) }
                let result = try await sharded.send(
                    .post, "points/query/batch", body: ["searches": .array(searches)],
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_RecommendBatchResponse()
                reply.result = try WireDecoding.array(result, "query results").map {
                    Qdrant_BatchResult(try sharded.queryPoints($0))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let searches = try message.recommendPoints.map { search throws(APIError) in try search.input() }
            let read = try strata.legacyQueryBatch(searches, in: collection, scope)
            return try await strata.run(read) { results in
                var reply = Qdrant_RecommendBatchResponse()
                reply.result = results.map(Qdrant_BatchResult.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func recommendGroups(
        request: GRPCCore.ServerRequest<Qdrant_RecommendPointGroups>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_RecommendGroupsResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let body = try RESTBodies.recommendGroups(try message.input())
                let result = try await sharded.send(
                    .post, "points/recommend/groups", body: body,
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_RecommendGroupsResponse()
                reply.result = try Qdrant_GroupsResult(try sharded.groups(result))
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.recommendGroups(try message.input(), in: collection, scope)
            return try await strata.run(read) { output in
                var reply = Qdrant_RecommendGroupsResponse()
                reply.result = try Qdrant_GroupsResult(output)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func discover(
        request: GRPCCore.ServerRequest<Qdrant_DiscoverPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DiscoverResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let result = try await sharded.send(
                    .post, "points/query", body: try RESTBodies.legacyQuery(try message.input()),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_DiscoverResponse()
                reply.result = try sharded.queryPoints(result).map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let read = try strata.legacyQuery(try message.input(), in: collection, scope)
            return try await strata.run(read) { points in
                var reply = Qdrant_DiscoverResponse()
                reply.result = points.map(Qdrant_ScoredPoint.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func discoverBatch(
        request: GRPCCore.ServerRequest<Qdrant_DiscoverBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DiscoverBatchResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                let searches = try message.discoverPoints.map { try RESTBodies.legacyQuery(try $0.input()) }
                let result = try await sharded.send(
                    .post, "points/query/batch", body: ["searches": .array(searches)],
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_DiscoverBatchResponse()
                reply.result = try WireDecoding.array(result, "query results").map {
                    Qdrant_BatchResult(try sharded.queryPoints($0))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let searches = try message.discoverPoints.map { search throws(APIError) in try search.input() }
            let read = try strata.legacyQueryBatch(searches, in: collection, scope)
            return try await strata.run(read) { results in
                var reply = Qdrant_DiscoverBatchResponse()
                reply.result = results.map(Qdrant_BatchResult.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    // MARK: Distance matrix

    func searchMatrixPairs(
        request: GRPCCore.ServerRequest<Qdrant_SearchMatrixPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchMatrixPairsResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .read, call) {
                let matrix = try await sharded.matrix(
                    try message.input(),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_SearchMatrixPairsResponse()
                reply.result = Qdrant_SearchMatrixPairs(MatrixPairsOutput(matrix))
                reply.time = call.elapsed
                return reply
            }
            let (collection, _) = try target(message.collectionName, .read, timeout: nil, call)
            let input = try message.input()
            return try await strata.run({ try input.matrix(of: collection) }) { matrix in
                var reply = Qdrant_SearchMatrixPairsResponse()
                reply.result = Qdrant_SearchMatrixPairs(MatrixPairsOutput(matrix))
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func searchMatrixOffsets(
        request: GRPCCore.ServerRequest<Qdrant_SearchMatrixPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchMatrixOffsetsResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try sharded(message.collectionName, .read, call) {
                let matrix = try await sharded.matrix(
                    try message.input(),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_SearchMatrixOffsetsResponse()
                reply.result = Qdrant_SearchMatrixOffsets(MatrixOffsetsOutput(matrix))
                reply.time = call.elapsed
                return reply
            }
            let (collection, _) = try target(message.collectionName, .read, timeout: nil, call)
            let input = try message.input()
            return try await strata.run({ try input.matrix(of: collection) }) { matrix in
                var reply = Qdrant_SearchMatrixOffsetsResponse()
                reply.result = Qdrant_SearchMatrixOffsets(MatrixOffsetsOutput(matrix))
                reply.time = call.elapsed
                return reply
            }
        }
    }
}
