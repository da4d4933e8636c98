import Foundation
import GRPCCore
import Logging
import Strata
import StrataGRPCProtocol
import SwiftProtobuf

/// The gRPC request path under a fuzzer (fuzz/Sources/GRPCRequestFuzz) and the
/// corpus replay test: an input's first byte picks one of the 50 RPCs, the rest
/// is that RPC's protobuf message. It is decoded as grpc-swift decodes it and,
/// when it decodes, handed to the real service method (conversion to the REST
/// inputs, the shared operations, the engine) on a scratch database whose
/// collection `fuzz` every named request is pointed at. Any input must end in
/// a reply or an error: a trap, a hang or unbounded memory is a finding.
///
/// Not for production: the scratch database lives in a temporary directory
/// for the life of the process.
public enum GRPCRequestFuzzing {
    /// How many RPCs an input's first byte chooses from.
    public static let rpcCount = Self.rpcs.count

    /// How one input ended.
    public enum Outcome: Sendable, Equatable {
        /// The bytes are not the chosen RPC's message.
        case undecodable
        /// The service answered.
        case answered
        /// The service refused it with this status and message.
        case refused(String)
    }

    /// Runs one input.
    @discardableResult
    public static func check(_ bytes: [UInt8]) async -> Outcome {
        guard let first = bytes.first else { return .undecodable }
        let services = Self.services
        if !services.server.database.collectionNames().contains("fuzz") { await reset() }
        let rpc = Self.rpcs[Int(first) % Self.rpcs.count]
        return await rpc(services, Array(bytes.dropFirst()))
    }

    /// Makes `fuzz` anew: a dense vector (unnamed, 4 dims, Cosine), a named one
    /// (`n`, 2 dims, Dot), a sparse one (`s`), points 1…3 with payload
    /// (`k` keyword-indexed, `n` integer-indexed); other collections, aliases
    /// and snapshots are removed.
    public static func reset() async {
        let database = services.server.database
        do {
            for alias in database.aliases() { try database.updateAliases([.delete(alias: alias.alias)]) }
            for name in database.collectionNames() {
                for snapshot in try database.listSnapshots(collection: name) {
                    try database.deleteSnapshot(named: snapshot.name, collection: name)
                }
                try database.deleteCollection(name)
            }
            for snapshot in try database.listSnapshots() { try database.deleteSnapshot(named: snapshot.name) }
            let collection = try database.createCollection(
                "fuzz",
                config: CollectionConfig(
                    vectors: [
                        "": VectorParams(size: 4, distance: .cosine), "n": VectorParams(size: 2, distance: .dot),
                    ],
                    sparseVectors: ["s": SparseVectorParams()]))
            try await collection.createFieldIndex("k", schema: PayloadFieldSchema(.keyword))
            try await collection.createFieldIndex("n", schema: PayloadFieldSchema(.integer))
            var points: [PointStruct] = []
            for index in 1...3 {
                let value = Float(index)
                let sparse = SparseVector(indices: [1, UInt32(index) + 1], values: [0.5, 1])
                let payload: Payload = ["k": .string(index == 2 ? "b" : "a"), "n": .int(Int64(index))]
                points.append(
                    PointStruct(
                        id: .number(UInt64(index)), vectors: ["": [value, 1, 0.5, 0.25], "n": [1, value]],
                        payload: payload, sparseVectors: ["s": sparse]))
            }
            try await collection.upsert(points)
        } catch {
            fatalError("the gRPC fuzz harness cannot reset its scratch database: \(error)")
        }
    }

    struct Services: Sendable {
        let server: StrataHTTPServer
        let collections: CollectionsService
        let points: PointsService
        let snapshots: SnapshotsService
    }

    /// The scratch server, made on first use.
    static let services: Services = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("strata-grpc-fuzz-\(ProcessInfo.processInfo.processIdentifier)").path
        try? FileManager.default.removeItem(atPath: directory)
        do {
            let database = try Database.open(at: directory)
            var configuration = ServerConfiguration()
            configuration.dataDirectory = directory
            configuration.engineThreads = 2
            let server = try StrataHTTPServer(
                database: database, configuration: configuration, logger: Logger(label: "grpc-fuzz"))
            return Services(
                server: server, collections: CollectionsService(server), points: PointsService(server),
                snapshots: SnapshotsService(server))
        } catch {
            fatalError("the gRPC fuzz harness cannot open its scratch database: \(error)")
        }
    }()

    /// Decodes `bytes` as `Message`, points it at `fuzz` and calls `method`.
    static func call<Message: SwiftProtobuf.Message & Sendable, Reply: Sendable>(
        _ bytes: [UInt8], _ type: Message.Type, _ path: String,
        _ method: (ServerRequest<Message>, ServerContext) async throws -> ServerResponse<Reply>
    ) async -> Outcome {
        guard var message = try? Message(serializedBytes: bytes) else { return .undecodable }
        if var named = message as? any GRPCCollectionRequest {
            named.collectionName = "fuzz"
            if let renamed = named as? Message { message = renamed }
        }
        let parts = path.split(separator: "/")
        let descriptor = MethodDescriptor(fullyQualifiedService: String(parts[0]), method: String(parts[1]))
        do {
            _ = try await withServerContextRPCCancellationHandle { handle in
                let context = ServerContext(
                    descriptor: descriptor, remotePeer: "in-process:fuzz", localPeer: "in-process:fuzz",
                    cancellation: handle)
                return try await method(ServerRequest(metadata: [:], message: message), context)
            }
            return .answered
        } catch let error as RPCError {
            return .refused("\(error.code): \(error.message)")
        } catch {
            return .refused("\(error)")
        }
    }

    static let rpcs: [@Sendable (Services, [UInt8]) async -> Outcome] = [
        { s, b in await call(b, Qdrant_GetCollectionInfoRequest.self, "qdrant.Collections/Get", s.collections.get) },
        { s, b in await call(b, Qdrant_ListCollectionsRequest.self, "qdrant.Collections/List", s.collections.list) },
        { s, b in await call(b, Qdrant_CreateCollection.self, "qdrant.Collections/Create", s.collections.create) },
        { s, b in await call(b, Qdrant_UpdateCollection.self, "qdrant.Collections/Update", s.collections.update) },
        { s, b in await call(b, Qdrant_DeleteCollection.self, "qdrant.Collections/Delete", s.collections.delete) },
        { s, b in
            await call(b, Qdrant_ChangeAliases.self, "qdrant.Collections/UpdateAliases", s.collections.updateAliases)
        },
        { s, b in
            await call(
                b, Qdrant_ListCollectionAliasesRequest.self, "qdrant.Collections/ListCollectionAliases",
                s.collections.listCollectionAliases)
        },
        { s, b in
            await call(b, Qdrant_ListAliasesRequest.self, "qdrant.Collections/ListAliases", s.collections.listAliases)
        },
        { s, b in
            await call(
                b, Qdrant_CollectionClusterInfoRequest.self, "qdrant.Collections/CollectionClusterInfo",
                s.collections.collectionClusterInfo)
        },
        { s, b in
            await call(
                b, Qdrant_CollectionExistsRequest.self, "qdrant.Collections/CollectionExists",
                s.collections.collectionExists)
        },
        { s, b in
            await call(
                b, Qdrant_UpdateCollectionClusterSetupRequest.self, "qdrant.Collections/UpdateCollectionClusterSetup",
                s.collections.updateCollectionClusterSetup)
        },
        { s, b in
            await call(
                b, Qdrant_CreateShardKeyRequest.self, "qdrant.Collections/CreateShardKey", s.collections.createShardKey)
        },
        { s, b in
            await call(
                b, Qdrant_DeleteShardKeyRequest.self, "qdrant.Collections/DeleteShardKey", s.collections.deleteShardKey)
        },
        { s, b in
            await call(
                b, Qdrant_ListShardKeysRequest.self, "qdrant.Collections/ListShardKeys", s.collections.listShardKeys)
        },
        { s, b in await call(b, Qdrant_UpsertPoints.self, "qdrant.Points/Upsert", s.points.upsert) },
        { s, b in await call(b, Qdrant_DeletePoints.self, "qdrant.Points/Delete", s.points.delete) },
        { s, b in await call(b, Qdrant_GetPoints.self, "qdrant.Points/Get", s.points.get) },
        { s, b in await call(b, Qdrant_UpdatePointVectors.self, "qdrant.Points/UpdateVectors", s.points.updateVectors)
        },
        { s, b in await call(b, Qdrant_DeletePointVectors.self, "qdrant.Points/DeleteVectors", s.points.deleteVectors)
        },
        { s, b in await call(b, Qdrant_SetPayloadPoints.self, "qdrant.Points/SetPayload", s.points.setPayload) },
        { s, b in
            await call(b, Qdrant_SetPayloadPoints.self, "qdrant.Points/OverwritePayload", s.points.overwritePayload)
        },
        { s, b in await call(b, Qdrant_DeletePayloadPoints.self, "qdrant.Points/DeletePayload", s.points.deletePayload)
        },
        { s, b in await call(b, Qdrant_ClearPayloadPoints.self, "qdrant.Points/ClearPayload", s.points.clearPayload) },
        { s, b in
            await call(
                b, Qdrant_CreateFieldIndexCollection.self, "qdrant.Points/CreateFieldIndex", s.points.createFieldIndex)
        },
        { s, b in
            await call(
                b, Qdrant_DeleteFieldIndexCollection.self, "qdrant.Points/DeleteFieldIndex", s.points.deleteFieldIndex)
        },
        { s, b in
            await call(
                b, Qdrant_CreateVectorNameRequest.self, "qdrant.Points/CreateVectorName", s.points.createVectorName)
        },
        { s, b in
            await call(
                b, Qdrant_DeleteVectorNameRequest.self, "qdrant.Points/DeleteVectorName", s.points.deleteVectorName)
        },
        { s, b in await call(b, Qdrant_SearchPoints.self, "qdrant.Points/Search", s.points.search) },
        { s, b in await call(b, Qdrant_SearchBatchPoints.self, "qdrant.Points/SearchBatch", s.points.searchBatch) },
        { s, b in await call(b, Qdrant_SearchPointGroups.self, "qdrant.Points/SearchGroups", s.points.searchGroups) },
        { s, b in await call(b, Qdrant_ScrollPoints.self, "qdrant.Points/Scroll", s.points.scroll) },
        { s, b in await call(b, Qdrant_RecommendPoints.self, "qdrant.Points/Recommend", s.points.recommend) },
        { s, b in
            await call(b, Qdrant_RecommendBatchPoints.self, "qdrant.Points/RecommendBatch", s.points.recommendBatch)
        },
        { s, b in
            await call(b, Qdrant_RecommendPointGroups.self, "qdrant.Points/RecommendGroups", s.points.recommendGroups)
        },
        { s, b in await call(b, Qdrant_DiscoverPoints.self, "qdrant.Points/Discover", s.points.discover) },
        { s, b in await call(b, Qdrant_DiscoverBatchPoints.self, "qdrant.Points/DiscoverBatch", s.points.discoverBatch)
        },
        { s, b in await call(b, Qdrant_CountPoints.self, "qdrant.Points/Count", s.points.count) },
        { s, b in await call(b, Qdrant_UpdateBatchPoints.self, "qdrant.Points/UpdateBatch", s.points.updateBatch) },
        { s, b in await call(b, Qdrant_QueryPoints.self, "qdrant.Points/Query", s.points.query) },
        { s, b in await call(b, Qdrant_QueryBatchPoints.self, "qdrant.Points/QueryBatch", s.points.queryBatch) },
        { s, b in await call(b, Qdrant_QueryPointGroups.self, "qdrant.Points/QueryGroups", s.points.queryGroups) },
        { s, b in await call(b, Qdrant_FacetCounts.self, "qdrant.Points/Facet", s.points.facet) },
        { s, b in
            await call(b, Qdrant_SearchMatrixPoints.self, "qdrant.Points/SearchMatrixPairs", s.points.searchMatrixPairs)
        },
        { s, b in
            await call(
                b, Qdrant_SearchMatrixPoints.self, "qdrant.Points/SearchMatrixOffsets", s.points.searchMatrixOffsets)
        },
        { s, b in await call(b, Qdrant_CreateSnapshotRequest.self, "qdrant.Snapshots/Create", s.snapshots.create) },
        { s, b in await call(b, Qdrant_ListSnapshotsRequest.self, "qdrant.Snapshots/List", s.snapshots.list) },
        { s, b in await call(b, Qdrant_DeleteSnapshotRequest.self, "qdrant.Snapshots/Delete", s.snapshots.delete) },
        { s, b in
            await call(b, Qdrant_CreateFullSnapshotRequest.self, "qdrant.Snapshots/CreateFull", s.snapshots.createFull)
        },
        { s, b in await call(b, Qdrant_ListFullSnapshotsRequest.self, "qdrant.Snapshots/ListFull", s.snapshots.listFull)
        },
        { s, b in
            await call(b, Qdrant_DeleteFullSnapshotRequest.self, "qdrant.Snapshots/DeleteFull", s.snapshots.deleteFull)
        },
    ]
}
