import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

/// Sparse vectors through the routes: the legacy `points/search` and
/// `search/batch` with a named sparse vector, sparse `using` in the legacy
/// recommend and discover endpoints, and batches whose sparse operations are
/// checked before any operation is applied.
@Suite struct SparseRouteTests {
    static let create = #"{"vectors":{},"sparse_vectors":{"text":{}}}"#
    static let points = #"""
        {"points":[{"id":1,"vector":{"text":{"indices":[2,1],"values":[0.5,1]}},"payload":{"g":1}},
                   {"id":2,"vector":{"text":{"indices":[2,3],"values":[2,1]}},"payload":{"g":2}},
                   {"id":3,"vector":{"text":{"indices":[3],"values":[4]}},"payload":{"g":1}},
                   {"id":4,"vector":{},"payload":{"g":1}}]}
        """#

    private func ids(_ result: JSONValue?) -> [JSONValue] {
        guard case .array(let hits)? = result else { return [] }
        return hits.compactMap { $0["id"] }
    }

    private func scores(_ result: JSONValue?) -> [Double] {
        guard case .array(let hits)? = result else { return [] }
        return hits.compactMap { hit in
            switch hit["score"] {
            case .int(let value)?: Double(value)
            case .double(let value)?: value
            default: nil
            }
        }
    }

    @Test func legacySearchTakesANamedSparseVector() async throws {
        try await withServer { client, _ async throws in
            #expect(try await client.send(.put, "/collections/s", json: Self.create).status == 200)
            #expect(try await client.send(.put, "/collections/s/points", json: Self.points).status == 200)
            let search =
                #"{"vector":{"name":"text","vector":{"indices":[3,2],"values":[1,1]}},"limit":10,"with_vector":true}"#
            let response = try await client.send(.post, "/collections/s/points/search", json: search)
            #expect(response.status == 200, "\(response.text)")
            let result = response.body?["result"]
            #expect(ids(result) == [.int(3), .int(2), .int(1)])
            #expect(scores(result) == [4, 3, 0.5])
            #expect(
                result?[0]?["vector"]?["text"]
                    == .object(["indices": .array([.int(3)]), "values": .array([.double(4)])])
                    || result?[0]?["vector"]?["text"]
                        == .object(["indices": .array([.int(3)]), "values": .array([.int(4)])])
            )
            // Batch, with a filter in the first search.
            let batch = #"""
                {"searches":[{"vector":{"name":"text","vector":{"indices":[3,2],"values":[1,1]}},"limit":10,
                              "filter":{"must":[{"key":"g","match":{"value":1}}]}},
                             {"vector":{"name":"text","vector":{"indices":[1],"values":[2]}},"limit":10}]}
                """#
            let batched = try await client.send(.post, "/collections/s/points/search/batch", json: batch)
            #expect(batched.status == 200, "\(batched.text)")
            #expect(ids(batched.body?["result"]?[0]) == [.int(3), .int(1)])
            #expect(ids(batched.body?["result"]?[1]) == [.int(1)])
            // Legacy recommend and discover with sparse `using`.
            let recommend = #"{"positive":[3],"strategy":"sum_scores","using":"text","limit":10}"#
            let recommended = try await client.send(.post, "/collections/s/points/recommend", json: recommend)
            #expect(recommended.status == 200, "\(recommended.text)")
            // Point 3 = {3: 4}: point 2 scores 4, point 1 shares nothing (0); point 4 has no sparse vector.
            #expect(ids(recommended.body?["result"]) == [.int(2), .int(1)])
            #expect(scores(recommended.body?["result"]) == [4, 0])
            let discover =
                #"{"target":{"indices":[1],"values":[1]},"context":[{"positive":2,"negative":3}],"using":"text","limit":10}"#
            let discovered = try await client.send(.post, "/collections/s/points/discover", json: discover)
            #expect(discovered.status == 200, "\(discovered.text)")
            // Point 1: closer to 2 than to 3 (rank +1) and shares index 1 with the target.
            #expect(ids(discovered.body?["result"]) == [.int(1)])
            // Bad: a dense vector for the sparse name, an unknown name, a repeated index.
            for bad in [
                #"{"vector":{"name":"text","vector":[1,0]},"limit":3}"#,
                #"{"vector":{"name":"nope","vector":{"indices":[1],"values":[1]}},"limit":3}"#,
                #"{"vector":{"name":"text","vector":{"indices":[1,1],"values":[1,2]}},"limit":3}"#,
            ] {
                let refused = try await client.send(.post, "/collections/s/points/search", json: bad)
                #expect(refused.status == 400, "\(bad): \(refused.text)")
            }
        }
    }

    @Test func batchesCheckSparseOperationsBeforeApplyingAny() async throws {
        try await withServer { client, database async throws in
            #expect(try await client.send(.put, "/collections/s", json: Self.create).status == 200)
            #expect(try await client.send(.put, "/collections/s/points", json: Self.points).status == 200)
            let before = try database.collection("s").retrieve([1, 2, 3, 4], withPayload: true, withVector: true)
            for bad in [
                #"{"operations":[{"delete":{"points":[1]}},{"upsert":{"points":[{"id":5,"vector":{"nope":{"indices":[1],"values":[1]}}}]}}]}"#,
                #"{"operations":[{"delete":{"points":[1]}},{"upsert":{"points":[{"id":5,"vector":{"text":{"indices":[1,1],"values":[1,2]}}}]}}]}"#,
                #"{"operations":[{"delete":{"points":[1]}},{"update_vectors":{"points":[{"id":2,"vector":{"text":{"indices":[7],"values":[1,2]}}}]}}]}"#,
            ] {
                let response = try await client.send(.post, "/collections/s/points/batch", json: bad)
                #expect(response.status == 400, "\(bad): \(response.text)")
            }
            #expect(try database.collection("s").retrieve([1, 2, 3, 4], withPayload: true, withVector: true) == before)
            // Deleting a sparse vector by name is accepted, alone or in a batch.
            let delete = #"{"operations":[{"delete_vectors":{"points":[3],"vector":["text"]}}]}"#
            #expect(try await client.send(.post, "/collections/s/points/batch", json: delete).status == 200)
            let record = try #require(try database.collection("s").retrieve([3], withVector: true).first)
            #expect(record.sparseVectors?["text"] == nil)
        }
    }
}
