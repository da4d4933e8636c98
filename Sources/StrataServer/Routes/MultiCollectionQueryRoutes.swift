import Foundation
import Hummingbird
import Strata

/// `POST /query` (Strata's extension, issue 20): one points query over several
/// collections whose queried vector has the same configuration, merged
/// exactly: each collection answers its best `offset + limit`, the answers are
/// merged best first (ties by the collections' order, then id) and the page
/// is cut from the merge. Each point names its `collection`.
///
/// The body is a points query (`POST /collections/{c}/points/query`) plus
/// `collections` (1–64 distinct names or aliases). `filter` is either one
/// filter for every collection or a map from collection name to filter (its
/// keys all collection names of the request). Refused here: `order_by` and
/// `sample` queries, `mmr` (their order is not by score), `lookup_from` and
/// `shard_key`.
extension StrataHTTPServer {
    func addMultiCollectionQueryRoutes(to router: Router<StrataRequestContext>) {
        router.post("/query") { request, context in
            if self.cluster != nil {
                throw APIError.notSupportedYet("a query over several collections on a cluster node")
            }
            var body = try await self.decode(JSONValue.self, from: request, context)
            let scope = context.scope(request)
            let parts = try self.multiCollectionParts(&body, access: context.access, scope: scope)
            let (limit, offset) = (parts.limit, parts.offset)
            return try await self.answer(context) { () throws -> QueryResponseOutput in
                var hits: [(rank: Int, point: ScoredPointOutput)] = []
                for (rank, part) in parts.reads.enumerated() {
                    hits += try part.read().points.map { point in
                        var point = point
                        point.collection = part.name
                        return (rank, point)
                    }
                }
                let higher = parts.higherIsBetter
                hits.sort { a, b in
                    if a.point.score != b.point.score {
                        return higher ? a.point.score > b.point.score : a.point.score < b.point.score
                    }
                    return a.rank != b.rank ? a.rank < b.rank : a.point.id < b.point.id
                }
                return QueryResponseOutput(points: hits.dropFirst(offset).prefix(limit).map(\.point))
            }
        }
    }

    struct MultiCollectionParts {
        var reads: [(name: String, read: EngineRead<QueryResponseOutput>)]
        var higherIsBetter: Bool
        var limit: Int
        var offset: Int
    }

    /// Checks the request and prepares each collection's query.
    func multiCollectionParts(
        _ body: inout JSONValue, access: Access, scope: RequestScope
    ) throws
        -> MultiCollectionParts
    {
        guard case .object(var fields) = body else { throw APIError.jsonDeserialize("the body must be a JSON object") }
        guard case .array(let listed)? = fields.removeValue(forKey: "collections") else {
            throw APIError.wrongInput("collections: a list of 1 to 64 collection names is required")
        }
        let names = try listed.map { value throws(APIError) -> String in
            guard case .string(let name) = value else { throw APIError.wrongInput("collections: names are strings") }
            return name
        }
        guard (1...64).contains(names.count), Set(names).count == names.count else {
            throw APIError.wrongInput("collections: 1 to 64 distinct collection names, got \(names.count)")
        }
        for field in ["lookup_from", "shard_key", "prefetch_results"] where fields[field] != nil {
            throw APIError.wrongInput("\(field) is not available in a query over several collections")
        }
        if case .object(let query)? = fields["query"] {
            for kind in ["order_by", "sample", "mmr"] where query[kind] != nil {
                throw APIError.wrongInput(
                    "a \(kind) query is not available over several collections (its order is not by score)")
            }
        }
        // One filter for all, or a map by collection name.
        var filters: [String: JSONValue] = [:]
        if let filter = fields.removeValue(forKey: "filter"), filter != .null {
            if case .object(let byName) = filter, !byName.isEmpty, Set(byName.keys).isSubset(of: names) {
                filters = byName
            } else {
                for name in names { filters[name] = filter }
            }
        }
        let limit = try Self.nonNegative(fields["limit"], "limit") ?? 10
        let offset = try Self.nonNegative(fields["offset"], "offset") ?? 0
        fields["limit"] = .int(Int64(limit + offset))
        fields["offset"] = nil
        var reads: [(name: String, read: EngineRead<QueryResponseOutput>)] = []
        var shape: (vector: VectorParams?, sparse: Bool, from: String)?
        var higher = true
        for name in names {
            let collection = try self.collection(named: name, .read, access)
            var part = fields
            if let filter = filters[name] { part["filter"] = filter }
            let input: QueryRequestInput
            do {
                input = try JSONDecoder().decode(
                    QueryRequestInput.self, from: try JSONEncoder().encode(JSONValue.object(part)))
            } catch let error as DecodingError {
                throw APIError.jsonDeserialize("collection \(name): \(error)")
            }
            // The queried vector must be configured alike everywhere.
            let using = input.using ?? CollectionConfig.defaultVectorName
            let vector = collection.config.vectors[using]
            let sparse = collection.config.sparseVectors[using] != nil
            guard vector != nil || sparse else {
                throw APIError.wrongInput(
                    "Not existing vector name error: \(using.isEmpty ? "(unnamed)" : using) in collection \(name)")
            }
            if let shape {
                let same =
                    shape.sparse == sparse && shape.vector?.size == vector?.size
                    && shape.vector?.distance == vector?.distance
                    && shape.vector?.isMultiVector == vector?.isMultiVector
                guard same else {
                    throw APIError.wrongInput(
                        "collections \(shape.from) and \(name) configure vector \"\(using)\" differently; a query over several collections needs the same size, distance and kind"
                    )
                }
            } else {
                shape = (vector, sparse, name)
                higher = Self.higherIsBetter(query: fields["query"], distance: vector?.distance)
            }
            reads.append((collection.name, try self.query(input, in: collection, scope)))
        }
        return MultiCollectionParts(reads: reads, higherIsBetter: higher, limit: limit, offset: offset)
    }

    static func nonNegative(_ value: JSONValue?, _ name: String) throws(APIError) -> Int? {
        switch value {
        case nil, .null?: return nil
        case .int(let n)? where n >= 0 && n <= 1_000_000: return Int(n)
        default: throw APIError.validation("\(name): must be an integer from 0 to 1000000")
        }
    }

    /// Whether the query's higher scores are better: nearest (and the default
    /// recommend strategy) score by the vector's distance, the other kinds
    /// higher-is-better.
    static func higherIsBetter(query: JSONValue?, distance: Distance?) -> Bool {
        let byDistance = distance?.higherIsBetter ?? true
        guard case .object(let members)? = query, let (kind, value) = members.first, members.count == 1 else {
            return byDistance  // a vector, an id, or none
        }
        switch kind {
        case "nearest": return byDistance
        case "recommend":
            if case .object(let params) = value, case .string(let strategy)? = params["strategy"],
                strategy != "average_vector"
            {
                return true
            }
            return byDistance
        default:
            // {"indices": …, "values": …} is a sparse vector; the other kinds score higher-is-better.
            return true
        }
    }
}
