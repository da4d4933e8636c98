import GRPCCore
import StrataGRPCProtocol

// TEMPORARY scaffolding while the gRPC services are written: every RPC not yet
// implemented answers Unimplemented. Deleted once all are implemented (the
// build then proves every RPC has its own implementation).

extension Qdrant_Points.ServiceProtocol {
    func upsert(
        request: GRPCCore.ServerRequest<Qdrant_UpsertPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/upsert is not implemented yet")
    }
    func delete(
        request: GRPCCore.ServerRequest<Qdrant_DeletePoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/delete is not implemented yet")
    }
    func get(
        request: GRPCCore.ServerRequest<Qdrant_GetPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_GetResponse> {
        throw RPCError(code: .unimplemented, message: "Points/get is not implemented yet")
    }
    func updateVectors(
        request: GRPCCore.ServerRequest<Qdrant_UpdatePointVectors>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/updateVectors is not implemented yet")
    }
    func deleteVectors(
        request: GRPCCore.ServerRequest<Qdrant_DeletePointVectors>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/deleteVectors is not implemented yet")
    }
    func setPayload(
        request: GRPCCore.ServerRequest<Qdrant_SetPayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/setPayload is not implemented yet")
    }
    func overwritePayload(
        request: GRPCCore.ServerRequest<Qdrant_SetPayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/overwritePayload is not implemented yet")
    }
    func deletePayload(
        request: GRPCCore.ServerRequest<Qdrant_DeletePayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/deletePayload is not implemented yet")
    }
    func clearPayload(
        request: GRPCCore.ServerRequest<Qdrant_ClearPayloadPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/clearPayload is not implemented yet")
    }
    func createFieldIndex(
        request: GRPCCore.ServerRequest<Qdrant_CreateFieldIndexCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/createFieldIndex is not implemented yet")
    }
    func deleteFieldIndex(
        request: GRPCCore.ServerRequest<Qdrant_DeleteFieldIndexCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/deleteFieldIndex is not implemented yet")
    }
    func createVectorName(
        request: GRPCCore.ServerRequest<Qdrant_CreateVectorNameRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/createVectorName is not implemented yet")
    }
    func deleteVectorName(
        request: GRPCCore.ServerRequest<Qdrant_DeleteVectorNameRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_PointsOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Points/deleteVectorName is not implemented yet")
    }
    func search(
        request: GRPCCore.ServerRequest<Qdrant_SearchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchResponse> {
        throw RPCError(code: .unimplemented, message: "Points/search is not implemented yet")
    }
    func searchBatch(
        request: GRPCCore.ServerRequest<Qdrant_SearchBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchBatchResponse> {
        throw RPCError(code: .unimplemented, message: "Points/searchBatch is not implemented yet")
    }
    func searchGroups(
        request: GRPCCore.ServerRequest<Qdrant_SearchPointGroups>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchGroupsResponse> {
        throw RPCError(code: .unimplemented, message: "Points/searchGroups is not implemented yet")
    }
    func scroll(
        request: GRPCCore.ServerRequest<Qdrant_ScrollPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ScrollResponse> {
        throw RPCError(code: .unimplemented, message: "Points/scroll is not implemented yet")
    }
    func recommend(
        request: GRPCCore.ServerRequest<Qdrant_RecommendPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_RecommendResponse> {
        throw RPCError(code: .unimplemented, message: "Points/recommend is not implemented yet")
    }
    func recommendBatch(
        request: GRPCCore.ServerRequest<Qdrant_RecommendBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_RecommendBatchResponse> {
        throw RPCError(code: .unimplemented, message: "Points/recommendBatch is not implemented yet")
    }
    func recommendGroups(
        request: GRPCCore.ServerRequest<Qdrant_RecommendPointGroups>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_RecommendGroupsResponse> {
        throw RPCError(code: .unimplemented, message: "Points/recommendGroups is not implemented yet")
    }
    func discover(
        request: GRPCCore.ServerRequest<Qdrant_DiscoverPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DiscoverResponse> {
        throw RPCError(code: .unimplemented, message: "Points/discover is not implemented yet")
    }
    func discoverBatch(
        request: GRPCCore.ServerRequest<Qdrant_DiscoverBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DiscoverBatchResponse> {
        throw RPCError(code: .unimplemented, message: "Points/discoverBatch is not implemented yet")
    }
    func count(
        request: GRPCCore.ServerRequest<Qdrant_CountPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CountResponse> {
        throw RPCError(code: .unimplemented, message: "Points/count is not implemented yet")
    }
    func updateBatch(
        request: GRPCCore.ServerRequest<Qdrant_UpdateBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_UpdateBatchResponse> {
        throw RPCError(code: .unimplemented, message: "Points/updateBatch is not implemented yet")
    }
    func query(
        request: GRPCCore.ServerRequest<Qdrant_QueryPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_QueryResponse> {
        throw RPCError(code: .unimplemented, message: "Points/query is not implemented yet")
    }
    func queryBatch(
        request: GRPCCore.ServerRequest<Qdrant_QueryBatchPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_QueryBatchResponse> {
        throw RPCError(code: .unimplemented, message: "Points/queryBatch is not implemented yet")
    }
    func queryGroups(
        request: GRPCCore.ServerRequest<Qdrant_QueryPointGroups>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_QueryGroupsResponse> {
        throw RPCError(code: .unimplemented, message: "Points/queryGroups is not implemented yet")
    }
    func facet(
        request: GRPCCore.ServerRequest<Qdrant_FacetCounts>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_FacetResponse> {
        throw RPCError(code: .unimplemented, message: "Points/facet is not implemented yet")
    }
    func searchMatrixPairs(
        request: GRPCCore.ServerRequest<Qdrant_SearchMatrixPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchMatrixPairsResponse> {
        throw RPCError(code: .unimplemented, message: "Points/searchMatrixPairs is not implemented yet")
    }
    func searchMatrixOffsets(
        request: GRPCCore.ServerRequest<Qdrant_SearchMatrixPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_SearchMatrixOffsetsResponse> {
        throw RPCError(code: .unimplemented, message: "Points/searchMatrixOffsets is not implemented yet")
    }
}

extension Qdrant_Collections.ServiceProtocol {
    func get(
        request: GRPCCore.ServerRequest<Qdrant_GetCollectionInfoRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_GetCollectionInfoResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/get is not implemented yet")
    }
    func list(
        request: GRPCCore.ServerRequest<Qdrant_ListCollectionsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListCollectionsResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/list is not implemented yet")
    }
    func create(
        request: GRPCCore.ServerRequest<Qdrant_CreateCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/create is not implemented yet")
    }
    func update(
        request: GRPCCore.ServerRequest<Qdrant_UpdateCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/update is not implemented yet")
    }
    func delete(
        request: GRPCCore.ServerRequest<Qdrant_DeleteCollection>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/delete is not implemented yet")
    }
    func updateAliases(
        request: GRPCCore.ServerRequest<Qdrant_ChangeAliases>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionOperationResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/updateAliases is not implemented yet")
    }
    func listCollectionAliases(
        request: GRPCCore.ServerRequest<Qdrant_ListCollectionAliasesRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListAliasesResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/listCollectionAliases is not implemented yet")
    }
    func listAliases(
        request: GRPCCore.ServerRequest<Qdrant_ListAliasesRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListAliasesResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/listAliases is not implemented yet")
    }
    func collectionClusterInfo(
        request: GRPCCore.ServerRequest<Qdrant_CollectionClusterInfoRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionClusterInfoResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/collectionClusterInfo is not implemented yet")
    }
    func collectionExists(
        request: GRPCCore.ServerRequest<Qdrant_CollectionExistsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CollectionExistsResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/collectionExists is not implemented yet")
    }
    func updateCollectionClusterSetup(
        request: GRPCCore.ServerRequest<Qdrant_UpdateCollectionClusterSetupRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_UpdateCollectionClusterSetupResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/updateCollectionClusterSetup is not implemented yet")
    }
    func createShardKey(
        request: GRPCCore.ServerRequest<Qdrant_CreateShardKeyRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CreateShardKeyResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/createShardKey is not implemented yet")
    }
    func deleteShardKey(
        request: GRPCCore.ServerRequest<Qdrant_DeleteShardKeyRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DeleteShardKeyResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/deleteShardKey is not implemented yet")
    }
    func listShardKeys(
        request: GRPCCore.ServerRequest<Qdrant_ListShardKeysRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListShardKeysResponse> {
        throw RPCError(code: .unimplemented, message: "Collections/listShardKeys is not implemented yet")
    }
}

extension Qdrant_Snapshots.ServiceProtocol {
    func create(
        request: GRPCCore.ServerRequest<Qdrant_CreateSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CreateSnapshotResponse> {
        throw RPCError(code: .unimplemented, message: "Snapshots/create is not implemented yet")
    }
    func list(
        request: GRPCCore.ServerRequest<Qdrant_ListSnapshotsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListSnapshotsResponse> {
        throw RPCError(code: .unimplemented, message: "Snapshots/list is not implemented yet")
    }
    func delete(
        request: GRPCCore.ServerRequest<Qdrant_DeleteSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DeleteSnapshotResponse> {
        throw RPCError(code: .unimplemented, message: "Snapshots/delete is not implemented yet")
    }
    func createFull(
        request: GRPCCore.ServerRequest<Qdrant_CreateFullSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CreateSnapshotResponse> {
        throw RPCError(code: .unimplemented, message: "Snapshots/createFull is not implemented yet")
    }
    func listFull(
        request: GRPCCore.ServerRequest<Qdrant_ListFullSnapshotsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListSnapshotsResponse> {
        throw RPCError(code: .unimplemented, message: "Snapshots/listFull is not implemented yet")
    }
    func deleteFull(
        request: GRPCCore.ServerRequest<Qdrant_DeleteFullSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DeleteSnapshotResponse> {
        throw RPCError(code: .unimplemented, message: "Snapshots/deleteFull is not implemented yet")
    }
}
