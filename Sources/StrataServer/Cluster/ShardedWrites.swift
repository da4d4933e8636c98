import Foundation
import Hummingbird
import NIOHTTP1
import StrataCluster

// Writes to a sharded collection: each point goes to its shard's primary
// (ShardedCollection.writeShards); writes by filter, index and config
// changes go to every shard. As in Qdrant, a write that spans shards is not
// atomic across them: each shard applies its part durably and replicated;
// when one shard fails, the error is returned and the others' parts stay.

extension ShardRouter {
    /// The part of a points selector body (`points` as ids or as records,
    /// `batch`, or `filter`) for each shard it touches, without `shard_key`.
    func split(_ body: ShardJSON, records: Bool) throws -> [Int: ShardJSON] {
        let selector = body["shard_key"]
        var base = body
        base["shard_key"] = nil
        if let points = body["points"]?.array {
            var parts: [Int: [ShardJSON]] = [:]
            for point in points {
                guard let id = records ? point["id"] : point else { return [0: base] }  // the shard says what is wrong
                for shard in try collection.writeShards(of: id, selector: selector) {
                    parts[shard, default: []].append(point)
                }
            }
            if parts.isEmpty { return [try collection.readShards(selector).first ?? 0: base] }
            return parts.mapValues { items in
                var part = base
                part["points"] = .array(items)
                return part
            }
        }
        if let batch = body["batch"], let ids = batch["ids"]?.array {
            var indexes: [Int: [Int]] = [:]
            for (index, id) in ids.enumerated() {
                for shard in try collection.writeShards(of: id, selector: selector) {
                    indexes[shard, default: []].append(index)
                }
            }
            if indexes.isEmpty { return [0: base] }
            return indexes.mapValues { picked in
                func pick(_ values: ShardJSON?) -> ShardJSON? {
                    guard let items = values?.array else { return values }
                    return .array(picked.compactMap { $0 < items.count ? items[$0] : nil })
                }
                var part = batch
                part["ids"] = pick(batch["ids"])
                if case .object(let named)? = batch["vectors"] {
                    part["vectors"] = .object(named.map { ($0.0, pick($0.1) ?? .null) })
                } else {
                    part["vectors"] = pick(batch["vectors"])
                }
                part["payloads"] = pick(batch["payloads"])
                var whole = base
                whole["batch"] = part
                return whole
            }
        }
        if body["filter"] != nil {
            return Dictionary(uniqueKeysWithValues: try collection.readShards(selector).map { ($0, base) })
        }
        return [0: base]
    }

    /// The `points/batch` operation of each single write endpoint.
    static let batchKinds: [String: String] = [
        "PUT points": "upsert", "PUT points/vectors": "update_vectors", "POST points/delete": "delete",
        "POST points/payload": "set_payload", "PUT points/payload": "overwrite_payload",
        "POST points/payload/delete": "delete_payload", "POST points/payload/clear": "clear_payload",
        "POST points/vectors/delete": "delete_vectors",
    ]

    /// Before a write spanning several shards is applied, each shard checks
    /// its part (`points/batch?check_only=true`): bad input fails the whole
    /// write and changes nothing, as on one node.
    func checkParts(_ batches: [Int: [ShardJSON]]) async throws {
        guard batches.count > 1 else { return }
        let shards = batches.keys.sorted()
        let query = (self.query.isEmpty ? "?" : self.query + "&") + "check_only=true"
        _ = try await sendAll(shards, .POST, "points/batch", write: true, query: query) { shard in
            .object([("operations", .array(batches[shard]!))])
        }
    }

    /// A write of points (`records`: the body lists point records, else ids or a filter).
    func writePoints(_ method: HTTPMethod, _ rest: String, _ body: ShardJSON, records: Bool) async throws -> Response {
        let parts = try split(body, records: records)
        let shards = parts.keys.sorted()
        if let kind = Self.batchKinds["\(method) \(rest)"] {
            try await checkParts(parts.mapValues { [.object([(kind, $0)])] })
        }
        let replies = try await sendAll(shards, method, rest, write: true) { parts[$0] }
        return Reply.ok(replies[0].body)
    }

    /// `POST points/batch`: each operation split by shard; each shard gets its
    /// parts in the operations' order; the result lists each operation once.
    func writeBatch(_ body: ShardJSON) async throws -> Response {
        if body["atomic"] == .bool(true) {
            throw APIError.notSupportedYet("an atomic batch on a cluster node (op numbers are per shard there)")
        }
        guard let operations = body["operations"]?.array else {
            return Reply.ok(try await send(0, .POST, "points/batch", body: body, write: true).body)
        }
        var perShard: [Int: [(Int, ShardJSON)]] = [:]
        for (index, operation) in operations.enumerated() {
            guard case .object(let members) = operation, members.count == 1 else {
                perShard[0, default: []].append((index, operation))
                continue
            }
            let (kind, inner) = members[0]
            let records = kind == "upsert" || kind == "update_vectors"
            for (shard, part) in try split(inner, records: records) {
                perShard[shard, default: []].append((index, .object([(kind, part)])))
            }
        }
        let shards = perShard.keys.sorted()
        try await checkParts(perShard.mapValues { $0.map(\.1) })
        let replies = try await sendAll(shards, .POST, "points/batch", write: true) { shard in
            var part = body
            part["operations"] = .array(perShard[shard]!.map(\.1))
            return part
        }
        var results = [ShardJSON?](repeating: nil, count: operations.count)
        for (shard, reply) in zip(shards, replies) {
            let answers = reply.result.array ?? []
            for ((index, _), answer) in zip(perShard[shard]!, answers) where results[index] == nil {
                results[index] = answer
            }
        }
        return ShardRouter.ok(.array(results.map { $0 ?? .null }), started: started)
    }

    /// A change every shard makes (indexes, the config, vector names).
    func writeEveryShard(_ method: HTTPMethod, _ rest: String, _ body: ShardJSON?) async throws -> Response {
        let replies = try await sendAll(collection.shardIDs, method, rest, write: true) { _ in body }
        return Reply.ok(replies[0].body)
    }
}
