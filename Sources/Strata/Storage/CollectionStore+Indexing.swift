import Foundation
import StrataHNSW
import StrataQuantization
import StrataSegment
import StrataVectorMath

/// The vector indexes written into each new immutable segment.
extension CollectionStore {
    /// Builds the HNSW graph of every vector of `points` whose vectors (a
    /// multivector's rows) take at least the indexing threshold (`optimizers_config.indexing_threshold_kb`)
    /// and whose `hnsw_config.m` is not 0, and the quantized codes of those
    /// vectors when `quantization_config` asks for them. Smaller segments are
    /// scanned exactly: for them a scan is as fast as a graph walk.
    ///
    /// `reusing`: per vector name, a graph of a merge input to build on.
    func buildVectorIndexes(
        for points: [SegmentBuildPoint], reusing seeds: [String: HNSWSeedGraph] = [:]
    ) throws
        -> [SegmentVectorIndex]
    {
        var indexes: [SegmentVectorIndex] = []
        for name in config.vectors.keys.sorted() {
            let params = config.vectors[name]!
            let hnsw = config.hnsw(for: name)
            // A multivector counts with all its rows: they are what an exact scan reads.
            let floats = points.reduce(0) { total, point in
                total
                    + (params.isMultiVector
                        ? point.multiVectors[name]?.count ?? 0 : point.vectors[name] == nil ? 0 : params.size)
            }
            // Qdrant's threshold counts the bytes the vectors are stored in.
            let storedBytes = floats * params.storedDatatype.bytesPerElement
            guard hnsw.m > 0, storedBytes >= config.optimizers.indexingThresholdKB * 1024 else { continue }
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
            if params.scoresRawCosine {
                // Raw-cosine (uint8) rows: graph and codes over their unit
                // vectors, where a dot product is their cosine.
                for index in points.indices {
                    var row = Array(rows[index * params.size..<(index + 1) * params.size])
                    if VectorKernels.normalize(&row) {
                        rows.replaceSubrange(index * params.size..<(index + 1) * params.size, with: row)
                    }
                }
            }
            let image: [UInt8]
            do {
                image = try rows.withUnsafeBufferPointer { buffer in
                    try HNSWBuilder.build(
                        rows: buffer.baseAddress!, dimension: params.size, count: points.count,
                        metric: params.distance, isPresent: { points[$0].vectors[name] != nil },
                        parameters: HNSWBuildParameters(
                            m: hnsw.m, efConstruct: hnsw.efConstruct, seed: hnsw.seed,
                            threads: hnsw.maxIndexingThreads),
                        startingFrom: seeds[name], shouldStop: { self.isStopping })
                }
            } catch let stopped as HNSWBuildStopped {
                // Closing: the segment is not written; its points stay in the
                // WAL (or in the published segments a merge was reading), and
                // the next open builds it again.
                throw StrataError(
                    .closed,
                    "collection `\(self.name)` is closing: the graph build of a new segment stopped at \(stopped.inserted) of \(stopped.total) points; nothing is lost (the next open builds it again)"
                )
            }
            indexes.append(SegmentVectorIndex(kind: .hnswGraph, vectorName: name, bytes: image))
            if let quantization = config.quantization(for: name) {
                let codes = try rows.withUnsafeBufferPointer { buffer in
                    try QuantizedVectors.train(
                        method: quantization.method, metric: params.distance, dimension: params.size,
                        count: points.count,
                        vectors: buffer.baseAddress!, isPresent: { points[$0].vectors[name] != nil }, seed: hnsw.seed,
                        threads: hnsw.maxIndexingThreads > 0
                            ? hnsw.maxIndexingThreads : ProcessInfo.processInfo.activeProcessorCount)
                }
                indexes.append(SegmentVectorIndex(kind: .quantizedVectors, vectorName: name, bytes: codes.encoded()))
            }
        }
        return indexes
    }

    /// For a merge of `inputs` into `points` (sorted by id): per vector name,
    /// the graph of the input holding the most carried-over points, renumbered
    /// into the merged segment, when few of its points were dropped (a vacuum,
    /// which drops many, rebuilds: dropped nodes leave holes in the links).
    func mergeSeeds(
        inputs: [ImmutableSegment], keep: (ImmutableSegment, Int) -> Bool, into points: [SegmentBuildPoint]
    )
        -> [String: HNSWSeedGraph]
    {
        var seeds: [String: HNSWSeedGraph] = [:]
        for name in config.vectors.keys {
            guard
                let largest = inputs.filter({ $0.graphs[name] != nil }).max(by: {
                    $0.reader.pointCount < $1.reader.pointCount
                }),
                let graph = largest.graphs[name], graph.m == config.hnsw(for: name).m
            else { continue }
            let reader = largest.reader
            var nodeMap = [UInt32](repeating: .max, count: reader.pointCount)
            var dropped = 0
            for offset in 0..<reader.pointCount {
                guard keep(largest, offset), let index = points.binarySearch(reader.id(at: offset)) else {
                    dropped += 1
                    continue
                }
                nodeMap[offset] = UInt32(index)
            }
            guard Double(dropped) <= 0.1 * Double(reader.pointCount) else { continue }
            seeds[name] = HNSWSeedGraph(graph: graph, nodeMap: nodeMap)
        }
        return seeds
    }
}

extension [SegmentBuildPoint] {
    /// Index of the point with `id` in an array sorted by id.
    func binarySearch(_ id: PointID) -> Int? {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low < count && self[low].id == id ? low : nil
    }
}
