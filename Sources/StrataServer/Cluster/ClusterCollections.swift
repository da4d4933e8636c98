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
        if cluster.placement(name) != nil {
            throw APIError(.conflict, "Wrong input: Collection `\(name)` already exists!")
        }
        // This node is the primary; the other replicas go to the least loaded running nodes.
        let me = cluster.identity.peerID
        var load: [UInt64: Int] = [:]
        for placement in cluster.placements().values {
            for replica in placement.replicas { load[replica.peer_id, default: 0] += 1 }
        }
        let others = live.keys.filter { $0 != me }.sorted { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }
        let chosen = [me] + others.prefix(factor - 1)
        let placement = CollectionPlacement(
            name: name, createBody: String(decoding: body, as: UTF8.self), replicationFactor: factor,
            writeConsistencyFactor: consistency, primary: me,
            replicas: chosen.map { .init(peerID: $0, state: .initializing) })
        guard try await Self.clusterCall({ try await cluster.createPlacement(placement) }) else {
            throw APIError(.conflict, "Wrong input: Collection `\(name)` already exists!")
        }
        // Create every replica; on any failure undo all of it.
        let peers = PeerClient(secret: cluster.configuration.secret)
        var created: [UInt64] = []
        do {
            for peer in chosen {
                guard let url = live[peer]?.p2p_url else {
                    throw APIError(.serviceUnavailable, "peer \(peer) has no internal URL")
                }
                let reply = try await peers.call(
                    .POST, url, "/p2p/v1/collections/\(name)/create", body: body, timeout: .seconds(30))
                guard reply.status == 200 else {
                    throw APIError(
                        .serviceUnavailable,
                        "Service unavailable: node \(live[peer]?.node_name ?? "\(peer)") could not create its replica: "
                            + String(decoding: reply.body, as: UTF8.self))
                }
                created.append(peer)
            }
            try await Self.clusterCall {
                try await cluster.updatePlacement(name) { placement in
                    for index in placement.replicas.indices { placement.replicas[index].state = .active }
                    return true
                }
            }
        } catch {
            _ = try? await cluster.deletePlacement(name)
            for peer in created {
                if let url = live[peer]?.p2p_url {
                    _ = try? await peers.call(.DELETE, url, "/p2p/v1/collections/\(name)", timeout: .seconds(30))
                }
            }
            throw error
        }
        return true
    }

    /// `DELETE /collections/{name}` on a cluster node: the placement goes
    /// first (from then on no node serves the collection), then each replica.
    func deleteClusterCollection(_ name: String, access: Access, cluster: ClusterNode) async throws -> Bool {
        try access.check(.manage)
        guard let placement = cluster.placement(name) else { return false }
        guard try await Self.clusterCall({ try await cluster.deletePlacement(name) }) else { return false }
        let peers = PeerClient(secret: cluster.configuration.secret)
        let records = cluster.status().peers.map(\.record)
        for replica in placement.replicas {
            guard let url = records.first(where: { $0.peer_id == replica.peer_id })?.p2p_url else { continue }
            do {
                let reply = try await peers.call(.DELETE, url, "/p2p/v1/collections/\(name)", timeout: .seconds(30))
                if reply.status != 200 {
                    throw APIError(.internalServerError, String(decoding: reply.body, as: UTF8.self))
                }
            } catch {
                logger.warning(
                    "a replica of a deleted collection could not be removed; it stays on its node until removed by hand",
                    metadata: ["collection": "\(name)", "peer": "\(replica.peer_id)", "error": "\(error)"])
            }
        }
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
        let visible = cluster.placements().keys.sorted().filter { access.canRead(collection: $0) }
        return CollectionsOutput(collections: visible.map(CollectionDescriptionOutput.init))
    }

    /// Operations that would make replicas differ until the cluster carries them to every replica.
    func refuseInCluster(_ what: String) throws {
        guard cluster != nil else { return }
        throw APIError.badRequest(
            "\(what) is not available on a cluster node yet: it would reach one replica only (docs/cluster.md)")
    }
}
