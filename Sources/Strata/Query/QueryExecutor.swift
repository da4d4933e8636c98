import Foundation
import StrataVectorMath

// The universal query executor: Qdrant's semantics (lib/shard/src/query/
// planned_query.rs, lib/collection/src/shards/local_shard/query.rs,
// lib/collection/src/operations/universal_query/collection_query.rs).
// docs/query.md describes stages, scores and formulas. This file holds the
// entry points and the stages; the other concerns are in QueryExecutor+*.swift
// (examples, sparse vectors, fusion, MMR, groups, scores, the store reads) and
// QueryValidation.swift.

extension Collection {
    /// Runs a universal query: each prefetch stage (recursively), then `query`
    /// over the prefetched points, or over the collection without prefetches.
    /// Returns `limit` points after skipping `offset`, with payload and vectors
    /// as asked. `collections` resolves `lookupFrom` names other than this
    /// collection's (nil: such lookups are refused).
    ///
    /// For example, two nearest searches fused by reciprocal rank, stopped
    /// if they take more than two seconds:
    ///
    /// ```swift
    /// let request = QueryRequest(
    ///     prefetch: [
    ///         Prefetch(query: .nearest(.dense([0.1, 0.2, 0.3, 0.4])), limit: 20),
    ///         Prefetch(query: .nearest(.point(2)), limit: 20),  // like point 2
    ///     ],
    ///     query: .fusion(.rrf()), limit: 5, withPayload: true)
    /// let hits = try notes.query(
    ///     request, collections: { try db.collection(named: $0) },
    ///     cancellation: Cancellation(deadline: .now + .seconds(2)))
    /// ```
    ///
    /// docs/query.md describes every query kind and how it scores.
    ///
    /// Throws `.invalidArgument` for a malformed request (checked whole before
    /// anything is read: a prefetch without a query, fusion without
    /// prefetches, a negative limit…) or a query that does not fit the
    /// collection (an unknown vector name, wrong dimensions…), and `.notFound`
    /// for a point id used as an example that does not exist, and `.cancelled`
    /// once `cancellation` is cancelled (checked before each stage and segment).
    public func query(
        _ request: QueryRequest, collections: ((String) throws -> Collection)? = nil,
        cancellation: Cancellation? = nil
    ) throws -> [ScoredPoint] {
        try checkNotDeleted()
        try request.validate()
        return try store.read {
            try QueryExecutor(collection: self, view: $0, resolve: collections, cancellation: cancellation)
                .run(request)
        }
    }

    /// Groups the results of `request` by the payload value at `groupBy` (a
    /// string or an integer; every value of an array; points without one are
    /// left out): the `limit` groups whose best hit is best, each with its
    /// `groupSize` best hits, best first. `request.limit` and `offset` are
    /// ignored. With `withLookup`, each group carries the point of that
    /// collection whose id is the group's value. Throws as `query` does, and
    /// `.invalidArgument` for a negative `groupSize` or `limit` or a malformed
    /// `groupBy` path.
    public func queryGroups(
        _ request: QueryRequest, groupBy: String, groupSize: Int = 3, limit: Int = 10, withLookup: GroupLookup? = nil,
        collections: ((String) throws -> Collection)? = nil, cancellation: Cancellation? = nil
    ) throws -> [PointGroup] {
        try request.validateGrouped(groupSize: groupSize, groups: limit)
        return try store.read {
            try QueryExecutor(collection: self, view: $0, resolve: collections, cancellation: cancellation)
                .groups(request, groupBy: groupBy, groupSize: groupSize, groups: limit, withLookup: withLookup)
        }
    }
}

/// A query kind with every example resolved to a (prepared) vector.
enum ResolvedQuery {
    /// `mmr` with its λ and candidate count resolved.
    case nearest([Float], mmr: (lambda: Float, candidates: Int)?)
    case bestScore(positive: [[Float]], negative: [[Float]])
    case sumScores(positive: [[Float]], negative: [[Float]])
    case discover(target: [Float], pairs: [(positive: [Float], negative: [Float])])
    case context(pairs: [(positive: [Float], negative: [Float])])
    case feedback(CustomObjective<[Float]>)
    case orderBy(Collection.OrderBy)
    case fusion(Fusion)
    case sample
    case formula(Formula)
}

/// Runs one validated query against one collection. Every read of the
/// collection's points goes through QueryExecutor+Reads.swift, over `view`:
/// the whole query — stages, examples, the final page's payloads — sees one
/// segment set, so a point deleted meanwhile cannot shorten a page.
///
/// Lifetime: inside the `CollectionStore.read` that made `view`.
struct QueryExecutor {
    let collection: Collection
    let view: CollectionReadView
    let resolve: ((String) throws -> Collection)?
    /// The candidates a cluster node gave with their vectors (the root's
    /// `prefetchResults`), by id: scored from these vectors instead of the
    /// stored ones, which may be on other shards.
    var givenVectors: [PointID: ScoredPoint] = [:]

    /// `cancellation` is checked before each stage and each segment read.
    init(
        collection: Collection, view: CollectionReadView, resolve: ((String) throws -> Collection)?,
        cancellation: Cancellation? = nil
    ) {
        self.collection = collection
        var view = view
        view.cancellation = cancellation
        self.view = view
        self.resolve = resolve
    }

    // MARK: - Entry points

    /// The page of `request` (validated by the caller), hydrated.
    func run(_ request: QueryRequest) throws -> [ScoredPoint] {
        guard request.limit > 0 else { return [] }
        var executor = self
        for source in request.stage.prefetchResults ?? [] {
            for point in source where point.vectors != nil || point.sparseVectors != nil {
                executor.givenVectors[point.id] = point
            }
        }
        if !executor.givenVectors.isEmpty { return try executor.runPage(request) }
        return try runPage(request)
    }

    private func runPage(_ request: QueryRequest) throws -> [ScoredPoint] {
        var offset = request.offset
        // Qdrant ignores the offset of a random sample without prefetches (its output is not stable).
        if case .sampleRandom? = request.query, !request.stage.hasSources { offset = 0 }
        // Validation checked that limit + offset does not overflow.
        let points = try rootStage(request.stage, take: request.limit + offset)
        let page = Array(points.dropFirst(offset).prefix(request.limit))
        return try hydrate(page, withPayload: request.withPayload, withVector: request.withVector)
    }

    /// The best `take` points of the root stage `root`, the ids used as
    /// examples on this collection excluded from them (Qdrant's
    /// `exclude_referenced_ids`). `root.limit` stays the default MMR
    /// candidate count.
    func rootStage(_ root: QueryStage, take: Int) throws -> [ScoredPoint] {
        var referenced = Set<PointID>()
        collectReferencedIDs(root, into: &referenced)
        var stage = root
        stage.filter = root.filter?.isEmpty == true ? nil : root.filter
        if !referenced.isEmpty { stage.filter = merge(stage.filter, Filter(mustNot: [.hasID(referenced)])) }
        stage.limit = take
        return try self.stage(stage, defaultMMRCandidates: root.limit)
    }

    // MARK: - Stages

    /// One stage: a leaf source (search, scan, scroll) without prefetches,
    /// else the prefetch results rescored (or fused) by its query. `stage.filter`
    /// is the stage's own filter merged with those of every stage above;
    /// `defaultMMRCandidates` is the MMR candidate count when the query does
    /// not set one.
    private func stage(_ stage: QueryStage, defaultMMRCandidates: Int) throws -> [ScoredPoint] {
        try view.cancellation?.check()
        // `params.idf` changes scoring: given where it cannot apply, the query
        // is refused rather than answered as if it were not there (as Qdrant).
        if stage.params.idf != nil, let query = stage.query, Self.scoresByVector(query),
            collection.config.sparseVectors[stage.using]?.modifier != .idf
        {
            throw StrataError.invalid(
                "search param `idf` requires a sparse vector with the `idf` modifier, which vector \"\(stage.using)\" is not"
            )
        }
        if collection.config.sparseVectors[stage.using] != nil, let query = stage.query, Self.scoresByVector(query) {
            return try sparseStage(stage, query: query, defaultMMRCandidates: defaultMMRCandidates)
        }
        let resolved = try stage.query.map {
            try self.resolve(
                $0, using: stage.using, lookupFrom: stage.lookupFrom, defaultMMRCandidates: defaultMMRCandidates)
        }
        if !stage.hasSources { return try leaf(resolved, of: stage) }
        let sources = try stage.prefetchResults ?? prefetched(stage)
        guard let resolved else { preconditionFailure("validation refuses prefetches without a query") }
        return try rescore(
            sources, by: resolved, using: stage.using, scoreThreshold: stage.scoreThreshold, limit: stage.limit)
    }

    /// The results of each prefetch of `stage`, each run with `stage.filter`
    /// merged into its own.
    func prefetched(_ stage: QueryStage) throws -> [[ScoredPoint]] {
        try stage.prefetch.map { child in
            var child = child
            child.filter = merge(stage.filter, child.filter?.isEmpty == true ? nil : child.filter)
            return try self.stage(child, defaultMMRCandidates: child.limit)
        }
    }

    /// A stage without prefetches, over the whole collection (and `stage.filter`).
    private func leaf(_ query: ResolvedQuery?, of stage: QueryStage) throws -> [ScoredPoint] {
        let (using, filter, limit, threshold) = (stage.using, stage.filter, stage.limit, stage.scoreThreshold)
        guard limit > 0 else { return [] }
        guard let query else {
            // No query: points in id order, score 1 (Qdrant's query-less scroll).
            return try pointsInIDOrder(filter: filter, limit: limit)
        }
        switch query {
        case .nearest(let vector, let mmr):
            let prepared = try prepareNearest(vector, using: using)
            let hits = try nearest(
                prepared, using: using, limit: mmr?.candidates ?? limit, params: stage.params, filter: filter,
                scoreThreshold: threshold, withVector: mmr != nil)
            guard let mmr else { return hits }
            return try maximalMarginalRelevance(hits, query: vector, using: using, lambda: mmr.lambda, limit: limit)
        case .bestScore, .sumScores, .discover, .context, .feedback:
            let scorer = customScorer(query, params: try vectorParams(of: using))
            return applyThreshold(
                try scan(using: using, filter: filter, limit: limit, score: scorer), threshold, higherIsBetter: true)
        case .orderBy(let orderBy):
            return try ordered(orderBy, filter: filter, limit: limit)
        case .sample:
            return try sample(from: try matchingIDs(filter), limit: limit)
        case .fusion, .formula:
            preconditionFailure("validation refuses fusion and formulas without prefetches")
        }
    }

    /// The stage's query over the points its prefetches returned.
    private func rescore(
        _ sources: [[ScoredPoint]], by query: ResolvedQuery, using: String, scoreThreshold: Float?, limit: Int
    )
        throws -> [ScoredPoint]
    {
        if case .fusion(let fusion) = query {
            let fused = Self.fuse(sources, fusion)
            return Array(applyThreshold(fused, scoreThreshold, higherIsBetter: true, strict: false).prefix(limit))
        }
        if case .formula(let formula) = query {
            return try rescore(sources, formula: formula, scoreThreshold: scoreThreshold, limit: limit)
        }
        let ids = Self.distinctIDs(sources)
        guard limit > 0, !ids.isEmpty else { return [] }
        switch query {
        case .nearest(let vector, let mmr):
            let params = try vectorParams(of: using)
            let distance = params.distance
            let prepared = try prepareNearest(vector, using: using)
            let candidates = try scoreCandidates(ids, using: using, withVector: mmr != nil) { stored in
                params.isMultiVector
                    ? MaxSim.score(metric: distance, query: prepared, rows: stored, dim: params.size)
                    : Self.nearestScore(params, prepared, stored)
            }
            var ranked = candidates.sorted(by: Self.order(higherIsBetter: distance.higherIsBetter))
            ranked = applyThreshold(ranked, scoreThreshold, higherIsBetter: distance.higherIsBetter)
            guard let mmr else { return Array(ranked.prefix(limit)) }
            return try maximalMarginalRelevance(
                Array(ranked.prefix(mmr.candidates)), query: vector, using: using,
                lambda: mmr.lambda, limit: limit)
        case .bestScore, .sumScores, .discover, .context, .feedback:
            let scorer = customScorer(query, params: try vectorParams(of: using))
            let scored = try scoreCandidates(ids, using: using, withVector: false) { stored in
                stored.withUnsafeBufferPointer { scorer($0) }
            }.filter { !$0.score.isNaN }
            let ranked = scored.sorted(by: Self.order(higherIsBetter: true))
            return Array(applyThreshold(ranked, scoreThreshold, higherIsBetter: true).prefix(limit))
        case .orderBy(let orderBy):
            return try ordered(orderBy, filter: Filter(must: [.hasID(Set(ids))]), limit: limit)
        case .sample:
            return try sample(from: ids, limit: limit)
        case .fusion, .formula:
            preconditionFailure("handled above")
        }
    }

    // MARK: - Helpers

    /// The ids of the prefetch results, each once, in order of first appearance.
    static func distinctIDs(_ sources: [[ScoredPoint]]) -> [PointID] {
        var seen = Set<PointID>()
        return sources.joined().map(\.id).filter { seen.insert($0).inserted }
    }

    /// `a` and `b` both (Qdrant's `Filter::merge_opts`).
    func merge(_ a: Filter?, _ b: Filter?) -> Filter? {
        switch (a, b) {
        case (nil, nil): return nil
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return Filter(must: [.filter(a), .filter(b)])
        }
    }

    /// Adds the ids used as examples by `stage` and every stage below it
    /// that refer to this collection (not to another via `lookupFrom`).
    private func collectReferencedIDs(_ stage: QueryStage, into ids: inout Set<PointID>) {
        for child in stage.prefetch { collectReferencedIDs(child, into: &ids) }
        if let lookupFrom = stage.lookupFrom, lookupFrom.collection != collection.name { return }
        func add(_ input: VectorInput) { if case .point(let id) = input { ids.insert(id) } }
        switch stage.query {
        case .nearest(let input, _)?: add(input)
        case .recommend(let positive, let negative, _)?: (positive + negative).forEach(add)
        case .discover(let target, let context)?:
            add(target)
            for pair in context { add(pair.positive); add(pair.negative) }
        case .context(let context)?:
            for pair in context { add(pair.positive); add(pair.negative) }
        case .relevanceFeedback(let target, let feedback, _)?:
            add(target)
            for item in feedback { add(item.example) }
        default: break
        }
    }

    /// The points with payload and vectors as asked (points deleted meanwhile
    /// are dropped): the one place query results get their payload and vectors.
    func hydrate(_ points: [ScoredPoint], withPayload: Bool, withVector: Bool) throws -> [ScoredPoint] {
        guard withPayload || withVector else {
            return points.map {
                var copy = $0; copy.payload = nil; copy.vectors = nil; copy.sparseVectors = nil; return copy
            }
        }
        return try view.attach(points, withPayload: withPayload, withVector: withVector)
    }
}
