// Qdrant's gRPC search messages → the REST layer's inputs (Models/QueryInputs.swift,
// Models/LegacyQueryInputs.swift, Routes/MatrixRoutes.swift), and the search
// outputs → Qdrant's gRPC replies. Vectors go straight into the inputs (never
// through JSON); formulas are rebuilt in their REST JSON shape and parsed by
// `FormulaInput`, so both transports share every check and message.
import Foundation
import Strata
import StrataGRPCProtocol
import SwiftProtobuf

// MARK: - Vectors

extension Qdrant_Vector {
    /// A vector given to a query: as a point's vector is read
    /// (`pointVectorValue`, GRPCPoints.swift), a document encoded as a query
    /// by the built-in BM25 model, as REST's `VectorInputValue` does.
    func queryVector() throws(APIError) -> QueryVector {
        switch try pointVectorValue() {
        case .dense(let values): return .dense(values)
        case .multi(let rows): return .multi(rows)
        case .sparse(let vector): return .sparse(vector)
        case .document(let document): return .sparse(try document.encoder().query(document.text))
        }
    }
}

extension Qdrant_VectorInput {
    /// A query's vector or the id of a stored point.
    func vectorInput() throws(APIError) -> VectorInput {
        var vector = Qdrant_Vector()
        switch variant {
        case .id(let id)?: return .point(try id.pointID())
        case .dense(let dense)?: vector.vector = .dense(dense)
        case .sparse(let sparse)?: vector.vector = .sparse(sparse)
        case .multiDense(let multi)?: vector.vector = .multiDense(multi)
        case .document(let document)?: vector.vector = .document(document)
        case .image(let image)?: vector.vector = .image(image)
        case .object(let object)?: vector.vector = .object(object)
        case nil: throw APIError.wrongInput("VectorInput variant is missing")
        }
        return .vector(try vector.queryVector())
    }
}

extension Qdrant_VectorExample {
    /// A legacy discover example: a point id or a vector.
    func input() throws(APIError) -> VectorInputValue {
        switch example {
        case .id(let id)?: return VectorInputValue(.point(try id.pointID()))
        case .vector(let vector)?: return VectorInputValue(.vector(try vector.queryVector()))
        case nil: throw APIError.wrongInput("VectorExample example is missing")
        }
    }
}

extension VectorInputValue {
    init(_ value: VectorInput) { self.value = value }
}

// MARK: - Query objects

extension Qdrant_RecommendStrategy {
    var strategy: RecommendStrategy {
        get throws(APIError) {
            switch self {
            case .averageVector: .averageVector
            case .bestScore: .bestScore
            case .sumScores: .sumScores
            case .UNRECOGNIZED(let value): throw APIError.wrongInput("unknown recommend strategy \(value)")
            }
        }
    }
}

extension Qdrant_ContextInput {
    func contextPairs() throws(APIError) -> [ContextPair] {
        var result: [ContextPair] = []
        result.reserveCapacity(pairs.count)
        for pair in pairs {
            guard pair.hasPositive else { throw APIError.wrongInput("ContextPair positive is missing") }
            guard pair.hasNegative else { throw APIError.wrongInput("ContextPair negative is missing") }
            result.append(
                ContextPair(positive: try pair.positive.vectorInput(), negative: try pair.negative.vectorInput()))
        }
        return result
    }
}

extension Qdrant_Query {
    /// The query as the REST layer decodes it, with the same checks.
    func input() throws(APIError) -> QueryInput { QueryInput(kind: try kind()) }

    func kind() throws(APIError) -> QueryKind {
        switch variant {
        case .nearest(let vector)?:
            return .nearest(try vector.vectorInput())
        case .nearestWithMmr(let nearest)?:
            guard nearest.hasNearest else { throw APIError.wrongInput("nearest vector is missing") }
            guard nearest.hasMmr else { throw APIError.wrongInput("mmr is missing") }
            let mmr = nearest.mmr
            return try QueryInput.nearest(
                try nearest.nearest.vectorInput(),
                mmr: MMR(
                    diversity: mmr.hasDiversity ? mmr.diversity : nil,
                    candidatesLimit: mmr.hasCandidatesLimit ? Int(mmr.candidatesLimit) : nil))
        case .recommend(let recommend)?:
            return .recommend(
                positive: try recommend.positive.map { v throws(APIError) in try v.vectorInput() },
                negative: try recommend.negative.map { v throws(APIError) in try v.vectorInput() },
                strategy: recommend.hasStrategy ? try recommend.strategy.strategy : .averageVector)
        case .discover(let discover)?:
            guard discover.hasTarget else { throw APIError.wrongInput("DiscoverInput target is missing") }
            return .discover(target: try discover.target.vectorInput(), context: try discover.context.contextPairs())
        case .context(let context)?:
            return .context(try context.contextPairs())
        case .orderBy(let orderBy)?:
            let input = try OrderByInput(orderBy)
            return .orderBy(
                Strata.Collection.OrderBy(key: input.key, descending: input.descending, startFrom: input.startFrom))
        case .fusion(let fusion)?:
            switch fusion {
            case .rrf: return .fusion(.rrf())
            case .dbsf: return .fusion(.dbsf)
            case .UNRECOGNIZED(let value): throw APIError.wrongInput("unknown fusion \(value)")
            }
        case .rrf(let rrf)?:
            return try QueryInput.rrf(k: rrf.hasK ? Int(rrf.k) : nil, weights: rrf.weights.isEmpty ? nil : rrf.weights)
        case .sample(let sample)?:
            guard sample == .random else { throw APIError.wrongInput("sample must be random") }
            return .sampleRandom
        case .formula(let formula)?:
            return .formula(try formula.formula())
        case .relevanceFeedback(let input)?:
            guard input.hasTarget else { throw APIError.wrongInput("target is missing") }
            guard input.hasStrategy else { throw APIError.wrongInput("strategy is missing") }
            var feedback: [FeedbackItem] = []
            feedback.reserveCapacity(input.feedback.count)
            for item in input.feedback {
                guard item.hasExample else { throw APIError.wrongInput("feedback example is missing") }
                feedback.append(FeedbackItem(example: try item.example.vectorInput(), score: item.score))
            }
            guard case .naive(let naive)? = input.strategy.variant else {
                throw APIError.wrongInput("FeedbackStrategy variant is missing")
            }
            return try QueryInput.relevanceFeedback(
                target: try input.target.vectorInput(), feedback: feedback,
                strategy: .naive(a: naive.a, b: naive.b, c: naive.c))
        case .text?:
            throw APIError.notSupportedYet("text queries (`text`)")
        case nil:
            throw APIError.wrongInput("Query variant is missing")
        }
    }
}

extension QueryInput {
    init(kind: QueryKind) { self.kind = kind }
}

// MARK: - Formulas

extension Qdrant_Formula {
    /// The engine formula, parsed from its REST JSON shape by `FormulaInput`.
    func formula() throws(APIError) -> Formula {
        let json = try expression.restJSON()
        let defaults: JSONValue? = self.defaults.isEmpty ? nil : .object(try self.defaults.json())
        do {
            return try FormulaInput.formula(json, defaults: defaults)
        } catch {
            throw APIError.from(error)
        }
    }
}

extension Qdrant_Expression {
    /// The expression as REST's `formula` JSON.
    func restJSON() throws(APIError) -> JSONValue {
        func list(_ items: [Qdrant_Expression]) throws(APIError) -> JSONValue {
            var result: [JSONValue] = []
            result.reserveCapacity(items.count)
            for item in items { result.append(try item.restJSON()) }
            return .array(result)
        }
        func decay(_ params: Qdrant_DecayParamsExpression) throws(APIError) -> JSONValue {
            var object: [String: JSONValue] = ["x": try params.x.restJSON()]
            if params.hasTarget { object["target"] = try params.target.restJSON() }
            if params.hasScale { object["scale"] = .double(Double(params.scale)) }
            if params.hasMidpoint { object["midpoint"] = .double(Double(params.midpoint)) }
            return .object(object)
        }
        switch variant {
        case .constant(let value)?: return .double(Double(value))
        case .variable(let name)?: return .string(name)
        case .condition(let condition)?:
            guard let json = condition.restJSON() else { throw APIError.wrongInput("Condition is missing") }
            return json
        case .geoDistance(let geo)?:
            return .object(["geo_distance": .object(["origin": geo.origin.restJSON(), "to": .string(geo.to)])])
        case .datetime(let text)?: return .object(["datetime": .string(text)])
        case .datetimeKey(let key)?: return .object(["datetime_key": .string(key)])
        case .mult(let mult)?: return .object(["mult": try list(mult.mult)])
        case .sum(let sum)?: return .object(["sum": try list(sum.sum)])
        case .max(let max)?: return .object(["max": try list(max.max)])
        case .min(let min)?: return .object(["min": try list(min.min)])
        case .div(let div)?:
            var params: [String: JSONValue] = ["left": try div.left.restJSON(), "right": try div.right.restJSON()]
            if div.hasByZeroDefault { params["by_zero_default"] = .double(Double(div.byZeroDefault)) }
            return .object(["div": .object(params)])
        case .pow(let pow)?:
            return .object([
                "pow": .object(["base": try pow.base.restJSON(), "exponent": try pow.exponent.restJSON()])
            ])
        case .neg(let inner)?: return .object(["neg": try inner.restJSON()])
        case .abs(let inner)?: return .object(["abs": try inner.restJSON()])
        case .sqrt(let inner)?: return .object(["sqrt": try inner.restJSON()])
        case .exp(let inner)?: return .object(["exp": try inner.restJSON()])
        case .log10(let inner)?: return .object(["log10": try inner.restJSON()])
        case .ln(let inner)?: return .object(["ln": try inner.restJSON()])
        case .acosh(let inner)?: return .object(["acosh": try inner.restJSON()])
        case .expDecay(let params)?: return .object([DecayKind.exponential.rawValue: try decay(params)])
        case .gaussDecay(let params)?: return .object([DecayKind.gaussian.rawValue: try decay(params)])
        case .linDecay(let params)?: return .object([DecayKind.linear.rawValue: try decay(params)])
        case nil: throw APIError.wrongInput("Expression variant is missing")
        }
    }
}

// MARK: - Requests of the universal query API

/// Strata has no shard keys: a request routed to some is refused, as REST refuses `shard_key`.
private func refuseShardKey(_ present: Bool, _ field: String = "shard_key") throws(APIError) {
    if present { throw APIError.notSupportedYet("`\(field)`") }
}

extension Qdrant_SearchParams {
    func input() throws(APIError) -> SearchParamsInput {
        return SearchParamsInput(
            hnsw_ef: hasHnswEf ? Int(clamping: hnswEf) : nil, exact: hasExact ? exact : nil,
            quantization: hasQuantization
                ? SearchParamsInput.Quantization(
                    ignore: quantization.hasIgnore ? quantization.ignore : nil,
                    rescore: quantization.hasRescore ? quantization.rescore : nil,
                    oversampling: quantization.hasOversampling ? quantization.oversampling : nil) : nil,
            indexed_only: hasIndexedOnly ? indexedOnly : nil,
            acorn: hasAcorn
                ? SearchParamsInput.Acorn(
                    enable: acorn.hasEnable ? acorn.enable : nil,
                    max_selectivity: acorn.hasMaxSelectivity ? acorn.maxSelectivity : nil) : nil,
            idf: hasIdf ? (idf.hasCorpus ? .corpus(try idf.corpus.filterInput().filter) : .global) : nil)
    }
}

extension Qdrant_LookupLocation {
    func input() throws(APIError) -> LookupLocationInput {
        try refuseShardKey(hasShardKeySelector, "lookup_from.shard_key")
        return LookupLocationInput(collection: collectionName, vector: hasVectorName ? vectorName : nil)
    }
}

extension Qdrant_WithLookup {
    func input() throws(APIError) -> WithLookupInput {
        WithLookupInput(
            collection: collection, with_payload: try hasWithPayload ? withPayload.selector() : .all,
            with_vectors: hasWithVectors ? withVectors.selector() : .none)
    }
}

extension WithLookupInput {
    init(collection: String, with_payload: PayloadSelector, with_vectors: VectorSelector) {
        self.collection = collection
        self.with_payload = with_payload
        self.with_vectors = with_vectors
    }
}

extension PrefetchListInput {
    init(_ prefetches: [Qdrant_PrefetchQuery]) throws(APIError) {
        var items: [PrefetchInput] = []
        items.reserveCapacity(prefetches.count)
        for prefetch in prefetches { items.append(try prefetch.input()) }
        self.items = items
    }
}

extension Qdrant_PrefetchQuery {
    func input() throws(APIError) -> PrefetchInput {
        PrefetchInput(
            prefetch: prefetch.isEmpty ? nil : try PrefetchListInput(prefetch),
            query: hasQuery ? try query.input() : nil, using: hasUsing ? using : nil,
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, limit: hasLimit ? Int(clamping: limit) : nil,
            lookup_from: hasLookupFrom ? try lookupFrom.input() : nil)
    }
}

extension Qdrant_QueryPoints {
    func input() throws(APIError) -> QueryRequestInput {
        try refuseShardKey(hasShardKeySelector)
        return QueryRequestInput(
            query: hasQuery ? try query.input() : nil,
            prefetch: prefetch.isEmpty ? nil : try PrefetchListInput(prefetch), using: hasUsing ? using : nil,
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, limit: hasLimit ? Int(clamping: limit) : nil,
            offset: hasOffset ? Int(clamping: offset) : nil, with_vector: nil,
            with_vectors: hasWithVectors ? withVectors.selector() : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil,
            lookup_from: hasLookupFrom ? try lookupFrom.input() : nil, shard_key: nil)
    }
}

extension Qdrant_QueryPointGroups {
    func input() throws(APIError) -> QueryGroupsRequestInput {
        try refuseShardKey(hasShardKeySelector)
        return QueryGroupsRequestInput(
            query: hasQuery ? try query.input() : nil,
            prefetch: prefetch.isEmpty ? nil : try PrefetchListInput(prefetch), using: hasUsing ? using : nil,
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, with_vector: nil,
            with_vectors: hasWithVectors ? withVectors.selector() : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil,
            lookup_from: hasLookupFrom ? try lookupFrom.input() : nil, group_by: groupBy,
            group_size: hasGroupSize ? Int(clamping: groupSize) : nil, limit: hasLimit ? Int(clamping: limit) : nil,
            with_lookup: try hasWithLookup ? withLookup.input() : nil, shard_key: nil)
    }
}

// MARK: - Legacy requests

extension NamedVectorInput {
    init(name: String, vector: QueryVector) {
        self.name = name
        self.vector = vector
    }
}

/// The vector of a legacy search: dense, or sparse when `sparse_indices` are given.
private func legacySearchVector(
    _ values: [Float], name: String?, sparseIndices: Qdrant_SparseIndices?
) throws(APIError) -> NamedVectorInput {
    var vector = Qdrant_Vector()
    vector.data = values
    if let sparseIndices { vector.indices = sparseIndices }
    return NamedVectorInput(name: name ?? CollectionConfig.defaultVectorName, vector: try vector.queryVector())
}

/// Examples of a legacy recommendation: the ids, then the vectors.
private func examples(_ ids: [Qdrant_PointId], _ vectors: [Qdrant_Vector]) throws(APIError) -> [VectorInputValue] {
    var result: [VectorInputValue] = []
    result.reserveCapacity(ids.count + vectors.count)
    for id in ids { result.append(VectorInputValue(.point(try id.pointID()))) }
    for vector in vectors { result.append(VectorInputValue(.vector(try vector.queryVector()))) }
    return result
}

extension Qdrant_SearchPoints {
    func input() throws(APIError) -> SearchRequestInput {
        try refuseShardKey(hasShardKeySelector)
        return SearchRequestInput(
            vector: try legacySearchVector(
                vector, name: hasVectorName ? vectorName : nil, sparseIndices: hasSparseIndices ? sparseIndices : nil),
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            limit: Int(clamping: limit), offset: hasOffset ? Int(clamping: offset) : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil, with_vector: nil,
            with_vectors: hasWithVectors ? withVectors.selector() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, shard_key: nil)
    }
}

extension Qdrant_SearchPointGroups {
    func input() throws(APIError) -> SearchGroupsRequestInput {
        try refuseShardKey(hasShardKeySelector)
        return SearchGroupsRequestInput(
            vector: try legacySearchVector(
                vector, name: hasVectorName ? vectorName : nil, sparseIndices: hasSparseIndices ? sparseIndices : nil),
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil, with_vector: nil,
            with_vectors: hasWithVectors ? withVectors.selector() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, group_by: groupBy,
            group_size: Int(groupSize), limit: Int(limit), with_lookup: try hasWithLookup ? withLookup.input() : nil,
            shard_key: nil)
    }
}

extension Qdrant_RecommendPoints {
    func input() throws(APIError) -> RecommendRequestInput {
        try refuseShardKey(hasShardKeySelector)
        return RecommendRequestInput(
            positive: try examples(positive, positiveVectors), negative: try examples(negative, negativeVectors),
            strategy: hasStrategy ? try strategy.strategy.rawValue : nil,
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            limit: Int(clamping: limit), offset: hasOffset ? Int(clamping: offset) : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil, with_vector: nil,
            with_vectors: hasWithVectors ? withVectors.selector() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, using: hasUsing ? using : nil,
            lookup_from: hasLookupFrom ? try lookupFrom.input() : nil, shard_key: nil)
    }
}

extension Qdrant_RecommendPointGroups {
    func input() throws(APIError) -> RecommendGroupsRequestInput {
        try refuseShardKey(hasShardKeySelector)
        return RecommendGroupsRequestInput(
            positive: try examples(positive, positiveVectors), negative: try examples(negative, negativeVectors),
            strategy: hasStrategy ? try strategy.strategy.rawValue : nil,
            filter: hasFilter ? try filter.filterInput() : nil, params: hasParams ? try params.input() : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil, with_vector: nil,
            with_vectors: hasWithVectors ? withVectors.selector() : nil,
            score_threshold: hasScoreThreshold ? scoreThreshold : nil, using: hasUsing ? using : nil,
            lookup_from: hasLookupFrom ? try lookupFrom.input() : nil, group_by: groupBy,
            group_size: Int(groupSize), limit: Int(limit), with_lookup: try hasWithLookup ? withLookup.input() : nil,
            shard_key: nil)
    }
}

extension Qdrant_DiscoverPoints {
    func input() throws(APIError) -> DiscoverRequestInput {
        try refuseShardKey(hasShardKeySelector)
        var target: VectorInputValue?
        if hasTarget {
            guard case .single(let example)? = self.target.target else {
                throw APIError.wrongInput("TargetVector target is missing")
            }
            target = try example.input()
        }
        var pairs: [ContextPairInput] = []
        pairs.reserveCapacity(context.count)
        for pair in context {
            pairs.append(ContextPairInput(positive: try pair.positive.input(), negative: try pair.negative.input()))
        }
        return DiscoverRequestInput(
            target: target, context: pairs, filter: hasFilter ? try filter.filterInput() : nil,
            params: hasParams ? try params.input() : nil, limit: Int(clamping: limit),
            offset: hasOffset ? Int(clamping: offset) : nil,
            with_payload: try hasWithPayload ? withPayload.selector() : nil,
            with_vector: nil, with_vectors: hasWithVectors ? withVectors.selector() : nil,
            using: hasUsing ? using : nil,
            lookup_from: hasLookupFrom ? try lookupFrom.input() : nil, shard_key: nil)
    }
}

extension Qdrant_SearchMatrixPoints {
    func input() throws(APIError) -> SearchMatrixInput {
        try refuseShardKey(hasShardKeySelector)
        return SearchMatrixInput(
            sample: hasSample ? Int(clamping: sample) : nil, limit: hasLimit ? Int(clamping: limit) : nil,
            filter: hasFilter ? try filter.filterInput() : nil, using: hasUsing ? using : nil, shard_key: nil)
    }
}

// MARK: - Replies

extension Qdrant_BatchResult {
    init(_ points: [ScoredPointOutput]) {
        self.init()
        result = points.map(Qdrant_ScoredPoint.init)
    }
}

extension Qdrant_GroupId {
    /// A group's value: an unsigned integer when it is one, a negative integer, or a string.
    init(_ value: JSONValue) throws(APIError) {
        self.init()
        switch value {
        case .int(let number) where number >= 0: kind = .unsignedValue(UInt64(number))
        case .int(let number): kind = .integerValue(number)
        case .string(let text): kind = .stringValue(text)
        default: throw APIError(.internalServerError, "a group value must be an integer or a string, got \(value)")
        }
    }
}

extension Qdrant_GroupsResult {
    init(_ output: GroupsResultOutput) throws(APIError) {
        self.init()
        groups.reserveCapacity(output.groups.count)
        for group in output.groups {
            var converted = Qdrant_PointGroup()
            converted.id = try Qdrant_GroupId(group.id)
            converted.hits = group.hits.map(Qdrant_ScoredPoint.init)
            if let lookup = group.lookup { converted.lookup = Qdrant_RetrievedPoint(lookup) }
            groups.append(converted)
        }
    }
}

extension Qdrant_SearchMatrixPairs {
    init(_ output: MatrixPairsOutput) {
        self.init()
        pairs = output.pairs.map { pair in
            var converted = Qdrant_SearchMatrixPair()
            converted.a = Qdrant_PointId(pair.a)
            converted.b = Qdrant_PointId(pair.b)
            converted.score = pair.score
            return converted
        }
    }
}

extension Qdrant_SearchMatrixOffsets {
    init(_ output: MatrixOffsetsOutput) {
        self.init()
        offsetsRow = output.offsets_row.map { UInt64($0) }
        offsetsCol = output.offsets_col.map { UInt64($0) }
        scores = output.scores
        ids = output.ids.map(Qdrant_PointId.init)
    }
}
