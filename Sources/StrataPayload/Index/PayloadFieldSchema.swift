import StrataModel

/// The kind and settings of a payload field index, as Qdrant's
/// `field_schema` names them: a bare type name (`"keyword"`) or an object
/// with `type` and parameters.
///
/// The type-specific parameters (the type is noted on each) are ignored, and
/// left out of `json`, for other types. Two schemas are equal when every stored
/// setting is, whether it applies or not.
///
/// ```swift
/// // {"type": "text", "tokenizer": "word", "min_token_len": 2, "stemmer": {"type": "snowball", "language": "english"}}
/// var text = PayloadFieldSchema(.text)
/// text.minTokenLength = 2
/// text.stemmer = .snowballEnglish
///
/// // The same settings from Qdrant's JSON:
/// let parsed = try PayloadFieldSchema(json: [
///     "type": "text", "tokenizer": "word", "min_token_len": 2,
///     "stemmer": ["type": "snowball", "language": "english"],
/// ])
/// let keyword = try PayloadFieldSchema(json: "keyword")
/// ```
public struct PayloadFieldSchema: Sendable, Hashable, CustomStringConvertible {
    /// The type of a field index (Qdrant's `PayloadSchemaType`); the raw value
    /// is the JSON name.
    public enum FieldType: String, Sendable, Hashable, CaseIterable {
        /// Exact strings: `match` on strings, and `prefix`/`substring` from
        /// the dictionary.
        case keyword
        /// Integers: `match` (with `lookup`) and numeric `range` (with
        /// `range`; floats at the key are ranged too).
        case integer
        /// Numbers, integer or float: numeric `range` and ordering.
        case float
        /// Booleans: `match`.
        case bool
        /// RFC 3339 strings, as microseconds: datetime `range` and ordering.
        case datetime
        /// UUID strings in any form Qdrant parses: `match`.
        case uuid
        /// `{"lon", "lat"}` objects: the geo conditions.
        case geo
        /// Tokenized strings: `text`, `text_any` and `phrase`.
        case text
    }

    /// How a text index splits text into words (Qdrant's `TokenizerType`;
    /// its `multilingual` and `code` are not supported). The raw value is the
    /// JSON name.
    public enum TokenizerKind: String, Sendable, Hashable {
        /// Splits at every character that is not a letter or digit.
        case word
        /// Splits at whitespace only.
        case whitespace
        /// Word tokens and their prefixes (Qdrant's `prefix` tokenizer).
        case prefix
    }

    /// The index type.
    public var type: FieldType
    /// keyword: the field names a tenant (recorded; see docs/filtering.md).
    public var isTenant: Bool = false
    /// keyword: Qdrant's `prefix` option (serve `match.prefix`); every keyword
    /// index answers `prefix` from its dictionary, so it is recorded and reported.
    public var prefix: Bool = false
    /// integer: answer match conditions / range conditions.
    public var lookup: Bool = true
    /// integer: answer range conditions and order points (`range`, default
    /// true; `lookup` or `range` must be on).
    public var range: Bool = true
    /// text: tokenizer settings.
    public var tokenizer: TokenizerKind = .word
    /// text: lowercase tokens and custom stopwords (`lowercase`, default true).
    public var lowercase: Bool = true
    /// text: drop tokens shorter than this many characters, counted after
    /// processing (`min_token_len`); nil for no bound. The prefix tokenizer
    /// also indexes no prefix shorter than this.
    public var minTokenLength: Int?
    /// text: drop tokens longer than this many characters, counted after
    /// processing (`max_token_len`); nil for no bound. The prefix tokenizer
    /// keeps longer words and indexes their prefixes up to this length.
    public var maxTokenLength: Int?
    /// text: Qdrant's `phrase_matching` (default false), declaring that the
    /// index serves `phrase` conditions; the index narrows `phrase` conditions
    /// with its token postings either way.
    public var phraseMatching: Bool = false
    /// text: fold accented Latin letters to ASCII (`ascii_folding`).
    public var asciiFolding: Bool = false
    /// text: tokens to drop (`stopwords`), as given.
    public var stopwords: TextStopwords?
    /// text: the stemming algorithm (`stemmer`), as given.
    public var stemmer: TextStemmer?
    /// Accepted for compatibility; indexes are part of the segment files either way.
    public var onDisk: Bool?

    /// A schema of `type` with every parameter at its default.
    public init(_ type: FieldType) { self.type = type }

    /// The canonical `json` as compact text.
    public var description: String { json.description }

    /// Whether an index of this schema can count values (`facet`).
    public var supportsFacet: Bool {
        switch type {
        case .keyword, .uuid, .bool: return true
        case .integer: return lookup
        default: return false
        }
    }

    /// Whether an index of this schema orders points by value (`order_by`).
    public var supportsOrdering: Bool {
        switch type {
        case .integer: return range
        case .float, .datetime: return true
        default: return false
        }
    }

    /// The tokenizer this schema implies (text fields), or the default one.
    public var textTokenizer: TextTokenizer {
        type == .text
            ? TextTokenizer(
                kind: tokenizer, lowercase: lowercase, minLength: minTokenLength, maxLength: maxTokenLength,
                asciiFolding: asciiFolding, stopwords: stopwords?.words(lowercase: lowercase) ?? [],
                stemEnglish: stemmer == .snowballEnglish)
            : TextTokenizer()
    }

    // MARK: - JSON

    /// Parses Qdrant's `field_schema`; throws a message naming the problem.
    public init(json: JSONValue) throws(FilterDecodingError) {
        switch json {
        case .string(let name):
            guard let type = FieldType(rawValue: name) else {
                throw FilterDecodingError(
                    "field_schema: unknown type \"\(name)\"; expected one of \(FieldType.allCases.map(\.rawValue))")
            }
            self.init(type)
        case .object(let object):
            guard case .string(let name)? = object["type"], let type = FieldType(rawValue: name) else {
                throw FilterDecodingError("field_schema: \"type\" must be one of \(FieldType.allCases.map(\.rawValue))")
            }
            self.init(type)
            func bool(_ key: String) throws(FilterDecodingError) -> Bool? {
                guard let value = object[key], value != .null else { return nil }
                guard case .bool(let b) = value else {
                    throw FilterDecodingError("field_schema.\(key) must be a boolean")
                }
                return b
            }
            func count(_ key: String) throws(FilterDecodingError) -> Int? {
                guard let value = object[key], value != .null else { return nil }
                guard case .int(let i) = value, i >= 0, i < 1 << 16 else {
                    throw FilterDecodingError("field_schema.\(key) must be a non-negative integer")
                }
                return Int(i)
            }
            let known: Set<String> = [
                "type", "is_tenant", "on_disk", "lookup", "range", "is_principal", "tokenizer",
                "lowercase", "min_token_len", "max_token_len", "phrase_matching", "ascii_folding", "stopwords",
                "stemmer", "prefix",
            ]
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw FilterDecodingError("field_schema: unknown parameter \"\(unknown)\"")
            }
            isTenant = try bool("is_tenant") ?? false
            prefix = try bool("prefix") ?? false
            onDisk = try bool("on_disk")
            lookup = try bool("lookup") ?? true
            range = try bool("range") ?? true
            lowercase = try bool("lowercase") ?? true
            phraseMatching = try bool("phrase_matching") ?? false
            asciiFolding = try bool("ascii_folding") ?? false
            if let value = object["stopwords"], value != .null {
                stopwords = try TextStopwords(json: value, field: "field_schema.stopwords")
            }
            if let value = object["stemmer"], value != .null {
                stemmer = try TextStemmer(json: value, field: "field_schema.stemmer")
            }
            minTokenLength = try count("min_token_len")
            maxTokenLength = try count("max_token_len")
            if let value = object["tokenizer"], value != .null {
                guard case .string(let name) = value, let kind = TokenizerKind(rawValue: name) else {
                    if case .string(let name) = value, name == "multilingual" || name == "code" {
                        throw FilterDecodingError(
                            "field_schema.tokenizer \"\(name)\" is not supported by Strata (supported: word, whitespace, prefix)"
                        )
                    }
                    throw FilterDecodingError("field_schema.tokenizer must be \"word\", \"whitespace\" or \"prefix\"")
                }
                tokenizer = kind
            }
            if type == .integer && !lookup && !range {
                throw FilterDecodingError("field_schema: an integer index needs lookup or range (or both)")
            }
        default:
            throw FilterDecodingError("field_schema must be a type name or an object with \"type\"")
        }
    }

    /// The canonical JSON form (an object with `type` and every parameter that
    /// applies to it).
    public var json: JSONValue {
        var object: [String: JSONValue] = ["type": .string(type.rawValue)]
        switch type {
        case .keyword:
            if isTenant { object["is_tenant"] = true }
            if prefix { object["prefix"] = true }
        case .integer:
            object["lookup"] = .bool(lookup)
            object["range"] = .bool(range)
        case .text:
            object["tokenizer"] = .string(tokenizer.rawValue)
            object["lowercase"] = .bool(lowercase)
            object["phrase_matching"] = .bool(phraseMatching)
            if let minTokenLength { object["min_token_len"] = .int(Int64(minTokenLength)) }
            if let maxTokenLength { object["max_token_len"] = .int(Int64(maxTokenLength)) }
            // Newer options only when set, so older schemas keep their exact bytes.
            if asciiFolding { object["ascii_folding"] = true }
            if let stopwords { object["stopwords"] = stopwords.json }
            if let stemmer { object["stemmer"] = stemmer.json }
        default: break
        }
        if let onDisk { object["on_disk"] = .bool(onDisk) }
        return .object(object)
    }
}
