import StrataModel

/// One named dense vector of a segment: its name (`""` is the unnamed vector)
/// and its dimension.
public struct SegmentVectorSpec: Sendable, Equatable {
    /// UTF-8, at most 255 bytes.
    public var name: String
    /// 1…65536.
    public var dimension: Int

    public init(name: String, dimension: Int) {
        self.name = name
        self.dimension = dimension
    }
}

/// One point as the writer takes it.
public struct SegmentBuildPoint: Sendable {
    public var id: PointID
    /// The op number of the write that produced this state of the point.
    public var version: UInt64
    /// Vectors by name; each name must be one of the segment's `SegmentVectorSpec`s
    /// and have exactly its dimension. A spec's name missing here means the point
    /// has no such vector.
    public var vectors: [String: [Float]]
    /// nil: no payload (distinct from an empty payload `[:]`).
    public var payload: Payload?
    /// Sparse vectors by name (canonical: indices strictly ascending); each name
    /// must be one of the writer's `sparseVectors`.
    public var sparseVectors: [String: SparseVector]
    /// The rows of each multivector, row-major (`rows × dimension` floats, at
    /// least one row), by name; each name must be one of the writer's
    /// `multiVectors`, and the point must then also have `vectors[name]` (the
    /// rows' aggregate, which graphs and quantization are built over).
    public var multiVectors: [String: [Float]]

    public init(
        id: PointID, version: UInt64, vectors: [String: [Float]] = [:], payload: Payload? = nil,
        sparseVectors: [String: SparseVector] = [:], multiVectors: [String: [Float]] = [:]
    ) {
        self.id = id
        self.version = version
        self.vectors = vectors
        self.payload = payload
        self.sparseVectors = sparseVectors
        self.multiVectors = multiVectors
    }
}

/// What `SegmentWriter.write` wrote.
public struct SegmentWriteStats: Sendable, Equatable {
    /// Bytes of each section, by the section names of docs/format/segment.md
    /// (`ids.numbers`, `versions`, `vectors[<name>].data`, `payload.blocks`, …).
    public var sectionBytes: [String: Int]
    /// Size of the whole file (sections, padding, header, table, footer).
    public var fileBytes: Int
    /// Payload blocks before compression (entry tables and encoded payloads).
    public var payloadRawBytes: Int
    /// Payload blocks as stored (the `payload.blocks` section).
    public var payloadCompressedBytes: Int
    public var payloadBlockCount: Int
    public var pointCount: Int

    public init(
        sectionBytes: [String: Int], fileBytes: Int, payloadRawBytes: Int, payloadCompressedBytes: Int,
        payloadBlockCount: Int, pointCount: Int
    ) {
        self.sectionBytes = sectionBytes
        self.fileBytes = fileBytes
        self.payloadRawBytes = payloadRawBytes
        self.payloadCompressedBytes = payloadCompressedBytes
        self.payloadBlockCount = payloadBlockCount
        self.pointCount = pointCount
    }
}

/// A search structure for one vector, built by a higher layer and stored in
/// the segment as one checksummed section (docs/format/segment.md, kinds 8 and 9).
public struct SegmentVectorIndex: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `hnsw[<name>]`: the HNSW graph image (docs/format/hnsw-graph.md).
        case hnswGraph
        /// `quantized[<name>]`: quantized codes (docs/format/quantization.md).
        case quantizedVectors
    }

    public var kind: Kind
    public var vectorName: String
    public var bytes: [UInt8]

    public init(kind: Kind, vectorName: String, bytes: [UInt8]) {
        self.kind = kind
        self.vectorName = vectorName
        self.bytes = bytes
    }
}

/// A payload field index built by a higher layer, stored as one checksummed
/// `payload_index[<key>]` section (docs/format/segment.md, kind 10; contents:
/// docs/format/payload-index.md).
public struct SegmentFieldIndex: Sendable {
    /// The field key as written (`a.b[].c`), at most 255 bytes of UTF-8.
    public var key: String
    public var bytes: [UInt8]

    public init(key: String, bytes: [UInt8]) {
        self.key = key
        self.bytes = bytes
    }
}
