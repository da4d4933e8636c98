import StrataModel

/// What filter evaluation needs from one segment (mutable or immutable).
/// Offsets are the segment's point positions (or slots) `0..<filterPointCount`.
public protocol FilterableSegment {
    /// The number of offsets (positions or slots, live or not); every bitset
    /// the evaluation works with has this many bits.
    var filterPointCount: Int { get }
    /// The live points (not deleted, not free).
    func filterLivePoints() -> PointBitset
    /// The field index of `key`, if the segment has one.
    func filterIndex(for key: PayloadPath) -> FieldIndex?
    /// The offsets of these ids that the segment holds (live or not).
    func filterOffsets(of ids: Set<PointID>) -> [Int]
    /// Whether the point at `offset` has vector `name`.
    func filterHasVector(_ name: String, at offset: Int) -> Bool
    /// The point at `offset` (its payload decoded); throws when its payload
    /// block is corrupt.
    func filterSubject(at offset: Int) throws -> FilterSubject
}

/// Evaluates filters against one segment: indexed conditions through their
/// field index, the rest by reading payloads — only of the points still in
/// question (must conditions run indexed first, each narrowing the next).
///
/// An evaluator caches each point it reads, so one instance serves
/// evaluations over a segment that does not change meanwhile; the static
/// `matching` makes a fresh one per call.
public struct SegmentFilter<Segment: FilterableSegment> {
    /// The segment the filters are evaluated in.
    public let segment: Segment
    /// How conditions read values (full-text tokenizers per key).
    public let settings: FilterSettings
    private var subjects: [Int: FilterSubject] = [:]

    /// Creates an evaluator for one segment, with an empty cache of points.
    public init(segment: Segment, settings: FilterSettings) {
        self.segment = segment
        self.settings = settings
    }

    /// The live points that match `filter`.
    public static func matching(_ filter: Filter, in segment: Segment, settings: FilterSettings) throws -> PointBitset {
        var evaluator = SegmentFilter(segment: segment, settings: settings)
        return try evaluator.evaluate(filter, within: segment.filterLivePoints())
    }

    /// An estimate of how many live points match (index value counts only;
    /// unindexed conditions count as "all"), between 0 and the live count.
    public static func estimate(_ filter: Filter, in segment: Segment, liveCount: Int) -> Int {
        estimate(filter, segment: segment, total: liveCount)
    }

    private static func estimate(_ filter: Filter, segment: Segment, total: Int) -> Int {
        var result = total
        for condition in filter.must { result = min(result, estimate(condition, segment: segment, total: total)) }
        if !filter.should.isEmpty {
            result = min(result, filter.should.reduce(0) { $0 + estimate($1, segment: segment, total: total) })
        }
        for condition in filter.mustNot {
            // Exact only for a fully indexed count; otherwise assume it removes nothing.
            let removed = estimate(condition, segment: segment, total: total)
            if removed < total { result = max(0, min(result, total - removed)) }
        }
        return max(0, min(result, total))
    }

    private static func estimate(_ condition: Condition, segment: Segment, total: Int) -> Int {
        switch condition {
        case .field(let field):
            return min(total, segment.filterIndex(for: field.key)?.estimate(field.test) ?? total)
        case .hasID(let ids): return min(total, ids.count)
        case .filter(let filter): return estimate(filter, segment: segment, total: total)
        default: return total
        }
    }

    // MARK: - Evaluation

    /// The points in `candidates` that match `filter`.
    public mutating func evaluate(_ filter: Filter, within candidates: PointBitset) throws -> PointBitset {
        var result = candidates
        for condition in filter.must.sorted(by: { rank($0) < rank($1) }) {
            if result.isEmpty { return result }
            result = try evaluate(condition, within: result)
        }
        if !filter.should.isEmpty && !result.isEmpty {
            var matched = PointBitset(count: result.count)
            for condition in filter.should.sorted(by: { rank($0) < rank($1) }) {
                var open = result
                open.subtract(matched)
                if open.isEmpty { break }
                matched.formUnion(try evaluate(condition, within: open))
            }
            result.formIntersection(matched)
        }
        if let minShould = filter.minShould, !result.isEmpty {
            if minShould.minCount > minShould.conditions.count {
                return PointBitset(count: result.count)
            }
            if minShould.minCount > 0 {
                var counts = [UInt16](repeating: 0, count: result.count)
                for condition in minShould.conditions {
                    try evaluate(condition, within: result).forEach { counts[$0] &+= 1 }
                }
                var kept = PointBitset(count: result.count)
                result.forEach { if Int(counts[$0]) >= minShould.minCount { kept.insert($0) } }
                result = kept
            }
        }
        for condition in filter.mustNot {
            if result.isEmpty { return result }
            result.subtract(try evaluate(condition, within: result))
        }
        return result
    }

    /// Conditions an index answers run first.
    private func rank(_ condition: Condition) -> Int {
        switch condition {
        case .hasID: return 0
        case .field(let field): return segment.filterIndex(for: field.key) != nil ? 1 : 3
        case .isEmpty(let key): return segment.filterIndex(for: key) != nil ? 1 : 3
        case .hasVector: return 2
        default: return 4
        }
    }

    /// The points in `candidates` that satisfy `condition`.
    mutating func evaluate(_ condition: Condition, within candidates: PointBitset) throws -> PointBitset {
        switch condition {
        case .field(let field):
            if let index = segment.filterIndex(for: field.key), let (bits, exact) = index.evaluate(field.test) {
                var result = candidates
                result.formIntersection(bits)
                return exact ? result : try scan(result, condition)
            }
            return try scan(candidates, condition)
        case .isEmpty(let key):
            if let index = segment.filterIndex(for: key) {
                return try scan(candidates.intersection(index.emptyPoints()), condition)
            }
            return try scan(candidates, condition)
        case .hasID(let ids):
            var result = PointBitset(count: candidates.count)
            for offset in segment.filterOffsets(of: ids) where candidates.contains(offset) { result.insert(offset) }
            return result
        case .hasVector(let name):
            var result = PointBitset(count: candidates.count)
            candidates.forEach { if segment.filterHasVector(name, at: $0) { result.insert($0) } }
            return result
        case .slice(let slice):
            var result = PointBitset(count: candidates.count)
            try candidates.forEach { if slice.contains(try subject(at: $0).id) { result.insert($0) } }
            return result
        case .filter(let filter):
            return try evaluate(filter, within: candidates)
        case .isNull, .nested:
            return try scan(candidates, condition)
        }
    }

    /// Checks `condition` against the payload of every point in `candidates`.
    private mutating func scan(_ candidates: PointBitset, _ condition: Condition) throws -> PointBitset {
        var result = PointBitset(count: candidates.count)
        try candidates.forEach { offset in
            let subject = try subject(at: offset)
            if condition.matches(subject, payload: subject.payload ?? [:], prefix: nil, settings: settings) {
                result.insert(offset)
            }
        }
        return result
    }

    private mutating func subject(at offset: Int) throws -> FilterSubject {
        if let cached = subjects[offset] { return cached }
        let subject = try segment.filterSubject(at: offset)
        subjects[offset] = subject
        return subject
    }
}
