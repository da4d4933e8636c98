// Wire types of the search endpoints: the universal query API
// (`points/query`, `query/batch`, `query/groups`) and the legacy
// `points/search` (and `search/groups`). Field names are Qdrant's; see
// CommonInputs.swift. The engine types they map to are in Sources/Strata/Query.
import Foundation
import Strata

/// A dense vector, a multivector, a sparse vector, a document or an existing
/// point's id (Qdrant's `VectorInput`).
struct VectorInputValue: Decodable, Sendable, Equatable {
    var value: VectorInput

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            value = .point(.number(number))
        } else if let text = try? container.decode(String.self) {
            guard let uuid = UUID(uuidString: text) else {
                throw invalidValue(
                    decoder, "a query point id must be an unsigned integer or a UUID string, got \"\(text)\"")
            }
            value = .point(.uuid(uuid))
        } else {
            do {
                switch try PointVectorValue(from: decoder) {
                case .dense(let values): value = .dense(values)
                case .multi(let rows): value = .multi(rows)
                case .sparse(let vector): value = .sparse(vector)
                case .document(let document): value = .sparse(try document.encoder().query(document.text))
                }
            } catch  where isShapeMismatch(error, at: decoder) {
                throw invalidValue(
                    decoder,
                    "the query must be a dense vector, a multivector (array of rows), a sparse vector, a document or a point id"
                )
            }
        }
    }
}

/// One context pair: `{"positive": …, "negative": …}`.
struct ContextPairInput: Decodable, Sendable {
    var positive: VectorInputValue
    var negative: VectorInputValue
    var pair: ContextPair { ContextPair(positive: positive.value, negative: negative.value) }
}

/// One pair or a list of pairs (`context` of discover and context queries).
private struct ContextPairsInput: Decodable {
    var pairs: [ContextPair]
    private typealias Pair = ContextPairInput

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            pairs = []
        } else if let list = try? container.decode([Pair].self) {
            pairs = list.map(\.pair)
        } else {
            pairs = [try Pair(from: decoder).pair]
        }
    }
}

/// `query` of a query request: a vector or id (nearest), or one of Qdrant's
/// query objects.
struct QueryInput: Decodable, Sendable {
    var kind: QueryKind

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct NearestObject: Decodable {
        struct MMRInput: Decodable {
            var diversity: Float?
            var candidates_limit: Int?
        }
        var nearest: VectorInputValue
        var mmr: MMRInput?
    }

    private struct RecommendObject: Decodable {
        struct Input: Decodable {
            var positive: [VectorInputValue]?
            var negative: [VectorInputValue]?
            var strategy: String?
        }
        var recommend: Input
    }

    private struct DiscoverObject: Decodable {
        struct Input: Decodable {
            var target: VectorInputValue
            var context: ContextPairsInput?
        }
        var discover: Input
    }

    private struct ContextObject: Decodable { var context: ContextPairsInput? }
    private struct OrderByObject: Decodable { var order_by: OrderByInput }
    private struct FusionObject: Decodable { var fusion: String }
    private struct RRFObject: Decodable {
        struct Input: Decodable {
            var k: Int?
            var weights: [Float]?
        }
        var rrf: Input
    }
    private struct SampleObject: Decodable { var sample: String }
    private struct RelevanceFeedbackObject: Decodable {
        struct Item: Decodable {
            var example: VectorInputValue
            var score: Float
        }
        struct Naive: Decodable {
            var a: Float
            var b: Float
            var c: Float
        }
        struct Strategy: Decodable { var naive: Naive }
        struct Input: Decodable {
            var target: VectorInputValue
            var feedback: [Item]
            var strategy: Strategy
        }
        var relevance_feedback: Input
    }
    private struct FormulaObject: Decodable {
        var formula: JSONValue
        var defaults: JSONValue?
    }

    init(from decoder: any Decoder) throws {
        guard let keyed = try? decoder.container(keyedBy: AnyKey.self) else {
            kind = .nearest(try VectorInputValue(from: decoder).value)
            return
        }
        let keys = Set(keyed.allKeys.map(\.stringValue))
        if keys.contains("indices") || keys.contains("text") {
            // A sparse vector or a document.
            kind = .nearest(try VectorInputValue(from: decoder).value)
        } else if keys.contains("nearest") {
            let object = try NearestObject(from: decoder)
            kind = try QueryInput.nearest(
                object.nearest.value,
                mmr: object.mmr.map { MMR(diversity: $0.diversity, candidatesLimit: $0.candidates_limit) })
        } else if keys.contains("recommend") {
            let input = try RecommendObject(from: decoder).recommend
            let strategy = try recommendStrategy(input.strategy)
            kind = .recommend(
                positive: (input.positive ?? []).map(\.value), negative: (input.negative ?? []).map(\.value),
                strategy: strategy)
        } else if keys.contains("discover") {
            let input = try DiscoverObject(from: decoder).discover
            kind = .discover(target: input.target.value, context: input.context?.pairs ?? [])
        } else if keys.contains("context") {
            kind = .context(try ContextObject(from: decoder).context?.pairs ?? [])
        } else if keys.contains("order_by") {
            let orderBy = try OrderByObject(from: decoder).order_by
            kind = .orderBy(
                Strata.Collection.OrderBy(
                    key: orderBy.key, descending: orderBy.descending, startFrom: orderBy.startFrom))
        } else if keys.contains("fusion") {
            switch try FusionObject(from: decoder).fusion {
            case "rrf": kind = .fusion(.rrf())
            case "dbsf": kind = .fusion(.dbsf)
            case let other: throw invalidValue(decoder, "fusion must be \"rrf\" or \"dbsf\", got \"\(other)\"")
            }
        } else if keys.contains("rrf") {
            let input = try RRFObject(from: decoder).rrf
            kind = try QueryInput.rrf(k: input.k, weights: input.weights)
        } else if keys.contains("sample") {
            let sample = try SampleObject(from: decoder).sample
            guard sample == "random" else {
                throw invalidValue(decoder, "sample must be \"random\", got \"\(sample)\"")
            }
            kind = .sampleRandom
        } else if keys.contains("formula") {
            let object = try FormulaObject(from: decoder)
            kind = .formula(try FormulaInput.formula(object.formula, defaults: object.defaults))
        } else if keys.contains("relevance_feedback") {
            let input = try RelevanceFeedbackObject(from: decoder).relevance_feedback
            let naive = input.strategy.naive
            kind = try QueryInput.relevanceFeedback(
                target: input.target.value,
                feedback: input.feedback.map { FeedbackItem(example: $0.example.value, score: $0.score) },
                strategy: .naive(a: naive.a, b: naive.b, c: naive.c))
        } else {
            throw invalidValue(
                decoder,
                "unknown query \(keys.sorted()); expected a vector, a point id, or one of nearest, recommend, discover, context, order_by, fusion, rrf, sample, formula, relevance_feedback"
            )
        }
    }
}

// The checks of query objects every transport shares (Qdrant's request
// validation: 422).
extension QueryInput {
    /// A nearest query, re-ranked by MMR when `mmr` is given.
    static func nearest(_ vector: VectorInput, mmr: MMR?) throws(APIError) -> QueryKind {
        guard let mmr else { return .nearest(vector) }
        if let diversity = mmr.diversity, !(0...1).contains(diversity) {
            throw APIError.validation("mmr.diversity: value \(diversity) invalid, must be between 0 and 1")
        }
        if let candidates = mmr.candidatesLimit, !(0...16384).contains(candidates) {
            throw APIError.validation(
                "mmr.candidates_limit: value \(candidates) invalid, must be between 0 and 16384")
        }
        return .nearest(vector, mmr: mmr)
    }

    /// Reciprocal rank fusion with an optional `k` (default Qdrant's) and weights.
    static func rrf(k: Int?, weights: [Float]?) throws(APIError) -> QueryKind {
        if let k, k < 1 { throw APIError.validation("rrf.k: value \(k) invalid, must be 1 or larger") }
        return .fusion(.rrf(k: k ?? Fusion.defaultRRFK, weights: weights))
    }

    /// A relevance feedback query: at least one feedback item, and b ≥ 0.
    static func relevanceFeedback(
        target: VectorInput, feedback: [FeedbackItem], strategy: FeedbackStrategy
    ) throws(APIError) -> QueryKind {
        guard !feedback.isEmpty else {
            throw APIError.validation("relevance_feedback: feedback elements must be non-empty")
        }
        if case .naive(_, let b, _) = strategy, !(b >= 0) {
            throw APIError.validation("relevance_feedback.strategy.naive.b: value \(b) invalid, must be 0.0 or larger")
        }
        return .relevanceFeedback(target: target, feedback: feedback, strategy: strategy)
    }
}

/// A recommend `strategy` name (nil: average_vector).
func recommendStrategy(_ name: String?) throws(APIError) -> RecommendStrategy {
    guard let name else { return .averageVector }
    guard let known = RecommendStrategy(rawValue: name) else {
        throw APIError.wrongInput(
            "recommend strategy must be average_vector, best_score or sum_scores, got \"\(name)\"")
    }
    return known
}

/// `lookup_from` (Qdrant's `LookupLocation`).
struct LookupLocationInput: Decodable, Sendable {
    var collection: String
    var vector: String?
    var shard_key: JSONValue?

    var engine: LookupLocation { LookupLocation(collection: collection, vector: vector) }
}

/// `prefetch`: one prefetch object, a list of them, or null.
struct PrefetchListInput: Decodable, Sendable {
    var items: [PrefetchInput]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            items = []
        } else {
            do {
                items = try [PrefetchInput](from: decoder)
            } catch  where isShapeMismatch(error, at: decoder) {
                items = [try PrefetchInput(from: decoder)]
            }
        }
    }
}

/// One prefetch stage (Qdrant's `Prefetch`).
struct PrefetchInput: Decodable, Sendable {
    var prefetch: PrefetchListInput?
    var query: QueryInput?
    var using: String?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var score_threshold: Float?
    var limit: Int?
    var lookup_from: LookupLocationInput?

    func engine() throws(APIError) -> QueryStage {
        let limit = self.limit ?? 10
        try requirePositiveLimit(limit, "prefetch.limit")
        try requireAbsent(lookup_from?.shard_key, "lookup_from.shard_key")
        var children: [QueryStage] = []
        for child in prefetch?.items ?? [] { children.append(try child.engine()) }
        return QueryStage(
            prefetch: children, query: query?.kind, using: using ?? CollectionConfig.defaultVectorName,
            filter: filter.engine,
            params: try params?.engineParams() ?? SearchParams(), scoreThreshold: score_threshold, limit: limit,
            lookupFrom: lookup_from?.engine)
    }
}

/// `POST /collections/{c}/points/query` (Qdrant's `QueryRequest`).
struct QueryRequestInput: Decodable, Sendable {
    /// Strata's extension: read at a retained version (a number, a tag or an RFC 3339 time).
    var as_of: JSONValue?
    var query: QueryInput?
    var prefetch: PrefetchListInput?
    var using: String?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var score_threshold: Float?
    var limit: Int?
    var offset: Int?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var with_payload: PayloadSelector?
    var lookup_from: LookupLocationInput?
    var shard_key: JSONValue?
    /// Cluster-internal: the merged results of this query's prefetches across
    /// shards, in place of `prefetch` (docs/cluster.md, "Reads across shards").
    var prefetch_results: [[PrefetchResultInput]]?

    var payloadSelector: PayloadSelector { with_payload ?? .none }
    var vectorSelector: VectorSelector { with_vector ?? with_vectors ?? .none }

    /// The engine request (limits checked as Qdrant's validation does: 422).
    func engine() throws(APIError) -> QueryRequest {
        try requireAbsent(shard_key, "shard_key")
        try requireAbsent(lookup_from?.shard_key, "lookup_from.shard_key")
        let (limit, offset) = try checkedPage(limit: self.limit ?? 10, offset: self.offset)
        var prefetches: [QueryStage] = []
        for item in prefetch?.items ?? [] { prefetches.append(try item.engine()) }
        var request = QueryRequest(
            prefetch: prefetches, query: query?.kind, using: using ?? CollectionConfig.defaultVectorName,
            filter: filter.engine,
            params: try params?.engineParams() ?? SearchParams(), scoreThreshold: score_threshold, limit: limit,
            offset: offset,
            withPayload: payloadSelector.wantsPayload, withVector: vectorSelector.wantsVectors,
            lookupFrom: lookup_from?.engine)
        let vectorName = request.stage.using
        request.stage.prefetchResults = try prefetch_results?.map { source throws(APIError) in
            try source.map { item throws(APIError) in try item.engine(vectorName) }
        }
        return request
    }
}

/// One point of `prefetch_results`: its id, its score in that prefetch and,
/// for MMR, its vector `using` (dense, multivector rows, or sparse).
struct PrefetchResultInput: Decodable, Sendable {
    var id: PointID
    var score: Float
    var vector: JSONValue?

    func engine(_ name: String) throws(APIError) -> ScoredPoint {
        var point = ScoredPoint(id: id, version: 0, score: score)
        func number(_ value: JSONValue) throws(APIError) -> Float {
            switch value {
            case .int(let n): return Float(n)
            case .double(let d): return Float(d)
            default: throw APIError.wrongInput("prefetch_results: a vector holds numbers")
            }
        }
        switch vector {
        case nil, .null?: break
        case .array(let items)?:
            var flat: [Float] = []
            for item in items {
                if case .array(let row) = item {
                    for value in row { flat.append(try number(value)) }
                } else {
                    flat.append(try number(item))
                }
            }
            point.vectors = [name: flat]
        case .object(let members)?:
            guard case .array(let indices)? = members["indices"], case .array(let values)? = members["values"],
                indices.count == values.count
            else { throw APIError.wrongInput("prefetch_results: a sparse vector has indices and values") }
            var pairs: [(UInt32, Float)] = []
            for (index, value) in zip(indices, values) {
                guard case .int(let i) = index, let term = UInt32(exactly: i) else {
                    throw APIError.wrongInput("prefetch_results: sparse indices are unsigned 32-bit integers")
                }
                pairs.append((term, try number(value)))
            }
            pairs.sort { $0.0 < $1.0 }
            point.sparseVectors = [name: SparseVector(indices: pairs.map(\.0), values: pairs.map(\.1))]
        default:
            throw APIError.wrongInput("prefetch_results: a vector is an array or a sparse vector")
        }
        return point
    }
}

struct QueryBatchInput: Decodable, Sendable {
    var searches: [QueryRequestInput]
}

/// `with_lookup` of a groups request: a collection name or
/// `{"collection", "with_payload" (default true), "with_vectors" (default false)}`.
struct WithLookupInput: Decodable, Sendable {
    var collection: String
    var with_payload: PayloadSelector
    var with_vectors: VectorSelector

    private struct Object: Decodable {
        var collection: String
        var with_payload: PayloadSelector?
        var with_vectors: VectorSelector?
        var with_vector: VectorSelector?
    }

    init(from decoder: any Decoder) throws {
        if let name = try? String(from: decoder) {
            collection = name
            with_payload = .all
            with_vectors = .none
            return
        }
        let object = try Object(from: decoder)
        collection = object.collection
        with_payload = object.with_payload ?? .all
        with_vectors = object.with_vectors ?? object.with_vector ?? .none
    }

    var engine: GroupLookup {
        GroupLookup(
            collection: collection, withPayload: with_payload.wantsPayload, withVector: with_vectors.wantsVectors)
    }
}

/// The grouping fields of `query/groups` and `search/groups`.
struct GroupingInput: Sendable {
    var group_by: String
    var group_size: Int?
    var limit: Int?
    var with_lookup: WithLookupInput?

    func checked() throws(APIError) -> (groupBy: String, groupSize: Int, groups: Int) {
        guard !group_by.isEmpty else { throw APIError.validation("group_by: must not be empty") }
        let groupSize = group_size ?? 3
        let groups = limit ?? 10
        try requirePositiveLimit(groupSize, "group_size")
        try requirePositiveLimit(groups)
        let (product, overflow) = groupSize.multipliedReportingOverflow(by: groups)
        guard !overflow, product <= 1_000_000 else {
            throw APIError.validation("group_size × limit must be at most 1000000")
        }
        return (group_by, groupSize, groups)
    }
}

/// `POST /collections/{c}/points/query/groups` (Qdrant's `QueryGroupsRequest`).
struct QueryGroupsRequestInput: Decodable, Sendable {
    /// Strata's extension: read at a retained version (a number, a tag or an RFC 3339 time).
    var as_of: JSONValue?
    var query: QueryInput?
    var prefetch: PrefetchListInput?
    var using: String?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var score_threshold: Float?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var with_payload: PayloadSelector?
    var lookup_from: LookupLocationInput?
    var group_by: String
    var group_size: Int?
    var limit: Int?
    var with_lookup: WithLookupInput?
    var shard_key: JSONValue?

    var grouping: GroupingInput {
        GroupingInput(group_by: group_by, group_size: group_size, limit: limit, with_lookup: with_lookup)
    }

    var asQuery: QueryRequestInput {
        QueryRequestInput(
            query: query, prefetch: prefetch, using: using, filter: filter, params: params,
            score_threshold: score_threshold,
            limit: nil, offset: nil, with_vector: with_vector, with_vectors: with_vectors, with_payload: with_payload,
            lookup_from: lookup_from, shard_key: shard_key)
    }
}

/// The legacy `vector` of `points/search` (Qdrant's `NamedVectorStruct`): a
/// dense vector, `{"name": "…", "vector": [...]}` for a named dense one, or
/// `{"name": "…", "vector": {"indices": [...], "values": [...]}}` for a
/// named sparse one.
struct NamedVectorInput: Decodable, Sendable {
    var name: String
    var vector: QueryVector

    /// A named vector's `vector`: an array (dense) or an object (sparse).
    private struct Value: Decodable {
        var vector: QueryVector

        init(from decoder: any Decoder) throws {
            do {
                vector = .dense(try DenseVector(from: decoder).values)
            } catch  where isShapeMismatch(error, at: decoder) {
                vector = .sparse(try SparseVectorInput(from: decoder).vector)
            }
        }
    }

    private struct Object: Decodable {
        var name: String
        var vector: Value
    }

    init(from decoder: any Decoder) throws {
        do {
            vector = .dense(try DenseVector(from: decoder).values)
            name = CollectionConfig.defaultVectorName
        } catch  where isShapeMismatch(error, at: decoder) {
            let object = try Object(from: decoder)
            name = object.name
            vector = object.vector.vector
        }
    }
}

/// `POST /collections/{c}/points/search` (Qdrant's `SearchRequest`).
struct SearchRequestInput: Decodable, Sendable {
    var vector: NamedVectorInput
    var filter: FilterInput?
    var params: SearchParamsInput?
    var limit: Int
    var offset: Int?
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var score_threshold: Float?
    var shard_key: JSONValue?
}

struct SearchBatchInput: Decodable, Sendable {
    var searches: [SearchRequestInput]
}

/// `POST /collections/{c}/points/search/groups` (Qdrant's `SearchGroupsRequest`).
struct SearchGroupsRequestInput: Decodable, Sendable {
    var vector: NamedVectorInput
    var filter: FilterInput?
    var params: SearchParamsInput?
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var score_threshold: Float?
    var group_by: String
    var group_size: Int?
    var limit: Int?
    var with_lookup: WithLookupInput?
    var shard_key: JSONValue?

    var grouping: GroupingInput {
        GroupingInput(group_by: group_by, group_size: group_size, limit: limit, with_lookup: with_lookup)
    }
}
