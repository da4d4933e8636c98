// Qdrant's gRPC building blocks ↔ the REST layer's: JSON values and payloads
// (`json_with_int.proto`: integers stay integers), point ids, the payload and
// vector selectors, and the points a read answers with.
import Foundation
import Strata
import StrataGRPCProtocol

// MARK: - JSON values and payloads

extension JSONValue {
    /// A `qdrant.Value` as JSON. An unset kind is null (as in Qdrant); a
    /// double that JSON cannot hold (NaN, ±infinity) is InvalidArgument.
    init(_ value: Qdrant_Value) throws(APIError) {
        switch value.kind {
        case nil, .nullValue?: self = .null
        case .doubleValue(let number)?:
            guard number.isFinite else { throw APIError(.badRequest, "cannot convert to json number: \(number)") }
            self = .double(number)
        case .integerValue(let number)?: self = .int(number)
        case .stringValue(let text)?: self = .string(text)
        case .boolValue(let flag)?: self = .bool(flag)
        case .structValue(let object)?: self = .object(try object.fields.json())
        case .listValue(let list)?:
            var items: [JSONValue] = []
            items.reserveCapacity(list.values.count)
            for item in list.values { items.append(try JSONValue(item)) }
            self = .array(items)
        }
    }
}

extension Qdrant_Value {
    /// JSON as a `qdrant.Value`: integers as `integer_value`, other numbers as `double_value`.
    init(_ json: JSONValue) {
        self.init()
        switch json {
        case .null: kind = .nullValue(.nullValue)
        case .bool(let flag): kind = .boolValue(flag)
        case .int(let number): kind = .integerValue(number)
        case .double(let number): kind = .doubleValue(number)
        case .string(let text): kind = .stringValue(text)
        case .array(let items):
            var list = Qdrant_ListValue()
            list.values = items.map(Qdrant_Value.init)
            kind = .listValue(list)
        case .object(let fields):
            var object = Qdrant_Struct()
            object.fields = fields.grpcValues
            kind = .structValue(object)
        }
    }
}

extension Dictionary where Key == String, Value == Qdrant_Value {
    /// A gRPC map of values (a payload, a document's options) as a JSON object.
    func json() throws(APIError) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        result.reserveCapacity(count)
        for (key, value) in self { result[key] = try JSONValue(value) }
        return result
    }

    /// A point's payload, nil when the map is empty (Qdrant reads an empty
    /// payload map as no payload).
    func payload() throws(APIError) -> Payload? {
        isEmpty ? nil : try json()
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// A JSON object (a payload) as a gRPC map of values.
    var grpcValues: [String: Qdrant_Value] { mapValues(Qdrant_Value.init) }
}

// MARK: - Point ids

extension Qdrant_PointId {
    /// The id, or InvalidArgument for an unset id or a malformed UUID.
    func pointID() throws(APIError) -> PointID {
        switch pointIDOptions {
        case .num(let number)?: return .number(number)
        case .uuid(let text)?:
            guard let uuid = UUID(uuidString: text) else {
                throw APIError(.badRequest, "Unable to parse UUID: \(text)")
            }
            return .uuid(uuid)
        case nil: throw APIError(.badRequest, "No ID options provided")
        }
    }

    /// The id as the REST layer's inputs take it.
    func input() throws(APIError) -> PointIDInput { PointIDInput(try pointID()) }

    init(_ id: PointID) {
        self.init()
        switch id {
        case .number(let number): pointIDOptions = .num(number)
        case .uuid: pointIDOptions = .uuid(id.description)
        }
    }
}

extension Array where Element == Qdrant_PointId {
    /// The ids as the REST layer's inputs take them.
    func inputs() throws(APIError) -> [PointIDInput] {
        var result: [PointIDInput] = []
        result.reserveCapacity(count)
        for id in self { result.append(try id.input()) }
        return result
    }
}

// MARK: - Selectors

extension Qdrant_WithPayloadSelector {
    /// What to return of each point's payload. A selector without an option
    /// is refused, as Qdrant refuses it ("No PayloadSelector"). Callers decide
    /// what an absent selector means for their RPC.
    func selector() throws(APIError) -> PayloadSelector {
        switch selectorOptions {
        case .enable(let flag)?: flag ? .all : .none
        case .include(let include)?: .include(include.fields)
        case .exclude(let exclude)?: .exclude(exclude.fields)
        case nil: throw APIError(.badRequest, "No PayloadSelector")
        }
    }
}

extension Qdrant_WithVectorsSelector {
    /// Which vectors to return; a selector without an option returns none (Qdrant's default).
    func selector() -> VectorSelector {
        switch selectorOptions {
        case .enable(let flag)?: flag ? .all : .none
        case .include(let include)?: .names(include.names)
        case nil: .none
        }
    }
}

// MARK: - Points out

extension Qdrant_VectorOutput {
    init(_ value: VectorOutput.Value) {
        self.init()
        switch value {
        case .dense(let values):
            var dense = Qdrant_DenseVector()
            dense.data = values
            vector = .dense(dense)
        case .multi(let rows):
            var multi = Qdrant_MultiDenseVector()
            multi.vectors = rows.map { row in
                var dense = Qdrant_DenseVector()
                dense.data = row
                return dense
            }
            vector = .multiDense(multi)
        case .sparse(let sparse):
            var output = Qdrant_SparseVector()
            output.indices = sparse.indices
            output.values = sparse.values
            vector = .sparse(output)
        }
    }
}

extension Qdrant_VectorsOutput {
    /// A point's vectors as Qdrant's gRPC API returns them: the unnamed
    /// vector alone, or a map by name.
    init(_ vectors: VectorOutput) {
        self.init()
        switch vectors {
        case .single(let values): vectorsOptions = .vector(Qdrant_VectorOutput(.dense(values)))
        case .singleMulti(let rows): vectorsOptions = .vector(Qdrant_VectorOutput(.multi(rows)))
        case .named(let named):
            var output = Qdrant_NamedVectorsOutput()
            output.vectors = named.mapValues(Qdrant_VectorOutput.init)
            vectorsOptions = .vectors(output)
        }
    }
}

extension Qdrant_OrderValue {
    /// Qdrant's `OrderValue`: an integer when integral, else a double (as REST prints it).
    init(_ value: Double) {
        self.init()
        if value == value.rounded(), abs(value) < 9.0e15 {
            variant = .int(Int64(value))
        } else {
            variant = .float(value)
        }
    }
}

extension Qdrant_ScoredPoint {
    /// A hit as Qdrant's gRPC API returns it (no shard key: Strata has none).
    init(_ point: ScoredPointOutput) {
        self.init()
        id = Qdrant_PointId(point.id)
        version = point.version
        score = point.score
        if let payload = point.payload { self.payload = payload.grpcValues }
        if let vector = point.vector { vectors = Qdrant_VectorsOutput(vector) }
        if let value = point.order_value { orderValue = Qdrant_OrderValue(value) }
    }
}

extension Qdrant_RetrievedPoint {
    /// A record as Qdrant's gRPC API returns it (no shard key: Strata has none).
    init(_ record: RecordOutput) {
        self.init()
        id = Qdrant_PointId(record.id)
        if let payload = record.payload { self.payload = payload.grpcValues }
        if let vector = record.vector { vectors = Qdrant_VectorsOutput(vector) }
        if let value = record.orderValue { orderValue = Qdrant_OrderValue(value) }
    }
}

extension Qdrant_UpdateResult {
    /// A completed write (Strata answers once the write is durable).
    init(_ result: UpdateResultOutput) {
        self.init()
        operationID = result.operation_id
        status = .completed
    }
}

extension Qdrant_PointsOperationResponse {
    init(_ result: UpdateResultOutput, time: Double) {
        self.init()
        self.result = Qdrant_UpdateResult(result)
        self.time = time
    }
}
