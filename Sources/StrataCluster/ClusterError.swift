import StrataEtcd

/// Why a node cannot join or act in the cluster, with what to do about it.
public enum ClusterError: Error, Sendable, CustomStringConvertible {
    /// Another node that is running holds this name.
    case nodeNameTaken(name: String, peerID: UInt64, url: String)
    /// This data directory belongs to another node name.
    case identityMismatch(directoryName: String, requestedName: String, peerID: UInt64, path: String)
    /// The node's peer id is in use by another running node (a copied data directory).
    case peerIDInUse(peerID: UInt64, byName: String)
    /// The cluster secret differs from the one the cluster was formed with.
    case wrongSecret
    /// A value read from etcd is not what Strata wrote there.
    case corruptControlPlane(key: String, detail: String)
    /// The identity file cannot be read.
    case corruptIdentity(path: String, detail: String)
    /// A request the cluster refuses (bad input).
    case invalid(String)
    /// What was asked for does not exist.
    case notFound(String)
    /// etcd failed.
    case etcd(EtcdError)

    public var description: String {
        switch self {
        case .nodeNameTaken(let name, let peerID, let url):
            "the node name \"\(name)\" is taken by a running node (peer \(peerID) at \(url)); "
                + "choose another --node-name, or stop that node first"
        case .identityMismatch(let directoryName, let requestedName, let peerID, let path):
            "this data directory belongs to node \"\(directoryName)\" (peer \(peerID), \(path)), not \"\(requestedName)\"; "
                + "start it with --node-name \(directoryName), or give the new node its own --data-dir"
        case .peerIDInUse(let peerID, let name):
            "peer id \(peerID) of this data directory is used by the running node \"\(name)\"; "
                + "was the data directory copied? Give this node its own, empty --data-dir"
        case .wrongSecret:
            "the cluster secret does not match the one this cluster was formed with "
                + "(--cluster-secret or STRATA_CLUSTER_SECRET must be the same on every node)"
        case .corruptControlPlane(let key, let detail):
            "the cluster state in etcd at \(key) is damaged: \(detail)"
        case .corruptIdentity(let path, let detail):
            "the node identity file \(path) is damaged: \(detail); restore it from a backup, "
                + "or move it away to make this directory a new node"
        case .invalid(let message), .notFound(let message):
            message
        case .etcd(let error):
            error.description
        }
    }
}
