// Qdrant's REST results read back into the shared model types.
import Foundation

package enum WireDecoding {
    /// A failure to read what the server answered: the server is not speaking
    /// Qdrant's API as this client knows it.
    package static func malformed(_ what: String, _ value: JSONValue?) -> StrataError {
        let shown = value.map { String(describing: $0).prefix(200) } ?? "nothing"
        return StrataError(.io, "the server's answer is not what Qdrant's API returns: expected \(what), got \(shown)")
    }

    package static func object(_ value: JSONValue?, _ what: String) throws -> [String: JSONValue] {
        guard case .object(let object)? = value else { throw malformed(what, value) }
        return object
    }

    package static func array(_ value: JSONValue?, _ what: String) throws -> [JSONValue] {
        guard case .array(let items)? = value else { throw malformed(what, value) }
        return items
    }

    package static func int(_ value: JSONValue?, _ what: String) throws -> Int {
        switch value {
        case .int(let n)?: return Int(n)
        case .double(let d)? where d == d.rounded() && Swift.abs(d) < 9e15: return Int(d)
        default: throw malformed(what, value)
        }
    }

    package static func double(_ value: JSONValue?, _ what: String) throws -> Double {
        switch value {
        case .int(let n)?: return Double(n)
        case .double(let d)?: return d
        default: throw malformed(what, value)
        }
    }

    package static func string(_ value: JSONValue?, _ what: String) throws -> String {
        guard case .string(let text)? = value else { throw malformed(what, value) }
        return text
    }

    /// A point id. An id of 2^63 or more arrives as a double (`JSONValue` has
    /// no unsigned 64-bit case), rounded to 53 bits: it is refused (`io`),
    /// never taken for the neighbouring id it was rounded to.
    package static func id(_ value: JSONValue?) throws -> PointID {
        switch value {
        case .int(let n)? where n >= 0: return .number(UInt64(n))
        case .double(let d)? where d >= 0 && d == d.rounded() && d < 9_007_199_254_740_992:
            return .number(UInt64(d))
        case .string(let text)?:
            guard let uuid = UUID(uuidString: text) else { throw malformed("a point id", value) }
            return .uuid(uuid)
        default: throw malformed("a point id", value)
        }
    }

    package static func floats(_ value: JSONValue?, _ what: String) throws -> [Float] {
        try array(value, what).map { Float(try double($0, what)) }
    }

    package static func updateResult(_ result: JSONValue) throws -> UpdateResult {
        let object = try object(result, "an update result")
        return UpdateResult(operationID: UInt64(try int(object["operation_id"], "operation_id")))
    }

    /// A point's `vector` member: one unnamed dense vector or multivector, or
    /// an object of named dense vectors, multivectors and sparse vectors.
    package static func vectors(
        _ value: JSONValue?
    ) throws -> (dense: [String: [Float]], sparse: [String: SparseVector])? {
        switch value {
        case nil, .null?: return nil
        case .array?: return ([CollectionConfig.defaultVectorName: try denseOrRows(value)], [:])
        case .object(let named)?:
            var dense: [String: [Float]] = [:]
            var sparse: [String: SparseVector] = [:]
            for (name, vector) in named {
                if case .object(let fields) = vector {
                    let indices = try array(fields["indices"], "sparse indices").map { UInt32(try int($0, "an index")) }
                    sparse[name] = SparseVector(indices: indices, values: try floats(fields["values"], "sparse values"))
                } else {
                    dense[name] = try denseOrRows(vector)
                }
            }
            return (dense, sparse)
        default: throw malformed("a vector", value)
        }
    }

    /// A dense vector, or a multivector's rows back to back (as `Record` keeps them).
    package static func denseOrRows(_ value: JSONValue?) throws -> [Float] {
        let items = try array(value, "a vector")
        if case .array? = items.first { return try items.flatMap { try floats($0, "a multivector row") } }
        return try floats(value, "a vector")
    }

    package static func record(_ value: JSONValue) throws -> Record {
        let object = try object(value, "a point")
        let vectors = try vectors(object["vector"])
        var payload: Payload?
        if case .object(let fields)? = object["payload"] { payload = fields }
        return Record(
            id: try id(object["id"]), version: 0, payload: payload, vectors: vectors?.dense,
            sparseVectors: vectors.flatMap { $0.sparse.isEmpty ? nil : $0.sparse })
    }

    package static func scoredPoint(_ value: JSONValue) throws -> ScoredPoint {
        let object = try object(value, "a scored point")
        let vectors = try vectors(object["vector"])
        var payload: Payload?
        if case .object(let fields)? = object["payload"] { payload = fields }
        var orderValue: Double?
        if let value = object["order_value"], value != .null { orderValue = try double(value, "order_value") }
        return ScoredPoint(
            id: try id(object["id"]), version: UInt64(try int(object["version"] ?? 0, "version")),
            score: Float(try double(object["score"], "score")), payload: payload, vectors: vectors?.dense,
            orderValue: orderValue, sparseVectors: vectors.flatMap { $0.sparse.isEmpty ? nil : $0.sparse })
    }

    package static func snapshot(_ value: JSONValue, collection: String?) throws -> SnapshotDescription {
        let object = try object(value, "a snapshot description")
        let name = try string(object["name"], "a snapshot name")
        var checksum: String?
        if case .string(let text)? = object["checksum"] { checksum = text }
        var createdAt: String?
        if case .string(let text)? = object["creation_time"] { createdAt = text }
        return SnapshotDescription(
            name: name, path: name, size: UInt64(max(0, try int(object["size"], "a snapshot size"))),
            kind: collection == nil ? .full : .collection, collection: collection, createdAt: createdAt,
            checksum: checksum)
    }

    /// The multivector row sizes by vector name in a collection's info
    /// (`GET /collections/{name}`: `config.params.vectors`, one unnamed vector's
    /// params or a map of named ones).
    package static func multivectorRowSizes(_ info: JSONValue) throws -> [String: Int] {
        let config = try object(try object(info, "collection info")["config"], "config")
        let vectors = try object(try object(config["params"], "params")["vectors"], "params.vectors")
        var sizes: [String: Int] = [:]
        func add(_ name: String, _ params: [String: JSONValue]) throws {
            guard let multivector = params["multivector_config"], multivector != .null else { return }
            sizes[name] = try int(params["size"], "a vector size")
        }
        if vectors["size"] != nil {
            try add(CollectionConfig.defaultVectorName, vectors)
        } else {
            for (name, params) in vectors { try add(name, try object(params, "vector params")) }
        }
        return sizes
    }
}
