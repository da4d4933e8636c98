import StrataSegment
import StrataVectorMath

extension CollectionConfig {
    /// Names of the vectors stored as multivectors, sorted.
    var multiVectorNames: [String] { vectors.keys.filter { vectors[$0]!.isMultiVector }.sorted() }

    /// The point as the segment writer takes it, from its stored vectors (a
    /// multivector as its rows): each multivector goes to `multiVectors` and its
    /// aggregate to `vectors`, where graphs and quantization are built over it.
    func segmentBuildPoint(
        id: PointID, version: UInt64, vectors stored: [String: [Float]], payload: Payload?,
        sparseVectors: [String: SparseVector]
    ) -> SegmentBuildPoint {
        var point = SegmentBuildPoint(
            id: id, version: version, vectors: stored, payload: payload, sparseVectors: sparseVectors)
        for (name, rows) in stored {
            guard let params = vectors[name], params.isMultiVector else { continue }
            point.multiVectors[name] = rows
            point.vectors[name] = rows.withUnsafeBufferPointer {
                MaxSim.aggregate(rows: $0, dim: params.size, metric: params.distance)
            }
        }
        return point
    }
}
