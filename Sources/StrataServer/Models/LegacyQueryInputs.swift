// Wire types of Qdrant's legacy recommendation and discovery endpoints
// (`points/recommend[/batch,/groups]`, `points/discover[/batch]`), mapped
// onto the engine's query executor like the universal query API.
import Foundation
import Strata

/// Fields shared by the legacy requests, turned into an engine query.
private func legacyQuery(
    _ kind: QueryKind, using: String?, filter: FilterInput?, params: SearchParamsInput?, limit: Int, offset: Int?,
    scoreThreshold: Float?, payload: PayloadSelector, vectors: VectorSelector, lookupFrom: LookupLocationInput?,
    shardKey: JSONValue?
) throws(APIError) -> QueryRequest {
    try requireAbsent(shardKey, "shard_key")
    try requireAbsent(lookupFrom?.shard_key, "lookup_from.shard_key")
    let (limit, offset) = try checkedPage(limit: limit, offset: offset)
    return QueryRequest(
        query: kind, using: using ?? CollectionConfig.defaultVectorName, filter: filter.engine,
        params: try params?.engineParams() ?? SearchParams(), scoreThreshold: scoreThreshold, limit: limit,
        offset: offset,
        withPayload: payload.wantsPayload, withVector: vectors.wantsVectors, lookupFrom: lookupFrom?.engine)
}

/// A legacy request answered alone (not grouped) by the query executor.
protocol LegacyQueryInput: Decodable, Sendable {
    var payloadSelector: PayloadSelector { get }
    var vectorSelector: VectorSelector { get }
    func engine() throws(APIError) -> QueryRequest
}

/// A batch of legacy requests: `{"searches": [...]}`.
protocol LegacyBatchInput: Decodable, Sendable {
    associatedtype Request: LegacyQueryInput
    var searches: [Request] { get }
}

/// `POST /collections/{c}/points/recommend` (Qdrant's `RecommendRequest`).
struct RecommendRequestInput: LegacyQueryInput {
    var positive: [VectorInputValue]?
    var negative: [VectorInputValue]?
    var strategy: String?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var limit: Int
    var offset: Int?
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var score_threshold: Float?
    var using: String?
    var lookup_from: LookupLocationInput?
    var shard_key: JSONValue?

    var payloadSelector: PayloadSelector { with_payload ?? .none }
    var vectorSelector: VectorSelector { with_vector ?? with_vectors ?? .none }

    func engine() throws(APIError) -> QueryRequest {
        let kind = QueryKind.recommend(
            positive: (positive ?? []).map(\.value), negative: (negative ?? []).map(\.value),
            strategy: try recommendStrategy(strategy))
        return try legacyQuery(
            kind, using: using, filter: filter, params: params, limit: limit, offset: offset,
            scoreThreshold: score_threshold, payload: payloadSelector, vectors: vectorSelector,
            lookupFrom: lookup_from, shardKey: shard_key)
    }
}

struct RecommendBatchInput: LegacyBatchInput {
    var searches: [RecommendRequestInput]
}

/// `POST /collections/{c}/points/recommend/groups` (Qdrant's `RecommendGroupsRequest`).
struct RecommendGroupsRequestInput: Decodable, Sendable {
    var positive: [VectorInputValue]?
    var negative: [VectorInputValue]?
    var strategy: String?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var score_threshold: Float?
    var using: String?
    var lookup_from: LookupLocationInput?
    var group_by: String
    var group_size: Int?
    var limit: Int?
    var with_lookup: WithLookupInput?
    var shard_key: JSONValue?

    var payloadSelector: PayloadSelector { with_payload ?? .none }
    var vectorSelector: VectorSelector { with_vector ?? with_vectors ?? .none }
    var grouping: GroupingInput {
        GroupingInput(group_by: group_by, group_size: group_size, limit: limit, with_lookup: with_lookup)
    }

    func engine() throws(APIError) -> QueryRequest {
        let kind = QueryKind.recommend(
            positive: (positive ?? []).map(\.value), negative: (negative ?? []).map(\.value),
            strategy: try recommendStrategy(strategy))
        return try legacyQuery(
            kind, using: using, filter: filter, params: params, limit: limit ?? 10, offset: nil,
            scoreThreshold: score_threshold, payload: payloadSelector, vectors: vectorSelector,
            lookupFrom: lookup_from, shardKey: shard_key)
    }
}

/// `POST /collections/{c}/points/discover` (Qdrant's `DiscoverRequest`): with a
/// `target` a discover query, without one a context query.
struct DiscoverRequestInput: LegacyQueryInput {
    var target: VectorInputValue?
    var context: [ContextPairInput]?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var limit: Int
    var offset: Int?
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var using: String?
    var lookup_from: LookupLocationInput?
    var shard_key: JSONValue?

    var payloadSelector: PayloadSelector { with_payload ?? .none }
    var vectorSelector: VectorSelector { with_vector ?? with_vectors ?? .none }

    func engine() throws(APIError) -> QueryRequest {
        let pairs = (context ?? []).map(\.pair)
        let kind: QueryKind = target.map { .discover(target: $0.value, context: pairs) } ?? .context(pairs)
        return try legacyQuery(
            kind, using: using, filter: filter, params: params, limit: limit, offset: offset,
            scoreThreshold: nil, payload: payloadSelector, vectors: vectorSelector,
            lookupFrom: lookup_from, shardKey: shard_key)
    }
}

struct DiscoverBatchInput: LegacyBatchInput {
    var searches: [DiscoverRequestInput]
}
