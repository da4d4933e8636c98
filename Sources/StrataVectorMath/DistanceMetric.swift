/// How two vectors are compared, with Qdrant's names and score conventions.
///
/// | metric       | score                      | better |
/// |--------------|----------------------------|--------|
/// | `.cosine`    | dot product of unit vectors | higher |
/// | `.dot`       | dot product                 | higher |
/// | `.euclid`    | Euclidean distance, √Σ(a−b)² | lower  |
/// | `.manhattan` | L1 distance, Σ\|a−b\|       | lower  |
///
/// Cosine is scored as a plain dot product: the caller normalises every stored
/// vector and every query with ``VectorKernels/normalize(_:)`` first, so the
/// per-comparison cost is the same as `.dot`.
///
/// The raw values are Qdrant's distance names and are persisted (`Codable`);
/// never rename them.
public enum DistanceMetric: String, Sendable, CaseIterable, Codable {
    case cosine = "Cosine"
    case dot = "Dot"
    case euclid = "Euclid"
    case manhattan = "Manhattan"

    /// True when a larger score means a closer match (`.cosine`, `.dot`);
    /// false for the distances (`.euclid`, `.manhattan`).
    public var higherIsBetter: Bool {
        switch self {
        case .cosine, .dot: true
        case .euclid, .manhattan: false
        }
    }
}
