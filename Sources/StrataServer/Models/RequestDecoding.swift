import Foundation
import Strata
import StrataJSON

/// Turns request bodies into the wire types of Models/, or into an `APIError`
/// with Qdrant's wording. Pure and synchronous: the server calls it on the
/// engine thread pool, the fuzz target calls it directly.
///
/// Order of checks (each cheap before the next): size (done by the caller
/// while reading the body), nesting depth (one pass over the bytes, so hostile
/// nesting never reaches the recursive decoder), then StrataJSON's decoder:
/// a structural scan into a tape and `Decodable` over it, with the values and
/// errors Foundation's `JSONDecoder` gives (`disagreement(_:)` checks that).
public enum RequestDecoding {
    /// Decodes `bytes` as `T`; an empty body decodes as `{}` (Qdrant accepts
    /// bodiless POSTs where every field is optional).
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], maxDepth: Int = 64
    ) throws(APIError) -> T {
        try withBytes(of: bytes) { (raw) throws(APIError) -> T in try decode(T.self, from: raw, maxDepth: maxDepth) }
    }

    /// The same over borrowed bytes (the server's received body, not copied).
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: UnsafeRawBufferPointer, maxDepth: Int = 64
    ) throws(APIError) -> T {
        // The scan stops at `maxDepth`, so a body it accepts nests no deeper:
        // the separate depth pass runs only when the scan refuses the body (to
        // report nesting first, as the reference order does).
        try decode(T.self, from: bytes, maxDepth: maxDepth, depthFirst: false) {
            try JSONBodyDecoder.decode(T.self, from: $0, maxDepth: maxDepth)
        }
    }

    /// The same with Foundation's `JSONDecoder`: the reference the fast decoder must agree with.
    static func decodeWithReference<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], maxDepth: Int = 64
    ) throws(APIError) -> T {
        try withBytes(of: bytes) { (raw) throws(APIError) -> T in
            try decode(T.self, from: raw, maxDepth: maxDepth, depthFirst: true) {
                try JSONDecoder().decode(T.self, from: Data($0))
            }
        }
    }

    private static func decode<T>(
        _ type: T.Type, from bytes: UnsafeRawBufferPointer, maxDepth: Int, depthFirst: Bool,
        _ decoder: (UnsafeRawBufferPointer) throws -> T
    ) throws(APIError) -> T {
        if bytes.allSatisfy(Self.isWhitespace) {
            return try withBytes(of: Array("{}".utf8)) { (braces) throws(APIError) -> T in
                try decode(T.self, from: braces, maxDepth: maxDepth, depthFirst: depthFirst, decoder)
            }
        }
        if depthFirst { try checkDepth(bytes, limit: maxDepth) }
        do {
            return try decoder(bytes)
        } catch let error as DecodingError {
            if JSONBodyDecoder.isOutOfMemory(error) {
                throw APIError(
                    .internalServerError, "Service internal error: out of memory while reading the request body")
            }
            if !depthFirst, case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                try checkDepth(bytes, limit: maxDepth)
            }
            throw describe(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.jsonDeserialize("\(error)")
        }
    }

    /// `bytes.withUnsafeBytes`, keeping the body's typed error.
    private static func withBytes<R>(
        of bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(APIError) -> R
    ) throws(APIError) -> R {
        try bytes.withUnsafeBytes { raw in Result { () throws(APIError) -> R in try body(raw) } }.get()
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Refuses JSON whose arrays and objects nest deeper than `limit`.
    /// Brackets inside strings (with escapes) do not count. Malformed input is
    /// left for the decoder to report.
    static func checkDepth(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(APIError) {
        if JSONBodyDecoder.nestsDeeper(than: limit, bytes) {
            throw APIError.jsonDeserialize("the JSON body nests arrays and objects deeper than \(limit) levels")
        }
    }

    /// A decoding error as Qdrant words it, with the JSON path of the problem.
    static func describe(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "the body" : "`\(text)`"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return .jsonDeserialize("missing field `\(key.stringValue)`\(parent)")
        case .typeMismatch(let type, let context):
            return .jsonDeserialize("invalid type at \(path(context.codingPath)): expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return .jsonDeserialize(
                "invalid value at \(path(context.codingPath)): expected \(describe(type)), found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .jsonDeserialize("the body is not valid JSON: \(context.debugDescription)")
            }
            return .jsonDeserialize("invalid value at \(path(context.codingPath)): \(context.debugDescription)")
        @unknown default:
            return .jsonDeserialize("\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Double.Type, is Float.Type: "a number"
        case is Int.Type, is UInt64.Type, is Int64.Type: "an integer"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "\(type)"
        }
    }
}

/// A value that failed a semantic check while decoding (not a JSON syntax
/// problem): thrown from `init(from:)` as `DecodingError.dataCorrupted`.
func invalidValue(_ decoder: any Decoder, _ message: String) -> DecodingError {
    DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: message))
}

/// True when `error` says the value at `decoder`'s own position had another
/// JSON type, i.e. trying another shape is worth it; errors deeper inside are
/// real and must be reported.
func isShapeMismatch(_ error: any Error, at decoder: any Decoder) -> Bool {
    if case DecodingError.typeMismatch(_, let context) = error {
        return context.codingPath.count == decoder.codingPath.count
    }
    return false
}

extension RequestDecoding {
    /// Decodes `bytes` as every request body the server accepts, and maps
    /// each decoded value to the engine's types, as the routes do. Returns how
    /// many kinds decoded. For the fuzz target (fuzz/Sources/RequestDecodingFuzz):
    /// any input must end in a value or an `APIError`, never a trap or a hang.
    public static func decodeEveryRequestKind(_ bytes: [UInt8], maxDepth: Int = 64) -> Int {
        var decoded = 0
        func attempt<T: Decodable>(_ type: T.Type, _ use: (T) throws -> Void = { _ in }) {
            guard let value = try? decode(T.self, from: bytes, maxDepth: maxDepth) else { return }
            decoded += 1
            try? use(value)
        }
        let config = CollectionConfig(vectors: ["": VectorParams(size: 2, distance: .cosine)])
        // Writes are also checked against a collection with a multivector and a sparse vector.
        let mixed = CollectionConfig(
            vectors: [
                "colbert": VectorParams(size: 2, distance: .dot, multivectorConfig: MultiVectorConfig()),
                "d": VectorParams(size: 3, distance: .cosine),
            ],
            sparseVectors: ["s": SparseVectorParams()])
        attempt(UpsertInput.self) { input in
            for config in [config, mixed] {
                try? PreparedUpdate(.upsert(input), multiVectors: config.multiVectorNameSet).check(against: config)
            }
        }
        attempt(PointsSelectorInput.self) { _ = try $0.selection() }
        attempt(SetPayloadInput.self) { _ = try $0.selection() }
        attempt(DeletePayloadInput.self) { _ = try $0.selection() }
        attempt(CreateFieldIndexInput.self) { _ = try $0.schema() }
        attempt(UpdateVectorsInput.self) { input in
            for config in [config, mixed] {
                try? PreparedUpdate(.updateVectors(input), multiVectors: config.multiVectorNameSet).check(
                    against: config)
            }
        }
        attempt(DeleteVectorsInput.self) { _ = try $0.selection() }
        attempt(FacetInput.self) { _ = $0.filter.engine }
        attempt(RetrieveInput.self) { input in
            let selector = input.with_payload ?? .all
            _ = selector.apply(["a": ["b": 1], "c": 2])
        }
        attempt(ScrollInput.self)
        attempt(CountInput.self) { _ = $0.filter.engine }
        attempt(BatchUpdateInput.self) { input in
            for config in [config, mixed] {
                for operation in input.operations {
                    try? PreparedUpdate(operation, multiVectors: config.multiVectorNameSet).check(against: config)
                }
            }
        }
        attempt(QueryRequestInput.self) { _ = try $0.engine() }
        attempt(QueryBatchInput.self)
        attempt(QueryGroupsRequestInput.self) { input in
            _ = try input.asQuery.engine()
            _ = try input.grouping.checked()
        }
        attempt(SearchGroupsRequestInput.self) { _ = try $0.grouping.checked() }
        attempt(SearchRequestInput.self) { _ = try $0.params?.engineParams() }
        attempt(SearchBatchInput.self)
        attempt(CreateCollectionInput.self) { _ = try $0.engineConfig() }
        attempt(UpdateCollectionInput.self) { _ = try $0.applied(to: config) }
        attempt(ChangeAliasesInput.self) { input in
            for action in input.actions { _ = try action.engineOperation() }
        }
        return decoded
    }
}
