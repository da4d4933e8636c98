import StrataModel
import StrataPayload
/// Qdrant's `strict_mode_config` of a collection: limits on what requests may
/// ask. Kept in config.json (version 3) and reported back; the server enforces
/// them on the requests Qdrant enforces them on while `enabled` is true.
/// Every field is optional: nil means no limit (Qdrant's null).
public struct StrictModeConfig: Sendable, Equatable, Codable {
    /// Qdrant's `StrictModeMultivector`.
    public struct Multivector: Sendable, Equatable, Codable {
        /// The most rows a point's multivector may have in an upsert or a
        /// vector update (Qdrant's `max_vectors`); at least 1, nil = no limit.
        public var maxVectors: Int?
        /// Creates a multivector limit of `maxVectors` rows (nil: no limit).
        public init(maxVectors: Int? = nil) { self.maxVectors = maxVectors }
    }
    /// Qdrant's `StrictModeSparse`.
    public struct Sparse: Sendable, Equatable, Codable {
        /// The most indices a sparse vector may have in an upsert or a vector
        /// update (Qdrant's `max_length`); at least 1, nil = no limit.
        public var maxLength: Int?
        /// Creates a sparse vector limit of `maxLength` indices (nil: no limit).
        public init(maxLength: Int? = nil) { self.maxLength = maxLength }
    }

    /// Whether the limits are enforced (Qdrant's `enabled`); nil and false
    /// both leave them off (see `isEnabled`).
    public var enabled: Bool?
    /// The largest `limit` a query, search, recommend or discover (each
    /// prefetch too), scroll or facet may ask, and the largest
    /// `limit × group_size` of a groups request (Qdrant's `max_query_limit`);
    /// at least 1.
    public var maxQueryLimit: Int?
    /// The largest `timeout` query parameter, in seconds, a checked request
    /// may give (Qdrant's `max_timeout`); at least 1.
    public var maxTimeout: Int?
    /// With false, every key a read filter (query, search, scroll, count,
    /// facet) or `group_by` uses needs an index able to answer its condition
    /// (Qdrant's `unindexed_filtering_retrieve`).
    public var unindexedFilteringRetrieve: Bool?
    /// With false, every key the filter of a delete, a payload change or a
    /// vector deletion uses needs an index (Qdrant's `unindexed_filtering_update`).
    public var unindexedFilteringUpdate: Bool?
    /// The largest `hnsw_ef` a search stage's params may ask (Qdrant's
    /// `search_max_hnsw_ef`).
    public var searchMaxHnswEf: Int?
    /// With false, exact searches are refused (`exact` in search params, and
    /// in count and facet), as are vector queries on a vector without an HNSW
    /// graph (`m` = 0) (Qdrant's `search_allow_exact`).
    public var searchAllowExact: Bool?
    /// The largest quantization `oversampling` a search may ask (Qdrant's
    /// `search_max_oversampling`); finite and ≥ 0.
    public var searchMaxOversampling: Double?
    /// The most points one upsert or vector update may carry, also inside
    /// `points/batch` (Qdrant's `upsert_max_batchsize`).
    public var upsertMaxBatchsize: Int?
    /// The most searches one batch request (`query/batch`, `search/batch`,
    /// `recommend/batch`, `discover/batch`) may hold (Qdrant's `search_max_batchsize`).
    public var searchMaxBatchsize: Int?
    /// Upserts and vector updates are refused once the collection's vectors
    /// take this many bytes (an estimate, as Qdrant's is; Qdrant's
    /// `max_collection_vector_size_bytes`).
    public var maxCollectionVectorSizeBytes: Int?
    /// Read cost allowed per minute (Qdrant's `read_rate_limit`): a token
    /// bucket of this size, refilled at limit/60 per second; a search, query
    /// stage, scroll, count or facet costs 1 plus its filter's conditions.
    /// At least 1.
    public var readRateLimit: Int?
    /// Write cost allowed per minute (Qdrant's `write_rate_limit`), a token
    /// bucket as `readRateLimit`; a write costs the points it names (at least
    /// 1). At least 1.
    public var writeRateLimit: Int?
    /// Upserts, vector updates and payload sets and overwrites are refused once the
    /// collection's payloads take this many bytes (estimated as uncompressed
    /// binary JSON; Qdrant's `max_collection_payload_size_bytes`).
    public var maxCollectionPayloadSizeBytes: Int?
    /// Upserts and vector updates are refused once the collection holds this
    /// many points (Qdrant's `max_points_count`); at least 1.
    public var maxPointsCount: Int?
    /// The most leaf conditions a checked filter may have (Qdrant's
    /// `filter_max_conditions`).
    public var filterMaxConditions: Int?
    /// The most values one condition may list (`match.any` / `except`
    /// values, `has_id` ids; Qdrant's `condition_max_size`).
    public var conditionMaxSize: Int?
    /// Row limits of multivectors, by vector name (Qdrant's `multivector_config`).
    public var multivectorConfig: [String: Multivector]?
    /// Length limits of sparse vectors, by vector name (Qdrant's `sparse_config`).
    public var sparseConfig: [String: Sparse]?
    /// Creating a payload index is refused once the collection has this many
    /// (Qdrant's `max_payload_index_count`).
    public var maxPayloadIndexCount: Int?
    /// Writes that take memory are refused while the server's resident memory
    /// is at or above this percentage of the machine's (Qdrant 1.19+, deprecated there).
    public var maxResidentMemoryPercent: Int?

    /// Creates a config with every field nil: not enabled, no limits.
    public init() {}

    /// `{"enabled": false}`.
    public static var disabled: StrictModeConfig {
        var config = StrictModeConfig()
        config.enabled = false
        return config
    }

    /// Whether the limits apply (Qdrant: only when `enabled` is true).
    public var isEnabled: Bool { enabled == true }

    /// `self` with every limit `diff` sets replacing this one's (Qdrant's
    /// `DiffConfig` for strict mode: a null in the diff leaves the value).
    public func updated(with diff: StrictModeConfig) -> StrictModeConfig {
        var result = self
        result.enabled = diff.enabled ?? enabled
        result.maxQueryLimit = diff.maxQueryLimit ?? maxQueryLimit
        result.maxTimeout = diff.maxTimeout ?? maxTimeout
        result.unindexedFilteringRetrieve = diff.unindexedFilteringRetrieve ?? unindexedFilteringRetrieve
        result.unindexedFilteringUpdate = diff.unindexedFilteringUpdate ?? unindexedFilteringUpdate
        result.searchMaxHnswEf = diff.searchMaxHnswEf ?? searchMaxHnswEf
        result.searchAllowExact = diff.searchAllowExact ?? searchAllowExact
        result.searchMaxOversampling = diff.searchMaxOversampling ?? searchMaxOversampling
        result.upsertMaxBatchsize = diff.upsertMaxBatchsize ?? upsertMaxBatchsize
        result.searchMaxBatchsize = diff.searchMaxBatchsize ?? searchMaxBatchsize
        result.maxCollectionVectorSizeBytes = diff.maxCollectionVectorSizeBytes ?? maxCollectionVectorSizeBytes
        result.readRateLimit = diff.readRateLimit ?? readRateLimit
        result.writeRateLimit = diff.writeRateLimit ?? writeRateLimit
        result.maxCollectionPayloadSizeBytes = diff.maxCollectionPayloadSizeBytes ?? maxCollectionPayloadSizeBytes
        result.maxPointsCount = diff.maxPointsCount ?? maxPointsCount
        result.filterMaxConditions = diff.filterMaxConditions ?? filterMaxConditions
        result.conditionMaxSize = diff.conditionMaxSize ?? conditionMaxSize
        result.multivectorConfig = diff.multivectorConfig ?? multivectorConfig
        result.sparseConfig = diff.sparseConfig ?? sparseConfig
        result.maxPayloadIndexCount = diff.maxPayloadIndexCount ?? maxPayloadIndexCount
        result.maxResidentMemoryPercent = diff.maxResidentMemoryPercent ?? maxResidentMemoryPercent
        return result
    }

    func validate() throws {
        let counts: [(String, Int?, Int)] = [
            ("max_query_limit", maxQueryLimit, 1), ("max_timeout", maxTimeout, 1),
            ("search_max_hnsw_ef", searchMaxHnswEf, 0), ("upsert_max_batchsize", upsertMaxBatchsize, 0),
            ("search_max_batchsize", searchMaxBatchsize, 0),
            ("max_collection_vector_size_bytes", maxCollectionVectorSizeBytes, 0),
            ("read_rate_limit", readRateLimit, 1), ("write_rate_limit", writeRateLimit, 1),
            ("max_collection_payload_size_bytes", maxCollectionPayloadSizeBytes, 0),
            ("max_points_count", maxPointsCount, 1), ("filter_max_conditions", filterMaxConditions, 0),
            ("condition_max_size", conditionMaxSize, 0), ("max_payload_index_count", maxPayloadIndexCount, 0),
        ]
        for (name, value, minimum) in counts {
            if let value, value < minimum {
                throw StrataError.invalid("strict_mode_config.\(name) must be at least \(minimum), got \(value)")
            }
        }
        if let maxResidentMemoryPercent, !(1...100).contains(maxResidentMemoryPercent) {
            throw StrataError.invalid(
                "strict_mode_config.max_resident_memory_percent must be 1…100, got \(maxResidentMemoryPercent)")
        }
        if let searchMaxOversampling, !(searchMaxOversampling.isFinite && searchMaxOversampling >= 0) {
            throw StrataError.invalid("strict_mode_config.search_max_oversampling must be a finite number ≥ 0")
        }
        for (name, limit) in multivectorConfig ?? [:] {
            if let max = limit.maxVectors, max < 1 {
                throw StrataError.invalid(
                    "strict_mode_config.multivector_config.\(name).max_vectors must be at least 1")
            }
        }
        for (name, limit) in sparseConfig ?? [:] {
            if let max = limit.maxLength, max < 1 {
                throw StrataError.invalid("strict_mode_config.sparse_config.\(name).max_length must be at least 1")
            }
        }
    }
}
