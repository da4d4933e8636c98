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
            let update = try PreparedUpdate(.upsert(input), multiVectors: collection.config.multiVectorNameSet)
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try update.checkStrictMode(check)
            }
            try self.enforceQuota(update)
            return try Reply.ok(try await self.write { try await update.apply(to: collection) }, context: context)
        }

        router.post("/collections/{collection_name}/points") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(RetrieveInput.self, from: request, context)
            try requireAbsent(input.shard_key, "shard_key")
            try self.enforceStrictMode(collection, request)
            let payload = input.with_payload ?? .all
            let vectors = input.with_vector ?? input.with_vectors ?? .none
            return try await self.answer(context) {
                try collection.retrieve(
                    input.ids.map(\.id), withPayload: payload.wantsPayload, withVector: vectors.wantsVectors
                )
                .map {
                    RecordOutput($0, payload: payload, vector: vectors, rowSizes: collection.config.multiVectorRowSizes)
                }
            }
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
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try PreparedUpdate.delete(selection).checkStrictMode(check)
            }
            return try Reply.ok(
                try await self.write { try await collection.delete(try selection.resolve(in: collection)) },
                context: context)
        }

        router.put("/collections/{collection_name}/points/vectors") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(UpdateVectorsInput.self, from: request, context)
            let update = try PreparedUpdate(.updateVectors(input), multiVectors: collection.config.multiVectorNameSet)
            try update.check(against: collection.config)
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try update.checkStrictMode(check)
            }
            try self.enforceQuota(update)
            return try Reply.ok(try await self.write { try await update.apply(to: collection) }, context: context)
        }

        router.post("/collections/{collection_name}/points/vectors/delete") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(DeleteVectorsInput.self, from: request, context)
            let delete = PreparedUpdate.deleteVectors(input.vector, try input.selection())
            try delete.check(against: collection.config)
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try delete.checkStrictMode(check)
            }
            try self.enforceQuota(delete)
            return try Reply.ok(try await self.write { try await delete.apply(to: collection) }, context: context)
        }

        router.post("/collections/{collection_name}/points/batch") { request, context in
            let collection = try self.collection(context, .write)
            let input = try await self.decode(BatchUpdateInput.self, from: request, context)
            // Check every operation before applying the first; they then apply in
            // order, each durable before the next (not atomic as a whole, as in Qdrant).
            let operations = try input.operations.map { operation throws(APIError) in
                try PreparedUpdate(operation, multiVectors: collection.config.multiVectorNameSet)
            }
            for operation in operations { try operation.check(against: collection.config) }
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                for operation in operations { try operation.checkStrictMode(check) }
            }
            var results: [UpdateResultOutput] = []
            // The quota is judged before each operation, as Qdrant's shard does.
            for operation in operations {
                try self.enforceQuota(operation)
                results.append(try await self.write { try await operation.apply(to: collection) })
            }
            return try Reply.ok(results, context: context)
        }

        router.post("/collections/{collection_name}/points/scroll") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(ScrollInput.self, from: request, context)
            try requireAbsent(input.shard_key, "shard_key")
            let limit = input.limit ?? 10
            try requirePositiveLimit(limit)
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try check.checkRead(limit: input.limit, filter: input.filter.engine)
            }
            let payload = input.with_payload ?? .all
            let vectors = input.with_vector ?? input.with_vectors ?? .none
            let filter = input.filter.engine
            if let orderBy = input.order_by {
                // Ordered by a payload field: one page from start_from, no next offset (as Qdrant).
                if input.offset != nil {
                    throw APIError.wrongInput("`offset` cannot be used with `order_by`; use order_by.start_from")
                }
                return try await self.answer(context) {
                    let records = try collection.scroll(
                        orderBy: Strata.Collection.OrderBy(
                            key: orderBy.key, descending: orderBy.descending, startFrom: orderBy.startFrom),
                        limit: limit, filter: filter, withPayload: payload.wantsPayload,
                        withVector: vectors.wantsVectors)
                    return ScrollResultOutput(
                        points: records.map {
                            RecordOutput(
                                $0.record, payload: payload, vector: vectors,
                                rowSizes: collection.config.multiVectorRowSizes, orderValue: $0.orderValue)
                        }, next_page_offset: nil)
                }
            }
            return try await self.answer(context) {
                let page = try collection.scroll(
                    offset: input.offset?.id, limit: limit, filter: filter,
                    withPayload: payload.wantsPayload, withVector: vectors.wantsVectors)
                return ScrollResultOutput(
                    points: page.points.map {
                        RecordOutput(
                            $0, payload: payload, vector: vectors, rowSizes: collection.config.multiVectorRowSizes)
                    },
                    next_page_offset: page.nextOffset)
            }
        }

        router.post("/collections/{collection_name}/points/count") { request, context in
            let collection = try self.collection(context, .read)
            let input = try await self.decode(CountInput.self, from: request, context)
            try requireAbsent(input.shard_key, "shard_key")
            try self.enforceStrictMode(collection, request) { check throws(APIError) in
                try check.checkRead(limit: nil, filter: input.filter.engine)
                try check.checkExact(input.exact ?? true)
            }
            return try await self.answer(context) {
                CountResultOutput(count: try collection.count(filter: input.filter.engine, exact: input.exact ?? true))
            }
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

    func apply(to collection: Strata.Collection) async throws -> UpdateResult {
        switch self {
        case .upsert(let points, let mode, let filter): try await collection.upsert(points, mode: mode, filter: filter)
        case .delete(let selection): try await collection.delete(try selection.resolve(in: collection))
        case .setPayload(let payload, let selection, let key):
            try await collection.setPayload(payload, for: try selection.resolve(in: collection), key: key)
        case .overwritePayload(let payload, let selection):
            try await collection.overwritePayload(payload, for: try selection.resolve(in: collection))
        case .deletePayload(let keys, let selection):
            try await collection.deletePayloadKeys(keys, for: try selection.resolve(in: collection))
        case .clearPayload(let selection): try await collection.clearPayload(for: try selection.resolve(in: collection))
        case .updateVectors(let points, nil): try await collection.updateVectors(points)
        case .updateVectors(let points, let filter?): try await collection.updateVectors(points, filter: filter)
        case .deleteVectors(let names, let selection):
            try await collection.deleteVectors(names, for: try selection.resolve(in: collection))
        }
    }
}
