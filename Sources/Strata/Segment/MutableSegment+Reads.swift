import StrataPayload
import StrataSegment
import StrataVectorMath

// The read protocol (ReadableSegment.swift) over the mutable segment's slots.
// Every read takes `excluded`: the ids a frozen segment's tombstones hide
// (empty for the active mutable segment), so `FrozenSegment` answers through
// the same code. Slots are not in id order: answers are sorted where the
// protocol asks for an order.

extension MutableSegment: ReadableSegment {
    var liveCount: Int { pointCount }

    func search(_ request: SegmentSearchRequest, context: SegmentReadContext) throws -> [SegmentHit] {
        // indexed_only (Qdrant's meaning): a mutable segment past the full-scan
        // threshold counts as unindexed and is left out.
        if request.params.indexedOnly && vectorBytes >= request.fullScanBytes { return [] }
        return try search(request, context: context, excluded: [:])
    }

    func sparseSearch(_ request: SparseSearchRequest, context: SegmentReadContext) throws -> [SegmentHit] {
        try sparseSearch(request, context: context, excluded: [:])
    }

    func sparseStatistics(
        _ name: String, terms: [UInt32], corpus: Filter?, context: SegmentReadContext
    ) throws
        -> SparseStatistics
    {
        try sparseStatistics(name, terms: terms, corpus: corpus, context: context, excluded: [:])
    }

    func scoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (UnsafeBufferPointer<Float>) -> Float
    ) throws -> [SegmentHit] {
        try scoredScan(using: name, filter: filter, limit: limit, context: context, excluded: [:], score: score)
    }

    func sparseScoredScan(
        using name: String, filter: Filter?, limit: Int, context: SegmentReadContext,
        score: (SparseVector) -> Float
    ) throws -> [SegmentHit] {
        try sparseScoredScan(using: name, filter: filter, limit: limit, context: context, excluded: [:], score: score)
    }

    func matchingIDs(_ filter: Filter, context: SegmentReadContext) throws -> [PointID] {
        try matchingIDs(filter, context: context, excluded: [:])
    }

    func count(_ filter: Filter?, exact: Bool, context: SegmentReadContext) throws -> Int {
        // In RAM and small: always counted exactly.
        try count(filter, context: context, excluded: [:])
    }

    func scroll(from start: PointID?, filter: Filter?, limit: Int, context: SegmentReadContext) throws -> [PointID] {
        try scroll(from: start, filter: filter, limit: limit, context: context, excluded: [:])
    }

    func record(_ id: PointID, withPayload: Bool, withVector: Bool) throws -> Record? {
        slotOf[id].map { record(slot: $0, withPayload: withPayload, withVector: withVector) }
    }

    func facetCounts(
        _ key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, context: SegmentReadContext
    ) throws
        -> [IndexKey: Int]
    {
        try facetCounts(key, schema: schema, filter: filter, context: context, excluded: [:])
    }

    func ordered(
        by key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, descending: Bool,
        context: SegmentReadContext
    ) throws -> [(id: PointID, value: Double)] {
        try ordered(by: key, schema: schema, filter: filter, descending: descending, context: context, excluded: [:])
    }
}

extension MutableSegment {
    // MARK: - Filtering

    /// The slots of live points (ids in `excluded` left out) matching
    /// `filter`, all of them without one. Indexed fields of the schema are
    /// answered through field indexes built from this segment's payloads.
    func matches(_ filter: Filter?, context: SegmentReadContext, excluded: [PointID: UInt64]) throws -> PointBitset {
        let view = FilterView(segment: self, schema: context.payloadSchema, excluded: excluded)
        guard let filter else { return view.filterLivePoints() }
        return try SegmentFilter.matching(filter, in: view, settings: context.filterSettings)
    }

    /// The field index of `key` over the current slots, built on first use
    /// after a change.
    func cachedIndex(_ key: PayloadPath, schema: PayloadFieldSchema) -> FieldIndex {
        let current = generation
        if let cached = indexCache.withLock({ $0[key] }), cached.generation == current, cached.index.schema == schema {
            return cached.index
        }
        let index = FieldIndex.build(key: key, schema: schema, pointCount: ids.count) { slot in
            ids[slot] == nil ? nil : payloads[slot]
        }
        indexCache.withLock { $0[key] = CachedIndex(generation: current, index: index) }
        return index
    }

    func matchingIDs(_ filter: Filter, context: SegmentReadContext, excluded: [PointID: UInt64]) throws -> [PointID] {
        ids(ofSlots: try matches(filter, context: context, excluded: excluded))
    }

    func count(_ filter: Filter?, context: SegmentReadContext, excluded: [PointID: UInt64]) throws -> Int {
        guard let filter, !filter.isEmpty else { return pointCount - excluded.count }
        return try matches(filter, context: context, excluded: excluded).cardinality
    }

    func scroll(
        from start: PointID?, filter: Filter?, limit: Int, context: SegmentReadContext,
        excluded: [PointID: UInt64]
    ) throws -> [PointID] {
        var found: [PointID]
        if let filter {
            found = ids(ofSlots: try matches(filter, context: context, excluded: excluded))
        } else {
            found = slotOf.keys.filter { excluded[$0] == nil }
        }
        if let start { found.removeAll { $0 < start } }
        found.sort()
        return Array(found.prefix(max(limit, 0)))
    }

    func facetCounts(
        _ key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, context: SegmentReadContext,
        excluded: [PointID: UInt64]
    ) throws -> [IndexKey: Int] {
        let slots = try matches(filter, context: context, excluded: excluded)
        return cachedIndex(key, schema: schema).facetCounts(allowed: slots)
    }

    func ordered(
        by key: PayloadPath, schema: PayloadFieldSchema, filter: Filter?, descending: Bool,
        context: SegmentReadContext, excluded: [PointID: UInt64]
    ) throws -> [(id: PointID, value: Double)] {
        let slots = try matches(filter, context: context, excluded: excluded)
        return cachedIndex(key, schema: schema).ordered(allowed: slots, descending: descending).compactMap { entry in
            ids[entry.offset].map { (id: $0, value: entry.value) }
        }
    }

    /// The ids of these slots (free slots left out).
    private func ids(ofSlots slots: PointBitset) -> [PointID] {
        var result: [PointID] = []
        slots.forEach { if $0 < ids.count, let id = ids[$0] { result.append(id) } }
        return result
    }

    /// A view for filter evaluation.
    private struct FilterView: FilterableSegment {
        let segment: MutableSegment
        let schema: [PayloadPath: PayloadFieldSchema]
        let excluded: [PointID: UInt64]

        var filterPointCount: Int { segment.ids.count }

        func filterLivePoints() -> PointBitset {
            var live = PointBitset(count: segment.ids.count)
            for (slot, id) in segment.ids.enumerated() {
                if let id, excluded[id] == nil { live.insert(slot) }
            }
            return live
        }

        func filterIndex(for key: PayloadPath) -> FieldIndex? {
            schema[key].map { segment.cachedIndex(key, schema: $0) }
        }

        func filterOffsets(of wanted: Set<PointID>) -> [Int] { wanted.compactMap { segment.slotOf[$0] } }

        func filterHasVector(_ name: String, at slot: Int) -> Bool {
            if let column = segment.sparseIndex[name] { return segment.sparseColumns[column].vectors[slot] != nil }
            guard let column = segment.columnIndex[name] else { return false }
            return segment.columns[column].present[slot]
        }

        func filterSubject(at slot: Int) throws -> FilterSubject {
            let segment = self.segment
            var present = Dictionary(uniqueKeysWithValues: segment.columns.map { ($0.name, $0.present[slot]) })
            for column in segment.sparseColumns { present[column.name] = column.vectors[slot] != nil }
            return FilterSubject(
                id: segment.ids[slot]!, payload: segment.payloads[slot], hasVector: { present[$0] ?? false })
        }
    }
}
