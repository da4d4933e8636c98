import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import StrataCluster

/// The shard map of one sharded collection as this node sees it
/// (docs/cluster.md, "Shards"): shard 0 under the collection's name, shard
/// `i` under `name~i`, each with its own placement (primary, replicas, epoch).
struct ShardedCollection: Sendable {
    let name: String
    let root: CollectionPlacement
    /// Every shard's placement by shard id, shard 0 included.
    let shards: [Int: CollectionPlacement]

    init(name: String, root: CollectionPlacement, cluster: ClusterNode) {
        var shards = cluster.shardPlacements(of: name)
        shards[0] = root
        self.init(name: name, root: root, shards: shards)
    }

    init(name: String, root: CollectionPlacement, shards: [Int: CollectionPlacement]) {
        self.name = name
        self.root = root
        self.shards = shards
    }

    var isCustom: Bool { root.sharding_method == "custom" }
    var shardNumber: Int { root.shard_number ?? 1 }
    var shardIDs: [Int] { shards.keys.sorted() }

    /// The keys of a `shard_key` selector: one key or a list of keys (nil: none given).
    static func keys(of selector: ShardJSON?) throws(APIError) -> [ShardKey]? {
        guard let selector, !selector.isNull else { return nil }
        func key(_ value: ShardJSON) throws(APIError) -> ShardKey {
            switch value {
            case .string(let text): return .string(text)
            case .number(let text):
                guard let number = UInt64(text) else {
                    throw APIError.wrongInput("a shard key is a string or an unsigned integer, got \(text)")
                }
                return .number(number)
            default: throw APIError.wrongInput("a shard key is a string or an unsigned integer")
            }
        }
        if case .array(let items) = selector {
            var keys: [ShardKey] = []
            for item in items { keys.append(try key(item)) }
            return keys
        }
        if case .object = selector {
            throw APIError.notSupportedYet("shard key selectors with a fallback")
        }
        return [try key(selector)]
    }

    /// The shards of each key, or 400 naming a key the collection lacks.
    func shards(ofKeys keys: [ShardKey]) throws(APIError) -> [[Int]] {
        guard isCustom else {
            throw APIError.wrongInput(
                "collection `\(name)` uses auto sharding; shard_key is only for collections created with sharding_method custom"
            )
        }
        var result: [[Int]] = []
        for key in keys {
            guard let entry = root.shard_keys?.first(where: { $0.key == key }) else {
                throw APIError.wrongInput("Shard key \(key) not found in collection `\(name)`")
            }
            result.append(entry.shards)
        }
        return result
    }

    /// The shards a read covers: every shard, or those of the selected keys.
    func readShards(_ selector: ShardJSON?) throws(APIError) -> [Int] {
        guard let keys = try Self.keys(of: selector) else { return shardIDs }
        return Array(Set(try shards(ofKeys: keys).joined())).sorted()
    }

    /// The shards a point is written to: its hash's shard (auto sharding), or
    /// for each selected key one of the key's shards by the same hash.
    func writeShards(of id: ShardJSON, selector: ShardJSON?) throws(APIError) -> [Int] {
        let keys = try Self.keys(of: selector)
        if isCustom {
            guard let keys, !keys.isEmpty else {
                throw APIError.wrongInput(
                    "Shard key not specified: collection `\(name)` uses custom sharding; give shard_key with each write"
                )
            }
            var result: [Int] = []
            for keyShards in try shards(ofKeys: keys) {
                result.append(keyShards[try Self.hash(id, modulo: keyShards.count)])
            }
            return result
        }
        if keys != nil { _ = try shards(ofKeys: []) }  // auto sharding: refused, with the reason
        return [try Self.hash(id, modulo: shardNumber)]
    }

    /// The shard index of point id `id` among `count` shards (ShardMap's hash).
    static func hash(_ id: ShardJSON, modulo count: Int) throws(APIError) -> Int {
        guard count > 1 else { return 0 }
        switch id {
        case .number(let text):
            if let number = UInt64(text) { return ShardMap.shard(ofNumber: number, shardNumber: count) }
        case .string(let text):
            if let uuid = parseUUID(text) { return ShardMap.shard(ofUUID: uuid, shardNumber: count) }
        default: break
        }
        throw APIError.wrongInput(
            "point id must be an unsigned integer or a UUID, got \(String(decoding: id.bytes, as: UTF8.self))")
    }

    /// A UUID in its hyphenated or simple (32 hex digits) form.
    static func parseUUID(_ text: String) -> UUID? {
        if let uuid = UUID(uuidString: text) { return uuid }
        guard text.utf8.count == 32 else { return nil }
        var hyphenated = text
        for position in [20, 16, 12, 8] {
            hyphenated.insert("-", at: hyphenated.index(hyphenated.startIndex, offsetBy: position))
        }
        return UUID(uuidString: hyphenated)
    }
}

/// A shard's answer that was not a success: relayed to the user as it came.
struct ShardFailure: Error {
    let status: Int
    let body: [UInt8]
}

/// Sends the parts of one user request to the shards of a sharded
/// collection and relays or merges their answers (ShardedWrites.swift,
/// ShardedReads.swift, ShardedQueries.swift). A part goes to a shard's
/// primary when it writes, else to an Active replica (this node's when it
/// has one), with `x-strata-forwarded-by` so that node serves it itself.
struct ShardRouter: Sendable {
    let server: StrataHTTPServer
    let cluster: ClusterNode
    let collection: ShardedCollection
    /// The user's headers that travel with each part (credentials).
    let headers: [(String, String)]
    /// The request's query string, with its `?` (or empty).
    let query: String
    let started: ContinuousClock.Instant
    /// The read's `consistency`: how many replicas of each shard answer it (ReadConsistency.swift).
    var consistency: ReadConsistency? = nil

    struct ShardReply: Sendable {
        var status: Int
        var body: [UInt8]
        /// The `result` member of a success.
        var result: ShardJSON
        /// The node that answered.
        var peer: UInt64 = 0
    }

    /// The node a part goes to: the shard's primary for a write; for a read
    /// this node when it holds an Active replica, else the primary when
    /// Active, else another Active replica. 503 when none runs.
    func target(_ shard: Int, write: Bool) throws -> MemberRecord {
        guard let placement = collection.shards[shard] else {
            throw APIError(
                .serviceUnavailable, "Service unavailable: shard \(shard) of `\(collection.name)` is not placed")
        }
        let live = cluster.livePeers()
        let me = cluster.identity.peerID
        let target: MemberRecord?
        if write {
            target = live[placement.primary]
        } else if placement.state(of: me) == .active, let mine = live[me] {
            target = mine
        } else {
            let active = placement.replicas.filter { $0.state == .active }.map(\.peer_id)
            target =
                live[placement.primary].flatMap { active.contains(placement.primary) ? $0 : nil }
                ?? active.lazy.compactMap { live[$0] }.first
        }
        guard let target else {
            throw APIError(
                .serviceUnavailable,
                "Service unavailable: no running \(write ? "primary" : "Active replica") for shard \(shard) of collection `\(collection.name)`"
            )
        }
        return target
    }

    /// Sends `body` to `rest` (below `/collections/{shard's name}/`) of `shard`.
    func send(
        _ shard: Int, _ method: HTTPMethod, _ rest: String, body: ShardJSON?, write: Bool, query: String? = nil
    ) async throws -> ShardReply {
        let path = "/collections/\(ShardMap.shardName(collection.name, shard))" + (rest.isEmpty ? "" : "/" + rest)
        if !write, let consistency, let placement = collection.shards[shard],
            consistency.plan(replicas: placement.replicas.count).answers > 1
        {
            return try await sendToReplicas(
                shard, placement, consistency, method, path + (query ?? self.query), body: body)
        }
        let target = try self.target(shard, write: write)
        var reply = try await call(
            method, target.rest_url, path + (query ?? self.query), body: body, forwarding: true)
        reply.peer = target.peer_id
        return reply
    }

    /// A read of `shard` answered by as many of its Active replicas as
    /// `consistency` asks, at once, and resolved into one answer.
    func sendToReplicas(
        _ shard: Int, _ placement: CollectionPlacement, _ consistency: ReadConsistency, _ method: HTTPMethod,
        _ pathAndQuery: String, body: ShardJSON?
    ) async throws -> ShardReply {
        let name =
            shard == 0 && collection.shards.count == 1
            ? "collection `\(collection.name)`" : "shard \(shard) of collection `\(collection.name)`"
        let (readers, needsAll) = try consistency.readers(
            of: placement, live: cluster.livePeers(), me: cluster.identity.peerID, shardName: name)
        let replies = try await withThrowingTaskGroup(of: (Int, ShardReply).self) { group in
            for (index, reader) in readers.enumerated() {
                group.addTask {
                    var reply = try await call(method, reader.rest_url, pathAndQuery, body: body, forwarding: true)
                    reply.peer = reader.peer_id
                    return (index, reply)
                }
            }
            var replies = [ShardReply?](repeating: nil, count: readers.count)
            for try await (index, reply) in group { replies[index] = reply }
            return replies.map { $0! }
        }
        let result = ReadConsistency.resolve(replies.map(\.result), needsAll: needsAll)
        let envelope = ShardJSON.object([("result", result), ("status", .string("ok")), ("time", .number("0"))])
        return ShardReply(status: 200, body: envelope.bytes, result: result, peer: replies[0].peer)
    }

    /// One request with the user's credentials to the node at `baseURL`:
    /// `forwarding` adds this node's forwarding headers (the node serves it
    /// itself), else it routes it as a user's request. A failure status
    /// throws `ShardFailure` with the node's answer.
    func call(
        _ method: HTTPMethod, _ baseURL: String, _ pathAndQuery: String, body: ShardJSON?, forwarding: Bool
    ) async throws -> ShardReply {
        var request = HTTPClientRequest(url: baseURL + pathAndQuery)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if forwarding {
            for (name, value) in ClusterRoutingMiddleware.forwardingHeaders(cluster) {
                request.headers.add(name: name, value: value)
            }
        }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.bytes))
        }
        let response: HTTPClientResponse
        do {
            response = try await PeerClient.http(for: cluster).execute(request, timeout: .seconds(120))
        } catch {
            throw APIError(.serviceUnavailable, "Service unavailable: cannot reach \(baseURL): \(error)")
        }
        let bytes = Array(try await response.body.collect(upTo: 1 << 30).readableBytesView)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else { throw ShardFailure(status: status, body: bytes) }
        let result = (try? ShardJSON(parsing: bytes))?["result"] ?? .null
        return ShardReply(status: status, body: bytes, result: result)
    }

    /// `send` to each of `shards` at once; answers in the order of `shards`.
    func sendAll(
        _ shards: [Int], _ method: HTTPMethod, _ rest: String, write: Bool, query: String? = nil,
        body: (Int) -> ShardJSON?
    ) async throws -> [ShardReply] {
        try await withThrowingTaskGroup(of: (Int, ShardReply).self) { group in
            for (index, shard) in shards.enumerated() {
                let part = body(shard)
                group.addTask { (index, try await send(shard, method, rest, body: part, write: write, query: query)) }
            }
            var replies = [ShardReply?](repeating: nil, count: shards.count)
            for try await (index, reply) in group { replies[index] = reply }
            return replies.map { $0! }
        }
    }

    /// The answer of `rest` on a node holding `shard`, relayed as it comes (a download).
    func stream(_ shard: Int, _ rest: String) async throws -> Response {
        let target = try self.target(shard, write: false)
        let path = "/collections/\(ShardMap.shardName(collection.name, shard))/\(rest)"
        var request = HTTPClientRequest(url: target.rest_url + path + query)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in ClusterRoutingMiddleware.forwardingHeaders(cluster) {
            request.headers.add(name: name, value: value)
        }
        let response: HTTPClientResponse
        do {
            response = try await PeerClient.http(for: cluster).execute(request, timeout: .hours(1))
        } catch {
            throw APIError(.serviceUnavailable, "Service unavailable: cannot reach \(target.rest_url): \(error)")
        }
        var headers = HTTPFields()
        for name in ["content-type", "content-disposition", "content-length"] {
            if let value = response.headers.first(name: name), let field = HTTPField.Name(name) {
                headers[field] = value
            }
        }
        let body = response.body
        return Response(
            status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headers: headers,
            body: ResponseBody { writer in
                for try await buffer in body { try await writer.write(buffer) }
                try await writer.finish(nil)
            })
    }

    /// `{"result": result, "status": "ok", "time": …}`.
    static func ok(_ result: ShardJSON, started: ContinuousClock.Instant) -> Response {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let envelope = ShardJSON.object([
            ("result", result), ("status", .string("ok")), ("time", .number(String(seconds))),
        ])
        return Reply.ok(envelope.bytes)
    }
}

extension ShardRouter {
    /// Serves one user request on the sharded collection (`rest`: the path
    /// below `/collections/{name}/`), or returns nil for a request that is
    /// not the router's (creating and deleting the collection).
    func handle(_ method: HTTPMethod, _ rest: String, body bytes: [UInt8]) async throws -> Response? {
        let body: ShardJSON
        do {
            body = bytes.isEmpty ? .object([]) : try ShardJSON(parsing: bytes)
        } catch {
            throw APIError.badRequest("Format error in JSON body: \(error)")
        }
        switch (method, rest) {
        case (.PUT, ""), (.DELETE, ""): return nil
        case (.GET, ""): return try await info()
        case (.GET, "optimizations"): return try await optimizations()
        case (.GET, "storage"): return try await storage()
        case (.GET, "exists"), (.GET, "aliases"):
            return Reply.ok(try await send(0, .GET, rest, body: nil, write: false).body)
        case (.PATCH, ""), (.PUT, "index"): return try await writeEveryShard(method, rest, body)
        case (.DELETE, _) where rest.hasPrefix("index/"), (.DELETE, _) where rest.hasPrefix("vectors/"):
            return try await writeEveryShard(method, rest, nil)
        case (.PUT, _) where rest.hasPrefix("vectors/"): return try await writeEveryShard(method, rest, body)
        case (.PUT, "points"), (.PUT, "points/vectors"):
            return try await writePoints(method, rest, body, records: true)
        case (.POST, "points/delete"), (.POST, "points/payload"), (.PUT, "points/payload"),
            (.POST, "points/payload/delete"), (.POST, "points/payload/clear"), (.POST, "points/vectors/delete"):
            return try await writePoints(method, rest, body, records: false)
        case (.POST, "points/batch"): return try await writeBatch(body)
        case (.POST, "points"): return try await retrieve(body)
        case (.GET, _) where rest.hasPrefix("points/"): return try await point(String(rest.dropFirst("points/".count)))
        case (.POST, "points/scroll"): return try await scroll(body)
        case (.POST, "points/count"): return try await count(body)
        case (.POST, "facet"): return try await facet(body)
        case (.POST, "points/search"), (.POST, "points/recommend"), (.POST, "points/discover"):
            return try await legacySearch(String(rest.dropFirst("points/".count)), body)
        case (.POST, "points/search/batch"), (.POST, "points/recommend/batch"), (.POST, "points/discover/batch"):
            return try await legacyBatch(String(rest.dropFirst("points/".count).dropLast("/batch".count)), body)
        case (_, _) where rest.hasPrefix("snapshots"):
            throw APIError.badRequest(
                "collection `\(collection.name)` has several shards: snapshot each shard (GET /collections/\(collection.name)/shards/{shard_id}/snapshot); a snapshot of the whole collection is not built yet"
            )
        case (.GET, _) where rest.hasPrefix("shards/") && rest.hasSuffix("/snapshot"):
            // One shard's snapshot, streamed from a node that holds it Active (its engine collection's shard 0).
            let text = rest.dropFirst("shards/".count).dropLast("/snapshot".count)
            guard let shard = Int(text), collection.shards[shard] != nil else {
                throw APIError.notFound("Shard \(text) of collection `\(collection.name)` does not exist")
            }
            return try await stream(shard, "shards/0/snapshot")
        case (.POST, "points/search/matrix/pairs"): return try await matrix(body, offsets: false)
        case (.POST, "points/search/matrix/offsets"): return try await matrix(body, offsets: true)
        case (.POST, "points/query"): return try await query(body)
        case (.POST, "points/query/batch"): return try await queryBatch(body)
        case (.POST, "points/search/groups"), (.POST, "points/recommend/groups"), (.POST, "points/query/groups"):
            return try await groups(String(rest.dropFirst("points/".count).dropLast("/groups".count)), body)
        default:
            throw APIError.notSupportedYet(
                "`\(method) /collections/{name}/\(rest)` on a collection of several shards (docs/cluster.md)")
        }
    }
}
