import Foundation
import Strata
import StrataGRPCProtocol
import StrataJSON
import SwiftProtobuf

/// Conversions between `qdrant.Collections` / `qdrant.Snapshots` messages and
/// the REST layer's wire types.
///
/// Requests (create, update) become the JSON body a REST client would send
/// for the same call, decoded by `RequestDecoding` into the REST input: the
/// checks and error messages are REST's, field for field (a field REST
/// ignores is ignored here too; one it refuses is refused with its message).
/// Replies are built from the REST output structs (`CollectionInfoOutput`,
/// `SnapshotOutput`), so both transports report the same values.
enum GRPCCollections {
    // MARK: - Requests

    /// `CreateCollection` as `PUT /collections/{name}`'s body.
    static func createInput(_ message: Qdrant_CreateCollection, maxDepth: Int) throws(APIError) -> CreateCollectionInput
    {
        try decode(CreateCollectionInput.self, try json(message), maxDepth: maxDepth)
    }

    /// `UpdateCollection` as `PATCH /collections/{name}`'s body.
    static func updateInput(_ message: Qdrant_UpdateCollection, maxDepth: Int) throws(APIError) -> UpdateCollectionInput
    {
        try decode(UpdateCollectionInput.self, try json(message), maxDepth: maxDepth)
    }

    /// The alias actions of `ChangeAliases`; an action with none of its
    /// variants set is refused by the operation as REST refuses `{}`.
    static func aliasActions(_ message: Qdrant_ChangeAliases) -> [ChangeAliasesInput.Action] {
        message.actions.map { operation in
            var action = ChangeAliasesInput.Action()
            switch operation.action {
            case .createAlias(let create)?:
                action.create_alias = .init(collection_name: create.collectionName, alias_name: create.aliasName)
            case .renameAlias(let rename)?:
                action.rename_alias = .init(
                    old_alias_name: rename.oldAliasName, new_alias_name: rename.newAliasName)
            case .deleteAlias(let delete)?:
                action.delete_alias = .init(alias_name: delete.aliasName)
            case nil:
                break
            }
            return action
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: JSONValue, maxDepth: Int) throws(APIError) -> T {
        try RequestDecoding.decode(T.self, from: try bytes(body), maxDepth: maxDepth)
    }

    /// A message's REST body as JSON bytes.
    static func bytes(_ body: JSONValue) throws(APIError) -> [UInt8] {
        do {
            return try JSONBodyEncoder.encode(body)
        } catch {
            throw APIError.jsonDeserialize("\(error)")
        }
    }

    static func json(_ message: Qdrant_CreateCollection) throws(APIError) -> JSONValue {
        var body = JSONObject()
        if message.hasVectorsConfig, let vectors = json(message.vectorsConfig) { body["vectors"] = vectors }
        if message.hasShardNumber { body["shard_number"] = .int(Int64(message.shardNumber)) }
        if message.hasShardingMethod { body["sharding_method"] = .string(name(message.shardingMethod)) }
        if message.hasReplicationFactor { body["replication_factor"] = .int(Int64(message.replicationFactor)) }
        if message.hasWriteConsistencyFactor {
            body["write_consistency_factor"] = .int(Int64(message.writeConsistencyFactor))
        }
        if message.hasOnDiskPayload { body["on_disk_payload"] = .bool(message.onDiskPayload) }
        if message.hasHnswConfig { body["hnsw_config"] = json(message.hnswConfig) }
        if message.hasWalConfig { body["wal_config"] = json(message.walConfig) }
        if message.hasOptimizersConfig { body["optimizers_config"] = json(message.optimizersConfig) }
        if message.hasQuantizationConfig { body["quantization_config"] = json(message.quantizationConfig) }
        if message.hasSparseVectorsConfig { body["sparse_vectors"] = json(message.sparseVectorsConfig) }
        if message.hasStrictModeConfig { body["strict_mode_config"] = json(message.strictModeConfig) }
        if !message.metadata.isEmpty { body["metadata"] = .object(try message.metadata.json()) }
        if message.hasPayload { body["payload"] = memoryObject(message.payload.hasMemory, message.payload.memory) }
        if message.hasIDTracker {
            body["id_tracker"] = memoryObject(message.idTracker.hasMemory, message.idTracker.memory)
        }
        return body.value
    }

    static func json(_ message: Qdrant_UpdateCollection) throws(APIError) -> JSONValue {
        var body = JSONObject()
        if message.hasVectorsConfig, let vectors = json(message.vectorsConfig) { body["vectors"] = vectors }
        if message.hasOptimizersConfig { body["optimizers_config"] = json(message.optimizersConfig) }
        if message.hasParams { body["params"] = json(message.params) }
        if message.hasHnswConfig { body["hnsw_config"] = json(message.hnswConfig) }
        if message.hasQuantizationConfig { body["quantization_config"] = json(message.quantizationConfig) }
        if message.hasSparseVectorsConfig { body["sparse_vectors"] = json(message.sparseVectorsConfig) }
        if message.hasStrictModeConfig { body["strict_mode_config"] = json(message.strictModeConfig) }
        if !message.metadata.isEmpty { body["metadata"] = .object(try message.metadata.json()) }
        return body.value
    }

    /// One vector's params or named ones; nil when the oneof is unset (no vectors given).
    static func json(_ config: Qdrant_VectorsConfig) -> JSONValue? {
        switch config.config {
        case .params(let params)?: return json(params)
        case .paramsMap(let map)?: return .object(map.map.mapValues { json($0) })
        case nil: return nil
        }
    }

    /// `VectorParams` (also `CreateVectorName`'s dense params).
    static func json(_ params: Qdrant_VectorParams) -> JSONValue {
        var object = JSONObject()
        object["size"] = integer(params.size)
        object["distance"] = .string(name(params.distance))
        if params.hasHnswConfig { object["hnsw_config"] = json(params.hnswConfig) }
        if params.hasQuantizationConfig { object["quantization_config"] = json(params.quantizationConfig) }
        if params.hasOnDisk { object["on_disk"] = .bool(params.onDisk) }
        if params.hasDatatype, let datatype = name(params.datatype) { object["datatype"] = .string(datatype) }
        if params.hasMultivectorConfig {
            object["multivector_config"] = ["comparator": .string(name(params.multivectorConfig.comparator))]
        }
        if params.hasMemory, let memory = name(params.memory) { object["memory"] = .string(memory) }
        return object.value
    }

    /// A vectors diff by name; a single `params` changes the unnamed vector ("").
    static func json(_ config: Qdrant_VectorsConfigDiff) -> JSONValue? {
        func diff(_ params: Qdrant_VectorParamsDiff) -> JSONValue {
            var object = JSONObject()
            if params.hasHnswConfig { object["hnsw_config"] = json(params.hnswConfig) }
            if params.hasQuantizationConfig { object["quantization_config"] = json(params.quantizationConfig) }
            if params.hasOnDisk { object["on_disk"] = .bool(params.onDisk) }
            if params.hasMemory, let memory = name(params.memory) { object["memory"] = .string(memory) }
            return object.value
        }
        switch config.config {
        case .params(let params)?: return .object([CollectionConfig.defaultVectorName: diff(params)])
        case .paramsMap(let map)?: return .object(map.map.mapValues(diff))
        case nil: return nil
        }
    }

    static func json(_ config: Qdrant_HnswConfigDiff) -> JSONValue {
        var object = JSONObject()
        if config.hasM { object["m"] = integer(config.m) }
        if config.hasEfConstruct { object["ef_construct"] = integer(config.efConstruct) }
        if config.hasFullScanThreshold { object["full_scan_threshold"] = integer(config.fullScanThreshold) }
        if config.hasMaxIndexingThreads { object["max_indexing_threads"] = integer(config.maxIndexingThreads) }
        if config.hasOnDisk { object["on_disk"] = .bool(config.onDisk) }
        if config.hasPayloadM { object["payload_m"] = integer(config.payloadM) }
        if config.hasInlineStorage { object["inline_storage"] = .bool(config.inlineStorage) }
        if config.hasMemory, let memory = name(config.memory) { object["memory"] = .string(memory) }
        return object.value
    }

    static func json(_ config: Qdrant_WalConfigDiff) -> JSONValue {
        var object = JSONObject()
        if config.hasWalCapacityMb { object["wal_capacity_mb"] = integer(config.walCapacityMb) }
        if config.hasWalSegmentsAhead { object["wal_segments_ahead"] = integer(config.walSegmentsAhead) }
        if config.hasWalRetainClosed { object["wal_retain_closed"] = integer(config.walRetainClosed) }
        return object.value
    }

    static func json(_ config: Qdrant_OptimizersConfigDiff) -> JSONValue {
        var object = JSONObject()
        if config.hasDeletedThreshold { object["deleted_threshold"] = .double(config.deletedThreshold) }
        if config.hasVacuumMinVectorNumber {
            object["vacuum_min_vector_number"] = integer(config.vacuumMinVectorNumber)
        }
        if config.hasDefaultSegmentNumber { object["default_segment_number"] = integer(config.defaultSegmentNumber) }
        if config.hasMaxSegmentSize { object["max_segment_size"] = integer(config.maxSegmentSize) }
        if config.hasMemmapThreshold { object["memmap_threshold"] = integer(config.memmapThreshold) }
        if config.hasIndexingThreshold { object["indexing_threshold"] = integer(config.indexingThreshold) }
        if config.hasFlushIntervalSec { object["flush_interval_sec"] = integer(config.flushIntervalSec) }
        // Qdrant reads the old field first, then the new one ("auto" or a number).
        if config.hasDeprecatedMaxOptimizationThreads {
            object["max_optimization_threads"] = integer(config.deprecatedMaxOptimizationThreads)
        } else if config.hasMaxOptimizationThreads {
            switch config.maxOptimizationThreads.variant {
            case .value(let threads)?: object["max_optimization_threads"] = integer(threads)
            case .setting?: object["max_optimization_threads"] = "auto"
            case nil: break
            }
        }
        if config.hasPreventUnoptimized { object["prevent_unoptimized"] = .bool(config.preventUnoptimized) }
        return object.value
    }

    static func json(_ params: Qdrant_CollectionParamsDiff) -> JSONValue {
        var object = JSONObject()
        if params.hasReplicationFactor { object["replication_factor"] = .int(Int64(params.replicationFactor)) }
        if params.hasWriteConsistencyFactor {
            object["write_consistency_factor"] = .int(Int64(params.writeConsistencyFactor))
        }
        if params.hasOnDiskPayload { object["on_disk_payload"] = .bool(params.onDiskPayload) }
        if params.hasReadFanOutFactor { object["read_fan_out_factor"] = .int(Int64(params.readFanOutFactor)) }
        if params.hasReadFanOutDelayMs { object["read_fan_out_delay_ms"] = integer(params.readFanOutDelayMs) }
        if params.hasPayload { object["payload"] = memoryObject(params.payload.hasMemory, params.payload.memory) }
        if params.hasIDTracker {
            object["id_tracker"] = memoryObject(params.idTracker.hasMemory, params.idTracker.memory)
        }
        return object.value
    }

    /// A quantization method as REST names it; an unset oneof is `{}`, which
    /// REST refuses ("needs exactly one of …").
    static func json(_ config: Qdrant_QuantizationConfig) -> JSONValue {
        switch config.quantization {
        case .scalar(let scalar)?: return ["scalar": json(scalar)]
        case .product(let product)?: return ["product": json(product)]
        case .binary(let binary)?: return ["binary": json(binary)]
        case .turboquant(let turbo)?: return ["turbo": json(turbo)]
        case nil: return .object([:])
        }
    }

    /// A quantization change: a method, or `"Disabled"`.
    static func json(_ config: Qdrant_QuantizationConfigDiff) -> JSONValue {
        switch config.quantization {
        case .scalar(let scalar)?: return ["scalar": json(scalar)]
        case .product(let product)?: return ["product": json(product)]
        case .binary(let binary)?: return ["binary": json(binary)]
        case .turboquant(let turbo)?: return ["turbo": json(turbo)]
        case .disabled?: return "Disabled"
        case nil: return .object([:])
        }
    }

    private static func json(_ scalar: Qdrant_ScalarQuantization) -> JSONValue {
        var object = JSONObject()
        switch scalar.type {
        case .int8: object["type"] = "int8"
        case .unknownQuantization: object["type"] = "unknown"
        case .UNRECOGNIZED(let value): object["type"] = .string("\(value)")
        }
        if scalar.hasQuantile { object["quantile"] = decimal(scalar.quantile) }
        if scalar.hasAlwaysRam { object["always_ram"] = .bool(scalar.alwaysRam) }
        if scalar.hasMemory, let memory = name(scalar.memory) { object["memory"] = .string(memory) }
        return object.value
    }

    private static func json(_ product: Qdrant_ProductQuantization) -> JSONValue {
        var object = JSONObject()
        switch product.compression {
        case .x4: object["compression"] = "x4"
        case .x8: object["compression"] = "x8"
        case .x16: object["compression"] = "x16"
        case .x32: object["compression"] = "x32"
        case .x64: object["compression"] = "x64"
        case .UNRECOGNIZED(let value): object["compression"] = .string("\(value)")
        }
        if product.hasAlwaysRam { object["always_ram"] = .bool(product.alwaysRam) }
        if product.hasMemory, let memory = name(product.memory) { object["memory"] = .string(memory) }
        return object.value
    }

    private static func json(_ binary: Qdrant_BinaryQuantization) -> JSONValue {
        var object = JSONObject()
        if binary.hasAlwaysRam { object["always_ram"] = .bool(binary.alwaysRam) }
        if binary.hasEncoding {
            switch binary.encoding {
            case .oneBit: object["encoding"] = "one_bit"
            case .twoBits: object["encoding"] = "two_bits"
            case .oneAndHalfBits: object["encoding"] = "one_and_half_bits"
            case .UNRECOGNIZED(let value): object["encoding"] = .string("\(value)")
            }
        }
        if binary.hasQueryEncoding, case .setting(let setting)? = binary.queryEncoding.variant {
            switch setting {
            case .default: object["query_encoding"] = "default"
            case .binary: object["query_encoding"] = "binary"
            case .scalar4Bits: object["query_encoding"] = "scalar4bits"
            case .scalar8Bits: object["query_encoding"] = "scalar8bits"
            case .UNRECOGNIZED(let value): object["query_encoding"] = .string("\(value)")
            }
        }
        if binary.hasMemory, let memory = name(binary.memory) { object["memory"] = .string(memory) }
        return object.value
    }

    private static func json(_ turbo: Qdrant_TurboQuantization) -> JSONValue {
        var object = JSONObject()
        if turbo.hasAlwaysRam { object["always_ram"] = .bool(turbo.alwaysRam) }
        if turbo.hasBits {
            switch turbo.bits {
            case .bits1: object["bits"] = "bits1"
            case .bits15: object["bits"] = "bits1_5"
            case .bits2: object["bits"] = "bits2"
            case .bits4: object["bits"] = "bits4"
            case .bits8: object["bits"] = "bits8"
            case .UNRECOGNIZED(let value): object["bits"] = .string("\(value)")
            }
        }
        if turbo.hasMemory, let memory = name(turbo.memory) { object["memory"] = .string(memory) }
        return object.value
    }

    /// Sparse vectors by name: `{"index": {…}, "modifier": …}`.
    static func json(_ config: Qdrant_SparseVectorConfig) -> JSONValue {
        .object(
            config.map.mapValues { params in
                var object = JSONObject()
                if params.hasIndex {
                    let index = params.index
                    var indexObject = JSONObject()
                    if index.hasFullScanThreshold {
                        indexObject["full_scan_threshold"] = integer(index.fullScanThreshold)
                    }
                    if index.hasOnDisk { indexObject["on_disk"] = .bool(index.onDisk) }
                    if index.hasDatatype, let datatype = name(index.datatype) {
                        indexObject["datatype"] = .string(datatype)
                    }
                    if index.hasMemory, let memory = name(index.memory) { indexObject["memory"] = .string(memory) }
                    object["index"] = indexObject.value
                }
                if params.hasModifier { object["modifier"] = .string(name(params.modifier)) }
                return object.value
            })
    }

    static func json(_ config: Qdrant_StrictModeConfig) -> JSONValue {
        var object = JSONObject()
        if config.hasEnabled { object["enabled"] = .bool(config.enabled) }
        if config.hasMaxQueryLimit { object["max_query_limit"] = .int(Int64(config.maxQueryLimit)) }
        if config.hasMaxTimeout { object["max_timeout"] = .int(Int64(config.maxTimeout)) }
        if config.hasUnindexedFilteringRetrieve {
            object["unindexed_filtering_retrieve"] = .bool(config.unindexedFilteringRetrieve)
        }
        if config.hasUnindexedFilteringUpdate {
            object["unindexed_filtering_update"] = .bool(config.unindexedFilteringUpdate)
        }
        if config.hasSearchMaxHnswEf { object["search_max_hnsw_ef"] = .int(Int64(config.searchMaxHnswEf)) }
        if config.hasSearchAllowExact { object["search_allow_exact"] = .bool(config.searchAllowExact) }
        if config.hasSearchMaxOversampling { object["search_max_oversampling"] = decimal(config.searchMaxOversampling) }
        if config.hasUpsertMaxBatchsize { object["upsert_max_batchsize"] = integer(config.upsertMaxBatchsize) }
        if config.hasSearchMaxBatchsize { object["search_max_batchsize"] = integer(config.searchMaxBatchsize) }
        if config.hasMaxCollectionVectorSizeBytes {
            object["max_collection_vector_size_bytes"] = integer(config.maxCollectionVectorSizeBytes)
        }
        if config.hasReadRateLimit { object["read_rate_limit"] = .int(Int64(config.readRateLimit)) }
        if config.hasWriteRateLimit { object["write_rate_limit"] = .int(Int64(config.writeRateLimit)) }
        if config.hasMaxCollectionPayloadSizeBytes {
            object["max_collection_payload_size_bytes"] = integer(config.maxCollectionPayloadSizeBytes)
        }
        if config.hasFilterMaxConditions { object["filter_max_conditions"] = integer(config.filterMaxConditions) }
        if config.hasConditionMaxSize { object["condition_max_size"] = integer(config.conditionMaxSize) }
        if config.hasMultivectorConfig {
            object["multivector_config"] = .object(
                config.multivectorConfig.multivectorConfig.mapValues { limit in
                    limit.hasMaxVectors ? ["max_vectors": integer(limit.maxVectors)] : .object([:])
                })
        }
        if config.hasSparseConfig {
            object["sparse_config"] = .object(
                config.sparseConfig.sparseConfig.mapValues { limit in
                    limit.hasMaxLength ? ["max_length": integer(limit.maxLength)] : .object([:])
                })
        }
        if config.hasMaxPointsCount { object["max_points_count"] = integer(config.maxPointsCount) }
        if config.hasMaxPayloadIndexCount { object["max_payload_index_count"] = integer(config.maxPayloadIndexCount) }
        if config.hasMaxResidentMemoryPercent {
            object["max_resident_memory_percent"] = .int(Int64(config.maxResidentMemoryPercent))
        }
        return object.value
    }

    /// `{"memory": …}` of payload and id-tracker storage params.
    private static func memoryObject(_ hasMemory: Bool, _ memory: Qdrant_Memory) -> JSONValue {
        guard hasMemory, let name = name(memory) else { return .object([:]) }
        return ["memory": .string(name)]
    }

    // MARK: - Names REST uses for the protobuf enums

    static func name(_ distance: Qdrant_Distance) -> String {
        switch distance {
        case .cosine: "Cosine"
        case .euclid: "Euclid"
        case .dot: "Dot"
        case .manhattan: "Manhattan"
        case .unknownDistance: "UnknownDistance"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    /// nil for `Default` (no datatype given, as Qdrant reads it).
    static func name(_ datatype: Qdrant_Datatype) -> String? {
        switch datatype {
        case .default: nil
        case .float32: "float32"
        case .uint8: "uint8"
        case .float16: "float16"
        case .turbo4: "turbo4"
        case .turbo8: "turbo8"
        case .turbo16: "turbo16"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    /// nil for `MemoryUnknown` (not set).
    static func name(_ memory: Qdrant_Memory) -> String? {
        switch memory {
        case .unknown: nil
        case .cold: "cold"
        case .cached: "cached"
        case .pinned: "pinned"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    static func name(_ modifier: Qdrant_Modifier) -> String {
        switch modifier {
        case .none: "none"
        case .idf: "idf"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    static func name(_ comparator: Qdrant_MultiVectorComparator) -> String {
        switch comparator {
        case .maxSim: "max_sim"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    static func name(_ method: Qdrant_ShardingMethod) -> String {
        switch method {
        case .auto: "auto"
        case .custom: "custom"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    /// An unsigned protobuf integer as JSON (a double past Int64, which REST's
    /// integer fields then refuse as they refuse such a number in a body).
    private static func integer(_ value: UInt64) -> JSONValue {
        Int64(exactly: value).map(JSONValue.int) ?? .double(Double(value))
    }

    /// A protobuf float as the decimal a client wrote (0.99, not 0.9900000095…).
    private static func decimal(_ value: Float) -> JSONValue {
        .double(Double("\(value)") ?? Double(value))
    }
}

/// A JSON object built field by field.
private struct JSONObject {
    var fields: [String: JSONValue] = [:]

    subscript(key: String) -> JSONValue? {
        get { fields[key] }
        set { fields[key] = newValue }
    }

    var value: JSONValue { .object(fields) }
}
