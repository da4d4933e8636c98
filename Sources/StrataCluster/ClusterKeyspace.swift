/// Where the cluster keeps its state in etcd: every key under one prefix,
/// `/strata/v1/` (docs/format/etcd-keyspace.md). Values are JSON.
///
/// - `secret` — `{"salt":…,"sha256":…}`: a verifier of the cluster secret, set
///   by the first node; the secret itself is never stored.
/// - `members/<peer id>` — a `MemberRecord`, kept until the peer is removed
///   (`DELETE /cluster/peer/{id}`), alive or not.
/// - `live/<node name>` — `{"peer_id":…}` on the node's lease: the node runs.
///   Created only if absent, so a name belongs to one running node.
/// - `controller` — `{"peer_id":…}` on the controller's lease: the one node
///   that drives failover (etcd's election pattern: create-if-absent on a lease).
/// - `metadata/<key>` — user metadata (`/cluster/metadata/keys`), any JSON.
/// - `collections/<name>` — a `CollectionPlacement`: replicas, primary, epoch.
public struct ClusterKeyspace: Sendable {
    public let prefix: String

    public init(prefix: String = "/strata/v1/") { self.prefix = prefix }

    public var secret: String { prefix + "secret" }
    public var members: String { prefix + "members/" }
    public func member(_ peerID: UInt64) -> String { members + String(peerID) }
    public var live: String { prefix + "live/" }
    public func live(_ name: String) -> String { live + name }
    public var controller: String { prefix + "controller" }
    public var metadata: String { prefix + "metadata/" }
    public func metadata(_ key: String) -> String { metadata + key }
    public var collections: String { prefix + "collections/" }
    public func collection(_ name: String) -> String { collections + name }
}

/// A member of the cluster as etcd records it (`members/<peer id>`).
public struct MemberRecord: Codable, Sendable, Equatable {
    public var peer_id: UInt64
    public var node_name: String
    /// The node's REST URL as other nodes and clients reach it.
    public var rest_url: String
    /// The node's gRPC URL, if it serves gRPC.
    public var grpc_url: String?
    /// The node's internal URL (`--p2p-port`): replication between nodes.
    public var p2p_url: String?
    /// The Strata version that last registered the member.
    public var version: String

    public init(
        peerID: UInt64, nodeName: String, restURL: String, grpcURL: String?, p2pURL: String? = nil, version: String
    ) {
        peer_id = peerID
        node_name = nodeName
        rest_url = restURL
        grpc_url = grpcURL
        p2p_url = p2pURL
        self.version = version
    }
}

/// The value of `live/<name>` and `controller`.
struct PeerReference: Codable, Sendable, Equatable {
    var peer_id: UInt64
}

/// The value of `secret`.
struct SecretVerifier: Codable, Sendable, Equatable {
    var salt: String
    var sha256: String
}
