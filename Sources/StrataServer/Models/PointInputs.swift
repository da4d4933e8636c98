// Wire types of the points endpoints (upsert, delete, payload, retrieve,
// scroll, count, batch). Field names are Qdrant's; see CommonInputs.swift.
import Foundation
import Strata

/// One point of an upsert in list form (Qdrant's `PointStruct`).
struct PointInput: Decodable, Sendable {
    var id: PointIDInput
    var vector: VectorStructInput
    var payload: Payload?
}

/// The columnar form: `{"ids": [...], "vectors": [[...]] or {"name": [[...]]}, "payloads": [...]}`.
struct PointBatchInput: Decodable, Sendable {
    enum Vectors: Decodable, Sendable {
        case single([[Float]])
        case singleMulti([[[Float]]])
        case named([String: [PointVectorValue]])

        init(from decoder: any Decoder) throws {
            let values: [PointVectorValue]
            do {
                values = try [PointVectorValue](from: decoder)
            } catch  where isShapeMismatch(error, at: decoder) {
                self = .named(try [String: [PointVectorValue]](from: decoder))
                return
            }
            // The unnamed vector's column: all dense vectors, or all multivectors.
            let dense = values.compactMap { if case .dense(let vector) = $0 { vector } else { nil } }
            let multi = values.compactMap { if case .multi(let rows) = $0 { rows } else { nil } }
            if dense.count == values.count {
                self = .single(dense)
            } else if multi.count == values.count {
                self = .singleMulti(multi)
            } else {
                throw invalidValue(
                    decoder, "the unnamed vectors of a batch must all be dense vectors or all multivectors")
            }
        }
    }

    var ids: [PointIDInput]
    var vectors: Vectors
    var payloads: [Payload?]?
}

/// `PUT /collections/{c}/points`: `{"points": [...]}` or `{"batch": {...}}`.
struct UpsertInput: Decodable, Sendable {
    var points: [PointInput]?
    var batch: PointBatchInput?
    var update_filter: FilterInput?
    var update_mode: String?
    var shard_key: JSONValue?

    /// `update_mode` (default upsert) and `update_filter`, or 400.
    func condition() throws(APIError) -> (mode: UpdateMode, filter: Filter?) {
        var mode = UpdateMode.upsert
        if let update_mode {
            guard let known = UpdateMode(rawValue: update_mode) else {
                throw APIError.wrongInput(
                    "update_mode: unknown variant `\(update_mode)`, expected one of `upsert`, `insert_only`, `update_only`"
                )
            }
            mode = known
        }
        return (mode, update_filter.engine)
    }

    /// The engine's points, or 400/422 saying what is wrong.
    func engineBatch(multiVectors: Set<String>) throws(APIError) -> [PointStruct] {
        try requireAbsent(shard_key, "shard_key")
        switch (points, batch) {
        case (let points?, nil):
            var result: [PointStruct] = []
            for point in points {
                result.append(
                    PointStruct(
                        id: point.id.id, vectors: try point.vector.byName(multiVectors: multiVectors),
                        payload: point.payload,
                        sparseVectors: try point.vector.sparseByName()))
            }
            return result
        case (nil, let batch?):
            let count = batch.ids.count
            if let payloads = batch.payloads, payloads.count != count {
                throw APIError.wrongInput("batch has \(count) ids but \(payloads.count) payloads")
            }
            var columns: [String: [PointVectorValue]]
            switch batch.vectors {
            case .single(let rows): columns = [CollectionConfig.defaultVectorName: rows.map { .dense($0) }]
            case .singleMulti(let multis): columns = [CollectionConfig.defaultVectorName: multis.map { .multi($0) }]
            case .named(let named): columns = named
            }
            for (name, rows) in columns where rows.count != count {
                let label = name.isEmpty ? "vectors" : "vectors \"\(name)\""
                throw APIError.wrongInput("batch has \(count) ids but \(rows.count) \(label)")
            }
            var result: [PointStruct] = []
            for row in 0..<count {
                let vectors = VectorStructInput.named(columns.mapValues { $0[row] })
                result.append(
                    PointStruct(
                        id: batch.ids[row].id, vectors: try vectors.byName(multiVectors: multiVectors),
                        payload: batch.payloads?[row] ?? nil,
                        sparseVectors: try vectors.sparseByName()))
            }
            return result
        default:
            throw APIError.jsonDeserialize(
                "the body needs exactly one of `points` (a list of points) or `batch` (columns)")
        }
    }
}

/// A points selector: `{"points": [ids]}` or `{"filter": {...}}` (Qdrant's `PointsSelector`).
struct PointsSelectorInput: Decodable, Sendable {
    var points: [PointIDInput]?
    var filter: FilterInput?
    var shard_key: JSONValue?

    func selection() throws(APIError) -> PointSelection {
        try requireAbsent(shard_key, "shard_key")
        if let filter {
            // Even an empty filter selects something (every point), so it is never ignored.
            if points != nil { throw APIError.jsonDeserialize("give either `points` or `filter`, not both") }
            return .filter(filter.filter)
        }
        guard let points else {
            throw APIError.jsonDeserialize("missing field `points` (a list of point ids) or `filter`")
        }
        return .ids(points.map(\.id))
    }
}

/// The points an operation targets: listed, or those a filter matches when
/// the operation runs (resolved to ids then, except in an atomic batch).
typealias PointSelection = PointSelector

extension PointSelector {
    func resolve(in collection: Strata.Collection) throws -> [PointID] {
        switch self {
        case .ids(let ids): return ids
        case .filter(let filter): return try collection.ids(matching: filter)
        }
    }
}

/// Set or overwrite payload (Qdrant's `SetPayload`).
struct SetPayloadInput: Decodable, Sendable {
    var payload: Payload
    var points: [PointIDInput]?
    var filter: FilterInput?
    var key: String?
    var shard_key: JSONValue?

    func selection() throws(APIError) -> PointSelection {
        if let key {
            do { _ = try PayloadPath(key) } catch { throw APIError.wrongInput(error.message) }
        }
        return try PointsSelectorInput(points: points, filter: filter, shard_key: shard_key).selection()
    }
}

/// Delete payload keys (Qdrant's `DeletePayload`).
struct DeletePayloadInput: Decodable, Sendable {
    var keys: [String]
    var points: [PointIDInput]?
    var filter: FilterInput?
    var shard_key: JSONValue?

    func selection() throws(APIError) -> PointSelection {
        for key in keys {
            do { _ = try PayloadPath(key) } catch { throw APIError.wrongInput(error.message) }
        }
        return try PointsSelectorInput(points: points, filter: filter, shard_key: shard_key).selection()
    }
}

/// `POST /collections/{c}/points` (Qdrant's `PointRequest`).
struct RetrieveInput: Decodable, Sendable {
    /// Strata's extension: read at a retained version (a number, a tag or an RFC 3339 time).
    var as_of: JSONValue?
    var ids: [PointIDInput]
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var shard_key: JSONValue?
}

/// `POST /collections/{c}/points/scroll` (Qdrant's `ScrollRequest`).
struct ScrollInput: Decodable, Sendable {
    /// Strata's extension: read at a retained version (a number, a tag or an RFC 3339 time).
    var as_of: JSONValue?
    var offset: PointIDInput?
    var limit: Int?
    var filter: FilterInput?
    var with_payload: PayloadSelector?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var order_by: OrderByInput?
    var shard_key: JSONValue?
}

/// `order_by`: a key, or `{"key", "direction": "asc"|"desc", "start_from": number or datetime}`.
struct OrderByInput: Decodable, Sendable {
    var key: String
    var descending: Bool
    var startFrom: Double?

    private struct Object: Decodable {
        var key: String
        var direction: String?
        var start_from: JSONValue?
    }

    init(from decoder: any Decoder) throws {
        if let key = try? String(from: decoder) {
            self.key = key
            descending = false
            return
        }
        let object = try Object(from: decoder)
        key = object.key
        switch object.direction {
        case nil, "asc": descending = false
        case "desc": descending = true
        case let other?: throw APIError.wrongInput("order_by.direction must be \"asc\" or \"desc\", got \"\(other)\"")
        }
        switch object.start_from {
        case nil, .null?: startFrom = nil
        case .string(let text)?:
            guard let micros = Datetime.microseconds(text) else {
                throw APIError.wrongInput("order_by.start_from: \"\(text)\" is not a number or an RFC 3339 datetime")
            }
            startFrom = Double(micros)
        case let value?:
            guard let number = value.number else {
                throw APIError.wrongInput("order_by.start_from must be a number or a datetime")
            }
            startFrom = number
        }
    }
}

/// `PUT /collections/{c}/points/vectors` (Qdrant's `UpdateVectors`).
struct UpdateVectorsInput: Decodable, Sendable {
    struct Point: Decodable, Sendable {
        var id: PointIDInput
        var vector: VectorStructInput
    }
    var points: [Point]
    var update_filter: FilterInput?
    var shard_key: JSONValue?

    func engine(multiVectors: Set<String>) throws(APIError) -> [PointVectors] {
        try requireAbsent(shard_key, "shard_key")
        var result: [PointVectors] = []
        for point in points {
            result.append(
                PointVectors(
                    id: point.id.id, vectors: try point.vector.byName(multiVectors: multiVectors),
                    sparseVectors: try point.vector.sparseByName()))
        }
        return result
    }
}

/// `POST /collections/{c}/points/vectors/delete` (Qdrant's `DeleteVectors`).
struct DeleteVectorsInput: Decodable, Sendable {
    var points: [PointIDInput]?
    var filter: FilterInput?
    var vector: [String]
    var shard_key: JSONValue?

    func selection() throws(APIError) -> PointSelection {
        try PointsSelectorInput(points: points, filter: filter, shard_key: shard_key).selection()
    }
}

/// `PUT /collections/{c}/index` (Qdrant's `CreateFieldIndex`).
struct CreateFieldIndexInput: Decodable, Sendable {
    var field_name: String
    var field_schema: JSONValue?

    func schema() throws(APIError) -> PayloadFieldSchema {
        guard let field_schema, field_schema != .null else {
            throw APIError.wrongInput(
                "field_schema is required (keyword, integer, float, bool, geo, text, datetime, uuid)")
        }
        do { return try PayloadFieldSchema(json: field_schema) } catch { throw APIError.wrongInput(error.message) }
    }
}

/// `POST /collections/{c}/facet` (Qdrant's `FacetRequest`).
struct FacetInput: Decodable, Sendable {
    /// Strata's extension: read at a retained version (a number, a tag or an RFC 3339 time).
    var as_of: JSONValue?
    var key: String
    var limit: Int?
    var filter: FilterInput?
    var exact: Bool?
    var shard_key: JSONValue?
}

/// `POST /collections/{c}/points/count` (Qdrant's `CountRequest`).
struct CountInput: Decodable, Sendable {
    /// Strata's extension: read at a retained version (a number, a tag or an RFC 3339 time).
    var as_of: JSONValue?
    var filter: FilterInput?
    var exact: Bool?
    var shard_key: JSONValue?
}

/// One operation of `POST /collections/{c}/points/batch`.
enum UpdateOperationInput: Decodable, Sendable {
    case upsert(UpsertInput)
    case delete(PointsSelectorInput)
    case setPayload(SetPayloadInput)
    case overwritePayload(SetPayloadInput)
    case deletePayload(DeletePayloadInput)
    case clearPayload(PointsSelectorInput)
    case updateVectors(UpdateVectorsInput)
    case deleteVectors(DeleteVectorsInput)

    private enum Key: String, CodingKey, CaseIterable {
        case upsert, delete, set_payload, overwrite_payload, delete_payload, clear_payload, update_vectors,
            delete_vectors
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw invalidValue(
                decoder,
                "an operation is an object with exactly one of \(Key.allCases.map(\.rawValue))")
        }
        switch key {
        case .upsert: self = .upsert(try container.decode(UpsertInput.self, forKey: key))
        case .delete: self = .delete(try container.decode(PointsSelectorInput.self, forKey: key))
        case .set_payload: self = .setPayload(try container.decode(SetPayloadInput.self, forKey: key))
        case .overwrite_payload: self = .overwritePayload(try container.decode(SetPayloadInput.self, forKey: key))
        case .delete_payload: self = .deletePayload(try container.decode(DeletePayloadInput.self, forKey: key))
        case .clear_payload: self = .clearPayload(try container.decode(PointsSelectorInput.self, forKey: key))
        case .update_vectors: self = .updateVectors(try container.decode(UpdateVectorsInput.self, forKey: key))
        case .delete_vectors: self = .deleteVectors(try container.decode(DeleteVectorsInput.self, forKey: key))
        }
    }
}

struct BatchUpdateInput: Decodable, Sendable {
    var operations: [UpdateOperationInput]
    /// Strata's extension: all operations as one write, all or nothing
    /// (`Collection.batch(_:atomic:)`).
    var atomic: Bool?
}
