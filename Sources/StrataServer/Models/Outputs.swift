// Response types in Qdrant's shapes. Field names are Qdrant's; see CommonInputs.swift.
import Foundation
import Strata
import StrataJSON

/// Qdrant's success envelope.
struct Envelope<Result: Encodable>: Encodable {
    var result: Result
    var status = "ok"
    var time: Double
}

/// Qdrant's error envelope.
struct ErrorEnvelope: Encodable {
    struct Status: Encodable { var error: String }
    var status: Status
    var time: Double
}

/// A point's vectors as Qdrant prints them: a bare array for a collection's
/// single unnamed vector, else an object by name.
enum VectorOutput: Encodable, Sendable {
    case single([Float])
    case singleMulti([[Float]])
    case named([String: Value])

    /// One named vector: a dense array, a multivector's rows (array of
    /// arrays) or `{"indices", "values"}`.
    enum Value: Encodable, Sendable {
        case dense([Float])
        case multi([[Float]])
        case sparse(SparseVector)

        private enum Keys: String, CodingKey { case indices, values }

        // Through a single-value container, so that an encoder with a fast
        // path for `[Float]` sees the array (JSONBodyEncoder; JSONEncoder too).
        func encode(to encoder: any Encoder) throws {
            switch self {
            case .dense(let vector):
                var single = encoder.singleValueContainer()
                try single.encode(vector)
            case .multi(let rows):
                var single = encoder.singleValueContainer()
                try single.encode(rows)
            case .sparse(let vector):
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(vector.indices, forKey: .indices)
                try container.encode(vector.values, forKey: .values)
            }
        }
    }

    /// `rowSizes`: the row size of each multivector of the collection (the
    /// engine hands a multivector over as its rows back to back).
    init?(
        _ vectors: [String: [Float]]?, sparse: [String: SparseVector]? = nil, selector: VectorSelector,
        rowSizes: [String: Int]
    ) {
        guard vectors != nil || sparse != nil, selector.wantsVectors else { return nil }
        var all: [String: Value] = [:]
        for (name, vector) in vectors ?? [:] {
            if let size = rowSizes[name] {
                all[name] = .multi(
                    stride(from: 0, to: vector.count, by: size).map { Array(vector[$0..<min($0 + size, vector.count)]) }
                )
            } else {
                all[name] = .dense(vector)
            }
        }
        for (name, vector) in sparse ?? [:] { all[name] = .sparse(vector) }
        switch selector {
        case .names(let names):
            self = .named(all.filter { names.contains($0.key) })
        default:
            if all.count == 1, (sparse ?? [:]).isEmpty, let single = all[CollectionConfig.defaultVectorName] {
                self = single.unnamed
            } else {
                self = .named(all)
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .single(let vector): try single.encode(vector)
        case .singleMulti(let rows): try single.encode(rows)
        case .named(let vectors): try single.encode(vectors)
        }
    }
}

extension VectorOutput.Value {
    /// How the collection's only, unnamed vector prints: bare.
    var unnamed: VectorOutput {
        switch self {
        case .dense(let vector): .single(vector)
        case .multi(let rows): .singleMulti(rows)
        case .sparse: .named(["": self])
        }
    }
}

extension CollectionConfig {
    /// The names of the multivectors, for checking writes' shapes.
    var multiVectorNameSet: Set<String> { Set(vectors.keys.filter { vectors[$0]!.isMultiVector }) }

    /// Row size of each multivector, for `VectorOutput`.
    var multiVectorRowSizes: [String: Int] { vectors.filter { $0.value.isMultiVector }.mapValues(\.size) }
}

/// Qdrant's `Record`.
struct RecordOutput: Encodable, Sendable {
    var id: PointID
    var payload: Payload?
    var vector: VectorOutput?
    /// The value a scroll with `order_by` ordered by (Qdrant's `order_value`).
    var orderValue: Double?

    init(
        _ record: Record, payload selector: PayloadSelector, vector vectorSelector: VectorSelector,
        rowSizes: [String: Int], orderValue: Double? = nil
    ) {
        id = record.id
        payload = selector.apply(record.payload)
        vector = VectorOutput(
            record.vectors, sparse: record.sparseVectors, selector: vectorSelector, rowSizes: rowSizes)
        self.orderValue = orderValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(payload, forKey: .payload)
        try container.encode(vector, forKey: .vector)
        if let orderValue { try ScoredPointOutput.encode(orderValue: orderValue, to: &container, key: .order_value) }
    }

    private enum CodingKeys: String, CodingKey { case id, payload, vector, order_value }
}

/// Qdrant's `ScoredPoint`.
struct ScoredPointOutput: Encodable, Sendable {
    var id: PointID
    var version: UInt64
    var score: Float
    var payload: Payload?
    var vector: VectorOutput?
    /// The value an `order_by` query ordered by: an integer when integral, as
    /// Qdrant's `OrderValue` (int64 or double).
    var order_value: Double?
    /// The collection the point is in (a query over several collections, `POST /query`).
    var collection: String?

    init(
        _ hit: ScoredPoint, payload selector: PayloadSelector, vector vectorSelector: VectorSelector,
        rowSizes: [String: Int]
    ) {
        id = hit.id
        version = hit.version
        score = hit.score
        payload = selector.apply(hit.payload)
        vector = VectorOutput(hit.vectors, sparse: hit.sparseVectors, selector: vectorSelector, rowSizes: rowSizes)
        order_value = hit.orderValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(score, forKey: .score)
        try container.encode(payload, forKey: .payload)
        try container.encode(vector, forKey: .vector)
        if let order_value { try Self.encode(orderValue: order_value, to: &container, key: .order_value) }
        if let collection { try container.encode(collection, forKey: .collection) }
    }

    /// An order value as Qdrant's `OrderValue`: an integer when integral, else a double.
    static func encode<Key: CodingKey>(
        orderValue: Double, to container: inout KeyedEncodingContainer<Key>, key: Key
    ) throws {
        if orderValue == orderValue.rounded(), abs(orderValue) < 9.0e15 {
            try container.encode(Int64(orderValue), forKey: key)
        } else {
            try container.encode(orderValue, forKey: key)
        }
    }

    private enum CodingKeys: String, CodingKey { case id, version, score, payload, vector, order_value, collection }
}

struct QueryResponseOutput: Encodable { var points: [ScoredPointOutput] }

/// Qdrant's `PointGroup`: the shared value, the hits, the looked-up record.
struct PointGroupOutput: Encodable {
    var id: JSONValue
    var hits: [ScoredPointOutput]
    var lookup: RecordOutput?

    init(
        _ group: PointGroup, payload: PayloadSelector, vector: VectorSelector, rowSizes: [String: Int],
        lookup lookupSelectors: (PayloadSelector, VectorSelector, rowSizes: [String: Int])?
    ) {
        id = group.id
        hits = group.hits.map { ScoredPointOutput($0, payload: payload, vector: vector, rowSizes: rowSizes) }
        if let record = group.lookup, let (lookupPayload, lookupVector, lookupRowSizes) = lookupSelectors {
            lookup = RecordOutput(record, payload: lookupPayload, vector: lookupVector, rowSizes: lookupRowSizes)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(hits, forKey: .hits)
        if let lookup { try container.encode(lookup, forKey: .lookup) }
    }

    private enum CodingKeys: String, CodingKey { case id, hits, lookup }
}

/// Qdrant's `GroupsResult`.
struct GroupsResultOutput: Encodable { var groups: [PointGroupOutput] }

struct ScrollResultOutput: Encodable {
    var points: [RecordOutput]
    var next_page_offset: PointID?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(points, forKey: .points)
        try container.encode(next_page_offset, forKey: .next_page_offset)
    }

    private enum CodingKeys: String, CodingKey { case points, next_page_offset }
}

struct CountResultOutput: Encodable { var count: Int }

/// Qdrant's `UpdateResult`; Strata always waits, so `status` is "completed".
struct UpdateResultOutput: Encodable {
    var operation_id: UInt64
    var status = "completed"
}

struct CollectionDescriptionOutput: Encodable { var name: String }
struct CollectionsOutput: Encodable { var collections: [CollectionDescriptionOutput] }
struct CollectionExistenceOutput: Encodable { var exists: Bool }

struct AliasDescriptionOutput: Encodable {
    var alias_name: String
    var collection_name: String
}
struct AliasesOutput: Encodable { var aliases: [AliasDescriptionOutput] }

/// Qdrant's `HnswConfig` as reported.
struct HnswConfigOutput: Encodable {
    var m: Int
    var ef_construct: Int
    var full_scan_threshold: Int
    var max_indexing_threads: Int
    var on_disk: Bool?

    init(_ config: HnswConfig) {
        m = config.m
        ef_construct = config.efConstruct
        full_scan_threshold = config.fullScanThresholdKB
        max_indexing_threads = config.maxIndexingThreads
        on_disk = config.onDisk
    }
}

/// Qdrant's `QuantizationConfig` as reported.
enum QuantizationOutput: Encodable {
    case config(QuantizationConfig)

    func encode(to encoder: any Encoder) throws {
        guard case .config(let config) = self else { return }
        var object: [String: JSONValue] = [:]
        switch config {
        case .scalar(let quantile, let alwaysRam):
            var fields: [String: JSONValue] = ["type": "int8"]
            if let quantile { fields["quantile"] = .double(quantile) }
            if let alwaysRam { fields["always_ram"] = .bool(alwaysRam) }
            object["scalar"] = .object(fields)
        case .binary(let encoding, let queryEncoding, let alwaysRam):
            var fields: [String: JSONValue] = ["encoding": .string(encoding.rawValue)]
            if queryEncoding != .default { fields["query_encoding"] = .string(queryEncoding.rawValue) }
            if let alwaysRam { fields["always_ram"] = .bool(alwaysRam) }
            object["binary"] = .object(fields)
        case .product(let compression, let alwaysRam):
            var fields: [String: JSONValue] = ["compression": .string(compression.rawValue)]
            if let alwaysRam { fields["always_ram"] = .bool(alwaysRam) }
            object["product"] = .object(fields)
        }
        try JSONValue.object(object).encode(to: encoder)
    }
}

/// Qdrant's `VectorParams` as reported.
struct VectorParamsOutput: Encodable {
    var size: Int
    var distance: String
    var hnsw_config: HnswConfigOutput?
    var quantization_config: QuantizationOutput?
    var on_disk: Bool?
    var multivector_config: MultiVectorConfigOutput?
    /// Left out for float32, as Qdrant leaves out a datatype never set.
    var datatype: String?

    struct MultiVectorConfigOutput: Encodable { var comparator: String }

    init(_ params: VectorParams) {
        size = params.size
        distance = params.distance.rawValue
        hnsw_config = params.hnswConfig.map(HnswConfigOutput.init)
        quantization_config = params.quantizationConfig.map(QuantizationOutput.config)
        on_disk = params.onDisk
        multivector_config = params.multivectorConfig.map {
            MultiVectorConfigOutput(comparator: $0.comparator.rawValue)
        }
        datatype = params.datatype?.rawValue
    }
}

/// Qdrant's `CollectionInfo`.
struct CollectionInfoOutput: Encodable {
    struct SparseParamsOutput: Encodable {
        struct Index: Encodable {
            var on_disk: Bool?
            var full_scan_threshold: Int?
        }
        var index: Index?
        /// null unless IDF, as Qdrant reports a modifier that was not set.
        var modifier: String?
    }
    struct Params: Encodable {
        var vectors: JSONEncodableVectors
        var sparse_vectors: [String: SparseParamsOutput]?
        var shard_number = 1
        var replication_factor = 1
        var write_consistency_factor = 1
        var on_disk_payload = true
    }
    struct OptimizerConfigOutput: Encodable {
        var deleted_threshold: Double
        var vacuum_min_vector_number: Int
        var default_segment_number: Int
        var max_segment_size: Int?
        var memmap_threshold: Int?
        var indexing_threshold: Int
        var flush_interval_sec: Int
        var max_optimization_threads: Int?
    }
    struct WALConfigOutput: Encodable {
        var wal_capacity_mb: Int
        var wal_segments_ahead = 0
    }
    struct Config: Encodable {
        var params: Params
        var hnsw_config: HnswConfigOutput
        var optimizer_config: OptimizerConfigOutput
        var wal_config: WALConfigOutput
        var quantization_config: QuantizationOutput?
        var strict_mode_config: StrictModeConfigInput
        var metadata: [String: JSONValue]?
        /// Strata's extension; left out when points never expire.
        var ttl_config: TTLConfigInput?
        /// Strata's extension; left out when only tagged versions are kept.
        var versions_config: VersionsConfigInput?
    }
    /// `vectors`: one VectorParams for the unnamed vector, else a map.
    enum JSONEncodableVectors: Encodable {
        case single(VectorParamsOutput)
        case named([String: VectorParamsOutput])

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .single(let params): try params.encode(to: encoder)
            case .named(let params): try params.encode(to: encoder)
            }
        }
    }

    var status = "green"
    var optimizer_status = "ok"
    var indexed_vectors_count: Int
    var points_count: Int
    var segments_count: Int
    var config: Config
    var payload_schema: [String: JSONValue] = [:]

    init(collection: Strata.Collection, walFileSize: Int) {
        self.init(config: collection.config, walFileSize: walFileSize)
        let config = collection.config
        let storage = collection.storageInfo
        points_count = collection.count()
        for field in collection.payloadSchema {
            var info: [String: JSONValue] = [
                "data_type": .string(field.schema.type.rawValue), "points": .int(Int64(field.points)),
            ]
            if field.schema.type == .text || field.schema != PayloadFieldSchema(field.schema.type) {
                info["params"] = field.schema.json
            }
            payload_schema[field.key] = .object(info)
        }
        // Vectors in segments that carry a graph for them (Qdrant counts the
        // vectors its HNSW indexes cover); the rest are scanned exactly.
        indexed_vectors_count = config.vectors.keys.reduce(0) { total, name in
            total
                + storage.segments.filter { $0.sections.contains { $0.name == "hnsw[\(name)]" } }
                .reduce(0) { $0 + $1.points - $1.deleted }
        }
        // Qdrant's meaning: yellow while the optimizer has work queued, red
        // when it failed (the WAL still holds everything; it retries).
        status = storage.backgroundError != nil ? "red" : storage.frozenSegments > 0 ? "yellow" : "green"
        if let error = storage.backgroundError { optimizer_status = error }
        segments_count =
            storage.segments.count + (storage.mutablePoints > 0 || storage.segments.isEmpty ? 1 : 0)
            + storage.frozenSegments
    }

    /// The info of a collection with `config` and nothing in it yet (counts
    /// zero, green); `init(collection:walFileSize:)` fills in the rest.
    init(config: CollectionConfig, walFileSize: Int) {
        points_count = 0
        indexed_vectors_count = 0
        segments_count = 0
        let vectors: JSONEncodableVectors
        if config.vectors.count == 1, let single = config.vectors[CollectionConfig.defaultVectorName] {
            vectors = .single(VectorParamsOutput(single))
        } else {
            vectors = .named(config.vectors.mapValues(VectorParamsOutput.init))
        }
        let optimizers = config.optimizers
        self.config = Config(
            params: Params(
                vectors: vectors,
                sparse_vectors: config.sparseVectors.isEmpty
                    ? nil
                    : config.sparseVectors.mapValues { params in
                        SparseParamsOutput(
                            index: params.index.map {
                                SparseParamsOutput.Index(on_disk: $0.onDisk, full_scan_threshold: $0.fullScanThreshold)
                            },
                            modifier: params.modifier == .none ? nil : params.modifier.rawValue)
                    }),
            hnsw_config: HnswConfigOutput(config.hnswConfig),
            optimizer_config: OptimizerConfigOutput(
                deleted_threshold: optimizers.deletedThreshold,
                vacuum_min_vector_number: optimizers.vacuumMinVectorNumber,
                default_segment_number: optimizers.defaultSegmentNumber, max_segment_size: optimizers.maxSegmentSizeKB,
                memmap_threshold: nil, indexing_threshold: optimizers.indexingThresholdKB,
                flush_interval_sec: optimizers.flushIntervalSec,
                max_optimization_threads: optimizers.maxOptimizationThreads),
            wal_config: WALConfigOutput(wal_capacity_mb: max(1, walFileSize >> 20)),
            quantization_config: config.quantizationConfig.map(QuantizationOutput.config),
            // Never set: reported as Qdrant reports a collection without strict mode.
            strict_mode_config: config.strictMode.map(StrictModeConfigInput.init)
                ?? StrictModeConfigInput(StrictModeConfig.disabled),
            metadata: config.metadata, ttl_config: config.ttl.map(TTLConfigInput.init),
            versions_config: config.versions.map(VersionsConfigInput.init))
    }
}

// MARK: - Hot responses written without the Encoder protocol
//
// The same bytes as each type's `encode(to:)` (ResponseEncodingTests compares
// the two paths): search hits, records and their envelopes are most of what
// the server writes, and the generic path cost more than the search itself
// for small answers.

extension Envelope: JSONBodyWritable {
    func writeJSON(to stream: JSONBodyStream) throws {
        stream.raw(#"{"result":"#)
        try stream.value(result)
        stream.raw(#","status":"#)
        stream.string(status)
        stream.raw(#","time":"#)
        try stream.double(time)
        stream.raw("}")
    }
}

extension VectorOutput: JSONBodyWritable {
    func writeJSON(to stream: JSONBodyStream) throws {
        switch self {
        case .single(let vector): try stream.floats(vector)
        default: try stream.value(GenericVectorOutput(vector: self))
        }
    }

    /// The other shapes, through `encode(to:)`.
    fileprivate struct GenericVectorOutput: Encodable {
        var vector: VectorOutput
        func encode(to encoder: any Encoder) throws { try vector.encode(to: encoder) }
    }
}

extension ScoredPointOutput: JSONBodyWritable {
    func writeJSON(to stream: JSONBodyStream) throws {
        stream.raw(#"{"id":"#)
        stream.pointID(id)
        stream.raw(#","version":"#)
        stream.integer(version)
        stream.raw(#","score":"#)
        try stream.float(score)
        try Self.writeContents(payload: payload, vector: vector, orderValue: order_value, to: stream)
        if let collection {
            stream.raw(#","collection":"#)
            stream.string(collection)
        }
        stream.raw("}")
    }

    /// The members a hit and a record share, after the id (and a hit's
    /// version and score): `,"payload":…,"vector":…`, and `,"order_value":…`
    /// when set, written as `encode(orderValue:to:key:)` writes it.
    static func writeContents(
        payload: Payload?, vector: VectorOutput?, orderValue: Double?, to stream: JSONBodyStream
    ) throws {
        stream.raw(#","payload":"#)
        try stream.payload(payload)
        stream.raw(#","vector":"#)
        if let vector { try vector.writeJSON(to: stream) } else { stream.raw("null") }
        guard let orderValue else { return }
        stream.raw(#","order_value":"#)
        if orderValue == orderValue.rounded(), abs(orderValue) < 9.0e15 {
            stream.integer(Int64(orderValue))
        } else {
            try stream.double(orderValue)
        }
    }
}

extension RecordOutput: JSONBodyWritable {
    func writeJSON(to stream: JSONBodyStream) throws {
        stream.raw(#"{"id":"#)
        stream.pointID(id)
        try ScoredPointOutput.writeContents(payload: payload, vector: vector, orderValue: orderValue, to: stream)
        stream.raw("}")
    }
}

extension QueryResponseOutput: JSONBodyWritable {
    func writeJSON(to stream: JSONBodyStream) throws {
        stream.raw(#"{"points":"#)
        try points.writeJSON(to: stream)
        stream.raw("}")
    }
}

extension ScrollResultOutput: JSONBodyWritable {
    func writeJSON(to stream: JSONBodyStream) throws {
        stream.raw(#"{"points":"#)
        try points.writeJSON(to: stream)
        stream.raw(#","next_page_offset":"#)
        if let next_page_offset { stream.pointID(next_page_offset) } else { stream.raw("null") }
        stream.raw("}")
    }
}
