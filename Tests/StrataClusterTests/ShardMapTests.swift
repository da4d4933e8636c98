import Foundation
import Testing

@testable import StrataCluster

/// The point → shard mapping is part of the stored format
/// (docs/format/etcd-keyspace.md, "Shards"): these values must never change.
@Suite struct ShardMapTests {
    @Test func integerIdsMapToTheDocumentedShards() {
        #expect(
            (0..<12).map { ShardMap.shard(ofNumber: UInt64($0), shardNumber: 3) } == [
                1, 2, 1, 0, 1, 2, 2, 0, 1, 1, 1, 0,
            ])
        #expect(ShardMap.mix(0) == 16_294_208_416_658_607_535)
        #expect(ShardMap.mix(1) == 10_451_216_379_200_822_465)
        #expect(ShardMap.mix(.max) == 16_490_336_266_968_443_936)
    }

    @Test func uuidsMapByBothHalves() throws {
        let uuid = try #require(UUID(uuidString: "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"))
        #expect(ShardMap.shard(ofUUID: uuid, shardNumber: 3) == 0)
        #expect(ShardMap.shard(ofUUID: uuid, shardNumber: 7) == 6)
    }

    @Test func pointsSpreadEvenly() {
        var counts = [Int](repeating: 0, count: 5)
        for id in 0..<50_000 { counts[ShardMap.shard(ofNumber: UInt64(id), shardNumber: 5)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
    }

    @Test func shardNamesKeepShardZeroUnderTheCollectionsName() {
        #expect(ShardMap.shardName("docs", 0) == "docs")
        #expect(ShardMap.shardName("docs", 4) == "docs~4")
        #expect(ShardMap.describe("docs~4") == "shard 4 of collection `docs`")
        #expect(ShardMap.describe("docs") == "collection `docs`")
    }

    @Test func shardKeysDecodeAsStringsOrNumbers() throws {
        let keys = try JSONDecoder().decode([ShardKey].self, from: Data(#"["a",7]"#.utf8))
        #expect(keys == [.string("a"), .number(7)])
        #expect(String(decoding: try JSONEncoder().encode(keys), as: UTF8.self) == #"["a",7]"#)
    }

    @Test func aPlacementWithoutShardFieldsIsOneShard() throws {
        let json =
            #"{"name":"c","create_body":"{}","replication_factor":1,"write_consistency_factor":1,"epoch":1,"primary":5,"replicas":[{"peer_id":5,"state":"Active"}]}"#
        let placement = try JSONDecoder().decode(CollectionPlacement.self, from: Data(json.utf8))
        #expect(!placement.isSharded && placement.shard_number == nil)
        var sharded = placement
        sharded.shard_number = 3
        #expect(sharded.isSharded)
        sharded.shard_number = 1
        sharded.sharding_method = "custom"
        #expect(sharded.isSharded)
    }
}
