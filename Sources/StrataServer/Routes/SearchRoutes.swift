import Foundation
import Hummingbird
import Strata

/// Nearest-neighbour search: the query API (`points/query`, `query/batch`)
/// and the legacy search API (`points/search`, `search/batch`). All engine
/// work runs on the engine pool, so concurrent searches use every core.
extension StrataHTTPServer {
    func addSearchRoutes(to router: Router<StrataRequestContext>) {
        router.post("/collections/{collection_name}/points/query") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(QueryRequestInput.self, from: request)
            return try await self.answer(context) { QueryResponseOutput(points: try SearchEngine.query(input, in: collection)) }
        }

        router.post("/collections/{collection_name}/points/query/batch") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(QueryBatchInput.self, from: request)
            return try await self.answer(context) {
                try input.searches.map { QueryResponseOutput(points: try SearchEngine.query($0, in: collection)) }
            }
        }

        router.post("/collections/{collection_name}/points/search") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchRequestInput.self, from: request)
            return try await self.answer(context) { try SearchEngine.search(input, in: collection) }
        }

        router.post("/collections/{collection_name}/points/search/batch") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(SearchBatchInput.self, from: request)
            return try await self.answer(context) { try input.searches.map { try SearchEngine.search($0, in: collection) } }
        }
    }
}

/// Request → engine search → Qdrant's scored points. Blocking; call on the engine pool.
enum SearchEngine {
    static func query(_ input: QueryRequestInput, in collection: Strata.Collection) throws -> [ScoredPointOutput] {
        try input.checkSupported()
        let limit = input.limit ?? 10
        let offset = input.offset ?? 0
        guard limit >= 1 else { throw APIError.validation("limit: value \(limit) invalid, must be 1 or larger") }
        guard offset >= 0 else { throw APIError.validation("offset: value \(offset) invalid, must be 0 or larger") }
        let payload = input.with_payload ?? .none
        let vectors = input.with_vector ?? input.with_vectors ?? .none
        let using = input.using ?? CollectionConfig.defaultVectorName
        guard let query = input.query else {
            // No query: points in id order (Qdrant's behaviour), score 0.
            let page = try collection.scroll(offset: nil, limit: offset + limit, filter: input.filter.engine,
                                             withPayload: payload.wantsPayload, withVector: vectors.wantsVectors)
            return page.points.dropFirst(offset).map {
ScoredPointOutput(unscored: $0, payload: payload, vector: vectors)
            }
        }
        guard case .nearest(let nearest) = query else { throw APIError.notSupportedYet("this query kind") }
        return try nearestPoints(
            nearest, using: using, limit: limit, offset: offset, params: try input.params?.engineParams() ?? SearchParams(),
            filter: input.filter.engine, scoreThreshold: input.score_threshold, payload: payload, vectors: vectors, in: collection)
    }

    static func search(_ input: SearchRequestInput, in collection: Strata.Collection) throws -> [ScoredPointOutput] {
        try requireAbsent(input.shard_key, "shard_key")
        guard input.limit >= 1 else { throw APIError.validation("limit: value \(input.limit) invalid, must be 1 or larger") }
        let offset = input.offset ?? 0
        guard offset >= 0 else { throw APIError.validation("offset: value \(offset) invalid, must be 0 or larger") }
        return try nearestPoints(
            .vector(input.vector.vector), using: input.vector.name, limit: input.limit, offset: offset,
            params: try input.params?.engineParams() ?? SearchParams(), filter: input.filter.engine, scoreThreshold: input.score_threshold,
            payload: input.with_payload ?? .none, vectors: input.with_vector ?? input.with_vectors ?? .none, in: collection)
    }

    /// The `limit` nearest points after skipping `offset`. A query by point id
    /// uses that point's vector `using` and leaves the point itself out.
    static func nearestPoints(
        _ nearest: NearestInput, using: String, limit: Int, offset: Int, params: SearchParams, filter: Filter?, scoreThreshold: Float?,
        payload: PayloadSelector, vectors: VectorSelector, in collection: Strata.Collection
    ) throws -> [ScoredPointOutput] {
        let vector: [Float]
        var excluded: PointID?
        switch nearest {
        case .vector(let values):
            vector = values
        case .point(let id):
            guard collection.config.vectors[using] != nil else {
                throw APIError.wrongInput("Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using)")
            }
            guard let record = try collection.retrieve([id], withPayload: false, withVector: true).first else {
                throw APIError.notFound("No point with id \(id) found")
            }
            guard let stored = record.vectors?[using] else {
                throw APIError.wrongInput("point \(id) has no vector \(using.isEmpty ? "(unnamed)" : "\"\(using)\"")")
            }
            vector = stored
            excluded = id
        }
        let (wanted, overflow) = (limit + offset).addingReportingOverflow(excluded == nil ? 0 : 1)
        guard !overflow, wanted <= 1_000_000 else { throw APIError.validation("limit + offset must be at most 1000000") }
        var hits = try collection.search(
            vector, using: using, limit: wanted, params: params, filter: filter, scoreThreshold: scoreThreshold,
            withPayload: payload.wantsPayload, withVector: vectors.wantsVectors)
        if let excluded { hits.removeAll { $0.id == excluded } }
        return hits.dropFirst(offset).prefix(limit).map { ScoredPointOutput($0, payload: payload, vector: vectors) }
    }
}
