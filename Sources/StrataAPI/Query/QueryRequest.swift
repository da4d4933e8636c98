import StrataModel
import StrataPayload
// The universal query API (Qdrant's `points/query`): request types.
// docs/query.md explains the stages, the scores and the fusion formulas.

/// A query vector: dense, a multivector's rows (scored by max_sim against a
/// multivector of the collection), or sparse (scored against a sparse vector
/// of the collection), the vector named by the stage's `using`. A dense
/// vector given for a multivector is a query of one row.
public enum QueryVector: Sendable, Equatable {
    case dense([Float])
    case multi([[Float]])
    case sparse(SparseVector)
}

/// An example given to a query: a vector, or the id of a stored point whose
/// vector (`using`, or `lookupFrom.vector` in `lookupFrom.collection`) is used.
public enum VectorInput: Sendable, Equatable {
    case vector(QueryVector)
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
    public var positive: VectorInput
    public var negative: VectorInput
    public init(positive: VectorInput, negative: VectorInput) {
        self.positive = positive
        self.negative = negative
    }
}

/// One judged example of a relevance feedback query: an example and the
/// score a judge (a larger model, a user) gave it.
public struct FeedbackItem: Sendable, Equatable {
    public var example: VectorInput
    public var score: Float
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

    public static let defaultRRFK = 2
}

/// What a query stage computes.
public enum QueryKind: Sendable, Equatable {
    /// Nearest neighbours of a vector or of a stored point, optionally re-ranked by MMR.
    case nearest(VectorInput, mmr: MMR? = nil)
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
    public var collection: String
    /// The vector name there; nil = the stage's `using`.
    public var vector: String?
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
    public var params: SearchParams
    /// Results scoring worse are left out of this stage.
    public var scoreThreshold: Float?
    public var limit: Int
    public var lookupFrom: LookupLocation?
    /// The results of this stage's prefetches, computed elsewhere, in place
    /// of running `prefetch` (which is then empty): a cluster node merges the
    /// prefetches of a collection of several shards and lets each shard score
    /// its own candidates by a formula (docs/cluster.md). Points this
    /// collection lacks are skipped.
    public var prefetchResults: [[ScoredPoint]]?

    /// Whether this stage rescores candidates (its prefetches' or given ones).
    package var hasSources: Bool { !prefetch.isEmpty || prefetchResults != nil }

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
@dynamicMemberLookup
public struct QueryRequest: Sendable, Equatable {
    public var stage: QueryStage
    public var offset: Int
    public var withPayload: Bool
    public var withVector: Bool

    public init(stage: QueryStage, offset: Int = 0, withPayload: Bool = false, withVector: Bool = false) {
        self.stage = stage
        self.offset = offset
        self.withPayload = withPayload
        self.withVector = withVector
    }

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

    public subscript<Value>(dynamicMember field: WritableKeyPath<QueryStage, Value>) -> Value {
        get { stage[keyPath: field] }
        set { stage[keyPath: field] = newValue }
    }
}

/// `queryGroups`' `withLookup`: the point of another collection whose id is the group's value.
public struct GroupLookup: Sendable, Equatable {
    public var collection: String
    public var withPayload: Bool
    public var withVector: Bool
    public init(collection: String, withPayload: Bool = true, withVector: Bool = false) {
        self.collection = collection
        self.withPayload = withPayload
        self.withVector = withVector
    }
}

/// One group of `queryGroups`: the value shared by its hits (a string or an
/// integer), its best hits, and the looked-up record.
public struct PointGroup: Sendable, Equatable {
    public var id: JSONValue
    public var hits: [ScoredPoint]
    public var lookup: Record?
    public init(id: JSONValue, hits: [ScoredPoint], lookup: Record? = nil) {
        self.id = id
        self.hits = hits
        self.lookup = lookup
    }
}
