import Foundation
import Hummingbird
import Strata
import StrataCluster
import StrataEtcd

/// Qdrant's distributed-mode endpoints. A single node (no `--etcd`) answers as
/// Qdrant without cluster mode does: `GET /cluster` is `{"status":"disabled"}`
/// and the rest say "Distributed mode disabled". A cluster node
/// (docs/cluster.md) reports its real peers, from its copy of the cluster state
/// in etcd, and keeps metadata keys in etcd.
extension StrataHTTPServer {
    func addClusterRoutes(to router: Router<StrataRequestContext>) {
        router.get("/cluster") { _, context in
            try context.access.check(.globalRead)
            guard let cluster = self.cluster else { return try Reply.ok(["status": "disabled"], context: context) }
            return try Reply.ok(ClusterStatusOutput(cluster.status()), context: context)
        }
        router.get("/collections/{collection_name}/cluster") { _, context in
            let collection = try self.collection(context, .read)
            var output = CollectionClusterOutput(
                peerID: self.cluster?.identity.peerID ?? 0, points: collection.count())
            if let cluster = self.cluster, let root = cluster.placement(collection.name) {
                let me = cluster.identity.peerID
                var shards = cluster.shardPlacements(of: collection.name)
                shards[0] = root
                var keys: [Int: ShardKey] = [:]
                for entry in root.shard_keys ?? [] { for shard in entry.shards { keys[shard] = entry.key } }
                output.shard_count = shards.count
                output.local_shards = []
                for (id, placement) in shards.sorted(by: { $0.key < $1.key }) {
                    for replica in placement.replicas {
                        if replica.peer_id == me {
                            let count = (try? self.database.collection(placement.name).count()) ?? 0
                            output.local_shards.append(
                                .init(
                                    shard_id: id, shard_key: keys[id], points_count: count,
                                    state: replica.state.rawValue))
                        } else {
                            output.remote_shards.append(
                                .init(
                                    shard_id: id, shard_key: keys[id], peer_id: replica.peer_id,
                                    state: replica.state.rawValue))
                        }
                    }
                    output.shard_transfers += (placement.transfers ?? []).map {
                        var transfer = CollectionClusterOutput.Transfer($0)
                        transfer.shard_id = id
                        return transfer
                    }
                }
            }
            return try Reply.ok(output, context: context)
        }
        // Qdrant gathers cluster telemetry from the peers consensus knows; without
        // cluster mode it knows none, and answers this error (after checking the query).
        router.get("/cluster/telemetry") { request, _ -> Response in
            let query = request.uri.queryParameters
            if let level = query.get("details_level"), UInt32(level) == nil {
                throw APIError(.badRequest, "Deserialize error in query: invalid digit found in string")
            }
            if let text = query.get("timeout") {
                guard let timeout = UInt64(text) else {
                    throw APIError(.badRequest, "Deserialize error in query: invalid digit found in string")
                }
                if timeout < 1 {
                    throw APIError(
                        .unprocessableContent,
                        "Validation error in query: [timeout: value 0 invalid, must be 1 or larger]")
                }
            }
            throw APIError(.internalServerError, "Service internal error: Could not get telemetry from cluster")
        }

        router.post("/cluster/recover") { _, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            // Strata's nodes never replay a consensus log: they re-read the state from etcd.
            try await Self.clusterCall { try await cluster.refresh() }
            return try Reply.ok(true, context: context)
        }
        router.delete("/cluster/peer/{peer_id}") { request, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            guard let text = context.parameters.get("peer_id"), let peerID = UInt64(text) else {
                throw APIError(.badRequest, "Deserialize error in path: invalid digit found in string")
            }
            let force = request.uri.queryParameters.get("force") == "true"
            try await Self.clusterCall { try await cluster.removePeer(peerID, force: force) }
            return try Reply.ok(true, context: context)
        }
        router.get("/cluster/metadata/keys") { _, context -> Response in
            try context.access.check(.globalRead)
            let cluster = try self.requireCluster()
            return try Reply.ok(try await Self.clusterCall { try await cluster.metadataKeys() }, context: context)
        }
        router.get("/cluster/metadata/keys/{key}") { _, context -> Response in
            try context.access.check(.globalRead)
            let cluster = try self.requireCluster()
            let key = try Self.metadataKey(context)
            let stored = try await Self.clusterCall { try await cluster.metadata(key) }
            return Reply.ok(try Self.envelope(rawResult: stored ?? Data("null".utf8), context: context))
        }
        router.put("/cluster/metadata/keys/{key}") { request, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            let key = try Self.metadataKey(context)
            let body = try await self.body(of: request, context)
            // Any JSON value; stored compactly as it was sent once it parses.
            guard (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil else {
                throw APIError(.badRequest, "Json deserialize error: the body is not a JSON value")
            }
            try await Self.clusterCall { try await cluster.setMetadata(key, json: Data(body)) }
            return try Reply.ok(true, context: context)
        }
        router.delete("/cluster/metadata/keys/{key}") { _, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            let key = try Self.metadataKey(context)
            try await Self.clusterCall { try await cluster.deleteMetadata(key) }
            return try Reply.ok(true, context: context)
        }

        // Replica transfers of a collection's one shard (Cluster/ShardTransfers.swift).
        router.post("/collections/{collection_name}/cluster") { request, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            let name = try self.collectionName(context)
            let input = try await self.decode(ClusterOperationInput.self, from: request, context)
            try await self.clusterOperation(input, collection: name, cluster: cluster)
            return try Reply.ok(true, context: context)
        }
        // Shard keys of custom-sharded collections (Cluster/ShardKeys.swift); a single node has none.
        router.get("/collections/{collection_name}/shards") { _, context -> Response in
            let name = try self.collectionName(context)
            try context.access.check(.read(collection: name))
            let cluster = try self.requireCluster()
            guard let root = cluster.placement(name), root.shard_of == nil else {
                throw APIError.notFound("Collection `\(name)` doesn't exist!")
            }
            return try Reply.ok(ShardKeysOutput(root), context: context)
        }
        router.put("/collections/{collection_name}/shards") { request, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            let name = try self.collectionName(context)
            let input = try await self.decode(CreateShardKeyInput.self, from: request, context)
            try await self.createShardKey(input, collection: name, cluster: cluster)
            return try Reply.ok(true, context: context)
        }
        router.post("/collections/{collection_name}/shards/delete") { request, context -> Response in
            try context.access.check(.manage)
            let cluster = try self.requireCluster()
            let name = try self.collectionName(context)
            let input = try await self.decode(DeleteShardKeyInput.self, from: request, context)
            try await self.deleteShardKey(input.shard_key, collection: name, cluster: cluster)
            return try Reply.ok(true, context: context)
        }
    }

    func requireCluster() throws -> ClusterNode {
        guard let cluster else { throw APIError.badRequest("Distributed mode disabled") }
        return cluster
    }

    static func metadataKey(_ context: StrataRequestContext) throws -> String {
        guard let key = context.parameters.get("key"), !key.isEmpty, !key.contains("/") else {
            throw APIError.badRequest("a metadata key must be non-empty and may not contain /")
        }
        return key
    }

    /// `{"result":<raw JSON>,"status":"ok","time":…}` around JSON bytes already encoded.
    static func envelope(rawResult: Data, context: StrataRequestContext) throws -> [UInt8] {
        let elapsed = ContinuousClock.now - context.startedAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Array(#"{"result":"#.utf8) + Array(rawResult) + Array(#","status":"ok","time":\#(seconds)}"#.utf8)
    }

    /// Runs a cluster call, mapping its errors to HTTP: not found 404, bad
    /// input 400, etcd unavailable 503 (the request changed nothing, or for a
    /// timed-out write, possibly something: the message says so).
    static func clusterCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ClusterError {
            switch error {
            case .notFound(let message): throw APIError(.notFound, "Not found: \(message)")
            case .invalid(let message): throw APIError.badRequest(message)
            case .etcd(let error): throw APIError(.serviceUnavailable, "Service unavailable: \(error)")
            default: throw APIError(.internalServerError, "Service internal error: \(error)")
            }
        } catch let error as EtcdError {
            throw APIError(.serviceUnavailable, "Service unavailable: \(error)")
        }
    }
}

/// `GET /cluster` of a cluster node, in Qdrant's `ClusterStatus` shape. Raft
/// terms are etcd's: `term` is etcd's raft term, `commit` the revision of the
/// node's copy of the cluster state, `leader` the controller's peer id.
/// Strata adds `node_name` and `state` (`Active` while the peer holds its
/// lease, else `Dead`) to each peer.
struct ClusterStatusOutput: Encodable {
    struct Peer: Encodable {
        var uri: String
        var node_name: String
        var state: String
    }
    struct RaftInfo: Encodable {
        var term: UInt64
        var commit: Int64
        var pending_operations = 0
        var leader: UInt64?
        var role: String
        var is_voter = true
    }
    struct ConsensusThreadStatus: Encodable {
        var consensus_thread_status: String
        var last_update: String?
        var err: String?
    }

    var status = "enabled"
    var peer_id: UInt64
    var peers: [String: Peer]
    var raft_info: RaftInfo
    var consensus_thread_status: ConsensusThreadStatus
    var message_send_failures: [String: String] = [:]

    init(_ status: ClusterNode.Status) {
        peer_id = status.peerID
        peers = Dictionary(
            uniqueKeysWithValues: status.peers.map {
                (
                    String($0.record.peer_id),
                    Peer(uri: $0.record.rest_url, node_name: $0.record.node_name, state: $0.isAlive ? "Active" : "Dead")
                )
            })
        raft_info = RaftInfo(
            term: status.etcdRaftTerm, commit: status.etcdRevision, leader: status.controllerPeerID,
            role: status.controllerPeerID == status.peerID ? "Leader" : "Follower")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let problem = status.problem {
            consensus_thread_status = .init(consensus_thread_status: "stopped_with_err", err: problem)
        } else {
            consensus_thread_status = .init(
                consensus_thread_status: "working", last_update: status.lastRenewal.map(formatter.string))
        }
    }
}

struct CollectionClusterOutput: Encodable {
    struct LocalShard: Encodable {
        var shard_id = 0
        var shard_key: ShardKey?
        var points_count: Int
        var state = "Active"
    }
    struct RemoteShard: Encodable {
        var shard_id = 0
        var shard_key: ShardKey?
        var peer_id: UInt64
        var state: String
    }
    var peer_id: UInt64
    var shard_count = 1
    var local_shards: [LocalShard]
    var remote_shards: [RemoteShard] = []
    /// Qdrant's `ShardTransferInfo`.
    struct Transfer: Encodable {
        var shard_id = 0
        var from: UInt64
        var to: UInt64
        /// Whether `from` keeps its replica (a replication, not a move).
        var sync: Bool
        var method: String
        var comment: String?

        init(_ transfer: CollectionPlacement.Transfer) {
            from = transfer.from
            to = transfer.to
            sync = transfer.kind == .replicate
            method = transfer.method.rawValue
            comment =
                transfer.snapshot_done == true
                ? "snapshot delivered; sending the log records after it" : "filling the replica from the primary"
        }
    }
    var shard_transfers: [Transfer] = []

    init(peerID: UInt64, points: Int) {
        peer_id = peerID
        local_shards = [LocalShard(points_count: points)]
    }
}
