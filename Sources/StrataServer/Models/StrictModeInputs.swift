import Foundation
import Strata

/// Qdrant's `StrictModeConfig` on the wire (create and PATCH; every field
/// optional, null = unchanged on PATCH) and `StrictModeConfigOutput` (info).
struct StrictModeConfigInput: Codable, Sendable, Equatable {
    struct Multivector: Codable, Sendable, Equatable { var max_vectors: Int? }
    struct Sparse: Codable, Sendable, Equatable { var max_length: Int? }

    var enabled: Bool?
    var max_query_limit: Int?
    var max_timeout: Int?
    var unindexed_filtering_retrieve: Bool?
    var unindexed_filtering_update: Bool?
    var search_max_hnsw_ef: Int?
    var search_allow_exact: Bool?
    var search_max_oversampling: Double?
    var upsert_max_batchsize: Int?
    var search_max_batchsize: Int?
    var max_collection_vector_size_bytes: Int?
    var read_rate_limit: Int?
    var write_rate_limit: Int?
    var max_collection_payload_size_bytes: Int?
    var max_points_count: Int?
    var filter_max_conditions: Int?
    var condition_max_size: Int?
    var multivector_config: [String: Multivector]?
    var sparse_config: [String: Sparse]?
    var max_payload_index_count: Int?
    var max_resident_memory_percent: Int?

    /// The engine's config.
    func engine() throws(APIError) -> StrictModeConfig {
        var config = StrictModeConfig()
        config.maxCollectionVectorSizeBytes = max_collection_vector_size_bytes
        config.maxCollectionPayloadSizeBytes = max_collection_payload_size_bytes
        config.maxResidentMemoryPercent = max_resident_memory_percent
        config.enabled = enabled
        config.maxQueryLimit = max_query_limit
        config.maxTimeout = max_timeout
        config.unindexedFilteringRetrieve = unindexed_filtering_retrieve
        config.unindexedFilteringUpdate = unindexed_filtering_update
        config.searchMaxHnswEf = search_max_hnsw_ef
        config.searchAllowExact = search_allow_exact
        config.searchMaxOversampling = search_max_oversampling
        config.upsertMaxBatchsize = upsert_max_batchsize
        config.searchMaxBatchsize = search_max_batchsize
        config.maxPointsCount = max_points_count
        config.readRateLimit = read_rate_limit
        config.writeRateLimit = write_rate_limit
        config.filterMaxConditions = filter_max_conditions
        config.conditionMaxSize = condition_max_size
        config.multivectorConfig = multivector_config?.mapValues {
            StrictModeConfig.Multivector(maxVectors: $0.max_vectors)
        }
        config.sparseConfig = sparse_config?.mapValues { StrictModeConfig.Sparse(maxLength: $0.max_length) }
        config.maxPayloadIndexCount = max_payload_index_count
        // Values are checked with the rest of the collection config (400 naming the field).
        return config
    }

    /// The config as collection info reports it (unset fields left out).
    init(_ config: StrictModeConfig) {
        enabled = config.enabled
        max_query_limit = config.maxQueryLimit
        max_timeout = config.maxTimeout
        unindexed_filtering_retrieve = config.unindexedFilteringRetrieve
        unindexed_filtering_update = config.unindexedFilteringUpdate
        search_max_hnsw_ef = config.searchMaxHnswEf
        search_allow_exact = config.searchAllowExact
        search_max_oversampling = config.searchMaxOversampling
        upsert_max_batchsize = config.upsertMaxBatchsize
        search_max_batchsize = config.searchMaxBatchsize
        max_points_count = config.maxPointsCount
        read_rate_limit = config.readRateLimit
        write_rate_limit = config.writeRateLimit
        filter_max_conditions = config.filterMaxConditions
        condition_max_size = config.conditionMaxSize
        multivector_config = config.multivectorConfig?.mapValues { Multivector(max_vectors: $0.maxVectors) }
        sparse_config = config.sparseConfig?.mapValues { Sparse(max_length: $0.maxLength) }
        max_payload_index_count = config.maxPayloadIndexCount
        max_collection_vector_size_bytes = config.maxCollectionVectorSizeBytes
        max_collection_payload_size_bytes = config.maxCollectionPayloadSizeBytes
        max_resident_memory_percent = config.maxResidentMemoryPercent
    }
}
