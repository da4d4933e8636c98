import StrataModel

/// `stopwords` of a text index or BM25 document: one language name
/// (`"english"`) or `{"languages": [...], "custom": [...]}`, kept in the form
/// given (Qdrant reports it back that way); languages and custom words are a
/// set, sorted (custom words by UTF-8 bytes) as Qdrant keeps them.
///
/// Language names are stored canonical (`"en"` is kept as `"english"`); only
/// English has a list, and other languages Qdrant knows are refused.
public enum TextStopwords: Sendable, Hashable {
    /// One language's list, by canonical name (JSON `"english"`).
    case language(String)
    /// Languages' lists plus custom words (JSON `{"languages": [...],
    /// "custom": [...]}`); nil for a member that was absent.
    case set(languages: [String]?, custom: [String]?)

    /// Parses the JSON form; `field` names it in messages.
    public init(json: JSONValue, field: String) throws(FilterDecodingError) {
        func language(_ value: JSONValue) throws(FilterDecodingError) -> String {
            guard case .string(let name) = value else {
                throw FilterDecodingError("\(field): a language must be a string")
            }
            guard let canonical = StopwordLists.qdrantLanguages[name] else {
                throw FilterDecodingError("\(field): unknown language \"\(name)\"")
            }
            guard StopwordLists.words(canonical) != nil else {
                throw FilterDecodingError(
                    "\(field): stopwords for \"\(canonical)\" are not supported by Strata (supported: \(StopwordLists.supportedLanguages.joined(separator: ", ")), and custom lists)"
                )
            }
            return canonical
        }
        switch json {
        case .string: self = .language(try language(json))
        case .object(let object):
            if let unknown = object.keys.sorted().first(where: { $0 != "languages" && $0 != "custom" }) {
                throw FilterDecodingError("\(field): unknown key \"\(unknown)\" (expected languages, custom)")
            }
            var languages: [String]?
            var custom: [String]?
            switch object["languages"] {
            case nil, .null?: break
            case .array(let items)?:
                var names: [String] = []
                for item in items { names.append(try language(item)) }
                languages = Set(names).sorted()
            default: throw FilterDecodingError("\(field).languages must be an array of language names")
            }
            switch object["custom"] {
            case nil, .null?: break
            case .array(let items)?:
                var words: Set<String> = []
                for item in items {
                    guard case .string(let word) = item else {
                        throw FilterDecodingError("\(field).custom must be an array of strings")
                    }
                    words.insert(word)
                }
                custom = words.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            default: throw FilterDecodingError("\(field).custom must be an array of strings")
            }
            self = .set(languages: languages, custom: custom)
        default:
            throw FilterDecodingError("\(field) must be a language name or an object with languages and custom")
        }
    }

    /// The JSON form, the shape it was given in; `init(json:field:)` reads it
    /// back.
    public var json: JSONValue {
        switch self {
        case .language(let name): return .string(name)
        case .set(let languages, let custom):
            var object: [String: JSONValue] = [:]
            if let languages { object["languages"] = .array(languages.map { .string($0) }) }
            if let custom { object["custom"] = .array(custom.map { .string($0) }) }
            return .object(object)
        }
    }

    /// The words to drop; lowercased when the tokens are (Qdrant's rule).
    public func words(lowercase: Bool) -> Set<String> {
        var names: [String] = []
        var custom: [String] = []
        switch self {
        case .language(let name): names = [name]
        case .set(let languages, let words):
            names = languages ?? []
            custom = words ?? []
        }
        var result: Set<String> = []
        for name in names { result.formUnion(StopwordLists.words(name) ?? []) }
        result.formUnion(custom)
        return lowercase ? Set(result.map { $0.lowercased() }) : result
    }
}

/// `stemmer` of a text index or BM25 document:
/// `{"type": "snowball", "language": "english"}` or `{"type": "none"}`.
public enum TextStemmer: Sendable, Hashable {
    /// Snowball English ("Porter2") stemming (`EnglishStemmer`), JSON
    /// `{"type": "snowball", "language": "english"}` (or `"en"`).
    case snowballEnglish
    /// No stemming, JSON `{"type": "none"}` (reported back, unlike an absent
    /// stemmer).
    case none

    /// Qdrant's Snowball languages and their aliases.
    static let snowballLanguages: [String: String] = [
        "arabic": "arabic", "ar": "arabic", "armenian": "armenian", "hy": "armenian", "danish": "danish",
        "da": "danish", "dutch": "dutch", "nl": "dutch", "english": "english", "en": "english",
        "finnish": "finnish", "fi": "finnish", "french": "french", "fr": "french", "german": "german",
        "de": "german", "greek": "greek", "el": "greek", "hungarian": "hungarian", "hu": "hungarian",
        "italian": "italian", "it": "italian", "norwegian": "norwegian", "no": "norwegian",
        "portuguese": "portuguese", "pt": "portuguese", "romanian": "romanian", "ro": "romanian",
        "russian": "russian", "ru": "russian", "spanish": "spanish", "es": "spanish", "swedish": "swedish",
        "sv": "swedish", "tamil": "tamil", "ta": "tamil", "turkish": "turkish", "tr": "turkish",
    ]

    /// Whether Qdrant knows `name` (or its alias) as a Snowball language.
    public static func isSnowballLanguage(_ name: String) -> Bool { snowballLanguages[name] != nil }

    /// The stemmer of a Snowball language name, or a 400-style message.
    public init(snowballLanguage name: String, field: String) throws(FilterDecodingError) {
        guard let canonical = Self.snowballLanguages[name] else {
            throw FilterDecodingError("\(field): unknown Snowball language \"\(name)\"")
        }
        guard canonical == "english" else {
            throw FilterDecodingError(
                "\(field): the Snowball stemmer for \"\(canonical)\" is not supported by Strata (supported: english)")
        }
        self = .snowballEnglish
    }

    /// Parses the JSON form; `field` names it in messages.
    ///
    /// Throws `FilterDecodingError` for a malformed object, an unknown `type`
    /// or member, an unknown language, or a Snowball language other than
    /// English (Strata has no other stemmer).
    public init(json: JSONValue, field: String) throws(FilterDecodingError) {
        guard case .object(let object) = json, case .string(let type)? = object["type"] else {
            throw FilterDecodingError(
                "\(field) must be {\"type\": \"snowball\", \"language\": …} or {\"type\": \"none\"}")
        }
        switch type {
        case "none":
            guard object.count == 1 else {
                throw FilterDecodingError("\(field): {\"type\": \"none\"} takes no other keys")
            }
            self = .none
        case "snowball":
            guard case .string(let language)? = object["language"] else {
                throw FilterDecodingError("\(field).language must be a Snowball language name")
            }
            if let unknown = object.keys.sorted().first(where: { $0 != "type" && $0 != "language" }) {
                throw FilterDecodingError("\(field): unknown key \"\(unknown)\"")
            }
            try self.init(snowballLanguage: language, field: field)
        default:
            throw FilterDecodingError("\(field).type must be \"snowball\" or \"none\"")
        }
    }

    /// The canonical JSON form (the language always as `"english"`).
    public var json: JSONValue {
        switch self {
        case .snowballEnglish: return .object(["type": "snowball", "language": "english"])
        case .none: return .object(["type": "none"])
        }
    }
}
