import StrataPayload
import StrataSegment

/// A mutable segment that stopped taking writes and waits to be written as an
/// immutable segment. Deletions against it are kept beside it.
///
/// Thread safety: `segment` is never written again, so it is read with the
/// owning store's lock held shared, or by the optimizer without the lock.
/// `tombstones` is guarded by the owning store's lock.
final class FrozenSegment {
    let segment: MutableSegment
    /// Every operation up to this one is reflected here or in older segments.
    let sealOpNum: UInt64
    /// Point id → op number of the operation that deleted or superseded it.
    var tombstones: [PointID: UInt64] = [:]

    init(segment: MutableSegment, sealOpNum: UInt64) {
        self.segment = segment
        self.sealOpNum = sealOpNum
    }
}

extension FrozenSegment: ReadableSegment {
    var liveCount: Int { segment.pointCount - tombstones.count }

    func search(_ request: SegmentSearchRequest, context: SegmentReadContext) throws -> [SegmentHit] {
        // indexed_only: a segment waiting for the optimizer is not indexed.
        if request.params.indexedOnly { return [] }
        return try segment.search(request, context: context, excluded: tombstones)
    }

    func sparseSearch(_ request: SparseSearchRequest, context: SegmentReadContext) throws -> [SegmentHit] {
        try segment.sparseSearch(request, context: context, excluded: tombstones)
    }

    func sparseStatistics(
        _ name: String, terms: [UInt32], corpus: Filter?, context: SegmentReadContext
    ) throws
        -> SparseStatistics
    {
        try segment.sparseStatistics(name, terms: terms, corpus: corpus, context: context, excluded: tombstones)
    }

    func scoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (UnsafeBufferPointer<Float>) -> Float
    ) throws -> [SegmentHit] {
        try segment.scoredScan(
            using: name, filter: filter, limit: limit, context: context, excluded: tombstones, score: score)
    }

    func sparseScoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (SparseVector) -> Float
    ) throws -> [SegmentHit] {
        try segment.sparseScoredScan(
            using: name, filter: filter, limit: limit, context: context, excluded: tombstones,
            score: score)
    }

    func matchingIDs(_ filter: Filter, context: SegmentReadContext) throws -> [PointID] {
        try segment.matchingIDs(filter, context: context, excluded: tombstones)
    }

    func count(_ filter: Filter?, exact: Bool, context: SegmentReadContext) throws -> Int {
        try segment.count(filter, context: context, excluded: tombstones)
    }

    func scroll(from start: PointID?, filter: Filter?, limit: Int, context: SegmentReadContext) throws -> [PointID] {
        try segment.scroll(from: start, filter: filter, limit: limit, context: context, excluded: tombstones)
    }

    func record(_ id: PointID, withPayload: Bool, withVector: Bool) throws -> Record? {
        guard tombstones[id] == nil else { return nil }
        return try segment.record(id, withPayload: withPayload, withVector: withVector)
    }

    func facetCounts(
        _ key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, context: SegmentReadContext
    ) throws
        -> [IndexKey: Int]
    {
        try segment.facetCounts(key, schema: schema, filter: filter, context: context, excluded: tombstones)
    }

    func ordered(
        by key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, descending: Bool,
        context: SegmentReadContext
    ) throws -> [(id: PointID, value: Double)] {
        try segment.ordered(
            by: key, schema: schema, filter: filter, descending: descending, context: context,
            excluded: tombstones)
    }
}
