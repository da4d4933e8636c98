import GRPCCore
import StrataGRPCProtocol

/// `qdrant.Points`: every RPC converts its message to the REST layer's input,
/// calls the shared operation (Operations/) and converts the result back.
/// The RPCs are in the extensions PointsService+Updates.swift (writes),
/// PointsService+Reads.swift (get, scroll, count, facet) and
/// PointsService+Queries.swift (query, search, recommend, discover, matrix).
struct PointsService: Qdrant_Points.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }
}
