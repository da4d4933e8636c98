import Foundation
import Strata
import StrataCluster

/// Creating, deleting and listing collections on a cluster node: the
/// placement in etcd is the truth, and each replica is created on its node
/// through the internal port before the collection is reported created.
extension StrataHTTPServer {
    /// `PUT /collections/{name}` on a cluster node.
    func createClusterCollection(
        _ name: String, body: [UInt8], access: Access, cluster: ClusterNode
    ) async throws
        -> Bool
    {
        try access.check(.manage)
        let input = try RequestDecoding.decode(
            CreateCollectionInput.self, from: body, maxDepth: configuration.maxJSONDepth)
        // Every check a replica's engine makes, before anything is placed.
        do {
            try input.engineConfig(inCluster: true).validate()
        } catch let error as StrataError {
            throw APIError.from(error)
        }
        let factor = input.replication_factor ?? configuration.defaultReplicationFactor
        let consistency = input.write_consistency_factor ?? min(configuration.defaultWriteConsistencyFactor, factor)
        guard factor >= 1 else { throw APIError.wrongInput("replication_factor must be at least 1, got \(factor)") }
        guard (1...factor).contains(consistency) else {
            throw APIError.wrongInput(
                "write_consistency_factor must be 1…replication_factor (\(factor)), got \(consistency)")
        }
        let live = cluster.livePeers()
        guard factor <= live.count else {
            throw APIError.wrongInput(
                "replication_factor \(factor) is larger than the number of running nodes (\(live.count)); "
                    + "each replica needs its own node")
        }
        guard !name.contains(ShardMap.separator) else {
            throw APIError.wrongInput(
                "collection name \"\(name)\" is not allowed on a cluster: `~` names the shards of a collection")
        }
        if cluster.placement(name) != nil {
            throw APIError(.conflict, "Wrong input: Collection `\(name)` already exists!")
        }
        let custom = input.sharding_method == "custom"
        if let method = input.sharding_method, method != "auto", method != "custom" {
            throw APIError.wrongInput("sharding_method must be auto or custom, got \(method)")
        }
        // Auto sharding: `shard_number` shards (default `--default-shard-number`, else
        // as Qdrant the number of running nodes, at most maxShards); custom: shard 0
        // only (it holds no points), each shard key adds its own shards.
        let shardNumber =
            input.shard_number
            ?? (custom ? 1 : configuration.defaultShardNumber ?? min(max(1, live.count), Self.maxShards))
        guard (1...Self.maxShards).contains(shardNumber) else {
            throw APIError.wrongInput("shard_number must be 1…\(Self.maxShards), got \(shardNumber)")
        }
        let sharded = shardNumber > 1 || custom
        let createBody = sharded ? Self.shardCreateBody(body) : String(decoding: body, as: UTF8.self)
        var placements = Self.spread(
            shards: custom ? [0] : Array(0..<shardNumber), factor: factor, cluster: cluster, live: live
        ).map { shard, chosen in
            var placement = CollectionPlacement(
                name: ShardMap.shardName(name, shard), createBody: createBody, replicationFactor: factor,
                writeConsistencyFactor: consistency, primary: chosen[0],
                replicas: chosen.map { .init(peerID: $0, state: .initializing) })
            if shard > 0 {
                placement.shard_of = name
                placement.shard_id = shard
            }
            return placement
        }
        if sharded {
            placements[0].shard_number = shardNumber
            placements[0].sharding_method = custom ? "custom" : nil
            placements[0].shard_keys = custom ? [] : nil
        }
        guard try await Self.clusterCall({ try await cluster.createPlacements(placements) }) else {
            throw APIError(.conflict, "Wrong input: Collection `\(name)` already exists!")
        }
        do {
            try await createReplicas(of: placements, body: Array(createBody.utf8), cluster: cluster, live: live)
        } catch {
            await removeShards(placements, cluster: cluster)
            throw error
        }
        return true
    }

    /// The most shards a collection may have.
    static let maxShards = 1024

    /// For each shard, its nodes (the primary first): this node first for
    /// shard 0, then around the running nodes from the least loaded, so that
    /// primaries and replicas spread evenly.
    static func spread(
        shards: [Int], factor: Int, cluster: ClusterNode, live: [UInt64: MemberRecord]
    ) -> [(Int, [UInt64])] {
        let me = cluster.identity.peerID
        var load: [UInt64: Int] = [:]
        for placement in cluster.placements().values {
            for replica in placement.replicas { load[replica.peer_id, default: 0] += 1 }
        }
        let others = live.keys.filter { $0 != me }.sorted { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }
        let ring = (live[me] != nil ? [me] : []) + others
        return shards.enumerated().map { index, shard in
            (shard, (0..<factor).map { ring[(index + $0) % ring.count] })
        }
    }

    /// The create body each shard's engine collection is made with: the
    /// user's, without the sharding members (the engine holds one shard).
    static func shardCreateBody(_ body: [UInt8]) -> String {
        guard var json = try? ShardJSON(parsing: body) else { return String(decoding: body, as: UTF8.self) }
        json["shard_number"] = nil
        json["sharding_method"] = nil
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// Creates every replica of `placements` on its node and marks them
    /// Active; throws (having created some) when a node fails.
    func createReplicas(
        of placements: [CollectionPlacement], body: [UInt8], cluster: ClusterNode, live: [UInt64: MemberRecord]
    ) async throws {
        let peers = PeerClient(cluster.configuration)
        for placement in placements {
            for replica in placement.replicas {
                guard let url = live[replica.peer_id]?.p2p_url else {
                    throw APIError(.serviceUnavailable, "peer \(replica.peer_id) has no internal URL")
                }
                let reply = try await peers.call(
                    .POST, url, "/p2p/v1/collections/\(placement.name)/create", body: body, timeout: .seconds(30))
                guard reply.status == 200 else {
                    throw APIError(
                        .serviceUnavailable,
                        "Service unavailable: node \(live[replica.peer_id]?.node_name ?? "\(replica.peer_id)") could not create its replica: "
                            + String(decoding: reply.body, as: UTF8.self))
                }
            }
            _ = try await Self.clusterCall {
                try await cluster.updatePlacement(placement.name) { placement in
                    for index in placement.replicas.indices { placement.replicas[index].state = .active }
                    return true
                }
            }
        }
    }

    /// Removes the placements of `shards` (from then on no node serves
    /// them), then each replica; a replica that cannot be removed stays on
    /// its node, logged.
    func removeShards(_ shards: [CollectionPlacement], cluster: ClusterNode) async {
        for shard in shards { _ = try? await cluster.deletePlacement(shard.name) }
        let peers = PeerClient(cluster.configuration)
        let records = cluster.status().peers.map(\.record)
        for shard in shards {
            for replica in shard.replicas {
                guard let url = records.first(where: { $0.peer_id == replica.peer_id })?.p2p_url else { continue }
                do {
                    let reply = try await peers.call(
                        .DELETE, url, "/p2p/v1/collections/\(shard.name)", timeout: .seconds(30))
                    if reply.status != 200 {
                        throw APIError(.internalServerError, String(decoding: reply.body, as: UTF8.self))
                    }
                } catch {
                    logger.warning(
                        "a replica of a deleted collection could not be removed; it stays on its node until removed by hand",
                        metadata: ["collection": "\(shard.name)", "peer": "\(replica.peer_id)", "error": "\(error)"])
                }
            }
        }
    }

    /// `DELETE /collections/{name}` on a cluster node: the placement goes
    /// first (from then on no node serves the collection), then each replica.
    func deleteClusterCollection(_ name: String, access: Access, cluster: ClusterNode) async throws -> Bool {
        try access.check(.manage)
        guard let placement = cluster.placement(name), placement.shard_of == nil else { return false }
        let shards = cluster.shardPlacements(of: name).sorted { $0.key < $1.key }.map(\.value)
        // Shard 0's placement goes first: from then on the collection does not exist.
        guard try await Self.clusterCall({ try await cluster.deletePlacement(name) }) else { return false }
        await removeShards([placement] + shards, cluster: cluster)
        return true
    }

    /// `PATCH /collections/{name}` on a cluster node (its primary): the change
    /// reaches every Active replica before it is acknowledged
    /// (`ClusterReplication.updateConfig`). `replication_factor` and
    /// `write_consistency_factor` may only be given as they are: replicas are
    /// added and removed with the shard operations.
    func updateClusterCollection(
        _ name: String, _ input: UpdateCollectionInput, _ replication: ClusterReplication
    ) async throws {
        var input = input
        if let placement = cluster?.placement(name), let params = input.params {
            if let factor = params.replication_factor, factor != placement.replication_factor {
                throw APIError.wrongInput(
                    "replication_factor of `\(name)` is \(placement.replication_factor); on a Strata cluster replicas are added and removed with POST /collections/\(name)/cluster (replicate_shard, drop_replica)"
                )
            }
            if let factor = params.write_consistency_factor, factor != placement.write_consistency_factor {
                throw APIError.wrongInput(
                    "write_consistency_factor of `\(name)` cannot change on a Strata cluster yet (it is \(placement.write_consistency_factor))"
                )
            }
            input.params?.replication_factor = nil
            input.params?.write_consistency_factor = nil
        }
        let change = input
        _ = try input.applied(to: try database.collection(name).config)  // bad input: 400 before anything
        do {
            _ = try await replication.updateConfig(collection: name) { try change.applied(to: $0) }
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }

    /// `GET /collections` on a cluster node: every placed collection.
    func listClusterCollections(_ access: Access, cluster: ClusterNode) -> CollectionsOutput {
        let visible = cluster.placements().values.filter { $0.shard_of == nil }.map(\.name).sorted()
            .filter { access.canRead(collection: $0) }
        return CollectionsOutput(collections: visible.map(CollectionDescriptionOutput.init))
    }

    /// gRPC requests are served by the node's own engine and not yet routed
    /// across shards: on a collection of several shards they would see one
    /// shard, so they are refused (docs/cluster.md).
    func refuseShardedOverGRPC(_ name: String) throws {
        guard let cluster, let placement = cluster.placement(name), placement.isSharded else { return }
        throw APIError.notSupportedYet(
            "this gRPC call on collection `\(name)`, which has several shards (points and collection info, updates and queries are served across the shards; for aliases of, cluster info of and snapshots of such a collection use the REST API)"
        )
    }

    /// `self` after `refuseShardedOverGRPC(name)`.
    func shardedRefused(_ name: String) throws -> StrataHTTPServer {
        try refuseShardedOverGRPC(name)
        return self
    }

    /// Operations that would make replicas differ until the cluster carries them to every replica.
    func refuseInCluster(_ what: String) throws {
        guard cluster != nil else { return }
        throw APIError.badRequest(
            "\(what) is not available on a cluster node yet: it would reach one replica only (docs/cluster.md)")
    }
}
