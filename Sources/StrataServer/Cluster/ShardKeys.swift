import Foundation
import StrataCluster

/// `PUT /collections/{name}/shards` (Qdrant's `CreateShardingKey`).
struct CreateShardKeyInput: Decodable, Sendable {
    var shard_key: ShardKey
    var shards_number: Int?
    var replication_factor: Int?
    /// Peer ids the key's shards are placed on (default: spread over the running nodes).
    var placement: [UInt64]?
    var initial_state: String?
}

/// `POST /collections/{name}/shards/delete`.
struct DeleteShardKeyInput: Decodable, Sendable {
    var shard_key: ShardKey
}

/// `GET /collections/{name}/shards`: the keys of a custom-sharded collection (null otherwise).
struct ShardKeysOutput: Encodable {
    struct Key: Encodable { var key: ShardKey }
    var shard_keys: [Key]?

    init(_ root: CollectionPlacement) {
        shard_keys = root.sharding_method == "custom" ? (root.shard_keys ?? []).map { Key(key: $0.key) } : nil
    }
}

/// Shard keys of custom-sharded collections: each key owns shards of its
/// own (placements `name~i`, replicated like any shard); the key→shards map
/// is on shard 0's placement and changes by compare-and-swap.
extension StrataHTTPServer {
    func createShardKey(_ input: CreateShardKeyInput, collection name: String, cluster: ClusterNode) async throws {
        guard let root = cluster.placement(name), root.shard_of == nil else {
            throw APIError.notFound("Collection `\(name)` doesn't exist!")
        }
        guard root.sharding_method == "custom" else {
            throw APIError.wrongInput(
                "collection `\(name)` uses auto sharding; shard keys need a collection created with sharding_method custom"
            )
        }
        if root.shard_keys?.contains(where: { $0.key == input.shard_key }) == true {
            throw APIError.wrongInput("Sharding key \(input.shard_key) already exists for collection `\(name)`")
        }
        if let state = input.initial_state, state != "Active" {
            throw APIError.wrongInput("initial_state \(state) is not supported: a new shard key's shards start Active")
        }
        let count = input.shards_number ?? root.shard_number ?? 1
        guard (1...Self.maxShards).contains(count) else {
            throw APIError.wrongInput("shards_number must be 1…\(Self.maxShards), got \(count)")
        }
        let factor = input.replication_factor ?? root.replication_factor
        var live = cluster.livePeers()
        if let chosen = input.placement {
            for peer in chosen where live[peer] == nil {
                throw APIError.wrongInput("peer \(peer) in `placement` is not a running member of this cluster")
            }
            live = live.filter { chosen.contains($0.key) }
        }
        guard (1...max(1, live.count)).contains(factor), !live.isEmpty else {
            throw APIError.wrongInput(
                "replication_factor \(factor) is larger than the number of nodes to place on (\(live.count))")
        }
        let existing = cluster.shardPlacements(of: name).keys.max() ?? 0
        let ids = Array((existing + 1)...(existing + count))
        let shards = Self.spread(shards: ids, factor: factor, cluster: cluster, live: live).map { shard, chosen in
            var placement = CollectionPlacement(
                name: ShardMap.shardName(name, shard), createBody: root.create_body, replicationFactor: factor,
                writeConsistencyFactor: min(root.write_consistency_factor, factor), primary: chosen[0],
                replicas: chosen.map { .init(peerID: $0, state: .initializing) })
            placement.shard_of = name
            placement.shard_id = shard
            return placement
        }
        guard try await Self.clusterCall({ try await cluster.createPlacements(shards) }) else {
            throw APIError(.conflict, "the shards of `\(name)` changed meanwhile; try again")
        }
        do {
            try await createReplicas(
                of: shards, body: Array(root.create_body.utf8), cluster: cluster, live: cluster.livePeers())
            let key = input.shard_key
            let stored = try await Self.clusterCall {
                try await cluster.updatePlacement(name) { root in
                    guard !(root.shard_keys ?? []).contains(where: { $0.key == key }) else { return false }
                    root.shard_keys = (root.shard_keys ?? []) + [ShardKeyShards(key: key, shards: ids)]
                    return true
                }
            }
            guard stored != nil else {
                throw APIError.wrongInput("Sharding key \(key) already exists for collection `\(name)`")
            }
        } catch {
            await removeShards(shards, cluster: cluster)
            throw error
        }
    }

    func deleteShardKey(_ key: ShardKey, collection name: String, cluster: ClusterNode) async throws {
        guard let root = cluster.placement(name), root.shard_of == nil else {
            throw APIError.notFound("Collection `\(name)` doesn't exist!")
        }
        guard let entry = root.shard_keys?.first(where: { $0.key == key }) else {
            throw APIError.wrongInput("Sharding key \(key) does not exist for collection `\(name)`")
        }
        // The key goes first: from then on no request reaches its shards.
        try await Self.clusterCall {
            try await cluster.updatePlacement(name) { root in
                root.shard_keys?.removeAll { $0.key == key }
                return true
            }
        }
        let shards = cluster.shardPlacements(of: name).filter { entry.shards.contains($0.key) }.map(\.value)
        await removeShards(shards, cluster: cluster)
    }
}
