import StrataModel
import StrataPayload
/// A point to upsert: id, vectors by name, optional JSON payload.
///
/// Qdrant's `PointStruct`. An upsert replaces the whole point with the same
/// id: vectors left out are gone afterwards, and so is the payload when it is
/// nil.
///
/// ```swift
/// // A collection with one unnamed vector:
/// let point = PointStruct(id: 7, vector: [0.1, 0.9, 0.0, 0.2], payload: ["title": "Hello", "year": 2024])
///
/// // Named dense vectors and a sparse vector:
/// let hybrid = PointStruct(
///     id: .uuid(UUID()), vectors: ["title": titleVector, "body": bodyVector],
///     sparseVectors: ["text": SparseVector(indices: [3, 17], values: [0.5, 1.2])])
/// ```
public struct PointStruct: Sendable, Equatable {
    /// The point's id: an unsigned integer or a UUID.
    public var id: PointID
    /// Vectors by name; use `""` for a collection's unnamed vector. A
    /// multivector is given as its rows back to back (rows × size floats).
    public var vectors: [String: [Float]]
    /// The point's JSON payload (a JSON object); nil: none.
    public var payload: Payload?
    /// Sparse vectors by name (the collection's `sparseVectors`).
    public var sparseVectors: [String: SparseVector]

    /// Creates a point with dense `vectors` by name, an optional `payload` and
    /// sparse vectors by name.
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
    /// The point's id.
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

    /// Creates a record of point `id` last written by operation `version`,
    /// with what was asked for of its payload and vectors.
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
///
/// What every query, search and group returns, best first: the point, its
/// score and, when asked for, its payload and vectors.
public struct ScoredPoint: Sendable, Equatable {
    /// The point's id.
    public var id: PointID
    /// The op number that last wrote this point.
    public var version: UInt64
    /// Qdrant's score: similarity for Cosine/Dot (higher is better), distance
    /// for Euclid/Manhattan (lower is better).
    public var score: Float
    /// Present when asked for (`withPayload`).
    public var payload: Payload?
    /// Dense vectors by name, present when asked for (`withVector`), as
    /// `Record.vectors` returns them.
    public var vectors: [String: [Float]]?
    /// The value an `orderBy` query ordered this point by (nil otherwise).
    public var orderValue: Double?
    /// Sparse vectors by name, present when asked for (`withVector`).
    public var sparseVectors: [String: SparseVector]?

    /// Creates a hit of point `id` with its `score` and what was asked for.
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
