import Foundation
import Hummingbird
import Strata

/// Qdrant's strict mode checks (`strict_mode_config` of a collection, enforced
/// while `enabled` is true): request limits, filter limits, unindexed filters,
/// search parameters, batch sizes, collection size. The checks, their order,
/// HTTP status (400) and error texts are Qdrant's
/// (lib/collection/src/operations/verification). A refused request changes nothing.
struct StrictModeCheck {
    let config: StrictModeConfig
    let collection: Strata.Collection
    /// What the checked request costs the rate limits, added up by the checks.
    let cost = RateCost()

    final class RateCost {
        var read = 0
        var write = 0
    }

    /// nil when the collection has no strict mode or it is disabled.
    init?(_ collection: Strata.Collection) {
        guard let config = collection.config.strictMode, config.isEnabled else { return nil }
        self.config = config
        self.collection = collection
    }

    /// Qdrant's `CollectionError::strict_mode`, shown as a bad request.
    static func refusal(_ error: String, help: String) -> APIError { .badRequest("\(error). Help: \(help)") }

    /// Qdrant's `check_limit_opt`.
    static func limit<T: Comparable>(_ value: T?, _ limit: T?, _ name: String) throws(APIError) {
        guard let value, let limit, value > limit else { return }
        throw refusal(
            "Limit exceeded \(number(value)) > \(number(limit)) for \"\(name)\"",
            help: "Reduce the \"\(name)\" parameter to or below \(number(limit)).")
    }

    /// Numbers as Rust prints them (a whole f64 without ".0").
    static func number<T>(_ value: T) -> String {
        if let double = value as? Double, double.rounded() == double, abs(double) < 1e15 { return String(Int(double)) }
        return "\(value)"
    }

    // MARK: - Reads

    /// `timeout` (the request's query parameter, seconds) against `max_timeout`.
    func checkTimeout(_ timeout: Int?) throws(APIError) {
        try Self.limit(timeout, config.maxTimeout, "timeout")
    }

    /// A batch of `count` searches against `search_max_batchsize`.
    func checkBatch(_ count: Int) throws(APIError) {
        try Self.limit(count, config.searchMaxBatchsize, "search batch size")
    }

    /// A universal query (or a legacy search, recommend or discover mapped
    /// onto it): each prefetch, then the limit (`limit × group_size` for
    /// groups), the filter, the search parameters.
    /// `universal`: a `points/query` request, whose vector stages are also
    /// checked for full scans (Qdrant checks the legacy recommend and
    /// discover requests, which Strata maps onto queries, without that).
    func checkQuery(_ request: QueryRequest, universal: Bool = true) throws(APIError) {
        try checkStage(request.stage, isRoot: true, universal: universal)
    }

    private func checkStage(_ stage: QueryStage, isRoot: Bool, universal: Bool) throws(APIError) {
        for prefetch in stage.prefetch { try checkStage(prefetch, isRoot: false, universal: universal) }
        // The root stage rescoring prefetches does not scan.
        if universal, !isRoot || stage.prefetch.isEmpty { try checkFullScan(stage) }
        try checkSearch(limit: stage.limit, filter: stage.filter, params: stage.params)
    }

    /// Qdrant's `check_fullscan`: with `search_allow_exact` false, a vector
    /// query on a dense vector without an HNSW graph (`m` = 0) is refused
    /// unless a tenant filter narrows it; Strata has no `payload_m` graphs,
    /// so a tenant filter does not help either.
    private func checkFullScan(_ stage: QueryStage) throws(APIError) {
        guard config.searchAllowExact == false else { return }
        switch stage.query {
        case .nearest?, .recommend?, .discover?, .context?: break
        default: return
        }
        let collectionConfig = collection.config
        guard collectionConfig.sparseVectors[stage.using] == nil, collectionConfig.hnsw(for: stage.using).m == 0 else {
            return
        }
        let label = stage.using.isEmpty ? "" : " on '\(stage.using)'"
        let tenants = Set(collection.payloadSchema.filter { $0.schema.isTenant }.map(\.key))
        let usesTenant = stage.filter?.allConditions.contains { $0.targetedKey.map(tenants.contains) ?? false } ?? false
        guard usesTenant else {
            throw Self.refusal(
                "Request is forbidden\(label) because global vector indexing is disabled (hnsw_config.m = 0)",
                help:
                    "Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option"
            )
        }
        throw Self.refusal(
            "Request is forbidden\(label) because vector indexing is disabled (hnsw_config.m = 0 and hnsw_config.payload_m = 0)",
            help:
                "Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode `search_allow_exact` option"
        )
    }

    /// A groups request: `group_by`, then `limit × group_size` as the limit,
    /// the filter and the parameters (Qdrant does not check the prefetches
    /// of a groups request).
    func checkGroups(_ request: QueryRequest, _ grouping: GroupingInput, universal: Bool = true) throws(APIError) {
        let (groupBy, groupSize, groups) = try grouping.checked()
        if universal, request.stage.prefetch.isEmpty { try checkFullScan(request.stage) }
        try checkGroupBy(groupBy)
        try checkSearch(limit: groups * groupSize, filter: request.stage.filter, params: request.stage.params)
    }

    /// One search: its limit, filter and parameters.
    func checkSearch(limit: Int, filter: Filter?, params: SearchParams) throws(APIError) {
        cost.read += 1 + (filter?.totalConditionsCount ?? 0)
        try Self.limit(limit, config.maxQueryLimit, "limit")
        try checkFilter(filter, allowUnindexed: config.unindexedFilteringRetrieve)
        try checkParams(params)
    }

    /// A legacy `points/search` request.
    func checkSearch(_ input: SearchRequestInput) throws(APIError) {
        try checkSearch(
            limit: input.limit, filter: input.filter.engine, params: try input.params?.engineParams() ?? SearchParams())
    }

    /// Qdrant's `SearchParams` checks: oversampling, hnsw_ef, exact.
    func checkParams(_ params: SearchParams) throws(APIError) {
        try Self.limit(params.quantization?.oversampling, config.searchMaxOversampling, "oversampling")
        try Self.limit(params.hnswEf, config.searchMaxHnswEf, "hnsw_ef")
        try checkExact(params.exact)
    }

    /// Qdrant's `check_bool_opt` for `exact` against `search_allow_exact`.
    func checkExact(_ exact: Bool) throws(APIError) {
        guard config.searchAllowExact == false, exact else { return }
        throw Self.refusal("Exact search disabled!", help: "Set exact=false.")
    }

    /// A read with a plain limit and filter (scroll, facet, count).
    func checkRead(limit: Int?, filter: Filter?) throws(APIError) {
        cost.read += 1 + (filter?.totalConditionsCount ?? 0)
        try Self.limit(limit, config.maxQueryLimit, "limit")
        try checkFilter(filter, allowUnindexed: config.unindexedFilteringRetrieve)
    }

    /// `group_by` of a groups request: with `unindexed_filtering_retrieve`
    /// false it needs an index that answers `match`.
    func checkGroupBy(_ key: String) throws(APIError) {
        guard config.unindexedFilteringRetrieve == false else { return }
        guard let schema = collection.payloadSchema.first(where: { $0.key == key })?.schema else {
            throw Self.refusal(
                "Index required but not found for \"\(key)\"", help: "Create an index supporting `match` for this key.")
        }
        let supportsMatch: Bool
        switch schema.type {
        case .keyword, .uuid, .bool: supportsMatch = true
        case .integer: supportsMatch = schema.lookup
        case .float, .geo, .text, .datetime: supportsMatch = false
        }
        guard supportsMatch else {
            // Qdrant prints the type's Rust name (`{kind:?}`): Float, Text, …
            let kind = schema.type.rawValue.prefix(1).uppercased() + schema.type.rawValue.dropFirst()
            throw Self.refusal(
                "Index of type \"\(kind)\" found for \"\(key)\"",
                help: "Create an index supporting `match` for this key.")
        }
    }

    // MARK: - Writes

    /// The filter of a filtered update (delete, set/delete/clear payload, delete vectors).
    func checkWriteFilter(_ filter: Filter?) throws(APIError) {
        try checkFilter(filter, allowUnindexed: config.unindexedFilteringUpdate)
    }

    /// Upserted or updated points: batch size, points count, multivector rows,
    /// sparse vector lengths. `name` is Qdrant's: "upsert limit" or "update limit".
    func checkPoints(
        count: Int, vectors: [[String: [Float]]], sparse: [[String: SparseVector]], name: String
    ) throws(APIError) {
        try Self.limit(count, config.upsertMaxBatchsize, name)
        try checkCollectionSize()
        let rows = collection.config.vectors
        for (name, limit) in config.multivectorConfig ?? [:] {
            guard let max = limit.maxVectors, let size = rows[name]?.size, rows[name]?.isMultiVector == true else {
                continue
            }
            for point in vectors {
                if let values = point[name], values.count / size > max {
                    throw APIError.badRequest(
                        "Multivector '\(name)' has a limit of \(max) vectors, but \(values.count / size) were provided!"
                    )
                }
            }
        }
        for (name, limit) in config.sparseConfig ?? [:] {
            guard let max = limit.maxLength else { continue }
            for point in sparse {
                if let vector = point[name], vector.indices.count > max || vector.values.count > max {
                    throw APIError.badRequest(
                        "Sparse vector '\(name)' has a limit of \(max) indices, but \(vector.indices.count) were provided!"
                    )
                }
            }
        }
    }

    /// Qdrant's `check_collection_size_limit`, before an upsert or a vector
    /// update: the collection's (estimated) vector bytes, payload bytes and
    /// points against their limits; reaching a limit refuses the write.
    func checkCollectionSize() throws(APIError) {
        try checkSizes(vectors: true)
        if let maxPoints = config.maxPointsCount, collection.count() >= maxPoints {
            throw APIError.badRequest("Max points count limit of \(maxPoints) reached!")
        }
    }

    /// `max_collection_payload_size_bytes` alone (a set or overwrite of payloads).
    func checkPayloadSize() throws(APIError) { try checkSizes(vectors: false) }

    private func checkSizes(vectors checkVectors: Bool) throws(APIError) {
        if (checkVectors && config.maxCollectionVectorSizeBytes != nil) || config.maxCollectionPayloadSizeBytes != nil {
            let sizes = collection.estimatedDataBytes
            if checkVectors, let limit = config.maxCollectionVectorSizeBytes, sizes.vectors >= limit {
                throw APIError.badRequest("Max vector storage size limit of \(Self.megabytes(limit))MB reached!")
            }
            if let limit = config.maxCollectionPayloadSizeBytes, sizes.payloads >= limit {
                throw APIError.badRequest("Max payload storage size limit of \(Self.megabytes(limit))MB reached!")
            }
        }
    }

    /// `bytes` in MiB as Rust prints an f32 (shortest round trip, never an exponent).
    static func megabytes(_ bytes: Int) -> String {
        let value = Float(bytes) / (1024 * 1024)
        if value.rounded() == value && value < 1e9 { return String(Int(value)) }
        let text = "\(value)"
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]) else { return text }
        // Swift writes small values as d.ddde-N; Rust spells out the same digits.
        let digits = text[..<e].replacingOccurrences(of: ".", with: "")
        guard exponent < 0 else { return digits + String(repeating: "0", count: max(0, exponent - digits.count + 1)) }
        return "0." + String(repeating: "0", count: -exponent - 1) + digits
    }

    /// Qdrant's `check_resident_memory` before a write that takes memory
    /// (upsert, vector update, set payload): the process's resident memory as
    /// a percentage of the machine's (or the memory cgroup's smaller limit),
    /// measured as the node quota measures it (`NodeResource`), against
    /// `max_resident_memory_percent`. Unreadable statistics let the write
    /// through, as in Qdrant.
    func checkResidentMemory(used measured: Int?? = nil) throws(APIError) {
        guard let limit = config.maxResidentMemoryPercent,
            let used = measured ?? ResidentMemory.percentUsed(), used >= limit
        else { return }
        let resource = NodeResource.residentMemory
        throw Self.refusal(
            resource.condition(used: used, limit: limit, threshold: limit),
            help:
                "\(resource.remedy), or raise `\(resource.parameter)` in the strict mode config of this collection.")
    }

    /// A new payload index against `max_payload_index_count`.
    func checkNewPayloadIndex() throws(APIError) {
        guard let max = config.maxPayloadIndexCount, collection.payloadSchema.count >= max else { return }
        throw Self.refusal(
            "Collection already has the maximum number of payload indices (\(max))",
            help: "Please delete an existing index before creating a new one.")
    }

    // MARK: - Filters

    /// Qdrant's `check_request_filter`: unindexed keys (when not allowed),
    /// then `filter_max_conditions` and `condition_max_size`.
    private func checkFilter(_ filter: Filter?, allowUnindexed: Bool?) throws(APIError) {
        guard let filter else { return }
        if allowUnindexed == false {
            let indexed = Dictionary(collection.payloadSchema.map { ($0.key, $0.schema) }) { first, _ in first }
            if let (key, kinds) = UnindexedFilterKeys(indexed: indexed).first(in: filter) {
                let names = Set(kinds.map(\.schemaName)).sorted().joined(separator: ", ")
                throw Self.refusal(
                    "Index required but not found for \"\(key)\" of one of the following types: [\(names)]",
                    help: "Create an index for this key or use a different filter.")
            }
        }
        if let max = config.filterMaxConditions {
            let count = filter.totalConditionsCount
            if count > max {
                throw Self.refusal(
                    "Filter condition limit reached (\(count) > \(max))",
                    help: "Reduce the amount of conditions of your filter.")
            }
        }
        if let max = config.conditionMaxSize {
            let size = filter.maxConditionInputSize
            if size > max {
                throw Self.refusal(
                    "Condition size limit reached (\(size) > \(max))", help: "Reduce the size of your condition.")
            }
        }
    }
}

extension Condition {
    /// The payload key the condition tests (Qdrant's `targeted_key`).
    var targetedKey: String? {
        switch self {
        case .field(let field): field.key.description
        case .isEmpty(let key), .isNull(let key): key.description
        case .nested(let key, _): key.description + "[]"
        case .filter(let inner): inner.allConditions.lazy.compactMap(\.targetedKey).first
        case .hasID, .hasVector, .slice: nil
        }
    }
}

extension Filter {
    /// Every condition: must, must_not, should, min_should (Qdrant's `iter_conditions`).
    var allConditions: [Condition] { must + mustNot + should + (minShould?.conditions ?? []) }

    /// Qdrant's `total_conditions_count`: leaves, counting inside nested filters.
    var totalConditionsCount: Int {
        allConditions.reduce(0) { total, condition in
            switch condition {
            case .filter(let inner), .nested(_, let inner): total + inner.totalConditionsCount
            default: total + 1
            }
        }
    }

    /// Qdrant's `max_condition_input_size`: the most values one condition lists
    /// (`match.any`, `match.except`, `has_id`).
    var maxConditionInputSize: Int {
        allConditions.map { condition in
            switch condition {
            case .field(let field):
                switch field.test {
                case .match(.any(let values)), .match(.except(let values)): values.count
                default: 0
                }
            case .hasID(let ids): ids.count
            case .filter(let inner), .nested(_, let inner): inner.maxConditionInputSize
            default: 0
            }
        }.max() ?? 0
    }
}

extension StrataHTTPServer {
    /// Runs the strict mode checks of `collection` (when enabled) in Qdrant's
    /// order: the batch size, `body`'s checks of the request(s), then the
    /// request's `timeout`.
    func enforceStrictMode(
        _ collection: Strata.Collection, timeout: Int?, batch: Int? = nil,
        _ body: (StrictModeCheck) throws(APIError) -> Void = { _ in }
    ) throws(APIError) {
        guard let check = StrictModeCheck(collection) else { return }
        if let batch { try check.checkBatch(batch) }
        try body(check)
        try check.checkTimeout(timeout)
        // Rate limits last, as Qdrant's shards take tokens after the request checks.
        if let perMinute = check.config.readRateLimit, check.cost.read > 0 {
            try rateLimits.consume(check.cost.read, .read, perMinute: perMinute, collection: collection)
        }
        if let perMinute = check.config.writeRateLimit, check.cost.write > 0 {
            try rateLimits.consume(check.cost.write, .write, perMinute: perMinute, collection: collection)
        }
    }
}

extension PreparedUpdate {
    /// Qdrant's strict mode checks of one update operation.
    func checkStrictMode(_ check: StrictModeCheck) throws(APIError) {
        switch self {
        case .upsert(let points, _, let filter):
            check.cost.write += max(points.count, 1)
            try check.checkResidentMemory()
            try check.checkPoints(
                count: points.count, vectors: points.map(\.vectors), sparse: points.map(\.sparseVectors),
                name: "upsert limit")
            if let filter { try check.checkWriteFilter(filter) }
        case .updateVectors(let points, let filter):
            check.cost.write += max(points.count, 1)
            try check.checkResidentMemory()
            try check.checkPoints(
                count: points.count, vectors: points.map(\.vectors), sparse: points.map(\.sparseVectors),
                name: "update limit")
            if let filter { try check.checkWriteFilter(filter) }
        case .delete(let selection), .setPayload(_, let selection, _), .overwritePayload(_, let selection),
            .deletePayload(_, let selection), .clearPayload(let selection), .deleteVectors(_, let selection):
            switch self {
            case .setPayload, .overwritePayload:
                // Qdrant's SetPayload (set and overwrite): memory, then the payload size.
                try check.checkResidentMemory()
                try check.checkPayloadSize()
            default: break
            }
            if case .filter(let filter) = selection { try check.checkWriteFilter(filter) }
            // The points it affects: the ids given, or those the filter matches now.
            switch selection {
            case .ids(let ids): check.cost.write += max(ids.count, 1)
            case .filter(let filter): check.cost.write += max((try? check.collection.count(filter: filter)) ?? 1, 1)
            }
        }
    }
}
