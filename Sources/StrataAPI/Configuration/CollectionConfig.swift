import StrataModel
import StrataPayload
import StrataVectorMath

/// How vectors are compared; Qdrant's names and score semantics:
/// `.cosine` and `.dot` score by dot product (higher is better; cosine vectors
/// are normalised when stored), `.euclid` and `.manhattan` by distance (lower is better).
public typealias Distance = DistanceMetric

/// One named dense vector of a collection.
///
/// Qdrant's `VectorParams`: the vector's size and distance (fixed once the
/// collection exists) and, optionally, how it is indexed, quantized and
/// stored, overriding the collection's settings for this vector.
public struct VectorParams: Sendable, Equatable, Codable {
    /// Number of dimensions, 1…65536.
    public var size: Int
    /// How vectors are compared, which decides what scores mean (Qdrant's
    /// `distance`: Cosine, Dot, Euclid or Manhattan).
    public var distance: Distance
    /// Overrides the collection's `hnswConfig` for this vector.
    public var hnswConfig: HnswConfig?
    /// Overrides the collection's `quantizationConfig` for this vector.
    public var quantizationConfig: QuantizationConfig?
    /// Accepted for compatibility: full vectors always live in mmap'd segment files.
    public var onDisk: Bool?
    /// Set for a multivector (several rows of `size` floats per point, scored
    /// by late interaction, e.g. ColBERT); nil for a plain dense vector.
    public var multivectorConfig: MultiVectorConfig?
    /// How the elements are stored (Qdrant's `datatype`); nil = `float32`
    /// (never set, which Qdrant reports by leaving the field out).
    /// Values are rounded to it when written (see `VectorDatatype`).
    public var datatype: VectorDatatype?

    /// Creates the parameters of a vector of `size` dimensions compared by
    /// `distance`.
    ///
    /// The optional settings default to nil: the collection's `hnswConfig` and
    /// `quantizationConfig` apply, the vector is a plain dense vector and is
    /// stored as `float32`.
    public init(
        size: Int, distance: Distance, hnswConfig: HnswConfig? = nil, quantizationConfig: QuantizationConfig? = nil,
        onDisk: Bool? = nil, multivectorConfig: MultiVectorConfig? = nil, datatype: VectorDatatype? = nil
    ) {
        self.size = size
        self.distance = distance
        self.hnswConfig = hnswConfig
        self.quantizationConfig = quantizationConfig
        self.onDisk = onDisk
        self.multivectorConfig = multivectorConfig
        self.datatype = datatype
    }

    /// Whether points hold several rows of this vector (a multivector).
    public var isMultiVector: Bool { multivectorConfig != nil }

    /// The element type vectors are stored in.
    public var storedDatatype: VectorDatatype { datatype ?? .float32 }

    /// Cosine over stored vectors that are not normalised (`uint8`, as
    /// Qdrant): every score is a·b / (|a| |b|) instead of a dot product.
    public var scoresRawCosine: Bool { distance == .cosine && !storedDatatype.normalizesForCosine() }
}

/// How two multivectors are compared (Qdrant's `multivector_config.comparator`).
public enum MultiVectorComparator: String, Sendable, Equatable, Codable {
    /// Σ over query rows of the best similarity with any document row (see `MaxSim`).
    case maxSim = "max_sim"
}

/// Qdrant's `multivector_config`.
///
/// A multivector is given and returned as its rows; Strata stores them in the
/// segment (`multivector[<name>]` sections), indexes the mean of the rows
/// (normalised for Cosine) with the vector's HNSW graph and quantization, and
/// rescores the graph's candidates by max_sim over the full rows. Exact search
/// scores every point by max_sim.
public struct MultiVectorConfig: Sendable, Equatable, Codable {
    /// How a query's rows are scored against a point's rows (Qdrant's
    /// `comparator`); `.maxSim` is the only one.
    public var comparator: MultiVectorComparator
    /// Creates a multivector config scored by `comparator` (default `.maxSim`).
    public init(comparator: MultiVectorComparator = .maxSim) { self.comparator = comparator }
}

/// How a sparse vector's query is weighted (Qdrant's `modifier`).
public enum SparseModifier: String, Sendable, Equatable, Codable {
    /// Scores are plain dot products.
    case none
    /// Each query value is multiplied by the term's inverse document frequency
    /// over the collection at query time: `ln((N − n + 0.5) / (n + 0.5) + 1)`,
    /// N = points with this sparse vector, n = those holding the index.
    case idf
}

/// Qdrant's `sparse_vectors.<name>.index`. Accepted and stored; Strata always
/// keeps the inverted index in the mmap'd segment file and searches it exactly.
public struct SparseIndexParams: Sendable, Equatable, Codable {
    /// Qdrant's `on_disk`: accepted and reported back; the index always
    /// lives in the mmap'd segment file. nil when not given.
    public var onDisk: Bool?
    /// Qdrant's `full_scan_threshold`: accepted (it must not be negative) and
    /// reported back; Strata does not use it. nil when not given.
    public var fullScanThreshold: Int?
    /// Creates index params with Qdrant's `on_disk` and `full_scan_threshold`
    /// (nil: not given).
    public init(onDisk: Bool? = nil, fullScanThreshold: Int? = nil) {
        self.onDisk = onDisk
        self.fullScanThreshold = fullScanThreshold
    }
}

/// One named sparse vector of a collection (Qdrant's `SparseVectorParams`).
public struct SparseVectorParams: Sendable, Equatable, Codable {
    /// How query values are weighted: `.none` (plain dot products, the
    /// default) or `.idf` (Qdrant's `modifier`, used for BM25).
    public var modifier: SparseModifier
    /// Qdrant's `index` settings, accepted and reported back; nil when not given.
    public var index: SparseIndexParams?
    /// Creates a sparse vector's parameters with `modifier` (default `.none`)
    /// and the optional `index` settings.
    public init(modifier: SparseModifier = .none, index: SparseIndexParams? = nil) {
        self.modifier = modifier
        self.index = index
    }

    enum CodingKeys: String, CodingKey { case modifier, index }

    /// Reads the config.json form; a missing `modifier` is `.none`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        modifier = try container.decodeIfPresent(SparseModifier.self, forKey: .modifier) ?? .none
        index = try container.decodeIfPresent(SparseIndexParams.self, forKey: .index)
    }
}

/// A collection's fixed configuration.
///
/// Qdrant's collection `config`: the collection's dense vectors (`vectors`)
/// and sparse vectors, how they are indexed (`hnswConfig`) and quantized,
/// when segments are flushed and merged (`optimizers`), and Strata's
/// additions (expiring points, retained versions). The vectors' sizes,
/// distances and datatypes are fixed at creation (named vectors can be added
/// or removed later); the engine's `Database.updateCollectionConfig` changes
/// the other settings (Qdrant's `PATCH /collections/{name}`). Kept in the
/// collection's config.json (docs/format/data-directory.md).
///
/// ```swift
/// // One unnamed 384-d vector, scalar-quantized:
/// var config = CollectionConfig(size: 384, distance: .cosine)
/// config.quantizationConfig = .scalar(quantile: 0.99)
///
/// // Two named vectors and a sparse one for BM25 (hybrid search):
/// let hybrid = CollectionConfig(
///     vectors: [
///         "title": VectorParams(size: 384, distance: .cosine),
///         "body": VectorParams(size: 768, distance: .dot, datatype: .float16),
///     ],
///     sparseVectors: ["text": SparseVectorParams(modifier: .idf)])
/// try hybrid.validate()
/// ```
public struct CollectionConfig: Sendable, Equatable, Codable {
    /// The name Qdrant uses for a collection's single unnamed vector.
    public static let defaultVectorName = ""

    /// Named dense vectors; a collection with one unnamed vector uses the key `""`.
    public var vectors: [String: VectorParams]
    /// When segments are sealed, merged and vacuumed (Qdrant's names and defaults).
    public var optimizers: OptimizersConfig
    /// Codec of the payload blocks in immutable segments: `.zstd` (default, cold
    /// data, ~7.6x on JSON), `.lz4` (faster to read, ~4.6x) or `.none`.
    public var payloadCompression: CompressionCodec
    /// The HNSW graph built for each indexed segment (per vector unless overridden).
    public var hnswConfig: HnswConfig
    /// Quantization of every vector unless overridden; nil = none.
    public var quantizationConfig: QuantizationConfig?
    /// Named sparse vectors (Qdrant's `sparse_vectors`); names differ from `vectors`' names.
    public var sparseVectors: [String: SparseVectorParams]
    /// Qdrant's collection `metadata` (1.16+): a free JSON object kept with the
    /// config and reported back; nil when never set. Strata does not read it.
    public var metadata: [String: JSONValue]?
    /// Qdrant's `strict_mode_config`: request limits the server enforces while
    /// enabled; nil when never set (strict mode off).
    public var strictMode: StrictModeConfig?
    /// Expiring points (`TTLConfig`); nil: points never expire.
    public var ttl: TTLConfig?
    /// Which versions are kept (`VersionsConfig`); nil: only tagged ones.
    public var versions: VersionsConfig?

    /// Creates a configuration with the named dense `vectors` and, for the
    /// other settings, Qdrant's defaults: default optimizers and HNSW
    /// parameters, zstd payload blocks, no quantization, no sparse vectors, and
    /// no metadata, strict mode, TTL or retained versions.
    ///
    /// Nothing is checked here: `validate()` (which creating a collection
    /// calls) throws for sizes, names or settings out of range.
    public init(
        vectors: [String: VectorParams], optimizers: OptimizersConfig = OptimizersConfig(),
        payloadCompression: CompressionCodec = .zstd, hnswConfig: HnswConfig = HnswConfig(),
        quantizationConfig: QuantizationConfig? = nil, sparseVectors: [String: SparseVectorParams] = [:],
        metadata: [String: JSONValue]? = nil, strictMode: StrictModeConfig? = nil, ttl: TTLConfig? = nil,
        versions: VersionsConfig? = nil
    ) {
        self.vectors = vectors
        self.ttl = ttl
        self.versions = versions
        self.metadata = metadata
        self.strictMode = strictMode
        self.sparseVectors = sparseVectors
        self.optimizers = optimizers
        self.payloadCompression = payloadCompression
        self.hnswConfig = hnswConfig
        self.quantizationConfig = quantizationConfig
    }

    /// A collection with one unnamed vector of `size` dimensions compared by
    /// `distance` (the key `""`, Qdrant's single-vector form); the other
    /// settings as `init(vectors:…)` sets them.
    public init(
        size: Int, distance: Distance, optimizers: OptimizersConfig = OptimizersConfig(),
        hnswConfig: HnswConfig = HnswConfig(), quantizationConfig: QuantizationConfig? = nil
    ) {
        self.init(
            vectors: [Self.defaultVectorName: VectorParams(size: size, distance: distance)], optimizers: optimizers,
            hnswConfig: hnswConfig, quantizationConfig: quantizationConfig)
    }

    /// The HNSW parameters in force for vector `name`.
    public func hnsw(for name: String) -> HnswConfig { vectors[name]?.hnswConfig ?? hnswConfig }

    /// The quantization in force for vector `name` (nil = none).
    public func quantization(for name: String) -> QuantizationConfig? {
        vectors[name]?.quantizationConfig ?? quantizationConfig
    }

    enum CodingKeys: String, CodingKey {
        case vectors, optimizers, payloadCompression, hnswConfig, quantizationConfig, sparseVectors, metadata,
            strictMode, ttl, versions
    }

    /// Reads the config.json form; a missing field takes its default (as
    /// `init(vectors:…)` sets it), so files written before it existed still read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        vectors = try container.decode([String: VectorParams].self, forKey: .vectors)
        optimizers = try container.decodeIfPresent(OptimizersConfig.self, forKey: .optimizers) ?? OptimizersConfig()
        payloadCompression = try container.decodeIfPresent(CompressionCodec.self, forKey: .payloadCompression) ?? .zstd
        hnswConfig = try container.decodeIfPresent(HnswConfig.self, forKey: .hnswConfig) ?? HnswConfig()
        quantizationConfig = try container.decodeIfPresent(QuantizationConfig.self, forKey: .quantizationConfig)
        sparseVectors = try container.decodeIfPresent([String: SparseVectorParams].self, forKey: .sparseVectors) ?? [:]
        metadata = try container.decodeIfPresent([String: JSONValue].self, forKey: .metadata)
        strictMode = try container.decodeIfPresent(StrictModeConfig.self, forKey: .strictMode)
        ttl = try container.decodeIfPresent(TTLConfig.self, forKey: .ttl)
        versions = try container.decodeIfPresent(VersionsConfig.self, forKey: .versions)
    }

    /// Writes the config.json form, leaving out what was never set (sparse
    /// vectors when there are none, metadata, strict mode, TTL, versions), so
    /// a config without them is written as older builds wrote it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(vectors, forKey: .vectors)
        try container.encode(optimizers, forKey: .optimizers)
        try container.encode(payloadCompression, forKey: .payloadCompression)
        try container.encode(hnswConfig, forKey: .hnswConfig)
        try container.encodeIfPresent(quantizationConfig, forKey: .quantizationConfig)
        // Left out when empty, so configs without sparse vectors stay byte-identical.
        if !sparseVectors.isEmpty { try container.encode(sparseVectors, forKey: .sparseVectors) }
        // Left out when never set (config.json version 3 only; see StoredConfig).
        try container.encodeIfPresent(metadata, forKey: .metadata)
        try container.encodeIfPresent(strictMode, forKey: .strictMode)
        // Left out when never set (config.json version 5 only).
        try container.encodeIfPresent(ttl, forKey: .ttl)
        try container.encodeIfPresent(versions, forKey: .versions)
    }

    /// Whether the config holds what only config.json version 3 may carry.
    package var needsFormatVersion3: Bool { metadata != nil || strictMode != nil }

    /// Whether config.json must be version 4 (docs/format/data-directory.md):
    /// a vector stored in a datatype other than `float32`.
    package var needsFormatVersion4: Bool { vectors.values.contains { $0.storedDatatype != .float32 } }

    /// Whether config.json must be version 5: expiring points (`ttl`), which
    /// older builds would ignore, serving expired points and never deleting
    /// them, or retained versions (`versions`), whose files older builds
    /// would remove.
    package var needsFormatVersion5: Bool { ttl != nil || versions != nil }

    static let maxDimension = 65536

    /// Throws `.invalidArgument` naming what is wrong when the configuration cannot be used.
    ///
    /// Checks vector sizes (1…65536) and names (at most 255 bytes; a name is
    /// dense or sparse, not both), the HNSW, quantization, optimizer, strict
    /// mode, TTL and versions settings, and that `metadata` holds only finite
    /// numbers. Creating a collection runs it.
    public func validate() throws {
        for name in sparseVectors.keys {
            guard vectors[name] == nil else {
                throw StrataError.invalid("\"\(name)\" names both a dense and a sparse vector; names must be distinct")
            }
            guard name.utf8.count <= 255 else {
                throw StrataError.invalid("sparse vector name \"\(name.prefix(32))…\" is longer than 255 bytes")
            }
            if let threshold = sparseVectors[name]!.index?.fullScanThreshold, threshold < 0 {
                throw StrataError.invalid("sparse vector \"\(name)\": full_scan_threshold must not be negative")
            }
        }
        for (name, params) in vectors {
            guard (1...Self.maxDimension).contains(params.size) else {
                throw StrataError.invalid(
                    "vector \"\(name)\" has size \(params.size); sizes must be 1…\(Self.maxDimension)")
            }
            guard name.utf8.count <= 255 else {
                throw StrataError.invalid("vector name \"\(name.prefix(32))…\" is longer than 255 bytes")
            }
            try params.hnswConfig?.validate("vector \"\(name)\"")
            try params.quantizationConfig?.validate("vector \"\(name)\"")
            if params.scoresRawCosine && params.isMultiVector {
                throw StrataError.invalid(
                    "multivector \"\(name)\": datatype uint8 with Cosine distance is not supported yet for multivectors; use Dot, Euclid or Manhattan with uint8, or float16 with Cosine"
                )
            }
        }
        try hnswConfig.validate("collection")
        try quantizationConfig?.validate("collection")
        if let metadata, !JSONValue.object(metadata).isFinite {
            throw StrataError.invalid("collection metadata must not hold NaN or infinite numbers")
        }
        try strictMode?.validate()
        try ttl?.validate()
        try versions?.validate()
        try optimizers.validate()
    }
}

/// Durability of acknowledged writes (see docs/durability.md).
public enum Durability: Sendable, Equatable {
    /// An acknowledged write is on disk (`fdatasync`ed, group commit). Default.
    case durable
    /// An acknowledged write is in the OS page cache and synced every
    /// `milliseconds`; it survives a process crash but an OS crash or power
    /// loss may lose the last interval.
    case periodic(milliseconds: Int)
}
