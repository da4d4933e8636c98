import Foundation
import Strata

/// The fast decoder checked against Foundation's `JSONDecoder`, its reference:
/// for a body, every request type must decode to the same value, or fail with
/// the same message. Used by the differential fuzz target
/// (fuzz/Sources/RequestDecodingDifferentialFuzz) and by the tests that replay
/// its corpus.
extension RequestDecoding {
    /// Every body type a route decodes.
    static let requestKinds: [any Decodable.Type] = [
        UpsertInput.self, PointsSelectorInput.self, SetPayloadInput.self, DeletePayloadInput.self,
        CreateFieldIndexInput.self, UpdateVectorsInput.self, DeleteVectorsInput.self, FacetInput.self,
        RetrieveInput.self, ScrollInput.self, CountInput.self, BatchUpdateInput.self, QueryRequestInput.self,
        QueryBatchInput.self, QueryGroupsRequestInput.self, SearchGroupsRequestInput.self, SearchRequestInput.self,
        SearchBatchInput.self, RecommendRequestInput.self, RecommendGroupsRequestInput.self,
        DiscoverRequestInput.self, RecommendBatchInput.self, DiscoverBatchInput.self, SearchMatrixInput.self,
        CreateCollectionInput.self, UpdateCollectionInput.self,
        ChangeAliasesInput.self, SnapshotRecoverInput.self, VectorNameConfigInput.self,
    ]

    /// nil when both decoders agree on `bytes` for every request kind; else
    /// what differs, for the first kind where it does. With `messages`, two
    /// refusals must also say the same; leave it off for bodies with several
    /// errors inside one JSON object decoded as a dictionary: which of them
    /// JSONDecoder reports depends on its hash order, which varies per process.
    public static func disagreement(_ bytes: [UInt8], maxDepth: Int = 64, messages: Bool = true) -> String? {
        for kind in requestKinds {
            if let difference = disagreement(kind, bytes, maxDepth: maxDepth, messages: messages) { return difference }
        }
        return nil
    }

    private static func disagreement<T: Decodable>(
        _ type: T.Type, _ bytes: [UInt8], maxDepth: Int, messages: Bool
    )
        -> String?
    {
        let fast = Result { () throws(APIError) in try decode(T.self, from: bytes, maxDepth: maxDepth) }
        let reference = Result { () throws(APIError) in try decodeWithReference(T.self, from: bytes, maxDepth: maxDepth)
        }
        switch (fast, reference) {
        case (.success(let value), .success(let expected)):
            let (got, want) = (canonicalDescription(value), canonicalDescription(expected))
            return got == want ? nil : "\(T.self): decoded \(got), JSONDecoder decoded \(want)"
        case (.failure(let error), .failure(let expected)):
            return !messages || error.message == expected.message
                ? nil : "\(T.self): refused with \"\(error.message)\", JSONDecoder with \"\(expected.message)\""
        case (.success(let value), .failure(let expected)):
            return "\(T.self): decoded \(canonicalDescription(value)), JSONDecoder refused: \(expected.message)"
        case (.failure(let error), .success(let expected)):
            return "\(T.self): refused (\(error.message)), JSONDecoder decoded \(canonicalDescription(expected))"
        }
    }

    /// A value's full structure as text, with dictionaries and sets in sorted
    /// order (two equal dictionaries may iterate differently), and numbers in
    /// their round-tripping form (so equal text means equal bits, -0 included).
    static func canonicalDescription(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .dictionary, .set:
            let entries = mirror.children.map { canonicalDescription($0.value) }.sorted()
            return "[" + entries.joined(separator: ", ") + "]"
        case .optional:
            guard let some = mirror.children.first else { return "nil" }
            return canonicalDescription(some.value)
        case .struct, .class, .enum, .tuple, .collection:
            if mirror.children.isEmpty { return String(reflecting: value) }
            let entries = mirror.children.map { ($0.label.map { "\($0): " } ?? "") + canonicalDescription($0.value) }
            return "\(type(of: value))(" + entries.joined(separator: ", ") + ")"
        default:
            return String(reflecting: value)
        }
    }
}
