import Foundation
import Strata

/// Finds a payload key a filter tests without an index able to answer the
/// test (Qdrant's unindexed-field extractor, used by strict mode's
/// `unindexed_filtering_retrieve` / `unindexed_filtering_update`).
struct UnindexedFilterKeys {
    /// What an index can answer (Qdrant's `FieldIndexType`).
    enum Capability: CaseIterable {
        case intMatch, intRange, keywordMatch, keywordPrefix, floatRange, text, textPhrase, boolMatch, uuidMatch
        case uuidRange, datetimeRange, geo

        /// How Qdrant names the index type that gives this capability.
        var schemaName: String {
            switch self {
            case .intMatch, .intRange: "integer"
            case .keywordMatch: "keyword"
            case .keywordPrefix: "keyword (with prefix: true)"
            case .floatRange: "float"
            case .text: "text"
            case .textPhrase: "text (with phrase_matching: true)"
            case .boolMatch: "bool"
            case .uuidMatch, .uuidRange: "uuid"
            case .datetimeRange: "datetime"
            case .geo: "geo"
            }
        }
    }

    /// Indexed keys and their schemas.
    let indexed: [String: PayloadFieldSchema]

    /// What an index of `schema` can answer.
    static func capabilities(_ schema: PayloadFieldSchema) -> Set<Capability> {
        switch schema.type {
        case .keyword: [.keywordMatch]
        case .integer: Set((schema.lookup ? [.intMatch] : []) + (schema.range ? [.intRange] : []))
        case .uuid: [.uuidMatch, .uuidRange]
        case .bool: [.boolMatch]
        case .float: [.floatRange]
        case .geo: [.geo]
        case .text: schema.phraseMatching ? [.text, .textPhrase] : [.text]
        case .datetime: [.datetimeRange]
        }
    }

    /// The first key of `filter` (in must, must_not, should, min_should
    /// order; nested keys as `key[].inner`) that lacks a suitable index, with
    /// the capabilities any of which would do.
    func first(in filter: Filter, prefix: String? = nil) -> (key: String, needs: [Capability])? {
        for condition in filter.allConditions {
            if let found = first(in: condition, prefix: prefix) { return found }
        }
        return nil
    }

    private func first(in condition: Condition, prefix: String?) -> (key: String, needs: [Capability])? {
        let key: PayloadPath
        let needs: [Capability]
        switch condition {
        case .field(let field):
            key = field.key
            needs = Self.required(field.test)
        case .isEmpty(let path), .isNull(let path):
            key = path
            needs = Capability.allCases
        case .filter(let inner):
            return first(in: inner, prefix: prefix)
        case .nested(let path, let inner):
            return first(in: inner, prefix: Self.join(prefix, path.description + "[]"))
        case .hasID, .hasVector, .slice:
            return nil
        }
        guard !needs.isEmpty else { return nil }
        let full = Self.join(prefix, key.description)
        if let schema = indexed[full], !Self.capabilities(schema).isDisjoint(with: needs) { return nil }
        return (full, needs)
    }

    private static func join(_ prefix: String?, _ key: String) -> String {
        guard let prefix else { return key }
        return prefix + "." + key
    }

    /// Qdrant's `infer_index_from_field_condition`.
    static func required(_ test: FieldCondition.Test) -> [Capability] {
        switch test {
        case .match(.value(let value)): return matchValue(value)
        case .match(.any(let values)), .match(.except(let values)):
            // An empty list is a no-op and needs no index.
            guard let first = values.first else { return [] }
            if case .keyword = first {
                let strings = values.compactMap { if case .keyword(let s) = $0 { s } else { nil } }
                return (strings.allSatisfy { UUID(uuidString: $0) != nil } ? [.uuidMatch] : []) + [.keywordMatch]
            }
            return [.intMatch]
        case .match(.text), .match(.textAny): return [.text]
        case .match(.phrase): return [.textPhrase]
        case .match(.prefix), .match(.substring): return [.keywordMatch]
        case .range(let bounds): return bounds.kind == .datetime ? [.datetimeRange] : [.floatRange, .intRange]
        case .geoBoundingBox, .geoRadius, .geoPolygon: return [.geo]
        case .valuesCount: return Capability.allCases
        }
    }

    private static func matchValue(_ value: MatchValue) -> [Capability] {
        switch value {
        case .keyword(let string): return (UUID(uuidString: string) != nil ? [.uuidMatch] : []) + [.keywordMatch]
        case .integer: return [.intMatch]
        case .bool: return [.boolMatch]
        }
    }
}
