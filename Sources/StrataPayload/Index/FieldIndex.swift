import StrataModel

/// A key in a field index's dictionary.
///
/// Keys sort as the index format stores them: bools before integers before
/// strings; `false` before `true`, integers numerically, strings by their
/// UTF-8 bytes.
public enum IndexKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A keyword, a UUID as written, or a full-text token.
    case string(String)
    /// An integer of an integer index with `lookup`.
    case integer(Int64)
    /// A boolean of a bool index.
    case bool(Bool)

    /// The key as plain text (a string unquoted).
    public var description: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .bool(let b): return String(b)
        }
    }

    /// The key as the JSON value it was indexed from (for facet results).
    public var json: JSONValue {
        switch self {
        case .string(let s): return .string(s)
        case .integer(let i): return .int(i)
        case .bool(let b): return .bool(b)
        }
    }

    var rank: Int {
        switch self {
        case .bool: return 0
        case .integer: return 1
        case .string: return 2
        }
    }

    /// The dictionary order: bools, then integers, then strings by UTF-8 bytes.
    public static func < (a: IndexKey, b: IndexKey) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        case (.integer(let x), .integer(let y)): return x < y
        case (.bool(let x), .bool(let y)): return !x && y
        default: return a.rank < b.rank
        }
    }
}

/// The index of one payload field in one segment (docs/format/payload-index.md):
/// a dictionary of exact keys with posting lists (keyword, uuid, integer
/// lookup, bool, full-text tokens), the numeric or datetime values sorted for
/// ranges and ordering, the geo points, and the number of values per point.
///
/// It answers a condition only when its answer equals the reference
/// evaluation on the payload (`Filter.matches`); otherwise the caller falls
/// back to reading payloads. Immutable; thread-safe.
public final class FieldIndex: Sendable {
    /// The payload path the index covers.
    public let key: PayloadPath
    /// The field schema the index was built for; it decides which values are
    /// indexed and which conditions the index answers.
    public let schema: PayloadFieldSchema
    /// The number of offsets covered, `0..<pointCount` (the segment's points
    /// or slots, live or not); every bitset the index returns has this size.
    public let pointCount: Int
    /// Non-null values at the key, per point (saturating).
    let valueCounts: [UInt32]
    /// Exact key → ascending offsets (each point once per key).
    let postings: [IndexKey: [UInt32]]
    /// Numeric values (integer/float indexes: every int and float value) or
    /// datetimes (microseconds), ascending, one entry per (point, distinct value).
    let sortedValues: [Double]
    let sortedOffsets: [UInt32]
    /// Geo points, by offset.
    let geoPoints: [GeoEntry]
    /// The schema's text analysis (stopword set, stemmer), made once rather
    /// than for every query.
    let tokenizer: TextTokenizer
    /// A uuid index read from format version 1, which held only UUIDs in
    /// 8-4-4-4-12 form: its owner rebuilds it from the payloads, so UUIDs
    /// written in Qdrant's other forms are indexed too.
    public let predatesUUIDForms: Bool

    struct GeoEntry: Sendable, Equatable {
        let point: GeoPoint
        let offset: UInt32
    }

    init(
        key: PayloadPath, schema: PayloadFieldSchema, pointCount: Int, valueCounts: [UInt32],
        postings: [IndexKey: [UInt32]],
        sortedValues: [Double], sortedOffsets: [UInt32], geoPoints: [GeoEntry], predatesUUIDForms: Bool = false
    ) {
        self.key = key
        self.schema = schema
        self.pointCount = pointCount
        self.valueCounts = valueCounts
        self.postings = postings
        self.sortedValues = sortedValues
        self.sortedOffsets = sortedOffsets
        self.geoPoints = geoPoints
        self.tokenizer = schema.textTokenizer
        self.predatesUUIDForms = predatesUUIDForms
    }

    /// Builds the index over offsets `0..<pointCount`; `payload(i)` is point
    /// i's payload (nil for none or for a free slot).
    public static func build(
        key: PayloadPath, schema: PayloadFieldSchema, pointCount: Int, payload: (Int) throws -> Payload?
    ) rethrows
        -> FieldIndex
    {
        var counts = [UInt32](repeating: 0, count: pointCount)
        var postings: [IndexKey: [UInt32]] = [:]
        var numeric: [(Double, UInt32)] = []
        var geo: [GeoEntry] = []
        let tokenizer = schema.textTokenizer
        for offset in 0..<pointCount {
            guard let payload = try payload(offset) else { continue }
            let values = key.values(in: payload)
            if values.isEmpty { continue }
            let o = UInt32(offset)
            counts[offset] = UInt32(min(values.reduce(0) { $1 == .null ? $0 : $0 + 1 }, Int(UInt32.max)))
            var keys = Set<IndexKey>()
            var numbers = Set<Double>()
            for value in values {
                switch (schema.type, value) {
                case (.keyword, .string(let s)): keys.insert(.string(s))
                case (.uuid, .string(let s)) where UUIDText.canonical(s) != nil: keys.insert(.string(s))
                case (.bool, .bool(let b)): keys.insert(.bool(b))
                case (.integer, _):
                    if schema.lookup, case .int(let i) = value { keys.insert(.integer(i)) }
                    if schema.range, let number = value.number { numbers.insert(number) }
                case (.float, _): if let number = value.number { numbers.insert(number) }
                case (.datetime, .string(let s)):
                    if let micros = Datetime.microseconds(s) { numbers.insert(Double(micros)) }
                case (.geo, _): if let point = GeoPoint(value) { geo.append(GeoEntry(point: point, offset: o)) }
                case (.text, .string(let s)): for token in tokenizer.tokens(s) { keys.insert(.string(token)) }
                default: break
                }
            }
            for k in keys { postings[k, default: []].append(o) }
            for n in numbers { numeric.append((n, o)) }
        }
        numeric.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return FieldIndex(
            key: key, schema: schema, pointCount: pointCount, valueCounts: counts, postings: postings,
            sortedValues: numeric.map(\.0), sortedOffsets: numeric.map(\.1), geoPoints: geo)
    }

    // MARK: - Answering conditions

    /// The offsets matching `test`, and whether that answer is exact (false:
    /// a superset the caller must check against payloads). Nil when this index
    /// cannot narrow the test down.
    public func evaluate(_ test: FieldCondition.Test) -> (bits: PointBitset, exact: Bool)? {
        switch test {
        case .match(let match):
            switch match {
            case .value(let value):
                guard let key = indexKey(for: value) else { return nil }
                return (bits(postings[key] ?? []), true)
            case .any(let values):
                var keys: [IndexKey] = []
                for value in values {
                    guard let key = indexKey(for: value) else { return nil }
                    keys.append(key)
                }
                var result = PointBitset(count: pointCount)
                for key in keys { for o in postings[key] ?? [] { result.insert(Int(o)) } }
                return (result, true)
            case .except:
                return nil
            case .text(let text), .phrase(let text):
                guard schema.type == .text else { return nil }
                let tokenizer = self.tokenizer
                let isPhrase: Bool
                if case .phrase = match { isPhrase = true } else { isPhrase = false }
                let tokens = Set(isPhrase ? tokenizer.tokens(text) : tokenizer.queryTokens(text))
                guard !tokens.isEmpty else { return (PointBitset(count: pointCount), true) }
                // Rarest token first keeps the intersection small.
                let lists = tokens.map { postings[.string($0)] ?? [] }.sorted { $0.count < $1.count }
                var result = bits(lists[0])
                for list in lists.dropFirst() { result.formIntersection(bits(list)) }
                if case .phrase = match { return (result, false) }
                // The postings hold a point's tokens from all its strings; the
                // condition wants them in one string, which they are when the
                // point has one value.
                var singleValued = true
                result.forEach { if valueCounts[$0] > 1 { singleValued = false } }
                return (result, singleValued)
            case .textAny(let text):
                guard schema.type == .text else { return nil }
                var result = PointBitset(count: pointCount)
                for token in Set(tokenizer.queryTokens(text)) {
                    for o in postings[.string(token)] ?? [] { result.insert(Int(o)) }
                }
                return (result, true)
            case .prefix(let wanted), .substring(let wanted):
                guard schema.type == .keyword else { return nil }
                var result = PointBitset(count: pointCount)
                for (key, offsets) in postings {
                    guard case .string(let s) = key else { continue }
                    let hit: Bool
                    if case .prefix = match {
                        hit = s.utf8.starts(with: wanted.utf8)
                    } else {
                        hit = FieldCondition.Test.contains(s.utf8, wanted.utf8)
                    }
                    if hit { for o in offsets { result.insert(Int(o)) } }
                }
                return (result, true)
            }
        case .range(let range):
            guard answersRange(range.kind) else { return nil }
            var result = PointBitset(count: pointCount)
            for i in rangePositions(range) { result.insert(Int(sortedOffsets[i])) }
            return (result, true)
        case .geoBoundingBox(let box):
            guard schema.type == .geo else { return nil }
            return (geoBits { box.contains($0) }, true)
        case .geoRadius(let radius):
            guard schema.type == .geo else { return nil }
            return (geoBits { radius.contains($0) }, true)
        case .geoPolygon(let polygon):
            guard schema.type == .geo else { return nil }
            return (geoBits { polygon.contains($0) }, true)
        case .valuesCount:
            // The stored counts are of non-null values, flattened; the
            // condition counts an array's elements, nulls included, per value.
            return nil
        }
    }

    /// Offsets with no non-null value at the key: a superset of the points
    /// `is_empty` holds for (it does not hold for `[null]`).
    public func emptyPoints() -> PointBitset {
        var result = PointBitset(count: pointCount)
        for (offset, count) in valueCounts.enumerated() where count == 0 { result.insert(offset) }
        return result
    }

    /// An upper-bound-ish estimate of how many points match (value counts,
    /// no bitsets); nil when the index cannot tell.
    public func estimate(_ test: FieldCondition.Test) -> Int? {
        switch test {
        case .match(.value(let value)):
            return indexKey(for: value).map { postings[$0]?.count ?? 0 }
        case .match(.any(let values)):
            var total = 0
            for value in values {
                guard let key = indexKey(for: value) else { return nil }
                total += postings[key]?.count ?? 0
            }
            return min(total, pointCount)
        case .match(.text(let text)):
            guard schema.type == .text else { return nil }
            return tokenizer.queryTokens(text).map { postings[.string($0)]?.count ?? 0 }.min()
        case .match(.phrase(let text)):
            guard schema.type == .text else { return nil }
            return tokenizer.tokens(text).map { postings[.string($0)]?.count ?? 0 }.min()
        case .range(let range):
            guard answersRange(range.kind) else { return nil }
            return min(rangePositions(range).count, pointCount)
        default:
            return nil
        }
    }

    private func indexKey(for value: MatchValue) -> IndexKey? {
        switch (schema.type, value) {
        case (.keyword, .keyword(let s)): return .string(s)
        case (.uuid, .keyword(let s)) where UUIDText.canonical(s) != nil: return .string(s)
        case (.integer, .integer(let i)) where schema.lookup: return .integer(i)
        case (.bool, .bool(let b)): return .bool(b)
        default: return nil
        }
    }

    private func answersRange(_ kind: RangeBounds.Kind) -> Bool {
        switch (schema.type, kind) {
        case (.integer, .number): return schema.range
        case (.float, .number), (.datetime, .datetime): return true
        default: return false
        }
    }

    /// Positions in the sorted arrays whose value lies in `range`.
    private func rangePositions(_ range: RangeBounds) -> Range<Int> {
        let low = range.lowest, high = range.highest
        guard low <= high else { return 0..<0 }
        func firstIndex(where predicate: (Double) -> Bool) -> Int {
            var lo = 0, hi = sortedValues.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if predicate(sortedValues[mid]) { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        let start = firstIndex { $0 >= low }
        let end = firstIndex { $0 > high }
        return start..<max(start, end)
    }

    private func bits(_ offsets: [UInt32]) -> PointBitset {
        var result = PointBitset(count: pointCount)
        for o in offsets { result.insert(Int(o)) }
        return result
    }

    private func geoBits(_ test: (GeoPoint) -> Bool) -> PointBitset {
        var result = PointBitset(count: pointCount)
        for entry in geoPoints where test(entry.point) { result.insert(Int(entry.offset)) }
        return result
    }

    // MARK: - Facets and ordering

    /// Per dictionary key, how many points in `allowed` hold it (keyword,
    /// uuid, integer with lookup, and bool indexes).
    ///
    /// A uuid index reports each UUID in its canonical lowercase 8-4-4-4-12
    /// form, as Qdrant (which stores UUIDs as numbers) does: the spellings of
    /// one UUID count together, a point holding several of them once.
    public func facetCounts(allowed: PointBitset) -> [IndexKey: Int] {
        var counts: [IndexKey: Int] = [:]
        if schema.type == .uuid {
            var spellings: [String: [[UInt32]]] = [:]
            for (key, list) in postings {
                guard case .string(let s) = key, let canonical = UUIDText.canonical(s) else { continue }
                spellings[canonical, default: []].append(list)
            }
            for (canonical, lists) in spellings {
                let n: Int
                if lists.count == 1 {
                    n = allowed.countMembers(of: lists[0])
                } else {
                    n = Set(lists.joined()).reduce(0) { allowed.contains(Int($1)) ? $0 + 1 : $0 }
                }
                if n > 0 { counts[.string(canonical)] = n }
            }
            return counts
        }
        for (key, list) in postings {
            let n = allowed.countMembers(of: list)
            if n > 0 { counts[key] = n }
        }
        return counts
    }

    /// (offset, value) for the points in `allowed` in value order, a point
    /// once per distinct value it holds (as Qdrant's `order_by`).
    public func ordered(allowed: PointBitset, descending: Bool) -> [(offset: Int, value: Double)] {
        var result: [(offset: Int, value: Double)] = []
        let positions = descending ? Array(sortedValues.indices.reversed()) : Array(sortedValues.indices)
        for i in positions {
            let offset = Int(sortedOffsets[i])
            guard allowed.contains(offset) else { continue }
            result.append((offset, sortedValues[i]))
        }
        return result
    }

    /// Number of points with at least one indexed value.
    public var indexedPointCount: Int { valueCounts.reduce(0) { $1 > 0 ? $0 + 1 : $0 } }
}

/// UUID strings as the uuid index accepts them: the forms Qdrant parses
/// (Rust's `Uuid::parse_str`): 32 hex digits, 8-4-4-4-12 with hyphens, that
/// in braces, or that after `urn:uuid:`; hex digits in either case.
enum UUIDText {
    /// The lowercase 8-4-4-4-12 form of `s`, nil when `s` is not a UUID.
    static func canonical(_ s: String) -> String? {
        var bytes = Array(s.utf8)
        switch bytes.count {
        case 32: break
        case 36: guard hyphenated(bytes[...]) else { return nil }
        case 38:
            guard bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}"), hyphenated(bytes[1..<37]) else {
                return nil
            }
            bytes = Array(bytes[1..<37])
        case 45:
            guard String(decoding: bytes[0..<9], as: UTF8.self).lowercased() == "urn:uuid:", hyphenated(bytes[9...])
            else { return nil }
            bytes = Array(bytes[9...])
        default: return nil
        }
        let digits = bytes.filter { $0 != UInt8(ascii: "-") }
        guard digits.count == 32 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in digits.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            switch b {
            case 48...57, 97...102: out.append(b)
            case 65...70: out.append(b + 32)
            default: return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `bytes` (36 of them) have hyphens exactly at 8, 13, 18, 23.
    private static func hyphenated(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() where (b == UInt8(ascii: "-")) != [8, 13, 18, 23].contains(i) {
            return false
        }
        return true
    }
}
