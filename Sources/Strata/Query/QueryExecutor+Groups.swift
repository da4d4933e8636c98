import Foundation

// Grouped queries (Qdrant's query/groups): the query's hits grouped by a
// payload value, with the root stage asked for more hits until enough
// groups are full.

extension QueryExecutor {
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
        var root = request.stage
        root.filter = merge(root.filter?.isEmpty == true ? nil : root.filter, Filter(mustNot: [.isEmpty(key: path)]))
        root.prefetch = root.prefetch.map { Self.scaled($0, by: groupSize) }
        // `limit` is the number of groups: the default MMR candidate count.
        root.limit = groups
        let (product, overflow) = groups.multipliedReportingOverflow(by: groupSize)
        var take = overflow ? Int.max / 4 : product
        var keys: [JSONValue] = []
        var members: [JSONValue: [ScoredPoint]] = [:]
        while true {
            keys = []
            members = [:]
            let hits = try rootStage(root, take: take)
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
            for record in try records(
                ids, withPayload: withLookup.withPayload, withVector: withLookup.withVector, in: target)
            {
                lookups[record.id] = record
            }
        }
        return chosen.map { key in
            PointGroup(
                id: key,
                hits: members[key]!.compactMap { hit in
                    byID[hit.id].map {
                        var h = $0; h.score = hit.score; return h
                    }
                },
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
