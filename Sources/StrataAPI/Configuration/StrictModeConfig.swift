import StrataModel
import StrataPayload
/// Qdrant's `strict_mode_config` of a collection: limits on what requests may
/// ask. Kept in config.json (version 3) and reported back; the server enforces
/// them on the requests Qdrant enforces them on while `enabled` is true.
/// Every field is optional: nil means no limit (Qdrant's null).
public struct StrictModeConfig: Sendable, Equatable, Codable {
    /// Qdrant's `StrictModeMultivector`.
    public struct Multivector: Sendable, Equatable, Codable {
        public var maxVectors: Int?
        public init(maxVectors: Int? = nil) { self.maxVectors = maxVectors }
    }
    /// Qdrant's `StrictModeSparse`.
    public struct Sparse: Sendable, Equatable, Codable {
        public var maxLength: Int?
        public init(maxLength: Int? = nil) { self.maxLength = maxLength }
    }

    public var enabled: Bool?
    public var maxQueryLimit: Int?
    public var maxTimeout: Int?
    public var unindexedFilteringRetrieve: Bool?
    public var unindexedFilteringUpdate: Bool?
    public var searchMaxHnswEf: Int?
    public var searchAllowExact: Bool?
    public var searchMaxOversampling: Double?
    public var upsertMaxBatchsize: Int?
    public var searchMaxBatchsize: Int?
    public var maxCollectionVectorSizeBytes: Int?
    public var readRateLimit: Int?
    public var writeRateLimit: Int?
    public var maxCollectionPayloadSizeBytes: Int?
    public var maxPointsCount: Int?
    public var filterMaxConditions: Int?
    public var conditionMaxSize: Int?
    public var multivectorConfig: [String: Multivector]?
    public var sparseConfig: [String: Sparse]?
    public var maxPayloadIndexCount: Int?
    /// Writes that take memory are refused while the server's resident memory
    /// is at or above this percentage of the machine's (Qdrant 1.19+, deprecated there).
    public var maxResidentMemoryPercent: Int?

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
