// Qdrant's gRPC write messages → the REST layer's write inputs
// (Models/PointInputs.swift): points and their vectors, point selectors,
// payload edits, field index schemas and batch operations. Vectors go
// straight from the message's floats into the inputs, never through JSON;
// they get the checks REST decoding gives them (finite values, well-formed
// multivectors).
import Foundation
import Strata
import StrataGRPCProtocol

// MARK: - Vectors

/// `values` when every one is finite, else InvalidArgument naming the first
/// that is not (as REST refuses a JSON null).
private func finiteVector(_ values: [Float]) throws(APIError) -> [Float] {
    if let index = values.firstIndex(where: { !$0.isFinite }) {
        throw APIError.wrongInput("vector element \(index) (\(values[index])) is not a finite 32-bit float")
    }
    return values
}

/// A multivector's rows: at least one, all finite and of one length.
private func multivector(_ rows: [Qdrant_DenseVector]) throws(APIError) -> [[Float]] {
    var result: [[Float]] = []
    result.reserveCapacity(rows.count)
    for row in rows { result.append(try finiteVector(row.data)) }
    guard let first = result.first else { throw APIError.wrongInput("a multivector needs at least one row") }
    guard result.allSatisfy({ $0.count == first.count }) else {
        throw APIError.wrongInput("the rows of a multivector must all have the same length")
    }
    return result
}

/// The deprecated layout of a multivector: `count` rows back to back in `data`.
private func multivector(flat data: [Float], count: UInt32) throws(APIError) -> [[Float]] {
    guard count > 0, !data.isEmpty else {
        throw APIError.wrongInput(
            "Unable to convert to multi-dense vector: Empty multi-vector data with vectors count: \(count)")
    }
    let size = data.count / Int(count)
    guard size * Int(count) == data.count else {
        throw APIError.wrongInput(
            "Unable to convert to multi-dense vector: Data length is not divisible by vectors count. "
                + "Data length: \(data.count), vectors count: \(count)")
    }
    let values = try finiteVector(data)
    return stride(from: 0, to: values.count, by: size).map { Array(values[$0..<$0 + size]) }
}

/// Image and object inference inputs: Strata has no model for them (as over REST).
private func unsupportedInference(_ kind: String) -> APIError {
    APIError.notSupportedYet("\(kind) inference inputs (Strata's server-side inference encodes documents only)")
}

extension Qdrant_Document {
    /// The document as REST takes it: encoded by the built-in BM25 model on upsert.
    func documentInput() throws(APIError) -> DocumentInput {
        DocumentInput(text: text, model: model, options: options.isEmpty ? nil : .object(try options.json()))
    }
}

extension Qdrant_Vector {
    /// One vector of a point: the `vector` oneof, or the deprecated `data`
    /// (with `indices`: sparse; with `vectors_count`: a multivector's rows back to back).
    func pointVectorValue() throws(APIError) -> PointVectorValue {
        switch vector {
        case .dense(let dense)?: return .dense(try finiteVector(dense.data))
        case .sparse(let sparse)?:
            return .sparse(SparseVector(indices: sparse.indices, values: try finiteVector(sparse.values)))
        case .multiDense(let multi)?: return .multi(try multivector(multi.vectors))
        case .document(let document)?: return .document(try document.documentInput())
        case .image?: throw unsupportedInference("image")
        case .object?: throw unsupportedInference("object")
        case nil:
            if hasIndices { return .sparse(SparseVector(indices: indices.data, values: try finiteVector(data))) }
            if hasVectorsCount { return .multi(try multivector(flat: data, count: vectorsCount)) }
            return .dense(try finiteVector(data))
        }
    }
}

extension Qdrant_Vectors {
    /// A point's vectors: the unnamed vector alone, or vectors by name.
    func vectorStructInput() throws(APIError) -> VectorStructInput {
        switch vectorsOptions {
        case .vector(let vector)?:
            switch try vector.pointVectorValue() {
            case .dense(let values): return .single(values)
            case .multi(let rows): return .singleMulti(rows)
            case .sparse: throw APIError(.badRequest, "Sparse vector must be named")
            // The unnamed vector is dense; the engine's check names the problem.
            case .document(let document): return .named([CollectionConfig.defaultVectorName: .document(document)])
            }
        case .vectors(let named)?:
            var result: [String: PointVectorValue] = [:]
            result.reserveCapacity(named.vectors.count)
            for (name, vector) in named.vectors { result[name] = try vector.pointVectorValue() }
            return .named(result)
        case nil: throw APIError(.badRequest, "No Vector Provided")
        }
    }
}

extension Qdrant_PointStruct {
    /// The point as an upsert takes it; an empty payload map is no payload (as in Qdrant).
    func pointInput() throws(APIError) -> PointInput {
        guard hasID else { throw APIError(.badRequest, "Empty ID is not allowed") }
        guard hasVectors else { throw APIError(.badRequest, "Expected some vectors") }
        return PointInput(
            id: try id.input(), vector: try vectors.vectorStructInput(), payload: try payload.payload())
    }
}

extension Qdrant_PointVectors {
    func input() throws(APIError) -> UpdateVectorsInput.Point {
        guard hasID else { throw APIError(.badRequest, "id is expected") }
        guard hasVectors else { throw APIError(.badRequest, "vectors is expected") }
        return UpdateVectorsInput.Point(id: try id.input(), vector: try vectors.vectorStructInput())
    }
}

// MARK: - Writes

/// The REST layer refuses any `shard_key` as not supported; a gRPC shard key
/// selector is passed on as one so that it is refused the same way.
func shardKeyMarker(_ present: Bool) -> JSONValue? { present ? .object([:]) : nil }

extension Qdrant_UpdateMode {
    /// REST's `update_mode`; an unknown value is an upsert (as in Qdrant).
    var restName: String {
        switch self {
        case .insertOnly: "insert_only"
        case .updateOnly: "update_only"
        case .upsert, .UNRECOGNIZED: "upsert"
        }
    }
}

extension UpsertInput {
    /// An upsert of `points` in list form.
    init(
        _ points: [Qdrant_PointStruct], updateFilter: Qdrant_Filter?, updateMode: Qdrant_UpdateMode?,
        shardKey: Bool
    ) throws(APIError) {
        var inputs: [PointInput] = []
        inputs.reserveCapacity(points.count)
        for point in points { inputs.append(try point.pointInput()) }
        self.init(
            points: inputs, batch: nil, update_filter: try updateFilter?.filterInput(),
            update_mode: updateMode?.restName, shard_key: shardKeyMarker(shardKey))
    }
}

extension UpdateVectorsInput {
    init(_ points: [Qdrant_PointVectors], updateFilter: Qdrant_Filter?, shardKey: Bool) throws(APIError) {
        var inputs: [Point] = []
        inputs.reserveCapacity(points.count)
        for point in points { inputs.append(try point.input()) }
        self.init(points: inputs, update_filter: try updateFilter?.filterInput(), shard_key: shardKeyMarker(shardKey))
    }
}

extension Qdrant_PointsSelector {
    /// The ids or the filter, as REST's selector carries them.
    func selectorInput(shardKey: Bool = false) throws(APIError) -> PointsSelectorInput {
        switch pointsSelectorOneOf {
        case .points(let list)?:
            return PointsSelectorInput(points: try list.ids.inputs(), filter: nil, shard_key: shardKeyMarker(shardKey))
        case .filter(let filter)?:
            return PointsSelectorInput(
                points: nil, filter: try filter.filterInput(), shard_key: shardKeyMarker(shardKey))
        case nil: throw APIError(.badRequest, "Malformed PointsSelector type")
        }
    }

    /// The points an operation targets.
    func selection(shardKey: Bool = false) throws(APIError) -> PointSelection {
        try selectorInput(shardKey: shardKey).selection()
    }
}

/// A required selector of a payload or vector edit (`points_selector is expected`).
private func requiredSelector(
    _ selector: Qdrant_PointsSelector?, shardKey: Bool
) throws(APIError)
    -> PointsSelectorInput
{
    guard let selector else { throw APIError(.badRequest, "points_selector is expected") }
    return try selector.selectorInput(shardKey: shardKey)
}

extension SetPayloadInput {
    init(
        payload: [String: Qdrant_Value], selector: Qdrant_PointsSelector?, key: String?, shardKey: Bool
    ) throws(APIError) {
        let target = try requiredSelector(selector, shardKey: shardKey)
        self.init(
            payload: try payload.json(), points: target.points, filter: target.filter, key: key,
            shard_key: target.shard_key)
    }
}

extension DeletePayloadInput {
    init(keys: [String], selector: Qdrant_PointsSelector?, shardKey: Bool) throws(APIError) {
        let target = try requiredSelector(selector, shardKey: shardKey)
        self.init(keys: keys, points: target.points, filter: target.filter, shard_key: target.shard_key)
    }
}

extension DeleteVectorsInput {
    init(selector: Qdrant_PointsSelector?, vectors: Qdrant_VectorsSelector?, shardKey: Bool) throws(APIError) {
        let target = try requiredSelector(selector, shardKey: shardKey)
        guard let vectors else { throw APIError(.badRequest, "vectors is expected") }
        self.init(points: target.points, filter: target.filter, vector: vectors.names, shard_key: target.shard_key)
    }
}

extension Qdrant_PointsUpdateOperation {
    /// One operation of an `UpdateBatch`, as `points/batch` takes it.
    func input() throws(APIError) -> UpdateOperationInput {
        switch operation {
        case .upsert(let list)?:
            return .upsert(
                try UpsertInput(
                    list.points, updateFilter: list.hasUpdateFilter ? list.updateFilter : nil,
                    updateMode: list.hasUpdateMode ? list.updateMode : nil, shardKey: list.hasShardKeySelector))
        case .deleteDeprecated(let selector)?: return .delete(try selector.selectorInput())
        case .deletePoints(let delete)?:
            guard delete.hasPoints else { throw APIError(.badRequest, "PointSelector is missing") }
            return .delete(try delete.points.selectorInput(shardKey: delete.hasShardKeySelector))
        case .setPayload(let set)?:
            return .setPayload(
                try SetPayloadInput(
                    payload: set.payload, selector: set.hasPointsSelector ? set.pointsSelector : nil,
                    key: set.hasKey ? set.key : nil, shardKey: set.hasShardKeySelector))
        case .overwritePayload(let overwrite)?:
            // Overwriting has no `key` (Qdrant ignores it here).
            return .overwritePayload(
                try SetPayloadInput(
                    payload: overwrite.payload, selector: overwrite.hasPointsSelector ? overwrite.pointsSelector : nil,
                    key: nil, shardKey: overwrite.hasShardKeySelector))
        case .deletePayload(let delete)?:
            return .deletePayload(
                try DeletePayloadInput(
                    keys: delete.keys, selector: delete.hasPointsSelector ? delete.pointsSelector : nil,
                    shardKey: delete.hasShardKeySelector))
        case .clearPayloadDeprecated_p(let selector)?: return .clearPayload(try selector.selectorInput())
        case .clearPayload_p(let clear)?:
            guard clear.hasPoints else { throw APIError(.badRequest, "PointSelector is missing") }
            return .clearPayload(try clear.points.selectorInput(shardKey: clear.hasShardKeySelector))
        case .updateVectors(let update)?:
            return .updateVectors(
                try UpdateVectorsInput(
                    update.points, updateFilter: update.hasUpdateFilter ? update.updateFilter : nil,
                    shardKey: update.hasShardKeySelector))
        case .deleteVectors(let delete)?:
            return .deleteVectors(
                try DeleteVectorsInput(
                    selector: delete.hasPointsSelector ? delete.pointsSelector : nil,
                    vectors: delete.hasVectors ? delete.vectors : nil, shardKey: delete.hasShardKeySelector))
        case nil: throw APIError(.badRequest, "Operation is missing")
        }
    }
}

// MARK: - Payload indexes

extension CreateFieldIndexInput {
    /// A field index request in REST's shape: the type and its parameters as
    /// `field_schema` JSON, parsed (and refused) as REST parses it.
    init(_ message: Qdrant_CreateFieldIndexCollection) throws(APIError) {
        var schema: JSONValue? = nil
        if message.hasFieldType {
            let type = try message.fieldType.restName
            if message.hasFieldIndexParams, let params = message.fieldIndexParams.indexParams {
                schema = try params.restJSON(for: message.fieldType, type: type)
            } else {
                schema = .string(type)
            }
        } else if message.hasFieldIndexParams {
            throw APIError(.badRequest, "field type is missing")
        }
        self.init(field_name: message.fieldName, field_schema: schema)
    }
}

extension Qdrant_FieldType {
    var restName: String {
        get throws(APIError) {
            switch self {
            case .keyword: "keyword"
            case .integer: "integer"
            case .float: "float"
            case .geo: "geo"
            case .text: "text"
            case .bool: "bool"
            case .datetime: "datetime"
            case .uuid: "uuid"
            case .UNRECOGNIZED: throw APIError(.badRequest, "cannot convert field_type")
            }
        }
    }
}

extension Qdrant_PayloadIndexParams.OneOf_IndexParams {
    /// The parameters as REST's `field_schema` object. Options Strata does not
    /// have are passed on, so the parser refuses them by name (as over REST).
    func restJSON(for fieldType: Qdrant_FieldType, type: String) throws(APIError) -> JSONValue {
        var object: [String: JSONValue] = ["type": .string(type)]
        func set(_ key: String, _ present: Bool, _ value: @autoclosure () -> JSONValue) {
            if present { object[key] = value() }
        }
        let matches: Bool
        switch self {
        case .keywordIndexParams(let params):
            matches = fieldType == .keyword
            set("is_tenant", params.hasIsTenant, .bool(params.isTenant))
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            // The empty `KeywordPrefixParams` message's presence enables prefix matching.
            set("prefix", params.hasPrefix, true)
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        case .integerIndexParams(let params):
            matches = fieldType == .integer
            set("lookup", params.hasLookup, .bool(params.lookup))
            set("range", params.hasRange, .bool(params.range))
            set("is_principal", params.hasIsPrincipal, .bool(params.isPrincipal))
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        case .floatIndexParams(let params):
            matches = fieldType == .float
            set("is_principal", params.hasIsPrincipal, .bool(params.isPrincipal))
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        case .geoIndexParams(let params):
            matches = fieldType == .geo
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        case .textIndexParams(let params):
            matches = fieldType == .text
            // `tokenizer` has no presence: Unknown (0) is what clients send when
            // none was chosen, so it means the default.
            switch params.tokenizer {
            case .unknown: break
            case .prefix: object["tokenizer"] = "prefix"
            case .whitespace: object["tokenizer"] = "whitespace"
            case .word: object["tokenizer"] = "word"
            case .multilingual: object["tokenizer"] = "multilingual"
            case .code: object["tokenizer"] = "code"
            case .UNRECOGNIZED: throw APIError(.badRequest, "unknown tokenizer type")
            }
            set("lowercase", params.hasLowercase, .bool(params.lowercase))
            set("min_token_len", params.hasMinTokenLen, .int(Int64(clamping: params.minTokenLen)))
            set("max_token_len", params.hasMaxTokenLen, .int(Int64(clamping: params.maxTokenLen)))
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("phrase_matching", params.hasPhraseMatching, .bool(params.phraseMatching))
            set("ascii_folding", params.hasAsciiFolding, .bool(params.asciiFolding))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
            if params.hasScoring { object["scoring"] = ["type": "bm25"] }
            if params.hasStopwords {
                // Qdrant keeps gRPC stopwords as a set (languages and custom words).
                var stopwords: [String: JSONValue] = [:]
                if !params.stopwords.languages.isEmpty {
                    stopwords["languages"] = .array(params.stopwords.languages.map(JSONValue.string))
                }
                if !params.stopwords.custom.isEmpty {
                    stopwords["custom"] = .array(params.stopwords.custom.map(JSONValue.string))
                }
                object["stopwords"] = .object(stopwords)
            }
            switch params.hasStemmer ? params.stemmer.stemmingParams : nil {
            case .snowball(let snowball)?:
                object["stemmer"] = ["type": "snowball", "language": .string(snowball.language)]
            case .disabled?: object["stemmer"] = ["type": "none"]
            case nil: break
            }
        case .boolIndexParams(let params):
            matches = fieldType == .bool
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        case .datetimeIndexParams(let params):
            matches = fieldType == .datetime
            set("is_principal", params.hasIsPrincipal, .bool(params.isPrincipal))
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        case .uuidIndexParams(let params):
            matches = fieldType == .uuid
            set("is_tenant", params.hasIsTenant, .bool(params.isTenant))
            set("on_disk", params.hasOnDisk, .bool(params.onDisk))
            set("enable_hnsw", params.hasEnableHnsw, .bool(params.enableHnsw))
            set("memory", params.hasMemory, params.memory.restJSON)
            set("nested", params.hasNested, .string(params.nested))
        }
        guard matches else {
            throw APIError(.badRequest, "field_type (\(type)) and field_index_params do not match")
        }
        return .object(object)
    }
}

extension Qdrant_Memory {
    /// REST's `memory` name.
    fileprivate var restJSON: JSONValue {
        switch self {
        case .cold: "cold"
        case .cached: "cached"
        case .pinned: "pinned"
        case .unknown, .UNRECOGNIZED: "unknown"
        }
    }
}
