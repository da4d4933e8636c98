import GRPCCore
import Strata
import StrataGRPCProtocol

/// `qdrant.Points`: every RPC converts its message to the REST layer's input,
/// calls the shared operation (Operations/) and converts the result back.
/// The RPCs are in the extensions PointsService+Updates.swift (writes),
/// PointsService+Reads.swift (get, scroll, count, facet) and
/// PointsService+Queries.swift (query, search, recommend, discover, matrix).
struct PointsService: Qdrant_Points.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }

    /// The collection an RPC reads or writes (checked against the caller's
    /// access), and the call's scope with the message's `timeout` (seconds).
    func target(
        _ name: String, _ mode: CollectionAccessMode, timeout: UInt64?, _ call: GRPCCall
    ) throws -> (collection: Strata.Collection, scope: RequestScope) {
        var scope = call.scope
        if let timeout { scope.timeout = Int(clamping: timeout) }
        try strata.refuseShardedOverGRPC(name)
        return (try strata.collection(named: name, mode, call.access), scope)
    }

    /// The collection of several shards an RPC names, after checking the
    /// caller may `mode` it (GRPCShardBridge.swift); nil for any other.
    func sharded(_ name: String, _ mode: CollectionAccessMode, _ call: GRPCCall) throws -> ShardedGRPCTarget? {
        guard let target = strata.shardedGRPCTarget(name, call) else { return nil }
        let resolved = target.collection.name
        try call.access.check(mode == .read ? .read(collection: resolved) : .write(collection: resolved))
        return target
    }
}

extension PointsService {
    /// Where a read goes when it is not this node's engine alone: a collection
    /// of several shards (through the shard router), or one shard whose
    /// `read_consistency` asks more than one replica to answer (their answers
    /// resolved as REST's `consistency` reads are, ReadConsistency.swift).
    func routed(
        _ name: String, _ call: GRPCCall, consistency message: Qdrant_ReadConsistency?
    ) throws -> ShardedGRPCTarget? {
        let consistency = try message.map { message throws(APIError) in try ReadConsistency(message) }
        if var target = try sharded(name, .read, call) {
            target.consistency = consistency
            return target
        }
        guard let consistency, let cluster = strata.cluster else { return nil }
        let resolved = strata.resolvedName(name)
        guard let placement = cluster.placement(resolved),
            consistency.plan(replicas: placement.replicas.count).answers > 1
        else { return nil }
        try call.access.check(.read(collection: resolved))
        return ShardedGRPCTarget(
            server: strata, cluster: cluster,
            collection: ShardedCollection(name: resolved, root: placement, shards: [0: placement]), call: call,
            consistency: consistency, oneShard: true)
    }
}
