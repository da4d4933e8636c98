import GRPCCore
import StrataGRPCProtocol

/// `qdrant.Collections`: collections, aliases, vector names and cluster info.
struct CollectionsService: Qdrant_Collections.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }
}
