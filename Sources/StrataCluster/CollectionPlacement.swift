import Foundation
import StrataEtcd

/// Where a collection lives in the cluster: its replicas, which one is the
/// primary, and the epoch (etcd key `collections/<name>`,
/// docs/format/etcd-keyspace.md). Changed only by compare-and-swap.
///
/// Each collection has one shard (`shard_number` 1) with
/// `replication_factor` replicas on distinct nodes. The primary takes every
/// write, stamps it with its op number, and ships it to the other replicas;
/// `epoch` grows whenever the primary changes, and a replica refuses records
/// from a primary of another epoch.
public struct CollectionPlacement: Codable, Sendable, Equatable {
    public enum ReplicaState: String, Codable, Sendable {
        /// Holds every acknowledged write; serves reads; counts for `write_consistency_factor`.
        case active = "Active"
        /// Missed writes; catching up from the primary; serves no reads.
        case partial = "Partial"
        /// Being created.
        case initializing = "Initializing"
        /// Unreachable for long, or its node was removed.
        case dead = "Dead"
    }

    public struct Replica: Codable, Sendable, Equatable {
        public var peer_id: UInt64
        public var state: ReplicaState
        /// The epoch since which this replica's log is known to be a prefix of
        /// the primary's (absent: 1). A replica behind the current epoch may
        /// hold records a former primary never got acknowledged; catch-up
        /// checks it against `epoch_starts` first.
        public var epoch: UInt64?

        public init(peerID: UInt64, state: ReplicaState, epoch: UInt64? = nil) {
            peer_id = peerID
            self.state = state
            self.epoch = epoch
        }
    }

    /// A replica being filled from the primary on a user's request
    /// (`replicate_shard`, `move_shard`): `to` is a Partial replica until the
    /// primary's catch-up makes it Active; then a move drops `from`.
    public struct Transfer: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            case replicate, move
        }
        public enum Method: String, Codable, Sendable {
            /// Log records when the primary's log still holds them, else a snapshot.
            case streamRecords = "stream_records"
            /// Only log records (fails while the log lacks them, as Qdrant's `wal_delta`).
            case walDelta = "wal_delta"
            /// A snapshot of the primary first, then the records after it.
            case snapshot
        }
        public var from: UInt64
        public var to: UInt64
        public var kind: Kind
        public var method: Method
        /// Whether the target has taken a snapshot for this transfer (method `snapshot`).
        public var snapshot_done: Bool?

        public init(from: UInt64, to: UInt64, kind: Kind, method: Method) {
            self.from = from
            self.to = to
            self.kind = kind
            self.method = method
        }
    }

    public var name: String
    /// Tells this collection apart from an earlier one of the same name
    /// (random, set at creation; absent in placements written before it existed).
    public var incarnation: String?
    /// While `primary` is 0: the primary the failover deposed. If no `Active`
    /// replica runs, it is promoted again when it returns (its log holds every
    /// acknowledged write).
    public var previous_primary: UInt64?
    /// The `PUT /collections/{name}` body the collection was created with
    /// (JSON text), so every replica is created alike.
    public var create_body: String
    public var replication_factor: Int
    public var write_consistency_factor: Int
    public var epoch: UInt64
    /// The primary's peer id; 0 while a failover is choosing one (no writes).
    public var primary: UInt64
    public var replicas: [Replica]
    /// For each epoch after the first (as a decimal string), the new
    /// primary's last op number when it was promoted: every record after it in
    /// another replica's log came from a deposed primary and was never acknowledged.
    public var epoch_starts: [String: UInt64]?
    /// Transfers in progress (absent: none).
    public var transfers: [Transfer]?

    // Sharding (docs/cluster.md, "Shards"). A collection of several shards
    // has one placement per shard: shard 0 under the collection's own name
    // (it carries the fields below), shard `i` > 0 under `shardName(c, i)`.
    // Each shard is replicated, fenced and failed over on its own.

    /// On shard 0: how many shards auto sharding spreads points over (absent: 1).
    public var shard_number: Int?
    /// On shard 0: `auto` (absent) or `custom` (shards belong to shard keys).
    public var sharding_method: String?
    /// On shard 0 of a custom-sharded collection: each shard key and its shards.
    public var shard_keys: [ShardKeyShards]?
    /// On shard `i` > 0: the collection it is a shard of, and `i`.
    public var shard_of: String?
    public var shard_id: Int?

    public init(
        name: String, createBody: String, replicationFactor: Int, writeConsistencyFactor: Int, primary: UInt64,
        replicas: [Replica]
    ) {
        self.name = name
        incarnation = UUID().uuidString
        create_body = createBody
        replication_factor = replicationFactor
        write_consistency_factor = writeConsistencyFactor
        epoch = 1
        self.primary = primary
        self.replicas = replicas
    }

    /// Whether reads and writes of this collection go through the shard map
    /// (more than one shard, or custom sharding) rather than to one shard.
    public var isSharded: Bool { (shard_number ?? 1) > 1 || sharding_method == "custom" }

    public func state(of peerID: UInt64) -> ReplicaState? { replicas.first { $0.peer_id == peerID }?.state }

    /// The transfer filling replica `peerID`, if one is.
    public func transfer(to peerID: UInt64) -> Transfer? { transfers?.first { $0.to == peerID } }

    public var activeCount: Int { replicas.filter { $0.state == .active }.count }

    /// The highest op number up to which a replica whose log was a prefix of
    /// the primary's in `epoch` still agrees with the current primary.
    public func agreedPrefix(since replicaEpoch: UInt64) -> UInt64 {
        guard replicaEpoch < epoch else { return .max }
        return ((replicaEpoch + 1)...epoch).map { epoch_starts?[String($0)] ?? 0 }.min() ?? 0
    }
}

extension ClusterNode {
    /// Every collection's placement, from this node's copy of the cluster state.
    public func placements() -> [String: CollectionPlacement] {
        var result: [String: CollectionPlacement] = [:]
        let prefix = configuration.keyspace.collections
        for (key, value) in mirrorSnapshot.values where key.hasPrefix(prefix) {
            if let placement = try? JSONDecoder().decode(CollectionPlacement.self, from: value.value) {
                result[placement.name] = placement
            }
        }
        return result
    }

    public func placement(_ name: String) -> CollectionPlacement? {
        guard let value = mirrorSnapshot.values[configuration.keyspace.collection(name)] else { return nil }
        return try? JSONDecoder().decode(CollectionPlacement.self, from: value.value)
    }

    /// Running peers, by peer id, with their records.
    public func livePeers() -> [UInt64: MemberRecord] {
        Dictionary(
            uniqueKeysWithValues: status().peers.filter(\.isAlive).map { ($0.record.peer_id, $0.record) })
    }

    /// Writes a new placement if the name is free; false if it is taken.
    public func createPlacement(_ placement: CollectionPlacement) async throws -> Bool {
        let key = configuration.keyspace.collection(placement.name)
        let encoded = try JSONEncoder().encode(placement)
        let result = try await etcd.transaction(if: [.absent(key)], then: [.put(key: key, value: encoded)])
        if result.succeeded { recordInMirror(key, value: encoded, revision: result.revision) }
        return result.succeeded
    }

    /// Changes a placement by compare-and-swap, retrying on a concurrent
    /// change; `change` returns false to give up. Returns the stored result,
    /// or nil when the placement does not exist (or `change` gave up).
    @discardableResult
    public func updatePlacement(
        _ name: String, _ change: (inout CollectionPlacement) throws -> Bool
    ) async throws -> CollectionPlacement? {
        let key = configuration.keyspace.collection(name)
        for _ in 0..<20 {
            guard let current = try await etcd.get(key) else { return nil }
            var placement = try ClusterNode.decode(CollectionPlacement.self, current)
            guard try change(&placement) else { return nil }
            let encoded = try JSONEncoder().encode(placement)
            let result = try await etcd.transaction(
                if: [.unchanged(key, since: current.modRevision)], then: [.put(key: key, value: encoded)])
            if result.succeeded {
                // This node acts on its own change at once, whatever the watch's delay.
                recordInMirror(key, value: encoded, revision: result.revision)
                return placement
            }
        }
        throw ClusterError.invalid("the placement of collection \(name) kept changing; try again")
    }

    /// Writes the placements of every shard of a new collection in one
    /// transaction, if none of their names is taken; false if one is.
    public func createPlacements(_ placements: [CollectionPlacement]) async throws -> Bool {
        let entries = try placements.map { (configuration.keyspace.collection($0.name), try JSONEncoder().encode($0)) }
        let result = try await etcd.transaction(
            if: entries.map { .absent($0.0) }, then: entries.map { .put(key: $0.0, value: $0.1) })
        if result.succeeded {
            for (key, value) in entries { recordInMirror(key, value: value, revision: result.revision) }
        }
        return result.succeeded
    }

    /// Removes a placement; false if there was none.
    public func deletePlacement(_ name: String) async throws -> Bool {
        let deleted = try await etcd.delete(.key(configuration.keyspace.collection(name)))
        try? await refresh()
        return deleted > 0
    }
}
