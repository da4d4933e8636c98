import Foundation
import HTTPTypes
import StrataCluster
import Testing

@testable import StrataServer

/// Read `consistency` on a cluster: how many replicas answer, and how their
/// answers resolve into one (Qdrant's resolver: an item needs every answer,
/// or a majority, equal).
@Suite struct ReadConsistencyTests {
    static func json(_ text: String) throws -> ShardJSON { try ShardJSON(parsing: Array(text.utf8)) }

    @Test func parsesQdrantsValuesAndRefusesOthers() throws {
        #expect(try ReadConsistency.parse(nil) == nil)
        #expect(try ReadConsistency.parse("all")?.kind == .all)
        #expect(try ReadConsistency.parse("majority")?.kind == .majority)
        #expect(try ReadConsistency.parse("quorum")?.kind == .quorum)
        #expect(try ReadConsistency.parse("2")?.kind == .factor(2))
        for bad in ["0", "-1", "most", ""] {
            #expect(throws: APIError.self) { try ReadConsistency.parse(bad) }
        }
    }

    @Test func planCountsReplicasAsQdrantDoes() {
        #expect(ReadConsistency(kind: .all).plan(replicas: 3) == (3, true))
        #expect(ReadConsistency(kind: .majority).plan(replicas: 3) == (3, false))
        #expect(ReadConsistency(kind: .quorum).plan(replicas: 3) == (2, true))
        #expect(ReadConsistency(kind: .quorum).plan(replicas: 4) == (3, true))
        #expect(ReadConsistency(kind: .factor(5)).plan(replicas: 3) == (3, true), "at most every replica")
        #expect(ReadConsistency(kind: .factor(1)).plan(replicas: 3) == (1, true))
    }

    @Test func readersAreActiveRunningReplicasThisNodeFirstElseUnavailable() throws {
        func member(_ id: UInt64) -> MemberRecord {
            MemberRecord(peerID: id, nodeName: "n\(id)", restURL: "http://h:\(id)", grpcURL: nil, version: "t")
        }
        let placement = CollectionPlacement(
            name: "c", createBody: "{}", replicationFactor: 3, writeConsistencyFactor: 1, primary: 1,
            replicas: [
                .init(peerID: 1, state: .active), .init(peerID: 2, state: .active),
                .init(peerID: 3, state: .partial),
            ])
        let live = [1: member(1), 2: member(2), 3: member(3)] as [UInt64: MemberRecord]
        let quorum = try ReadConsistency(kind: .quorum).readers(of: placement, live: live, me: 2, shardName: "c")
        #expect(quorum.members.map(\.peer_id) == [2, 1])
        // Every replica must answer `all`, and one is Partial.
        #expect(throws: APIError.self) {
            try ReadConsistency(kind: .all).readers(of: placement, live: live, me: 1, shardName: "c")
        }
        // A replica whose node is not running does not answer either.
        #expect(throws: APIError.self) {
            try ReadConsistency(kind: .quorum).readers(of: placement, live: [1: member(1)], me: 1, shardName: "c")
        }
    }

    @Test func pointsNeedEveryAnswerOrAMajorityEqualAndKeepTheirOrder() throws {
        let a = try Self.json(
            #"[{"id":1,"version":4,"score":0.9},{"id":2,"version":5,"score":0.8},{"id":3,"version":6,"score":0.7}]"#)
        let b = try Self.json(
            #"[{"id":1,"version":9,"score":0.9},{"id":3,"version":6,"score":0.7},{"id":4,"version":7,"score":0.6}]"#)
        let c = try Self.json(
            #"[{"id":1,"version":4,"score":0.9},{"id":2,"version":5,"score":0.5},{"id":3,"version":6,"score":0.7}]"#)
        func ids(_ result: ShardJSON) -> [Int] { result.array?.compactMap { $0["id"]?.int } ?? [] }
        // All: only what every answer holds, equal apart from its version.
        #expect(ids(ReadConsistency.resolve([a, b, c], needsAll: true)) == [1, 3])
        // Majority (2 of 3): point 2 is in a and c but with different scores: it differs, so it is left out.
        #expect(ids(ReadConsistency.resolve([a, b, c], needsAll: false)) == [1, 3])
        #expect(ids(ReadConsistency.resolve([a, a, b], needsAll: false)) == [1, 2, 3])
        // One answer, or equal answers, come back as they are.
        #expect(ReadConsistency.resolve([a], needsAll: true) == a)
        #expect(ReadConsistency.resolve([a, a], needsAll: true) == a)
    }

    @Test func scrollsCountsFacetsAndBatchesResolveByShape() throws {
        let scrollA = try Self.json(#"{"points":[{"id":1},{"id":2}],"next_page_offset":3}"#)
        let scrollB = try Self.json(#"{"points":[{"id":2}],"next_page_offset":3}"#)
        #expect(
            ReadConsistency.resolve([scrollA, scrollB], needsAll: true)
                == (try Self.json(#"{"points":[{"id":2}],"next_page_offset":3}"#)))
        let counts = [try Self.json(#"{"count":7}"#), try Self.json(#"{"count":5}"#), try Self.json(#"{"count":6}"#)]
        #expect(ReadConsistency.resolve(counts, needsAll: true)["count"]?.int == 5, "all: the smallest")
        #expect(ReadConsistency.resolve(counts, needsAll: false)["count"]?.int == 6, "majority: the median")
        let facetA = try Self.json(#"{"hits":[{"value":"red","count":4},{"value":"blue","count":2}]}"#)
        let facetB = try Self.json(#"{"hits":[{"value":"red","count":3}]}"#)
        #expect(
            ReadConsistency.resolve([facetA, facetB], needsAll: true)
                == (try Self.json(#"{"hits":[{"value":"red","count":3}]}"#)))
        let batchA = try Self.json(#"[[{"id":1},{"id":2}],[{"id":5}]]"#)
        let batchB = try Self.json(#"[[{"id":2}],[{"id":5}]]"#)
        #expect(
            ReadConsistency.resolve([batchA, batchB], needsAll: true) == (try Self.json(#"[[{"id":2}],[{"id":5}]]"#)))
        let queryBatchA = try Self.json(#"[{"points":[{"id":1},{"id":2}]}]"#)
        let queryBatchB = try Self.json(#"[{"points":[{"id":1}]}]"#)
        #expect(
            ReadConsistency.resolve([queryBatchA, queryBatchB], needsAll: true)
                == (try Self.json(#"[{"points":[{"id":1}]}]"#)))
        // Another shape (a collection's info, groups): the first answer.
        let info = try Self.json(#"{"status":"green","points_count":3}"#)
        #expect(
            ReadConsistency.resolve([info, try Self.json(#"{"status":"green","points_count":4}"#)], needsAll: true)
                == info)
    }
}

/// A single node answers a read with any valid `consistency` (its one copy is
/// every replica there is) and refuses a bad value as a cluster node does.
@Suite struct SingleNodeReadConsistencyTests {
    @Test func aSingleNodeChecksTheValueOfPointReads() async throws {
        try await withServer { client, _ async throws in
            #expect(
                try await client.send(.put, "/collections/c", json: #"{"vectors":{"size":2,"distance":"Dot"}}"#).status
                    == 200)
            let upsert = #"{"points":[{"id":1,"vector":[1,0]}]}"#
            #expect(try await client.send(.put, "/collections/c/points?wait=true", json: upsert).status == 200)
            for good in ["all", "majority", "quorum", "2"] {
                let count = try await client.send(.post, "/collections/c/points/count?consistency=\(good)", json: "{}")
                #expect(count.status == 200, "\(good): \(count.text)")
                #expect(count.body?["result"]?["count"] == .int(1))
            }
            for bad in ["most", "0", "-1"] {
                let reads: [(HTTPRequest.Method, String, String?)] = [
                    (.post, "/collections/c/points/count", "{}"),
                    (.post, "/collections/c/points/query", #"{"query":[1,0]}"#),
                    (.get, "/collections/c/points/1", nil),
                    (.post, "/collections/c/facet", #"{"key":"k"}"#),
                ]
                for (method, path, body) in reads {
                    let refused = try await client.send(method, "\(path)?consistency=\(bad)", json: body)
                    #expect(refused.status == 400, "\(path) consistency=\(bad): \(refused.text)")
                    #expect(refused.body?.errorMessage?.contains("consistency must be") == true)
                }
            }
            // Not a point read: Qdrant takes no consistency there, and neither does a cluster node.
            #expect(try await client.send(.get, "/collections/c?consistency=most").status == 200)
        }
    }
}
