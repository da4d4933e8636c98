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
}
