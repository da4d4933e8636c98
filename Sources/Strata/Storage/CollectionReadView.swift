import StrataPayload
import StrataSegment
import StrataVectorMath

/// One consistent read of a collection: its segment set at one moment, every
/// read answered as one loop over the segments (`ReadableSegment`) plus one
/// merge.
///
/// Lifetime: only valid inside `CollectionStore.read`, which holds the store's
/// state lock shared for the closure; it must not escape it. Everything a
/// request reads inside one closure (hits, then their payloads) therefore
/// sees the same state: a point deleted meanwhile cannot shorten a page.
///
/// Errors: a damaged immutable segment surfaces as `.corruption` naming the
/// collection and the file; a `has_vector` condition naming no vector of the
/// collection as `.invalidArgument`.
struct CollectionReadView {
    let name: String
    let config: CollectionConfig
    /// The mutable segment, the frozen ones oldest first, then the immutable
    /// ones. A point id is live in at most one of them (`CollectionStore`'s
    /// invariant), so merges need no version comparison.
    let segments: [any ReadableSegment]
    let context: SegmentReadContext
    /// Checked before each segment is read (a query's; nil: never cancelled).
    var cancellation: Cancellation?
    /// Points matching this filter are invisible to every read of the view
    /// (the points expired when the read started, `TTLConfig.expired(at:)`).
    var hidden: Filter? = nil

    /// `filter` restricted to the visible points.
    private func visible(_ filter: Filter?) -> Filter? {
        guard let hidden else { return filter }
        guard let filter else { return Filter(mustNot: [.filter(hidden)]) }
        return Filter(must: [.filter(filter)], mustNot: [.filter(hidden)])
    }

    /// Whether a record (read with its payload) is hidden.
    private func isHidden(_ record: Record) -> Bool {
        guard let hidden else { return false }
        let subject = FilterSubject(
            id: record.id, payload: record.payload,
            hasVector: { name in record.vectors?[name] != nil || record.sparseVectors?[name] != nil })
        return hidden.matches(subject, settings: context.filterSettings)
    }

    /// Runs `body` over every segment, naming the collection in the
    /// corruption a damaged segment reports.
    private func eachSegment(_ body: (any ReadableSegment) throws -> Void) throws {
        for segment in segments { try read(segment, body) }
    }

    /// `body(segment)` unless the read is cancelled, naming the collection in
    /// the corruption a damaged segment reports.
    private func read<T>(_ segment: any ReadableSegment, _ body: (any ReadableSegment) throws -> T) throws -> T {
        try cancellation?.check()
        do {
            return try body(segment)
        } catch let error as SegmentError {
            throw StrataError(.corruption, "collection `\(name)`: \(error.description)", cause: error)
        }
    }

    private func collect<T>(_ body: (any ReadableSegment) throws -> [T]) throws -> [T] {
        var all: [T] = []
        try eachSegment { all += try body($0) }
        return all
    }

    /// Merges per-segment hits (each best first) into the best `limit`.
    private func merge(_ hits: [SegmentHit], limit: Int, higherIsBetter: Bool) -> [ScoredPoint] {
        var seen = Set<PointID>()
        var results: [ScoredPoint] = []
        for hit in hits.sorted(by: SegmentHit.order(higherIsBetter: higherIsBetter))
        where results.count < limit && seen.insert(hit.id).inserted {
            results.append(ScoredPoint(id: hit.id, version: hit.version, score: hit.score))
        }
        return results
    }

    // MARK: - Points

    func count() throws -> Int {
        guard hidden != nil else { return storedCount }
        return try count(filter: nil, exact: true)
    }

    /// Live points, hidden ones included.
    var storedCount: Int { segments.reduce(0) { $0 + $1.liveCount } }

    /// Points matching `filter` (all without one); `exact: false` lets
    /// immutable segments estimate from their index value counts.
    func count(filter: Filter?, exact: Bool) throws -> Int {
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        var total = 0
        try eachSegment { total += try $0.count(filter, exact: exact, context: context) }
        return total
    }

    /// The live point `id`.
    func record(_ id: PointID, withPayload: Bool, withVector: Bool) throws -> Record? {
        var found: Record?
        // The payload decides whether the point is hidden.
        let readPayload = withPayload || hidden != nil
        try eachSegment { segment in
            if found == nil { found = try segment.record(id, withPayload: readPayload, withVector: withVector) }
        }
        guard var record = found, !isHidden(record) else { return nil }
        if !withPayload { record.payload = nil }
        return record
    }

    /// The live points of `ids`, in the order asked (missing ones left out).
    func retrieve(_ ids: [PointID], withPayload: Bool, withVector: Bool) throws -> [Record] {
        try ids.compactMap { try record($0, withPayload: withPayload, withVector: withVector) }
    }

    /// `points` with payload and vectors attached as asked; points no longer
    /// live are dropped (none are, inside the read that found them).
    func attach(_ points: [ScoredPoint], withPayload: Bool, withVector: Bool) throws -> [ScoredPoint] {
        guard withPayload || withVector else { return points }
        return try points.compactMap { point in
            guard let record = try record(point.id, withPayload: withPayload, withVector: withVector) else {
                return nil
            }
            var attached = point
            attached.payload = record.payload
            attached.vectors = record.vectors
            attached.sparseVectors = record.sparseVectors
            return attached
        }
    }

    /// One page of points in id order from `offset` on, and the next page's first id.
    func scroll(
        offset: PointID?, limit: Int, filter: Filter?, withPayload: Bool, withVector: Bool
    ) throws
        -> (records: [Record], next: PointID?)
    {
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        // One more than the page, to know the next page's first id.
        let wanted = min(max(limit, 0), Int.max - 1) + 1
        let candidates = try collect { try $0.scroll(from: offset, filter: filter, limit: wanted, context: context) }
            .sorted()
        let page = candidates.prefix(max(limit, 0))
        let records = try page.compactMap { try record($0, withPayload: withPayload, withVector: withVector) }
        return (records, candidates.count > page.count ? candidates[page.count] : nil)
    }

    /// The ids of the points `filter` matches, sorted.
    func matchingIDs(_ filter: Filter) throws -> [PointID] {
        try requireKnownVectors(in: filter)
        let filter = visible(filter)!
        return try collect { try $0.matchingIDs(filter, context: context) }.sorted()
    }

    // MARK: - Searches

    /// The best `limit` points by dense vector (or multivector) `name` for the
    /// prepared `query`, without payload.
    func search(
        query: [Float], using name: String, limit: Int, params: SearchParams, filter: Filter?
    ) throws
        -> [ScoredPoint]
    {
        guard let vector = config.vectors[name], limit > 0 else { return [] }
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        let hnsw = config.hnsw(for: name)
        let request = SegmentSearchRequest(
            query: query, vector: name, distance: vector.distance, limit: limit, params: params,
            defaultEf: hnsw.efConstruct,
            fullScanBytes: hnsw.fullScanThresholdKB * 1024, filter: filter)
        // Each segment's walk on an idle core when there are any (SegmentFanOut).
        let hits = try SegmentFanOut.map(segments) { segment in
            try read(segment) { try $0.search(request, context: context) }
        }
        return merge(hits.flatMap { $0 }, limit: limit, higherIsBetter: vector.distance.higherIsBetter)
    }

    /// The exact best `limit` points by sparse dot product with the canonical
    /// `query`, without payload; points scoring 0 are left out.
    func searchSparse(query: SparseVector, using name: String, limit: Int, filter: Filter?) throws -> [ScoredPoint] {
        guard let params = config.sparseVectors[name], limit > 0 else { return [] }
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        // Qdrant's `full_scan_threshold` for sparse vectors (default 5000 points).
        let request = SparseSearchRequest(
            query: query, vector: name, limit: limit, fullScanThreshold: params.index?.fullScanThreshold ?? 5000,
            filter: filter)
        let hits = try SegmentFanOut.map(segments) { segment in
            try read(segment) { try $0.sparseSearch(request, context: context) }
        }
        return merge(hits.flatMap { $0 }, limit: limit, higherIsBetter: true)
    }

    /// Live points with sparse vector `name` and per term of `terms` how many hold it.
    /// With a `corpus`, only the live points matching it count (Qdrant's
    /// `params.idf.corpus`).
    func sparseStatistics(_ name: String, terms: [UInt32], corpus: Filter? = nil) throws -> SparseStatistics {
        var total = SparseStatistics.zero(terms: terms.count)
        let corpus = visible(corpus)
        try eachSegment {
            total.add(try $0.sparseStatistics(name, terms: terms, corpus: corpus, context: context))
        }
        return total
    }

    /// The best `limit` live points matching `filter` that have dense vector
    /// `name`, by `score` over their stored vector (higher is better, NaN left
    /// out): an exact scan, for the custom objectives no graph is built for.
    func scanScored(
        using name: String, filter: Filter?, limit: Int, score: (UnsafeBufferPointer<Float>) -> Float
    )
        throws -> [ScoredPoint]
    {
        guard limit > 0, config.vectors[name] != nil else { return [] }
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        let hits = try collect {
            try $0.scoredScan(using: name, filter: filter, limit: limit, context: context, score: score)
        }
        return merge(hits, limit: limit, higherIsBetter: true)
    }

    /// As `scanScored`, over sparse vector `name`.
    func scanSparseScored(
        using name: String, filter: Filter?, limit: Int, score: (SparseVector) -> Float
    ) throws
        -> [ScoredPoint]
    {
        guard limit > 0, config.sparseVectors[name] != nil else { return [] }
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        let hits = try collect {
            try $0.sparseScoredScan(using: name, filter: filter, limit: limit, context: context, score: score)
        }
        return merge(hits, limit: limit, higherIsBetter: true)
    }

    // MARK: - Payload indexes

    /// Per value of the indexed field `key`, how many points matching
    /// `filter` hold it; the `limit` most frequent (ties by value).
    func facet(key: PayloadPath, filter: Filter?, limit: Int) throws -> [(value: IndexKey, count: Int)] {
        let schema = try indexSchema(
            key, for: "facet", needs: "a keyword, integer (lookup), uuid or bool", \.supportsFacet)
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        var counts: [IndexKey: Int] = [:]
        try eachSegment { segment in
            for (value, count) in try segment.facetCounts(key, schema: schema, filter: filter, context: context) {
                counts[value, default: 0] += count
            }
        }
        return counts.map { (value: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            .prefix(max(limit, 0)).map { $0 }
    }

    /// Points matching `filter` ordered by the indexed numeric or datetime
    /// field `key` (each point once, at its smallest value ascending or
    /// largest descending; equal values by id), from `startFrom` on, at most `limit`.
    func ordered(
        by key: PayloadPath, descending: Bool, startFrom: Double?, filter: Filter?, limit: Int,
        withPayload: Bool, withVector: Bool
    ) throws -> [(record: Record, value: Double)] {
        let schema = try indexSchema(
            key, for: "order_by", needs: "an integer (range), float or datetime", \.supportsOrdering)
        if let filter { try requireKnownVectors(in: filter) }
        let filter = visible(filter)
        var entries = try collect {
            try $0.ordered(by: key, schema: schema, filter: filter, descending: descending, context: context)
        }
        if let startFrom { entries.removeAll { descending ? $0.value > startFrom : $0.value < startFrom } }
        entries.sort { a, b in
            a.value != b.value ? (descending ? a.value > b.value : a.value < b.value) : a.id < b.id
        }
        return try entries.prefix(max(limit, 0)).compactMap { entry in
            try record(entry.id, withPayload: withPayload, withVector: withVector).map { ($0, entry.value) }
        }
    }

    /// The schema of `key`'s index when it can serve `purpose`, else
    /// `.invalidArgument` saying which index it needs.
    private func indexSchema(
        _ key: PayloadPath, for purpose: String, needs kinds: String,
        _ supports: KeyPath<PayloadFieldSchema, Bool>
    ) throws -> PayloadFieldSchema {
        guard let schema = context.payloadSchema[key], schema[keyPath: supports] else {
            let has = context.payloadSchema[key].map { "it has a \($0.type.rawValue) index" } ?? "it has none"
            throw StrataError.invalid("\(purpose) needs \(kinds) index on \"\(key)\"; \(has)")
        }
        return schema
    }

    /// Throws `.invalidArgument` when a `has_vector` condition names a vector
    /// the collection does not have (as searching with it would).
    func requireKnownVectors(in filter: Filter) throws {
        func check(_ conditions: [Condition]) throws {
            for condition in conditions {
                switch condition {
                case .hasVector(let vectorName):
                    guard config.vectors[vectorName] != nil || config.sparseVectors[vectorName] != nil else {
                        throw StrataError.invalid(
                            "has_vector: collection `\(name)` has no vector named \"\(vectorName)\"; it has \((Array(config.vectors.keys) + Array(config.sparseVectors.keys)).sorted())"
                        )
                    }
                case .filter(let inner), .nested(_, let inner):
                    try check(inner.must + inner.should + inner.mustNot + (inner.minShould?.conditions ?? []))
                default:
                    continue
                }
            }
        }
        try check(filter.must + filter.should + filter.mustNot + (filter.minShould?.conditions ?? []))
    }
}
