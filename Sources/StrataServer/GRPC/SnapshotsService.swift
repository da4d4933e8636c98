import GRPCCore
import StrataGRPCProtocol

/// `qdrant.Snapshots`: collection and full-storage snapshots (create, list,
/// delete); upload, download and recovery stay on REST, as in Qdrant. Each RPC
/// calls the operation its REST route calls.
struct SnapshotsService: Qdrant_Snapshots.ServiceProtocol {
    let strata: StrataHTTPServer
    init(_ strata: StrataHTTPServer) { self.strata = strata }

    func create(
        request: GRPCCore.ServerRequest<Qdrant_CreateSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CreateSnapshotResponse> {
        try await strata.unary(request, context) { message, call in
            let collection = try strata.collection(named: message.collectionName, .write, call.access)
            return try await strata.run(strata.createSnapshot(of: collection)) { snapshot in
                Self.created(snapshot, call)
            }
        }
    }

    func list(
        request: GRPCCore.ServerRequest<Qdrant_ListSnapshotsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListSnapshotsResponse> {
        try await strata.unary(request, context) { message, call in
            let collection = try strata.collection(named: message.collectionName, .read, call.access)
            return try await strata.run(strata.listSnapshots(of: collection)) { Self.listed($0, call) }
        }
    }

    func delete(
        request: GRPCCore.ServerRequest<Qdrant_DeleteSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DeleteSnapshotResponse> {
        try await strata.unary(request, context) { message, call in
            let collection = try strata.collection(named: message.collectionName, .write, call.access)
            return try await strata.run(strata.deleteSnapshot(message.snapshotName, of: collection)) { _ in
                Self.deleted(call)
            }
        }
    }

    func createFull(
        request: GRPCCore.ServerRequest<Qdrant_CreateFullSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_CreateSnapshotResponse> {
        try await strata.unary(request, context) { _, call in
            try await strata.run(try strata.createFullSnapshot(call.access)) { Self.created($0, call) }
        }
    }

    func listFull(
        request: GRPCCore.ServerRequest<Qdrant_ListFullSnapshotsRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_ListSnapshotsResponse> {
        try await strata.unary(request, context) { _, call in
            try await strata.run(try strata.listFullSnapshots(call.access)) { Self.listed($0, call) }
        }
    }

    func deleteFull(
        request: GRPCCore.ServerRequest<Qdrant_DeleteFullSnapshotRequest>, context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Qdrant_DeleteSnapshotResponse> {
        try await strata.unary(request, context) { message, call in
            try await strata.run(try strata.deleteFullSnapshot(message.snapshotName, call.access)) { _ in
                Self.deleted(call)
            }
        }
    }

    // MARK: - Replies

    private static func created(_ snapshot: SnapshotOutput, _ call: GRPCCall) -> Qdrant_CreateSnapshotResponse {
        var reply = Qdrant_CreateSnapshotResponse()
        reply.snapshotDescription = GRPCCollections.snapshotDescription(snapshot)
        reply.time = call.elapsed
        return reply
    }

    private static func listed(_ snapshots: [SnapshotOutput], _ call: GRPCCall) -> Qdrant_ListSnapshotsResponse {
        var reply = Qdrant_ListSnapshotsResponse()
        reply.snapshotDescriptions = snapshots.map(GRPCCollections.snapshotDescription)
        reply.time = call.elapsed
        return reply
    }

    private static func deleted(_ call: GRPCCall) -> Qdrant_DeleteSnapshotResponse {
        var reply = Qdrant_DeleteSnapshotResponse()
        reply.time = call.elapsed
        return reply
    }
}
