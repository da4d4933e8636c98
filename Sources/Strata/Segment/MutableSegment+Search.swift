import StrataPayload
import StrataSegment
import StrataVectorMath

// Searches and scored scans of the mutable segment: always exact (the segment
// is small and in RAM), over the slots a filter matched and that `excluded`
// (a frozen segment's tombstones) does not hide.

extension MutableSegment {
    /// Exact top-`request.limit` by scanning every point that has the vector.
    func search(
        _ request: SegmentSearchRequest, context: SegmentReadContext, excluded: [PointID: UInt64]
    ) throws
        -> [SegmentHit]
    {
        guard let index = columnIndex[request.vector], request.limit > 0 else { return [] }
        let allowed = try request.filter.map { try matches($0, context: context, excluded: excluded) }
        let column = columns[index]
        if column.isMulti {
            return multiVectorSearch(
                column, query: request.query, limit: request.limit, excluded: excluded, allowed: allowed)
        }
        let dim = column.dim
        let slotCount = ids.count
        var selector = TopKSelector(k: request.limit, higherIsBetter: column.distance.higherIsBetter)
        let chunk = 2048
        var scores = [Float](repeating: 0, count: chunk)
        let queryNorm =
            column.rawCosine ? request.query.withUnsafeBufferPointer { VectorKernels.dot($0, $0) }.squareRoot() : 0
        request.query.withUnsafeBufferPointer { queryBuffer in
            column.data.withUnsafeBufferPointer { base in
                scores.withUnsafeMutableBufferPointer { out in
                    var start = 0
                    while start < slotCount {
                        let n = min(chunk, slotCount - start)
                        VectorKernels.scoreBatch(
                            metric: column.distance, query: queryBuffer.baseAddress!,
                            base: base.baseAddress! + start * dim, count: n, dim: dim,
                            into: out.baseAddress!)
                        if column.rawCosine {
                            // Cosine of raw vectors: the dot products over the norms (0 for a zero vector).
                            for i in 0..<n {
                                let norms = queryNorm * column.norms[start + i]
                                out[i] = norms > 0 ? out[i] / norms : 0
                            }
                        }
                        // Free slots, points without this vector and excluded ids
                        // never rank: the selector ignores NaN scores.
                        for i in 0..<n where !column.present[start + i] { out[i] = .nan }
                        if let allowed {
                            for i in 0..<n where start + i >= allowed.count || !allowed.contains(start + i) {
                                out[i] = .nan
                            }
                        }
                        if !excluded.isEmpty {
                            for i in 0..<n {
                                if let id = ids[start + i], excluded[id] != nil { out[i] = .nan }
                            }
                        }
                        selector.insert(scores: UnsafeBufferPointer(start: out.baseAddress!, count: n), firstID: start)
                        start += n
                    }
                }
            }
        }
        return selector.sorted().map { SegmentHit(id: ids[$0.id]!, version: versions[$0.id], score: $0.score) }
    }

    /// Exact top-`limit` by max_sim over the rows of multivector `column`
    /// (`query`: rows back to back).
    private func multiVectorSearch(
        _ column: VectorColumn, query: [Float], limit: Int, excluded: [PointID: UInt64],
        allowed: PointBitset?
    ) -> [SegmentHit] {
        var selector = TopKSelector(k: limit, higherIsBetter: column.distance.higherIsBetter)
        var scratch: [Float] = []
        let dim = column.dim
        query.withUnsafeBufferPointer { q in
            for (slot, rows) in column.rows.enumerated() {
                guard let rows, let id = ids[slot] else { continue }
                if let allowed, slot >= allowed.count || !allowed.contains(slot) { continue }
                if !excluded.isEmpty, excluded[id] != nil { continue }
                let score = rows.withUnsafeBufferPointer { r in
                    MaxSim.score(
                        metric: column.distance, query: q.baseAddress!, queryRows: q.count / dim, rows: r.baseAddress!,
                        rowCount: r.count / dim, dim: dim, scratch: &scratch)
                }
                selector.insert(id: slot, score: score)
            }
        }
        return selector.sorted().map { SegmentHit(id: ids[$0.id]!, version: versions[$0.id], score: $0.score) }
    }

    /// Exact top-`request.limit` by dot product over the points that have the
    /// sparse vector (brute force: this segment is small). Points scoring 0 are
    /// left out.
    func sparseSearch(
        _ request: SparseSearchRequest, context: SegmentReadContext, excluded: [PointID: UInt64]
    ) throws
        -> [SegmentHit]
    {
        guard let column = sparseIndex[request.vector], request.limit > 0 else { return [] }
        let allowed = try request.filter.map { try matches($0, context: context, excluded: excluded) }
        var hits: [SegmentHit] = []
        for (slot, vector) in sparseColumns[column].vectors.enumerated() {
            guard let vector, let id = ids[slot] else { continue }
            if let allowed, slot >= allowed.count || !allowed.contains(slot) { continue }
            if !excluded.isEmpty, excluded[id] != nil { continue }
            let score = SparseVector.dot(request.query, vector).score
            if score != 0 { hits.append(SegmentHit(id: id, version: versions[slot], score: score)) }
        }
        return hits.best(request.limit)
    }

    func sparseStatistics(
        _ name: String, terms: [UInt32], corpus: Filter?, context: SegmentReadContext, excluded: [PointID: UInt64]
    ) throws -> SparseStatistics {
        var statistics = SparseStatistics.zero(terms: terms.count)
        guard let column = sparseIndex[name] else { return statistics }
        let inCorpus = try corpus.map { try matches($0, context: context, excluded: excluded) }
        for (slot, vector) in sparseColumns[column].vectors.enumerated() {
            guard let vector, let id = ids[slot], excluded[id] == nil else { continue }
            if let inCorpus, slot >= inCorpus.count || !inCorpus.contains(slot) { continue }
            statistics.count(vector, terms: terms, as: 1)
        }
        return statistics
    }

    func scoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        excluded: [PointID: UInt64], score: (UnsafeBufferPointer<Float>) -> Float
    ) throws -> [SegmentHit] {
        guard let index = columnIndex[name], limit > 0 else { return [] }
        let slots = try matches(filter, context: context, excluded: excluded)
        let column = columns[index]
        var hits: [SegmentHit] = []
        func add(_ slot: Int, _ vector: UnsafeBufferPointer<Float>) {
            let value = score(vector)
            if !value.isNaN { hits.append(SegmentHit(id: ids[slot]!, version: versions[slot], score: value)) }
        }
        if column.isMulti {
            slots.forEach { slot in
                guard let rows = column.rows[slot] else { return }
                rows.withUnsafeBufferPointer { add(slot, $0) }
            }
        } else {
            let dim = column.dim
            column.data.withUnsafeBufferPointer { base in
                slots.forEach { slot in
                    guard column.present[slot] else { return }
                    add(slot, UnsafeBufferPointer(rebasing: base[slot * dim..<(slot + 1) * dim]))
                }
            }
        }
        return hits.best(limit)
    }

    func sparseScoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        excluded: [PointID: UInt64], score: (SparseVector) -> Float
    ) throws -> [SegmentHit] {
        guard let column = sparseIndex[name], limit > 0 else { return [] }
        let slots = try matches(filter, context: context, excluded: excluded)
        let vectors = sparseColumns[column].vectors
        var hits: [SegmentHit] = []
        slots.forEach { slot in
            guard let vector = vectors[slot] else { return }
            let value = score(vector)
            if !value.isNaN { hits.append(SegmentHit(id: ids[slot]!, version: versions[slot], score: value)) }
        }
        return hits.best(limit)
    }
}
