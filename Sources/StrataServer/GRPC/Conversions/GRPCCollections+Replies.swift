import Foundation
import Strata
import StrataGRPCProtocol
import SwiftProtobuf

/// Replies of `qdrant.Collections` and `qdrant.Snapshots`, built from what
/// REST answers for the same call.
extension GRPCCollections {
    /// `CollectionInfo` with the values of `GET /collections/{name}`.
    static func collectionInfo(_ info: CollectionInfoOutput) -> Qdrant_CollectionInfo {
        var reply = Qdrant_CollectionInfo()
        switch info.status {
        case "green": reply.status = .green
        case "yellow": reply.status = .yellow
        case "red": reply.status = .red
        default: reply.status = .grey
        }
        var optimizer = Qdrant_OptimizerStatus()
        optimizer.ok = info.optimizer_status == "ok"
        if !optimizer.ok { optimizer.error = info.optimizer_status }
        reply.optimizerStatus = optimizer
        reply.segmentsCount = UInt64(info.segments_count)
        reply.pointsCount = UInt64(info.points_count)
        reply.indexedVectorsCount = UInt64(info.indexed_vectors_count)
        reply.config = collectionConfig(info.config)
        for (key, schema) in info.payload_schema {
            reply.payloadSchema[key] = payloadSchemaInfo(schema)
        }
        return reply
    }

    private static func collectionConfig(_ config: CollectionInfoOutput.Config) -> Qdrant_CollectionConfig {
        var proto = Qdrant_CollectionConfig()
        var params = Qdrant_CollectionParams()
        var vectors = Qdrant_VectorsConfig()
        switch config.params.vectors {
        case .single(let single): vectors.params = vectorParams(single)
        case .named(let named):
            var map = Qdrant_VectorParamsMap()
            map.map = named.mapValues(vectorParams)
            vectors.paramsMap = map
        }
        params.vectorsConfig = vectors
        params.shardNumber = UInt32(config.params.shard_number)
        params.replicationFactor = UInt32(config.params.replication_factor)
        params.writeConsistencyFactor = UInt32(config.params.write_consistency_factor)
        params.onDiskPayload = config.params.on_disk_payload
        if let sparse = config.params.sparse_vectors {
            var sparseConfig = Qdrant_SparseVectorConfig()
            sparseConfig.map = sparse.mapValues(sparseVectorParams)
            params.sparseVectorsConfig = sparseConfig
        }
        proto.params = params
        proto.hnswConfig = hnswConfig(config.hnsw_config)
        proto.optimizerConfig = optimizersConfig(config.optimizer_config)
        var wal = Qdrant_WalConfigDiff()
        wal.walCapacityMb = UInt64(config.wal_config.wal_capacity_mb)
        wal.walSegmentsAhead = UInt64(config.wal_config.wal_segments_ahead)
        // REST leaves it out and clients read Qdrant's default, 1; reported as that.
        wal.walRetainClosed = 1
        proto.walConfig = wal
        if case .config(let quantization)? = config.quantization_config {
            proto.quantizationConfig = quantizationConfig(quantization)
        }
        proto.strictModeConfig = strictModeConfig(config.strict_mode_config)
        if let metadata = config.metadata { proto.metadata = metadata.grpcValues }
        return proto
    }

    private static func vectorParams(_ params: VectorParamsOutput) -> Qdrant_VectorParams {
        var proto = Qdrant_VectorParams()
        proto.size = UInt64(params.size)
        switch params.distance {
        case "Cosine": proto.distance = .cosine
        case "Euclid": proto.distance = .euclid
        case "Dot": proto.distance = .dot
        case "Manhattan": proto.distance = .manhattan
        default: proto.distance = .unknownDistance
        }
        if let hnsw = params.hnsw_config { proto.hnswConfig = hnswConfig(hnsw) }
        if case .config(let quantization)? = params.quantization_config {
            proto.quantizationConfig = quantizationConfig(quantization)
        }
        if let onDisk = params.on_disk { proto.onDisk = onDisk }
        if params.multivector_config != nil {
            var multivector = Qdrant_MultiVectorConfig()
            multivector.comparator = .maxSim
            proto.multivectorConfig = multivector
        }
        switch params.datatype {
        case "float32"?: proto.datatype = .float32
        case "float16"?: proto.datatype = .float16
        case "uint8"?: proto.datatype = .uint8
        default: break
        }
        return proto
    }

    private static func sparseVectorParams(
        _ params: CollectionInfoOutput.SparseParamsOutput
    ) -> Qdrant_SparseVectorParams {
        var proto = Qdrant_SparseVectorParams()
        if let index = params.index {
            var config = Qdrant_SparseIndexConfig()
            if let onDisk = index.on_disk { config.onDisk = onDisk }
            if let threshold = index.full_scan_threshold { config.fullScanThreshold = UInt64(threshold) }
            proto.index = config
        }
        if params.modifier == "idf" { proto.modifier = .idf }
        return proto
    }

    private static func hnswConfig(_ config: HnswConfigOutput) -> Qdrant_HnswConfigDiff {
        var proto = Qdrant_HnswConfigDiff()
        proto.m = UInt64(config.m)
        proto.efConstruct = UInt64(config.ef_construct)
        proto.fullScanThreshold = UInt64(config.full_scan_threshold)
        proto.maxIndexingThreads = UInt64(config.max_indexing_threads)
        if let onDisk = config.on_disk { proto.onDisk = onDisk }
        return proto
    }

    private static func optimizersConfig(
        _ config: CollectionInfoOutput.OptimizerConfigOutput
    ) -> Qdrant_OptimizersConfigDiff {
        var proto = Qdrant_OptimizersConfigDiff()
        proto.deletedThreshold = config.deleted_threshold
        proto.vacuumMinVectorNumber = UInt64(config.vacuum_min_vector_number)
        proto.defaultSegmentNumber = UInt64(config.default_segment_number)
        if let size = config.max_segment_size { proto.maxSegmentSize = UInt64(size) }
        if let threshold = config.memmap_threshold { proto.memmapThreshold = UInt64(threshold) }
        proto.indexingThreshold = UInt64(config.indexing_threshold)
        proto.flushIntervalSec = UInt64(config.flush_interval_sec)
        // As Qdrant reports it: the old field holds a set number, the new one a number or `Auto`.
        var threads = Qdrant_MaxOptimizationThreads()
        if let limit = config.max_optimization_threads {
            proto.deprecatedMaxOptimizationThreads = UInt64(limit)
            threads.value = UInt64(limit)
        } else {
            threads.setting = .auto
        }
        proto.maxOptimizationThreads = threads
        return proto
    }

    private static func quantizationConfig(_ config: QuantizationConfig) -> Qdrant_QuantizationConfig {
        var proto = Qdrant_QuantizationConfig()
        switch config {
        case .scalar(let quantile, let alwaysRam):
            var scalar = Qdrant_ScalarQuantization()
            scalar.type = .int8
            if let quantile { scalar.quantile = Float(quantile) }
            if let alwaysRam { scalar.alwaysRam = alwaysRam }
            proto.scalar = scalar
        case .binary(let encoding, let queryEncoding, let alwaysRam):
            var binary = Qdrant_BinaryQuantization()
            switch encoding {
            case .oneBit: binary.encoding = .oneBit
            case .twoBits: binary.encoding = .twoBits
            case .oneAndHalfBits: binary.encoding = .oneAndHalfBits
            }
            // Reported only when not the default, as REST does.
            if queryEncoding != .default {
                var query = Qdrant_BinaryQuantizationQueryEncoding()
                switch queryEncoding {
                case .default: query.setting = .default
                case .binary: query.setting = .binary
                case .scalar4Bits: query.setting = .scalar4Bits
                case .scalar8Bits: query.setting = .scalar8Bits
                }
                binary.queryEncoding = query
            }
            if let alwaysRam { binary.alwaysRam = alwaysRam }
            proto.binary = binary
        case .product(let compression, let alwaysRam):
            var product = Qdrant_ProductQuantization()
            switch compression {
            case .x4: product.compression = .x4
            case .x8: product.compression = .x8
            case .x16: product.compression = .x16
            case .x32: product.compression = .x32
            case .x64: product.compression = .x64
            }
            if let alwaysRam { product.alwaysRam = alwaysRam }
            proto.product = product
        }
        return proto
    }

    private static func strictModeConfig(_ config: StrictModeConfigInput) -> Qdrant_StrictModeConfig {
        var proto = Qdrant_StrictModeConfig()
        if let value = config.enabled { proto.enabled = value }
        if let value = config.max_query_limit { proto.maxQueryLimit = UInt32(clamping: value) }
        if let value = config.max_timeout { proto.maxTimeout = UInt32(clamping: value) }
        if let value = config.unindexed_filtering_retrieve { proto.unindexedFilteringRetrieve = value }
        if let value = config.unindexed_filtering_update { proto.unindexedFilteringUpdate = value }
        if let value = config.search_max_hnsw_ef { proto.searchMaxHnswEf = UInt32(clamping: value) }
        if let value = config.search_allow_exact { proto.searchAllowExact = value }
        if let value = config.search_max_oversampling { proto.searchMaxOversampling = Float(value) }
        if let value = config.upsert_max_batchsize { proto.upsertMaxBatchsize = UInt64(clamping: value) }
        if let value = config.search_max_batchsize { proto.searchMaxBatchsize = UInt64(clamping: value) }
        if let value = config.max_collection_vector_size_bytes {
            proto.maxCollectionVectorSizeBytes = UInt64(clamping: value)
        }
        if let value = config.read_rate_limit { proto.readRateLimit = UInt32(clamping: value) }
        if let value = config.write_rate_limit { proto.writeRateLimit = UInt32(clamping: value) }
        if let value = config.max_collection_payload_size_bytes {
            proto.maxCollectionPayloadSizeBytes = UInt64(clamping: value)
        }
        if let value = config.filter_max_conditions { proto.filterMaxConditions = UInt64(clamping: value) }
        if let value = config.condition_max_size { proto.conditionMaxSize = UInt64(clamping: value) }
        if let limits = config.multivector_config {
            var multivector = Qdrant_StrictModeMultivectorConfig()
            multivector.multivectorConfig = limits.mapValues { limit in
                var proto = Qdrant_StrictModeMultivector()
                if let value = limit.max_vectors { proto.maxVectors = UInt64(clamping: value) }
                return proto
            }
            proto.multivectorConfig = multivector
        }
        if let limits = config.sparse_config {
            var sparse = Qdrant_StrictModeSparseConfig()
            sparse.sparseConfig = limits.mapValues { limit in
                var proto = Qdrant_StrictModeSparse()
                if let value = limit.max_length { proto.maxLength = UInt64(clamping: value) }
                return proto
            }
            proto.sparseConfig = sparse
        }
        if let value = config.max_points_count { proto.maxPointsCount = UInt64(clamping: value) }
        if let value = config.max_payload_index_count { proto.maxPayloadIndexCount = UInt64(clamping: value) }
        if let value = config.max_resident_memory_percent {
            proto.maxResidentMemoryPercent = UInt32(clamping: value)
        }
        return proto
    }

    // MARK: - Payload schema

    /// One entry of REST's `payload_schema`: `{"data_type", "points", "params"?}`.
    private static func payloadSchemaInfo(_ schema: JSONValue) -> Qdrant_PayloadSchemaInfo {
        var proto = Qdrant_PayloadSchemaInfo()
        guard case .object(let fields) = schema else { return proto }
        if case .string(let type)? = fields["data_type"] { proto.dataType = payloadSchemaType(type) }
        if case .int(let points)? = fields["points"] { proto.points = UInt64(clamping: points) }
        if case .object(let params)? = fields["params"] { proto.params = payloadIndexParams(params) }
        return proto
    }

    private static func payloadSchemaType(_ name: String) -> Qdrant_PayloadSchemaType {
        switch name {
        case "keyword": .keyword
        case "integer": .integer
        case "float": .float
        case "geo": .geo
        case "text": .text
        case "bool": .bool
        case "datetime": .datetime
        case "uuid": .uuid
        default: .unknownType
        }
    }

    /// A field index's params (`PayloadFieldSchema.json`) as `PayloadIndexParams`.
    private static func payloadIndexParams(_ params: [String: JSONValue]) -> Qdrant_PayloadIndexParams {
        func flag(_ key: String) -> Bool? {
            if case .bool(let value)? = params[key] { return value }
            return nil
        }
        func count(_ key: String) -> UInt64? {
            if case .int(let value)? = params[key] { return UInt64(clamping: value) }
            return nil
        }
        var proto = Qdrant_PayloadIndexParams()
        guard case .string(let type)? = params["type"] else { return proto }
        let onDisk = flag("on_disk")
        switch type {
        case "keyword":
            var keyword = Qdrant_KeywordIndexParams()
            if let value = flag("is_tenant") { keyword.isTenant = value }
            if flag("prefix") == true { keyword.prefix = Qdrant_KeywordPrefixParams() }
            if let onDisk { keyword.onDisk = onDisk }
            proto.keywordIndexParams = keyword
        case "integer":
            var integer = Qdrant_IntegerIndexParams()
            if let value = flag("lookup") { integer.lookup = value }
            if let value = flag("range") { integer.range = value }
            if let value = flag("is_principal") { integer.isPrincipal = value }
            if let onDisk { integer.onDisk = onDisk }
            proto.integerIndexParams = integer
        case "float":
            var float = Qdrant_FloatIndexParams()
            if let onDisk { float.onDisk = onDisk }
            proto.floatIndexParams = float
        case "geo":
            var geo = Qdrant_GeoIndexParams()
            if let onDisk { geo.onDisk = onDisk }
            proto.geoIndexParams = geo
        case "bool":
            var bool = Qdrant_BoolIndexParams()
            if let onDisk { bool.onDisk = onDisk }
            proto.boolIndexParams = bool
        case "datetime":
            var datetime = Qdrant_DatetimeIndexParams()
            if let onDisk { datetime.onDisk = onDisk }
            proto.datetimeIndexParams = datetime
        case "uuid":
            var uuid = Qdrant_UuidIndexParams()
            if let value = flag("is_tenant") { uuid.isTenant = value }
            if let onDisk { uuid.onDisk = onDisk }
            proto.uuidIndexParams = uuid
        case "text":
            proto.textIndexParams = textIndexParams(params, flag: flag, count: count)
        default:
            break
        }
        return proto
    }

    private static func textIndexParams(
        _ params: [String: JSONValue], flag: (String) -> Bool?, count: (String) -> UInt64?
    ) -> Qdrant_TextIndexParams {
        var text = Qdrant_TextIndexParams()
        switch params["tokenizer"] {
        case "word"?: text.tokenizer = .word
        case "whitespace"?: text.tokenizer = .whitespace
        case "prefix"?: text.tokenizer = .prefix
        case "multilingual"?: text.tokenizer = .multilingual
        case "code"?: text.tokenizer = .code
        default: text.tokenizer = .unknown
        }
        if let value = flag("lowercase") { text.lowercase = value }
        if let value = flag("phrase_matching") { text.phraseMatching = value }
        if let value = flag("ascii_folding") { text.asciiFolding = value }
        if let value = flag("on_disk") { text.onDisk = value }
        if let value = count("min_token_len") { text.minTokenLen = value }
        if let value = count("max_token_len") { text.maxTokenLen = value }
        switch params["stopwords"] {
        case .string(let language)?:
            var stopwords = Qdrant_StopwordsSet()
            stopwords.languages = [language]
            text.stopwords = stopwords
        case .object(let set)?:
            var stopwords = Qdrant_StopwordsSet()
            if case .array(let languages)? = set["languages"] {
                stopwords.languages = languages.compactMap { if case .string(let name) = $0 { name } else { nil } }
            }
            if case .array(let words)? = set["custom"] {
                stopwords.custom = words.compactMap { if case .string(let word) = $0 { word } else { nil } }
            }
            text.stopwords = stopwords
        default:
            break
        }
        if case .object(let stemmer)? = params["stemmer"] {
            var algorithm = Qdrant_StemmingAlgorithm()
            if case .string(let language)? = stemmer["language"], stemmer["type"] == "snowball" {
                var snowball = Qdrant_SnowballParams()
                snowball.language = language
                algorithm.snowball = snowball
            } else {
                algorithm.disabled = Qdrant_DisabledStemmer()
            }
            text.stemmer = algorithm
        }
        return text
    }

    // MARK: - Cluster and snapshots

    /// What `GET /collections/{name}/cluster` answers: the one shard's replicas, here and on other nodes.
    static func clusterInfo(_ cluster: CollectionClusterOutput, elapsed: Double) -> Qdrant_CollectionClusterInfoResponse
    {
        var reply = Qdrant_CollectionClusterInfoResponse()
        reply.peerID = UInt64(cluster.peer_id)
        reply.shardCount = UInt64(cluster.shard_count)
        reply.localShards = cluster.local_shards.map { shard in
            var local = Qdrant_LocalShardInfo()
            local.shardID = UInt32(shard.shard_id)
            local.pointsCount = UInt64(shard.points_count)
            local.state = replicaState(shard.state)
            return local
        }
        reply.remoteShards = cluster.remote_shards.map { shard in
            var remote = Qdrant_RemoteShardInfo()
            remote.shardID = UInt32(shard.shard_id)
            remote.peerID = shard.peer_id
            remote.state = replicaState(shard.state)
            return remote
        }
        reply.time = elapsed
        return reply
    }

    static func replicaState(_ name: String) -> Qdrant_ReplicaState {
        switch name {
        case "Dead": .dead
        case "Partial": .partial
        case "Initializing": .initializing
        default: .active
        }
    }

    static func snapshotDescription(_ snapshot: SnapshotOutput) -> Qdrant_SnapshotDescription {
        var proto = Qdrant_SnapshotDescription()
        proto.name = snapshot.name
        if let text = snapshot.creation_time, let date = snapshotTime(text) {
            proto.creationTime = Google_Protobuf_Timestamp(date: date)
        }
        proto.size = Int64(clamping: snapshot.size)
        if let checksum = snapshot.checksum { proto.checksum = checksum }
        return proto
    }

    /// REST's creation time, UTC without a zone ("2026-03-01T12:34:56").
    private static func snapshotTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text.hasSuffix("Z") ? text : text + "Z")
    }
}
