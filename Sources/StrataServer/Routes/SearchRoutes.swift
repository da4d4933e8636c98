import Foundation
import Hummingbird
import Strata

/// Searches: the universal query API (`points/query`, `query/batch`,
/// `query/groups`) and the legacy search API (`points/search`, `search/batch`,
/// `search/groups`). Everything maps onto the engine's query executor
/// (`Collection.query`, `Collection.queryGroups`); all engine work runs on the
/// engine pool, so concurrent searches use every core.
extension StrataHTTPServer {
    func addSearchRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/points/query") { request, context in
            let current = try self.collection(context, .read)
            let input = try await self.decode(QueryRequestInput.self, from: request, context)
            let collection = try self.versioned(current, input.as_of)
            // Only a node sends it, with the header ClusterRoutingMiddleware checked the secret of.
            if input.prefetch_results != nil,
                self.cluster == nil || request.headers[ClusterRoutingMiddleware.forwardedHeader] == nil
            {
                throw APIError.wrongInput("prefetch_results is internal to a Strata cluster")
            }
            return try await self.answer(context, try self.query(input, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/query/batch") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(QueryBatchInput.self, from: request, context)
            return try await self.answer(
                context, try self.queryBatch(input.searches, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/query/groups") { request, context in
            let current = try self.collection(context, .read)
            let input = try await self.decode(QueryGroupsRequestInput.self, from: request, context)
            let collection = try self.versioned(current, input.as_of)
            return try await self.answer(context, try self.queryGroups(input, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/search") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchRequestInput.self, from: request, context)
            return try await self.answer(context, try self.search(input, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/search/batch") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchBatchInput.self, from: request, context)
            return try await self.answer(
                context, try self.searchBatch(input.searches, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/search/groups") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchGroupsRequestInput.self, from: request, context)
            return try await self.answer(context, try self.searchGroups(input, in: collection, context.scope(request)))
        }

        addLegacyRoutes("recommend", RecommendBatchInput.self, to: router)
        router.post("/collections/{collection_name}/points/recommend/groups") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(RecommendGroupsRequestInput.self, from: request, context)
            return try await self.answer(
                context, try self.recommendGroups(input, in: collection, context.scope(request)))
        }
        addLegacyRoutes("discover", DiscoverBatchInput.self, to: router)
    }

    /// `POST …/points/<kind>` and `…/points/<kind>/batch`: one legacy request
    /// and a batch of them, answered by the query executor.
    private func addLegacyRoutes<Batch: LegacyBatchInput>(
        _ kind: String, _ batch: Batch.Type, to router: Router<StrataRequestContext>
    ) {
        router.post("/collections/{collection_name}/points/\(kind)") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(Batch.Request.self, from: request, context)
            return try await self.answer(context, try self.legacyQuery(input, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/\(kind)/batch") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(Batch.self, from: request, context)
            return try await self.answer(
                context, try self.legacyQueryBatch(input.searches, in: collection, context.scope(request)))
        }
    }
}

/// Request → engine query → Qdrant's shapes. Blocking; call on the engine pool.
enum SearchEngine {
    static func query(
        _ input: QueryRequestInput, in collection: Strata.Collection,
        lookup: @escaping (String) throws -> Strata.Collection, cancellation: Cancellation? = nil
    ) throws -> [ScoredPointOutput] {
        try run(
            try input.engine(), (input.payloadSelector, input.vectorSelector), in: collection, lookup: lookup,
            cancellation: cancellation)
    }

    /// Runs an engine query and prints its points with the request's selectors.
    static func run(
        _ request: QueryRequest, _ selectors: (PayloadSelector, VectorSelector), in collection: Strata.Collection,
        lookup: @escaping (String) throws -> Strata.Collection, cancellation: Cancellation? = nil
    ) throws -> [ScoredPointOutput] {
        let hits = try engine { try collection.query(request, collections: lookup, cancellation: cancellation) }
        let rowSizes = collection.config.multiVectorRowSizes
        return hits.map { ScoredPointOutput($0, payload: selectors.0, vector: selectors.1, rowSizes: rowSizes) }
    }

    static func groups(
        _ input: QueryRequestInput, grouping: GroupingInput, in collection: Strata.Collection,
        lookup: @escaping (String) throws -> Strata.Collection, cancellation: Cancellation? = nil
    ) throws -> GroupsResultOutput {
        try groups(
            try input.engine(), selectors: (input.payloadSelector, input.vectorSelector), grouping: grouping,
            in: collection, lookup: lookup, cancellation: cancellation)
    }

    static func groups(
        _ request: QueryRequest, selectors: (PayloadSelector, VectorSelector), grouping: GroupingInput,
        in collection: Strata.Collection, lookup: @escaping (String) throws -> Strata.Collection,
        cancellation: Cancellation? = nil
    ) throws -> GroupsResultOutput {
        let (groupBy, groupSize, groups) = try grouping.checked()
        let withLookup = grouping.with_lookup
        let result = try engine {
            try collection.queryGroups(
                request, groupBy: groupBy, groupSize: groupSize, limit: groups, withLookup: withLookup?.engine,
                collections: lookup, cancellation: cancellation)
        }
        let rowSizes = collection.config.multiVectorRowSizes
        let lookupRowSizes = try withLookup.map { try lookup($0.collection).config.multiVectorRowSizes } ?? [:]
        return GroupsResultOutput(
            groups: result.map {
                PointGroupOutput(
                    $0, payload: selectors.0, vector: selectors.1, rowSizes: rowSizes,
                    lookup: withLookup.map { ($0.with_payload, $0.with_vectors, rowSizes: lookupRowSizes) })
            })
    }

    static func search(
        _ input: SearchRequestInput, in collection: Strata.Collection, cancellation: Cancellation? = nil
    ) throws -> [ScoredPointOutput] {
        try requireAbsent(input.shard_key, "shard_key")
        let (limit, offset) = try checkedPage(limit: input.limit, offset: input.offset)
        let payload = input.with_payload ?? .none
        let vectors = input.with_vector ?? input.with_vectors ?? .none
        let request = QueryRequest(
            query: .nearest(.vector(input.vector.vector)), using: input.vector.name, filter: input.filter.engine,
            params: try input.params?.engineParams() ?? SearchParams(), scoreThreshold: input.score_threshold,
            limit: limit,
            offset: offset, withPayload: payload.wantsPayload, withVector: vectors.wantsVectors)
        let rowSizes = collection.config.multiVectorRowSizes
        return try engine { try collection.query(request, cancellation: cancellation) }.map {
            ScoredPointOutput($0, payload: payload, vector: vectors, rowSizes: rowSizes)
        }
    }

    /// Runs an engine read, mapping its errors.
    private static func engine<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }
}
