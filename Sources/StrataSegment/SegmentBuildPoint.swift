import StrataModel
import StrataVectorMath

/// One named dense vector of a segment: its name (`""` is the unnamed vector),
/// its dimension and how its elements are stored.
public struct SegmentVectorSpec: Sendable, Equatable {
    /// UTF-8, at most 255 bytes.
    public var name: String
    /// 1…65536.
    public var dimension: Int
    /// The element type of its `vectors[<name>].data` (and multivector rows).
    /// The writer stores each given float as this type: values must be
    /// representable (`VectorDatatype.rounded`), or they are rounded.
    public var datatype: VectorDatatype

    public init(name: String, dimension: Int, datatype: VectorDatatype = .float32) {
        self.name = name
        self.dimension = dimension
        self.datatype = datatype
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

/// The rows of one dense vector as a segment stores them (`SegmentReader.withVectorRows`).
public struct VectorRows {
    /// Row 0; row i starts `i × rowBytes` bytes further.
    public let base: UnsafeRawPointer
    /// Rows (the segment's points).
    public let count: Int
    public let dimension: Int
    public let datatype: VectorDatatype

    public init(base: UnsafeRawPointer, count: Int, dimension: Int, datatype: VectorDatatype) {
        self.base = base
        self.count = count
        self.dimension = dimension
        self.datatype = datatype
    }

    public var rowBytes: Int { dimension * datatype.bytesPerElement }

    /// Row `i` decoded into `out` (`dimension` floats).
    public func decodeRow(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        datatype.decode(base + i * rowBytes, count: dimension, into: out)
    }

    /// Row `i` as floats.
    public func row(_ i: Int) -> [Float] { datatype.decode(base + i * rowBytes, count: dimension) }
}
