import Foundation
import Strata
import StrataCluster

/// `POST /collections/{c}/cluster` (Qdrant's shard operations) on a cluster
/// node: `replicate_shard`, `move_shard`, `drop_replica` and `abort_transfer`
/// on the collection's one shard (shard 0). Each is a compare-and-swap of the
/// placement in etcd; the primary's catch-up loop does the copying
/// (ClusterReplication.prepare: a snapshot when the method asks for one or
/// the log no longer holds what the target lacks, then log records) and
/// finishes the transfer when the target is Active. Whatever `from_peer_id`
/// names, data always comes from the primary: it alone orders the writes.
struct ClusterOperationInput: Decodable, Sendable {
    struct Transfer: Decodable, Sendable {
        var shard_id: Int
        var from_peer_id: UInt64
        var to_peer_id: UInt64
        var method: String?
    }
    struct Drop: Decodable, Sendable {
        var shard_id: Int
        var peer_id: UInt64
    }
    struct Abort: Decodable, Sendable {
        var shard_id: Int
        var from_peer_id: UInt64
        var to_peer_id: UInt64
    }
    var move_shard: Transfer?
    var replicate_shard: Transfer?
    var abort_transfer: Abort?
    var drop_replica: Drop?
    var create_sharding_key: JSONValue?
    var drop_sharding_key: JSONValue?
    var restart_transfer: JSONValue?
    var start_resharding: JSONValue?
    var abort_resharding: JSONValue?
    var replicate_points: JSONValue?
}

extension StrataHTTPServer {
    func clusterOperation(_ input: ClusterOperationInput, collection name: String, cluster: ClusterNode) async throws {
        let given = [
            input.move_shard != nil, input.replicate_shard != nil, input.abort_transfer != nil,
            input.drop_replica != nil, input.create_sharding_key != nil, input.drop_sharding_key != nil,
            input.restart_transfer != nil, input.start_resharding != nil, input.abort_resharding != nil,
            input.replicate_points != nil,
        ].filter { $0 }.count
        guard given == 1 else {
            throw APIError.wrongInput(
                "give exactly one operation: move_shard, replicate_shard, abort_transfer or drop_replica")
        }
        guard cluster.placement(name) != nil else {
            throw APIError.notFound("Collection `\(name)` doesn't exist!")
        }
        /// The placement of shard `shard` (each shard is replicated and moved on its own).
        func shard(_ shard: Int) throws -> CollectionPlacement {
            guard let placement = cluster.placement(ShardMap.shardName(name, shard)),
                shard == 0 || placement.shard_of == name
            else { throw APIError.wrongInput("Shard \(shard) does not exist in collection `\(name)`") }
            return placement
        }
        if let move = input.move_shard {
            try await startTransfer(move, kind: .move, try shard(move.shard_id), cluster: cluster)
        } else if let replicate = input.replicate_shard {
            try await startTransfer(replicate, kind: .replicate, try shard(replicate.shard_id), cluster: cluster)
        } else if let drop = input.drop_replica {
            try await dropReplica(drop.peer_id, try shard(drop.shard_id), cluster: cluster)
        } else if let abort = input.abort_transfer {
            try await abortTransfer(
                from: abort.from_peer_id, to: abort.to_peer_id, try shard(abort.shard_id), cluster: cluster)
        } else {
            throw APIError.wrongInput(
                "create_sharding_key and drop_sharding_key: use PUT /collections/\(name)/shards and POST /collections/\(name)/shards/delete; resharding and replicate_points are not supported"
            )
        }
    }

    private func startTransfer(
        _ request: ClusterOperationInput.Transfer, kind: CollectionPlacement.Transfer.Kind,
        _ placement: CollectionPlacement, cluster: ClusterNode
    ) async throws {
        let method: CollectionPlacement.Transfer.Method
        switch request.method ?? "stream_records" {
        case "stream_records": method = .streamRecords
        case "snapshot": method = .snapshot
        case "wal_delta": method = .walDelta
        case let other:
            throw APIError.wrongInput(
                "unknown transfer method \"\(other)\": use stream_records, snapshot or wal_delta")
        }
        let from = request.from_peer_id, to = request.to_peer_id
        guard placement.state(of: from) == .active else {
            throw APIError.wrongInput(
                "peer \(from) holds no Active replica of shard \(request.shard_id) of `\(placement.shard_of ?? placement.name)`"
            )
        }
        guard cluster.livePeers()[to] != nil else {
            throw APIError.wrongInput("peer \(to) is not a running member of this cluster")
        }
        guard placement.state(of: to) == nil else {
            throw APIError.wrongInput(
                "peer \(to) already holds a replica of shard \(request.shard_id) of `\(placement.shard_of ?? placement.name)`"
            )
        }
        let name = placement.name
        let stored = try await Self.clusterCall {
            try await cluster.updatePlacement(name) { current in
                guard current.state(of: from) == .active, current.state(of: to) == nil,
                    !(current.transfers ?? []).contains(where: { $0.from == from && $0.kind == .move })
                else { return false }
                current.replicas.append(.init(peerID: to, state: .partial, epoch: current.epoch))
                current.transfers = (current.transfers ?? []) + [.init(from: from, to: to, kind: kind, method: method)]
                return true
            }
        }
        guard stored != nil else {
            throw APIError(
                .conflict,
                "the replicas of `\(name)` changed meanwhile (or peer \(from) is already being moved); read GET /collections/\(name)/cluster and try again"
            )
        }
        logger.info(
            "shard transfer started",
            metadata: [
                "collection": "\(name)", "kind": "\(kind.rawValue)", "from": "\(from)", "to": "\(to)",
                "method": "\(method.rawValue)",
            ])
    }

    private func dropReplica(_ peer: UInt64, _ placement: CollectionPlacement, cluster: ClusterNode) async throws {
        let name = placement.name
        guard placement.state(of: peer) != nil else {
            throw APIError.wrongInput("peer \(peer) holds no replica of shard 0 of `\(name)`")
        }
        guard placement.primary != peer else {
            throw APIError.wrongInput(
                "peer \(peer) holds the primary replica of `\(name)`: move it first (move_shard), or stop the node and let failover choose another"
            )
        }
        var refusal: String?
        let stored = try await Self.clusterCall {
            try await cluster.updatePlacement(name) { current in
                guard current.primary != peer, let index = current.replicas.firstIndex(where: { $0.peer_id == peer })
                else { return false }
                if current.replicas[index].state == .active, current.activeCount <= 1 {
                    refusal = "peer \(peer) holds the last Active replica of `\(name)`"
                    return false
                }
                if (current.transfers ?? []).contains(where: { $0.from == peer && $0.kind == .move }) {
                    refusal = "peer \(peer) is the source of a move in progress: abort it first (abort_transfer)"
                    return false
                }
                current.replicas.remove(at: index)
                current.transfers?.removeAll { $0.to == peer }
                if current.transfers?.isEmpty == true { current.transfers = nil }
                return true
            }
        }
        if let refusal { throw APIError.wrongInput(refusal) }
        guard stored != nil else {
            throw APIError(.conflict, "the replicas of `\(name)` changed meanwhile; try again")
        }
        await deleteReplicaCopy(of: name, on: peer, cluster: cluster)
    }

    private func abortTransfer(
        from: UInt64, to: UInt64, _ placement: CollectionPlacement, cluster: ClusterNode
    ) async throws {
        let name = placement.name
        guard placement.transfers?.contains(where: { $0.from == from && $0.to == to }) == true else {
            throw APIError.wrongInput("no transfer of shard 0 of `\(name)` from peer \(from) to peer \(to)")
        }
        var removedTarget = false
        let stored = try await Self.clusterCall {
            try await cluster.updatePlacement(name) { current in
                guard let index = current.transfers?.firstIndex(where: { $0.from == from && $0.to == to }) else {
                    return false
                }
                current.transfers!.remove(at: index)
                if current.transfers!.isEmpty { current.transfers = nil }
                // A target not yet Active is unfinished: it goes with the transfer.
                if current.state(of: to) != .active, current.primary != to {
                    current.replicas.removeAll { $0.peer_id == to }
                    removedTarget = true
                }
                return true
            }
        }
        guard stored != nil else {
            throw APIError(
                .conflict, "the transfer of `\(name)` ended meanwhile; read GET /collections/\(name)/cluster")
        }
        if removedTarget { await deleteReplicaCopy(of: name, on: to, cluster: cluster) }
    }

    /// Best effort: a node that is down keeps its copy until removed by hand (logged).
    private func deleteReplicaCopy(of name: String, on peer: UInt64, cluster: ClusterNode) async {
        let peers = PeerClient(cluster.configuration)
        if let url = cluster.livePeers()[peer]?.p2p_url,
            (try? await peers.call(.DELETE, url, "/p2p/v1/collections/\(name)", timeout: .seconds(30)))?.status == 200
        {
            return
        }
        logger.warning(
            "a dropped replica's copy could not be removed from its node; remove it there by hand",
            metadata: ["collection": "\(name)", "peer": "\(peer)"])
    }
}
