import Foundation
import Strata

/// Searches: the universal query API, the legacy search, recommend and
/// discover APIs, and the distance matrix. Each checks strict mode and
/// returns the engine work for the pool (`SearchEngine` in Routes/SearchRoutes.swift).
extension StrataHTTPServer {
    func query(
        _ input: QueryRequestInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<QueryResponseOutput>
    {
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkQuery(try input.engine())
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            QueryResponseOutput(
                points: try SearchEngine.query(input, in: collection, lookup: lookup, cancellation: cancellation))
        }
    }

    func queryBatch(
        _ searches: [QueryRequestInput], in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<[QueryResponseOutput]>
    {
        try enforceStrictMode(collection, timeout: scope.timeout, batch: searches.count) { check throws(APIError) in
            for search in searches { try check.checkQuery(try search.engine()) }
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            try searches.map {
                QueryResponseOutput(
                    points: try SearchEngine.query($0, in: collection, lookup: lookup, cancellation: cancellation))
            }
        }
    }

    func queryGroups(
        _ input: QueryGroupsRequestInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<GroupsResultOutput>
    {
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkGroups(try input.asQuery.engine(), input.grouping)
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            try SearchEngine.groups(
                input.asQuery, grouping: input.grouping, in: collection, lookup: lookup, cancellation: cancellation)
        }
    }

    func search(
        _ input: SearchRequestInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<[ScoredPointOutput]>
    {
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkSearch(input)
        }
        let cancellation = scope.cancellation
        return { try SearchEngine.search(input, in: collection, cancellation: cancellation) }
    }

    func searchBatch(
        _ searches: [SearchRequestInput], in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<[[ScoredPointOutput]]>
    {
        try enforceStrictMode(collection, timeout: scope.timeout, batch: searches.count) { check throws(APIError) in
            for search in searches { try check.checkSearch(search) }
        }
        let cancellation = scope.cancellation
        return { try searches.map { try SearchEngine.search($0, in: collection, cancellation: cancellation) } }
    }

    func searchGroups(
        _ input: SearchGroupsRequestInput, in collection: Strata.Collection, _ scope: RequestScope
    )
        throws -> EngineRead<GroupsResultOutput>
    {
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            let (groupBy, groupSize, groups) = try input.grouping.checked()
            try check.checkGroupBy(groupBy)
            try check.checkSearch(
                limit: groups * groupSize, filter: input.filter.engine,
                params: try input.params?.engineParams() ?? SearchParams())
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            let query = QueryRequestInput(
                query: nil, prefetch: nil, using: nil, filter: input.filter, params: input.params,
                score_threshold: input.score_threshold, limit: nil, offset: nil, with_vector: input.with_vector,
                with_vectors: input.with_vectors, with_payload: input.with_payload, lookup_from: nil,
                shard_key: input.shard_key)
            var request = try query.engine()
            request.using = input.vector.name
            request.query = .nearest(.vector(input.vector.vector))
            return try SearchEngine.groups(
                request, selectors: (query.payloadSelector, query.vectorSelector),
                grouping: input.grouping, in: collection, lookup: lookup, cancellation: cancellation)
        }
    }

    /// One legacy recommend or discover request, answered by the query executor.
    func legacyQuery<Request: LegacyQueryInput>(
        _ input: Request, in collection: Strata.Collection, _ scope: RequestScope
    ) throws -> EngineRead<[ScoredPointOutput]> {
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkQuery(try input.engine(), universal: false)
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            try SearchEngine.run(
                try input.engine(), (input.payloadSelector, input.vectorSelector), in: collection, lookup: lookup,
                cancellation: cancellation)
        }
    }

    /// A batch of legacy recommend or discover requests.
    func legacyQueryBatch<Request: LegacyQueryInput>(
        _ searches: [Request], in collection: Strata.Collection, _ scope: RequestScope
    ) throws -> EngineRead<[[ScoredPointOutput]]> {
        try enforceStrictMode(collection, timeout: scope.timeout, batch: searches.count) { check throws(APIError) in
            for search in searches { try check.checkQuery(try search.engine(), universal: false) }
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            try searches.map {
                try SearchEngine.run(
                    try $0.engine(), ($0.payloadSelector, $0.vectorSelector), in: collection, lookup: lookup,
                    cancellation: cancellation)
            }
        }
    }

    func recommendGroups(
        _ input: RecommendGroupsRequestInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws -> EngineRead<GroupsResultOutput> {
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkGroups(try input.engine(), input.grouping, universal: false)
        }
        let (lookup, cancellation) = (lookupResolver(scope.access), scope.cancellation)
        return {
            try SearchEngine.groups(
                try input.engine(), selectors: (input.payloadSelector, input.vectorSelector),
                grouping: input.grouping, in: collection, lookup: lookup, cancellation: cancellation)
        }
    }

}
