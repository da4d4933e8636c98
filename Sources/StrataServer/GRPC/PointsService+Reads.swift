import Foundation
import GRPCCore
import Strata
import StrataGRPCProtocol

/// `qdrant.Points` reads: get by id, scroll (by id or ordered by a payload
/// field), count and facet. Each converts its message to the REST layer's
/// input, runs the shared read (Operations/PointOperations.swift) on the
/// engine pool and converts the output there.
extension PointsService {
    func get(
        request: GRPCCore.ServerRequest<Qdrant_GetPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_GetResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                var body: [String: JSONValue] = [
                    "ids": RESTBodies.ids(try message.ids.inputs()),
                    "with_payload": RESTBodies.payloadSelector(
                        try message.hasWithPayload ? message.withPayload.selector() : PayloadSelector.none),
                    "with_vector": RESTBodies.vectorSelector(
                        message.hasWithVectors ? message.withVectors.selector() : VectorSelector.none),
                ]
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points", body: .object(body),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_GetResponse()
                reply.result = try sharded.records(result).map(Qdrant_RetrievedPoint.init)
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            // Absent selectors return no payload and no vectors (Qdrant's gRPC
            // defaults for Get; REST's retrieve returns the payload).
            let input = RetrieveInput(
                ids: try message.ids.inputs(),
                with_payload: try message.hasWithPayload ? message.withPayload.selector() : PayloadSelector.none,
                with_vector: message.hasWithVectors ? message.withVectors.selector() : VectorSelector.none,
                with_vectors: nil, shard_key: shardKeyMarker(message.hasShardKeySelector))
            let read = try strata.retrieve(input, from: collection, scope)
            return try await strata.run(read) { records in
                var reply = Qdrant_GetResponse()
                reply.result = records.map(Qdrant_RetrievedPoint.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func scroll(
        request: GRPCCore.ServerRequest<Qdrant_ScrollPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ScrollResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                var body: [String: JSONValue] = [
                    "with_payload": RESTBodies.payloadSelector(
                        try message.hasWithPayload ? message.withPayload.selector() : PayloadSelector.all),
                    "with_vector": RESTBodies.vectorSelector(
                        message.hasWithVectors ? message.withVectors.selector() : VectorSelector.none),
                ]
                if message.hasOffset { body["offset"] = RESTBodies.id(try message.offset.input()) }
                if message.hasLimit { body["limit"] = .int(Int64(message.limit)) }
                if message.hasFilter { body["filter"] = RESTBodies.filter(try message.filter.filterInput()) }
                if message.hasOrderBy {
                    let order = try OrderByInput(message.orderBy)
                    var fields: [String: JSONValue] = [
                        "key": .string(order.key), "direction": order.descending ? "desc" : "asc",
                    ]
                    if let start = order.startFrom { fields["start_from"] = .double(start) }
                    body["order_by"] = .object(fields)
                }
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/scroll", body: .object(body),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                let page = try WireDecoding.object(result, "a scroll page")
                var reply = Qdrant_ScrollResponse()
                reply.result = try sharded.records(page["points"] ?? .null).map(Qdrant_RetrievedPoint.init)
                if let next = page["next_page_offset"], next != .null {
                    reply.nextPageOffset = Qdrant_PointId(try WireDecoding.id(next))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            // An absent payload selector returns the payload (as Qdrant's scroll does).
            let input = ScrollInput(
                offset: message.hasOffset ? try message.offset.input() : nil,
                limit: message.hasLimit ? Int(message.limit) : nil,
                filter: message.hasFilter ? try message.filter.filterInput() : nil,
                with_payload: try message.hasWithPayload ? message.withPayload.selector() : nil,
                with_vector: message.hasWithVectors ? message.withVectors.selector() : VectorSelector.none,
                with_vectors: nil, order_by: message.hasOrderBy ? try OrderByInput(message.orderBy) : nil,
                shard_key: shardKeyMarker(message.hasShardKeySelector))
            let read = try strata.scroll(input, in: collection, scope)
            return try await strata.run(read) { page in
                var reply = Qdrant_ScrollResponse()
                reply.result = page.points.map(Qdrant_RetrievedPoint.init)
                if let next = page.next_page_offset { reply.nextPageOffset = Qdrant_PointId(next) }
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func count(
        request: GRPCCore.ServerRequest<Qdrant_CountPoints>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CountResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                var body: [String: JSONValue] = [:]
                if message.hasFilter { body["filter"] = RESTBodies.filter(try message.filter.filterInput()) }
                if message.hasExact { body["exact"] = .bool(message.exact) }
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "points/count", body: .object(body),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_CountResponse()
                reply.result.count = UInt64(
                    try WireDecoding.int(try WireDecoding.object(result, "a count")["count"], "count"))
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = CountInput(
                filter: message.hasFilter ? try message.filter.filterInput() : nil,
                exact: message.hasExact ? message.exact : nil, shard_key: shardKeyMarker(message.hasShardKeySelector))
            let read = try strata.count(input, in: collection, scope)
            return try await strata.run(read) { output in
                var reply = Qdrant_CountResponse()
                reply.result.count = UInt64(output.count)
                reply.time = call.elapsed
                return reply
            }
        }
    }

    func facet(
        request: GRPCCore.ServerRequest<Qdrant_FacetCounts>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_FacetResponse> {
        try await strata.unary(request, context) { message, call in
            if let sharded = try routed(
                message.collectionName, call, consistency: message.hasReadConsistency ? message.readConsistency : nil)
            {
                var body: [String: JSONValue] = ["key": .string(message.key)]
                if message.hasLimit { body["limit"] = .int(Int64(clamping: message.limit)) }
                if message.hasFilter { body["filter"] = RESTBodies.filter(try message.filter.filterInput()) }
                if message.hasExact { body["exact"] = .bool(message.exact) }
                if message.hasShardKeySelector { body["shard_key"] = try RESTBodies.shardKey(message.shardKeySelector) }
                let result = try await sharded.send(
                    .post, "facet", body: .object(body),
                    query: ShardedGRPCTarget.queryString(timeout: message.hasTimeout ? message.timeout : nil))
                var reply = Qdrant_FacetResponse()
                reply.hits = try WireDecoding.array(WireDecoding.object(result, "facet hits")["hits"], "facet hits").map
                {
                    let hit = try WireDecoding.object($0, "a facet hit")
                    return Qdrant_FacetHit(
                        FacetResultOutput.Hit(
                            value: hit["value"] ?? .null, count: try WireDecoding.int(hit["count"], "count")))
                }
                reply.time = call.elapsed
                return reply
            }
            let (collection, scope) = try target(
                message.collectionName, .read, timeout: message.hasTimeout ? message.timeout : nil, call)
            let input = FacetInput(
                key: message.key, limit: message.hasLimit ? Int(clamping: message.limit) : nil,
                filter: message.hasFilter ? try message.filter.filterInput() : nil,
                exact: message.hasExact ? message.exact : nil, shard_key: shardKeyMarker(message.hasShardKeySelector))
            let read = try strata.facet(input, in: collection, scope)
            return try await strata.run(read) { output in
                var reply = Qdrant_FacetResponse()
                reply.hits = output.hits.map(Qdrant_FacetHit.init)
                reply.time = call.elapsed
                return reply
            }
        }
    }
}

extension OrderByInput {
    /// Qdrant's `OrderBy`: key, direction (ascending when absent) and where to start.
    init(_ message: Qdrant_OrderBy) throws(APIError) {
        key = message.key
        switch message.hasDirection ? message.direction : .asc {
        case .asc: descending = false
        case .desc: descending = true
        case .UNRECOGNIZED(let value): throw APIError.wrongInput("order_by.direction: unknown direction \(value)")
        }
        switch message.hasStartFrom ? message.startFrom.value : nil {
        case nil: startFrom = nil
        case .float(let number)?: startFrom = number
        case .integer(let number)?: startFrom = Double(number)
        case .timestamp(let timestamp)?: startFrom = Double(timestamp.microseconds)
        case .datetime(let text)?:
            guard let micros = Datetime.microseconds(text) else {
                throw APIError.wrongInput("order_by.start_from: \"\(text)\" is not a number or an RFC 3339 datetime")
            }
            startFrom = Double(micros)
        }
    }
}

extension Qdrant_FacetHit {
    /// A facet value (a keyword, an integer or a boolean) and its count.
    init(_ hit: FacetResultOutput.Hit) {
        self.init()
        var value = Qdrant_FacetValue()
        switch hit.value {
        case .int(let number): value.variant = .integerValue(number)
        case .bool(let flag): value.variant = .boolValue(flag)
        case .string(let text): value.variant = .stringValue(text)
        default: value.variant = .stringValue(hit.value.description)
        }
        self.value = value
        count = UInt64(hit.count)
    }
}
