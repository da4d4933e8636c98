import StrataPayload
import StrataSegment

/// Filters, payload field indexes, and the reads built on them: count, the
/// ids a filter selects (for writes by filter), facets and ordering.
extension CollectionStore {
    /// Per segment, the live points a filter matched.
    struct FilterMatches {
        var mutable: PointBitset
        var frozen: [PointBitset]
        var immutables: [PointBitset]
    }

    /// Tokenizers of the full-text indexed fields. Caller holds `lock`.
    var filterSettingsLocked: FilterSettings {
        var tokenizers: [PayloadPath: TextTokenizer] = [:]
        for (key, schema) in payloadSchema where schema.type == .text { tokenizers[key] = schema.textTokenizer }
        return FilterSettings(tokenizers: tokenizers)
    }

    /// Caller holds `lock`. Throws `.corruption` naming the segment when a
    /// payload block the filter must read fails its checksum.
    func matchesLocked(_ filter: Filter) throws -> FilterMatches {
        try requireKnownVectors(in: filter)
        let settings = filterSettingsLocked
        let schema = payloadSchema
        return FilterMatches(
            mutable: try mutable.matching(filter, schema: schema, settings: settings),
            frozen: try frozen.map { try $0.segment.matching(filter, schema: schema, settings: settings, excluded: $0.tombstones) },
            immutables: try immutables.map { segment in
                do {
                    return try SegmentFilter.matching(filter, in: segment, settings: settings)
                } catch let error as SegmentError {
                    throw StrataError(.corruption, "collection `\(name)`: \(error.description)", cause: error)
                }
            })
    }

    /// Throws `.invalidArgument` when a `has_vector` condition names a vector
    /// the collection does not have (as searching with it would).
    func requireKnownVectors(in filter: Filter) throws {
        func check(_ conditions: [Condition]) throws {
            for condition in conditions {
                switch condition {
                case .hasVector(let vectorName):
                    guard config.vectors[vectorName] != nil || config.sparseVectors[vectorName] != nil else {
                        throw StrataError.invalid(
                            "has_vector: collection `\(name)` has no vector named \"\(vectorName)\"; it has \((Array(config.vectors.keys) + Array(config.sparseVectors.keys)).sorted())")
                    }
                case .filter(let inner), .nested(_, let inner):
                    try check(inner.must + inner.should + inner.mustNot + (inner.minShould?.conditions ?? []))
                default:
                    continue
                }
            }
        }
        try check(filter.must + filter.should + filter.mustNot + (filter.minShould?.conditions ?? []))
    }

    /// Caller holds `lock`. Every id in `matches` (unordered).
    func matchingIDsLocked(_ matches: FilterMatches) -> [PointID] {
        var ids = mutable.ids(ofSlots: matches.mutable)
        for (segment, bits) in zip(frozen, matches.frozen) { ids += segment.segment.ids(ofSlots: bits) }
        for (segment, bits) in zip(immutables, matches.immutables) {
            bits.forEach { ids.append(segment.reader.id(at: $0)) }
        }
        return ids
    }

    /// The ids of the points `filter` matches now, sorted.
    func matchingIDs(_ filter: Filter) throws -> [PointID] {
        try lock.withReadLock { try matchingIDsLocked(matchesLocked(filter)).sorted() }
    }

    /// Points matching `filter` (all points without one). `exact: false`
    /// estimates from index value counts without reading payloads (unindexed
    /// conditions count as matching everything).
    func count(filter: Filter?, exact: Bool) throws -> Int {
        try lock.withReadLock {
            guard let filter, !filter.isEmpty else {
                return mutable.pointCount + frozen.reduce(0) { $0 + $1.liveCount } + immutables.reduce(0) { $0 + $1.liveCount }
            }
            if exact {
                let matches = try matchesLocked(filter)
                return matches.mutable.cardinality + matches.frozen.reduce(0) { $0 + $1.cardinality }
                    + matches.immutables.reduce(0) { $0 + $1.cardinality }
            }
            try requireKnownVectors(in: filter)
            // Mutable and frozen segments are small and in RAM: counted exactly.
            let settings = filterSettingsLocked
            var total = try mutable.matching(filter, schema: payloadSchema, settings: settings).cardinality
            for segment in frozen {
                total += try segment.segment.matching(filter, schema: payloadSchema, settings: settings, excluded: segment.tombstones).cardinality
            }
            for segment in immutables {
                total += SegmentFilter.estimate(filter, in: segment, liveCount: segment.liveCount)
            }
            return total
        }
    }

    /// Caller holds `lock` exclusively (applying operation `.createFieldIndex`).
    func createFieldIndex(_ key: PayloadPath, schema: PayloadFieldSchema) {
        guard payloadSchema[key] != schema else { return }
        payloadSchema[key] = schema
        for segment in immutables { segment.buildFieldIndex(key, schema: schema) }
    }

    /// Caller holds `lock` exclusively. Makes a segment written while the
    /// schema changed carry exactly the current field indexes.
    func reconcileFieldIndexes(of segment: ImmutableSegment) {
        for key in segment.fieldIndexes.keys where payloadSchema[key] == nil { segment.fieldIndexes[key] = nil }
        for (key, schema) in payloadSchema where segment.fieldIndexes[key]?.schema != schema {
            segment.buildFieldIndex(key, schema: schema)
        }
    }

    /// The schema as the manifest stores it. Caller holds `lock`.
    var payloadSchemaEntriesLocked: [Manifest.FieldIndexEntry] {
        payloadSchema.keys.sorted().map { Manifest.FieldIndexEntry(key: $0.description, schema: payloadSchema[$0]!.json) }
    }

    /// The current field indexes and how many live points each covers.
    func payloadSchemaInfo() -> [(key: PayloadPath, schema: PayloadFieldSchema, points: Int)] {
        lock.withReadLock {
            payloadSchema.keys.sorted().map { key in
                let schema = payloadSchema[key]!
                let filter = Filter(mustNot: [.isEmpty(key: key)])
                let points = (try? count(filterLocked: filter)) ?? 0
                return (key, schema, points)
            }
        }
    }

    private func count(filterLocked filter: Filter) throws -> Int {
        let matches = try matchesLocked(filter)
        return matches.mutable.cardinality + matches.frozen.reduce(0) { $0 + $1.cardinality } + matches.immutables.reduce(0) { $0 + $1.cardinality }
    }

    /// Caller holds `lock`. The schema of `key`'s index when it can serve
    /// `purpose`, else `.invalidArgument` saying which index it needs.
    private func indexSchema(_ key: PayloadPath, for purpose: String, needs kinds: String,
                             _ supports: KeyPath<PayloadFieldSchema, Bool>) throws -> PayloadFieldSchema {
        guard let schema = payloadSchema[key], schema[keyPath: supports] else {
            let has = payloadSchema[key].map { "it has a \($0.type.rawValue) index" } ?? "it has none"
            throw StrataError.invalid("\(purpose) needs \(kinds) index on \"\(key)\"; \(has)")
        }
        return schema
    }

    /// Per value of the indexed field `key`, how many points matching
    /// `filter` hold it; the `limit` most frequent (ties by value).
    func facet(key: PayloadPath, filter: Filter?, limit: Int) throws -> [(value: IndexKey, count: Int)] {
        try lock.withReadLock {
            let schema = try indexSchema(key, for: "facet", needs: "a keyword, integer (lookup), uuid or bool", \.supportsFacet)
            let matches = try matchesLocked(filter ?? Filter())
            var counts: [IndexKey: Int] = [:]
            func add(_ partial: [IndexKey: Int]) { for (k, v) in partial { counts[k, default: 0] += v } }
            add(mutable.facetCounts(key: key, schema: schema, slots: matches.mutable))
            for (segment, bits) in zip(frozen, matches.frozen) { add(segment.segment.facetCounts(key: key, schema: schema, slots: bits)) }
            for (segment, bits) in zip(immutables, matches.immutables) {
                if let index = segment.fieldIndexes[key] { add(index.facetCounts(allowed: bits)) }
            }
            return counts.map { (value: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
                .prefix(max(limit, 0)).map { $0 }
        }
    }

    /// Points matching `filter` ordered by the indexed numeric or datetime
    /// field `key` (each point once, at its smallest value ascending or
    /// largest descending; equal values by id), from `startFrom` on, at most `limit`.
    func ordered(by key: PayloadPath, descending: Bool, startFrom: Double?, filter: Filter?, limit: Int,
                 withPayload: Bool, withVector: Bool) throws -> [(record: Record, value: Double)] {
        try lock.withReadLock {
            let schema = try indexSchema(key, for: "order_by", needs: "an integer (range), float or datetime", \.supportsOrdering)
            let matches = try matchesLocked(filter ?? Filter())
            var entries = mutable.ordered(key: key, schema: schema, slots: matches.mutable, descending: descending)
            for (segment, bits) in zip(frozen, matches.frozen) {
                entries += segment.segment.ordered(key: key, schema: schema, slots: bits, descending: descending)
            }
            for (segment, bits) in zip(immutables, matches.immutables) {
                guard let index = segment.fieldIndexes[key] else { continue }
                entries += index.ordered(allowed: bits, descending: descending).map { (id: segment.reader.id(at: $0.offset), value: $0.value) }
            }
            if let startFrom { entries.removeAll { descending ? $0.value > startFrom : $0.value < startFrom } }
            entries.sort { a, b in
                a.value != b.value ? (descending ? a.value > b.value : a.value < b.value) : a.id < b.id
            }
            return try entries.prefix(max(limit, 0)).compactMap { entry in
                try recordLocked(entry.id, withPayload: withPayload, withVector: withVector).map { ($0, entry.value) }
            }
        }
    }
}
