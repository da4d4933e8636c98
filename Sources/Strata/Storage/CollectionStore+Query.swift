import StrataPayload
import StrataSegment

/// Reads of the query executor (Query/QueryExecutor.swift) that need the
/// segments themselves.
extension CollectionStore {
    /// The best `limit` live points matching `filter` (all without one) that
    /// have vector `name`, scored by `score` over their stored vector (higher is
    /// better; NaN scores are left out), best first, ties by id. An exact scan of
    /// every segment: for the custom objectives (recommend best_score and
    /// sum_scores, discover, context), which no graph is built for.
    func scanScored(using name: String, filter: Filter?, limit: Int, score: @escaping (UnsafeBufferPointer<Float>) -> Float) throws
        -> [ScoredPoint]
    {
        guard limit > 0, config.vectors[name] != nil else { return [] }
        return try lock.withReadLock {
            let matches = try matchesLocked(filter ?? Filter())
            var hits: [ScoredPoint] = []
            func add(_ id: PointID, _ version: UInt64, _ vector: UnsafeBufferPointer<Float>) {
                let value = score(vector)
                if !value.isNaN { hits.append(ScoredPoint(id: id, version: version, score: value)) }
            }
            mutable.forEachVector(name, slots: matches.mutable, add)
            for (segment, bits) in zip(frozen, matches.frozen) { segment.segment.forEachVector(name, slots: bits, add) }
            for (segment, bits) in zip(immutables, matches.immutables) {
                let absent = Set(segment.absentOffsets[name] ?? [])
                let reader = segment.reader
                if segment.multiVectorNames.contains(name) {
                    // A multivector: its rows back to back.
                    bits.forEach { offset in
                        guard !absent.contains(offset) else { return }
                        _ = reader.withMultiVectorRows(name, at: offset) { rows, count in
                            if count > 0 { add(reader.id(at: offset), reader.version(at: offset), rows) }
                        }
                    }
                    continue
                }
                _ = segment.withVectors(name) { base, dim in
                    bits.forEach { offset in
                        guard !absent.contains(offset) else { return }
                        add(reader.id(at: offset), reader.version(at: offset), UnsafeBufferPointer(start: base + offset * dim, count: dim))
                    }
                }
            }
            hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            return Array(hits.prefix(limit))
        }
    }
}
