import StrataVectorMath

// Examples → vectors: the vectors given in a query, checked against the
// vector they are scored by, and the stored vectors of points given by id
// (in this collection or, with `lookupFrom`, in another).

extension QueryExecutor {
    /// The parameters of dense vector `using`. Throws `.invalidArgument` when
    /// the collection has no dense vector of that name.
    func vectorParams(of using: String) throws -> VectorParams {
        guard let params = collection.config.vectors[using] else {
            throw StrataError.invalid(
                "Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using); collection `\(collection.name)` has \(collection.config.vectors.keys.sorted())"
            )
        }
        return params
    }

    /// The collection named by a `lookupFrom` or `withLookup`. Throws
    /// `.invalidArgument` for another collection without a resolver, and what
    /// the resolver throws.
    func lookupCollection(_ name: String) throws -> Collection {
        if name == collection.name { return collection }
        guard let resolve else {
            throw StrataError.invalid("lookups in other collections (`\(name)`) need a collection resolver")
        }
        return try resolve(name)
    }

    /// The `.notFound` error of an example point without the vector it is used by.
    static func missingVector(_ name: String, of id: PointID) -> StrataError {
        StrataError(.notFound, "Vector with name \"\(name)\" for point \(id) not found")
    }

    /// The vector of one example: a given vector (checked) or a stored point's.
    private func vector(of input: VectorInput, using: String, lookupFrom: LookupLocation?) throws -> [Float] {
        let params = try vectorParams(of: using)
        if params.isMultiVector {
            return try multiVector(of: input, using: using, params: params, lookupFrom: lookupFrom)
        }
        let size = params.size
        switch input {
        case .vector(.multi):
            throw StrataError.invalid(
                "a multivector query needs `using` to name a multivector; \"\(using)\" is a plain dense vector")
        case .vector(.sparse):
            throw StrataError.invalid(
                "a sparse query vector needs `using` to name a sparse vector; \"\(using)\" is a dense vector")
        case .vector(.dense(let values)):
            guard values.count == size else {
                throw StrataError.invalid("wrong query vector dimension: expected \(size), got \(values.count)")
            }
            guard VectorKernels.allFinite(values) else {
                throw StrataError.invalid("query vector contains NaN or infinite values")
            }
            return values
        case .point(let id):
            let source = try lookupFrom.map { try lookupCollection($0.collection) } ?? collection
            let name = lookupFrom?.vector ?? using
            guard source.config.vectors[name] != nil else {
                throw StrataError.invalid(
                    "Not existing vector name error: \(name.isEmpty ? "(unnamed)" : name) in collection `\(source.name)`"
                )
            }
            guard let stored = try storedExample(id, in: source).vectors?[name] else {
                throw Self.missingVector(name, of: id)
            }
            guard stored.count == size else {
                throw StrataError.invalid(
                    "the vector of point \(id) in `\(source.name)` has \(stored.count) dimensions; vector \"\(using)\" here has \(size)"
                )
            }
            return stored
        }
    }

    /// The rows (back to back) of a query on multivector `using`: given rows,
    /// a dense vector as one row, or a stored point's multivector.
    private func multiVector(
        of input: VectorInput, using: String, params: VectorParams, lookupFrom: LookupLocation?
    ) throws -> [Float] {
        let rows: [Float]
        switch input {
        case .vector(.sparse):
            throw StrataError.invalid(
                "a sparse query vector needs `using` to name a sparse vector; \"\(using)\" is a multivector")
        case .vector(.dense(let row)):
            rows = row
        case .vector(.multi(let given)):
            guard !given.isEmpty, given.allSatisfy({ $0.count == params.size }) else {
                throw StrataError.invalid("wrong query multivector: every row must have \(params.size) dimensions")
            }
            rows = given.flatMap { $0 }
        case .point(let id):
            let source = try lookupFrom.map { try lookupCollection($0.collection) } ?? collection
            let name = lookupFrom?.vector ?? using
            guard source.config.vectors[name]?.isMultiVector == true, source.config.vectors[name]?.size == params.size
            else {
                throw StrataError.invalid(
                    "vector \"\(name)\" of collection `\(source.name)` is not a multivector of \(params.size) dimensions"
                )
            }
            guard let stored = try storedExample(id, in: source).vectors?[name] else {
                throw Self.missingVector(name, of: id)
            }
            rows = stored
        }
        guard !rows.isEmpty, rows.count % params.size == 0 else {
            throw StrataError.invalid(
                "wrong query vector dimension: expected rows of \(params.size), got \(rows.count) numbers")
        }
        guard VectorKernels.allFinite(rows) else {
            throw StrataError.invalid("query vector contains NaN or infinite values")
        }
        return rows
    }

    /// Resolves the examples of a stage's query to vectors. Vectors of custom
    /// objectives are normalised under Cosine (Qdrant preprocesses each one);
    /// nearest and average vectors are prepared by the stage that searches
    /// with them. `defaultMMRCandidates` is the MMR candidate count when the
    /// query does not set one.
    func resolve(
        _ query: QueryKind, using: String, lookupFrom: LookupLocation?, defaultMMRCandidates: Int
    ) throws -> ResolvedQuery {
        let isMultiVector = collection.config.vectors[using]?.isMultiVector == true
        func example(_ input: VectorInput) throws -> [Float] {
            try vector(of: input, using: using, lookupFrom: lookupFrom)
        }
        func custom(_ input: VectorInput) throws -> [Float] { try prepareCustom(try example(input), using: using) }
        func pairs(_ context: [ContextPair]) throws -> [(positive: [Float], negative: [Float])] {
            try context.map { pair in (positive: try custom(pair.positive), negative: try custom(pair.negative)) }
        }
        switch query {
        case .nearest(let input, let mmr):
            let vector = try example(input)
            guard let mmr else { return .nearest(vector, mmr: nil) }
            return .nearest(vector, mmr: (lambda: mmr.lambda, candidates: mmr.candidatesLimit ?? defaultMMRCandidates))
        case .recommend(let positive, let negative, .averageVector) where isMultiVector:
            // Qdrant's average of multivectors: every positive row, and every
            // negative row negated, as one multivector query.
            let rows = try positive.flatMap(example) + (try negative.flatMap(example)).map { -$0 }
            return .nearest(rows, mmr: nil)
        case .recommend(let positive, let negative, .averageVector):
            return .nearest(
                Self.averageVector(positive: try positive.map(example), negative: try negative.map(example)), mmr: nil)
        case .recommend(let positive, let negative, .bestScore):
            return .bestScore(positive: try positive.map(custom), negative: try negative.map(custom))
        case .recommend(let positive, let negative, .sumScores):
            return .sumScores(positive: try positive.map(custom), negative: try negative.map(custom))
        case .discover(let target, let context):
            return .discover(target: try custom(target), pairs: try pairs(context))
        case .context(let context):
            return .context(pairs: try pairs(context))
        case .relevanceFeedback(let target, let feedback, .naive(let a, let b, let c)):
            let examples = try feedback.map { (example: try custom($0.example), score: $0.score) }
            return .feedback(.naiveFeedback(target: try custom(target), feedback: examples, a: a, b: b, c: c))
        case .orderBy(let orderBy):
            return .orderBy(orderBy)
        case .fusion(let fusion):
            return .fusion(fusion)
        case .sampleRandom:
            return .sample
        case .formula(let formula):
            return .formula(formula)
        }
    }

    /// Cosine normalisation of an example of a custom objective (zero vectors
    /// stay as they are, as in Qdrant's `cosine_preprocess`).
    func prepareCustom(_ vector: [Float], using: String) throws -> [Float] {
        let params = try vectorParams(of: using)
        // A multivector example: its rows, each normalised under Cosine.
        if params.isMultiVector { return try collection.prepare(vector, name: using, params: params, what: "example") }
        guard params.distance == .cosine else { return vector }
        var normalized = vector
        return VectorKernels.normalize(&normalized) ? normalized : vector
    }

    /// A nearest query vector (or multivector) as it is searched with:
    /// checked and normalised under Cosine, as a stored vector is. Throws
    /// `.invalidArgument` for a zero vector under Cosine or a multivector
    /// with too many rows.
    func prepareNearest(_ vector: [Float], using: String) throws -> [Float] {
        try collection.prepare(vector, name: using, params: try vectorParams(of: using), what: "query vector")
    }

    /// Qdrant's `avg_vector_for_recommendation`: avg(positive), or
    /// avg(positive) + avg(positive) − avg(negative) when there are negatives.
    /// Precondition: `positive` is not empty (validation checks it).
    static func averageVector(positive: [[Float]], negative: [[Float]]) -> [Float] {
        func average(_ vectors: [[Float]]) -> [Float] {
            var sum = [Float](repeating: 0, count: vectors[0].count)
            for vector in vectors { for i in sum.indices { sum[i] += vector[i] } }
            let count = Float(vectors.count)
            return sum.map { $0 / count }
        }
        let positiveAverage = average(positive)
        guard !negative.isEmpty else { return positiveAverage }
        let negativeAverage = average(negative)
        return zip(positiveAverage, negativeAverage).map { pos, neg in pos + pos - neg }
    }
}
