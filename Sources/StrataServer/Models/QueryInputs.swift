// Wire types of the search endpoints: the universal query API
// (`points/query`, `query/batch`) and the legacy `points/search`.
// Field names are Qdrant's; see CommonInputs.swift.
import Foundation
import Strata

/// What to search near: a dense vector or an existing point's id.
enum NearestInput: Sendable, Equatable {
    case vector([Float])
    case point(PointID)
}

/// `query` of a query request. Strata answers nearest-neighbour queries; the
/// other query kinds (recommend, discover, context, order_by, fusion, sample,
/// formula, rrf, mmr) are refused by name.
enum QueryInput: Decodable, Sendable, Equatable {
    case nearest(NearestInput)

    private struct NearestObject: Decodable {
        var nearest: NearestValue
        var mmr: JSONValue?
    }

    /// A vector or an id, as `nearest` or a bare `query` holds it.
    struct NearestValue: Decodable, Sendable {
        var value: NearestInput

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(UInt64.self) {
                value = .point(.number(number))
            } else if let text = try? container.decode(String.self) {
                guard let uuid = UUID(uuidString: text) else {
                    throw invalidValue(decoder, "a query point id must be an unsigned integer or a UUID string, got \"\(text)\"")
                }
                value = .point(.uuid(uuid))
            } else {
                do {
                    value = .vector(try DenseVector(from: decoder).values)
                } catch where isShapeMismatch(error, at: decoder) {
                    throw invalidValue(decoder,
                        "the query must be a dense vector or a point id (sparse vectors, multi-vectors and documents are not supported by Strata yet)")
                }
            }
        }
    }

    init(from decoder: any Decoder) throws {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            let keys = keyed.allKeys.map(\.stringValue)
            if keys.contains("nearest") {
                let object = try NearestObject(from: decoder)
                if let mmr = object.mmr, mmr != .null {
                    throw invalidValue(decoder, "`mmr` (maximal marginal relevance) is not supported by Strata yet")
                }
                self = .nearest(object.nearest.value)
                return
            }
            throw invalidValue(decoder,
                "query kind \(keys.sorted()) is not supported by Strata yet; use a vector, a point id or {\"nearest\": …}")
        }
        self = .nearest(try NearestValue(from: decoder).value)
    }
}

/// `POST /collections/{c}/points/query` (Qdrant's `QueryRequest`).
struct QueryRequestInput: Decodable, Sendable {
    var query: QueryInput?
    var prefetch: JSONValue?
    var using: String?
    var filter: FilterInput?
    var params: SearchParamsInput?
    var score_threshold: Float?
    var limit: Int?
    var offset: Int?
    var with_vector: VectorSelector?
    var with_vectors: VectorSelector?
    var with_payload: PayloadSelector?
    var lookup_from: JSONValue?
    var shard_key: JSONValue?

    /// Rejects what Strata cannot answer yet (prefetch, lookup_from).
    func checkSupported() throws(APIError) {
        switch prefetch {
        case nil, .null?: break
        case .array(let items)? where items.isEmpty: break
        default: throw APIError.notSupportedYet("`prefetch` (hybrid and multi-stage queries)")
        }
        try requireAbsent(lookup_from, "lookup_from")
        try requireAbsent(shard_key, "shard_key")
    }
}

struct QueryBatchInput: Decodable, Sendable {
    var searches: [QueryRequestInput]
}

/// The legacy `vector` of `points/search`: a dense vector, or
/// `{"name": "…", "vector": [...]}` for a named one.
struct NamedVectorInput: Decodable, Sendable {
    var name: String
    var vector: [Float]

    private struct Object: Decodable {
        var name: String
        var vector: DenseVector
    }

    init(from decoder: any Decoder) throws {
        do {
            vector = try DenseVector(from: decoder).values
            name = CollectionConfig.defaultVectorName
        } catch where isShapeMismatch(error, at: decoder) {
            let object = try Object(from: decoder)
            name = object.name
            vector = object.vector.values
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
