// The shared model types written as Qdrant's gRPC request messages
// (Sources/StrataGRPCProtocol/Proto/qdrant). The server reads them back in
// Sources/StrataServer/GRPC/Conversions, mostly by rebuilding the REST JSON
// that WireEncoding writes, so the cases and the refusals here are
// WireEncoding's. What the messages have no room for (a mixed `any` list,
// Strata's TTL and versions settings, a count past an unsigned field) is
// refused with `.invalidArgument` rather than dropped.
import StrataAPI
import StrataGRPCProtocol
import SwiftProtobuf

enum GRPCRequests {
    // MARK: - Ids, values, payloads

    /// A point id: `num` for a number, `uuid` (lowercase text) for a UUID.
    static func pointID(_ id: PointID) -> Qdrant_PointId {
        var message = Qdrant_PointId()
        switch id {
        case .number(let number): message.num = number
        case .uuid: message.uuid = id.description
        }
        return message
    }

    /// A JSON value as a `qdrant.Value` (json_with_int.proto): integers as
    /// `integer_value`, other numbers as `double_value`, objects as structs.
    static func value(_ value: JSONValue) -> Qdrant_Value {
        var message = Qdrant_Value()
        switch value {
        case .null: message.nullValue = .nullValue
        case .bool(let flag): message.boolValue = flag
        case .int(let number): message.integerValue = number
        case .double(let number): message.doubleValue = number
        case .string(let text): message.stringValue = text
        case .array(let items): message.listValue = .with { $0.values = items.map(Self.value) }
        case .object(let fields): message.structValue = .with { $0.fields = payload(fields) }
        }
        return message
    }

    /// A payload (or any JSON object) as a gRPC map of values.
    static func payload(_ payload: Payload) -> [String: Qdrant_Value] { payload.mapValues(value) }

    // MARK: - Filters

    /// A filter: its `must`, `should` and `must_not` conditions and its
    /// `min_should` clause. Throws for a condition gRPC cannot carry.
    static func filter(_ filter: Filter) throws -> Qdrant_Filter {
        var message = Qdrant_Filter()
        message.must = try filter.must.map(condition)
        message.should = try filter.should.map(condition)
        message.mustNot = try filter.mustNot.map(condition)
        if let minShould = filter.minShould {
            message.minShould = try .with {
                $0.conditions = try minShould.conditions.map(condition)
                $0.minCount = try unsigned(minShould.minCount, "min_should.min_count")
            }
        }
        return message
    }

    /// One condition, by kind: a field test, `is_empty`, `is_null`, `has_id`
    /// (ids in order), `has_vector`, `slice`, `nested` or a sub-filter.
    static func condition(_ condition: Condition) throws -> Qdrant_Condition {
        var message = Qdrant_Condition()
        switch condition {
        case .field(let field): message.field = try fieldCondition(field)
        case .isEmpty(let key): message.isEmpty = .with { $0.key = key.description }
        case .isNull(let key): message.isNull = .with { $0.key = key.description }
        case .hasID(let ids): message.hasID_p = .with { $0.hasID_p = ids.sorted().map(pointID) }
        case .hasVector(let name): message.hasVector_p = .with { $0.hasVector_p = name }
        case .slice(let slice):
            message.slice = .with {
                $0.index = slice.index
                $0.total = slice.total
            }
        case .nested(let key, let filter):
            message.nested = try .with {
                $0.key = key.description
                $0.filter = try self.filter(filter)
            }
        case .filter(let filter): message.filter = try self.filter(filter)
        }
        return message
    }

    /// A test on a payload key: `match`, `range` (numbers) or
    /// `datetime_range`, a geo shape, or `values_count`.
    static func fieldCondition(_ condition: FieldCondition) throws -> Qdrant_FieldCondition {
        var message = Qdrant_FieldCondition()
        message.key = condition.key.description
        switch condition.test {
        case .match(let match): message.match = try self.match(match)
        case .range(let bounds) where bounds.kind == .datetime: message.datetimeRange = try datetimeRange(bounds)
        case .range(let bounds): message.range = range(bounds)
        case .geoBoundingBox(let box):
            message.geoBoundingBox = .with {
                $0.topLeft = geoPoint(box.topLeft)
                $0.bottomRight = geoPoint(box.bottomRight)
            }
        case .geoRadius(let radius):
            message.geoRadius = try .with {
                $0.center = geoPoint(radius.center)
                $0.radius = try float(radius.radius, "geo_radius.radius")
            }
        case .geoPolygon(let polygon):
            message.geoPolygon = .with {
                $0.exterior = lineString(polygon.exterior)
                $0.interiors = polygon.interiors.map(lineString)
            }
        case .valuesCount(let bounds): message.valuesCount = try valuesCount(bounds)
        }
        return message
    }

    /// A `match`: one value by type, an `any` or `except` list (keywords or
    /// integers), or a text test (`text`, `text_any`, `phrase`, `prefix`, `substring`).
    static func match(_ match: Match) throws -> Qdrant_Match {
        var message = Qdrant_Match()
        switch match {
        case .value(.keyword(let text)): message.keyword = text
        case .value(.integer(let number)): message.integer = number
        case .value(.bool(let flag)): message.boolean = flag
        case .any(let values):
            switch try matchList(values, "any") {
            case .keywords(let texts): message.keywords = .with { $0.strings = texts }
            case .integers(let numbers): message.integers = .with { $0.integers = numbers }
            }
        case .except(let values):
            switch try matchList(values, "except") {
            case .keywords(let texts): message.exceptKeywords = .with { $0.strings = texts }
            case .integers(let numbers): message.exceptIntegers = .with { $0.integers = numbers }
            }
        case .text(let text): message.text = text
        case .textAny(let text): message.textAny = text
        case .phrase(let text): message.phrase = text
        case .prefix(let text): message.prefix = text
        case .substring(let text): message.substring = text
        }
        return message
    }

    private enum MatchList {
        case keywords([String])
        case integers([Int64])
    }

    /// The values of an `any` or `except` match. gRPC has a list of keywords
    /// and a list of integers, nothing mixed and no booleans (which REST
    /// refuses in lists too); an empty list goes as keywords.
    private static func matchList(_ values: [MatchValue], _ clause: String) throws -> MatchList {
        var keywords: [String] = []
        var integers: [Int64] = []
        for value in values {
            switch value {
            case .keyword(let text): keywords.append(text)
            case .integer(let number): integers.append(number)
            case .bool:
                throw StrataError(.invalidArgument, "match.\(clause) with a boolean cannot be sent over gRPC")
            }
        }
        guard keywords.isEmpty || integers.isEmpty else {
            throw StrataError(
                .invalidArgument,
                "match.\(clause) mixing keywords and integers cannot be sent over gRPC (its lists hold one or the other)"
            )
        }
        return integers.isEmpty ? .keywords(keywords) : .integers(integers)
    }

    /// Numeric bounds, as doubles (as the engine holds them).
    private static func range(_ bounds: RangeBounds) -> Qdrant_Range {
        var message = Qdrant_Range()
        if let gt = bounds.gt { message.gt = gt }
        if let gte = bounds.gte { message.gte = gte }
        if let lt = bounds.lt { message.lt = lt }
        if let lte = bounds.lte { message.lte = lte }
        return message
    }

    /// Datetime bounds (microseconds in the engine) as timestamps. A bound
    /// between two microseconds is rounded to the one that keeps the same
    /// datetimes in range (datetimes are whole microseconds): `gt`/`lte` down,
    /// `gte`/`lt` up.
    private static func datetimeRange(_ bounds: RangeBounds) throws -> Qdrant_DatetimeRange {
        var message = Qdrant_DatetimeRange()
        if let gt = bounds.gt { message.gt = try timestamp(microseconds: gt, .down) }
        if let gte = bounds.gte { message.gte = try timestamp(microseconds: gte, .up) }
        if let lt = bounds.lt { message.lt = try timestamp(microseconds: lt, .up) }
        if let lte = bounds.lte { message.lte = try timestamp(microseconds: lte, .down) }
        return message
    }

    /// Microseconds since the epoch as a `Timestamp` (whole seconds, and
    /// nanoseconds 0…999 999 000 after them, also before 1970).
    private static func timestamp(
        microseconds: Double, _ rounding: FloatingPointRoundingRule
    ) throws -> Google_Protobuf_Timestamp {
        guard let micros = Int64(exactly: microseconds.rounded(rounding)) else {
            throw StrataError(
                .invalidArgument, "datetime range bound \(microseconds) µs is not a datetime gRPC can carry")
        }
        var (seconds, remainder) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        if remainder < 0 {
            seconds -= 1
            remainder += 1_000_000
        }
        return Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32(remainder * 1000))
    }

    /// `values_count` bounds: gRPC's are unsigned integers, so a bound must
    /// be a whole number ≥ 0.
    private static func valuesCount(_ bounds: RangeBounds) throws -> Qdrant_ValuesCount {
        func count(_ bound: Double, _ name: String) throws -> UInt64 {
            guard let count = UInt64(exactly: bound) else {
                throw StrataError(
                    .invalidArgument,
                    "values_count.\(name) must be a whole number ≥ 0 to be sent over gRPC, got \(bound)")
            }
            return count
        }
        var message = Qdrant_ValuesCount()
        if let gt = bounds.gt { message.gt = try count(gt, "gt") }
        if let gte = bounds.gte { message.gte = try count(gte, "gte") }
        if let lt = bounds.lt { message.lt = try count(lt, "lt") }
        if let lte = bounds.lte { message.lte = try count(lte, "lte") }
        return message
    }

    private static func geoPoint(_ point: GeoPoint) -> Qdrant_GeoPoint {
        .with {
            $0.lon = point.lon
            $0.lat = point.lat
        }
    }

    private static func lineString(_ points: [GeoPoint]) -> Qdrant_GeoLineString {
        .with { $0.points = points.map(geoPoint) }
    }

    // MARK: - Points and vectors

    /// A point: its id, its vectors (the unnamed dense vector alone as
    /// `vector`, else all by name; a vector with a row size in
    /// `multivectorRowSizes` as its rows) and its payload (none: an empty
    /// map, which the server reads as no payload).
    static func point(_ point: PointStruct, multivectorRowSizes: [String: Int] = [:]) -> Qdrant_PointStruct {
        var named: [String: Qdrant_Vector] = [:]
        for (name, values) in point.vectors { named[name] = vector(values, rowSize: multivectorRowSizes[name]) }
        for (name, sparse) in point.sparseVectors { named[name] = .with { $0.sparse = self.sparse(sparse) } }
        var message = Qdrant_PointStruct()
        message.id = pointID(point.id)
        if named.count == 1, point.sparseVectors.isEmpty, let only = named[CollectionConfig.defaultVectorName] {
            message.vectors = .with { $0.vector = only }
        } else {
            message.vectors = .with { $0.vectors = .with { $0.vectors = named } }
        }
        if let payload = point.payload { message.payload = self.payload(payload) }
        return message
    }

    /// A multivector's rows of `rowSize` values; one dense vector without a
    /// row size or when the values do not divide into rows (which the server
    /// then refuses for a multivector, as over REST).
    private static func vector(_ values: [Float], rowSize: Int?) -> Qdrant_Vector {
        var message = Qdrant_Vector()
        if let rowSize, rowSize > 0, values.count % rowSize == 0 {
            message.multiDense = multiDense(
                stride(from: 0, to: values.count, by: rowSize).map {
                    Array(values[$0..<$0 + rowSize])
                })
        } else {
            message.dense = dense(values)
        }
        return message
    }

    /// A query's vector (dense, multivector rows or sparse) or a stored point's id.
    static func vectorInput(_ input: VectorInput) -> Qdrant_VectorInput {
        var message = Qdrant_VectorInput()
        switch input {
        case .point(let id): message.id = pointID(id)
        case .vector(.dense(let values)): message.dense = dense(values)
        case .vector(.multi(let rows)): message.multiDense = multiDense(rows)
        case .vector(.sparse(let vector)): message.sparse = sparse(vector)
        }
        return message
    }

    private static func dense(_ values: [Float]) -> Qdrant_DenseVector { .with { $0.data = values } }

    private static func multiDense(_ rows: [[Float]]) -> Qdrant_MultiDenseVector {
        .with { $0.vectors = rows.map(dense) }
    }

    private static func sparse(_ vector: SparseVector) -> Qdrant_SparseVector {
        .with {
            $0.indices = vector.indices
            $0.values = vector.values
        }
    }

    // MARK: - Search parameters

    /// How a stage searches: `hnsw_ef`, `exact`, `quantization` (ignore,
    /// rescore, oversampling), `indexed_only`, `acorn` and `idf` (global or a
    /// corpus filter). IDF statistics counted elsewhere (`.given`, for cluster
    /// nodes) have no field and throw, as over REST.
    static func searchParams(_ params: SearchParams) throws -> Qdrant_SearchParams {
        var message = Qdrant_SearchParams()
        if let ef = params.hnswEf { message.hnswEf = try unsigned(ef, "hnsw_ef") }
        if params.exact { message.exact = true }
        if params.indexedOnly { message.indexedOnly = true }
        if let quantization = params.quantization {
            message.quantization = .with {
                $0.ignore = quantization.ignore
                $0.rescore = quantization.rescore
                if let oversampling = quantization.oversampling { $0.oversampling = oversampling }
            }
        }
        if let acorn = params.acorn {
            message.acorn = .with {
                $0.enable = acorn.enable
                $0.maxSelectivity = acorn.maxSelectivity
            }
        }
        switch params.idf {
        case nil: break
        case .global?: message.idf = Qdrant_IdfParams()
        case .corpus(let corpus)?: message.idf = try .with { $0.corpus = try filter(corpus) }
        case .given?:
            throw StrataError(.invalidArgument, "idf statistics counted elsewhere are for cluster nodes, not clients")
        }
        return message
    }

    // MARK: - Universal query

    /// A query (`points/query`): the root stage and its prefetches (each a
    /// `PrefetchQuery` with the same fields), the offset, and whether results
    /// carry payloads and vectors. Prefetch results computed elsewhere
    /// (cluster nodes) throw, as over REST.
    static func queryPoints(collection: String, _ request: QueryRequest) throws -> Qdrant_QueryPoints {
        var message = Qdrant_QueryPoints()
        message.collectionName = collection
        try fill(&message, with: request.stage)
        if request.offset != 0 { message.offset = try unsigned(request.offset, "offset") }
        message.withPayload = .with { $0.enable = request.withPayload }
        message.withVectors = .with { $0.enable = request.withVector }
        return message
    }

    private static func prefetchQuery(_ stage: QueryStage) throws -> Qdrant_PrefetchQuery {
        var message = Qdrant_PrefetchQuery()
        try fill(&message, with: stage)
        return message
    }

    /// The fields of a stage: `using` is left unset for the unnamed vector,
    /// `params` when they are the defaults.
    private static func fill(_ message: inout some QueryStageMessage, with stage: QueryStage) throws {
        guard stage.prefetchResults == nil else {
            throw StrataError(.invalidArgument, "prefetch results are passed between cluster nodes, not by clients")
        }
        message.prefetch = try stage.prefetch.map(prefetchQuery)
        if let query = stage.query { message.query = try self.query(query) }
        if stage.using != CollectionConfig.defaultVectorName { message.using = stage.using }
        if let filter = stage.filter { message.filter = try self.filter(filter) }
        if stage.params != SearchParams() { message.params = try searchParams(stage.params) }
        if let threshold = stage.scoreThreshold { message.scoreThreshold = threshold }
        message.limit = try unsigned(stage.limit, "limit")
        if let lookup = stage.lookupFrom {
            message.lookupFrom = .with {
                $0.collectionName = lookup.collection
                if let vector = lookup.vector { $0.vectorName = vector }
            }
        }
    }

    /// What a stage computes. The default fusion (RRF, k = 2, no weights) goes
    /// as `fusion`, any other RRF as `rrf`.
    private static func query(_ kind: QueryKind) throws -> Qdrant_Query {
        var message = Qdrant_Query()
        switch kind {
        case .nearest(let input, nil): message.nearest = vectorInput(input)
        case .nearest(let input, let mmr?): message.nearestWithMmr = try nearest(input, mmr: mmr)
        case .recommend(let positive, let negative, let strategy):
            message.recommend = .with {
                $0.positive = positive.map(vectorInput)
                $0.negative = negative.map(vectorInput)
                $0.strategy = recommendStrategy(strategy)
            }
        case .discover(let target, let pairs):
            message.discover = .with {
                $0.target = vectorInput(target)
                $0.context = context(pairs)
            }
        case .context(let pairs): message.context = context(pairs)
        case .relevanceFeedback(let target, let feedback, let strategy):
            message.relevanceFeedback = relevanceFeedback(target, feedback, strategy)
        case .orderBy(let order): message.orderBy = orderBy(order)
        case .fusion(.dbsf): message.fusion = .dbsf
        case .fusion(.rrf(let k, let weights)) where k == Fusion.defaultRRFK && weights == nil: message.fusion = .rrf
        case .fusion(.rrf(let k, let weights)):
            message.rrf = try .with {
                $0.k = try unsigned(k, "rrf.k")
                $0.weights = weights ?? []
            }
        case .sampleRandom: message.sample = .random
        case .formula(let formula): message.formula = try self.formula(formula)
        }
        return message
    }

    private static func nearest(_ input: VectorInput, mmr: MMR) throws -> Qdrant_NearestInputWithMmr {
        var message = Qdrant_NearestInputWithMmr()
        message.nearest = vectorInput(input)
        message.mmr = try .with {
            if let diversity = mmr.diversity { $0.diversity = diversity }
            if let limit = mmr.candidatesLimit { $0.candidatesLimit = try unsigned(limit, "mmr.candidates_limit") }
        }
        return message
    }

    private static func recommendStrategy(_ strategy: RecommendStrategy) -> Qdrant_RecommendStrategy {
        switch strategy {
        case .averageVector: .averageVector
        case .bestScore: .bestScore
        case .sumScores: .sumScores
        }
    }

    private static func context(_ pairs: [ContextPair]) -> Qdrant_ContextInput {
        .with {
            $0.pairs = pairs.map { pair in
                .with {
                    $0.positive = vectorInput(pair.positive)
                    $0.negative = vectorInput(pair.negative)
                }
            }
        }
    }

    private static func relevanceFeedback(
        _ target: VectorInput, _ feedback: [FeedbackItem], _ strategy: FeedbackStrategy
    ) -> Qdrant_RelevanceFeedbackInput {
        var message = Qdrant_RelevanceFeedbackInput()
        message.target = vectorInput(target)
        message.feedback = feedback.map { item in
            .with {
                $0.example = vectorInput(item.example)
                $0.score = item.score
            }
        }
        switch strategy {
        case .naive(let a, let b, let c):
            message.strategy = .with {
                $0.naive = .with {
                    $0.a = a
                    $0.b = b
                    $0.c = c
                }
            }
        }
        return message
    }

    /// `order_by`: the key, the direction, and `start_from` as a number (for
    /// a datetime key the engine's microseconds, which the server reads back as such).
    private static func orderBy(_ order: OrderBy) -> Qdrant_OrderBy {
        var message = Qdrant_OrderBy()
        message.key = order.key
        message.direction = order.descending ? .desc : .asc
        if let start = order.startFrom { message.startFrom = .with { $0.float = start } }
        return message
    }

    // MARK: - Formulas

    /// A formula: its expression, and its defaults keyed by Qdrant's variable
    /// syntax (`$score[0]`, a payload key).
    private static func formula(_ formula: Formula) throws -> Qdrant_Formula {
        var message = Qdrant_Formula()
        message.expression = try expression(formula.expression)
        for (variable, value) in formula.defaults { message.defaults[variable.description] = self.value(value) }
        return message
    }

    /// A formula node. Qdrant's gRPC numbers here are 32-bit floats: a
    /// constant keeps about 7 significant digits (a finite one past Float's
    /// range throws).
    private static func expression(_ expression: FormulaExpression) throws -> Qdrant_Expression {
        var message = Qdrant_Expression()
        switch expression {
        case .constant(let value): message.constant = try float(value, "formula constant")
        case .variable(let variable): message.variable = variable.description
        case .condition(let condition): message.condition = try self.condition(condition)
        case .geoDistance(let origin, let to):
            message.geoDistance = .with {
                $0.origin = geoPoint(origin)
                $0.to = to.description
            }
        case .datetime(let text): message.datetime = text
        case .datetimeKey(let path): message.datetimeKey = path.description
        case .sum(let terms): message.sum = try .with { $0.sum = try terms.map(self.expression) }
        case .mult(let terms): message.mult = try .with { $0.mult = try terms.map(self.expression) }
        case .max(let terms): message.max = try .with { $0.max = try terms.map(self.expression) }
        case .min(let terms): message.min = try .with { $0.min = try terms.map(self.expression) }
        case .neg(let inner): message.neg = try self.expression(inner)
        case .abs(let inner): message.abs = try self.expression(inner)
        case .sqrt(let inner): message.sqrt = try self.expression(inner)
        case .exp(let inner): message.exp = try self.expression(inner)
        case .log10(let inner): message.log10 = try self.expression(inner)
        case .ln(let inner): message.ln = try self.expression(inner)
        case .acosh(let inner): message.acosh = try self.expression(inner)
        case .div(let left, let right, let byZeroDefault):
            message.div = try division(left, right, byZeroDefault: byZeroDefault)
        case .pow(let base, let exponent):
            message.pow = try .with {
                $0.base = try self.expression(base)
                $0.exponent = try self.expression(exponent)
            }
        case .decay(let kind, let x, let target, let midpoint, let scale):
            let params = try decay(x: x, target: target, midpoint: midpoint, scale: scale)
            switch kind {
            case .linear: message.linDecay = params
            case .exponential: message.expDecay = params
            case .gaussian: message.gaussDecay = params
            }
        }
        return message
    }

    private static func division(
        _ left: FormulaExpression, _ right: FormulaExpression, byZeroDefault: Double?
    ) throws -> Qdrant_DivExpression {
        var message = Qdrant_DivExpression()
        message.left = try expression(left)
        message.right = try expression(right)
        if let byZeroDefault { message.byZeroDefault = try float(byZeroDefault, "div.by_zero_default") }
        return message
    }

    private static func decay(
        x: FormulaExpression, target: FormulaExpression?, midpoint: Double?, scale: Double?
    ) throws -> Qdrant_DecayParamsExpression {
        var message = Qdrant_DecayParamsExpression()
        message.x = try expression(x)
        if let target { message.target = try expression(target) }
        if let midpoint { message.midpoint = try float(midpoint, "decay midpoint") }
        if let scale { message.scale = try float(scale, "decay scale") }
        return message
    }

    // MARK: - Collections

    /// A collection's creation: its vectors (one unnamed vector as `params`,
    /// else a map by name), sparse vectors, HNSW, optimizer and quantization
    /// settings, strict mode and metadata. Throws for settings Qdrant's
    /// `CreateCollection` has no field for: a payload compression other than
    /// the default (as over REST), Strata's `ttl_config` and `versions_config`.
    static func createCollection(_ name: String, _ config: CollectionConfig) throws -> Qdrant_CreateCollection {
        try refuseUnsupported(config)
        var message = Qdrant_CreateCollection()
        message.collectionName = name
        message.vectorsConfig = try vectorsConfig(config.vectors)
        if !config.sparseVectors.isEmpty {
            message.sparseVectorsConfig = try .with { $0.map = try config.sparseVectors.mapValues(sparseParams) }
        }
        message.hnswConfig = try hnsw(config.hnswConfig)
        message.optimizersConfig = try optimizers(config.optimizers)
        if let quantization = config.quantizationConfig {
            message.quantizationConfig = try self.quantization(quantization)
        }
        if let metadata = config.metadata { message.metadata = payload(metadata) }
        if let strictMode = config.strictMode { message.strictModeConfig = try self.strictMode(strictMode) }
        return message
    }

    private static func refuseUnsupported(_ config: CollectionConfig) throws {
        guard config.payloadCompression == .zstd else {
            throw StrataError(
                .invalidArgument,
                "payload compression is set per data directory on a server; create the collection with the default (zstd)"
            )
        }
        for (setting, isSet) in [("ttl_config", config.ttl != nil), ("versions_config", config.versions != nil)]
        where isSet {
            throw StrataError(
                .invalidArgument,
                "\(setting) is a Strata extension that Qdrant's gRPC CreateCollection has no field for; create the collection over REST"
            )
        }
    }

    private static func vectorsConfig(_ vectors: [String: VectorParams]) throws -> Qdrant_VectorsConfig {
        var message = Qdrant_VectorsConfig()
        if vectors.count == 1, let only = vectors[CollectionConfig.defaultVectorName] {
            message.params = try vectorParams(only)
        } else {
            message.paramsMap = try .with { $0.map = try vectors.mapValues(vectorParams) }
        }
        return message
    }

    private static func vectorParams(_ params: VectorParams) throws -> Qdrant_VectorParams {
        var message = Qdrant_VectorParams()
        message.size = try unsigned(params.size, "vector size")
        message.distance = distance(params.distance)
        if let hnsw = params.hnswConfig { message.hnswConfig = try self.hnsw(hnsw) }
        if let quantization = params.quantizationConfig {
            message.quantizationConfig = try self.quantization(quantization)
        }
        if let onDisk = params.onDisk { message.onDisk = onDisk }
        if let multivector = params.multivectorConfig {
            switch multivector.comparator {
            case .maxSim: message.multivectorConfig = .with { $0.comparator = .maxSim }
            }
        }
        if let datatype = params.datatype { message.datatype = self.datatype(datatype) }
        return message
    }

    private static func distance(_ distance: Distance) -> Qdrant_Distance {
        switch distance {
        case .cosine: .cosine
        case .dot: .dot
        case .euclid: .euclid
        case .manhattan: .manhattan
        }
    }

    private static func datatype(_ datatype: VectorDatatype) -> Qdrant_Datatype {
        switch datatype {
        case .float32: .float32
        case .float16: .float16
        case .uint8: .uint8
        }
    }

    private static func sparseParams(_ params: SparseVectorParams) throws -> Qdrant_SparseVectorParams {
        var message = Qdrant_SparseVectorParams()
        switch params.modifier {
        case .none: message.modifier = .none
        case .idf: message.modifier = .idf
        }
        if let index = params.index {
            message.index = try .with {
                if let onDisk = index.onDisk { $0.onDisk = onDisk }
                if let threshold = index.fullScanThreshold {
                    $0.fullScanThreshold = try unsigned(threshold, "sparse index full_scan_threshold")
                }
            }
        }
        return message
    }

    /// HNSW settings (the build seed has no field, as over REST).
    private static func hnsw(_ config: HnswConfig) throws -> Qdrant_HnswConfigDiff {
        var message = Qdrant_HnswConfigDiff()
        message.m = try unsigned(config.m, "hnsw_config.m")
        message.efConstruct = try unsigned(config.efConstruct, "hnsw_config.ef_construct")
        message.fullScanThreshold = try unsigned(config.fullScanThresholdKB, "hnsw_config.full_scan_threshold")
        message.maxIndexingThreads = try unsigned(config.maxIndexingThreads, "hnsw_config.max_indexing_threads")
        if let onDisk = config.onDisk { message.onDisk = onDisk }
        return message
    }

    private static func optimizers(_ config: OptimizersConfig) throws -> Qdrant_OptimizersConfigDiff {
        var message = Qdrant_OptimizersConfigDiff()
        message.deletedThreshold = config.deletedThreshold
        message.vacuumMinVectorNumber = try unsigned(config.vacuumMinVectorNumber, "vacuum_min_vector_number")
        message.defaultSegmentNumber = try unsigned(config.defaultSegmentNumber, "default_segment_number")
        if let size = config.maxSegmentSizeKB { message.maxSegmentSize = try unsigned(size, "max_segment_size") }
        message.indexingThreshold = try unsigned(config.indexingThresholdKB, "indexing_threshold")
        message.flushIntervalSec = try unsigned(config.flushIntervalSec, "flush_interval_sec")
        if let threads = config.maxOptimizationThreads {
            message.maxOptimizationThreads = try .with { $0.value = try unsigned(threads, "max_optimization_threads") }
        }
        return message
    }

    /// A quantization method. The scalar quantile is a 32-bit float in gRPC
    /// (the server reads back its shortest decimal: 0.99 stays 0.99).
    private static func quantization(_ config: QuantizationConfig) throws -> Qdrant_QuantizationConfig {
        var message = Qdrant_QuantizationConfig()
        switch config {
        case .scalar(let quantile, let alwaysRam):
            message.scalar = try .with {
                $0.type = .int8
                if let quantile { $0.quantile = try float(quantile, "scalar quantization quantile") }
                if let alwaysRam { $0.alwaysRam = alwaysRam }
            }
        case .binary(let encoding, let queryEncoding, let alwaysRam):
            message.binary = .with {
                $0.encoding = binaryEncoding(encoding)
                $0.queryEncoding = .with { $0.setting = binaryQueryEncoding(queryEncoding) }
                if let alwaysRam { $0.alwaysRam = alwaysRam }
            }
        case .product(let compression, let alwaysRam):
            message.product = .with {
                $0.compression = compressionRatio(compression)
                if let alwaysRam { $0.alwaysRam = alwaysRam }
            }
        }
        return message
    }

    private static func binaryEncoding(_ encoding: BinaryQuantizationEncoding) -> Qdrant_BinaryQuantizationEncoding {
        switch encoding {
        case .oneBit: .oneBit
        case .twoBits: .twoBits
        case .oneAndHalfBits: .oneAndHalfBits
        }
    }

    private static func binaryQueryEncoding(
        _ encoding: BinaryQueryEncoding
    ) -> Qdrant_BinaryQuantizationQueryEncoding.Setting {
        switch encoding {
        case .default: .default
        case .binary: .binary
        case .scalar4Bits: .scalar4Bits
        case .scalar8Bits: .scalar8Bits
        }
    }

    private static func compressionRatio(_ compression: ProductQuantizationCompression) -> Qdrant_CompressionRatio {
        switch compression {
        case .x4: .x4
        case .x8: .x8
        case .x16: .x16
        case .x32: .x32
        case .x64: .x64
        }
    }

    /// Strict mode limits, each set only when the config sets it.
    private static func strictMode(_ config: StrictModeConfig) throws -> Qdrant_StrictModeConfig {
        var message = Qdrant_StrictModeConfig()
        func set<T: FixedWidthInteger & UnsignedInteger>(
            _ field: WritableKeyPath<Qdrant_StrictModeConfig, T>, _ value: Int?, _ name: String
        ) throws {
            if let value { message[keyPath: field] = try unsigned(value, "strict_mode_config.\(name)") }
        }
        func set(_ field: WritableKeyPath<Qdrant_StrictModeConfig, Bool>, _ value: Bool?) {
            if let value { message[keyPath: field] = value }
        }
        set(\.enabled, config.enabled)
        set(\.unindexedFilteringRetrieve, config.unindexedFilteringRetrieve)
        set(\.unindexedFilteringUpdate, config.unindexedFilteringUpdate)
        set(\.searchAllowExact, config.searchAllowExact)
        try set(\.maxQueryLimit, config.maxQueryLimit, "max_query_limit")
        try set(\.maxTimeout, config.maxTimeout, "max_timeout")
        try set(\.searchMaxHnswEf, config.searchMaxHnswEf, "search_max_hnsw_ef")
        try set(\.upsertMaxBatchsize, config.upsertMaxBatchsize, "upsert_max_batchsize")
        try set(\.searchMaxBatchsize, config.searchMaxBatchsize, "search_max_batchsize")
        try set(\.maxCollectionVectorSizeBytes, config.maxCollectionVectorSizeBytes, "max_collection_vector_size_bytes")
        try set(\.readRateLimit, config.readRateLimit, "read_rate_limit")
        try set(\.writeRateLimit, config.writeRateLimit, "write_rate_limit")
        try set(
            \.maxCollectionPayloadSizeBytes, config.maxCollectionPayloadSizeBytes, "max_collection_payload_size_bytes")
        try set(\.maxPointsCount, config.maxPointsCount, "max_points_count")
        try set(\.filterMaxConditions, config.filterMaxConditions, "filter_max_conditions")
        try set(\.conditionMaxSize, config.conditionMaxSize, "condition_max_size")
        try set(\.maxPayloadIndexCount, config.maxPayloadIndexCount, "max_payload_index_count")
        try set(\.maxResidentMemoryPercent, config.maxResidentMemoryPercent, "max_resident_memory_percent")
        if let oversampling = config.searchMaxOversampling {
            message.searchMaxOversampling = try float(oversampling, "strict_mode_config.search_max_oversampling")
        }
        if let limits = config.multivectorConfig { message.multivectorConfig = try strictMultivectors(limits) }
        if let limits = config.sparseConfig { message.sparseConfig = try strictSparse(limits) }
        return message
    }

    private static func strictMultivectors(
        _ limits: [String: StrictModeConfig.Multivector]
    ) throws -> Qdrant_StrictModeMultivectorConfig {
        var message = Qdrant_StrictModeMultivectorConfig()
        for (name, limit) in limits {
            message.multivectorConfig[name] = try .with {
                if let max = limit.maxVectors { $0.maxVectors = try unsigned(max, "max_vectors of \"\(name)\"") }
            }
        }
        return message
    }

    private static func strictSparse(
        _ limits: [String: StrictModeConfig.Sparse]
    ) throws -> Qdrant_StrictModeSparseConfig {
        var message = Qdrant_StrictModeSparseConfig()
        for (name, limit) in limits {
            message.sparseConfig[name] = try .with {
                if let max = limit.maxLength { $0.maxLength = try unsigned(max, "max_length of \"\(name)\"") }
            }
        }
        return message
    }

    // MARK: - Payload indexes

    /// A payload index on `key`: `field_type` and the type's
    /// `field_index_params` (keyword: is_tenant, prefix, on_disk; integer:
    /// lookup, range, on_disk; uuid: is_tenant, on_disk; text: tokenizer,
    /// lowercase, token lengths, phrase matching, ASCII folding, stopwords,
    /// stemmer, on_disk; the others: on_disk), waiting for the index to be
    /// built. An option the type's parameters have no field for throws.
    static func fieldIndex(
        collection: String, key: String, schema: PayloadFieldSchema
    ) throws -> Qdrant_CreateFieldIndexCollection {
        try refuseUncarriedOptions(schema)
        var message = Qdrant_CreateFieldIndexCollection()
        message.collectionName = collection
        message.wait = true
        message.fieldName = key
        message.fieldType = fieldType(schema.type)
        message.fieldIndexParams = try indexParams(schema)
        return message
    }

    private static func fieldType(_ type: PayloadFieldSchema.FieldType) -> Qdrant_FieldType {
        switch type {
        case .keyword: .keyword
        case .integer: .integer
        case .float: .float
        case .bool: .bool
        case .datetime: .datetime
        case .uuid: .uuid
        case .geo: .geo
        case .text: .text
        }
    }

    /// Refuses a schema with options its type's gRPC parameters cannot carry
    /// (`is_tenant` on an integer index, say; REST drops them silently).
    private static func refuseUncarriedOptions(_ schema: PayloadFieldSchema) throws {
        var carried = PayloadFieldSchema(schema.type)
        carried.onDisk = schema.onDisk
        let names: String
        switch schema.type {
        case .keyword:
            carried.isTenant = schema.isTenant
            carried.prefix = schema.prefix
            names = "is_tenant, prefix and on_disk"
        case .uuid:
            carried.isTenant = schema.isTenant
            names = "is_tenant and on_disk"
        case .integer:
            carried.lookup = schema.lookup
            carried.range = schema.range
            names = "lookup, range and on_disk"
        case .text:
            carried = schema
            names = "every text option"
        case .float, .bool, .datetime, .geo: names = "on_disk"
        }
        guard carried == schema else {
            throw StrataError(
                .invalidArgument,
                "a payload index of type \(schema.type.rawValue) takes only \(names) over gRPC; this schema sets other options"
            )
        }
    }

    private static func indexParams(_ schema: PayloadFieldSchema) throws -> Qdrant_PayloadIndexParams {
        var message = Qdrant_PayloadIndexParams()
        let onDisk = schema.onDisk
        switch schema.type {
        case .keyword:
            message.keywordIndexParams = .with {
                if schema.isTenant { $0.isTenant = true }
                if schema.prefix { $0.prefix = Qdrant_KeywordPrefixParams() }
                if let onDisk { $0.onDisk = onDisk }
            }
        case .integer:
            message.integerIndexParams = .with {
                $0.lookup = schema.lookup
                $0.range = schema.range
                if let onDisk { $0.onDisk = onDisk }
            }
        case .uuid:
            message.uuidIndexParams = .with {
                if schema.isTenant { $0.isTenant = true }
                if let onDisk { $0.onDisk = onDisk }
            }
        case .float: message.floatIndexParams = .with { if let onDisk { $0.onDisk = onDisk } }
        case .bool: message.boolIndexParams = .with { if let onDisk { $0.onDisk = onDisk } }
        case .datetime: message.datetimeIndexParams = .with { if let onDisk { $0.onDisk = onDisk } }
        case .geo: message.geoIndexParams = .with { if let onDisk { $0.onDisk = onDisk } }
        case .text: message.textIndexParams = try textParams(schema)
        }
        return message
    }

    private static func textParams(_ schema: PayloadFieldSchema) throws -> Qdrant_TextIndexParams {
        var message = Qdrant_TextIndexParams()
        switch schema.tokenizer {
        case .word: message.tokenizer = .word
        case .whitespace: message.tokenizer = .whitespace
        case .prefix: message.tokenizer = .prefix
        }
        message.lowercase = schema.lowercase
        message.phraseMatching = schema.phraseMatching
        if schema.asciiFolding { message.asciiFolding = true }
        if let length = schema.minTokenLength { message.minTokenLen = try unsigned(length, "min_token_len") }
        if let length = schema.maxTokenLength { message.maxTokenLen = try unsigned(length, "max_token_len") }
        if let onDisk = schema.onDisk { message.onDisk = onDisk }
        if let stopwords = schema.stopwords { message.stopwords = self.stopwords(stopwords) }
        if let stemmer = schema.stemmer { message.stemmer = self.stemmer(stemmer) }
        return message
    }

    /// Stopwords: gRPC has only the set form, so one language goes as a set
    /// of one (the same words; the server keeps it as a set).
    private static func stopwords(_ stopwords: TextStopwords) -> Qdrant_StopwordsSet {
        var message = Qdrant_StopwordsSet()
        switch stopwords {
        case .language(let name): message.languages = [name]
        case .set(let languages, let custom):
            message.languages = languages ?? []
            message.custom = custom ?? []
        }
        return message
    }

    private static func stemmer(_ stemmer: TextStemmer) -> Qdrant_StemmingAlgorithm {
        var message = Qdrant_StemmingAlgorithm()
        switch stemmer {
        case .snowballEnglish: message.snowball = .with { $0.language = "english" }
        case .none: message.disabled = Qdrant_DisabledStemmer()
        }
        return message
    }

    // MARK: - Numbers

    /// `value` as an unsigned protobuf integer, or `.invalidArgument` naming
    /// `field` when it does not fit (a negative count, a limit past `T.max`).
    private static func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ value: Int, _ field: String) throws -> T {
        guard let result = T(exactly: value) else {
            throw StrataError(.invalidArgument, "\(field) must be within 0…\(T.max) to be sent over gRPC, got \(value)")
        }
        return result
    }

    /// A double as a protobuf float (Qdrant's gRPC has floats where REST has
    /// doubles), or `.invalidArgument` naming `field` when a finite value is
    /// past Float's range.
    private static func float(_ value: Double, _ field: String) throws -> Float {
        let result = Float(value)
        guard result.isFinite || !value.isFinite else {
            throw StrataError(.invalidArgument, "\(field) \(value) is out of range for gRPC's 32-bit float")
        }
        return result
    }
}

/// The fields a query stage sets, shared by the root (`QueryPoints`) and its
/// prefetches (`PrefetchQuery`).
private protocol QueryStageMessage {
    var prefetch: [Qdrant_PrefetchQuery] { get set }
    var query: Qdrant_Query { get set }
    var using: String { get set }
    var filter: Qdrant_Filter { get set }
    var params: Qdrant_SearchParams { get set }
    var scoreThreshold: Float { get set }
    var limit: UInt64 { get set }
    var lookupFrom: Qdrant_LookupLocation { get set }
}

extension Qdrant_QueryPoints: QueryStageMessage {}
extension Qdrant_PrefetchQuery: QueryStageMessage {}
