// The shared model types written as Qdrant's REST request bodies (field names
// and shapes from Qdrant's OpenAPI schema; the server reads them in
// Sources/StrataServer/Models). Everything is built as a `JSONValue` tree.
// Used by StrataClient's REST transport and by a cluster node that sends a
// gRPC call on a collection of several shards through the shard router.
import Foundation

package enum WireEncoding {
    // MARK: - Points

    /// A point; `rowSizes` gives the row size of each multivector (a
    /// `PointStruct` keeps its rows back to back, Qdrant's JSON lists them).
    package static func point(_ point: PointStruct, rowSizes: [String: Int] = [:]) -> JSONValue {
        var object: [String: JSONValue] = ["id": id(point.id)]
        var vectors: [String: JSONValue] = [:]
        for (name, values) in point.vectors {
            if let size = rowSizes[name], size > 0, values.count % size == 0 {
                vectors[name] = .array(
                    stride(from: 0, to: values.count, by: size).map {
                        floats(Array(values[$0..<$0 + size]))
                    })
            } else {
                vectors[name] = floats(values)
            }
        }
        for (name, sparse) in point.sparseVectors { vectors[name] = self.sparse(sparse) }
        if vectors.count == 1, let only = vectors[CollectionConfig.defaultVectorName] {
            object["vector"] = only
        } else {
            object["vector"] = .object(vectors)
        }
        if let payload = point.payload { object["payload"] = .object(payload) }
        return .object(object)
    }

    /// A point id. `JSONValue` has no unsigned 64-bit case, so an id of 2^63
    /// or more is sent as its decimal text, never as a rounded double: `strata
    /// serve` reads that text as the same id; a server that takes only numbers
    /// and UUIDs refuses it.
    package static func id(_ id: PointID) -> JSONValue {
        switch id {
        case .number(let n): return n <= UInt64(Int64.max) ? .int(Int64(n)) : .string(String(n))
        case .uuid(let uuid): return .string(uuid.uuidString.lowercased())
        }
    }

    package static func ids(_ ids: [PointID]) -> JSONValue { .array(ids.map(id)) }

    package static func floats(_ values: [Float]) -> JSONValue { .array(values.map { .double(Double($0)) }) }

    package static func sparse(_ vector: SparseVector) -> JSONValue {
        .object(["indices": .array(vector.indices.map { .int(Int64($0)) }), "values": floats(vector.values)])
    }

    package static func filter(_ filter: Filter) -> JSONValue { filter.json }

    // MARK: - Collections

    package static func collection(_ config: CollectionConfig) throws -> JSONValue {
        guard config.payloadCompression == .zstd else {
            throw StrataError(
                .invalidArgument,
                "payload compression is set per data directory on a server; create the collection with the default (zstd)"
            )
        }
        var object: [String: JSONValue] = [:]
        if config.vectors.count == 1, let only = config.vectors[CollectionConfig.defaultVectorName] {
            object["vectors"] = vectorParams(only)
        } else {
            object["vectors"] = .object(config.vectors.mapValues(vectorParams))
        }
        if !config.sparseVectors.isEmpty {
            object["sparse_vectors"] = .object(config.sparseVectors.mapValues(sparseParams))
        }
        object["hnsw_config"] = hnsw(config.hnswConfig)
        object["optimizers_config"] = optimizers(config.optimizers)
        if let quantization = config.quantizationConfig {
            object["quantization_config"] = self.quantization(quantization)
        }
        if let metadata = config.metadata { object["metadata"] = .object(metadata) }
        if let strictMode = config.strictMode { object["strict_mode_config"] = try snakeCased(strictMode) }
        if let ttl = config.ttl { object["ttl_config"] = try snakeCased(ttl) }
        if let versions = config.versions { object["versions_config"] = try snakeCased(versions) }
        return .object(object)
    }

    package static func vectorParams(_ params: VectorParams) -> JSONValue {
        var object: [String: JSONValue] = [
            "size": .int(Int64(params.size)), "distance": .string(params.distance.rawValue),
        ]
        if let hnsw = params.hnswConfig { object["hnsw_config"] = self.hnsw(hnsw) }
        if let quantization = params.quantizationConfig {
            object["quantization_config"] = self.quantization(quantization)
        }
        if let onDisk = params.onDisk { object["on_disk"] = .bool(onDisk) }
        if let multivector = params.multivectorConfig {
            object["multivector_config"] = ["comparator": .string(multivector.comparator.rawValue)]
        }
        if let datatype = params.datatype { object["datatype"] = .string(datatype.rawValue) }
        return .object(object)
    }

    package static func sparseParams(_ params: SparseVectorParams) -> JSONValue {
        var object: [String: JSONValue] = ["modifier": .string(params.modifier.rawValue)]
        if let index = params.index {
            var fields: [String: JSONValue] = [:]
            if let onDisk = index.onDisk { fields["on_disk"] = .bool(onDisk) }
            if let threshold = index.fullScanThreshold { fields["full_scan_threshold"] = .int(Int64(threshold)) }
            object["index"] = .object(fields)
        }
        return .object(object)
    }

    package static func hnsw(_ config: HnswConfig) -> JSONValue {
        var object: [String: JSONValue] = [
            "m": .int(Int64(config.m)), "ef_construct": .int(Int64(config.efConstruct)),
            "full_scan_threshold": .int(Int64(config.fullScanThresholdKB)),
            "max_indexing_threads": .int(Int64(config.maxIndexingThreads)),
        ]
        if let onDisk = config.onDisk { object["on_disk"] = .bool(onDisk) }
        return .object(object)
    }

    package static func optimizers(_ config: OptimizersConfig) -> JSONValue {
        var object: [String: JSONValue] = [
            "deleted_threshold": .double(config.deletedThreshold),
            "vacuum_min_vector_number": .int(Int64(config.vacuumMinVectorNumber)),
            "default_segment_number": .int(Int64(config.defaultSegmentNumber)),
            "indexing_threshold": .int(Int64(config.indexingThresholdKB)),
            "flush_interval_sec": .int(Int64(config.flushIntervalSec)),
        ]
        if let size = config.maxSegmentSizeKB { object["max_segment_size"] = .int(Int64(size)) }
        if let threads = config.maxOptimizationThreads { object["max_optimization_threads"] = .int(Int64(threads)) }
        return .object(object)
    }

    package static func quantization(_ config: QuantizationConfig) -> JSONValue {
        switch config {
        case .scalar(let quantile, let alwaysRam):
            var fields: [String: JSONValue] = ["type": "int8"]
            if let quantile { fields["quantile"] = .double(quantile) }
            if let alwaysRam { fields["always_ram"] = .bool(alwaysRam) }
            return ["scalar": .object(fields)]
        case .binary(let encoding, let queryEncoding, let alwaysRam):
            var fields: [String: JSONValue] = [
                "encoding": .string(encoding.rawValue), "query_encoding": .string(queryEncoding.rawValue),
            ]
            if let alwaysRam { fields["always_ram"] = .bool(alwaysRam) }
            return ["binary": .object(fields)]
        case .product(let compression, let alwaysRam):
            var fields: [String: JSONValue] = ["compression": .string(compression.rawValue)]
            if let alwaysRam { fields["always_ram"] = .bool(alwaysRam) }
            return ["product": .object(fields)]
        }
    }

    /// A `Codable` configuration whose Swift names are Qdrant's in camel case
    /// (`maxQueryLimit` is `max_query_limit`).
    package static func snakeCased(_ value: some Encodable) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value))
    }

    // MARK: - Search and query

    package static func params(_ params: SearchParams) throws -> JSONValue {
        var object: [String: JSONValue] = [:]
        if let ef = params.hnswEf { object["hnsw_ef"] = .int(Int64(ef)) }
        if params.exact { object["exact"] = true }
        if params.indexedOnly { object["indexed_only"] = true }
        if let quantization = params.quantization {
            var fields: [String: JSONValue] = [
                "ignore": .bool(quantization.ignore), "rescore": .bool(quantization.rescore),
            ]
            if let oversampling = quantization.oversampling { fields["oversampling"] = .double(oversampling) }
            object["quantization"] = .object(fields)
        }
        if let acorn = params.acorn {
            object["acorn"] = ["enable": .bool(acorn.enable), "max_selectivity": .double(acorn.maxSelectivity)]
        }
        switch params.idf {
        case nil: break
        case .global?: object["idf"] = "global"
        case .corpus(let filter)?: object["idf"] = ["corpus": filter.json]
        case .given?:
            throw StrataError(.invalidArgument, "idf statistics counted elsewhere are for cluster nodes, not clients")
        }
        return .object(object)
    }

    package static func queryRequest(_ request: QueryRequest) throws -> JSONValue {
        guard case .object(var object) = try stage(request.stage) else { preconditionFailure("a stage is an object") }
        if request.offset != 0 { object["offset"] = .int(Int64(request.offset)) }
        object["with_payload"] = .bool(request.withPayload)
        object["with_vector"] = .bool(request.withVector)
        return .object(object)
    }

    package static func stage(_ stage: QueryStage) throws -> JSONValue {
        guard stage.prefetchResults == nil else {
            throw StrataError(.invalidArgument, "prefetch results are passed between cluster nodes, not by clients")
        }
        var object: [String: JSONValue] = ["limit": .int(Int64(stage.limit))]
        if !stage.prefetch.isEmpty { object["prefetch"] = .array(try stage.prefetch.map(self.stage)) }
        if let query = stage.query {
            for (key, value) in try self.query(query) { object[key] = value }
        }
        if stage.using != CollectionConfig.defaultVectorName { object["using"] = .string(stage.using) }
        if let filter = stage.filter { object["filter"] = filter.json }
        if stage.params != SearchParams() { object["params"] = try params(stage.params) }
        if let threshold = stage.scoreThreshold { object["score_threshold"] = .double(Double(threshold)) }
        if let lookup = stage.lookupFrom {
            var fields: [String: JSONValue] = ["collection": .string(lookup.collection)]
            if let vector = lookup.vector { fields["vector"] = .string(vector) }
            object["lookup_from"] = .object(fields)
        }
        return .object(object)
    }

    /// The members a query kind adds to its stage object: `query`, and for
    /// a formula its `defaults` inside it.
    package static func query(_ kind: QueryKind) throws -> [String: JSONValue] {
        switch kind {
        case .nearest(let input, let mmr):
            guard let mmr else { return ["query": vectorInput(input)] }
            var fields: [String: JSONValue] = [:]
            if let diversity = mmr.diversity { fields["diversity"] = .double(Double(diversity)) }
            if let limit = mmr.candidatesLimit { fields["candidates_limit"] = .int(Int64(limit)) }
            return ["query": ["nearest": vectorInput(input), "mmr": .object(fields)]]
        case .recommend(let positive, let negative, let strategy):
            return [
                "query": [
                    "recommend": [
                        "positive": .array(positive.map(vectorInput)), "negative": .array(negative.map(vectorInput)),
                        "strategy": .string(strategy.rawValue),
                    ]
                ]
            ]
        case .discover(let target, let context):
            return ["query": ["discover": ["target": vectorInput(target), "context": .array(context.map(pair))]]]
        case .context(let pairs):
            return ["query": ["context": .array(pairs.map(pair))]]
        case .relevanceFeedback(let target, let feedback, let strategy):
            guard case .naive(let a, let b, let c) = strategy else { preconditionFailure("one strategy") }
            return [
                "query": [
                    "relevance_feedback": [
                        "target": vectorInput(target),
                        "feedback": .array(
                            feedback.map { ["example": vectorInput($0.example), "score": .double(Double($0.score))] }),
                        "strategy": [
                            "naive": ["a": .double(Double(a)), "b": .double(Double(b)), "c": .double(Double(c))]
                        ],
                    ]
                ]
            ]
        case .orderBy(let order):
            var fields: [String: JSONValue] = [
                "key": .string(order.key), "direction": order.descending ? "desc" : "asc",
            ]
            if let start = order.startFrom { fields["start_from"] = .double(start) }
            return ["query": ["order_by": .object(fields)]]
        case .fusion(.dbsf):
            return ["query": ["fusion": "dbsf"]]
        case .fusion(.rrf(let k, let weights)):
            if k == Fusion.defaultRRFK && weights == nil { return ["query": ["fusion": "rrf"]] }
            var fields: [String: JSONValue] = ["k": .int(Int64(k))]
            if let weights { fields["weights"] = floats(weights) }
            return ["query": ["rrf": .object(fields)]]
        case .sampleRandom:
            return ["query": ["sample": "random"]]
        case .formula(let formula):
            var fields: [String: JSONValue] = ["formula": expression(formula.expression)]
            if !formula.defaults.isEmpty {
                fields["defaults"] = .object(
                    Dictionary(uniqueKeysWithValues: formula.defaults.map { ($0.key.description, $0.value) }))
            }
            return ["query": .object(fields)]
        }
    }

    package static func vectorInput(_ input: VectorInput) -> JSONValue {
        switch input {
        case .point(let id): return self.id(id)
        case .vector(.dense(let values)): return floats(values)
        case .vector(.multi(let rows)): return .array(rows.map(floats))
        case .vector(.sparse(let vector)): return sparse(vector)
        }
    }

    package static func pair(_ pair: ContextPair) -> JSONValue {
        ["positive": vectorInput(pair.positive), "negative": vectorInput(pair.negative)]
    }

    /// A formula expression in Qdrant's `Expression` form.
    package static func expression(_ expression: FormulaExpression) -> JSONValue {
        switch expression {
        case .constant(let value): return .double(value)
        case .variable(let variable): return .string(variable.description)
        case .condition(let condition): return condition.json
        case .geoDistance(let origin, let to):
            return [
                "geo_distance": [
                    "origin": ["lon": .double(origin.lon), "lat": .double(origin.lat)], "to": .string(to.description),
                ]
            ]
        case .datetime(let text): return ["datetime": .string(text)]
        case .datetimeKey(let path): return ["datetime_key": .string(path.description)]
        case .sum(let terms): return ["sum": .array(terms.map(self.expression))]
        case .mult(let terms): return ["mult": .array(terms.map(self.expression))]
        case .max(let terms): return ["max": .array(terms.map(self.expression))]
        case .min(let terms): return ["min": .array(terms.map(self.expression))]
        case .neg(let inner): return ["neg": self.expression(inner)]
        case .abs(let inner): return ["abs": self.expression(inner)]
        case .sqrt(let inner): return ["sqrt": self.expression(inner)]
        case .exp(let inner): return ["exp": self.expression(inner)]
        case .log10(let inner): return ["log10": self.expression(inner)]
        case .ln(let inner): return ["ln": self.expression(inner)]
        case .acosh(let inner): return ["acosh": self.expression(inner)]
        case .div(let left, let right, let byZeroDefault):
            var fields: [String: JSONValue] = ["left": self.expression(left), "right": self.expression(right)]
            if let byZeroDefault { fields["by_zero_default"] = .double(byZeroDefault) }
            return ["div": .object(fields)]
        case .pow(let base, let exponent):
            return ["pow": ["base": self.expression(base), "exponent": self.expression(exponent)]]
        case .decay(let kind, let x, let target, let midpoint, let scale):
            var fields: [String: JSONValue] = ["x": self.expression(x)]
            if let target { fields["target"] = self.expression(target) }
            if let midpoint { fields["midpoint"] = .double(midpoint) }
            if let scale { fields["scale"] = .double(scale) }
            return [kind.rawValue: .object(fields)]
        }
    }
}
