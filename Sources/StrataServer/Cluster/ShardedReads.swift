import Foundation
import Hummingbird
import NIOHTTP1
import StrataCluster

// Reads of a sharded collection: each shard answers over its own points and
// this node merges the answers exactly as a collection merges its segments
// (ReadableSegment.swift): best first, ties by ascending id, then cut to the
// limit. Each shard is asked for `offset + limit` so that the merged page is
// the page over the union.

/// A point id as it orders: numbers before UUIDs, UUIDs by their text (the
/// engine's `PointID` order).
enum MergeID: Comparable, Hashable {
    case number(UInt64)
    case uuid(String)

    init(_ json: ShardJSON?) {
        switch json {
        case .number(let text)?: self = .number(UInt64(text) ?? .max)
        case .string(let text)?:
            self = .uuid((ShardedCollection.parseUUID(text)?.uuidString ?? text).lowercased())
        default: self = .number(.max)
        }
    }
}

extension ShardRouter {
    /// Merges best-first lists of scored points (members `id`, `score`).
    static func mergeScored(_ lists: [[ShardJSON]], higherIsBetter: Bool) -> [ShardJSON] {
        mergeBy(lists, key: { $0["score"]?.double ?? 0 }, descending: higherIsBetter)
    }

    /// Merges lists by `key` (then ascending id), each point once.
    /// `distinct`: false where a point may appear once per value (`order_by`).
    static func mergeBy(
        _ lists: [[ShardJSON]], key: (ShardJSON) -> Double, descending: Bool, distinct: Bool = true
    ) -> [ShardJSON] {
        var entries: [(point: ShardJSON, key: Double, id: MergeID)] = []
        for list in lists {
            for point in list { entries.append((point, key(point), MergeID(point["id"]))) }
        }
        entries.sort { a, b in
            if a.key != b.key { return descending ? a.key > b.key : a.key < b.key }
            return a.id < b.id
        }
        var seen = Set<MergeID>()
        var result: [ShardJSON] = []
        for entry in entries where !distinct || seen.insert(entry.id).inserted { result.append(entry.point) }
        return result
    }

    /// Whether higher scores of dense vector `name` are better, from the
    /// collection's create body (Euclid and Manhattan are distances; sparse
    /// vectors and unknown names score higher-is-better).
    func higherIsBetter(vector name: String) -> Bool {
        guard let config = try? ShardJSON(parsing: Array(collection.root.create_body.utf8)),
            let vectors = config["vectors"]
        else { return true }
        let params = vectors["distance"] != nil ? (name.isEmpty ? vectors : nil) : vectors[name]
        guard let distance = params?["distance"]?.string else { return true }
        return distance != "Euclid" && distance != "Manhattan"
    }

    static func takePage(_ merged: [ShardJSON], offset: Int, limit: Int) -> [ShardJSON] {
        Array(merged.dropFirst(offset).prefix(limit))
    }

    // MARK: - Collection info

    /// `GET /collections/{name}`: shard 0's answer with the counts of every shard summed.
    func info() async throws -> Response {
        let replies = try await sendAll(collection.shardIDs, .GET, "", write: false) { _ in nil }
        var result = replies[0].result
        for key in ["points_count", "indexed_vectors_count", "segments_count"] {
            let sum = replies.reduce(0) { $0 + ($1.result[key]?.int ?? 0) }
            if result[key] != nil { result[key] = .int(sum) }
        }
        let statuses = replies.compactMap { $0.result["status"]?.string }
        for worst in ["red", "yellow", "grey"] where statuses.contains(worst) {
            result["status"] = .string(worst)
            break
        }
        if var config = result["config"], var params = config["params"] {
            params["shard_number"] = .int(
                collection.isCustom ? collection.root.shard_number ?? 1 : collection.shardNumber)
            if collection.isCustom { params["sharding_method"] = .string("custom") }
            config["params"] = params
            result["config"] = config
        }
        if case .object(let fields)? = result["payload_schema"] {
            result["payload_schema"] = .object(
                fields.map { field, schema in
                    var schema = schema
                    let sum = replies.reduce(0) { $0 + ($1.result["payload_schema"]?[field]?["points"]?.int ?? 0) }
                    if schema["points"] != nil { schema["points"] = .int(sum) }
                    return (field, schema)
                })
        }
        return ShardRouter.ok(result, started: started)
    }

    /// `GET optimizations`: every shard's report, counts summed and lists joined.
    func optimizations() async throws -> Response {
        let replies = try await sendAll(collection.shardIDs, .GET, "optimizations", write: false) { _ in nil }
        return ShardRouter.ok(Self.combined(replies.map(\.result)), started: started)
    }

    /// `GET storage`: each shard's LSM layout as one of its replicas answers it
    /// (the one a read goes to), under `shards`, in shard order:
    /// `{"shards": [{"shard_id", "peer_id", "storage": {…}}]}`. The layouts are
    /// not merged: each shard has its own WAL, segments and optimizer.
    func storage() async throws -> Response {
        let shards = collection.shardIDs
        let replies = try await sendAll(shards, .GET, "storage", write: false) { _ in nil }
        let result = ShardJSON.object([
            (
                "shards",
                .array(
                    zip(shards, replies).map { shard, reply in
                        .object([
                            ("shard_id", .int(shard)), ("peer_id", .number(String(reply.peer))),
                            ("storage", reply.result),
                        ])
                    })
            )
        ])
        return ShardRouter.ok(result, started: started)
    }

    /// Objects of the same shape as one: numbers summed, arrays joined, objects combined member by member.
    static func combined(_ values: [ShardJSON]) -> ShardJSON {
        guard let first = values.first else { return .null }
        switch first {
        case .number:
            return .number(String(values.reduce(0) { $0 + ($1.int ?? 0) }))
        case .array:
            return .array(values.flatMap { $0.array ?? [] })
        case .object(let members):
            return .object(members.map { key, _ in (key, combined(values.compactMap { $0[key] })) })
        default:
            return first
        }
    }

    // MARK: - Points by id

    /// `GET points/{id}`: the shard of the id (every shard of a custom-sharded collection).
    func point(_ idText: String) async throws -> Response {
        let id: ShardJSON = UInt64(idText) != nil ? .number(idText) : .string(idText)
        let shards = collection.isCustom ? collection.shardIDs : [try collection.writeShards(of: id, selector: nil)[0]]
        var lastFailure: ShardFailure?
        for shard in shards {
            do {
                return Reply.ok(try await send(shard, .GET, "points/\(idText)", body: nil, write: false).body)
            } catch let failure as ShardFailure where failure.status == 404 {
                lastFailure = failure
            }
        }
        throw lastFailure!
    }

    /// `POST points`: the ids split by shard, the records in the order asked.
    func retrieve(_ body: ShardJSON) async throws -> Response {
        ShardRouter.ok(.array(try await records(body)), started: started)
    }

    /// The records of `body["ids"]` (with `with_payload`, `with_vector`), each once, in the order asked.
    func records(_ body: ShardJSON) async throws -> [ShardJSON] {
        guard let ids = body["ids"]?.array else {
            return try await send(0, .POST, "points", body: body, write: false).result.array ?? []
        }
        let selector = body["shard_key"]
        var base = body
        base["shard_key"] = nil
        var parts: [Int: [ShardJSON]] = [:]
        for id in ids {
            let shards =
                collection.isCustom
                ? try collection.readShards(selector) : try collection.writeShards(of: id, selector: nil)
            for shard in shards { parts[shard, default: []].append(id) }
        }
        let shards = parts.keys.sorted()
        let replies = try await sendAll(shards, .POST, "points", write: false) { shard in
            var part = base
            part["ids"] = .array(parts[shard]!)
            return part
        }
        var found: [MergeID: ShardJSON] = [:]
        for reply in replies {
            for record in reply.result.array ?? [] { found[MergeID(record["id"])] = record }
        }
        var seen = Set<MergeID>()
        return ids.map(MergeID.init).filter { seen.insert($0).inserted }.compactMap { found[$0] }
    }

    // MARK: - Scroll, count, facet

    /// `POST points/scroll`: in id order, or by `order_by` (value, then id).
    func scroll(_ body: ShardJSON) async throws -> Response {
        let shards = try collection.readShards(body["shard_key"])
        var part = body
        part["shard_key"] = nil
        let limit = body["limit"]?.int ?? 10
        let replies = try await sendAll(shards, .POST, "points/scroll", write: false) { _ in part }
        let lists = replies.map { $0.result["points"]?.array ?? [] }
        if let orderBy = body["order_by"], !orderBy.isNull {
            let descending = orderBy["direction"]?.string == "desc"
            let merged = Self.mergeBy(
                lists, key: { $0["order_value"]?.double ?? 0 }, descending: descending, distinct: false)
            return ShardRouter.ok(
                .object([("points", .array(Array(merged.prefix(limit)))), ("next_page_offset", .null)]),
                started: started)
        }
        let merged = lists.joined().sorted { MergeID($0["id"]) < MergeID($1["id"]) }
        var next = merged.count > limit ? merged[limit]["id"] : nil
        for reply in replies {
            guard let offset = reply.result["next_page_offset"], !offset.isNull else { continue }
            if next == nil || MergeID(offset) < MergeID(next) { next = offset }
        }
        return ShardRouter.ok(
            .object([("points", .array(Array(merged.prefix(limit)))), ("next_page_offset", next ?? .null)]),
            started: started)
    }

    /// `POST points/count`: the shards' counts summed.
    func count(_ body: ShardJSON) async throws -> Response {
        let shards = try collection.readShards(body["shard_key"])
        var part = body
        part["shard_key"] = nil
        let replies = try await sendAll(shards, .POST, "points/count", write: false) { _ in part }
        let total = replies.reduce(0) { $0 + ($1.result["count"]?.int ?? 0) }
        return ShardRouter.ok(.object([("count", .int(total))]), started: started)
    }

    /// `POST facet`: every shard's counts of every value, summed; the `limit`
    /// most frequent (ties by value), as one collection counts them.
    func facet(_ body: ShardJSON) async throws -> Response {
        let shards = try collection.readShards(body["shard_key"])
        var part = body
        part["shard_key"] = nil
        part["limit"] = .int(Self.facetValuesPerShard)
        let limit = body["limit"]?.int ?? 10
        let replies = try await sendAll(shards, .POST, "facet", write: false) { _ in part }
        var counts: [String: (value: ShardJSON, count: Int)] = [:]
        for reply in replies {
            for hit in reply.result["hits"]?.array ?? [] {
                guard let value = hit["value"] else { continue }
                let key = String(decoding: value.bytes, as: UTF8.self)
                counts[key, default: (value, 0)].count += hit["count"]?.int ?? 0
            }
        }
        func before(_ a: ShardJSON, _ b: ShardJSON) -> Bool {
            switch (a, b) {
            case (.number(let x), .number(let y)): return (Double(x) ?? 0) < (Double(y) ?? 0)
            case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            case (.bool(let x), .bool(let y)): return !x && y
            default: return String(decoding: a.bytes, as: UTF8.self) < String(decoding: b.bytes, as: UTF8.self)
            }
        }
        let hits = counts.values.sorted { $0.count != $1.count ? $0.count > $1.count : before($0.value, $1.value) }
            .prefix(max(limit, 0))
            .map { ShardJSON.object([("value", $0.value), ("count", .int($0.count))]) }
        return ShardRouter.ok(.object([("hits", .array(Array(hits)))]), started: started)
    }

    /// How many values of a facet each shard reports: all of them up to this
    /// many, so that the summed counts are exact.
    static let facetValuesPerShard = 1_000_000
}

// MARK: - Distance matrix

extension ShardRouter {
    /// `POST points/search/matrix/pairs` (`offsets`: `…/offsets`), computed
    /// as one collection does (Collection+DistanceMatrix.swift): a uniform
    /// random sample of the points matching the filter that have the vector
    /// (each shard's count and random subset, combined by drawing from the
    /// shards as from one set), sorted by id; then for each sampled point
    /// its nearest other sampled points by exact search on every shard.
    func matrix(_ body: ShardJSON, offsets: Bool) async throws -> Response {
        let shards = try collection.readShards(body["shard_key"])
        let sample = body["sample"]?.int ?? 10
        let limit = body["limit"]?.int ?? 3
        let using = body["using"]?.string ?? ""
        guard sample >= 2, limit >= 1 else {
            // The shard answers the validation error as one collection would.
            var part = body
            part["shard_key"] = nil
            let rest = offsets ? "points/search/matrix/offsets" : "points/search/matrix/pairs"
            return Reply.ok(try await send(shards[0], .POST, rest, body: part, write: false).body)
        }
        let filter = Self.merge(
            body["filter"], .object([("must", .array([.object([("has_vector", .string(using))])]))]))
        let counts = try await sendAll(shards, .POST, "points/count", write: false) { _ in
            .object([("filter", filter ?? .null), ("exact", .bool(true))])
        }.map { $0.result["count"]?.int ?? 0 }
        let subsets = try await sendAll(shards, .POST, "points/query", write: false) { _ in
            .object([
                ("query", .object([("sample", .string("random"))])), ("filter", filter ?? .null),
                ("limit", .int(sample)), ("with_payload", .bool(false)),
            ])
        }.map { ($0.result["points"]?.array ?? []).compactMap { $0["id"] } }
        // Draw `sample` points from the shards as from one set.
        let taken = Self.draw(sample, from: counts)
        var ids: [ShardJSON] = []
        for (index, subset) in subsets.enumerated() { ids += subset.prefix(taken[index]) }
        ids.sort { MergeID($0) < MergeID($1) }
        let vectors = try await exampleVectors(ids, name: using, source: nil)
        ids = ids.filter { vectors[MergeID($0)] != nil }
        var neighbours: [[ShardJSON]] = Array(repeating: [], count: ids.count)
        if ids.count >= 2 {
            let searches: [ShardJSON] = ids.map { id in
                .object([
                    ("query", vectors[MergeID(id)]!), ("using", .string(using)),
                    (
                        "filter",
                        .object([
                            ("must", .array([.object([("has_id", .array(ids))])])),
                            ("must_not", .array([.object([("has_id", .array([id]))])])),
                        ])
                    ),
                    ("params", .object([("exact", .bool(true))])), ("limit", .int(limit)),
                    ("with_payload", .bool(false)),
                ])
            }
            let replies = try await sendAll(shards, .POST, "points/query/batch", write: false) { _ in
                .object([("searches", .array(searches))])
            }
            let higher = higherIsBetter(vector: using)
            for index in ids.indices {
                let lists = replies.map { $0.result.array?[index]["points"]?.array ?? [] }
                neighbours[index] = Array(Self.mergeScored(lists, higherIsBetter: higher).prefix(limit))
            }
        } else {
            ids = []
            neighbours = []
        }
        if offsets {
            var rows: [ShardJSON] = [], columns: [ShardJSON] = [], scores: [ShardJSON] = []
            var position: [MergeID: Int] = [:]
            for (index, id) in ids.enumerated() { position[MergeID(id)] = index }
            for (row, points) in neighbours.enumerated() {
                for point in points {
                    guard let column = position[MergeID(point["id"])] else { continue }
                    rows.append(.int(row))
                    columns.append(.int(column))
                    scores.append(point["score"] ?? .null)
                }
            }
            return ShardRouter.ok(
                .object([
                    ("offsets_row", .array(rows)), ("offsets_col", .array(columns)), ("scores", .array(scores)),
                    ("ids", .array(ids)),
                ]), started: started)
        }
        var pairs: [ShardJSON] = []
        for (a, points) in zip(ids, neighbours) {
            for point in points {
                pairs.append(.object([("a", a), ("b", point["id"] ?? .null), ("score", point["score"] ?? .null)]))
            }
        }
        return ShardRouter.ok(.object([("pairs", .array(pairs))]), started: started)
    }
}
