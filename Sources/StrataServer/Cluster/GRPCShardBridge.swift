import Foundation
import GRPCCore
import HTTPTypes
import Hummingbird
import NIOCore
import Strata
import StrataCluster
import StrataJSON
import StrataGRPCProtocol

/// gRPC calls on a collection of several shards (docs/cluster.md, "gRPC on
/// several shards"): the shard router (ShardedCollection.swift) splits writes by
/// point and merges reads over REST's JSON, so such a call is written as the
/// REST request it stands for (from the same inputs the gRPC services build,
/// through `WireEncoding`, which StrataClient's REST transport uses too), sent
/// through the router on this node with the caller's credentials, and the
/// router's answer is read back (`WireDecoding`) into the gRPC reply. The
/// semantics are REST's on a sharded collection, exactly: the same merge, the
/// same errors, the same statuses mapped to gRPC codes. One difference with
/// a gRPC call on one shard comes with it: a payload's integral double (1.0)
/// becomes an integer, as it does in every REST write (REST reads `1.0` as 1),
/// and a point id of 2^63 or more cannot be read back (`JSONValue` holds no
/// unsigned 64-bit number): such a read fails, it never names another point.
///
/// Served this way: every `Points` call (writes, vector and payload
/// changes, field indexes, batches, get, scroll, count, facet, every query,
/// search, recommend and discover, alone, in batches and in groups, and the
/// distance matrix) and `Collections` Get and Update; the named-vector
/// changes go the same way and get REST's answer on a cluster. Aliases of,
/// cluster info of and snapshots of such a collection answer UNIMPLEMENTED and
/// point to the REST API.
struct ShardedGRPCTarget: Sendable {
    let server: StrataHTTPServer
    let cluster: ClusterNode
    let collection: ShardedCollection
    let call: GRPCCall
    /// The call's `read_consistency`: how many replicas of each shard answer.
    var consistency: ReadConsistency? = nil
    /// A collection of one shard, read from several replicas for `consistency`
    /// (the request goes to shard 0 as it is, as REST's consistency reads do).
    var oneShard = false

    /// Rows per multivector (for the replies' vector shapes), from the collection's create body.
    var multivectorRowSizes: [String: Int] {
        guard let body = try? JSONValue(parsing: collection.root.create_body), case .object(let fields) = body,
            let vectors = fields["vectors"],
            let sizes = try? WireDecoding.multivectorRowSizes(["config": ["params": ["vectors": vectors]]])
        else { return [:] }
        return sizes
    }

    /// Sends `method /collections/{name}/rest?query` with `body` through the
    /// shard router; the `result` of its answer, or the REST error as an
    /// `APIError` (its status and message), which `unary` maps to a gRPC code.
    func send(
        _ method: HTTPRequest.Method, _ rest: String, body: JSONValue?, query: String = ""
    ) async throws
        -> JSONValue
    {
        let router = ShardRouter(
            server: server, cluster: cluster, collection: collection, headers: call.credentialHeaders,
            query: query, started: .now, consistency: consistency)
        let bytes = try body.map { try JSONBodyEncoder.encode($0) } ?? []
        var status: Int
        var answer: [UInt8]
        do {
            if oneShard {
                let part = body == nil ? nil : try ShardJSON(parsing: bytes)
                let reply = try await router.send(0, .init(rawValue: method.rawValue), rest, body: part, write: false)
                return try JSONValue(parsing: String(decoding: reply.result.bytes, as: UTF8.self))
            }
            guard let response = try await router.handle(.init(rawValue: method.rawValue), rest, body: bytes) else {
                throw APIError.badRequest("unexpected request on a sharded collection")
            }
            status = Int(response.status.code)
            answer = try await Self.bytes(of: response)
        } catch let failure as ShardFailure {
            (status, answer) = (failure.status, failure.body)
        }
        let envelope = try? JSONValue(parsing: String(decoding: answer, as: UTF8.self))
        guard (200..<300).contains(status) else {
            var message = "shard router answered \(status)"
            if case .object(let fields)? = envelope, case .object(let inner)? = fields["status"],
                case .string(let text)? = inner["error"]
            {
                message = text
            }
            throw APIError(HTTPResponse.Status(code: status), message)
        }
        guard case .object(let fields)? = envelope, let result = fields["result"] else {
            throw APIError(.internalServerError, "the shard router's answer has no result")
        }
        return result
    }

    /// A response's body bytes.
    private static func bytes(of response: Response) async throws -> [UInt8] {
        let collected = CollectedBody()
        try await response.body.write(CollectingWriter(collected: collected))
        return collected.bytes
    }

    private final class CollectedBody: @unchecked Sendable {  // written by one writer, read after it finished
        var bytes: [UInt8] = []
    }

    private struct CollectingWriter: ResponseBodyWriter {
        let collected: CollectedBody
        mutating func write(_ buffer: ByteBuffer) async throws { collected.bytes += buffer.readableBytesView }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    /// The query string of a call's part through the shard router: its
    /// `timeout` (seconds), and `wait` for writes (Strata always waits).
    static func queryString(timeout: UInt64?, write: Bool = false) -> String {
        var items: [String] = write ? ["wait=true"] : []
        if let timeout { items.append("timeout=\(timeout)") }
        return items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }

    // MARK: Replies

    func updateResult(_ result: JSONValue) throws -> UpdateResultOutput {
        UpdateResultOutput(operation_id: try WireDecoding.updateResult(result).operationID)
    }

    func records(_ result: JSONValue) throws -> [RecordOutput] {
        let sizes = multivectorRowSizes
        return try WireDecoding.array(result, "points").map { item in
            // A scroll with order_by gives each record the value it was ordered by.
            var orderValue: Double?
            if case .object(let fields) = item, let value = fields["order_value"], value != .null {
                orderValue = try WireDecoding.double(value, "order_value")
            }
            return RecordOutput(
                try WireDecoding.record(item), payload: .all, vector: .all, rowSizes: sizes, orderValue: orderValue)
        }
    }

    func scoredPoints(_ result: JSONValue) throws -> [ScoredPointOutput] {
        let sizes = multivectorRowSizes
        return try WireDecoding.array(result, "scored points").map {
            ScoredPointOutput(try WireDecoding.scoredPoint($0), payload: .all, vector: .all, rowSizes: sizes)
        }
    }

    /// The router's merged collection info (`GET /collections/{name}`) as
    /// the gRPC reply's source: the config of this node's replica of a shard
    /// (changes reach every shard), else of the create request; the counts,
    /// status and payload schema of the merged answer.
    func collectionInfo(_ merged: JSONValue) throws -> CollectionInfoOutput {
        let config: CollectionConfig
        let local = collection.shardIDs.lazy.compactMap { shard in
            try? server.database.collection(shard == 0 ? collection.name : "\(collection.name)~\(shard)")
        }.first
        if let local {
            config = local.config
        } else {
            let input = try RequestDecoding.decode(
                CreateCollectionInput.self, from: Array(collection.root.create_body.utf8),
                maxDepth: server.configuration.maxJSONDepth)
            config = try input.engineConfig(inCluster: true)
        }
        var info = CollectionInfoOutput(config: config, walFileSize: server.database.options.walFileSize)
        let fields = try WireDecoding.object(merged, "collection info")
        if case .string(let status)? = fields["status"] { info.status = status }
        if case .string(let status)? = fields["optimizer_status"] { info.optimizer_status = status }
        info.points_count = try WireDecoding.int(fields["points_count"] ?? 0, "points_count")
        info.indexed_vectors_count = try WireDecoding.int(fields["indexed_vectors_count"] ?? 0, "indexed_vectors_count")
        info.segments_count = try WireDecoding.int(fields["segments_count"] ?? 0, "segments_count")
        if case .object(let schema)? = fields["payload_schema"] { info.payload_schema = schema }
        info.config.params.shard_number =
            collection.isCustom ? collection.root.shard_number ?? 1 : collection.shardNumber
        info.config.params.replication_factor = collection.root.replication_factor
        info.config.params.write_consistency_factor = collection.root.write_consistency_factor
        return info
    }

    /// `{"groups": [{"id", "hits", "lookup"}]}` of a group search.
    func groups(_ result: JSONValue) throws -> GroupsResultOutput {
        let groups = try WireDecoding.array(WireDecoding.object(result, "groups")["groups"], "groups").map {
            group -> PointGroupOutput in
            let fields = try WireDecoding.object(group, "a group")
            var lookup: RecordOutput?
            if let record = fields["lookup"], record != .null {
                lookup = RecordOutput(try WireDecoding.record(record), payload: .all, vector: .all, rowSizes: [:])
            }
            return PointGroupOutput(
                id: fields["id"] ?? .null, hits: try scoredPoints(fields["hits"] ?? .array([])), lookup: lookup)
        }
        return GroupsResultOutput(groups: groups)
    }

    /// The distance matrix the router merged, asked for in its offsets form
    /// (which lists every sampled id), for either gRPC reply.
    func matrix(_ input: SearchMatrixInput, query: String) async throws -> DistanceMatrix {
        var body: [String: JSONValue] = [:]
        if let sample = input.sample { body["sample"] = .int(Int64(sample)) }
        if let limit = input.limit { body["limit"] = .int(Int64(limit)) }
        if let filter = input.filter { body["filter"] = RESTBodies.filter(filter) }
        if let using = input.using { body["using"] = .string(using) }
        let result = try WireDecoding.object(
            try await send(.post, "points/search/matrix/offsets", body: .object(body), query: query), "a matrix")
        let ids = try WireDecoding.array(result["ids"], "ids").map { try WireDecoding.id($0) }
        let rows = try WireDecoding.array(result["offsets_row"], "offsets_row")
        let columns = try WireDecoding.array(result["offsets_col"], "offsets_col")
        let scores = try WireDecoding.array(result["scores"], "scores")
        guard rows.count == columns.count, rows.count == scores.count else {
            throw APIError(
                .internalServerError, "the shard router's matrix has rows, columns and scores of different counts")
        }
        var neighbours = [[ScoredPoint]](repeating: [], count: ids.count)
        for index in rows.indices {
            let row = try WireDecoding.int(rows[index], "a row")
            let column = try WireDecoding.int(columns[index], "a column")
            guard ids.indices.contains(row), ids.indices.contains(column) else {
                throw APIError(.internalServerError, "the shard router's matrix points outside its ids")
            }
            neighbours[row].append(
                ScoredPoint(
                    id: ids[column], version: 0, score: Float(try WireDecoding.double(scores[index], "a score"))))
        }
        return DistanceMatrix(ids: ids, neighbours: neighbours)
    }

    /// `{"points": [...]}` of a query.
    func queryPoints(_ result: JSONValue) throws -> [ScoredPointOutput] {
        try scoredPoints(try WireDecoding.object(result, "a query result")["points"] ?? .null)
    }
}

extension ReadConsistency {
    /// Qdrant's gRPC `ReadConsistency`: a type (all, majority, quorum) or a factor.
    init(_ message: Qdrant_ReadConsistency) throws(APIError) {
        switch message.value {
        case .type(.all)?: self.init(kind: .all)
        case .type(.majority)?: self.init(kind: .majority)
        case .type(.quorum)?: self.init(kind: .quorum)
        case .factor(let factor)? where factor >= 1: self.init(kind: .factor(Int(clamping: factor)))
        case nil: self.init(kind: .factor(1))
        default:
            throw APIError.badRequest(
                "Bad request: read_consistency must be all, majority, quorum or a number of replicas (at least 1)")
        }
    }
}

extension StrataHTTPServer {
    /// The collection of several shards a gRPC call names (an alias resolved),
    /// or nil: not a cluster node, one shard, or no such collection.
    func shardedGRPCTarget(_ name: String, _ call: GRPCCall) -> ShardedGRPCTarget? {
        guard let cluster else { return nil }
        let resolved = resolvedName(name)
        guard let placement = cluster.placement(resolved), placement.isSharded else { return nil }
        return ShardedGRPCTarget(
            server: self, cluster: cluster,
            collection: ShardedCollection(name: resolved, root: placement, cluster: cluster), call: call)
    }
}

// MARK: - The REST bodies of the gRPC inputs

/// The REST JSON of the inputs the gRPC services build (Models/), for the
/// shard router: field names and shapes as Qdrant's REST API has them.
enum RESTBodies {
    static func id(_ input: PointIDInput) -> JSONValue { WireEncoding.id(input.id) }

    static func ids(_ inputs: [PointIDInput]) -> JSONValue { .array(inputs.map(id)) }

    static func filter(_ input: FilterInput) -> JSONValue { input.filter.json }

    static func payloadSelector(_ selector: PayloadSelector) -> JSONValue {
        switch selector {
        case .all: true
        case .none: false
        case .include(let keys): .array(keys.map(JSONValue.string))
        case .exclude(let keys): ["exclude": .array(keys.map(JSONValue.string))]
        }
    }

    static func vectorSelector(_ selector: VectorSelector) -> JSONValue {
        switch selector {
        case .all: true
        case .none: false
        case .names(let names): .array(names.map(JSONValue.string))
        }
    }

    static func multivector(_ rows: [[Float]]) -> JSONValue { .array(rows.map(WireEncoding.floats)) }

    static func vector(_ value: PointVectorValue) -> JSONValue {
        switch value {
        case .dense(let values): WireEncoding.floats(values)
        case .multi(let rows): multivector(rows)
        case .sparse(let vector): WireEncoding.sparse(vector)
        case .document(let document):
            .object(
                ["text": .string(document.text), "model": .string(document.model)].merging(
                    document.options.map { ["options": $0] } ?? [:], uniquingKeysWith: { a, _ in a }))
        }
    }

    static func vectors(_ input: VectorStructInput) -> JSONValue {
        switch input {
        case .single(let values): WireEncoding.floats(values)
        case .singleMulti(let rows): multivector(rows)
        case .named(let named): .object(named.mapValues(vector))
        }
    }

    static func point(_ input: PointInput) -> JSONValue {
        var object: [String: JSONValue] = ["id": id(input.id), "vector": vectors(input.vector)]
        if let payload = input.payload { object["payload"] = .object(payload) }
        return .object(object)
    }

    /// Qdrant's `ShardKeySelector`: one key, or a list of keys.
    static func shardKey(_ selector: Qdrant_ShardKeySelector) throws(APIError) -> JSONValue {
        if selector.hasFallback { throw APIError.notSupportedYet("shard key selectors with a fallback") }
        let keys = selector.shardKeys.map { key -> JSONValue in
            switch key.key {
            case .keyword(let text)?: .string(text)
            case .number(let number)?: number <= UInt64(Int64.max) ? .int(Int64(number)) : .string(String(number))
            case nil: .null
            }
        }
        return keys.count == 1 ? keys[0] : .array(keys)
    }

    /// A query request with the caller's payload and vector selectors (the
    /// engine request keeps only whether they want any).
    static func query(_ request: QueryRequest, payload: PayloadSelector, vector: VectorSelector) throws -> JSONValue {
        guard case .object(var object) = try WireEncoding.queryRequest(request) else {
            preconditionFailure("a query request is an object")
        }
        object["with_payload"] = payloadSelector(payload)
        object["with_vector"] = vectorSelector(vector)
        return .object(object)
    }

    static func query(_ input: QueryRequestInput) throws -> JSONValue {
        try query(input.engine(), payload: input.payloadSelector, vector: input.vectorSelector)
    }

    static func legacyQuery(_ input: some LegacyQueryInput) throws -> JSONValue {
        try query(input.engine(), payload: input.payloadSelector, vector: input.vectorSelector)
    }

    /// A legacy `points/search` body.
    static func search(_ input: SearchRequestInput) throws -> JSONValue {
        var object: [String: JSONValue] = ["limit": .int(Int64(input.limit))]
        let vector: JSONValue
        switch input.vector.vector {
        case .dense(let values): vector = WireEncoding.floats(values)
        case .multi(let rows): vector = multivector(rows)
        case .sparse(let sparse): vector = WireEncoding.sparse(sparse)
        }
        object["vector"] =
            input.vector.name == CollectionConfig.defaultVectorName
            ? vector : ["name": .string(input.vector.name), "vector": vector]
        if let filter = input.filter { object["filter"] = self.filter(filter) }
        if let params = input.params { object["params"] = try WireEncoding.params(try params.engineParams()) }
        if let offset = input.offset { object["offset"] = .int(Int64(offset)) }
        if let threshold = input.score_threshold { object["score_threshold"] = .double(Double(threshold)) }
        object["with_payload"] = payloadSelector(input.with_payload ?? .none)
        object["with_vector"] = vectorSelector(input.with_vector ?? input.with_vectors ?? .none)
        if let key = input.shard_key { object["shard_key"] = key }
        return .object(object)
    }

    /// The members a group search adds to its search: `group_by`, `group_size`,
    /// `limit` (of groups) and `with_lookup`, in place of the search's page.
    static func grouped(_ search: JSONValue, _ grouping: GroupingInput) -> JSONValue {
        guard case .object(var object) = search else { return search }
        object["offset"] = nil
        object["limit"] = grouping.limit.map { .int(Int64($0)) }
        object["group_by"] = .string(grouping.group_by)
        if let size = grouping.group_size { object["group_size"] = .int(Int64(size)) }
        if let lookup = grouping.with_lookup {
            object["with_lookup"] = [
                "collection": .string(lookup.collection), "with_payload": payloadSelector(lookup.with_payload),
                "with_vectors": vectorSelector(lookup.with_vectors),
            ]
        }
        return .object(object)
    }

    /// A legacy `points/recommend/groups` body.
    static func recommendGroups(_ input: RecommendGroupsRequestInput) throws -> JSONValue {
        var object: [String: JSONValue] = [
            "positive": .array((input.positive ?? []).map { WireEncoding.vectorInput($0.value) }),
            "negative": .array((input.negative ?? []).map { WireEncoding.vectorInput($0.value) }),
            "with_payload": payloadSelector(input.payloadSelector), "with_vector": vectorSelector(input.vectorSelector),
        ]
        if let strategy = input.strategy { object["strategy"] = .string(strategy) }
        if let filter = input.filter { object["filter"] = self.filter(filter) }
        if let params = input.params { object["params"] = try WireEncoding.params(try params.engineParams()) }
        if let threshold = input.score_threshold { object["score_threshold"] = .double(Double(threshold)) }
        if let using = input.using { object["using"] = .string(using) }
        if let lookup = input.lookup_from {
            var fields: [String: JSONValue] = ["collection": .string(lookup.collection)]
            if let vector = lookup.vector { fields["vector"] = .string(vector) }
            object["lookup_from"] = .object(fields)
        }
        return grouped(.object(object), input.grouping)
    }

    static func selected(_ object: inout [String: JSONValue], points: [PointIDInput]?, filter: FilterInput?) {
        if let points { object["points"] = ids(points) }
        if let filter { object["filter"] = self.filter(filter) }
    }

    // The write bodies (without `shard_key`: the gRPC inputs carry only a
    // marker of it; the services add the message's selector).

    static func upsert(_ input: UpsertInput) -> [String: JSONValue] {
        var body: [String: JSONValue] = ["points": .array((input.points ?? []).map(point))]
        if let filter = input.update_filter { body["update_filter"] = self.filter(filter) }
        if let mode = input.update_mode { body["update_mode"] = .string(mode) }
        return body
    }

    static func selector(_ input: PointsSelectorInput) -> [String: JSONValue] {
        var body: [String: JSONValue] = [:]
        selected(&body, points: input.points, filter: input.filter)
        return body
    }

    static func setPayload(_ input: SetPayloadInput) -> [String: JSONValue] {
        var body: [String: JSONValue] = ["payload": .object(input.payload)]
        selected(&body, points: input.points, filter: input.filter)
        if let key = input.key { body["key"] = .string(key) }
        return body
    }

    static func deletePayload(_ input: DeletePayloadInput) -> [String: JSONValue] {
        var body: [String: JSONValue] = ["keys": .array(input.keys.map(JSONValue.string))]
        selected(&body, points: input.points, filter: input.filter)
        return body
    }

    static func updateVectors(_ input: UpdateVectorsInput) -> [String: JSONValue] {
        var body: [String: JSONValue] = [
            "points": .array(input.points.map { ["id": id($0.id), "vector": vectors($0.vector)] })
        ]
        if let filter = input.update_filter { body["update_filter"] = self.filter(filter) }
        return body
    }

    static func deleteVectors(_ input: DeleteVectorsInput) -> [String: JSONValue] {
        var body: [String: JSONValue] = ["vector": .array(input.vector.map(JSONValue.string))]
        selected(&body, points: input.points, filter: input.filter)
        return body
    }

    /// One operation of `points/batch`. A shard key selector inside an
    /// operation is not carried (the gRPC input keeps only that it was given).
    static func operation(_ input: UpdateOperationInput) throws(APIError) -> JSONValue {
        let (key, body, shardKey): (String, [String: JSONValue], JSONValue?) =
            switch input {
            case .upsert(let op): ("upsert", upsert(op), op.shard_key)
            case .delete(let op): ("delete", selector(op), op.shard_key)
            case .setPayload(let op): ("set_payload", setPayload(op), op.shard_key)
            case .overwritePayload(let op): ("overwrite_payload", setPayload(op), op.shard_key)
            case .deletePayload(let op): ("delete_payload", deletePayload(op), op.shard_key)
            case .clearPayload(let op): ("clear_payload", selector(op), op.shard_key)
            case .updateVectors(let op): ("update_vectors", updateVectors(op), op.shard_key)
            case .deleteVectors(let op): ("delete_vectors", deleteVectors(op), op.shard_key)
            }
        if shardKey != nil {
            throw APIError.notSupportedYet(
                "shard key selectors inside UpdateBatch operations over gRPC on a collection of several shards (give them over REST)"
            )
        }
        return .object([key: .object(body)])
    }
}

extension PointGroupOutput {
    init(id: JSONValue, hits: [ScoredPointOutput], lookup: RecordOutput?) {
        self.id = id
        self.hits = hits
        self.lookup = lookup
    }
}

extension GRPCCall {
    /// The caller's credentials as the headers the shard router relays to the other nodes.
    var credentialHeaders: [(String, String)] { credentials.map { ($0.name.rawName, $0.value) } }
}
