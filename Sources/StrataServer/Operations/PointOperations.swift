import Foundation
import Strata

/// Points and payload: every write goes through `perform` (strict mode, quota,
/// durable apply); every read is an `EngineRead` for the pool.
extension StrataHTTPServer {
    func upsert(
        _ input: UpsertInput, into collection: Strata.Collection, _ scope: RequestScope
    ) async throws
        -> UpdateResultOutput
    {
        let update = try PreparedUpdate(.upsert(input), multiVectors: collection.config.multiVectorNameSet)
        return try await perform(update, on: collection, scope)
    }

    func deletePoints(
        _ selection: PointSelection, from collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        try await perform(.delete(selection), on: collection, scope)
    }

    func updateVectors(
        _ input: UpdateVectorsInput, in collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        let update = try PreparedUpdate(.updateVectors(input), multiVectors: collection.config.multiVectorNameSet)
        return try await perform(update, on: collection, scope, checkVectors: true)
    }

    func deleteVectors(
        _ input: DeleteVectorsInput, in collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        try await perform(
            .deleteVectors(input.vector, try input.selection()), on: collection, scope, checkVectors: true)
    }

    func setPayload(
        _ input: SetPayloadInput, in collection: Strata.Collection, _ scope: RequestScope
    ) async throws
        -> UpdateResultOutput
    {
        try await perform(.setPayload(input.payload, try input.selection(), key: input.key), on: collection, scope)
    }

    func overwritePayload(
        _ input: SetPayloadInput, in collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        if input.key != nil {
            throw APIError.wrongInput("`key` applies to set_payload (POST), not to overwrite_payload")
        }
        return try await perform(.overwritePayload(input.payload, try input.selection()), on: collection, scope)
    }

    func deletePayload(
        _ input: DeletePayloadInput, in collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        try await perform(.deletePayload(input.keys, try input.selection()), on: collection, scope)
    }

    func clearPayload(
        _ selection: PointSelection, in collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        try await perform(.clearPayload(selection), on: collection, scope)
    }

    /// `points/batch`: every operation is checked before the first applies;
    /// they then apply in order, each durable before the next (not atomic as a
    /// whole, as in Qdrant), or with `atomic` as one write, all or nothing.
    func batchUpdate(
        _ operations: [UpdateOperationInput], in collection: Strata.Collection, _ scope: RequestScope,
        checkOnly: Bool = false, atomic: Bool = false
    )
        async throws -> [UpdateResultOutput]
    {
        let prepared = try operations.map { operation throws(APIError) in
            try PreparedUpdate(operation, multiVectors: collection.config.multiVectorNameSet)
        }
        for operation in prepared { try operation.check(against: collection.config) }
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            for operation in prepared { try operation.checkStrictMode(check) }
        }
        if checkOnly { return [] }
        if atomic {
            for operation in prepared { try enforceQuota(operation) }
            let results: [UpdateResultOutput]
            do {
                results = try await collection.batch(prepared.map(\.engine), atomic: true).map {
                    UpdateResultOutput(operation_id: $0.operationID)
                }
            } catch let error as StrataError {
                throw APIError.from(error)
            }
            metrics.recordPointsWritten(prepared.reduce(0) { $0 + $1.pointsWritten })
            return results
        }
        var results: [UpdateResultOutput] = []
        // The quota is judged before each operation, as Qdrant's shard does.
        for operation in prepared {
            try enforceQuota(operation)
            results.append(try await write { try await operation.apply(to: collection) })
            metrics.recordPointsWritten(operation.pointsWritten)
        }
        return results
    }

    func createFieldIndex(
        _ input: CreateFieldIndexInput, in collection: Strata.Collection, _ scope: RequestScope
    )
        async throws -> UpdateResultOutput
    {
        let schema = try input.schema()
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkNewPayloadIndex()
        }
        // Building an index takes memory and disk (Qdrant checks the quota before it).
        try quota.check()
        return try await write { try await collection.createFieldIndex(input.field_name, schema: schema) }
    }

    func deleteFieldIndex(_ key: String, in collection: Strata.Collection) async throws -> UpdateResultOutput {
        try await write { try await collection.deleteFieldIndex(key) }
    }

    func retrieve(
        _ input: RetrieveInput, from collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<[RecordOutput]>
    {
        try requireAbsent(input.shard_key, "shard_key")
        try enforceStrictMode(collection, timeout: scope.timeout)
        let payload = input.with_payload ?? .all
        let vectors = input.with_vector ?? input.with_vectors ?? .none
        return {
            try collection.retrieve(
                input.ids.map(\.id), withPayload: payload.wantsPayload, withVector: vectors.wantsVectors
            )
            .map {
                RecordOutput($0, payload: payload, vector: vectors, rowSizes: collection.config.multiVectorRowSizes)
            }
        }
    }

    func scroll(
        _ input: ScrollInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<ScrollResultOutput>
    {
        try requireAbsent(input.shard_key, "shard_key")
        let limit = input.limit ?? 10
        try requirePositiveLimit(limit)
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkRead(limit: input.limit, filter: input.filter.engine)
        }
        let payload = input.with_payload ?? .all
        let vectors = input.with_vector ?? input.with_vectors ?? .none
        let filter = input.filter.engine
        let rowSizes = collection.config.multiVectorRowSizes
        if let orderBy = input.order_by {
            // Ordered by a payload field: one page from start_from, no next offset (as Qdrant).
            if input.offset != nil {
                throw APIError.wrongInput("`offset` cannot be used with `order_by`; use order_by.start_from")
            }
            return {
                let records = try collection.scroll(
                    orderBy: Strata.Collection.OrderBy(
                        key: orderBy.key, descending: orderBy.descending, startFrom: orderBy.startFrom),
                    limit: limit, filter: filter, withPayload: payload.wantsPayload, withVector: vectors.wantsVectors)
                return ScrollResultOutput(
                    points: records.map {
                        RecordOutput(
                            $0.record, payload: payload, vector: vectors, rowSizes: rowSizes, orderValue: $0.orderValue)
                    }, next_page_offset: nil)
            }
        }
        return {
            let page = try collection.scroll(
                offset: input.offset?.id, limit: limit, filter: filter,
                withPayload: payload.wantsPayload, withVector: vectors.wantsVectors)
            return ScrollResultOutput(
                points: page.points.map { RecordOutput($0, payload: payload, vector: vectors, rowSizes: rowSizes) },
                next_page_offset: page.nextOffset)
        }
    }

    func count(
        _ input: CountInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<CountResultOutput>
    {
        try requireAbsent(input.shard_key, "shard_key")
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkRead(limit: nil, filter: input.filter.engine)
            try check.checkExact(input.exact ?? true)
        }
        return {
            CountResultOutput(count: try collection.count(filter: input.filter.engine, exact: input.exact ?? true))
        }
    }

    func facet(
        _ input: FacetInput, in collection: Strata.Collection, _ scope: RequestScope
    ) throws
        -> EngineRead<FacetResultOutput>
    {
        try requireAbsent(input.shard_key, "shard_key")
        let limit = input.limit ?? 10
        try requirePositiveLimit(limit)
        try enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
            try check.checkRead(limit: input.limit, filter: input.filter.engine)
            if let exact = input.exact { try check.checkExact(exact) }
        }
        return {
            FacetResultOutput(
                hits: try collection.facet(input.key, filter: input.filter.engine, limit: limit)
                    .map { FacetResultOutput.Hit(value: $0.value, count: $0.count) })
        }
    }
}
