import StrataModel
import StrataPayload
/// A point to upsert: id, vectors by name, optional JSON payload.
public struct PointStruct: Sendable, Equatable {
    public var id: PointID
    /// Vectors by name; use `""` for a collection's unnamed vector. A
    /// multivector is given as its rows back to back (rows × size floats).
    public var vectors: [String: [Float]]
    public var payload: Payload?
    /// Sparse vectors by name (the collection's `sparseVectors`).
    public var sparseVectors: [String: SparseVector]

    public init(
        id: PointID, vectors: [String: [Float]], payload: Payload? = nil, sparseVectors: [String: SparseVector] = [:]
    ) {
        self.id = id
        self.vectors = vectors
        self.payload = payload
        self.sparseVectors = sparseVectors
    }

    /// A point with one unnamed vector.
    public init(id: PointID, vector: [Float], payload: Payload? = nil) {
        self.init(id: id, vectors: [CollectionConfig.defaultVectorName: vector], payload: payload)
    }
}

/// A stored point as returned by retrieve and search.
public struct Record: Sendable, Equatable {
    public var id: PointID
    /// The op number that last wrote this point.
    public var version: UInt64
    /// Present when asked for (`withPayload`).
    public var payload: Payload?
    /// Present when asked for (`withVector`). Cosine vectors come back
    /// normalised; a multivector comes back as its rows back to back.
    public var vectors: [String: [Float]]?
    /// Present when asked for (`withVector`), sorted by index.
    public var sparseVectors: [String: SparseVector]?

    public init(
        id: PointID, version: UInt64, payload: Payload? = nil, vectors: [String: [Float]]? = nil,
        sparseVectors: [String: SparseVector]? = nil
    ) {
        self.id = id
        self.version = version
        self.payload = payload
        self.vectors = vectors
        self.sparseVectors = sparseVectors
    }
}

/// A search hit.
public struct ScoredPoint: Sendable, Equatable {
    public var id: PointID
    public var version: UInt64
    /// Qdrant's score: similarity for Cosine/Dot (higher is better), distance
    /// for Euclid/Manhattan (lower is better).
    public var score: Float
    public var payload: Payload?
    public var vectors: [String: [Float]]?
    /// The value an `orderBy` query ordered this point by (nil otherwise).
    public var orderValue: Double?
    public var sparseVectors: [String: SparseVector]?

    public init(
        id: PointID, version: UInt64, score: Float, payload: Payload? = nil, vectors: [String: [Float]]? = nil,
        orderValue: Double? = nil, sparseVectors: [String: SparseVector]? = nil
    ) {
        self.id = id
        self.version = version
        self.score = score
        self.payload = payload
        self.vectors = vectors
        self.orderValue = orderValue
        self.sparseVectors = sparseVectors
    }
}
