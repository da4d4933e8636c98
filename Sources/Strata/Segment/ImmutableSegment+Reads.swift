import StrataPayload
import StrataSegment
import StrataVectorMath

// The read protocol (ReadableSegment.swift) over an immutable segment. Points
// are stored in id order, so offsets ascend with ids and a filter's bitset
// lists matches in id order. Methods may throw `SegmentError` when a payload
// block they read fails its checksum.

extension ImmutableSegment: ReadableSegment {
    func search(_ request: SegmentSearchRequest, context: SegmentReadContext) throws -> [SegmentHit] {
        guard request.limit > 0 else { return [] }
        let allowed = try request.filter.map {
            try SegmentFilter.matching($0, in: self, settings: context.filterSettings)
        }
        return searchHits(request, allowed: allowed).map { hit(at: $0.offset, score: $0.score) }
    }

    func sparseSearch(_ request: SparseSearchRequest, context: SegmentReadContext) throws -> [SegmentHit] {
        guard let sections = sparse[request.vector], request.limit > 0 else { return [] }
        let allowed = try request.filter.map {
            try SegmentFilter.matching($0, in: self, settings: context.filterSettings)
        }
        let found: [(offset: Int, score: Float)]
        if let allowed, allowed.cardinality <= request.fullScanThreshold {
            // Few matches: score them from their stored vectors (Qdrant's plain search).
            var selector = TopKSelector(k: request.limit, higherIsBetter: true)
            allowed.forEach { offset in
                guard let vector = sections.vectors.vector(at: offset) else { return }
                let score = SparseVector.dot(request.query, vector).score
                if score != 0 { selector.insert(id: offset, score: score) }
            }
            found = selector.sorted().map { (offset: $0.id, score: $0.score) }
        } else {
            let excluded = allowed.map { $0.inverted().words } ?? deletedBits
            found = excluded.withUnsafeBufferPointer {
                sections.index.search(request.query, limit: request.limit, excluded: $0.baseAddress)
            }
        }
        return found.map { hit(at: $0.offset, score: $0.score) }
    }

    func scoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (UnsafeBufferPointer<Float>) -> Float
    ) throws -> [SegmentHit] {
        guard limit > 0, !hiddenVectors.contains(name) else { return [] }
        let offsets = try matches(filter, context: context)
        let absent = Set(absentOffsets[name] ?? [])
        var hits: [SegmentHit] = []
        func add(_ offset: Int, _ vector: UnsafeBufferPointer<Float>) {
            let value = score(vector)
            if !value.isNaN { hits.append(hit(at: offset, score: value)) }
        }
        if multiVectorNames.contains(name) {
            // A multivector: its rows back to back.
            offsets.forEach { offset in
                guard !absent.contains(offset) else { return }
                _ = reader.withMultiVectorRows(name, at: offset) { rows, count in
                    if count > 0 { add(offset, rows) }
                }
            }
        } else {
            _ = withVectorRows(name) { rows in
                var row = [Float](repeating: 0, count: rows.dimension)
                row.withUnsafeMutableBufferPointer { row in
                    offsets.forEach { offset in
                        guard !absent.contains(offset) else { return }
                        rows.decodeRow(offset, into: row.baseAddress!)
                        add(offset, UnsafeBufferPointer(row))
                    }
                }
            }
        }
        return hits.best(limit)
    }

    func sparseScoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (SparseVector) -> Float
    ) throws -> [SegmentHit] {
        guard limit > 0, let sections = sparse[name] else { return [] }
        var hits: [SegmentHit] = []
        try matches(filter, context: context).forEach { offset in
            guard let vector = sections.vectors.vector(at: offset) else { return }
            let value = score(vector)
            if !value.isNaN { hits.append(hit(at: offset, score: value)) }
        }
        return hits.best(limit)
    }

    func matchingIDs(_ filter: Filter, context: SegmentReadContext) throws -> [PointID] {
        var ids: [PointID] = []
        try matches(filter, context: context).forEach { ids.append(reader.id(at: $0)) }
        return ids
    }

    func count(_ filter: Filter?, exact: Bool, context: SegmentReadContext) throws -> Int {
        guard let filter, !filter.isEmpty else { return liveCount }
        guard exact else { return SegmentFilter.estimate(filter, in: self, liveCount: liveCount) }
        return try matches(filter, context: context).cardinality
    }

    func scroll(from start: PointID?, filter: Filter?, limit: Int, context: SegmentReadContext) throws -> [PointID] {
        let wanted = max(limit, 0)
        guard wanted > 0 else { return [] }
        var first = 0
        if let start {
            // Offsets ascend with ids: the first offset whose id is ≥ start.
            var high = reader.pointCount
            while first < high {
                let mid = (first + high) / 2
                if reader.id(at: mid) < start { first = mid + 1 } else { high = mid }
            }
        }
        var ids: [PointID] = []
        if let filter {
            let allowed = try SegmentFilter.matching(filter, in: self, settings: context.filterSettings)
            for offset in allowed.offsets where offset >= first {
                ids.append(reader.id(at: offset))
                if ids.count == wanted { break }
            }
            return ids
        }
        var offset = first
        while offset < reader.pointCount && ids.count < wanted {
            if tombstones[UInt32(offset)] == nil { ids.append(reader.id(at: offset)) }
            offset += 1
        }
        return ids
    }

    func record(_ id: PointID, withPayload: Bool, withVector: Bool) throws -> Record? {
        guard let offset = liveOffset(of: id) else { return nil }
        return try record(at: offset, withPayload: withPayload, withVector: withVector)
    }

    func facetCounts(
        _ key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, context: SegmentReadContext
    ) throws
        -> [IndexKey: Int]
    {
        guard let index = fieldIndexes[key] else { return [:] }
        return index.facetCounts(allowed: try matches(filter, context: context))
    }

    func ordered(
        by key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, descending: Bool,
        context: SegmentReadContext
    ) throws -> [(id: PointID, value: Double)] {
        guard let index = fieldIndexes[key] else { return [] }
        return index.ordered(allowed: try matches(filter, context: context), descending: descending)
            .map { (id: reader.id(at: $0.offset), value: $0.value) }
    }

    /// The live offsets matching `filter`, all live offsets without one.
    private func matches(_ filter: Filter?, context: SegmentReadContext) throws -> PointBitset {
        guard let filter else { return filterLivePoints() }
        return try SegmentFilter.matching(filter, in: self, settings: context.filterSettings)
    }

    private func hit(at offset: Int, score: Float) -> SegmentHit {
        SegmentHit(id: reader.id(at: offset), version: reader.version(at: offset), score: score)
    }
}
