import Foundation

// Grouped queries (Qdrant's query/groups): the query's hits grouped by a
// payload value. As Qdrant's group-by driver: up to 5 requests that each
// look for new groups (points already grouped and groups already full
// filtered out), then up to 5 that fill the best groups not yet full; each
// request's filter reaches the prefetches too, so a group can fill from
// points beyond the first prefetch window.

extension QueryExecutor {
    /// Requests each phase of a grouped query may spend (Qdrant's
    /// `MAX_GET_GROUPS_REQUESTS` and `MAX_GROUP_FILLING_REQUESTS`).
    static let groupRequestBudget = 5

    /// `Collection.queryGroups` for a request validated by the caller.
    /// Throws `.invalidArgument` for a malformed `groupBy` path, and what
    /// the stages and lookups throw.
    func groups(
        _ request: QueryRequest, groupBy: String, groupSize: Int, groups: Int, withLookup: GroupLookup?
    ) throws -> [PointGroup] {
        let path = try Collection.path(groupBy)
        guard groupSize > 0, groups > 0 else { return [] }
        // Qdrant's shape_candidates_query: only points holding the field; nested
        // prefetch limits scaled by group_size so enough candidates survive.
        var base = request.stage
        base.filter = merge(base.filter?.isEmpty == true ? nil : base.filter, Filter(mustNot: [.isEmpty(key: path)]))
        base.prefetch = base.prefetch.map { Self.scaled($0, by: groupSize) }
        // `limit` is the number of groups: the default MMR candidate count.
        base.limit = groups
        let (product, overflow) = groups.multipliedReportingOverflow(by: groupSize)
        let candidates = overflow ? Int.max / 4 : product
        var aggregator = GroupAggregator(
            groups: groups, groupSize: groupSize, higherIsBetter: resultOrder(of: request.stage))
        var collecting = Self.groupRequestBudget, filling = Self.groupRequestBudget
        while collecting > 0 || filling > 0 {
            var extra = Filter()
            let isCollecting = collecting > 0
            if isCollecting {
                collecting -= 1
                extra.must = Self.conditions(path, aggregator.fullKeys) { .except($0) }
            } else {
                filling -= 1
                extra.must = Self.conditions(path, aggregator.unfilledBestKeys) { .any($0) }
            }
            if !aggregator.ids.isEmpty { extra.mustNot = [.hasID(aggregator.ids)] }
            var stage = base
            stage.filter = merge(stage.filter, extra.isEmpty ? nil : extra)
            let hits = try hydrate(try rootStage(stage, take: candidates), withPayload: true, withVector: false)
            for hit in hits {
                if let keys = Self.groupKeys(of: hit, at: path) { aggregator.add(hit, keys: keys) }
            }
            let enough = aggregator.filledBestCount >= groups
            if enough || (!isCollecting && hits.isEmpty) { break }
            if isCollecting && hits.isEmpty { collecting = 0 }
        }
        let chosen = aggregator.distilled()
        // The hits with what the request asked for (payload, vectors).
        let hydrated = try hydrate(
            chosen.flatMap(\.hits), withPayload: request.withPayload, withVector: request.withVector)
        let byID = Dictionary(hydrated.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var lookups: [PointID: Record] = [:]
        if let withLookup {
            let target = try lookupCollection(withLookup.collection)
            let ids = chosen.compactMap { Self.pointID(fromGroupKey: $0.key) }
            for record in try records(
                ids, withPayload: withLookup.withPayload, withVector: withLookup.withVector, in: target)
            {
                lookups[record.id] = record
            }
        }
        return chosen.map { group in
            PointGroup(
                id: group.key,
                hits: group.hits.compactMap { hit in
                    byID[hit.id].map {
                        var h = $0; h.score = hit.score; return h
                    }
                },
                lookup: Self.pointID(fromGroupKey: group.key).flatMap { lookups[$0] })
        }
    }

    /// Whether a larger score ranks first for the stage's query (Qdrant's
    /// `query_result_order`): distance order for nearest (and the average
    /// vector recommendation it becomes), larger for other vector queries,
    /// fusion and formulas; nil where results have no score order (MMR,
    /// random samples, order_by, id order).
    private func resultOrder(of stage: QueryStage) -> Bool? {
        let distance = collection.config.vectors[stage.using]?.distance
        switch stage.query {
        case .nearest(_, let mmr)?: return mmr == nil ? (distance?.higherIsBetter ?? true) : nil
        case .recommend(_, _, .averageVector)?: return distance?.higherIsBetter ?? true
        case .recommend?, .discover?, .context?, .relevanceFeedback?, .fusion?, .formula?: return true
        case .orderBy?, .sampleRandom?, nil: return nil
        }
    }

    /// One `match` condition per value type (strings, integers), as Qdrant's
    /// `values_to_any_variants`; none without values.
    private static func conditions(
        _ path: PayloadPath, _ keys: [JSONValue], _ match: ([MatchValue]) -> Match
    )
        -> [Condition]
    {
        var strings: [MatchValue] = [], integers: [MatchValue] = []
        for key in keys {
            switch key {
            case .string(let s): strings.append(.keyword(s))
            case .int(let i): integers.append(.integer(i))
            default: break
            }
        }
        return [strings, integers].filter { !$0.isEmpty }.map { .field(FieldCondition(key: path, .match(match($0)))) }
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

    /// `stage` with its limit and those of every stage below it multiplied
    /// by `factor` (capped far below overflow).
    private static func scaled(_ stage: QueryStage, by factor: Int) -> QueryStage {
        var copy = stage
        let (product, overflow) = stage.limit.multipliedReportingOverflow(by: factor)
        copy.limit = overflow ? Int.max / 4 : product
        copy.prefetch = stage.prefetch.map { scaled($0, by: factor) }
        return copy
    }
}

/// The groups a grouped query has found so far (Qdrant's
/// `GroupsAggregator`): every hit of every request under each of its group
/// keys; a group is full at `groupSize` hits, may hold more, and gives its
/// best `groupSize` at the end. Groups rank by their best hit.
private struct GroupAggregator {
    let groups: Int
    let groupSize: Int
    /// nil: no score order; groups then rank in the order they were found.
    let higherIsBetter: Bool?
    private var keys: [JSONValue] = []
    /// Per group, its hits in the order they arrived.
    private var members: [JSONValue: [ScoredPoint]] = [:]
    private var memberIDs: [JSONValue: Set<PointID>] = [:]
    private var best: [JSONValue: ScoredPoint] = [:]
    private(set) var full: Set<JSONValue> = []
    private(set) var ids: Set<PointID> = []

    init(groups: Int, groupSize: Int, higherIsBetter: Bool?) {
        self.groups = groups
        self.groupSize = groupSize
        self.higherIsBetter = higherIsBetter
    }

    mutating func add(_ hit: ScoredPoint, keys groupKeys: [JSONValue]) {
        for key in groupKeys {
            if members[key] == nil {
                keys.append(key)
                members[key] = []
            }
            if memberIDs[key, default: []].insert(hit.id).inserted {
                members[key]!.append(hit)
                ids.insert(hit.id)
            }
            if members[key]!.count == groupSize { full.insert(key) }
            if let current = best[key] {
                if let higher = higherIsBetter, higher ? hit.score > current.score : hit.score < current.score {
                    best[key] = hit
                }
            } else {
                best[key] = hit
            }
        }
    }

    var fullKeys: [JSONValue] { keys.filter { full.contains($0) } }

    /// The best `groups` keys, best first (stable for equal scores).
    var bestKeys: [JSONValue] {
        guard let higher = higherIsBetter else { return Array(keys.prefix(groups)) }
        let ranked = keys.enumerated().sorted { a, b in
            let x = best[a.element]!.score, y = best[b.element]!.score
            return x != y ? (higher ? x > y : x < y) : a.offset < b.offset
        }
        return ranked.prefix(groups).map(\.element)
    }

    var unfilledBestKeys: [JSONValue] { bestKeys.filter { !full.contains($0) } }
    var filledBestCount: Int { bestKeys.filter { full.contains($0) }.count }

    /// The best groups, each with its best `groupSize` hits (ties by id;
    /// without a score order, the first that arrived).
    func distilled() -> [(key: JSONValue, hits: [ScoredPoint])] {
        let order: (ScoredPoint, ScoredPoint) -> Bool = QueryExecutor.order(higherIsBetter: higherIsBetter ?? true)
        return bestKeys.map { key in
            let hits = members[key]!
            let ranked = higherIsBetter == nil ? hits : hits.sorted(by: order)
            return (key, Array(ranked.prefix(groupSize)))
        }
    }
}
