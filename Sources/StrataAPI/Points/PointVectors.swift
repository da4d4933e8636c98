import StrataModel
import StrataPayload
/// New vectors for one point (`WriteOperation.updateVectors`).
public struct PointVectors: Sendable, Equatable {
    public var id: PointID
    public var vectors: [String: [Float]]
    public var sparseVectors: [String: SparseVector]

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
