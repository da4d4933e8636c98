import GRPCCore
import Strata
import StrataGRPCProtocol

/// `qdrant.Collections`: collections, aliases, vector names and cluster info.
/// Each RPC calls the operation its REST route calls (Operations/), in the
/// same order of checks; shard keys and cluster changes answer as REST does
/// on a single node ("Distributed mode disabled").
struct CollectionsService: Qdrant_Collections.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }

    func get(
        request: GRPCCore.ServerRequest<Qdrant_GetCollectionInfoRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_GetCollectionInfoResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = strata.shardedGRPCTarget(message.collectionName, call) {
                try call.access.check(.read(collection: sharded.collection.name))
                var reply = Qdrant_GetCollectionInfoResponse()
                reply.result = GRPCCollections.collectionInfo(
                    try sharded.collectionInfo(try await sharded.send(.get, "", body: nil)))
                reply.time = call.elapsed
                return reply
            }
            let collection = try strata.shardedRefused(message.collectionName).collection(
                named: message.collectionName, .read, call.access)
            return try await strata.run(strata.collectionInfo(collection)) { info in
                var reply = Qdrant_GetCollectionInfoResponse()
                reply.result = GRPCCollections.collectionInfo(info)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func list(
        request: GRPCCore.ServerRequest<Qdrant_ListCollectionsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListCollectionsResponse> {
        try await strata.unary(request, context) { _, call in
            var reply = Qdrant_ListCollectionsResponse()
            let listed =
                strata.cluster.map { strata.listClusterCollections(call.access, cluster: $0) }
                ?? strata.listCollections(call.access)
            reply.collections = listed.collections.map { description in
                var proto = Qdrant_CollectionDescription()
                proto.name = description.name
                return proto
            }
            reply.time = call.elapsed
            return reply
        }
    }

    func create(
        request: GRPCCore.ServerRequest<Qdrant_CreateCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        try await strata.unary(request, context) { message, call in
            try call.access.check(.manage)
            if let cluster = strata.cluster {
                // As `PUT /collections/{name}` on a cluster node, from the same body.
                let body = try GRPCCollections.bytes(try GRPCCollections.json(message))
                return operationResponse(
                    try await strata.createClusterCollection(
                        message.collectionName, body: body, access: call.access, cluster: cluster),
                    call)
            }
            let input = try GRPCCollections.createInput(message, maxDepth: strata.configuration.maxJSONDepth)
            let create = try strata.createCollection(message.collectionName, input, call.access)
            return operationResponse(try await strata.run(create) { $0 }, call)
        }
    }

    func update(
        request: GRPCCore.ServerRequest<Qdrant_UpdateCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        try await strata.unary(request, context) { message, call in
            try call.access.check(.manage)
            if let sharded = strata.shardedGRPCTarget(message.collectionName, call) {
                // Checked as REST checks it, then applied to every shard by the router.
                _ = try GRPCCollections.updateInput(message, maxDepth: strata.configuration.maxJSONDepth)
                let result = try await sharded.send(.patch, "", body: try GRPCCollections.json(message))
                return operationResponse(result == .bool(true), call)
            }
            let collection = try strata.shardedRefused(message.collectionName).collection(
                named: message.collectionName, .write, call.access)
            let input = try GRPCCollections.updateInput(message, maxDepth: strata.configuration.maxJSONDepth)
            if let replication = strata.replication {
                // A cluster node: only the primary takes it (as a gRPC write; REST forwards).
                try await strata.updateClusterCollection(collection.name, input, replication)
                return operationResponse(true, call)
            }
            guard let update = try strata.updateCollection(collection, input, call.access) else {
                return operationResponse(true, call)
            }
            return operationResponse(try await strata.run(update) { $0 }, call)
        }
    }

    func delete(
        request: GRPCCore.ServerRequest<Qdrant_DeleteCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        try await strata.unary(request, context) { message, call in
            if let cluster = strata.cluster {
                return operationResponse(
                    try await strata.deleteClusterCollection(
                        message.collectionName, access: call.access, cluster: cluster),
                    call)
            }
            let delete = try strata.deleteCollection(message.collectionName, call.access)
            return operationResponse(try await strata.run(delete) { $0 }, call)
        }
    }

    func updateAliases(
        request: GRPCCore.ServerRequest<Qdrant_ChangeAliases>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        try await strata.unary(request, context) { message, call in
            try call.access.check(.manage)
            try strata.refuseInCluster("changing aliases")
            let update = try strata.updateAliases(GRPCCollections.aliasActions(message), call.access)
            return operationResponse(try await strata.run(update) { $0 }, call)
        }
    }

    func listCollectionAliases(
        request: GRPCCore.ServerRequest<Qdrant_ListCollectionAliasesRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListAliasesResponse> {
        try await strata.unary(request, context) { message, call in
            let collection = try strata.shardedRefused(message.collectionName).collection(
                named: message.collectionName, .read, call.access)
            return aliasesResponse(strata.listAliases(of: collection, call.access), call)
        }
    }

    func listAliases(
        request: GRPCCore.ServerRequest<Qdrant_ListAliasesRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListAliasesResponse> {
        try await strata.unary(request, context) { _, call in
            aliasesResponse(strata.listAliases(call.access), call)
        }
    }

    func collectionClusterInfo(
        request: GRPCCore.ServerRequest<Qdrant_CollectionClusterInfoRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionClusterInfoResponse> {
        try await strata.unary(request, context) { message, call in
            let collection = try strata.shardedRefused(message.collectionName).collection(
                named: message.collectionName, .read, call.access)
            return GRPCCollections.clusterInfo(
                CollectionClusterOutput(peerID: strata.cluster?.identity.peerID ?? 0, points: collection.count()),
                elapsed: call.elapsed)
        }
    }

    func collectionExists(
        request: GRPCCore.ServerRequest<Qdrant_CollectionExistsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionExistsResponse> {
        try await strata.unary(request, context) { message, call in
            var reply = Qdrant_CollectionExistsResponse()
            reply.result.exists = try strata.collectionExists(message.collectionName, call.access)
            reply.time = call.elapsed
            return reply
        }
    }

    // MARK: - Cluster setup and shard keys (distributed mode only)

    func updateCollectionClusterSetup(
        request: GRPCCore.ServerRequest<Qdrant_UpdateCollectionClusterSetupRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_UpdateCollectionClusterSetupResponse> {
        try await strata.unary(request, context) { _, call in
            try Self.refuseWithoutDistributedMode(call)
        }
    }

    func createShardKey(
        request: GRPCCore.ServerRequest<Qdrant_CreateShardKeyRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CreateShardKeyResponse> {
        try await strata.unary(request, context) { _, call in
            try Self.refuseWithoutDistributedMode(call)
        }
    }

    func deleteShardKey(
        request: GRPCCore.ServerRequest<Qdrant_DeleteShardKeyRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DeleteShardKeyResponse> {
        try await strata.unary(request, context) { _, call in
            try Self.refuseWithoutDistributedMode(call)
        }
    }

    func listShardKeys(
        request: GRPCCore.ServerRequest<Qdrant_ListShardKeysRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListShardKeysResponse> {
        try await strata.unary(request, context) { _, call in
            try Self.refuseWithoutDistributedMode(call)
        }
    }

    /// What REST answers for `/collections/{name}/cluster` (POST) and
    /// `/collections/{name}/shards` (the routes in ServiceRoutes.swift):
    /// managers get 400 "Distributed mode disabled" (InvalidArgument).
    private static func refuseWithoutDistributedMode<Reply>(_ call: GRPCCall) throws -> Reply {
        try call.access.check(.manage)
        throw APIError.badRequest("Distributed mode disabled")
    }

    // MARK: - Replies

    private func operationResponse(_ result: Bool, _ call: GRPCCall) -> Qdrant_CollectionOperationResponse {
        var reply = Qdrant_CollectionOperationResponse()
        reply.result = result
        reply.time = call.elapsed
        return reply
    }

    private func aliasesResponse(_ aliases: AliasesOutput, _ call: GRPCCall) -> Qdrant_ListAliasesResponse {
        var reply = Qdrant_ListAliasesResponse()
        reply.aliases = aliases.aliases.map { alias in
            var proto = Qdrant_AliasDescription()
            proto.aliasName = alias.alias_name
            proto.collectionName = alias.collection_name
            return proto
        }
        reply.time = call.elapsed
        return reply
    }
}
