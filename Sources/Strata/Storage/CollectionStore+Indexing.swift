import StrataHNSW
import StrataSegment

/// The vector indexes written into each new immutable segment.
extension CollectionStore {
    /// Builds the HNSW graph of every vector of `points` whose vectors take at
    /// least the indexing threshold (`optimizers_config.indexing_threshold_kb`)
    /// and whose `hnsw_config.m` is not 0. Smaller segments are scanned exactly:
    /// for them a scan is as fast as a graph walk.
    func buildVectorIndexes(for points: [SegmentBuildPoint]) -> [SegmentVectorIndex] {
        var indexes: [SegmentVectorIndex] = []
        for name in config.vectors.keys.sorted() {
            let params = config.vectors[name]!
            let hnsw = config.hnsw(for: name)
            let present = points.reduce(0) { $0 + ($1.vectors[name] == nil ? 0 : 1) }
            guard hnsw.m > 0, present * params.size * 4 >= config.optimizers.indexingThresholdKB * 1024 else { continue }
            // One contiguous copy of the rows in segment order: the builder's
            // distance kernels stream rows from it.
            var rows = [Float](repeating: 0, count: points.count * params.size)
            rows.withUnsafeMutableBufferPointer { buffer in
                for (index, point) in points.enumerated() {
                    guard let vector = point.vectors[name] else { continue }
                    vector.withUnsafeBufferPointer {
                        (buffer.baseAddress! + index * params.size).update(from: $0.baseAddress!, count: params.size)
                    }
                }
            }
            let image = rows.withUnsafeBufferPointer { buffer in
                HNSWBuilder.build(
                    rows: buffer.baseAddress!, dimension: params.size, count: points.count, metric: params.distance,
                    isPresent: { points[$0].vectors[name] != nil },
                    parameters: HNSWBuildParameters(m: hnsw.m, efConstruct: hnsw.efConstruct, seed: hnsw.seed,
                                                    threads: hnsw.maxIndexingThreads))
            }
            indexes.append(SegmentVectorIndex(kind: .hnswGraph, vectorName: name, bytes: image))
        }
        return indexes
    }
}
