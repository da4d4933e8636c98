import GRPCCore
import StrataGRPCProtocol

/// `qdrant.Snapshots`: collection and full-storage snapshots (create, list,
/// delete); upload and download stay on REST, as in Qdrant.
struct SnapshotsService: Qdrant_Snapshots.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }
}
