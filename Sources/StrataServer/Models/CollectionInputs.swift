// Wire types of the collection and alias endpoints, and their mapping to the
// engine's `CollectionConfig`. Field names are Qdrant's; see CommonInputs.swift.
import Foundation
import Strata
import StrataVectorMath

/// Qdrant's `HnswConfigDiff`: every field optional.
struct HnswConfigInput: Decodable, Sendable, Equatable {
    var m: Int?
    var ef_construct: Int?
    var full_scan_threshold: Int?
    var max_indexing_threads: Int?
    var on_disk: Bool?
    var payload_m: Int?
    var inline_storage: Bool?

    func applied(to base: HnswConfig) throws(APIError) -> HnswConfig {
        // inline_storage (Qdrant 1.16: copies of the vectors inside the graph file, to
        // save random reads when everything is on disk) is accepted: Strata's graph
        // walk reads quantized codes from RAM and full vectors straight from the
        // segment's mapping, a layout this option does not change.
        var config = base
        if let m { config.m = m }
        if let ef_construct { config.efConstruct = ef_construct }
        if let full_scan_threshold { config.fullScanThresholdKB = full_scan_threshold }
        if let max_indexing_threads { config.maxIndexingThreads = max_indexing_threads }
        if let on_disk { config.onDisk = on_disk }
        // payload_m only matters for payload-aware links (filters, issue 5): accepted, reported back as null.
        return config
    }
}

/// Qdrant's `OptimizersConfigDiff`.
struct OptimizersConfigInput: Decodable, Sendable, Equatable {
    var deleted_threshold: Double?
    var vacuum_min_vector_number: Int?
    var default_segment_number: Int?
    var max_segment_size: Int?
    var memmap_threshold: Int?
    var indexing_threshold: Int?
    var flush_interval_sec: Int?
    var max_optimization_threads: MaxOptimizationThreadsInput?

    func applied(to base: OptimizersConfig) throws(APIError) -> OptimizersConfig {
        var config = base
        if let deleted_threshold { config.deletedThreshold = deleted_threshold }
        if let vacuum_min_vector_number { config.vacuumMinVectorNumber = vacuum_min_vector_number }
        if let default_segment_number { config.defaultSegmentNumber = default_segment_number }
        if let max_segment_size { config.maxSegmentSizeKB = max_segment_size }
        // memmap_threshold: Strata always maps immutable segments' vectors; accepted.
        if let indexing_threshold {
            guard indexing_threshold > 0 else {
                throw APIError.wrongInput(
                    "indexing_threshold 0 (never index) is not supported by Strata; the threshold also decides when the in-memory segment is written to disk"
                )
            }
            config.indexingThresholdKB = indexing_threshold
        }
        if let flush_interval_sec { config.flushIntervalSec = flush_interval_sec }
        switch max_optimization_threads {
        case .count(let threads)?: config.maxOptimizationThreads = threads
        case .auto?: config.maxOptimizationThreads = nil
        case nil: break
        }
        return config
    }
}

/// Qdrant's `MaxOptimizationThreads`: a number of threads, or `"auto"` (the
/// optimizer decides; Strata's default).
enum MaxOptimizationThreadsInput: Decodable, Sendable, Equatable {
    case count(Int)
    case auto

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let threads = try? container.decode(Int.self) {
            self = .count(threads)
        } else if let setting = try? container.decode(String.self), setting == "auto" {
            self = .auto
        } else {
            throw invalidValue(decoder, "max_optimization_threads must be an integer or \"auto\"")
        }
    }
}

/// Qdrant's `WalConfigDiff`: accepted; Strata's WAL file size is set per
/// database (`--wal-file-size` is not exposed yet), so values are reported, not applied.
struct WALConfigInput: Decodable, Sendable, Equatable {
    var wal_capacity_mb: Int?
    var wal_segments_ahead: Int?
    var wal_retain_closed: Int?
}

/// Qdrant's `QuantizationConfig`: `{"scalar": …}`, `{"binary": …}` or `{"product": …}`.
struct QuantizationInput: Decodable, Sendable, Equatable {
    struct Scalar: Decodable, Sendable, Equatable {
        var type: String
        var quantile: Double?
        var always_ram: Bool?
    }
    struct Binary: Decodable, Sendable, Equatable {
        var always_ram: Bool?
        var encoding: String?
        var query_encoding: String?
    }
    struct Product: Decodable, Sendable, Equatable {
        var compression: String
        var always_ram: Bool?
    }

    var scalar: Scalar?
    var binary: Binary?
    var product: Product?

    func engineConfig() throws(APIError) -> QuantizationConfig {
        switch (scalar, binary, product) {
        case (let scalar?, nil, nil):
            guard scalar.type == "int8" else {
                throw APIError.wrongInput("scalar quantization type must be \"int8\", got \"\(scalar.type)\"")
            }
            return .scalar(quantile: scalar.quantile, alwaysRam: scalar.always_ram)
        case (nil, let binary?, nil):
            let encoding: BinaryQuantizationEncoding
            switch binary.encoding {
            case nil, "one_bit": encoding = .oneBit
            case "two_bits": encoding = .twoBits
            case "one_and_half_bits": encoding = .oneAndHalfBits
            case let other?:
                throw APIError.jsonDeserialize(
                    "unknown binary quantization encoding \"\(other)\"; expected one_bit, two_bits or one_and_half_bits"
                )
            }
            let queryEncoding: BinaryQueryEncoding
            switch binary.query_encoding {
            case nil, "default": queryEncoding = .default
            case "binary": queryEncoding = .binary
            case "scalar8bits": queryEncoding = .scalar8Bits
            case "scalar4bits": queryEncoding = .scalar4Bits
            case let other?:
                throw APIError.jsonDeserialize(
                    "unknown binary quantization query_encoding \"\(other)\"; expected default, binary, scalar4bits or scalar8bits"
                )
            }
            return .binary(encoding: encoding, queryEncoding: queryEncoding, alwaysRam: binary.always_ram)
        case (nil, nil, let product?):
            guard let compression = ProductQuantizationCompression(rawValue: product.compression) else {
                throw APIError.wrongInput(
                    "product quantization compression must be one of x4, x8, x16, x32, x64, got \"\(product.compression)\""
                )
            }
            return .product(compression: compression, alwaysRam: product.always_ram)
        default:
            throw APIError.jsonDeserialize("quantization_config needs exactly one of `scalar`, `binary`, `product`")
        }
    }
}

/// Qdrant's `VectorParams`.
struct VectorParamsInput: Decodable, Sendable {
    var size: Int
    var distance: String
    var hnsw_config: HnswConfigInput?
    var quantization_config: QuantizationInput?
    var on_disk: Bool?
    var datatype: String?
    var multivector_config: MultiVectorConfigInput?

    func engineParams(collectionHNSW: HnswConfig) throws(APIError) -> VectorParams {
        guard let distance = Distance(rawValue: distance) else {
            throw APIError.jsonDeserialize(
                "unknown distance \"\(distance)\"; expected one of Cosine, Euclid, Dot, Manhattan")
        }
        var stored: VectorDatatype?
        if let datatype {
            guard let known = VectorDatatype(apiName: datatype) else {
                throw APIError.jsonDeserialize(
                    "unknown vector datatype \"\(datatype)\"; expected one of float32, float16, uint8")
            }
            stored = known
        }
        return VectorParams(
            size: size, distance: distance,
            hnswConfig: try hnsw_config?.applied(to: collectionHNSW),
            quantizationConfig: try quantization_config?.engineConfig(),
            onDisk: on_disk, multivectorConfig: try multivector_config?.engine(), datatype: stored)
    }
}

/// Qdrant's `MultiVectorConfig`: `{"comparator": "max_sim"}`.
struct MultiVectorConfigInput: Decodable, Sendable {
    var comparator: String

    func engine() throws(APIError) -> MultiVectorConfig {
        guard let comparator = MultiVectorComparator(rawValue: comparator) else {
            throw APIError.jsonDeserialize("unknown multivector comparator \"\(comparator)\"; expected max_sim")
        }
        return MultiVectorConfig(comparator: comparator)
    }
}

/// `vectors` of a create request: one `VectorParams`, or a map of them by name.
enum VectorsConfigInput: Decodable, Sendable {
    case single(VectorParamsInput)
    case named([String: VectorParamsInput])

    private enum Probe: String, CodingKey { case size, distance }

    init(from decoder: any Decoder) throws {
        // Qdrant's untagged enum: an object with `size` is one unnamed vector.
        let probe = try decoder.container(keyedBy: Probe.self)
        if probe.contains(.size) {
            self = .single(try VectorParamsInput(from: decoder))
        } else {
            self = .named(try [String: VectorParamsInput](from: decoder))
        }
    }
}

/// `PUT /collections/{name}` (Qdrant's `CreateCollection`).
/// `ttl_config` (Strata's extension): expiring points (`TTLConfig`).
struct TTLConfigInput: Codable, Sendable, Equatable {
    var key: String?
    var default_seconds: Int?

    init(_ config: TTLConfig) {
        key = config.key
        default_seconds = config.defaultSeconds
    }

    func engine() throws(APIError) -> TTLConfig {
        let config = TTLConfig(key: key ?? TTLConfig.defaultKey, defaultSeconds: default_seconds)
        do { try config.validate() } catch { throw APIError.from(error) }
        return config
    }

    /// PATCH's `ttl_config`: an object replaces the config, `"Disabled"` (or
    /// `{"disabled": true}`) removes it, null leaves it.
    static func patch(_ value: JSONValue, current: TTLConfig?) throws(APIError) -> TTLConfig? {
        switch value {
        case .null: return current
        case .string(let word) where word.lowercased() == "disabled": return nil
        case .object(let fields) where fields["disabled"] != nil:
            guard fields.count == 1, case .bool(true) = fields["disabled"] else {
                throw APIError.wrongInput("ttl_config: {\"disabled\": true} takes no other field")
            }
            return nil
        default:
            let input: TTLConfigInput
            do {
                input = try JSONDecoder().decode(TTLConfigInput.self, from: try JSONEncoder().encode(value))
            } catch {
                throw APIError.jsonDeserialize("ttl_config: \(error)")
            }
            return try input.engine()
        }
    }
}

/// `POST /collections/{name}/rename` (Strata's extension).
struct RenameCollectionInput: Decodable, Sendable {
    var new_name: String
}

struct CreateCollectionInput: Decodable, Sendable {
    var vectors: VectorsConfigInput?
    var shard_number: Int?
    var sharding_method: String?
    var replication_factor: Int?
    var write_consistency_factor: Int?
    var on_disk_payload: Bool?
    var hnsw_config: HnswConfigInput?
    var wal_config: WALConfigInput?
    var optimizers_config: OptimizersConfigInput?
    var init_from: JSONValue?
    var quantization_config: QuantizationInput?
    var sparse_vectors: JSONValue?
    var strict_mode_config: StrictModeConfigInput?
    var metadata: JSONValue?
    /// Strata's extension: expiring points.
    var ttl_config: TTLConfigInput?
    /// Strata's extension: retained versions.
    var versions_config: VersionsConfigInput?

    /// The engine config, or 400/501 naming what cannot be honoured.
    /// `inCluster`: a cluster node checks `replication_factor` and
    /// `write_consistency_factor` against its peers itself (ClusterCollections.swift).
    func engineConfig(inCluster: Bool = false) throws(APIError) -> CollectionConfig {
        // A cluster node places the shards itself (ClusterCollections.swift).
        if !inCluster, let shard_number, shard_number != 1 {
            throw APIError.wrongInput(
                "Strata keeps one shard per collection (replicated across nodes in a cluster); shard_number must be 1, got \(shard_number)"
            )
        }
        if !inCluster, let sharding_method, sharding_method != "auto" {
            throw APIError.notSupportedYet("sharding_method \"\(sharding_method)\"")
        }
        if !inCluster, let replication_factor, replication_factor != 1 {
            throw APIError.badRequest(
                "Strata runs as a single node; replication_factor must be 1, got \(replication_factor)")
        }
        if !inCluster, let write_consistency_factor, write_consistency_factor != 1 {
            throw APIError.badRequest("Strata runs as a single node; write_consistency_factor must be 1")
        }
        try requireAbsent(init_from, "init_from")
        if inCluster && versions_config != nil {
            throw APIError.notSupportedYet("versions_config on a cluster node (op numbers are per shard there)")
        }
        if inCluster && ttl_config != nil {
            throw APIError.notSupportedYet("ttl_config on a cluster node (expiry deletes through each shard's log)")
        }
        let sparse = try Self.sparseParams(sparse_vectors)
        let hnsw = try hnsw_config?.applied(to: HnswConfig()) ?? HnswConfig()
        var vectors: [String: VectorParams] = [:]
        switch self.vectors {
        case nil:
            // As Qdrant (`vectors` defaults to no named vectors): a collection
            // may hold points with payloads only, or sparse vectors only.
            break
        case .single(let params)?:
            vectors[CollectionConfig.defaultVectorName] = try params.engineParams(collectionHNSW: hnsw)
        case .named(let byName)?:
            for (name, params) in byName {
                guard !name.isEmpty else { throw APIError.wrongInput("vector names must not be empty") }
                vectors[name] = try params.engineParams(collectionHNSW: hnsw)
            }
        }
        return CollectionConfig(
            vectors: vectors,
            optimizers: try optimizers_config?.applied(to: OptimizersConfig()) ?? OptimizersConfig(),
            hnswConfig: hnsw,
            quantizationConfig: try quantization_config?.engineConfig(),
            sparseVectors: sparse, metadata: try Self.metadataObject(metadata),
            strictMode: try strict_mode_config?.engine(), ttl: try ttl_config?.engine(),
            versions: try versions_config?.engine())
    }

    /// `metadata`: Qdrant's `Payload`, a JSON object (null = not set).
    static func metadataObject(_ value: JSONValue?) throws(APIError) -> [String: JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .object(let fields)?: return fields
        case let other?: throw APIError.jsonDeserialize("metadata must be a JSON object, got \(other)")
        }
    }

    /// A sparse vector's params as given: for a PATCH, what the request sets
    /// (nil: unchanged).
    struct SparseParamsGiven {
        var modifier: SparseModifier?
        var index: SparseIndexParams?
    }

    /// `sparse_vectors`: `{name: {"index": {"on_disk", "full_scan_threshold", "datatype"}, "modifier": "none"|"idf"}}`.
    static func sparseParams(_ value: JSONValue?) throws(APIError) -> [String: SparseVectorParams] {
        try sparseParamsGiven(value).mapValues {
            SparseVectorParams(modifier: $0.modifier ?? .none, index: $0.index)
        }
    }

    /// `sparse_vectors` as given, each field nil when not set (a PATCH changes only those).
    static func sparseParamsGiven(_ value: JSONValue?) throws(APIError) -> [String: SparseParamsGiven] {
        guard case .object(let fields)? = value else {
            if value == nil || value == .null { return [:] }
            throw APIError.wrongInput("sparse_vectors must be an object of sparse vector params by name")
        }
        var result: [String: SparseParamsGiven] = [:]
        for (name, params) in fields {
            guard !name.isEmpty else { throw APIError.wrongInput("sparse vector names must not be empty") }
            var engine = SparseParamsGiven()
            guard case .object(let members) = params else {
                if params == .null { result[name] = engine; continue }
                throw APIError.wrongInput("sparse_vectors.\(name) must be an object")
            }
            for (key, member) in members where member != .null {
                switch (key, member) {
                case ("modifier", .string("idf")): engine.modifier = .idf
                case ("modifier", .string("none")): engine.modifier = .none
                case ("index", .object(let index)):
                    var parsed = SparseIndexParams()
                    for (indexKey, indexValue) in index where indexValue != .null {
                        switch (indexKey, indexValue) {
                        case ("on_disk", .bool(let flag)): parsed.onDisk = flag
                        case ("full_scan_threshold", .int(let n)) where n >= 0: parsed.fullScanThreshold = Int(n)
                        case ("datatype", .string("float32")): continue
                        default:
                            throw APIError.wrongInput(
                                "sparse_vectors.\(name).index.\(indexKey) = \(indexValue) is not supported (on_disk, full_scan_threshold, datatype float32)"
                            )
                        }
                    }
                    engine.index = parsed
                default:
                    throw APIError.wrongInput(
                        "sparse_vectors.\(name).\(key) = \(member) is not supported (modifier none|idf, index)")
                }
            }
            result[name] = engine
        }
        return result
    }
}

/// `PATCH /collections/{name}` (Qdrant's `UpdateCollection`): optimizer,
/// HNSW, quantization, strict mode and metadata settings, per-vector HNSW,
/// quantization and `on_disk`, sparse vectors' index params and modifier, and
/// `params` as far as one node has them. Vector names, sizes, distances and
/// datatypes never change.
struct UpdateCollectionInput: Decodable, Sendable {
    /// Qdrant's `CollectionParamsDiff`.
    struct ParamsDiff: Decodable, Sendable {
        var replication_factor: Int?
        var write_consistency_factor: Int?
        var read_fan_out_factor: Int?
        var read_fan_out_delay_ms: Int?
        var on_disk_payload: Bool?
    }

    /// Per named vector: `hnsw_config`, `quantization_config`, `on_disk`.
    struct VectorDiff: Decodable, Sendable {
        var hnsw_config: HnswConfigInput?
        var quantization_config: JSONValue?
        var on_disk: Bool?
    }

    var vectors: [String: VectorDiff]?
    var optimizers_config: OptimizersConfigInput?
    var params: ParamsDiff?
    var hnsw_config: HnswConfigInput?
    var quantization_config: JSONValue?
    var sparse_vectors: JSONValue?
    var strict_mode_config: StrictModeConfigInput?
    var metadata: JSONValue?
    /// Strata's extension: an object replaces the TTL config, `"Disabled"` removes it.
    var ttl_config: JSONValue?
    /// Strata's extension: as `ttl_config`, for the retained versions.
    var versions_config: JSONValue?

    /// `config` with the changes applied; 400 for bad values.
    func applied(to config: CollectionConfig) throws(APIError) -> CollectionConfig {
        if let params {
            // One node: one replica, so the factors can only be 1; the read
            // fan-out has no replicas to go to, and payloads always live in
            // segment files, so those are accepted as they are.
            if let factor = params.replication_factor, factor != 1 {
                throw APIError.badRequest("Strata runs as a single node; replication_factor must be 1, got \(factor)")
            }
            if let factor = params.write_consistency_factor, factor != 1 {
                throw APIError.badRequest("Strata runs as a single node; write_consistency_factor must be 1")
            }
            if let factor = params.read_fan_out_factor, factor < 0 {
                throw APIError.wrongInput("read_fan_out_factor must not be negative, got \(factor)")
            }
        }
        var updated = config
        for (name, diff) in try CreateCollectionInput.sparseParamsGiven(sparse_vectors) {
            guard var params = updated.sparseVectors[name] else {
                throw APIError.wrongInput("Not existing vector name error: \(name)")
            }
            // Qdrant's SparseVectorsConfigDiff: given fields replace, missing ones stay.
            if let modifier = diff.modifier { params.modifier = modifier }
            if let index = diff.index {
                var merged = params.index ?? SparseIndexParams()
                if let onDisk = index.onDisk { merged.onDisk = onDisk }
                if let threshold = index.fullScanThreshold { merged.fullScanThreshold = threshold }
                params.index = merged
            }
            updated.sparseVectors[name] = params
        }
        // Qdrant's strict mode diff: each limit given replaces the current one; null leaves it.
        if let strict_mode_config {
            updated.strictMode = (config.strictMode ?? StrictModeConfig()).updated(
                with: try strict_mode_config.engine())
        }
        // Qdrant merges metadata by top-level key: a key set to null is removed,
        // any other value replaces the key's value; with no metadata yet, the
        // object is taken as given.
        if let changes = try CreateCollectionInput.metadataObject(metadata) {
            if var merged = config.metadata {
                for (key, value) in changes {
                    if value == .null { merged.removeValue(forKey: key) } else { merged[key] = value }
                }
                updated.metadata = merged
            } else {
                updated.metadata = changes
            }
        }
        if let ttl_config { updated.ttl = try TTLConfigInput.patch(ttl_config, current: config.ttl) }
        if let versions_config {
            updated.versions = try VersionsConfigInput.patch(versions_config, current: config.versions)
        }
        if let optimizers_config { updated.optimizers = try optimizers_config.applied(to: config.optimizers) }
        if let hnsw_config { updated.hnswConfig = try hnsw_config.applied(to: config.hnswConfig) }
        if let quantization_config {
            updated.quantizationConfig = try Self.quantization(quantization_config, current: config.quantizationConfig)
        }
        for (name, diff) in vectors ?? [:] {
            guard var params = updated.vectors[name] else {
                throw APIError.wrongInput("Not existing vector name error: \(name.isEmpty ? "(unnamed)" : name)")
            }
            if let hnsw = diff.hnsw_config {
                params.hnswConfig = try hnsw.applied(to: params.hnswConfig ?? updated.hnswConfig)
            }
            if let quantization = diff.quantization_config {
                params.quantizationConfig = try Self.quantization(quantization, current: params.quantizationConfig)
            }
            if let onDisk = diff.on_disk { params.onDisk = onDisk }
            updated.vectors[name] = params
        }
        return updated
    }

    /// Qdrant's `QuantizationConfigDiff`: a quantization config, or `"Disabled"`
    /// (also accepted as `{"disabled": true}`).
    static func quantization(_ value: JSONValue, current: QuantizationConfig?) throws(APIError) -> QuantizationConfig? {
        switch value {
        case .null: return current
        case .string(let word) where word.lowercased() == "disabled": return nil
        case .object(let fields) where fields["disabled"] != nil:
            guard fields.count == 1, case .bool(true) = fields["disabled"] else {
                throw APIError.wrongInput("quantization_config: {\"disabled\": true} takes no other field")
            }
            return nil
        default:
            let input: QuantizationInput
            do {
                input = try JSONDecoder().decode(QuantizationInput.self, from: try JSONEncoder().encode(value))
            } catch {
                throw APIError.jsonDeserialize("quantization_config: \(error)")
            }
            return try input.engineConfig()
        }
    }
}

/// `POST /collections/aliases` (Qdrant's `ChangeAliasesOperation`).
struct ChangeAliasesInput: Decodable, Sendable {
    struct Create: Decodable, Sendable {
        var collection_name: String
        var alias_name: String
    }
    struct Delete: Decodable, Sendable {
        var alias_name: String
    }
    struct Rename: Decodable, Sendable {
        var old_alias_name: String
        var new_alias_name: String
    }
    struct Action: Decodable, Sendable {
        var create_alias: Create?
        var delete_alias: Delete?
        var rename_alias: Rename?

        func engineOperation() throws(APIError) -> AliasOperation {
            switch (create_alias, delete_alias, rename_alias) {
            case (let create?, nil, nil): return .create(alias: create.alias_name, collection: create.collection_name)
            case (nil, let delete?, nil): return .delete(alias: delete.alias_name)
            case (nil, nil, let rename?): return .rename(from: rename.old_alias_name, to: rename.new_alias_name)
            default:
                throw APIError.jsonDeserialize(
                    "an alias action needs exactly one of `create_alias`, `delete_alias`, `rename_alias`")
            }
        }
    }

    var actions: [Action]
}

/// `PUT /collections/{name}/vectors/{vector_name}` (Qdrant's `VectorNameConfig`):
/// `{"dense": {size, distance, multivector_config?, datatype?}}` or
/// `{"sparse": {modifier?, datatype?}}`.
struct VectorNameConfigInput: Decodable, Sendable {
    /// Qdrant's `SparseVectorConfig`.
    struct Sparse: Decodable, Sendable {
        var modifier: String?
        var datatype: String?
    }

    /// Decoded as `create_collection`'s vector params, so what they accept
    /// (and refuse) holds here too.
    var dense: VectorParamsInput?
    var sparse: Sparse?

    enum Kind {
        case dense(VectorParams)
        case sparse(SparseVectorParams)
    }

    func engineConfig(collectionHNSW: HnswConfig) throws(APIError) -> Kind {
        switch (dense, sparse) {
        case (let dense?, nil):
            return .dense(try dense.engineParams(collectionHNSW: collectionHNSW))
        case (nil, let sparse?):
            try Self.requireFloat32(sparse.datatype, "sparse.datatype")
            switch sparse.modifier {
            case nil, "none": return .sparse(SparseVectorParams(modifier: .none))
            case "idf": return .sparse(SparseVectorParams(modifier: .idf))
            case let other?: throw APIError.wrongInput("sparse.modifier must be \"none\" or \"idf\", got \"\(other)\"")
            }
        default:
            throw APIError.jsonDeserialize("the body needs exactly one of `dense` and `sparse`")
        }
    }

    /// Strata stores sparse vectors' values as float32; other element types are a 400.
    private static func requireFloat32(_ datatype: String?, _ field: String) throws(APIError) {
        guard let datatype, datatype.lowercased() != "float32" else { return }
        throw APIError.wrongInput(
            "\(field) \"\(datatype)\" is not supported: Strata stores sparse vector values as float32 (omit datatype or use \"float32\")"
        )
    }
}
