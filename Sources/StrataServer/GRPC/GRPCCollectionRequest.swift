import StrataGRPCProtocol

/// A request that names a collection: the fuzzer points it at `fuzz`
/// (creating and deleting collections keep their own names), and a cluster
/// node routes it by that name (GRPCForwarding).
protocol GRPCCollectionRequest { var collectionName: String { get set } }
extension Qdrant_ClearPayloadPoints: GRPCCollectionRequest {}
extension Qdrant_CollectionClusterInfoRequest: GRPCCollectionRequest {}
extension Qdrant_CollectionExistsRequest: GRPCCollectionRequest {}
extension Qdrant_CountPoints: GRPCCollectionRequest {}
extension Qdrant_CreateFieldIndexCollection: GRPCCollectionRequest {}
extension Qdrant_CreateShardKeyRequest: GRPCCollectionRequest {}
extension Qdrant_CreateSnapshotRequest: GRPCCollectionRequest {}
extension Qdrant_CreateVectorNameRequest: GRPCCollectionRequest {}
extension Qdrant_DeleteFieldIndexCollection: GRPCCollectionRequest {}
extension Qdrant_DeletePayloadPoints: GRPCCollectionRequest {}
extension Qdrant_DeletePointVectors: GRPCCollectionRequest {}
extension Qdrant_DeletePoints: GRPCCollectionRequest {}
extension Qdrant_DeleteShardKeyRequest: GRPCCollectionRequest {}
extension Qdrant_DeleteSnapshotRequest: GRPCCollectionRequest {}
extension Qdrant_DeleteVectorNameRequest: GRPCCollectionRequest {}
extension Qdrant_DiscoverBatchPoints: GRPCCollectionRequest {}
extension Qdrant_DiscoverPoints: GRPCCollectionRequest {}
extension Qdrant_FacetCounts: GRPCCollectionRequest {}
extension Qdrant_GetCollectionInfoRequest: GRPCCollectionRequest {}
extension Qdrant_GetPoints: GRPCCollectionRequest {}
extension Qdrant_ListCollectionAliasesRequest: GRPCCollectionRequest {}
extension Qdrant_ListShardKeysRequest: GRPCCollectionRequest {}
extension Qdrant_ListSnapshotsRequest: GRPCCollectionRequest {}
extension Qdrant_QueryBatchPoints: GRPCCollectionRequest {}
extension Qdrant_QueryPointGroups: GRPCCollectionRequest {}
extension Qdrant_QueryPoints: GRPCCollectionRequest {}
extension Qdrant_RecommendBatchPoints: GRPCCollectionRequest {}
extension Qdrant_RecommendPointGroups: GRPCCollectionRequest {}
extension Qdrant_RecommendPoints: GRPCCollectionRequest {}
extension Qdrant_ScrollPoints: GRPCCollectionRequest {}
extension Qdrant_SearchBatchPoints: GRPCCollectionRequest {}
extension Qdrant_SearchMatrixPoints: GRPCCollectionRequest {}
extension Qdrant_SearchPointGroups: GRPCCollectionRequest {}
extension Qdrant_SearchPoints: GRPCCollectionRequest {}
extension Qdrant_SetPayloadPoints: GRPCCollectionRequest {}
extension Qdrant_UpdateBatchPoints: GRPCCollectionRequest {}
extension Qdrant_UpdateCollection: GRPCCollectionRequest {}
extension Qdrant_UpdateCollectionClusterSetupRequest: GRPCCollectionRequest {}
extension Qdrant_UpdatePointVectors: GRPCCollectionRequest {}
extension Qdrant_UpsertPoints: GRPCCollectionRequest {}
