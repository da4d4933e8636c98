import Foundation
import Hummingbird
import Strata

/// Points: upsert, retrieve (POST and GET by id), delete, batch, scroll, count.
///
/// Writes always wait for durability (`wait=false` is accepted and treated as
/// `wait=true`), so `status` is always "completed".
extension StrataHTTPServer {
    func addPointRoutes(to router: Router<StrataRequestContext>) {
        router.put("/collections/{collection_name}/points") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(UpsertInput.self, from: request, context)
            return try Reply.ok(
                try await self.upsert(input, into: collection, context.scope(request)), context: context)
        }

        router.post("/collections/{collection_name}/points") { request, context in
            let current = try self.collection(context, .read)
            let input = try await self.decode(RetrieveInput.self, from: request, context)
            let collection = try self.versioned(current, input.as_of)
            return try await self.answer(context, try self.retrieve(input, from: collection, context.scope(request)))
        }

        router.get("/collections/{collection_name}/points/{id}") { _, context in
            let collection = try self.collection(context, .read)
            let text = context.parameters.get("id") ?? ""
            guard let id = PointIDInput.parse(text) else {
                throw APIError.wrongInput("point id \"\(text)\" is neither an unsigned integer nor a UUID")
            }
            return try await self.answer(context) { () throws -> RecordOutput in
                guard let record = try collection.retrieve([id], withPayload: true, withVector: true).first else {
                    throw APIError.notFound("No point with id \(id) found")
                }
                return RecordOutput(
                    record, payload: .all, vector: .all, rowSizes: collection.config.multiVectorRowSizes)
            }
        }

        router.post("/collections/{collection_name}/points/delete") { request, context in
            let collection = try self.collection(context, .write)
            let selection = try await self.decode(PointsSelectorInput.self, from: request, context).selection()
            return try Reply.ok(
                try await self.deletePoints(selection, from: collection, context.scope(request)), context: context)
        }

        router.put("/collections/{collection_name}/points/vectors") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(UpdateVectorsInput.self, from: request, context)
            return try Reply.ok(
                try await self.updateVectors(input, in: collection, context.scope(request)), context: context)
        }

        router.post("/collections/{collection_name}/points/vectors/delete") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(DeleteVectorsInput.self, from: request, context)
            return try Reply.ok(
                try await self.deleteVectors(input, in: collection, context.scope(request)), context: context)
        }

        router.post("/collections/{collection_name}/points/batch") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(BatchUpdateInput.self, from: request, context)
            // `check_only=true`: every check, nothing applied (a cluster node checks each
            // shard's part of a write before any shard applies its own).
            let checkOnly = request.uri.queryParameters.get("check_only") == "true"
            if input.atomic == true, self.cluster != nil {
                throw APIError.notSupportedYet("an atomic batch on a cluster node (op numbers are per shard there)")
            }
            return try Reply.ok(
                try await self.batchUpdate(
                    input.operations, in: collection, context.scope(request), checkOnly: checkOnly,
                    atomic: input.atomic ?? false),
                context: context)
        }

        router.post("/collections/{collection_name}/points/scroll") { request, context in
            let current = try self.collection(context, .read)
            let input = try await self.decode(ScrollInput.self, from: request, context)
            let collection = try self.versioned(current, input.as_of)
            return try await self.answer(context, try self.scroll(input, in: collection, context.scope(request)))
        }

        router.post("/collections/{collection_name}/points/count") { request, context in
            let current = try self.collection(context, .read)
            let input = try await self.decode(CountInput.self, from: request, context)
            let collection = try self.versioned(current, input.as_of)
            return try await self.answer(context, try self.count(input, in: collection, context.scope(request)))
        }
    }
}

/// One checked operation of `points/batch`, ready to apply.
enum PreparedUpdate: Sendable {
    /// With Qdrant's `update_mode` and `update_filter`.
    case upsert([PointStruct], mode: UpdateMode, filter: Filter?)
    case delete(PointSelection)
    case setPayload(Payload, PointSelection, key: String?)
    case overwritePayload(Payload, PointSelection)
    case deletePayload([String], PointSelection)
    case clearPayload(PointSelection)
    /// With Qdrant's `update_filter`.
    case updateVectors([PointVectors], filter: Filter?)
    case deleteVectors([String], PointSelection)

    /// `multiVectors`: the collection's multivector names.
    init(_ input: UpdateOperationInput, multiVectors: Set<String>) throws(APIError) {
        switch input {
        case .upsert(let upsert):
            let (mode, filter) = try upsert.condition()
            self = .upsert(try upsert.engineBatch(multiVectors: multiVectors), mode: mode, filter: filter)
        case .delete(let selector): self = .delete(try selector.selection())
        case .setPayload(let set): self = .setPayload(set.payload, try set.selection(), key: set.key)
        case .overwritePayload(let set): self = .overwritePayload(set.payload, try set.selection())
        case .deletePayload(let delete): self = .deletePayload(delete.keys, try delete.selection())
        case .clearPayload(let selector): self = .clearPayload(try selector.selection())
        case .updateVectors(let update):
            self = .updateVectors(try update.engine(multiVectors: multiVectors), filter: update.update_filter.engine)
        case .deleteVectors(let delete): self = .deleteVectors(delete.vector, try delete.selection())
        }
    }

    /// Catches what the engine would refuse (unknown vector names, wrong
    /// dimensions, zero vectors under Cosine) before any operation of a batch
    /// is applied. Values are checked for finiteness while decoding.
    func check(against config: CollectionConfig) throws(APIError) {
        let points: [PointStruct]
        switch self {
        case .upsert(let upserted, _, _): points = upserted
        case .updateVectors(let updates, _):
            points = updates.map { PointStruct(id: $0.id, vectors: $0.vectors, sparseVectors: $0.sparseVectors) }
        case .deleteVectors(let names, _):
            if let unknown = names.first(where: { config.vectors[$0] == nil && config.sparseVectors[$0] == nil }) {
                throw APIError.wrongInput("Not existing vector name error: \(unknown.isEmpty ? "(unnamed)" : unknown)")
            }
            return
        default: return
        }
        for point in points {
            for (name, vector) in point.sparseVectors {
                guard config.sparseVectors[name] != nil else {
                    throw APIError.wrongInput(
                        "point \(point.id): Not existing vector name error: \(name) is not a sparse vector of this collection"
                    )
                }
                if case .failure(let error) = vector.validated() {
                    throw APIError.wrongInput("point \(point.id): sparse vector \"\(name)\": \(error)")
                }
            }
            for (name, vector) in point.vectors {
                let label = name.isEmpty ? "vector" : "vector \"\(name)\""
                guard let params = config.vectors[name] else {
                    throw APIError.wrongInput(
                        "point \(point.id): Not existing vector name error: \(name.isEmpty ? "(unnamed)" : name)")
                }
                if params.isMultiVector {
                    // Rows back to back; the engine checks each row (zeros, finite values).
                    guard !vector.isEmpty, vector.count % params.size == 0 else {
                        throw APIError.wrongInput(
                            "point \(point.id): \(label) is a multivector: expected rows of \(params.size) numbers, got \(vector.count) numbers"
                        )
                    }
                    continue
                }
                guard vector.count == params.size else {
                    throw APIError.wrongInput(
                        "point \(point.id): wrong \(label) dimension: expected \(params.size), got \(vector.count)")
                }
                if params.distance == .cosine, vector.allSatisfy({ $0 == 0 }) {
                    throw APIError.wrongInput(
                        "point \(point.id): \(label) is all zeros and cannot be normalised for Cosine distance")
                }
            }
        }
    }

    /// The engine's form of this operation.
    var engine: BatchOperation {
        switch self {
        case .upsert(let points, let mode, let filter): return .upsert(points, mode: mode, filter: filter)
        case .delete(let selection): return .delete(selection)
        case .setPayload(let payload, let selection, let key): return .setPayload(payload, selection, key: key)
        case .overwritePayload(let payload, let selection): return .overwritePayload(payload, selection)
        case .deletePayload(let keys, let selection): return .deletePayloadKeys(keys, selection)
        case .clearPayload(let selection): return .clearPayload(selection)
        case .updateVectors(let points, let filter): return .updateVectors(points, filter: filter)
        case .deleteVectors(let names, let selection): return .deleteVectors(names, selection)
        }
    }

    /// The points this operation writes, for `points_written_total`: those
    /// of an upsert or a vector update (a conditional one counts every point
    /// it names); payload and delete operations write none.
    var pointsWritten: Int {
        switch self {
        case .upsert(let points, _, _): points.count
        case .updateVectors(let points, _): points.count
        default: 0
        }
    }

    func apply(to collection: Strata.Collection) async throws -> UpdateResult {
        try await collection.batch([engine])[0]
    }
}
