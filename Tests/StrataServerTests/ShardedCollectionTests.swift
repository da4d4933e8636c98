import Foundation
import StrataCluster
import Testing

@testable import StrataServer

/// The sharded collection router's pure parts: its JSON, the write split,
/// merging, fusion and the group aggregator.
@Suite struct ShardedCollectionTests {
    @Test func jsonKeepsNumbersAndMemberOrderExactly() throws {
        let text = #"{"b":18446744073709551615,"a":[0.1,1e-7,-3],"s":"x\"y\\z\u00e9","n":null,"t":true}"#
        let json = try ShardJSON(parsing: Array(text.utf8))
        #expect(json["b"] == .number("18446744073709551615"))
        #expect(json["a"]?.array?.count == 3)
        #expect(json["s"]?.string == "x\"y\\zé")
        let again = try ShardJSON(parsing: json.bytes)
        #expect(again == json)
        #expect(
            String(decoding: try ShardJSON(parsing: Array(#"{"k":[1,2.50]}"#.utf8)).bytes, as: UTF8.self)
                == #"{"k":[1,2.50]}"#)
    }

    @Test func malformedJsonIsAnError() {
        for bad in ["{", "[1,]", #"{"a" 1}"#, "tru", "{} x", #""unterminated"#] {
            #expect(throws: ShardJSON.SyntaxError.self) { try ShardJSON(parsing: Array(bad.utf8)) }
        }
    }

    @Test func mergingOrdersByScoreThenIdAndDropsRepeats() throws {
        func point(_ id: Int, _ score: Double) -> ShardJSON {
            .object([("id", .int(id)), ("score", .number(String(score)))])
        }
        let merged = ShardRouter.mergeScored(
            [[point(5, 0.9), point(2, 0.5)], [point(1, 0.9), point(7, 0.1)], [point(2, 0.5)]], higherIsBetter: true)
        #expect(merged.compactMap { $0["id"]?.int } == [1, 5, 2, 7])
        let distances = ShardRouter.mergeScored([[point(3, 0.2)], [point(4, 0.1)]], higherIsBetter: false)
        #expect(distances.compactMap { $0["id"]?.int } == [4, 3])
    }

    @Test func idsOrderNumbersBeforeUuids() {
        let uuid = MergeID(.string("00000000-0000-0000-0000-000000000001"))
        #expect(MergeID(.number("18446744073709551615")) < uuid)
        #expect(MergeID(.number("2")) < MergeID(.number("10")))
        #expect(
            MergeID(.string("0000000000000000000000000000000A"))
                == MergeID(.string("00000000-0000-0000-0000-00000000000a")))
    }

    @Test func rrfAndDbsfFuseAsTheEngineDoes() {
        func point(_ id: Int, _ score: Double) -> ShardJSON {
            .object([("id", .int(id)), ("score", .number(String(score)))])
        }
        let sources = [[point(1, 0.9), point(2, 0.8)], [point(2, 5), point(3, 4)]]
        let rrf = ShardRouter.fuse(sources, .object([("fusion", .string("rrf"))]))
        #expect(rrf.compactMap { $0["id"]?.int } == [2, 1, 3])
        let weighted = ShardRouter.fuse(
            sources, .object([("rrf", .object([("k", .int(60)), ("weights", .array([.number("3"), .number("1")]))]))]))
        // 1 / (position / weight + k − 1), positions from 1, summed over the sources.
        let expected: [(Int, Double)] = [
            (2, 1 / (2.0 / 3 + 59) + 1 / (1.0 + 59)), (1, 1 / (1.0 / 3 + 59)), (3, 1 / (2.0 + 59)),
        ]
        #expect(weighted.compactMap { $0["id"]?.int } == expected.map(\.0))
        for (point, (_, score)) in zip(weighted, expected) {
            #expect(abs((point["score"]?.double ?? 0) - score) < 1e-6)
        }
        let dbsf = ShardRouter.fuse(sources, .object([("fusion", .string("dbsf"))]))
        #expect(Set(dbsf.compactMap { $0["id"]?.int }) == [1, 2, 3])
    }

    @Test func combinedReportsSumNumbersAndJoinLists() {
        let a = ShardJSON.object([("summary", .object([("idle_segments", .int(1))])), ("running", .array([.int(1)]))])
        let b = ShardJSON.object([("summary", .object([("idle_segments", .int(2))])), ("running", .array([.int(2)]))])
        let both = ShardRouter.combined([a, b])
        #expect(both["summary"]?["idle_segments"] == .int(3))
        #expect(both["running"] == .array([.int(1), .int(2)]))
    }

    @Test func customShardingNeedsAKnownKeyOnWrites() throws {
        var root = CollectionPlacement(
            name: "c", createBody: "{}", replicationFactor: 1, writeConsistencyFactor: 1, primary: 1,
            replicas: [.init(peerID: 1, state: .active)])
        root.shard_number = 1
        root.sharding_method = "custom"
        root.shard_keys = [
            ShardKeyShards(key: .string("a"), shards: [1, 2]), ShardKeyShards(key: .number(7), shards: [3]),
        ]
        let collection = ShardedCollection(name: "c", root: root, shards: [0: root])
        #expect(throws: APIError.self) { try collection.writeShards(of: .int(1), selector: nil) }
        #expect(throws: APIError.self) { try collection.writeShards(of: .int(1), selector: .string("missing")) }
        #expect(try collection.writeShards(of: .int(1), selector: .number("7")) == [3])
        let both = try collection.writeShards(of: .int(1), selector: .array([.string("a"), .number("7")]))
        #expect(both.count == 2 && [1, 2].contains(both[0]) && both[1] == 3)
        #expect(try collection.readShards(.string("a")) == [1, 2])
        #expect(try collection.readShards(nil) == [0])
    }

    @Test func autoShardingRefusesShardKeys() throws {
        var root = CollectionPlacement(
            name: "c", createBody: "{}", replicationFactor: 1, writeConsistencyFactor: 1, primary: 1,
            replicas: [.init(peerID: 1, state: .active)])
        root.shard_number = 3
        let collection = ShardedCollection(name: "c", root: root, shards: [0: root])
        #expect(try collection.writeShards(of: .int(4), selector: nil) == [ShardMap.shard(ofNumber: 4, shardNumber: 3)])
        #expect(throws: APIError.self) { try collection.writeShards(of: .int(4), selector: .string("a")) }
        #expect(throws: APIError.self) { try collection.writeShards(of: .string("not-an-id"), selector: nil) }
    }
}
