import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

/// Bad requests get a 4xx with Qdrant's wording and change nothing.
@Suite struct BadInputTests {
    /// Creates `docs` (2-d Dot, plus named `text` in `named`) with two points, runs `body`, then
    /// checks the points are exactly as they were.
    private func withDocs(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await withServer { client, database async throws in
            #expect(try await client.send(.put, "/collections/docs", json: createSmallCollection).status == 200)
            #expect(try await client.send(.put, "/collections/docs/points", json: twoPoints).status == 200)
            let before = try database.collection("docs").retrieve([1, 2], withPayload: true, withVector: true)
            try await body(client)
            let after = try database.collection("docs").retrieve([1, 2, 3], withPayload: true, withVector: true)
            #expect(after == before)
            #expect(try database.collection("docs").count() == 2)
        }
    }

    @Test(arguments: [
        ("{", "not valid JSON"),
        (#"{"points":[{"id":1,"vector":[1,0]}"#, "not valid JSON"),
        (#"{"points":"nope"}"#, "invalid type at `points`"),
        (#"{"points":[{"vector":[1,0]}]}"#, "missing field `id`"),
        (#"{"points":[{"id":3,"vector":[1,0,0]}]}"#, "Wrong input: point 3: wrong vector dimension: expected 2, got 3"),
        (#"{"points":[{"id":3,"vector":[1,null]}]}"#, "vector element 1 is null"),
        (#"{"points":[{"id":3,"vector":[1,1e39]}]}"#, "not a finite 32-bit float"),
        (#"{"points":[{"id":3,"vector":[1,"x"]}]}"#, "is not a number"),
        (#"{"points":[{"id":3,"vector":{"nope":[1,0]}}]}"#, "Not existing vector name error: nope"),
        (#"{"points":[{"id":-1,"vector":[1,0]}]}"#, "point id must be an unsigned integer or a UUID"),
        (#"{"points":[{"id":"not-a-uuid","vector":[1,0]}]}"#, "point id must be an unsigned integer or a UUID"),
        (#"{"points":[{"id":1.5,"vector":[1,0]}]}"#, "point id must be an unsigned integer or a UUID"),
        (#"{"points":[{"id":3,"vector":[1,0],"payload":[1]}]}"#, "invalid type at `points[0].payload`"),
        (#"{"points":[{"id":3,"vector":[[1,0]]}]}"#, "the unnamed vector is not a multivector"),
        (#"{"points":[{"id":3,"vector":[[1,0],[1]]}]}"#, "rows of a multivector must all have the same length"),
        (#"{"points":[{"id":3,"vector":[[]]}]}"#, "is not a multivector"),
        (#"{"batch":{"ids":[3],"vectors":[[[1,0]]]}}"#, "the unnamed vector is not a multivector"),
        (#"{"points":[{"id":3,"vector":[1,0]},{"id":4,"vector":[1]}]}"#, "wrong vector dimension"),
        (#"{"batch":{"ids":[3,4],"vectors":[[1,0]]}}"#, "batch has 2 ids but 1 vectors"),
        (#"{"batch":{"ids":[3],"vectors":[[1,0]],"payloads":[{},{}]}}"#, "batch has 1 ids but 2 payloads"),
        (#"{}"#, "exactly one of `points`"),
        (
            #"{"points":[{"id":3,"vector":[1,0]}],"update_mode":"sometimes"}"#,
            "update_mode: unknown variant `sometimes`"
        ),
        (#"{"points":[{"id":3,"vector":[1,0]}],"update_filter":{"must":[{"has_vector":"nope"}]}}"#, "nope"),
    ])
    func badUpsertsAreRefusedAndChangeNothing(body: String, expected: String) async throws {
        try await withDocs { client async throws in
            let response = try await client.send(.put, "/collections/docs/points", json: body)
            #expect((400...501).contains(response.status), "\(response.text)")
            #expect(response.body?.errorMessage?.contains(expected) == true, "\(response.text)")
            #expect(response.body?["time"] != nil)
        }
    }

    @Test func statusCodesFollowQdrant() async throws {
        try await withDocs { client async throws in
            var response = try await client.send(
                .put, "/collections/docs/points", json: #"{"points":[{"id":3,"vector":[1,0,0]}]}"#)
            #expect(response.status == 400)
            response = try await client.send(.get, "/collections/missing")
            #expect(response.status == 404)
            #expect(response.body?.errorMessage == "Not found: Collection `missing` doesn't exist!")
            response = try await client.send(.put, "/collections/docs", json: createSmallCollection)
            #expect(response.status == 409)
            response = try await client.send(
                .post, "/collections/docs/points/query", json: #"{"query":[1,0],"limit":0}"#)
            #expect(response.status == 422)
            #expect(response.body?.errorMessage?.hasPrefix("Validation error in JSON body") == true)
            response = try await client.send(
                .post, "/collections/docs/points/query", json: #"{"query":[1,0],"using":"nope"}"#)
            #expect(response.status == 400)
            response = try await client.send(
                .post, "/collections/docs/points/query", json: #"{"query":{"formula":{"sum":[]}}}"#)
            #expect(response.status == 400)
            #expect(response.body?.errorMessage == "Wrong input: cannot apply Formula without prefetches")
            response = try await client.send(
                .post, "/collections/docs/points/query",
                json:
                    #"{"query":{"relevance_feedback":{"target":[1,0],"feedback":[],"strategy":{"naive":{"a":1,"b":1,"c":1}}}}}"#
            )
            #expect(response.status == 422)
            response = try await client.send(
                .post, "/collections/docs/points/query", json: #"{"query":{"fusion":"rrf"}}"#)
            #expect(response.status == 400)
            #expect(response.body?.errorMessage == "Wrong input: cannot apply Fusion without prefetches")
            response = try await client.send(
                .post, "/collections/docs/points/query",
                json: #"{"prefetch":{"query":[1,0],"limit":0},"query":{"fusion":"dbsf"}}"#)
            #expect(response.status == 422)
            response = try await client.send(
                .post, "/collections/docs/points/query", json: #"{"prefetch":[{"query":[1,0]}]}"#)
            #expect(response.status == 400)
            #expect(response.body?.errorMessage?.contains("A query is needed to merge the prefetches") == true)
            response = try await client.send(
                .post, "/collections/docs/points/query",
                json: #"{"query":{"recommend":{"positive":[1],"strategy":"x"}}}"#)
            #expect(response.status == 400)
            response = try await client.send(
                .post, "/collections/docs/points/query/groups", json: #"{"query":[1,0],"group_by":""}"#)
            #expect(response.status == 422)
            response = try await client.send(
                .post, "/collections/docs/points/query/groups", json: #"{"query":[1,0],"group_by":"a","group_size":0}"#)
            #expect(response.status == 422)
            response = try await client.send(
                .post, "/collections/docs/points/query",
                json: #"{"query":1,"lookup_from":{"collection":"missing"}}"#)
            #expect(response.status == 404)
            response = try await client.send(.post, "/collections/docs/points/query", json: #"{"query":99}"#)
            #expect(response.status == 404)
            response = try await client.send(.put, "/collections/docs/index", json: #"{"field_name":"a"}"#)
            #expect(response.status == 400)
            #expect(response.body?.errorMessage?.contains("field_schema is required") == true)
            response = try await client.send(
                .put, "/collections/docs/index", json: #"{"field_name":"a","field_schema":"keywords"}"#)
            #expect(response.status == 400)
            response = try await client.send(.get, "/collections/docs/points/abc")
            #expect(response.status == 400)
            response = try await client.send(.delete, "/collections/docs/points")
            #expect(response.status == 405 || response.status == 404)
        }
    }

    @Test func badCollectionConfigsAreRefused() async throws {
        try await withServer { client, database async throws in
            let bad = [
                #"{"vectors":{"size":0,"distance":"Dot"}}"#, #"{"vectors":{"size":4,"distance":"Hamming"}}"#,
                #"{"vectors":{"size":4,"distance":"Dot","datatype":"int4"}}"#,
                #"{"vectors":{"size":4,"distance":"Dot"},"shard_number":3}"#,
                #"{"vectors":{"size":4,"distance":"Dot"},"hnsw_config":{"m":1}}"#,
                #"{"vectors":{"size":4,"distance":"Dot"},"quantization_config":{"scalar":{"type":"int4"}}}"#,
                #"{"vectors":{"size":4,"distance":"Dot"},"sparse_vectors":{"s":{"modifier":"bm42"}}}"#,
                #"{"vectors":{"size":4,"distance":"Dot"},"sparse_vectors":{"":{}}}"#, "[]",
            ]
            for body in bad {
                let response = try await client.send(.put, "/collections/bad", json: body)
                #expect((400...501).contains(response.status), "\(body) → \(response.text)")
            }
            #expect(try await client.send(.put, "/collections/bad%20name", json: createSmallCollection).status == 400)
            #expect(database.collectionNames().isEmpty)
            // As in Qdrant, no vectors at all is a valid collection (payload-only points).
            #expect(try await client.send(.put, "/collections/payloads", json: #"{}"#).status == 200)
            #expect(database.collectionNames() == ["payloads"])
        }
    }

    @Test func oversizedBodiesAreRefused() async throws {
        try await withServer({ $0.maxRequestBodyBytes = 1024 }) { client, database async throws in
            #expect(try await client.send(.put, "/collections/docs", json: createSmallCollection).status == 200)
            let points = (0..<100).map { #"{"id":\#($0),"vector":[1,0]}"# }.joined(separator: ",")
            let response = try await client.send(.put, "/collections/docs/points", json: #"{"points":[\#(points)]}"#)
            #expect(response.status == 413)
            #expect(response.body?.errorMessage?.contains("limit of 1024 bytes") == true)
            #expect(try database.collection("docs").count() == 0)
        }
    }

    @Test func deepNestingIsRefusedBeforeDecoding() async throws {
        try await withDocs { client async throws in
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            let response = try await client.send(
                .put, "/collections/docs/points",
                json: #"{"points":[{"id":3,"vector":[1,0],"payload":{"a":\#(deep)}}]}"#)
            #expect(response.status == 400)
            #expect(response.body?.errorMessage?.contains("deeper than 64 levels") == true)
            // Brackets inside strings do not count.
            let text = String(repeating: "[", count: 200)
            let ok = try await client.send(
                .post, "/collections/docs/points/count", json: #"{"exact":true,"x":"\#(text)"}"#)
            #expect(ok.status == 200)
        }
    }

    @Test func batchWithOneBadOperationAppliesNone() async throws {
        try await withDocs { client async throws in
            // Every operation is checked before the first is applied.
            let wrongSize = #"{"operations":[{"delete":{"points":[1]}},{"upsert":{"points":[{"id":3,"vector":[1]}]}}]}"#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: wrongSize).status == 400)
            let unknownName =
                #"{"operations":[{"clear_payload":{"points":[1]}},{"upsert":{"points":[{"id":3,"vector":{"x":[1,0]}}]}}]}"#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: unknownName).status == 400)
            let undecodable =
                #"{"operations":[{"delete":{"points":[1]}},{"upsert":{"points":[{"id":3,"vector":[1,null]}]}}]}"#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: undecodable).status == 400)
            let unknown = #"{"operations":[{"delete":{"points":[1]}},{"update_everything":{"points":[]}}]}"#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: unknown).status == 400)
            let badVectorUpdate =
                #"{"operations":[{"delete":{"points":[1]}},{"update_vectors":{"points":[{"id":2,"vector":{"nope":[1,0]}}]}}]}"#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: badVectorUpdate).status == 400)
            let badVectorDelete =
                #"{"operations":[{"delete":{"points":[1]}},{"delete_vectors":{"points":[2],"vector":["nope"]}}]}"#
            #expect(try await client.send(.post, "/collections/docs/points/batch", json: badVectorDelete).status == 400)
        }
    }
}
