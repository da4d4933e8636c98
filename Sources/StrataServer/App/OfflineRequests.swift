import Foundation
import Strata
import StrataJSON

/// REST request bodies run on an open database without a server: what
/// `strata collection batch` and `strata query` do with a data directory
/// (the same decoding, checks and answers as `POST /collections/{c}/points/batch`
/// and `POST /query`). Errors are `APIError`s with the REST message.
public enum OfflineRequests {
    /// Runs a `points/batch` body (`{"operations": […], "atomic": …}`) on
    /// `collection`; returns the operation ids.
    public static func batch(_ body: [UInt8], on collection: Strata.Collection) async throws -> [UInt64] {
        let input = try decode(BatchUpdateInput.self, body)
        let prepared = try input.operations.map { operation throws(APIError) in
            try PreparedUpdate(operation, multiVectors: collection.config.multiVectorNameSet)
        }
        for operation in prepared { try operation.check(against: collection.config) }
        do {
            return try await collection.batch(prepared.map(\.engine), atomic: input.atomic ?? false).map(\.operationID)
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }

    /// Runs a `POST /query` body on `database`; returns the answer's JSON
    /// (`{"points": […]}`, each point with its `collection`).
    public static func query(_ body: [UInt8], on database: Database) throws -> [UInt8] {
        let query = try StrataHTTPServer.multiCollectionQuery(try decode(JSONValue.self, body))
        let hits: [CollectionScoredPoint]
        do {
            hits = try database.query(query.request, collections: query.collections, filters: query.filters)
        } catch let error as StrataError {
            throw APIError.from(error)
        }
        let points = try hits.map { hit in
            var point = ScoredPointOutput(
                hit.point, payload: query.selectors.0, vector: query.selectors.1,
                rowSizes: try database.collection(hit.collection).config.multiVectorRowSizes)
            point.collection = hit.collection
            return point
        }
        return try JSONBodyEncoder.encode(QueryResponseOutput(points: points))
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.jsonDeserialize("\(error)")
        }
    }
}
