import Foundation

/// A custom sharding key (Qdrant's `shard_key`): a string or an unsigned integer.
public enum ShardKey: Hashable, Sendable, Codable, CustomStringConvertible {
    case number(UInt64)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        }
    }

    public var description: String {
        switch self {
        case .number(let number): return String(number)
        case .string(let text): return "\"\(text)\""
        }
    }
}

/// One shard key of a custom-sharded collection and the shards that hold its points.
public struct ShardKeyShards: Codable, Sendable, Equatable {
    public var key: ShardKey
    public var shards: [Int]

    public init(key: ShardKey, shards: [Int]) {
        self.key = key
        self.shards = shards
    }
}

/// How a collection's points map to its shards (docs/format/etcd-keyspace.md,
/// "Shards"). The mapping is part of the stored format: changing it would
/// send reads of existing points to shards that do not hold them.
public enum ShardMap {
    /// The separator of a shard's engine collection name (`name~i`), a
    /// character user collection names may not contain on a cluster node.
    public static let separator: Character = "~"

    /// The engine collection (and placement) name of shard `shard` of `collection`.
    public static func shardName(_ collection: String, _ shard: Int) -> String {
        shard == 0 ? collection : "\(collection)\(separator)\(shard)"
    }

    /// How messages name an engine collection: "collection `c`", or "shard i
    /// of collection `c`" for a shard's engine collection `c~i`.
    public static func describe(_ name: String) -> String {
        guard let cut = name.lastIndex(of: separator), let shard = Int(name[name.index(after: cut)...]) else {
            return "collection `\(name)`"
        }
        return "shard \(shard) of collection `\(name[..<cut])`"
    }

    /// The shard of a point id under auto sharding: SplitMix64's finalizer of
    /// the id (an integer id as is; a UUID as its two 64-bit big-endian halves
    /// XOR-ed, after the high half is mixed once), modulo `shardNumber`.
    public static func shard(ofNumber id: UInt64, shardNumber: Int) -> Int {
        Int(mix(id) % UInt64(shardNumber))
    }

    public static func shard(ofUUID uuid: UUID, shardNumber: Int) -> Int {
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: uuid.uuid) { bytes in
            for i in 0..<8 {
                high = high << 8 | UInt64(bytes[i])
                low = low << 8 | UInt64(bytes[8 + i])
            }
        }
        return Int(mix(mix(high) ^ low) % UInt64(shardNumber))
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ClusterNode {
    /// The placements of every shard of `name` other than shard 0, by shard id.
    public func shardPlacements(of name: String) -> [Int: CollectionPlacement] {
        var result: [Int: CollectionPlacement] = [:]
        for placement in placements().values where placement.shard_of == name {
            if let id = placement.shard_id { result[id] = placement }
        }
        return result
    }
}
