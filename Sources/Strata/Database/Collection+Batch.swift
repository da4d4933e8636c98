import StrataPayload

/// Which points an operation of a batch applies to.
public enum PointSelector: Sendable, Equatable {
    /// The points with these ids. An id that does not exist is treated as
    /// the operation's single-operation method treats it (ignored by
    /// `delete` and the payload operations, `.notFound` for `deleteVectors`).
    case ids([PointID])
    /// The points matching the filter when the operation applies.
    case filter(Filter)
}

/// One operation of `Collection.batch` (the operations of Qdrant's
/// `points/batch`).
public enum BatchOperation: Sendable, Equatable {
    /// `upsert(_:mode:filter:)`.
    case upsert([PointStruct], mode: UpdateMode = .upsert, filter: Filter? = nil)
    /// Deletes the selected points (`delete(_:)`, `delete(filter:)`).
    case delete(PointSelector)
    /// Merges the payload's keys (into the object at payload path `key` when given).
    case setPayload(Payload, PointSelector, key: String? = nil)
    /// Replaces the whole payload of the selected points with this one.
    case overwritePayload(Payload, PointSelector)
    /// Removes the fields at these payload paths.
    case deletePayloadKeys([String], PointSelector)
    /// Removes the whole payload of the selected points.
    case clearPayload(PointSelector)
    /// `updateVectors(_:)`, or `updateVectors(_:filter:)` with a filter.
    case updateVectors([PointVectors], filter: Filter? = nil)
    /// Removes these named vectors.
    case deleteVectors([String], PointSelector)
}

/// Batches of writes, applied in order: one after another (each its own
/// write), or atomically (all or nothing, as one write).
extension Collection {
    /// Applies `operations` in order and returns one result per operation.
    ///
    /// - `atomic: false` (Qdrant's `points/batch`): each operation is its own
    ///   write, durable before the next starts; an error stops the batch and
    ///   the operations before it stay applied. Filters select the points that
    ///   match when their operation starts.
    /// - `atomic: true`: every operation is checked first and the batch is
    ///   logged as one WAL record under one op number (every result carries
    ///   it), so after a crash either all of it or none of it is there, and
    ///   readers see the collection before the batch or after it, never in
    ///   between. Each operation sees the ones before it: a filter selects the
    ///   points that match after the earlier operations applied.
    ///   `updateVectors` and `deleteVectors` of an id that neither exists nor is
    ///   upserted earlier in the batch throw `.notFound` (nothing changed); a
    ///   point an earlier filter-selected delete removes is skipped.
    ///
    /// Throws `.invalidArgument` for what the single operations refuse (wrong
    /// dimensions, unknown vector names, bad payload paths).
    @discardableResult
    public func batch(_ operations: [BatchOperation], atomic: Bool = false) async throws -> [UpdateResult] {
        guard atomic else {
            var results: [UpdateResult] = []
            for operation in operations { results.append(try await apply(operation)) }
            return results
        }
        guard !operations.isEmpty else { return [] }
        let logged = try prepareAtomic(operations)
        let result = try await log(.atomicBatch(logged))
        return Array(repeating: result, count: operations.count)
    }

    /// One operation of a non-atomic batch, through the single-operation API.
    private func apply(_ operation: BatchOperation) async throws -> UpdateResult {
        switch operation {
        case .upsert(let points, let mode, let filter): return try await upsert(points, mode: mode, filter: filter)
        case .delete(let selector): return try await delete(try ids(selector))
        case .setPayload(let payload, let selector, let key):
            return try await setPayload(payload, for: try ids(selector), key: key)
        case .overwritePayload(let payload, let selector):
            return try await overwritePayload(payload, for: try ids(selector))
        case .deletePayloadKeys(let keys, let selector):
            return try await deletePayloadKeys(keys, for: try ids(selector))
        case .clearPayload(let selector): return try await clearPayload(for: try ids(selector))
        case .updateVectors(let points, nil): return try await updateVectors(points)
        case .updateVectors(let points, let filter?): return try await updateVectors(points, filter: filter)
        case .deleteVectors(let names, let selector): return try await deleteVectors(names, for: try ids(selector))
        }
    }

    private func ids(_ selector: PointSelector) throws -> [PointID] {
        switch selector {
        case .ids(let ids): return ids
        case .filter(let filter): return try ids(matching: filter)
        }
    }

    /// The logged form of an atomic batch's operations, each checked as its
    /// single-operation method checks it. Filters are logged, not resolved:
    /// they are decided when the batch applies (`WriteOperation.matching`).
    func prepareAtomic(_ operations: [BatchOperation]) throws -> [WriteOperation] {
        var logged: [WriteOperation] = []
        // Which ids the batch itself creates or deletes by id before each
        // operation, for the existence checks of vector updates.
        var created: Set<PointID> = []
        var deleted: Set<PointID> = []
        // Ids that must exist before the batch, with the operation that needs them.
        var mustExist: [(id: PointID, operation: Int)] = []
        var index = 0
        func requireExistence(_ ids: [PointID]) throws {
            for id in ids where !created.contains(id) {
                if deleted.contains(id) {
                    throw StrataError(
                        .notFound, "No point with id \(id) found (an earlier operation of the atomic batch deletes it)")
                }
                mustExist.append((id, index))
            }
        }
        func selected(_ selector: PointSelector, _ operation: WriteOperation) throws -> WriteOperation {
            switch selector {
            case .ids(let ids): return operation.selecting(ids)
            case .filter(let filter):
                try store.read { try $0.requireKnownVectors(in: filter) }
                return .matching(filter, operation.selecting([]))
            }
        }
        for (position, operation) in operations.enumerated() {
            index = position
            do {
                switch operation {
                case .upsert(let points, let mode, let filter):
                    let validated = try validate(points)
                    if let filter { try store.read { try $0.requireKnownVectors(in: filter) } }
                    logged.append(
                        mode == .upsert && filter == nil
                            ? .upsert(validated) : .conditionalUpsert(points: validated, mode: mode, filter: filter))
                    if mode != .updateOnly {
                        for point in validated {
                            created.insert(point.id)
                            deleted.remove(point.id)
                        }
                    }
                case .delete(let selector):
                    logged.append(try selected(selector, .delete([])))
                    if case .ids(let ids) = selector {
                        for id in ids {
                            deleted.insert(id)
                            created.remove(id)
                        }
                    }
                case .setPayload(let payload, let selector, let key):
                    try validate(payload)
                    if let key {
                        logged.append(
                            try selected(
                                selector,
                                .setPayloadAtKey(ids: [], payload: payload, key: try Self.path(key).description)))
                    } else {
                        logged.append(try selected(selector, .setPayload(ids: [], payload: payload)))
                    }
                case .overwritePayload(let payload, let selector):
                    try validate(payload)
                    logged.append(try selected(selector, .overwritePayload(ids: [], payload: payload)))
                case .deletePayloadKeys(let keys, let selector):
                    for key in keys { _ = try Self.path(key) }
                    logged.append(try selected(selector, .deletePayloadKeys(ids: [], keys: keys)))
                case .clearPayload(let selector):
                    logged.append(try selected(selector, .clearPayload(ids: [])))
                case .updateVectors(let points, let filter):
                    let prepared = try prepareVectorUpdates(points)
                    try requireExistence(prepared.map(\.id))
                    if let filter {
                        try store.read { try $0.requireKnownVectors(in: filter) }
                        logged.append(.conditionalUpdateVectors(points: prepared, filter: filter))
                    } else {
                        logged.append(.updateVectors(prepared))
                    }
                case .deleteVectors(let names, let selector):
                    for vectorName in names
                    where config.vectors[vectorName] == nil && config.sparseVectors[vectorName] == nil {
                        throw StrataError.invalid(
                            "collection `\(name)` has no vector named \"\(vectorName)\"; it has \(config.vectors.keys.sorted())"
                        )
                    }
                    if case .ids(let ids) = selector { try requireExistence(ids) }
                    logged.append(try selected(selector, .deleteVectors(ids: [], names: names)))
                }
            } catch let error as StrataError {
                throw StrataError(error.code, "operation \(position) of the atomic batch: \(error.message)")
            }
        }
        let found = Set(try retrieve(mustExist.map(\.id), withPayload: false).map(\.id))
        if let missing = mustExist.first(where: { !found.contains($0.id) }) {
            throw StrataError(
                .notFound, "operation \(missing.operation) of the atomic batch: No point with id \(missing.id) found")
        }
        return logged
    }
}
