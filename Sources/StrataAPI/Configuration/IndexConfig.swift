import StrataModel
import StrataPayload
/// HNSW index parameters (Qdrant's `hnsw_config`, same names and defaults).
/// Set per collection; a named vector may override it.
public struct HnswConfig: Sendable, Equatable, Codable {
    /// Links per node on the upper layers; layer 0 keeps `2·m`. 0 disables the graph
    /// (segments are scanned exactly).
    ///
    /// Qdrant's `m`; default 16, 0 or 2…512.
    public var m: Int = 16
    /// Candidate list size while building; larger builds slower and finds better links.
    ///
    /// Qdrant's `ef_construct`; default 100, 4…4096. A search's `hnswEf`
    /// defaults to the larger of it and the search's limit (see `SearchParams`).
    public var efConstruct: Int = 100
    /// Segments whose vectors of this name take fewer KiB than this are not
    /// indexed: an exact scan of them is as fast as a graph search.
    ///
    /// Qdrant's `full_scan_threshold` (in KiB); default 10 000.
    public var fullScanThresholdKB: Int = 10_000
    /// Threads that build one graph; 0 = all cores.
    ///
    /// Qdrant's `max_indexing_threads`; default 0.
    public var maxIndexingThreads: Int = 0
    /// Graph links stay on disk (mmap'd) rather than loaded; Strata always maps
    /// them, so this is accepted for compatibility and reported back.
    public var onDisk: Bool? = nil
    /// Seed of the level generator: the same points, config and seed give the same graph.
    public var seed: UInt64 = 0x5354_5241_5441  // "STRATA"

    /// Creates Qdrant's defaults: `m` 16, `efConstruct` 100,
    /// `fullScanThresholdKB` 10 000, all cores, Strata's fixed seed.
    public init() {}

    /// Creates HNSW parameters; each one left out keeps its default (see the
    /// properties).
    ///
    /// Ranges are checked when the collection config is validated: `m` 0 or
    /// 2…512, `efConstruct` 4…4096, the others not negative.
    public init(
        m: Int = 16, efConstruct: Int = 100, fullScanThresholdKB: Int = 10_000, maxIndexingThreads: Int = 0,
        onDisk: Bool? = nil, seed: UInt64 = 0x5354_5241_5441
    ) {
        self.m = m
        self.efConstruct = efConstruct
        self.fullScanThresholdKB = fullScanThresholdKB
        self.maxIndexingThreads = maxIndexingThreads
        self.onDisk = onDisk
        self.seed = seed
    }

    /// Reads the config.json form; a missing field takes its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HnswConfig()
        m = try c.decodeIfPresent(Int.self, forKey: .m) ?? d.m
        efConstruct = try c.decodeIfPresent(Int.self, forKey: .efConstruct) ?? d.efConstruct
        fullScanThresholdKB = try c.decodeIfPresent(Int.self, forKey: .fullScanThresholdKB) ?? d.fullScanThresholdKB
        maxIndexingThreads = try c.decodeIfPresent(Int.self, forKey: .maxIndexingThreads) ?? d.maxIndexingThreads
        onDisk = try c.decodeIfPresent(Bool.self, forKey: .onDisk)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }

    func validate(_ what: String) throws {
        guard m == 0 || (2...512).contains(m) else {
            throw StrataError.invalid("\(what): hnsw m must be 0 or 2…512, got \(m)")
        }
        guard (4...4096).contains(efConstruct) else {
            throw StrataError.invalid("\(what): hnsw ef_construct must be 4…4096, got \(efConstruct)")
        }
        guard fullScanThresholdKB >= 0 else {
            throw StrataError.invalid("\(what): full_scan_threshold must not be negative")
        }
        guard maxIndexingThreads >= 0 else {
            throw StrataError.invalid("\(what): max_indexing_threads must not be negative")
        }
    }
}

/// Quantization of a vector (Qdrant's `quantization_config`). Codes are kept
/// in RAM and used to walk the graph; full vectors stay on disk for rescoring.
///
/// Every method takes Qdrant's `alwaysRam` (`always_ram`), accepted and
/// reported back: the codes are in RAM either way. How a search uses the codes
/// is set per query (`QuantizationSearchParams`).
public enum QuantizationConfig: Sendable, Equatable, Codable {
    /// One `int8` per dimension (4x smaller). `quantile` (0.5…1) clips outliers
    /// when choosing the range; nil = 1 (the full range).
    case scalar(quantile: Double? = nil, alwaysRam: Bool? = nil)
    /// One bit per dimension (32x smaller), two (`.twoBits`, 16x smaller), or
    /// one and a half (`.oneAndHalfBits`, ~21x smaller: two bits whose upper one
    /// is shared by each pair of dimensions).
    /// `queryEncoding: .scalar8Bits` scores an int8-quantized query against
    /// the bits (asymmetric), which ranks better than bits against bits.
    case binary(
        encoding: BinaryQuantizationEncoding = .oneBit, queryEncoding: BinaryQueryEncoding = .default,
        alwaysRam: Bool? = nil)
    /// Product quantization: the vector is cut into sub-vectors, each replaced
    /// by the index of its nearest of 256 centroids; `compression` is the ratio.
    case product(compression: ProductQuantizationCompression, alwaysRam: Bool? = nil)
}

/// How many bits binary quantization keeps per dimension (Qdrant's
/// `encoding`); docs/format/quantization.md describes the codes.
public enum BinaryQuantizationEncoding: String, Sendable, Equatable, Codable {
    /// One bit per dimension, its sign after centring (32x smaller than
    /// float32); the default.
    case oneBit = "one_bit"
    /// Two bits per dimension, three levels (16x smaller).
    case twoBits = "two_bits"
    /// Three bits per two dimensions: two bits whose upper bit is shared by
    /// each pair of dimensions (~21x smaller).
    case oneAndHalfBits = "one_and_half_bits"
}

/// How a query is encoded to be scored against binary codes (Qdrant's
/// `query_encoding`).
public enum BinaryQueryEncoding: String, Sendable, Equatable, Codable {
    /// The query is binarised like the vectors (Hamming distance).
    case `default` = "default"
    /// The same as `default`: the query is binarised like the vectors
    /// (Qdrant's explicit `binary`).
    case binary = "binary"
    /// The query keeps 8 bits per dimension (asymmetric scoring).
    case scalar8Bits = "scalar8bits"
    /// The query keeps 4 bits per dimension: asymmetric scoring at half the
    /// bit-plane work of `scalar8Bits`, a little less precise.
    case scalar4Bits = "scalar4bits"
}

/// How much product quantization shrinks a vector: bytes of float32 vector
/// per byte of code (Qdrant's `compression`).
///
/// Each code byte names one of 256 centroids of a sub-vector of `ratio / 4`
/// dimensions, so larger ratios are smaller and less precise.
public enum ProductQuantizationCompression: String, Sendable, Equatable, Codable, CaseIterable {
    /// A ratio of 4, 8, 16, 32 or 64 (as named): one code byte per 1, 2, 4,
    /// 8 or 16 dimensions.
    case x4, x8, x16, x32, x64

    /// Bytes of float32 vector per byte of code.
    public var ratio: Int {
        switch self {
        case .x4: 4
        case .x8: 8
        case .x16: 16
        case .x32: 32
        case .x64: 64
        }
    }
}

extension QuantizationConfig {
    func validate(_ what: String) throws {
        if case .scalar(let quantile?, _) = self, !(0.5...1).contains(quantile) {
            throw StrataError.invalid("\(what): scalar quantization quantile must be within 0.5…1, got \(quantile)")
        }
    }
}

/// Per-query search parameters (Qdrant's `params`).
///
/// The defaults walk each indexed segment's HNSW graph (with quantized codes
/// when the vector has them, rescored by full vectors) and scan small or
/// unindexed segments exactly. Each query stage has its own.
///
/// ```swift
/// // A wider graph search, reading 2x the candidates from the quantized codes:
/// let params = SearchParams(hnswEf: 256, quantization: QuantizationSearchParams(oversampling: 2))
/// let request = QueryRequest(query: .nearest(.dense(embedding)), params: params, limit: 10)
///
/// // The exact answer, to measure recall against:
/// let exact = QueryRequest(query: .nearest(.dense(embedding)), params: SearchParams(exact: true), limit: 10)
/// ```
public struct SearchParams: Sendable, Equatable {
    /// Size of the candidate list on the graph; nil = max(limit, the collection's
    /// ef_construct). Larger finds more of the true neighbours, slower.
    public var hnswEf: Int?
    /// Scan every point exactly instead of using the graph (and no quantization).
    public var exact: Bool
    /// How quantized codes are used (Qdrant's `quantization`); nil = the
    /// defaults (`QuantizationSearchParams()`: use codes, rescore, no
    /// oversampling).
    public var quantization: QuantizationSearchParams?
    /// Only search indexed segments (Qdrant's `indexed_only`).
    public var indexedOnly: Bool
    /// How a filtered graph search walks (Qdrant's `acorn`); nil = the default
    /// (`AcornSearchParams()`).
    public var acorn: AcornSearchParams?
    /// Which points the IDF statistics of a sparse vector with the `idf`
    /// modifier are computed over (Qdrant's `idf`); nil = not given (the
    /// whole collection). Given for any other vector, the query is refused.
    public var idf: IDFScope?

    /// Creates search parameters; the defaults are Qdrant's (graph search,
    /// codes used and rescored, every segment searched, the default ACORN walk).
    public init(
        hnswEf: Int? = nil, exact: Bool = false, quantization: QuantizationSearchParams? = nil,
        indexedOnly: Bool = false,
        acorn: AcornSearchParams? = nil, idf: IDFScope? = nil
    ) {
        self.hnswEf = hnswEf
        self.exact = exact
        self.quantization = quantization
        self.indexedOnly = indexedOnly
        self.acorn = acorn
        self.idf = idf
    }
}

/// The population a sparse query's IDF statistics (document count and per
/// term document frequency) are computed over: Qdrant's `IdfParams`.
public enum IDFScope: Sendable, Equatable {
    /// The whole collection (`"global"`), as without the parameter.
    case global
    /// The live points matching the filter (`{"corpus": filter}`), e.g. one
    /// tenant, so term rarity reflects that tenant's documents.
    case corpus(Filter)
    /// Statistics counted elsewhere: a cluster node sums those of every
    /// shard of a collection and gives them to each shard, so that a sparse
    /// query weighs terms as one collection would (docs/cluster.md). Terms
    /// missing from `documentFrequencies` occur in no point.
    case given(points: Int, documentFrequencies: [UInt32: Int])
}

/// The filtered graph walk (Qdrant's `acorn` search params). With `enable`,
/// a segment whose filter matches less than `maxSelectivity` of its points
/// scores only matching nodes and reaches them through up to two hops
/// (ACORN-1); otherwise the walk scores every neighbour and returns only
/// matching ones. Unlike Qdrant (which relies on extra payload links built
/// per indexed field and leaves this off), Strata enables it by default.
public struct AcornSearchParams: Sendable, Equatable {
    /// Whether selective filters use the two-hop walk (default true).
    public var enable: Bool
    /// Fraction of the segment's points the filter matches, 0…1, below which
    /// the two-hop walk is used.
    public var maxSelectivity: Double

    /// Creates ACORN parameters: enabled by default, for filters matching
    /// less than 40 % of a segment.
    public init(enable: Bool = true, maxSelectivity: Double = 0.4) {
        self.enable = enable
        self.maxSelectivity = maxSelectivity
    }
}

/// How a search uses quantized vectors (Qdrant's `quantization` search params).
public struct QuantizationSearchParams: Sendable, Equatable {
    /// Ignore the codes: walk the graph with full vectors.
    public var ignore: Bool
    /// Re-score the candidates found with codes by their full vectors (read
    /// from disk). Default true.
    public var rescore: Bool
    /// Fetch `oversampling · limit` candidates with codes before rescoring;
    /// nil = 1. Must be ≥ 1.
    public var oversampling: Double?

    /// Creates quantization search parameters; the defaults use the codes and
    /// rescore their candidates without oversampling.
    public init(ignore: Bool = false, rescore: Bool = true, oversampling: Double? = nil) {
        self.ignore = ignore
        self.rescore = rescore
        self.oversampling = oversampling
    }
}
