import StrataPayload
import StrataSegment
import StrataVectorMath

/// Sparse vector search over every segment (docs/format/sparse-index.md).
extension CollectionStore {
    /// Live points with sparse vector `name` and, per term of `terms`
    /// (ascending), how many of them hold it: the statistics of the `idf`
    /// modifier, over the whole collection.
    func sparseStatistics(_ name: String, terms: [UInt32]) -> (points: Int, df: [Int]) {
        lock.withReadLock {
            var points = 0
            var df = [Int](repeating: 0, count: terms.count)
            func add(_ part: (points: Int, df: [Int])) {
                points += part.points
                for i in df.indices { df[i] += part.df[i] }
            }
            add(mutable.sparseStatistics(name, terms: terms))
            for segment in frozen { add(segment.segment.sparseStatistics(name, terms: terms, excluded: segment.tombstones)) }
            for segment in immutables { add(segment.sparseStatistics(name, terms: terms)) }
            return (points, df)
        }
    }

    /// The exact top-`limit` live points by dot product of sparse vector
    /// `name` with the canonical `query` (weights already multiplied by IDF
    /// when the vector has that modifier), matching `filter`, best first, ties
    /// by id. Points scoring 0 are left out.
    func searchSparse(query: SparseVector, using name: String, limit: Int, filter: Filter?, withPayload: Bool, withVector: Bool)
        throws -> [ScoredPoint]
    {
        guard config.sparseVectors[name] != nil, limit > 0 else { return [] }
        return try lock.withReadLock {
            let matches = try filter.map { try matchesLocked($0) }
            var candidates: [(hit: SegmentHit, segment: Int?)] = []
            for hit in mutable.sparseHits(query: query, using: name, limit: limit, allowed: matches?.mutable) {
                candidates.append((hit, nil))
            }
            for (index, segment) in frozen.enumerated() {
                for hit in segment.segment.sparseHits(query: query, using: name, limit: limit, excluded: segment.tombstones,
                                                      allowed: matches?.frozen[index]) {
                    candidates.append((hit, nil))
                }
            }
            for (index, segment) in immutables.enumerated() {
                let allowed = matches?.immutables[index]
                let hits: [(offset: Int, score: Float)]
                if let allowed, allowed.cardinality <= sparseFullScanThreshold(name) {
                    // Few matches: score them from their stored vectors (Qdrant's plain search).
                    hits = segment.sparsePlainHits(query: query, using: name, limit: limit, offsets: allowed)
                } else {
                    hits = segment.sparseHits(query: query, using: name, limit: limit, allowed: allowed)
                }
                let reader = segment.reader
                for hit in hits {
                    candidates.append((SegmentHit(id: reader.id(at: hit.offset), version: reader.version(at: hit.offset), score: hit.score),
                                       index))
                }
            }
            candidates.sort { $0.hit.score != $1.hit.score ? $0.hit.score > $1.hit.score : $0.hit.id < $1.hit.id }
            var results: [ScoredPoint] = []
            for candidate in candidates.prefix(limit) {
                var point = ScoredPoint(id: candidate.hit.id, version: candidate.hit.version, score: candidate.hit.score)
                if withPayload || withVector, let record = try recordLocked(point.id, withPayload: withPayload, withVector: withVector) {
                    point.payload = record.payload
                    point.vectors = record.vectors
                    point.sparseVectors = record.sparseVectors
                }
                results.append(point)
            }
            return results
        }
    }

    /// Qdrant's `full_scan_threshold` for sparse vectors (default 5000 points).
    func sparseFullScanThreshold(_ name: String) -> Int {
        config.sparseVectors[name]?.index?.fullScanThreshold ?? 5000
    }

    /// Every live point matching `filter` (all without one) that has sparse
    /// vector `name`, scored by `score` over that vector: the best `limit`,
    /// best first, ties by id; NaN scores are left out. Exact: reads every
    /// matching vector (the custom objectives of recommend, discover and
    /// context, as `scanScored` does for dense vectors).
    func scanSparseScored(using name: String, filter: Filter?, limit: Int, score: (SparseVector) -> Float) throws -> [ScoredPoint] {
        guard limit > 0, config.sparseVectors[name] != nil else { return [] }
        return try lock.withReadLock {
            let matches = try matchesLocked(filter ?? Filter())
            var hits: [ScoredPoint] = []
            func add(_ id: PointID, _ version: UInt64, _ vector: SparseVector) {
                let value = score(vector)
                if !value.isNaN { hits.append(ScoredPoint(id: id, version: version, score: value)) }
            }
            mutable.forEachSparseVector(name, slots: matches.mutable, add)
            for (segment, bits) in zip(frozen, matches.frozen) { segment.segment.forEachSparseVector(name, slots: bits, add) }
            for (segment, bits) in zip(immutables, matches.immutables) {
                guard let sections = segment.sparse[name] else { continue }
                let reader = segment.reader
                bits.forEach { offset in
                    guard let vector = sections.vectors.vector(at: offset) else { return }
                    add(reader.id(at: offset), reader.version(at: offset), vector)
                }
            }
            hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            return Array(hits.prefix(limit))
        }
    }

    /// The sparse vector `name` of each live point of `ids` that has one.
    func sparseVectors(_ name: String, of ids: [PointID]) throws -> [PointID: (version: UInt64, vector: SparseVector)] {
        var result: [PointID: (version: UInt64, vector: SparseVector)] = [:]
        for record in try retrieve(ids, withPayload: false, withVector: true) {
            if let vector = record.sparseVectors?[name] { result[record.id] = (record.version, vector) }
        }
        return result
    }
}

extension ImmutableSegment {
    /// Exact top-`limit` of the points in `offsets` (live, filter matches) by
    /// their stored sparse vectors: a few random reads of the forward section.
    func sparsePlainHits(query: SparseVector, using name: String, limit: Int, offsets: PointBitset) -> [(offset: Int, score: Float)] {
        guard let sections = sparse[name], limit > 0 else { return [] }
        var selector = TopKSelector(k: limit, higherIsBetter: true)
        offsets.forEach { offset in
            guard let vector = sections.vectors.vector(at: offset) else { return }
            let score = SparseVector.dot(query, vector).score
            if score != 0 { selector.insert(id: offset, score: score) }
        }
        return selector.sorted().map { (offset: $0.id, score: $0.score) }
    }
}
