import StrataModel

/// What a filter looks at in one point.
public struct FilterSubject {
    public var id: PointID
    public var payload: Payload?
    public var hasVector: (String) -> Bool

    public init(id: PointID, payload: Payload?, hasVector: @escaping (String) -> Bool) {
        self.id = id
        self.payload = payload
        self.hasVector = hasVector
    }
}

/// Settings that change how conditions read values: the tokenizer of each
/// key with a full-text index (other keys use the default word tokenizer).
public struct FilterSettings: Sendable {
    public var tokenizers: [PayloadPath: TextTokenizer]
    public init(tokenizers: [PayloadPath: TextTokenizer] = [:]) { self.tokenizers = tokenizers }

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
                condition.key.values(in: payload), tokenizer: settings.tokenizer(for: fullKey))
        case .isEmpty(let key):
            return key.values(in: payload).allSatisfy { $0 == .null }
        case .isNull(let key):
            return key.rawValues(in: payload).contains(.null)
        case .hasID(let ids):
            return ids.contains(point.id)
        case .hasVector(let name):
            return point.hasVector(name)
        case .nested(let key, let filter):
            let fullKey = prefix.map { $0.appending(key) } ?? key
            let elementPrefix = fullKey.appending(PayloadPath(steps: [.eachElement]))
            for value in key.rawValues(in: payload) {
                let elements: [JSONValue]
                if case .array(let items) = value { elements = items } else { elements = [value] }
                for element in elements {
                    guard case .object(let object) = element else { continue }
                    if filter.matches(point, payload: object, prefix: elementPrefix, settings: settings) { return true }
                }
            }
            return false
        case .filter(let filter):
            return filter.matches(point, payload: payload, prefix: prefix, settings: settings)
        }
    }
}

extension FieldCondition.Test {
    /// The test on the values at the key (arrays already flattened).
    public func matches(_ values: [JSONValue], tokenizer: TextTokenizer) -> Bool {
        switch self {
        case .match(let match):
            switch match {
            case .value(let wanted): return values.contains { wanted.equals($0) }
            case .any(let list): return values.contains { value in list.contains { $0.equals(value) } }
            case .except(let list):
                return values.isEmpty || values.contains { value in !list.contains { $0.equals(value) } }
            case .text(let text):
                let wanted = Set(tokenizer.tokens(text))
                var have = Set<String>()
                var anyString = false
                for case .string(let s) in values {
                    anyString = true
                    have.formUnion(tokenizer.tokens(s))
                }
                return anyString && wanted.isSubset(of: have)
            case .phrase(let text):
                let wanted = tokenizer.tokens(text)
                for case .string(let s) in values where Self.containsPhrase(tokenizer.tokens(s), wanted) { return true }
                return false
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
            return range.contains(Double(values.reduce(0) { $1 == .null ? $0 : $0 + 1 }))
        }
    }

    /// True when `phrase` (non-empty) occurs in `tokens` consecutively; an empty
    /// phrase occurs in every string.
    static func containsPhrase(_ tokens: [String], _ phrase: [String]) -> Bool {
        guard !phrase.isEmpty else { return true }
        guard tokens.count >= phrase.count else { return false }
        for start in 0...(tokens.count - phrase.count) where tokens[start] == phrase[0] {
            if tokens[start..<(start + phrase.count)].elementsEqual(phrase) { return true }
        }
        return false
    }
}
