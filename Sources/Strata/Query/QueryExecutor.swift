import Foundation
import StrataVectorMath

// The universal query executor: Qdrant's semantics (lib/shard/src/query/
// planned_query.rs, lib/collection/src/shards/local_shard/query.rs,
// lib/collection/src/operations/universal_query/collection_query.rs).
// docs/query.md describes stages, scores and formulas.

extension Collection {
    /// Runs a universal query: each prefetch stage (recursively), then `query`
    /// over the prefetched points, or over the collection without prefetches.
    /// Returns `limit` points after skipping `offset`, with payload and vectors
    /// as asked. `collections` resolves `lookupFrom` names other than this
    /// collection's (nil: such lookups are refused).
    ///
    /// Throws `.invalidArgument` for a malformed request (a prefetch without a
    /// query, fusion without prefetches, an unknown vector name, wrong
    /// dimensions…) and `.notFound` for a point id used as an example that does
    /// not exist.
    public func query(_ request: QueryRequest, collections: ((String) throws -> Collection)? = nil) throws -> [ScoredPoint] {
        try QueryExecutor(collection: self, resolve: collections).run(request)
    }

    /// Groups the results of `request` by the payload value at `groupBy` (a
    /// string or an integer; every value of an array; points without one are
    /// left out): the `limit` groups whose best hit is best, each with its
    /// `groupSize` best hits, best first. `request.limit` and `offset` are
    /// ignored. With `withLookup`, each group carries the point of that
    /// collection whose id is the group's value.
    public func queryGroups(
        _ request: QueryRequest, groupBy: String, groupSize: Int = 3, limit: Int = 10, withLookup: GroupLookup? = nil,
        collections: ((String) throws -> Collection)? = nil
    ) throws -> [PointGroup] {
        try QueryExecutor(collection: self, resolve: collections)
            .groups(request, groupBy: groupBy, groupSize: groupSize, groups: limit, withLookup: withLookup)
    }
}

/// A query kind with every example resolved to a (prepared) vector.
private enum ResolvedQuery {
    /// `mmr` with its λ and candidate count resolved.
    case nearest([Float], mmr: (lambda: Float, candidates: Int)?)
    case bestScore(positive: [[Float]], negative: [[Float]])
    case sumScores(positive: [[Float]], negative: [[Float]])
    case discover(target: [Float], pairs: [(positive: [Float], negative: [Float])])
    case context(pairs: [(positive: [Float], negative: [Float])])
    case orderBy(Collection.OrderBy)
    case fusion(Fusion)
    case sample
}

struct QueryExecutor {
    let collection: Collection
    let resolve: ((String) throws -> Collection)?

    static let maxDepth = 64
    static let maxMMRCandidates = 16384

    // MARK: - Entry points

    func run(_ request: QueryRequest) throws -> [ScoredPoint] {
        guard request.limit >= 0 else { throw StrataError.invalid("limit must not be negative, got \(request.limit)") }
        guard request.offset >= 0 else { throw StrataError.invalid("offset must not be negative, got \(request.offset)") }
        guard request.limit > 0 else { return [] }
        var offset = request.offset
        // Qdrant ignores the offset of a random sample without prefetches (its output is not stable).
        if case .sampleRandom? = request.query, request.prefetch.isEmpty { offset = 0 }
        let (take, overflow) = request.limit.addingReportingOverflow(offset)
        guard !overflow else { throw StrataError.invalid("limit + offset is too large") }
        let points = try rootStage(request, take: take)
        let page = Array(points.dropFirst(offset).prefix(request.limit))
        return try hydrate(page, withPayload: request.withPayload, withVector: request.withVector)
    }

    /// The root stage with the ids used as examples on this collection
    /// excluded from the results (Qdrant's `exclude_referenced_ids`).
    private func rootStage(_ request: QueryRequest, take: Int) throws -> [ScoredPoint] {
        try checkDepth(request.prefetch, depth: 1)
        var referenced = Set<PointID>()
        collectReferencedIDs(request.query, lookupFrom: request.lookupFrom, into: &referenced)
        for prefetch in request.prefetch { collectReferencedIDs(prefetch, into: &referenced) }
        var filter = request.filter?.isEmpty == true ? nil : request.filter
        if !referenced.isEmpty { filter = merge(filter, Filter(mustNot: [.hasID(referenced)])) }
        return try stage(
            prefetch: request.prefetch, query: request.query, using: request.using, filter: filter, params: request.params,
            scoreThreshold: request.scoreThreshold, limit: take, requestLimit: request.limit, lookupFrom: request.lookupFrom)
    }

    // MARK: - Stages

    /// One stage: a leaf source (search, scan, scroll) without prefetches,
    /// else the prefetch results rescored (or fused) by `query`.
    private func stage(
        prefetch: [Prefetch], query: QueryKind?, using: String, filter: Filter?, params: SearchParams, scoreThreshold: Float?,
        limit: Int, requestLimit: Int, lookupFrom: LookupLocation?
    ) throws -> [ScoredPoint] {
        try validate(prefetch: prefetch, query: query, using: using, scoreThreshold: scoreThreshold, limit: limit)
        if collection.config.sparseVectors[using] != nil, let query, Self.scoresByVector(query) {
            return try sparseStage(prefetch: prefetch, query: query, using: using, filter: filter, scoreThreshold: scoreThreshold,
                                   limit: limit, requestLimit: requestLimit, lookupFrom: lookupFrom)
        }
        let resolved = try query.map { try self.resolve($0, using: using, lookupFrom: lookupFrom, requestLimit: requestLimit) }
        if prefetch.isEmpty {
            return try leaf(resolved, using: using, filter: filter, params: params, scoreThreshold: scoreThreshold, limit: limit)
        }
        let sources = try prefetch.map { child in
            try stage(
                prefetch: child.prefetch, query: child.query, using: child.using,
                filter: merge(filter, child.filter?.isEmpty == true ? nil : child.filter), params: child.params,
                scoreThreshold: child.scoreThreshold, limit: child.limit, requestLimit: child.limit, lookupFrom: child.lookupFrom)
        }
        guard let resolved else { throw StrataError.invalid(Self.prefetchWithoutQuery) }
        return try rescore(sources, by: resolved, using: using, scoreThreshold: scoreThreshold, limit: limit)
    }

    /// A stage without prefetches, over the whole collection (and `filter`).
    private func leaf(_ query: ResolvedQuery?, using: String, filter: Filter?, params: SearchParams, scoreThreshold: Float?, limit: Int)
        throws -> [ScoredPoint]
    {
        guard limit > 0 else { return [] }
        guard let query else {
            // No query: points in id order, score 1 (Qdrant's query-less scroll).
            return try collection.scroll(offset: nil, limit: limit, filter: filter, withPayload: false).points
                .map { ScoredPoint(id: $0.id, version: $0.version, score: 1) }
        }
        switch query {
        case .nearest(let vector, nil):
            return try collection.search(vector, using: using, limit: limit, params: params, filter: filter, scoreThreshold: scoreThreshold)
        case .nearest(let vector, let mmr?):
            let candidates = try collection.search(
                vector, using: using, limit: mmr.candidates, params: params, filter: filter, scoreThreshold: scoreThreshold,
                withVector: true)
            return try maximalMarginalRelevance(candidates, query: vector, using: using, lambda: mmr.lambda, limit: limit)
        case .bestScore, .sumScores, .discover, .context:
            let scorer = customScorer(query, params: try vectorParams(of: using))
            let hits = try collection.store.scanScored(using: using, filter: filter, limit: limit, score: scorer)
            return applyThreshold(hits, scoreThreshold, higherIsBetter: true)
        case .orderBy(let orderBy):
            return try ordered(orderBy, filter: filter, limit: limit)
        case .sample:
            let ids = try collection.store.matchingIDs(filter ?? Filter())
            var generator = SystemRandomNumberGenerator()
            let chosen = Array(ids.shuffled(using: &generator).prefix(limit))
            return try collection.retrieve(chosen, withPayload: false).map { ScoredPoint(id: $0.id, version: $0.version, score: 1) }
        case .fusion:
            throw StrataError.invalid("cannot apply Fusion without prefetches")
        }
    }

    /// The stage's query over the points its prefetches returned.
    private func rescore(_ sources: [[ScoredPoint]], by query: ResolvedQuery, using: String, scoreThreshold: Float?, limit: Int)
        throws -> [ScoredPoint]
    {
        if case .fusion(let fusion) = query {
            let fused = try Self.fuse(sources, fusion)
            return Array(applyThreshold(fused, scoreThreshold, higherIsBetter: true).prefix(limit))
        }
        var seen = Set<PointID>()
        let ids = sources.joined().map(\.id).filter { seen.insert($0).inserted }
        guard limit > 0, !ids.isEmpty else { return [] }
        switch query {
        case .nearest(let vector, let mmr):
            let params = try vectorParams(of: using)
            let distance = params.distance
            let prepared = try params.isMultiVector ? collection.prepare(vector, name: using, params: params, what: "query")
                : prepareNearest(vector, using: using)
            let candidates = try scoreCandidates(ids, using: using, withVector: mmr != nil) { stored in
                params.isMultiVector ? MaxSim.score(metric: distance, query: prepared, rows: stored, dim: params.size)
                    : Self.nearestScore(distance, prepared, stored)
            }
            var ranked = candidates.sorted(by: Self.order(higherIsBetter: distance.higherIsBetter))
            ranked = applyThreshold(ranked, scoreThreshold, higherIsBetter: distance.higherIsBetter)
            guard let mmr else { return Array(ranked.prefix(limit)) }
            return try maximalMarginalRelevance(Array(ranked.prefix(mmr.candidates)), query: vector, using: using,
                                                lambda: mmr.lambda, limit: limit)
        case .bestScore, .sumScores, .discover, .context:
            let scorer = customScorer(query, params: try vectorParams(of: using))
            let scored = try scoreCandidates(ids, using: using, withVector: false) { stored in
                stored.withUnsafeBufferPointer { scorer($0) }
            }.filter { !$0.score.isNaN }
            let ranked = scored.sorted(by: Self.order(higherIsBetter: true))
            return Array(applyThreshold(ranked, scoreThreshold, higherIsBetter: true).prefix(limit))
        case .orderBy(let orderBy):
            return try ordered(orderBy, filter: Filter(must: [.hasID(Set(ids))]), limit: limit)
        case .sample:
            var generator = SystemRandomNumberGenerator()
            let chosen = Array(ids.shuffled(using: &generator).prefix(limit))
            return try collection.retrieve(chosen, withPayload: false).map { ScoredPoint(id: $0.id, version: $0.version, score: 1) }
        case .fusion:
            preconditionFailure("handled above")
        }
    }

    // MARK: - Sparse vectors

    /// True for the query kinds that score by the vector `using` names
    /// (order_by, sample and fusion do not look at it).
    static func scoresByVector(_ query: QueryKind) -> Bool {
        switch query {
        case .nearest, .recommend, .discover, .context: true
        case .orderBy, .fusion, .sampleRandom: false
        }
    }

    /// A sparse query with every example resolved.
    private enum ResolvedSparseQuery {
        /// Nearest to `prepared` (IDF-weighted); with MMR, `raw` is the
        /// unweighted query its relevance is measured against.
        case nearest(prepared: SparseVector, mmr: (lambda: Float, candidates: Int, raw: SparseVector)?)
        /// A custom objective over IDF-weighted examples.
        case custom(CustomObjective<SparseVector>)
    }

    /// A stage whose `using` names a sparse vector. Similarity is the dot
    /// product over shared indices (0 without any); with the `idf` modifier
    /// every query vector and example is IDF-weighted first, as Qdrant does.
    /// Without prefetches, nearest (and average_vector) searches the inverted
    /// indexes, custom objectives scan every live point matching `filter`
    /// exactly; with prefetches the prefetched points are rescored from their
    /// stored sparse vectors. Nearest results leave out points scoring 0;
    /// custom objectives score every point that has the vector.
    private func sparseStage(prefetch: [Prefetch], query: QueryKind, using: String, filter: Filter?, scoreThreshold: Float?,
                             limit: Int, requestLimit: Int, lookupFrom: LookupLocation?) throws -> [ScoredPoint] {
        let resolved = try resolveSparse(query, using: using, lookupFrom: lookupFrom, requestLimit: requestLimit)
        var candidates: [PointID]?
        if !prefetch.isEmpty {
            let sources = try prefetch.map { child in
                try stage(
                    prefetch: child.prefetch, query: child.query, using: child.using,
                    filter: merge(filter, child.filter?.isEmpty == true ? nil : child.filter), params: child.params,
                    scoreThreshold: child.scoreThreshold, limit: child.limit, requestLimit: child.limit, lookupFrom: child.lookupFrom)
            }
            var seen = Set<PointID>()
            candidates = sources.joined().map(\.id).filter { seen.insert($0).inserted }
        }
        guard limit > 0 else { return [] }
        switch resolved {
        case .nearest(let prepared, let mmr):
            let take = mmr?.candidates ?? limit
            var ranked: [(point: ScoredPoint, vector: SparseVector)]
            if let candidates {
                ranked = []
                for record in try collection.retrieve(candidates, withPayload: false, withVector: true) {
                    guard let stored = record.sparseVectors?[using] else { continue }
                    let score = SparseVector.dot(prepared, stored).score
                    if score != 0 { ranked.append((ScoredPoint(id: record.id, version: record.version, score: score), stored)) }
                }
                ranked.sort { Self.order(higherIsBetter: true)($0.point, $1.point) }
            } else {
                ranked = try collection.store.searchSparse(query: prepared, using: using, limit: take, filter: filter,
                                                           withPayload: false, withVector: mmr != nil)
                    .map { hit in
                        var point = hit
                        let vector = point.sparseVectors?[using] ?? SparseVector(indices: [], values: [])
                        point.vectors = nil
                        point.sparseVectors = nil
                        return (point, vector)
                    }
            }
            if let scoreThreshold { ranked.removeAll { $0.point.score < scoreThreshold } }
            ranked = Array(ranked.prefix(take))
            guard let mmr else { return ranked.map(\.point) }
            return sparseMaximalMarginalRelevance(ranked, query: mmr.raw, lambda: mmr.lambda, limit: limit)
        case .custom(let objective):
            let score = { (stored: SparseVector) in objective.score { example in SparseVector.dot(example, stored).score } }
            var ranked: [ScoredPoint]
            if let candidates {
                ranked = try collection.retrieve(candidates, withPayload: false, withVector: true).compactMap { record in
                    guard let stored = record.sparseVectors?[using] else { return nil }
                    let value = score(stored)
                    return value.isNaN ? nil : ScoredPoint(id: record.id, version: record.version, score: value)
                }
                ranked.sort(by: Self.order(higherIsBetter: true))
            } else {
                ranked = try collection.store.scanSparseScored(using: using, filter: filter, limit: limit, score: score)
            }
            return Array(applyThreshold(ranked, scoreThreshold, higherIsBetter: true).prefix(limit))
        }
    }

    /// Qdrant's MMR over sparse candidates (nearest hits, best first, each
    /// with its stored vector): relevance is the dot product with the query
    /// as given (Qdrant measures it in a plain, IDF-less vector storage),
    /// similarity between candidates their dot product. Scores stay the
    /// nearest scores. Fewer than 2 candidates come back as they are.
    private func sparseMaximalMarginalRelevance(_ candidates: [(point: ScoredPoint, vector: SparseVector)], query: SparseVector,
                                                lambda: Float, limit: Int) -> [ScoredPoint] {
        guard candidates.count >= 2 else { return candidates.map(\.point) }
        let vectors = candidates.map(\.vector)
        let relevance = vectors.map { SparseVector.dot(query, $0).score }
        var cache = [Float?](repeating: nil, count: vectors.count * vectors.count)
        let order = maximalMarginalRelevanceOrder(count: vectors.count, relevance: relevance, lambda: lambda, limit: limit) { i, j in
            if let cached = cache[i * vectors.count + j] { return cached }
            let value = SparseVector.dot(vectors[i], vectors[j]).score
            cache[i * vectors.count + j] = value
            cache[j * vectors.count + i] = value
            return value
        }
        return order.map { candidates[$0].point }
    }

    /// The sparse vector of one example, canonical and not yet IDF-weighted:
    /// a given sparse vector (checked), or a stored point's.
    private func sparseExample(_ input: VectorInput, using: String, lookupFrom: LookupLocation?) throws -> SparseVector {
        switch input {
        case .vector(.sparse(let given)):
            return try Collection.canonical(given, what: "query sparse vector")
        case .vector(.dense), .vector(.multi):
            throw StrataError.invalid("vector \"\(using)\" is sparse; the query must be a sparse vector (indices and values)")
        case .point(let id):
            let source = try lookupFrom.map { try lookupCollection($0.collection) } ?? collection
            let name = lookupFrom?.vector ?? using
            guard source.config.sparseVectors[name] != nil else {
                throw StrataError.invalid(
                    "Not existing vector name error: \(name.isEmpty ? "(unnamed)" : name) is not a sparse vector of collection `\(source.name)`")
            }
            guard let record = try source.retrieve([id], withPayload: false, withVector: true).first else {
                throw StrataError(.notFound, "No point with id \(id) found")
            }
            guard let stored = record.sparseVectors?[name] else {
                throw StrataError(.notFound, "Vector with name \"\(name)\" for point \(id) not found")
            }
            return stored
        }
    }

    /// Resolves a sparse stage's query: examples looked up, IDF-weighted
    /// together (the average of average_vector is weighted after averaging,
    /// as Qdrant weights the nearest query it becomes).
    private func resolveSparse(_ query: QueryKind, using: String, lookupFrom: LookupLocation?, requestLimit: Int)
        throws -> ResolvedSparseQuery
    {
        func example(_ input: VectorInput) throws -> SparseVector { try sparseExample(input, using: using, lookupFrom: lookupFrom) }
        func weighted(_ vectors: [SparseVector]) throws -> [SparseVector] {
            try collection.preparedSparseQueries(vectors, using: using)
        }
        switch query {
        case .nearest(let input, let mmr):
            let raw = try example(input)
            let prepared = try weighted([raw])[0]
            guard let mmr else { return .nearest(prepared: prepared, mmr: nil) }
            if let diversity = mmr.diversity, !(0...1).contains(diversity) {
                throw StrataError.invalid("mmr diversity must be between 0 and 1, got \(diversity)")
            }
            if let candidates = mmr.candidatesLimit, !(0...Self.maxMMRCandidates).contains(candidates) {
                throw StrataError.invalid("mmr candidates_limit must be between 0 and \(Self.maxMMRCandidates), got \(candidates)")
            }
            return .nearest(prepared: prepared,
                            mmr: (lambda: mmr.diversity.map { 1 - $0 } ?? 0.5, candidates: mmr.candidatesLimit ?? requestLimit, raw: raw))
        case .recommend(let positive, let negative, .averageVector):
            guard !positive.isEmpty else {
                throw StrataError.invalid("Positive vectors should not be empty with `average` strategy")
            }
            let average = SparseVector.recommendationAverage(positive: try positive.map(example), negative: try negative.map(example))
            return .nearest(prepared: try weighted([average])[0], mmr: nil)
        case .recommend(let positive, let negative, let strategy):
            guard !positive.isEmpty || !negative.isEmpty else {
                throw StrataError.invalid("recommend needs at least one positive or negative example")
            }
            let all = try weighted(try (positive + negative).map(example))
            let positives = Array(all.prefix(positive.count)), negatives = Array(all.dropFirst(positive.count))
            return .custom(strategy == .sumScores ? .sumScores(positive: positives, negative: negatives)
                                                  : .bestScore(positive: positives, negative: negatives))
        case .discover(let target, let context):
            let all = try weighted(try ([target] + context.flatMap { [$0.positive, $0.negative] }).map(example))
            return .custom(.discover(target: all[0], pairs: Self.pairs(Array(all.dropFirst()))))
        case .context(let context):
            let all = try weighted(try context.flatMap { [$0.positive, $0.negative] }.map(example))
            return .custom(.context(pairs: Self.pairs(all)))
        case .orderBy, .fusion, .sampleRandom:
            preconditionFailure("not a vector query (see scoresByVector)")
        }
    }

    /// [p₀, n₀, p₁, n₁, …] → [(p₀, n₀), (p₁, n₁), …].
    private static func pairs(_ flat: [SparseVector]) -> [(positive: SparseVector, negative: SparseVector)] {
        stride(from: 0, to: flat.count, by: 2).map { (positive: flat[$0], negative: flat[$0 + 1]) }
    }

    // MARK: - Groups

    func groups(_ request: QueryRequest, groupBy: String, groupSize: Int, groups: Int, withLookup: GroupLookup?) throws -> [PointGroup] {
        guard groupSize >= 0, groups >= 0 else { throw StrataError.invalid("group_size and limit must not be negative") }
        let path = try Collection.path(groupBy)
        guard groupSize > 0, groups > 0 else { return [] }
        // Qdrant's shape_candidates_query: only points holding the field; nested
        // prefetch limits scaled by group_size so enough candidates survive.
        var base = request
        base.offset = 0
        base.filter = merge(request.filter?.isEmpty == true ? nil : request.filter, Filter(mustNot: [.isEmpty(key: path)]))
        base.prefetch = request.prefetch.map { Self.scaled($0, by: groupSize) }
        let (product, overflow) = groups.multipliedReportingOverflow(by: groupSize)
        var take = overflow ? Int.max / 4 : product
        var keys: [JSONValue] = []
        var members: [JSONValue: [ScoredPoint]] = [:]
        while true {
            keys = []
            members = [:]
            // `limit` stays the number of groups: the default MMR candidate count.
            base.limit = groups
            let hits = try rootStage(base, take: take)
            let withPayload = try hydrate(hits, withPayload: true, withVector: false)
            for hit in withPayload {
                guard let groupKeys = Self.groupKeys(of: hit, at: path) else { continue }
                for key in groupKeys {
                    if members[key] == nil {
                        keys.append(key)
                        members[key] = []
                    }
                    if members[key]!.count < groupSize { members[key]!.append(hit) }
                }
            }
            let exhausted = hits.count < take
            let settled = keys.count >= groups && keys.prefix(groups).allSatisfy { members[$0]!.count == groupSize }
            if exhausted || settled || take >= Int.max / 8 { break }
            take = take > Int.max / 8 ? Int.max / 4 : take * 4
        }
        let chosen = keys.prefix(groups)
        // The hits with what the request asked for (payload, vectors).
        let allHits = chosen.flatMap { members[$0]! }
        let hydrated = try hydrate(allHits, withPayload: request.withPayload, withVector: request.withVector)
        let byID = Dictionary(hydrated.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var lookups: [PointID: Record] = [:]
        if let withLookup {
            let target = try lookupCollection(withLookup.collection)
            let ids = chosen.compactMap(Self.pointID(fromGroupKey:))
            for record in try target.retrieve(ids, withPayload: withLookup.withPayload, withVector: withLookup.withVector) {
                lookups[record.id] = record
            }
        }
        return chosen.map { key in
            PointGroup(id: key, hits: members[key]!.compactMap { hit in byID[hit.id].map { var h = $0; h.score = hit.score; return h } },
                       lookup: Self.pointID(fromGroupKey: key).flatMap { lookups[$0] })
        }
    }

    /// A group's value as a point id for `withLookup` (non-negative integers, UUID strings).
    static func pointID(fromGroupKey key: JSONValue) -> PointID? {
        switch key {
        case .int(let value) where value >= 0: return .number(UInt64(value))
        case .string(let text): return UUID(uuidString: text).map { .uuid($0) }
        default: return nil
        }
    }

    /// The distinct group values of a hit (strings and integers; an array
    /// contributes each element). nil when the point has none or any value of
    /// another type (Qdrant then leaves the point out of every group).
    static func groupKeys(of hit: ScoredPoint, at path: PayloadPath) -> [JSONValue]? {
        guard let payload = hit.payload else { return nil }
        let values = path.values(in: payload)
        guard !values.isEmpty else { return nil }
        var keys: [JSONValue] = []
        for value in values {
            switch value {
            case .string, .int: if !keys.contains(value) { keys.append(value) }
            default: return nil
            }
        }
        return keys
    }

    private static func scaled(_ prefetch: Prefetch, by factor: Int) -> Prefetch {
        var copy = prefetch
        let (product, overflow) = prefetch.limit.multipliedReportingOverflow(by: factor)
        copy.limit = overflow ? Int.max / 4 : product
        copy.prefetch = prefetch.prefetch.map { scaled($0, by: factor) }
        return copy
    }

    // MARK: - Validation (Qdrant's CollectionQueryRequest::validation and planner checks)

    static let prefetchWithoutQuery =
        "A query is needed to merge the prefetches. Can't have prefetches without defining a query."

    private func validate(prefetch: [Prefetch], query: QueryKind?, using: String, scoreThreshold: Float?, limit: Int) throws {
        guard limit >= 0 else { throw StrataError.invalid("limit must not be negative, got \(limit)") }
        if !prefetch.isEmpty && query == nil { throw StrataError.invalid(Self.prefetchWithoutQuery) }
        if let scoreThreshold {
            guard scoreThreshold.isFinite else { throw StrataError.invalid("score_threshold must be a finite number") }
            switch query {
            case .orderBy?: throw StrataError.invalid("Can't use score_threshold with an order_by query.")
            case nil:
                throw StrataError.invalid(
                    "A query is needed to use the score_threshold. Can't have score_threshold without defining a query.")
            default: break
            }
        }
        if case .fusion(let fusion)? = query {
            guard using == CollectionConfig.defaultVectorName else {
                throw StrataError.invalid("Fusion queries cannot be combined with the 'using' field.")
            }
            if prefetch.isEmpty { throw StrataError.invalid("cannot apply Fusion without prefetches") }
            if case .rrf(let k, let weights) = fusion {
                guard k >= 1 else { throw StrataError.invalid("rrf k must be at least 1, got \(k)") }
                if let weights {
                    guard weights.count == prefetch.count else {
                        throw StrataError.invalid(
                            "Number of weights in RRF should match number of pre-fetches: got \(weights.count), expected \(prefetch.count)")
                    }
                    guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                        throw StrataError.invalid("rrf weights must be finite and not negative")
                    }
                }
            }
        }
    }

    private func checkDepth(_ prefetch: [Prefetch], depth: Int) throws {
        guard !prefetch.isEmpty else { return }
        guard depth <= Self.maxDepth else {
            throw StrataError.invalid("prefetches depth exceeds max depth \(Self.maxDepth)")
        }
        for child in prefetch { try checkDepth(child.prefetch, depth: depth + 1) }
    }

    // MARK: - Examples → vectors

    private func vectorParams(of using: String) throws -> VectorParams {
        guard let params = collection.config.vectors[using] else {
            throw StrataError.invalid(
                "Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using); collection `\(collection.name)` has \(collection.config.vectors.keys.sorted())")
        }
        return params
    }

    private func lookupCollection(_ name: String) throws -> Collection {
        if name == collection.name { return collection }
        guard let resolve else { throw StrataError.invalid("lookups in other collections (`\(name)`) need a collection resolver") }
        return try resolve(name)
    }

    /// The vector of one example: a given vector (checked) or a stored point's.
    private func vector(of input: VectorInput, using: String, lookupFrom: LookupLocation?) throws -> [Float] {
        let params = try vectorParams(of: using)
        if params.isMultiVector { return try multiVector(of: input, using: using, params: params, lookupFrom: lookupFrom) }
        let size = params.size
        switch input {
        case .vector(.multi):
            throw StrataError.invalid("a multivector query needs `using` to name a multivector; \"\(using)\" is a plain dense vector")
        case .vector(.sparse):
            throw StrataError.invalid("a sparse query vector needs `using` to name a sparse vector; \"\(using)\" is a dense vector")
        case .vector(.dense(let values)):
            guard values.count == size else {
                throw StrataError.invalid("wrong query vector dimension: expected \(size), got \(values.count)")
            }
            guard VectorKernels.allFinite(values) else { throw StrataError.invalid("query vector contains NaN or infinite values") }
            return values
        case .point(let id):
            let source = try lookupFrom.map { try lookupCollection($0.collection) } ?? collection
            let name = lookupFrom?.vector ?? using
            guard source.config.vectors[name] != nil else {
                throw StrataError.invalid("Not existing vector name error: \(name.isEmpty ? "(unnamed)" : name) in collection `\(source.name)`")
            }
            guard let record = try source.retrieve([id], withPayload: false, withVector: true).first else {
                throw StrataError(.notFound, "No point with id \(id) found")
            }
            guard let stored = record.vectors?[name] else {
                throw StrataError(.notFound, "Vector with name \"\(name)\" for point \(id) not found")
            }
            guard stored.count == size else {
                throw StrataError.invalid(
                    "the vector of point \(id) in `\(source.name)` has \(stored.count) dimensions; vector \"\(using)\" here has \(size)")
            }
            return stored
        }
    }

    /// The rows (back to back) of a query on multivector `using`: given rows,
    /// a dense vector as one row, or a stored point's multivector.
    private func multiVector(of input: VectorInput, using: String, params: VectorParams, lookupFrom: LookupLocation?) throws -> [Float] {
        let rows: [Float]
        switch input {
        case .vector(.sparse):
            throw StrataError.invalid("a sparse query vector needs `using` to name a sparse vector; \"\(using)\" is a multivector")
        case .vector(.dense(let row)):
            rows = row
        case .vector(.multi(let given)):
            guard !given.isEmpty, given.allSatisfy({ $0.count == params.size }) else {
                throw StrataError.invalid("wrong query multivector: every row must have \(params.size) dimensions")
            }
            rows = given.flatMap { $0 }
        case .point(let id):
            let source = try lookupFrom.map { try lookupCollection($0.collection) } ?? collection
            let name = lookupFrom?.vector ?? using
            guard source.config.vectors[name]?.isMultiVector == true, source.config.vectors[name]?.size == params.size else {
                throw StrataError.invalid("vector \"\(name)\" of collection `\(source.name)` is not a multivector of \(params.size) dimensions")
            }
            guard let record = try source.retrieve([id], withPayload: false, withVector: true).first else {
                throw StrataError(.notFound, "No point with id \(id) found")
            }
            guard let stored = record.vectors?[name] else {
                throw StrataError(.notFound, "Vector with name \"\(name)\" for point \(id) not found")
            }
            rows = stored
        }
        guard !rows.isEmpty, rows.count % params.size == 0 else {
            throw StrataError.invalid("wrong query vector dimension: expected rows of \(params.size), got \(rows.count) numbers")
        }
        guard VectorKernels.allFinite(rows) else { throw StrataError.invalid("query vector contains NaN or infinite values") }
        return rows
    }

    /// Resolves the examples of a stage's query to vectors. Vectors of custom
    /// objectives are normalised under Cosine (Qdrant preprocesses each one);
    /// nearest and average vectors are normalised by the search itself.
    private func resolve(_ query: QueryKind, using: String, lookupFrom: LookupLocation?, requestLimit: Int) throws -> ResolvedQuery {
        if collection.config.vectors[using]?.isMultiVector == true {
            switch query {
            case .nearest(_, nil), .orderBy, .sampleRandom, .fusion, .discover, .context: break
            case .recommend(_, _, .bestScore), .recommend(_, _, .sumScores): break
            default:
                throw StrataError.invalid(
                    "multivector \"\(using)\" supports nearest, recommend (best_score, sum_scores), discover and context queries (and fusion, order_by, sample); recommend's average_vector and mmr on multivectors are not supported by Strata yet")
            }
        }
        func vectors(_ inputs: [VectorInput]) throws -> [[Float]] {
            try inputs.map { try prepareCustom(try vector(of: $0, using: using, lookupFrom: lookupFrom), using: using) }
        }
        func pairs(_ context: [ContextPair]) throws -> [(positive: [Float], negative: [Float])] {
            try context.map { pair in
                (positive: try prepareCustom(try vector(of: pair.positive, using: using, lookupFrom: lookupFrom), using: using),
                 negative: try prepareCustom(try vector(of: pair.negative, using: using, lookupFrom: lookupFrom), using: using))
            }
        }
        switch query {
        case .nearest(let input, let mmr):
            let vector = try vector(of: input, using: using, lookupFrom: lookupFrom)
            guard let mmr else { return .nearest(vector, mmr: nil) }
            if let diversity = mmr.diversity, !(0...1).contains(diversity) {
                throw StrataError.invalid("mmr diversity must be between 0 and 1, got \(diversity)")
            }
            if let candidates = mmr.candidatesLimit, !(0...Self.maxMMRCandidates).contains(candidates) {
                throw StrataError.invalid("mmr candidates_limit must be between 0 and \(Self.maxMMRCandidates), got \(candidates)")
            }
            let lambda = mmr.diversity.map { 1 - $0 } ?? 0.5
            return .nearest(vector, mmr: (lambda: lambda, candidates: mmr.candidatesLimit ?? requestLimit))
        case .recommend(let positive, let negative, .averageVector):
            guard !positive.isEmpty else {
                throw StrataError.invalid("Positive vectors should not be empty with `average` strategy")
            }
            let positives = try positive.map { try vector(of: $0, using: using, lookupFrom: lookupFrom) }
            let negatives = try negative.map { try vector(of: $0, using: using, lookupFrom: lookupFrom) }
            return .nearest(Self.averageVector(positive: positives, negative: negatives), mmr: nil)
        case .recommend(let positive, let negative, .bestScore):
            guard !positive.isEmpty || !negative.isEmpty else {
                throw StrataError.invalid("recommend needs at least one positive or negative example")
            }
            return .bestScore(positive: try vectors(positive), negative: try vectors(negative))
        case .recommend(let positive, let negative, .sumScores):
            guard !positive.isEmpty || !negative.isEmpty else {
                throw StrataError.invalid("recommend needs at least one positive or negative example")
            }
            return .sumScores(positive: try vectors(positive), negative: try vectors(negative))
        case .discover(let target, let context):
            return .discover(target: try prepareCustom(try vector(of: target, using: using, lookupFrom: lookupFrom), using: using),
                             pairs: try pairs(context))
        case .context(let context):
            return .context(pairs: try pairs(context))
        case .orderBy(let orderBy):
            return .orderBy(orderBy)
        case .fusion(let fusion):
            return .fusion(fusion)
        case .sampleRandom:
            return .sample
        }
    }

    /// Cosine normalisation of an example of a custom objective (zero vectors
    /// stay as they are, as in Qdrant's `cosine_preprocess`).
    private func prepareCustom(_ vector: [Float], using: String) throws -> [Float] {
        let params = try vectorParams(of: using)
        // A multivector example: its rows, each normalised under Cosine.
        if params.isMultiVector { return try collection.prepare(vector, name: using, params: params, what: "example") }
        guard params.distance == .cosine else { return vector }
        var normalized = vector
        return VectorKernels.normalize(&normalized) ? normalized : vector
    }

    /// A nearest query vector as the search prepares it (normalised under Cosine).
    private func prepareNearest(_ vector: [Float], using: String) throws -> [Float] {
        guard try vectorParams(of: using).distance == .cosine else { return vector }
        var normalized = vector
        guard VectorKernels.normalize(&normalized) else {
            throw StrataError.invalid("query vector is all zeros and cannot be normalised for Cosine distance")
        }
        return normalized
    }

    /// Qdrant's `avg_vector_for_recommendation`: avg(positive), or
    /// avg(positive) + avg(positive) − avg(negative) when there are negatives.
    static func averageVector(positive: [[Float]], negative: [[Float]]) -> [Float] {
        func average(_ vectors: [[Float]]) -> [Float] {
            var sum = [Float](repeating: 0, count: vectors[0].count)
            for vector in vectors { for i in sum.indices { sum[i] += vector[i] } }
            let count = Float(vectors.count)
            return sum.map { $0 / count }
        }
        let positiveAverage = average(positive)
        guard !negative.isEmpty else { return positiveAverage }
        let negativeAverage = average(negative)
        return zip(positiveAverage, negativeAverage).map { pos, neg in pos + pos - neg }
    }

    // MARK: - Scores

    /// Qdrant's raw similarity (larger is better): the dot product for Cosine
    /// and Dot, −Σ(a−b)² for Euclid, −Σ|a−b| for Manhattan.
    static func similarity(_ distance: Distance, _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        switch distance {
        case .cosine, .dot: VectorKernels.dot(a, b)
        case .euclid: -VectorKernels.squaredL2(a, b)
        case .manhattan: -VectorKernels.manhattan(a, b)
        }
    }

    static func similarity(_ distance: Distance, _ a: [Float], _ b: UnsafeBufferPointer<Float>) -> Float {
        a.withUnsafeBufferPointer { similarity(distance, $0, b) }
    }

    /// The score a nearest search reports (Strata's and Qdrant's convention).
    static func nearestScore(_ distance: Distance, _ query: [Float], _ stored: [Float]) -> Float {
        query.withUnsafeBufferPointer { q in
            stored.withUnsafeBufferPointer { v in
                VectorKernels.score(metric: distance, query: q.baseAddress!, vector: v.baseAddress!, dim: min(q.count, v.count))
            }
        }
    }

    /// x / (1 + |x|), in (−1, 1).
    static func fastSigmoid(_ x: Float) -> Float { x / (1 + abs(x)) }
    /// 0.5 · (fastSigmoid(x) + 1), in (0, 1).
    static func scaledFastSigmoid(_ x: Float) -> Float { 0.5 * (fastSigmoid(x) + 1) }

    /// The scorer of a custom objective over a stored vector.
    private func customScorer(_ query: ResolvedQuery, params: VectorParams) -> (UnsafeBufferPointer<Float>) -> Float {
        let distance = params.distance
        if params.isMultiVector {
            // Multivectors compare by Qdrant's raw max_sim, the example's rows as the query.
            let dim = params.size
            let similarity: ([Float], UnsafeBufferPointer<Float>) -> Float = { example, stored in
                var scratch: [Float] = []
                return example.withUnsafeBufferPointer { e in
                    MaxSim.similarity(metric: distance, query: e.baseAddress!, queryRows: e.count / dim, rows: stored.baseAddress!,
                                      rowCount: stored.count / dim, dim: dim, scratch: &scratch)
                }
            }
            return Self.customScorer(query, similarity: similarity)
        }
        return Self.customScorer(query) { example, stored in Self.similarity(distance, example, stored) }
    }

    /// The scorer of a custom objective, given how an example compares with a
    /// stored vector (the formulas: `CustomObjective`).
    private static func customScorer(_ query: ResolvedQuery, similarity: @escaping ([Float], UnsafeBufferPointer<Float>) -> Float)
        -> (UnsafeBufferPointer<Float>) -> Float
    {
        let objective: CustomObjective<[Float]>
        switch query {
        case .bestScore(let positive, let negative): objective = .bestScore(positive: positive, negative: negative)
        case .sumScores(let positive, let negative): objective = .sumScores(positive: positive, negative: negative)
        case .discover(let target, let pairs): objective = .discover(target: target, pairs: pairs)
        case .context(let pairs): objective = .context(pairs: pairs)
        default: preconditionFailure("not a custom objective")
        }
        return { stored in objective.score { example in similarity(example, stored) } }
    }

    /// The candidates (those that exist and have vector `using`) scored by `score` over their stored vector.
    private func scoreCandidates(_ ids: [PointID], using: String, withVector: Bool, score: ([Float]) -> Float) throws -> [ScoredPoint] {
        try collection.retrieve(ids, withPayload: false, withVector: true).compactMap { record in
            guard let stored = record.vectors?[using] else { return nil }
            return ScoredPoint(id: record.id, version: record.version, score: score(stored),
                               vectors: withVector ? [using: stored] : nil)
        }
    }

    /// Best first; equal scores by id.
    static func order(higherIsBetter: Bool) -> (ScoredPoint, ScoredPoint) -> Bool {
        { a, b in a.score != b.score ? (higherIsBetter ? a.score > b.score : a.score < b.score) : a.id < b.id }
    }

    /// Keeps the points at least as good as the threshold (the list is sorted best first).
    private func applyThreshold(_ points: [ScoredPoint], _ threshold: Float?, higherIsBetter: Bool) -> [ScoredPoint] {
        guard let threshold else { return points }
        return points.filter { higherIsBetter ? $0.score >= threshold : $0.score <= threshold }
    }

    private func ordered(_ orderBy: Collection.OrderBy, filter: Filter?, limit: Int) throws -> [ScoredPoint] {
        try collection.store.ordered(by: try Collection.path(orderBy.key), descending: orderBy.descending, startFrom: orderBy.startFrom,
                                     filter: filter, limit: limit, withPayload: false, withVector: false)
            .map { ScoredPoint(id: $0.record.id, version: $0.record.version, score: 1, orderValue: $0.value) }
    }

    // MARK: - Fusion (Qdrant's rrf_scoring and score_fusion)

    static func fuse(_ sources: [[ScoredPoint]], _ fusion: Fusion) throws -> [ScoredPoint] {
        var fused: [PointID: ScoredPoint] = [:]
        var order: [PointID] = []
        func add(_ point: ScoredPoint, _ score: Float) {
            if fused[point.id] != nil {
                fused[point.id]!.score += score
            } else {
                var first = point
                first.score = score
                first.orderValue = nil
                fused[point.id] = first
                order.append(point.id)
            }
        }
        switch fusion {
        case .rrf(let k, let weights):
            for (index, source) in sources.enumerated() {
                let weight = weights?[index] ?? 1
                for (position, point) in source.enumerated() {
                    add(point, rrfScore(position: position, k: k, weight: weight))
                }
            }
        case .dbsf:
            for source in sources {
                for (point, score) in zip(source, distributionNormalized(source.map(\.score))) { add(point, score) }
            }
        }
        return order.map { fused[$0]! }.sorted(by: Self.order(higherIsBetter: true))
    }

    /// 1 / ((position + 1) / weight + k − 1), position from 0; 0 for a weight ≤ 0.
    static func rrfScore(position: Int, k: Int, weight: Float) -> Float {
        guard weight > 0 else { return 0 }
        return 1 / (Float(position + 1) / weight + Float(k) - 1)
    }

    /// Scores mapped by (s − (μ − 3σ)) / 6σ (σ of the sample, Welford's method
    /// in Float as Qdrant); one score → 0.5; all equal → 0.5.
    static func distributionNormalized(_ scores: [Float]) -> [Float] {
        guard scores.count >= 2 else { return scores.map { _ in 0.5 } }
        var mean: Float = 0
        var aggregate: Float = 0
        for (index, score) in scores.enumerated() {
            let oldDelta = score - mean
            mean += oldDelta / Float(index + 1)
            aggregate += oldDelta * (score - mean)
        }
        let deviation = (aggregate / Float(scores.count - 1)).squareRoot()
        let low = mean - 3 * deviation
        let high = mean + 3 * deviation
        guard low != high else { return scores.map { _ in 0.5 } }
        return scores.map { ($0 - low) / (high - low) }
    }

    // MARK: - MMR (Qdrant's maximal_marginal_relevance)

    /// Re-ranks `candidates` (nearest hits, best first, with vector `using`):
    /// first the most relevant, then repeatedly the one maximising
    /// λ·sim(query) − (1 − λ)·max sim(selected). Scores stay the nearest scores.
    private func maximalMarginalRelevance(_ candidates: [ScoredPoint], query: [Float], using: String, lambda: Float, limit: Int)
        throws -> [ScoredPoint]
    {
        let distance = try vectorParams(of: using).distance
        let usable = candidates.filter { $0.vectors?[using] != nil }
        let vectors = usable.map { $0.vectors![using]! }
        let stripped = usable.map { point -> ScoredPoint in
            var copy = point
            copy.vectors = nil
            return copy
        }
        guard stripped.count >= 2 else { return stripped }
        guard limit > 0 else { return [] }
        let prepared = try prepareCustom(query, using: using)
        let relevance = vectors.map { vector in vector.withUnsafeBufferPointer { Self.similarity(distance, prepared, $0) } }
        var matrix = [Float?](repeating: nil, count: vectors.count * vectors.count)
        func similarity(_ i: Int, _ j: Int) -> Float {
            if let cached = matrix[i * vectors.count + j] { return cached }
            let value = vectors[i].withUnsafeBufferPointer { a in vectors[j].withUnsafeBufferPointer { b in Self.similarity(distance, a, b) } }
            matrix[i * vectors.count + j] = value
            return value
        }
        let selected = maximalMarginalRelevanceOrder(count: stripped.count, relevance: relevance, lambda: lambda, limit: limit,
                                                     similarity: similarity)
        return selected.map { stripped[$0] }
    }

    // MARK: - Helpers

    /// `a` and `b` both (Qdrant's `Filter::merge_opts`).
    private func merge(_ a: Filter?, _ b: Filter?) -> Filter? {
        switch (a, b) {
        case (nil, nil): return nil
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return Filter(must: [.filter(a), .filter(b)])
        }
    }

    private func collectReferencedIDs(_ prefetch: Prefetch, into ids: inout Set<PointID>) {
        collectReferencedIDs(prefetch.query, lookupFrom: prefetch.lookupFrom, into: &ids)
        for child in prefetch.prefetch { collectReferencedIDs(child, into: &ids) }
    }

    /// Ids used as examples that refer to this collection (not to another via `lookupFrom`).
    private func collectReferencedIDs(_ query: QueryKind?, lookupFrom: LookupLocation?, into ids: inout Set<PointID>) {
        if let lookupFrom, lookupFrom.collection != collection.name { return }
        func add(_ input: VectorInput) { if case .point(let id) = input { ids.insert(id) } }
        switch query {
        case .nearest(let input, _)?: add(input)
        case .recommend(let positive, let negative, _)?: (positive + negative).forEach(add)
        case .discover(let target, let context)?:
            add(target)
            for pair in context { add(pair.positive); add(pair.negative) }
        case .context(let context)?:
            for pair in context { add(pair.positive); add(pair.negative) }
        default: break
        }
    }

    /// The points with payload and vectors as asked (points deleted meanwhile are dropped).
    private func hydrate(_ points: [ScoredPoint], withPayload: Bool, withVector: Bool) throws -> [ScoredPoint] {
        guard withPayload || withVector else {
            return points.map { var copy = $0; copy.payload = nil; copy.vectors = nil; return copy }
        }
        let records = try collection.retrieve(points.map(\.id), withPayload: withPayload, withVector: withVector)
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return points.compactMap { point in
            guard let record = byID[point.id] else { return nil }
            var copy = point
            copy.payload = record.payload
            copy.vectors = record.vectors
            copy.sparseVectors = record.sparseVectors
            return copy
        }
    }
}
