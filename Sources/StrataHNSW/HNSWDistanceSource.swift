import CStrataKernels
import StrataVectorMath

/// Distances from one query to graph nodes, lower is better. Graph search
/// asks for the unvisited neighbours of one node at a time, so an
/// implementation can prefetch and use one kernel call per batch.
public protocol HNSWDistanceSource {
    /// `out[i]` = distance from the query to node `nodes[i]`, for i in 0..<count.
    func distances(_ nodes: UnsafePointer<UInt32>, count: Int, into out: UnsafeMutablePointer<Float>)
}

/// Float32 rows in memory or in a mapping: the exact distance of `metric`
/// as a lower-is-better number (−dot for Dot and Cosine, squared L2 for
/// Euclid, L1 for Manhattan).
public struct FloatRowsDistance: HNSWDistanceSource {
    public let query: UnsafePointer<Float>
    public let rows: UnsafePointer<Float>
    public let dimension: Int
    let kind: strata_gather_kind

    /// `rows` holds one row of `dimension` floats per node; both pointers must
    /// stay valid while the source is used.
    public init(query: UnsafePointer<Float>, rows: UnsafePointer<Float>, dimension: Int, metric: DistanceMetric) {
        self.init(query: query, rows: rows, dimension: dimension, kind: Self.kind(metric))
    }

    init(query: UnsafePointer<Float>, rows: UnsafePointer<Float>, dimension: Int, kind: strata_gather_kind) {
        self.query = query
        self.rows = rows
        self.dimension = dimension
        self.kind = kind
    }

    static func kind(_ metric: DistanceMetric) -> strata_gather_kind {
        switch metric {
        case .cosine, .dot: STRATA_GATHER_NEG_DOT
        case .euclid: STRATA_GATHER_L2SQ
        case .manhattan: STRATA_GATHER_L1
        }
    }

    @inline(__always)
    public func distances(_ nodes: UnsafePointer<UInt32>, count: Int, into out: UnsafeMutablePointer<Float>) {
        strata_gather_distances_f32(kind, query, rows, dimension, nodes, count, out)
    }

    /// The exact distance between two rows.
    @inline(__always)
    static func pair(
        _ kind: strata_gather_kind, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dimension: Int
    ) -> Float {
        switch kind {
        case STRATA_GATHER_NEG_DOT: -strata_dot_f32(a, b, dimension)
        case STRATA_GATHER_L2SQ: strata_l2sq_f32(a, b, dimension)
        default: strata_l1_f32(a, b, dimension)
        }
    }
}

/// Rows of any `VectorDatatype` (a segment's mapping): the exact distance of
/// `metric` as `FloatRowsDistance` computes it, each element widened to f32.
/// Cosine over `uint8` rows (which are not normalised) is the true cosine.
public struct StoredRowsDistance: HNSWDistanceSource {
    public let query: UnsafePointer<Float>
    public let rows: UnsafeRawPointer
    public let dimension: Int
    public let datatype: VectorDatatype
    let kind: strata_gather_kind

    /// `rows` holds one row of `dimension` elements of `datatype` per node;
    /// both pointers must stay valid while the source is used.
    public init(
        query: UnsafePointer<Float>, rows: UnsafeRawPointer, dimension: Int, datatype: VectorDatatype,
        metric: DistanceMetric
    ) {
        self.query = query
        self.rows = rows
        self.dimension = dimension
        self.datatype = datatype
        kind =
            metric == .cosine && !datatype.normalizesForCosine()
            ? STRATA_GATHER_NEG_COSINE : FloatRowsDistance.kind(metric)
    }

    @inline(__always)
    public func distances(_ nodes: UnsafePointer<UInt32>, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch datatype {
        case .float32:
            strata_gather_distances_f32(
                kind, query, rows.assumingMemoryBound(to: Float.self), dimension, nodes, count, out)
        case .float16:
            strata_gather_distances_f16(
                kind, query, rows.assumingMemoryBound(to: UInt16.self), dimension, nodes, count, out)
        case .uint8:
            strata_gather_distances_u8(
                kind, query, rows.assumingMemoryBound(to: UInt8.self), dimension, nodes, count, out)
        }
    }
}

extension DistanceMetric {
    /// Qdrant's score from a lower-is-better graph distance of this metric
    /// (the inverse of `FloatRowsDistance`'s mapping).
    public func score(fromDistance distance: Float) -> Float {
        switch self {
        case .cosine, .dot: 0 - distance  // +0, not −0, for a distance of 0
        case .euclid: strata_sqrt_f32(max(distance, 0))
        case .manhattan: distance
        }
    }
}
