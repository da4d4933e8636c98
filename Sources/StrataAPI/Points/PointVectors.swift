import StrataModel
import StrataPayload
/// New vectors for one point (`WriteOperation.updateVectors`).
///
/// Qdrant's `PointVectors`: an update replaces the named vectors given and
/// keeps the point's other vectors and its payload.
public struct PointVectors: Sendable, Equatable {
    /// The point to update; it must exist.
    public var id: PointID
    /// Dense vectors to set, by name (a multivector as its rows back to back).
    public var vectors: [String: [Float]]
    /// Sparse vectors to set, by name.
    public var sparseVectors: [String: SparseVector]

    /// Creates an update of point `id` that sets these dense and sparse vectors.
    public init(id: PointID, vectors: [String: [Float]], sparseVectors: [String: SparseVector] = [:]) {
        self.id = id
        self.vectors = vectors
        self.sparseVectors = sparseVectors
    }
}

/// Qdrant's `update_mode` of an upsert.
public enum UpdateMode: String, Sendable, Equatable, CaseIterable {
    /// Insert new points, replace existing ones (the default).
    case upsert
    /// Insert new points only; existing points stay as they are.
    case insertOnly = "insert_only"
    /// Replace existing points only; new ids are ignored.
    case updateOnly = "update_only"
}
