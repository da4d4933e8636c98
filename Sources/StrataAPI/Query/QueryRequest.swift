import StrataModel
import StrataPayload
// The universal query API (Qdrant's `points/query`): request types.
// docs/query.md explains the stages, the scores and the fusion formulas.

/// A query vector: dense, a multivector's rows (scored by max_sim against a
/// multivector of the collection), or sparse (scored against a sparse vector
/// of the collection), the vector named by the stage's `using`. A dense
/// vector given for a multivector is a query of one row.
public enum QueryVector: Sendable, Equatable {
    /// A dense vector of the vector's size.
    case dense([Float])
    /// A multivector's rows, each of the vector's size.
    case multi([[Float]])
    /// A sparse vector, its indices in any order.
    case sparse(SparseVector)
}

/// An example given to a query: a vector, or the id of a stored point whose
/// vector (`using`, or `lookupFrom.vector` in `lookupFrom.collection`) is used.
public enum VectorInput: Sendable, Equatable {
    /// A vector given in the request.
    case vector(QueryVector)
    /// The stored vector of this point; the point is then left out of the
    /// results unless it is looked up in another collection (`lookupFrom`).
    case point(PointID)

    /// A dense vector.
    public static func dense(_ values: [Float]) -> VectorInput { .vector(.dense(values)) }
    /// A sparse vector.
    public static func sparse(_ vector: SparseVector) -> VectorInput { .vector(.sparse(vector)) }
    /// A multivector, as its rows.
    public static func multi(_ rows: [[Float]]) -> VectorInput { .vector(.multi(rows)) }
}

/// How `recommend` uses its examples (Qdrant's `RecommendStrategy`).
public enum RecommendStrategy: String, Sendable, Equatable, CaseIterable {
    /// Nearest to `avg(positive)`, or `2·avg(positive) − avg(negative)` with negatives.
    case averageVector = "average_vector"
    /// Per candidate: the best similarity to a positive or to a negative example,
    /// squashed by a sigmoid; positive when a positive example is closest.
    case bestScore = "best_score"
    /// Per candidate: Σ similarity to positives − Σ similarity to negatives.
    case sumScores = "sum_scores"
}

/// One pair of a `discover` or `context` query.
public struct ContextPair: Sendable, Equatable {
    /// The example results should be closer to.
    public var positive: VectorInput
    /// The example results should be farther from.
    public var negative: VectorInput
    /// Creates a pair of a `positive` and a `negative` example.
    public init(positive: VectorInput, negative: VectorInput) {
        self.positive = positive
        self.negative = negative
    }
}

/// One judged example of a relevance feedback query: an example and the
/// score a judge (a larger model, a user) gave it.
public struct FeedbackItem: Sendable, Equatable {
    /// The judged example: a vector or a stored point.
    public var example: VectorInput
    /// The judge's score of the example; higher is more relevant.
    public var score: Float
    /// Creates a judged `example` with the `score` the judge gave it.
    public init(example: VectorInput, score: Float) {
        self.example = example
        self.score = score
    }
}

/// How relevance feedback turns judged examples into a score (Qdrant's `FeedbackStrategy`).
public enum FeedbackStrategy: Sendable, Equatable {
    /// `a·sim(target) + Σ (sᵢ − sⱼ)^b · c · (sim(eᵢ) − sim(eⱼ))` over the
    /// ordered pairs of examples with sᵢ > sⱼ (Qdrant's naive strategy; b ≥ 0).
    case naive(a: Float, b: Float, c: Float)
}

/// Maximal marginal relevance re-ranking of a nearest query (Qdrant's `mmr`).
public struct MMR: Sendable, Equatable {
    /// 0 = pure relevance … 1 = pure diversity; default 0.5 (λ = 1 − diversity).
    public var diversity: Float?
    /// How many nearest candidates to re-rank; default the stage's `limit`.
    public var candidatesLimit: Int?
    /// Creates MMR parameters; nil takes the default (diversity 0.5, the
    /// stage's `limit` candidates).
    public init(diversity: Float? = nil, candidatesLimit: Int? = nil) {
        self.diversity = diversity
        self.candidatesLimit = candidatesLimit
    }
}

/// How prefetch results are fused.
public enum Fusion: Sendable, Equatable {
    /// Reciprocal rank fusion: Σᵢ 1 / ((rankᵢ + 1) / weightᵢ + k − 1), rank from 0
    /// (= Σ 1 / (k + rank) with weight 1). Qdrant's default k is 2.
    case rrf(k: Int = Fusion.defaultRRFK, weights: [Float]? = nil)
    /// Distribution-based score fusion: each list normalised by mean ± 3σ, summed.
    case dbsf

    /// Qdrant's default RRF constant `k` (its `DEFAULT_RRF_K`): 2.
    public static let defaultRRFK = 2
}

/// What a query stage computes.
public enum QueryKind: Sendable, Equatable {
    /// Nearest neighbours of a vector or of a stored point, optionally re-ranked by MMR.
    case nearest(VectorInput, mmr: MMR? = nil)
    /// Points similar to the `positive` examples and unlike the `negative`
    /// ones, scored as `strategy` says (default `.averageVector`).
    case recommend(positive: [VectorInput], negative: [VectorInput], strategy: RecommendStrategy = .averageVector)
    /// Points in the best zone of the context pairs, ranked by similarity to `target` inside it.
    case discover(target: VectorInput, context: [ContextPair])
    /// Points by how well they fit the context pairs (no target).
    case context([ContextPair])
    /// Points by similarity to `target`, corrected by judged examples (Qdrant's `relevance_feedback`).
    case relevanceFeedback(target: VectorInput, feedback: [FeedbackItem], strategy: FeedbackStrategy)
    /// Points ordered by an indexed numeric or datetime payload field (score 1, `orderValue` set).
    case orderBy(OrderBy)
    /// Fuses the prefetch results (needs prefetches).
    case fusion(Fusion)
    /// Random points (score 1).
    case sampleRandom
    /// Rescores the prefetch results by a formula (score boosting; needs prefetches).
    case formula(Formula)
}

/// Where ids used as query vectors are looked up (Qdrant's `lookup_from`).
public struct LookupLocation: Sendable, Equatable {
    /// The collection the example points are read from.
    public var collection: String
    /// The vector name there; nil = the stage's `using`.
    public var vector: String?
    /// Creates a lookup of example points in `collection`, reading vector
    /// `vector` (nil: the stage's `using`).
    public init(collection: String, vector: String? = nil) {
        self.collection = collection
        self.vector = vector
    }
}

/// One stage of a query, the root or a prefetch (Qdrant's `Prefetch`): its
/// prefetches run first, then `query` over their results (or over the whole
/// collection without prefetches), keeping the best `limit`.
public struct QueryStage: Sendable, Equatable {
    /// Stages whose results are this stage's candidates.
    public var prefetch: [QueryStage]
    /// nil without prefetches: points in id order (score 1).
    public var query: QueryKind?
    /// The vector to score by (`""` = the unnamed one).
    public var using: String
    /// Applied with the filters of every stage above (they propagate down).
    public var filter: Filter?
    /// How this stage searches (graph or exact, quantization, ACORN, IDF).
    public var params: SearchParams
    /// Results scoring worse are left out of this stage.
    public var scoreThreshold: Float?
    /// How many points this stage keeps, best first (default 10; at the root
    /// the page size).
    public var limit: Int
    /// Where ids used as examples are looked up; nil = this collection.
    public var lookupFrom: LookupLocation?
    /// The results of this stage's prefetches, computed elsewhere, in place
    /// of running `prefetch` (which is then empty): a cluster node merges the
    /// prefetches of a collection of several shards and lets each shard score
    /// its own candidates by a formula (docs/cluster.md). Points this
    /// collection lacks are skipped.
    public var prefetchResults: [[ScoredPoint]]?

    /// Whether this stage rescores candidates (its prefetches' or given ones).
    package var hasSources: Bool { !prefetch.isEmpty || prefetchResults != nil }

    /// Creates a stage; the defaults are no prefetches, no query, the unnamed
    /// vector, no filter, default search params, no threshold and 10 results.
    public init(
        prefetch: [QueryStage] = [], query: QueryKind? = nil, using: String = CollectionConfig.defaultVectorName,
        filter: Filter? = nil, params: SearchParams = SearchParams(), scoreThreshold: Float? = nil, limit: Int = 10,
        lookupFrom: LookupLocation? = nil
    ) {
        self.prefetch = prefetch
        self.query = query
        self.using = using
        self.filter = filter
        self.params = params
        self.scoreThreshold = scoreThreshold
        self.limit = limit
        self.lookupFrom = lookupFrom
    }
}

/// A prefetch is a query stage below another (Qdrant's name for it).
public typealias Prefetch = QueryStage

/// A query (Qdrant's `QueryRequest`): the root stage, whose `limit` is the
/// page size, and what only the root has (the page's offset and what each
/// result carries). The stage's fields read and write through the request
/// (`request.query`, `request.limit`…).
///
/// docs/query.md explains the stages, the scores and the fusion formulas.
///
/// ```swift
/// // The 10 nearest points to a vector, with their payloads:
/// let nearest = QueryRequest(query: .nearest(.dense(embedding)), limit: 10, withPayload: true)
///
/// // Hybrid search: dense and sparse candidates fused by reciprocal rank:
/// let hybrid = QueryRequest(
///     prefetch: [
///         Prefetch(query: .nearest(.dense(embedding)), using: "body", limit: 50),
///         Prefetch(query: .nearest(.sparse(terms)), using: "text", limit: 50),
///     ],
///     query: .fusion(.rrf()), limit: 10)
/// ```
@dynamicMemberLookup
public struct QueryRequest: Sendable, Equatable {
    /// The root stage: its query, prefetches, filter and `limit` (the page size).
    public var stage: QueryStage
    /// How many of the best results to skip (for paging); default 0. The
    /// root keeps `limit + offset` results, then drops the first `offset`.
    public var offset: Int
    /// Whether results carry their payload (default false).
    public var withPayload: Bool
    /// Whether results carry their vectors, dense and sparse (default false).
    public var withVector: Bool

    /// Creates a request from its root `stage`, with `offset` and what each
    /// result carries.
    public init(stage: QueryStage, offset: Int = 0, withPayload: Bool = false, withVector: Bool = false) {
        self.stage = stage
        self.offset = offset
        self.withPayload = withPayload
        self.withVector = withVector
    }

    /// Creates a request whose root stage has these fields (as
    /// `QueryStage.init` takes them), with `offset` and what each result
    /// carries. The defaults list the first 10 points in id order.
    public init(
        prefetch: [QueryStage] = [], query: QueryKind? = nil, using: String = CollectionConfig.defaultVectorName,
        filter: Filter? = nil, params: SearchParams = SearchParams(), scoreThreshold: Float? = nil, limit: Int = 10,
        offset: Int = 0, withPayload: Bool = false, withVector: Bool = false, lookupFrom: LookupLocation? = nil
    ) {
        self.init(
            stage: QueryStage(
                prefetch: prefetch, query: query, using: using, filter: filter, params: params,
                scoreThreshold: scoreThreshold, limit: limit, lookupFrom: lookupFrom),
            offset: offset, withPayload: withPayload, withVector: withVector)
    }

    /// Reads and writes a field of the root stage (`request.limit` is
    /// `request.stage.limit`).
    public subscript<Value>(dynamicMember field: WritableKeyPath<QueryStage, Value>) -> Value {
        get { stage[keyPath: field] }
        set { stage[keyPath: field] = newValue }
    }
}

/// `queryGroups`' `withLookup`: the point of another collection whose id is the group's value.
public struct GroupLookup: Sendable, Equatable {
    /// The collection the group's point is read from.
    public var collection: String
    /// Whether the looked-up point carries its payload (default true).
    public var withPayload: Bool
    /// Whether the looked-up point carries its vectors (default false).
    public var withVector: Bool
    /// Creates a lookup in `collection`, with the payload and without the
    /// vectors unless told otherwise.
    public init(collection: String, withPayload: Bool = true, withVector: Bool = false) {
        self.collection = collection
        self.withPayload = withPayload
        self.withVector = withVector
    }
}

/// One group of `queryGroups`: the value shared by its hits (a string or an
/// integer), its best hits, and the looked-up record.
public struct PointGroup: Sendable, Equatable {
    /// The group's value at the `groupBy` key: a string or an integer.
    public var id: JSONValue
    /// The group's best hits, best first (at most the group size).
    public var hits: [ScoredPoint]
    /// The point `withLookup` found for this group's value; nil without a
    /// lookup or when there is no such point.
    public var lookup: Record?
    /// Creates a group with its value, its hits and the looked-up record.
    public init(id: JSONValue, hits: [ScoredPoint], lookup: Record? = nil) {
        self.id = id
        self.hits = hits
        self.lookup = lookup
    }
}
