// Request building blocks shared by several endpoints.
//
// Property names of the wire types in Models/ are Qdrant's JSON field names
// (snake_case) on purpose: these types *are* the wire format, and keeping the
// names identical makes them easy to check against Qdrant's OpenAPI spec.
// (A key strategy such as convertFromSnakeCase cannot be used: it would also
// rewrite payload keys.)
import Foundation
import Strata
import StrataJSON
import StrataText

/// A dense vector: a JSON array of finite numbers. `null` (how JSON clients
/// send NaN) and numbers outside Float's range are refused with the index.
struct DenseVector: Decodable, Sendable, Equatable {
    var values: [Float]

    init(_ values: [Float]) { self.values = values }

    init(from decoder: any Decoder) throws {
        // All elements plain numbers: read straight from the tape, with the same rule.
        if let tape = decoder as? TapeDecoder, let values = tape.floats(viaDouble: true) {
            self.values = values
            return
        }
        var container = try decoder.unkeyedContainer()
        var values: [Float] = []
        values.reserveCapacity(container.count ?? 0)
        while !container.isAtEnd {
            let index = container.currentIndex
            if try container.decodeNil() {
                throw invalidValue(
                    decoder,
                    "vector element \(index) is null (JSON clients send NaN as null); vectors must hold finite numbers")
            }
            let number: Double
            do { number = try container.decode(Double.self) } catch DecodingError.typeMismatch(_, _) {
                if index == 0, (try? container.nestedUnkeyedContainer()) != nil {
                    // An array of arrays: a multivector, which callers that take
                    // one try next (a shape mismatch at this level).
                    throw DecodingError.typeMismatch(
                        [Float].self,
                        DecodingError.Context(
                            codingPath: decoder.codingPath,
                            debugDescription: "expected a dense vector, found an array of arrays (a multivector)"))
                }
                throw invalidValue(decoder, "vector element \(index) is not a number")
            }
            let value = Float(number)
            guard value.isFinite else {
                throw invalidValue(decoder, "vector element \(index) (\(number)) is not a finite 32-bit float")
            }
            values.append(value)
        }
        self.values = values
    }
}

/// A point id: an unsigned integer or a UUID string (Qdrant's `ExtendedPointId`).
struct PointIDInput: Decodable, Sendable, Hashable {
    var id: PointID

    init(_ id: PointID) { self.id = id }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            id = .number(number)
        } else if let text = try? container.decode(String.self), let parsed = PointIDInput.parse(text) {
            id = parsed
        } else {
            throw invalidValue(decoder, "a point id must be an unsigned integer or a UUID string")
        }
    }

    /// Parses a path or query component: digits or a UUID.
    static func parse(_ text: String) -> PointID? {
        if let number = UInt64(text) { return .number(number) }
        if let uuid = UUID(uuidString: text) { return .uuid(uuid) }
        return nil
    }
}

/// A sparse vector: `{"indices": [u32…], "values": [finite numbers…]}`
/// (Qdrant's `SparseVector`). Lengths, duplicates and order are checked by the engine.
struct SparseVectorInput: Decodable, Sendable, Equatable {
    var vector: SparseVector

    private struct Object: Decodable {
        var indices: [UInt32]
        var values: DenseVector
    }

    init(from decoder: any Decoder) throws {
        let object = try Object(from: decoder)
        vector = SparseVector(indices: object.indices, values: object.values.values)
    }
}

/// A `Document` inference object (`{"text", "model", "options"}`): text
/// turned into a sparse vector by the built-in BM25 model (docs/bm25.md).
struct DocumentInput: Decodable, Sendable, Equatable {
    var text: String
    var model: String
    var options: JSONValue?

    /// The encoder `model` and `options` describe, or 400.
    func encoder() throws(APIError) -> BM25Encoder {
        guard model.lowercased() == BM25Encoder.modelName else {
            throw APIError.wrongInput(
                "model \"\(model)\" is not available: Strata's server-side inference offers only \"qdrant/bm25\"")
        }
        var k1 = 1.2, b = 0.75, averageLength = 256.0, lowercase = true, asciiFolding = false
        var minLength: Int? = nil, maxLength: Int? = nil, whitespace = false, prefixes = false
        var language = "english"
        var stopwords: TextStopwords? = nil, stemmer: TextStemmer? = nil
        func wrong(_ key: String, _ value: JSONValue) -> APIError {
            APIError.wrongInput(
                "BM25 option `\(key)` = \(value) is not supported by Strata (supported: k, b, avg_len, tokenizer \"word\", \"whitespace\" or \"prefix\", language, lowercase, ascii_folding, stopwords, stemmer, min_token_len, max_token_len)"
            )
        }
        if case .object(let options)? = options {
            for (key, value) in options {
                switch (key, value) {
                case (_, .null): continue
                case ("k", _): k1 = value.number ?? .nan
                case ("b", _): b = value.number ?? .nan
                case ("avg_len", _): averageLength = value.number ?? .nan
                case ("lowercase", .bool(let flag)): lowercase = flag
                case ("ascii_folding", .bool(let flag)): asciiFolding = flag
                case ("min_token_len", .int(let n)) where n >= 0: minLength = Int(n)
                case ("max_token_len", .int(let n)) where n >= 0: maxLength = Int(n)
                case ("tokenizer", .string("word")): (whitespace, prefixes) = (false, false)
                case ("tokenizer", .string("whitespace")): (whitespace, prefixes) = (true, false)
                case ("tokenizer", .string("prefix")): (whitespace, prefixes) = (false, true)
                case ("language", .string(let name)): language = name
                case ("stopwords", _):
                    do { stopwords = try TextStopwords(json: value, field: "options.stopwords") } catch {
                        throw APIError.wrongInput(error.message)
                    }
                case ("stemmer", _):
                    do { stemmer = try TextStemmer(json: value, field: "options.stemmer") } catch {
                        throw APIError.wrongInput(error.message)
                    }
                default: throw wrong(key, value)
                }
            }
        } else if let options, options != .null {
            throw APIError.wrongInput("document options must be an object")
        }
        // Qdrant's defaults: the language's stopword list and Snowball stemmer
        // when it has them; a language it does not know (such as "none")
        // turns both off.
        if stemmer == nil, TextStemmer.isSnowballLanguage(language) {
            do { stemmer = try TextStemmer(snowballLanguage: language, field: "options.language") } catch {
                throw APIError.wrongInput(
                    error.message + "; give options.stemmer {\"type\": \"none\"} to encode without stemming")
            }
        }
        if stopwords == nil, StopwordLists.qdrantLanguages[language] != nil {
            do { stopwords = try TextStopwords(json: .string(language), field: "options.language") } catch {
                throw APIError.wrongInput(
                    error.message + "; give options.stopwords (such as {\"custom\": []}) to choose them")
            }
        }
        do {
            return try BM25Encoder(
                k1: k1, b: b, averageLength: averageLength, lowercase: lowercase,
                minTokenLength: minLength, maxTokenLength: maxLength, asciiFolding: asciiFolding,
                stopwords: stopwords?.words(lowercase: lowercase) ?? [], stemEnglish: stemmer == .snowballEnglish,
                splitOnWhitespaceOnly: whitespace, prefixes: prefixes)
        } catch {
            throw APIError.wrongInput("\(error)")
        }
    }
}

/// A multivector: a JSON array of rows, each a dense vector (at least one row).
struct MultiDenseVector: Decodable, Sendable, Equatable {
    var rows: [[Float]]

    init(from decoder: any Decoder) throws {
        rows = try [DenseVector](from: decoder).map(\.values)
        guard !rows.isEmpty else { throw invalidValue(decoder, "a multivector needs at least one row") }
        guard rows.allSatisfy({ $0.count == rows[0].count }) else {
            throw invalidValue(decoder, "the rows of a multivector must all have the same length")
        }
    }

    /// The rows back to back, as the engine takes a multivector.
    var flattened: [Float] { rows.flatMap { $0 } }
}

/// One named vector of a point: dense, a multivector's rows, sparse, or a
/// document to encode.
enum PointVectorValue: Decodable, Sendable, Equatable {
    case dense([Float])
    case multi([[Float]])
    case sparse(SparseVector)
    case document(DocumentInput)

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            if keyed.allKeys.contains(where: { $0.stringValue == "text" }) {
                self = .document(try DocumentInput(from: decoder))
            } else {
                self = .sparse(try SparseVectorInput(from: decoder).vector)
            }
        } else {
            do {
                self = .dense(try DenseVector(from: decoder).values)
            } catch  where isShapeMismatch(error, at: decoder) {
                self = .multi(try MultiDenseVector(from: decoder).rows)
            }
        }
    }
}

/// A point's vectors: one unnamed dense vector, or vectors by name (dense,
/// sparse, or `Document` objects turned into sparse vectors).
enum VectorStructInput: Decodable, Sendable, Equatable {
    case single([Float])
    case singleMulti([[Float]])
    case named([String: PointVectorValue])

    init(from decoder: any Decoder) throws {
        do {
            self = .single(try DenseVector(from: decoder).values)
        } catch  where isShapeMismatch(error, at: decoder) {
            do {
                self = .singleMulti(try MultiDenseVector(from: decoder).rows)
            } catch  where isShapeMismatch(error, at: decoder) {
                self = .named(try [String: PointVectorValue](from: decoder))
            }
        }
    }

    /// Dense vectors and multivectors (rows back to back, as the engine
    /// takes them) by name. A multivector must be given as rows and a plain
    /// vector as one array (`multiVectors`: the collection's multivector names),
    /// or 400: a write never silently reads one as the other.
    func byName(multiVectors: Set<String>) throws(APIError) -> [String: [Float]] {
        func checked(_ name: String, _ value: PointVectorValue) throws(APIError) -> [Float]? {
            let label = name.isEmpty ? "the unnamed vector" : "vector \"\(name)\""
            switch value {
            case .dense(let values):
                if multiVectors.contains(name) {
                    throw APIError.wrongInput("\(label) is a multivector: give it as an array of rows")
                }
                return values
            case .multi(let rows):
                if !multiVectors.contains(name) {
                    throw APIError.wrongInput("\(label) is not a multivector: give it as one array of numbers")
                }
                return rows.flatMap { $0 }
            case .sparse, .document: return nil
            }
        }
        switch self {
        case .single(let vector):
            // `"vector": []` is no vector at all (Qdrant accepts it for a
            // collection without vectors).
            if vector.isEmpty { return [:] }
            return [
                CollectionConfig.defaultVectorName: try checked(CollectionConfig.defaultVectorName, .dense(vector))!
            ]
        case .singleMulti(let rows):
            return [CollectionConfig.defaultVectorName: try checked(CollectionConfig.defaultVectorName, .multi(rows))!]
        case .named(let vectors):
            var result: [String: [Float]] = [:]
            for (name, value) in vectors { result[name] = try checked(name, value) }
            return result
        }
    }

    /// The sparse vectors by name, documents encoded on the document side (upserts).
    func sparseByName() throws(APIError) -> [String: SparseVector] {
        guard case .named(let vectors) = self else { return [:] }
        var result: [String: SparseVector] = [:]
        for (name, value) in vectors {
            switch value {
            case .dense, .multi: continue
            case .sparse(let vector): result[name] = vector
            case .document(let document): result[name] = try document.encoder().document(document.text)
            }
        }
        return result
    }
}

/// `with_payload`: true/false, a list of keys to include, or
/// `{"include": [...]}` / `{"exclude": [...]}`. Keys may be dotted paths.
enum PayloadSelector: Decodable, Sendable, Equatable {
    case all
    case none
    case include([String])
    case exclude([String])

    private struct Object: Decodable {
        var include: [String]?
        var exclude: [String]?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = flag ? .all : .none
        } else if let keys = try? container.decode([String].self) {
            self = .include(keys)
        } else if let object = try? container.decode(Object.self), (object.include == nil) != (object.exclude == nil) {
            self = object.include.map(PayloadSelector.include) ?? .exclude(object.exclude ?? [])
        } else {
            throw invalidValue(
                decoder,
                "with_payload must be a boolean, a list of keys, {\"include\": [keys]} or {\"exclude\": [keys]}")
        }
    }

    var wantsPayload: Bool { self != .none }

    /// `payload` reduced to what the selector asks for.
    func apply(_ payload: Payload?) -> Payload? {
        switch self {
        case .none: return nil
        case .all: return payload ?? [:]
        case .include(let paths):
            guard let payload else { return [:] }
            var result: Payload = [:]
            for path in paths {
                PayloadSelector.copy(path.split(separator: ".").map(String.init), from: payload, into: &result)
            }
            return result
        case .exclude(let paths):
            guard var payload else { return [:] }
            for path in paths { PayloadSelector.remove(path.split(separator: ".").map(String.init), from: &payload) }
            return payload
        }
    }

    private static func copy(_ path: [String], from source: Payload, into target: inout Payload) {
        guard let head = path.first, let value = source[head] else { return }
        if path.count == 1 { target[head] = value; return }
        guard case .object(let child) = value else { return }
        var existing: Payload = [:]
        if case .object(let partial)? = target[head] { existing = partial }
        copy(Array(path.dropFirst()), from: child, into: &existing)
        if !existing.isEmpty { target[head] = .object(existing) }
    }

    private static func remove(_ path: [String], from payload: inout Payload) {
        guard let head = path.first else { return }
        if path.count == 1 { payload[head] = nil; return }
        guard case .object(var child)? = payload[head] else { return }
        remove(Array(path.dropFirst()), from: &child)
        payload[head] = .object(child)
    }
}

/// `with_vector`: true/false or a list of vector names.
enum VectorSelector: Decodable, Sendable, Equatable {
    case all
    case none
    case names([String])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = flag ? .all : .none
        } else if let names = try? container.decode([String].self) {
            self = .names(names)
        } else {
            throw invalidValue(decoder, "with_vector must be a boolean or a list of vector names")
        }
    }

    var wantsVectors: Bool {
        switch self {
        case .none: false
        case .all: true
        case .names(let names): !names.isEmpty
        }
    }
}

/// A `filter` (Qdrant's filter JSON, docs/filtering.md). A malformed one is a
/// 400 naming the problem's path; nulls and empty clauses match everything.
struct FilterInput: Decodable, Sendable {
    var filter: Filter

    init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        if value == .null {
            filter = Filter()
            return
        }
        do {
            filter = try Filter(json: value)
        } catch {
            throw APIError.wrongInput(error.message)
        }
    }
}

extension Optional where Wrapped == FilterInput {
    /// The engine filter; nil when absent or without conditions.
    var engine: Filter? {
        guard let filter = self?.filter, !filter.isEmpty else { return nil }
        return filter
    }
}

/// Rejects a field Strata does not support yet when it is present and not null.
func requireAbsent(_ value: JSONValue?, _ field: String, issue: Int? = nil) throws(APIError) {
    if let value, value != .null { throw APIError.notSupportedYet("`\(field)`", issue: issue) }
}

/// Qdrant's request validation of a `limit` (422): at least 1. `field` is
/// its path in the body. The engine accepts 0 (an empty answer), so this
/// stays at the wire.
func requirePositiveLimit(_ limit: Int, _ field: String = "limit") throws(APIError) {
    guard limit >= 1 else { throw APIError.validation("\(field): value \(limit) invalid, must be 1 or larger") }
}

/// Qdrant's request validation of a page of results (422): `limit` at least
/// 1, `offset` (default 0) not negative, and their sum at most 1 000 000.
func checkedPage(limit: Int, offset: Int?) throws(APIError) -> (limit: Int, offset: Int) {
    let offset = offset ?? 0
    try requirePositiveLimit(limit)
    guard offset >= 0 else { throw APIError.validation("offset: value \(offset) invalid, must be 0 or larger") }
    let (sum, overflow) = limit.addingReportingOverflow(offset)
    guard !overflow, sum <= 1_000_000 else { throw APIError.validation("limit + offset must be at most 1000000") }
    return (limit, offset)
}

/// `params` of a search (Qdrant's `SearchParams`).
struct SearchParamsInput: Decodable, Sendable {
    struct Quantization: Decodable, Sendable {
        var ignore: Bool?
        var rescore: Bool?
        var oversampling: Double?
    }

    var hnsw_ef: Int?
    var exact: Bool?
    var quantization: Quantization?
    var indexed_only: Bool?
    var acorn: Acorn?
    var idf: IDF?

    struct Acorn: Decodable, Sendable {
        var enable: Bool?
        var max_selectivity: Double?
    }

    /// Qdrant's `IdfParams`: `"global"` or `{"corpus": filter}`; and, from a
    /// cluster node, `{"statistics": {"points": N, "document_frequencies":
    /// [[term, count], …]}}` summed over a collection's shards.
    enum IDF: Decodable, Sendable {
        case global
        case corpus(Filter)
        case statistics(points: Int, frequencies: [UInt32: Int])

        init(from decoder: any Decoder) throws {
            switch try JSONValue(from: decoder) {
            case .string("global"): self = .global
            case .object(let fields) where Set(fields.keys) == ["corpus"]:
                do { self = .corpus(try Filter(json: fields["corpus"]!)) } catch {
                    throw APIError.wrongInput("idf.corpus: \(error.message)")
                }
            case .object(let fields) where Set(fields.keys) == ["statistics"]:
                guard case .object(let statistics)? = fields["statistics"],
                    case .int(let points)? = statistics["points"],
                    case .array(let pairs)? = statistics["document_frequencies"]
                else { throw APIError.jsonDeserialize("idf.statistics: points and document_frequencies") }
                var frequencies: [UInt32: Int] = [:]
                for pair in pairs {
                    guard case .array(let items) = pair, items.count == 2, case .int(let term) = items[0],
                        case .int(let count) = items[1], let key = UInt32(exactly: term)
                    else {
                        throw APIError.jsonDeserialize("idf.statistics: document_frequencies are [term, count] pairs")
                    }
                    frequencies[key] = Int(count)
                }
                self = .statistics(points: Int(points), frequencies: frequencies)
            case let other:
                throw APIError.jsonDeserialize(
                    "params.idf must be \"global\" or {\"corpus\": <filter>}, got \(other)")
            }
        }

        var engine: IDFScope {
            switch self {
            case .global: .global
            case .corpus(let filter): .corpus(filter)
            case .statistics(let points, let frequencies): .given(points: points, documentFrequencies: frequencies)
            }
        }
    }

    func engineParams() throws(APIError) -> SearchParams {
        if let selectivity = acorn?.max_selectivity, !(0...1).contains(selectivity) {
            throw APIError.validation("acorn.max_selectivity: value \(selectivity) invalid, must be between 0 and 1")
        }
        if let ef = hnsw_ef, ef < 1 { throw APIError.validation("hnsw_ef: value \(ef) invalid, must be 1 or larger") }
        if let oversampling = quantization?.oversampling, !(oversampling >= 1) {
            throw APIError.validation("oversampling: value \(oversampling) invalid, must be 1.0 or larger")
        }
        return SearchParams(
            hnswEf: hnsw_ef, exact: exact ?? false,
            quantization: quantization.map {
                QuantizationSearchParams(
                    ignore: $0.ignore ?? false, rescore: $0.rescore ?? true, oversampling: $0.oversampling)
            },
            indexedOnly: indexed_only ?? false,
            acorn: acorn.map {
                AcornSearchParams(enable: $0.enable ?? true, maxSelectivity: $0.max_selectivity ?? 0.4)
            },
            idf: idf?.engine
        )
    }
}
