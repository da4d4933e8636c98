import StrataModel

/// What a filter looks at in one point.
///
/// Not `Sendable`: `hasVector` is an arbitrary closure.
public struct FilterSubject {
    /// The point's id (for `has_id` and `slice`).
    public var id: PointID
    /// The point's payload; nil reads as the empty payload.
    public var payload: Payload?
    /// Whether the point has the named vector, dense or sparse (`""` is the
    /// unnamed one), for `has_vector`.
    public var hasVector: (String) -> Bool
    /// An element a nested filter looks at: it has no id and no vectors.
    var isNestedElement = false

    /// Creates the view of one point.
    public init(id: PointID, payload: Payload?, hasVector: @escaping (String) -> Bool) {
        self.id = id
        self.payload = payload
        self.hasVector = hasVector
    }

    /// What a nested filter sees besides the element: no point at all.
    static var nestedElement: FilterSubject {
        var subject = FilterSubject(id: .number(0), payload: nil, hasVector: { _ in false })
        subject.isNestedElement = true
        return subject
    }
}

/// Settings that change how conditions read values: the tokenizer of each
/// key with a full-text index (other keys use the default word tokenizer).
public struct FilterSettings: Sendable {
    /// The tokenizer of each key with a full-text index, by its full path
    /// (inside a nested filter, the nested key followed by `[]` and the
    /// inner key).
    public var tokenizers: [PayloadPath: TextTokenizer]
    /// Creates settings; the default has no full-text index, so every key
    /// uses the default word tokenizer.
    public init(tokenizers: [PayloadPath: TextTokenizer] = [:]) { self.tokenizers = tokenizers }

    /// The tokenizer for `key`: its index's, else `TextTokenizer()` (word
    /// splitting, lowercase, no other processing).
    public func tokenizer(for key: PayloadPath) -> TextTokenizer { tokenizers[key] ?? TextTokenizer() }
}

extension Filter {
    /// Evaluates the filter on one point (the reference semantics every index
    /// must agree with; docs/filtering.md).
    public func matches(_ point: FilterSubject, settings: FilterSettings = FilterSettings()) -> Bool {
        matches(point, payload: point.payload ?? [:], prefix: nil, settings: settings)
    }

    func matches(_ point: FilterSubject, payload: Payload, prefix: PayloadPath?, settings: FilterSettings) -> Bool {
        for condition in must where !condition.matches(point, payload: payload, prefix: prefix, settings: settings) {
            return false
        }
        if !should.isEmpty
            && !should.contains(where: { $0.matches(point, payload: payload, prefix: prefix, settings: settings) })
        {
            return false
        }
        if let minShould {
            var count = 0
            for condition in minShould.conditions
            where condition.matches(point, payload: payload, prefix: prefix, settings: settings) {
                count += 1
                if count >= minShould.minCount { break }
            }
            if count < minShould.minCount { return false }
        }
        for condition in mustNot where condition.matches(point, payload: payload, prefix: prefix, settings: settings) {
            return false
        }
        return true
    }
}

extension Condition {
    /// `prefix`: inside a nested filter, the path of the array being iterated
    /// (so index settings are looked up by the full key).
    func matches(_ point: FilterSubject, payload: Payload, prefix: PayloadPath?, settings: FilterSettings) -> Bool {
        switch self {
        case .field(let condition):
            let fullKey = prefix.map { $0.appending(condition.key) } ?? condition.key
            return condition.test.matches(
                condition.key.rawValues(in: payload), tokenizer: settings.tokenizer(for: fullKey))
        case .isEmpty(let key):
            return key.rawValues(in: payload).allSatisfy { $0 == .null || $0 == .array([]) }
        case .isNull(let key):
            return key.rawValues(in: payload).contains { value in
                if case .array(let elements) = value { return elements.contains(.null) }
                return value == .null
            }
        case .hasID(let ids):
            return !point.isNestedElement && ids.contains(point.id)
        case .hasVector(let name):
            return point.hasVector(name)
        case .slice(let slice):
            return !point.isNestedElement && slice.contains(point.id)
        case .nested(let key, let filter):
            // Each object element of the arrays at `key`, on its own; a value
            // that is not an array has no elements. Inside, the element is all
            // there is: no id and no vectors (`has_id`, `has_vector` and
            // `slice` match nothing), as in Qdrant.
            // `rows` and `rows[]` name the same arrays.
            let arrays = key.steps.last == .eachElement ? PayloadPath(steps: Array(key.steps.dropLast())) : key
            let fullKey = prefix.map { $0.appending(arrays) } ?? arrays
            let elementPrefix = fullKey.appending(PayloadPath(steps: [.eachElement]))
            let element = FilterSubject.nestedElement
            for case .array(let items) in arrays.rawValues(in: payload) {
                for case .object(let object) in items
                where filter.matches(element, payload: object, prefix: elementPrefix, settings: settings) {
                    return true
                }
            }
            return false
        case .filter(let filter):
            return filter.matches(point, payload: payload, prefix: prefix, settings: settings)
        }
    }
}

extension FieldCondition.Test {
    /// The test on the values the key resolves to (`PayloadPath.rawValues`):
    /// `values_count` counts them as they are, every other test looks at them
    /// with a final array flattened one level.
    func matches(_ rawValues: [JSONValue], tokenizer: TextTokenizer) -> Bool {
        if case .valuesCount(let range) = self { return Self.valuesCountMatches(range, rawValues: rawValues) }
        let values = PayloadPath.flatten(rawValues)
        switch self {
        case .match(let match):
            switch match {
            case .value(let wanted): return values.contains { wanted.equals($0) }
            case .any(let list): return values.contains { value in list.contains { $0.equals(value) } }
            case .except(let list):
                return values.contains { value in value != .null && !list.contains { $0.equals(value) } }
            case .text(let text):
                let wanted = Set(tokenizer.queryTokens(text))
                guard !wanted.isEmpty else { return false }
                for case .string(let s) in values where wanted.isSubset(of: tokenizer.tokens(s)) { return true }
                return false
            case .textAny(let text):
                let wanted = Set(tokenizer.queryTokens(text))
                for case .string(let s) in values where tokenizer.tokens(s).contains(where: wanted.contains) {
                    return true
                }
                return false
            case .phrase(let text):
                let wanted = tokenizer.tokens(text)
                guard !wanted.isEmpty else { return false }
                for case .string(let s) in values where Self.containsPhrase(tokenizer.tokens(s), wanted) { return true }
                return false
            case .prefix(let prefix):
                return values.contains { value in
                    guard case .string(let s) = value else { return false }
                    return s.utf8.starts(with: prefix.utf8)
                }
            case .substring(let needle):
                return values.contains { value in
                    guard case .string(let s) = value else { return false }
                    return Self.contains(s.utf8, needle.utf8)
                }
            }
        case .range(let range):
            switch range.kind {
            case .number: return values.contains { $0.number.map(range.contains) ?? false }
            case .datetime:
                return values.contains {
                    guard case .string(let s) = $0, let micros = Datetime.microseconds(s) else { return false }
                    return range.contains(Double(micros))
                }
            }
        case .geoBoundingBox(let box): return values.contains { GeoPoint($0).map(box.contains) ?? false }
        case .geoRadius(let radius): return values.contains { GeoPoint($0).map(radius.contains) ?? false }
        case .geoPolygon(let polygon): return values.contains { GeoPoint($0).map(polygon.contains) ?? false }
        case .valuesCount(let range):
            return Self.valuesCountMatches(range, rawValues: rawValues)
        }
    }

    /// `values_count` on the values a key resolves to (not flattened): an
    /// array counts its elements, null 0, anything else 1, and no value at
    /// all (or only nulls) counts 0; true when some count is in range.
    static func valuesCountMatches(_ range: RangeBounds, rawValues: [JSONValue]) -> Bool {
        if rawValues.allSatisfy({ $0 == .null }) { return range.contains(0) }
        return rawValues.contains { value in
            switch value {
            case .null: return range.contains(0)
            case .array(let elements): return range.contains(Double(elements.count))
            default: return range.contains(1)
            }
        }
    }

    /// Byte-wise substring search (an empty needle is in every string).
    static func contains(_ haystack: String.UTF8View, _ needle: String.UTF8View) -> Bool {
        let h = Array(haystack)
        let n = Array(needle)
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        for start in 0...(h.count - n.count) where h[start] == n[0] {
            if h[start..<(start + n.count)].elementsEqual(n) { return true }
        }
        return false
    }

    /// True when `phrase` occurs in `tokens` consecutively (an empty phrase
    /// occurs everywhere; callers refuse it first).
    static func containsPhrase(_ tokens: [String], _ phrase: [String]) -> Bool {
        guard !phrase.isEmpty else { return true }
        guard tokens.count >= phrase.count else { return false }
        for start in 0...(tokens.count - phrase.count) where tokens[start] == phrase[0] {
            if tokens[start..<(start + phrase.count)].elementsEqual(phrase) { return true }
        }
        return false
    }
}
