import Foundation
import Hummingbird
import Strata

/// `POST /query` (Strata's extension, issue 20): one points query over several
/// collections whose queried vector has the same configuration, merged
/// exactly by `Database.query(_:collections:filters:)`. Each point names its
/// `collection`.
///
/// The body is a points query (`POST /collections/{c}/points/query`) plus
/// `collections` (1–64 distinct names or aliases). `filter` is either one
/// filter for every collection or a map from collection name to filter (its
/// keys all collection names of the request). Refused here: `lookup_from`,
/// `shard_key`, and query kinds not ordered by score (`order_by`, `sample`, `mmr`).
extension StrataHTTPServer {
    func addMultiCollectionQueryRoutes(to router: Router<StrataRequestContext>) {
        router.post("/query") { request, context in
            if self.cluster != nil {
                throw APIError.notSupportedYet("a query over several collections on a cluster node")
            }
            let body = try await self.decode(JSONValue.self, from: request, context)
            let query = try Self.multiCollectionQuery(body)
            let scope = context.scope(request)
            var rowSizes: [String: [String: Int]] = [:]
            for name in query.collections {
                let collection = try self.collection(named: name, .read, context.access)
                try self.enforceStrictMode(collection, timeout: scope.timeout) { check throws(APIError) in
                    try check.checkQuery(query.request)
                }
                rowSizes[collection.name] = collection.config.multiVectorRowSizes
            }
            let (database, cancellation, sizes) = (self.database, scope.cancellation, rowSizes)
            return try await self.answer(context) { () throws -> QueryResponseOutput in
                let hits: [CollectionScoredPoint]
                do {
                    hits = try database.query(
                        query.request, collections: query.collections, filters: query.filters,
                        cancellation: cancellation)
                } catch let error as StrataError {
                    throw APIError.from(error)
                }
                return QueryResponseOutput(
                    points: hits.map { hit in
                        var point = ScoredPointOutput(
                            hit.point, payload: query.selectors.0, vector: query.selectors.1,
                            rowSizes: sizes[hit.collection] ?? [:])
                        point.collection = hit.collection
                        return point
                    })
            }
        }
    }

    struct MultiCollectionQuery: Sendable {
        var collections: [String]
        var request: QueryRequest
        var filters: [String: Filter]
        var selectors: (PayloadSelector, VectorSelector)
    }

    /// The body read: `collections` and `filter` taken out, the rest decoded
    /// as a points query.
    static func multiCollectionQuery(_ body: JSONValue) throws -> MultiCollectionQuery {
        guard case .object(var fields) = body else { throw APIError.jsonDeserialize("the body must be a JSON object") }
        guard case .array(let listed)? = fields.removeValue(forKey: "collections") else {
            throw APIError.wrongInput("collections: a list of 1 to 64 collection names is required")
        }
        let names = try listed.map { value throws(APIError) -> String in
            guard case .string(let name) = value else { throw APIError.wrongInput("collections: names are strings") }
            return name
        }
        for field in ["lookup_from", "shard_key", "prefetch_results"] where fields[field] != nil {
            throw APIError.wrongInput("\(field) is not available in a query over several collections")
        }
        // One filter for all, or a map by collection name.
        var shared: JSONValue?
        var filters: [String: Filter] = [:]
        if let filter = fields.removeValue(forKey: "filter"), filter != .null {
            if case .object(let byName) = filter, !byName.isEmpty, Set(byName.keys).isSubset(of: names) {
                for (name, value) in byName { filters[name] = try Self.filter(value, "filter.\(name)") }
            } else {
                shared = filter
            }
        }
        if let shared { fields["filter"] = shared }
        let input: QueryRequestInput
        do {
            input = try JSONDecoder().decode(
                QueryRequestInput.self, from: try JSONEncoder().encode(JSONValue.object(fields)))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.jsonDeserialize("\(error)")
        }
        return MultiCollectionQuery(
            collections: names, request: try input.engine(), filters: filters,
            selectors: (input.payloadSelector, input.vectorSelector))
    }

    private static func filter(_ value: JSONValue, _ path: String) throws(APIError) -> Filter {
        do { return try Filter(json: value) } catch { throw APIError.wrongInput("\(path): \(error.message)") }
    }
}
