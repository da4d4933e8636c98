import Foundation
import HTTPTypes
import Hummingbird
import Strata
import StrataBinary
import StrataCluster

/// The internal port (`--p2p-port`) of a cluster node: what other nodes call
/// to create and delete replicas and to ship log records
/// (docs/format/replication.md). Every request must carry the cluster secret;
/// a user's API key opens nothing here. Errors are JSON `{"error": …}`, and
/// replica positions `{"last_operation": N}`.
extension StrataHTTPServer {
    func makePeerRouter(secret: String) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: PeerSecretMiddleware(secret: secret))

        router.post("/p2p/v1/collections/{name}/create") { request, context -> Response in
            let name = try Self.peerCollectionName(context)
            let body = Array(try await request.body.collect(upTo: 16 << 20).readableBytesView)
            let input = try RequestDecoding.decode(CreateCollectionInput.self, from: body, maxDepth: 64)
            let config = try input.engineConfig(inCluster: true)
            let database = self.database
            // A new incarnation of the name starts at epoch 1: no fence of an earlier one applies.
            self.replicationFences.withLock { $0[name] = nil }
            try await self.executor.run { () throws -> Void in
                if let existing = try? database.collection(name) {
                    guard existing.config == config else {
                        throw APIError(.conflict, "collection \(name) exists here with another configuration")
                    }
                    return
                }
                _ = try database.createCollection(name, config: config)
            }
            return Self.peerJSON(["last_operation": 0])
        }

        // IDF statistics of this node's replica of a shard (ShardedQueries.swift sums them).
        router.post("/p2p/v1/collections/{name}/sparse-statistics") { request, context -> Response in
            let name = try Self.peerCollectionName(context)
            let body = Array(try await request.body.collect(upTo: 16 << 20).readableBytesView)
            let input = try RequestDecoding.decode(SparseStatisticsInput.self, from: body, maxDepth: 64)
            let database = self.database
            let statistics = try await self.executor.run {
                () throws -> (points: Int, documentFrequencies: [UInt32: Int]) in
                do {
                    return try database.collection(name).sparseStatistics(
                        input.vector, terms: input.terms, corpus: input.corpus.engine)
                } catch let error as StrataError {
                    throw APIError.from(error)
                }
            }
            return Self.peerJSON([
                "points": statistics.points,
                "document_frequencies": statistics.documentFrequencies.map { [Int($0.key), $0.value] },
            ])
        }

        router.delete("/p2p/v1/collections/{name}") { _, context -> Response in
            let name = try Self.peerCollectionName(context)
            let database = self.database
            self.replicationFences.withLock { $0[name] = nil }
            try await self.executor.run { () throws -> Void in
                guard database.collectionNames().contains(name) else { return }
                try database.deleteCollection(name)
            }
            return Self.peerJSON(["deleted": true])
        }

        router.get("/p2p/v1/collections/{name}/state") { request, context -> Response in
            let name = try Self.peerCollectionName(context)
            let collection = try self.peerCollection(name)
            // A failover fences this replica first: from now on it takes no records of an older
            // epoch. Under the replica's gate, so no run that passed the old check is still
            // being appended when the position is read.
            let fence = request.uri.queryParameters.get("fence").flatMap(UInt64.init)
            let last = try await self.replicaGate(name).withLock { () -> UInt64 in
                if let fence { self.replicationFences.withLock { $0[name] = max($0[name] ?? 0, fence) } }
                return collection.lastOperation
            }
            var reply: [String: Any] = ["last_operation": last, "points": collection.count()]
            // The last record's checksum, so that a primary can tell a prefix of its log from a fork.
            if last > 0, let record = try collection.replicationRecords(after: last - 1, maxBytes: 1)?.first,
                record.opNum == last
            {
                reply["last_crc"] = CRC32C.mask(CRC32C.checksum(record.payload))
            }
            if request.uri.queryParameters.get("checksum") == "true" {
                let checksum = try await self.executor.run { try collection.logicalChecksum() }
                reply["checksum"] = String(checksum, radix: 16)
            }
            return Self.peerJSON(reply)
        }

        router.put("/p2p/v1/collections/{name}/config") { request, context -> Response in
            let name = try Self.peerCollectionName(context)
            let query = request.uri.queryParameters
            guard let epoch = query.get("epoch").flatMap(UInt64.init), let from = query.get("from").flatMap(UInt64.init)
            else { throw APIError.badRequest("config needs ?epoch=E&from=PEER") }
            _ = try self.peerCollection(name)
            let body = Array(try await request.body.collect(upTo: 16 << 20).readableBytesView)
            let config: CollectionConfig
            do {
                config = try JSONDecoder().decode(CollectionConfig.self, from: Data(body))
            } catch {
                throw APIError.badRequest("the configuration is not readable: \(error)")
            }
            let database = self.database
            return try await self.replicaGate(name).withLock {
                try self.checkReplicationSender(collection: name, epoch: epoch, from: from)
                try await self.executor.run { () throws -> Void in
                    do {
                        try database.updateCollectionConfig(name) { $0 = config }
                    } catch let error as StrataError {
                        throw APIError.from(error)
                    }
                }
                return Self.peerJSON(["applied": true])
            }
        }

        router.post("/p2p/v1/collections/{name}/snapshot") { request, context -> Response in
            try await self.receiveReplicaSnapshot(request, name: try Self.peerCollectionName(context))
        }

        router.post("/p2p/v1/collections/{name}/replicate") { request, context -> Response in
            let name = try Self.peerCollectionName(context)
            let query = request.uri.queryParameters
            guard let epoch = query.get("epoch").flatMap(UInt64.init), let from = query.get("from").flatMap(UInt64.init)
            else { throw APIError.badRequest("replicate needs ?epoch=E&from=PEER") }
            let collection = try self.peerCollection(name)
            let body = Array(try await request.body.collect(upTo: 256 << 20).readableBytesView)
            let records: [Collection.ReplicatedRecord]
            do {
                records = try ReplicationFrames.decode(body)
            } catch {
                throw APIError.badRequest("replicated records are damaged: \(error)")
            }
            // The sender is checked and the records appended under one gate, which a
            // failover's fence also takes: a fence never lands between the two.
            return try await self.replicaGate(name).withLock {
                try self.checkReplicationSender(collection: name, epoch: epoch, from: from)
                do {
                    let last = try await collection.applyReplicated(records)
                    return Self.peerJSON(["last_operation": last])
                } catch let error as StrataError where error.code == .outOfSequence {
                    return Self.peerJSON(
                        ["last_operation": collection.lastOperation, "error": error.message], status: .conflict)
                }
            }
        }
        return router
    }

    /// Fencing: only the primary of the placement this node knows, at that
    /// placement's epoch, may ship records, and only to a replica it lists.
    func checkReplicationSender(collection: String, epoch: UInt64, from: UInt64) throws {
        guard let cluster, let placement = cluster.placement(collection) else {
            throw APIError(.preconditionFailed, "this node knows no placement for collection \(collection)")
        }
        let fence = replicationFences.withLock { $0[collection] ?? 0 }
        guard epoch == placement.epoch, epoch >= fence, from == placement.primary else {
            throw APIError(
                .preconditionFailed,
                "records from peer \(from) at epoch \(epoch) refused: the primary of \(collection) is peer \(placement.primary) at epoch \(placement.epoch)"
            )
        }
        guard placement.state(of: cluster.identity.peerID) != nil else {
            throw APIError(.preconditionFailed, "this node holds no replica of \(collection)")
        }
    }

    /// The gate of collection `name`'s replica on this node (created on first use).
    func replicaGate(_ name: String) -> AsyncGate {
        replicaGates.withLock { gates in
            if let gate = gates[name] { return gate }
            let gate = AsyncGate()
            gates[name] = gate
            return gate
        }
    }

    func peerCollection(_ name: String) throws -> Strata.Collection {
        do {
            return try database.collection(name)
        } catch {
            throw APIError(.notFound, "this node has no replica of collection \(name)")
        }
    }

    static func peerCollectionName(_ context: BasicRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), !name.isEmpty else {
            throw APIError.badRequest("missing collection name")
        }
        return name
    }

    static func peerJSON(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// `POST /p2p/v1/collections/{name}/sparse-statistics`.
struct SparseStatisticsInput: Decodable, Sendable {
    var vector: String
    var terms: [UInt32]
    var corpus: FilterInput?
}

/// Refuses every request without the cluster secret (401), compared in
/// constant time.
struct PeerSecretMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let secret: String

    /// Whether `request` carries `secret` in `x-strata-cluster-secret`
    /// (compared in constant time).
    static func carriesSecret(_ request: Request, _ secret: String) -> Bool {
        equalInConstantTime(request.headers[HTTPField.Name(PeerClient.secretHeader)!] ?? "", secret)
    }

    /// Whether `given` is `secret`, in a time that does not depend on where they differ.
    static func equalInConstantTime(_ given: String, _ secret: String) -> Bool {
        let given = Array(given.utf8)
        let expected = Array(secret.utf8)
        var difference = given.count ^ expected.count
        for index in 0..<max(given.count, expected.count) {
            let a = index < given.count ? given[index] : 0
            let b = index < expected.count ? expected[index] : 0
            difference |= Int(a ^ b)
        }
        return difference == 0
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.carriesSecret(request, secret) else {
            return StrataHTTPServer.peerJSON(["error": "the cluster secret is missing or wrong"], status: .unauthorized)
        }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return StrataHTTPServer.peerJSON(["error": error.message], status: error.status)
        } catch let error as StrataError {
            let api = APIError.from(error)
            return StrataHTTPServer.peerJSON(["error": api.message], status: api.status)
        }
    }
}
