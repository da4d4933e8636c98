import Strata
import StrataBinary
import StrataIO

/// What the crash-test child writes, made reproducible from small numbers so
/// the parent can recompute every vector and payload it must find.
///
/// A vector or payload written by the harness is identified by a *token*: a
/// 64-bit value unique across the whole run (`cycle << 32 | writer << 24 |
/// counter`). The vector and payload are pure functions of the token.
///
/// **Partitions.** Writer `w` of `W` only ever touches ids with `id % W == w`,
/// one operation at a time, so for every id the operations form one sequence
/// and at most one of them (the writer's last) is in flight at a kill. That
/// makes the oracle exact: each writer's partition must be in the state its
/// acknowledged operations produce, or that state plus its one in-flight
/// operation applied whole (`CrashTestOracle`).
public enum CrashWorkload {
    public static let collectionName = "crashtest"
    /// Where the snapshot and mixed workloads restore their snapshots.
    public static let restoredCollectionName = "restored"
    /// The `mixed` workload renames the collection to this name and back in
    /// one maintenance step; a kill may leave it under either name, never both.
    public static let renamedCollectionName = "crashtest-renamed"
    /// An alias of the collection (the `mixed` workload): it must follow every rename.
    public static let aliasName = "crashtest-alias"
    public static let dimension = 16
    /// Ids are drawn from 0..<idSpace so upserts overwrite and deletes hit.
    public static let idSpace: UInt64 = 1500

    public static var collectionConfig: CollectionConfig { collectionConfig(for: .basic) }

    /// The collection each workload writes to. `.optimizer` forces tiny
    /// segments so seals, flushes, merges, vacuums and WAL truncations happen
    /// all the time; `.mixed` uses small ones.
    public static func collectionConfig(for workload: Kind) -> CollectionConfig {
        switch workload {
        case .basic:
            return CollectionConfig(size: dimension, distance: .euclid)
        case .snapshot:
            return CollectionConfig(
                size: dimension, distance: .euclid,
                optimizers: OptimizersConfig(
                    deletedThreshold: 0.2, vacuumMinVectorNumber: 16, defaultSegmentNumber: 3,
                    indexingThresholdKB: 256, flushIntervalSec: 1))
        case .optimizer:
            return CollectionConfig(
                size: dimension, distance: .euclid,
                optimizers: OptimizersConfig(
                    deletedThreshold: 0.1, vacuumMinVectorNumber: 8, defaultSegmentNumber: 3,
                    indexingThresholdKB: 2, flushIntervalSec: 1))
        case .mixed:
            // Segments of ~400 points: a few immutable segments with graphs,
            // merged and vacuumed, without the optimizer workload's flood of
            // tiny ones (whose per-flush tombstone rewrites would let the WAL
            // tail, and with it every recovery, grow from cycle to cycle).
            // Two named dense vectors, a multivector and a sparse vector;
            // points may lack all but the unnamed one (see `auxVector(for:)`,
            // `multiVector(for:)`, `sparseVector(for:)`). The dense vectors are
            // stored as float16 (compact segment rows, config.json version 4):
            // their values, k/2048 and k/128, are exact in binary16, so what
            // the model expects is unchanged.
            return CollectionConfig(
                vectors: [
                    "": VectorParams(size: dimension, distance: .euclid, datatype: .float16),
                    auxVectorName: VectorParams(size: auxDimension, distance: .dot, datatype: .float16),
                    multiVectorName: VectorParams(
                        size: multiDimension, distance: .dot, multivectorConfig: MultiVectorConfig(),
                        datatype: .float16),
                ],
                optimizers: OptimizersConfig(
                    deletedThreshold: 0.2, vacuumMinVectorNumber: 16, defaultSegmentNumber: 3,
                    indexingThresholdKB: 24, flushIntervalSec: 1),
                sparseVectors: [sparseVectorName: SparseVectorParams(modifier: .idf)],
                ttl: TTLConfig(key: expiresKey), versions: VersionsConfig(retainCount: 3))
        }
    }

    /// What the crash-test child does besides writing.
    public enum Kind: String, Sendable, CaseIterable {
        /// Upserts, deletes, payload updates and field index changes from
        /// concurrent writers.
        case basic
        /// The same, plus tiny segments and a thread that keeps calling
        /// `flush()` and `optimize()`; the WAL is truncated constantly.
        case optimizer
        /// The same as basic, plus a thread that keeps taking snapshots (full
        /// and incremental) and restoring the latest full one as collection
        /// `restored` (`CrashTestSnapshotCheck` checks them after each kill).
        case snapshot
        /// Every kind of write (upserts, vector updates, deletes by id and by
        /// filter, set / overwrite / delete-key / clear payload by id and by
        /// filter, field index changes, conditional upserts in every update
        /// mode with and without a filter, vector updates under a filter),
        /// tiny segments, and a maintenance
        /// thread that in random order flushes, merges, takes full and
        /// incremental snapshots, restores them and closes and reopens the
        /// whole database while the writers wait.
        case mixed
    }

    /// The writer whose partition `id` is in.
    public static func owner(of id: UInt64, writers: Int) -> Int { Int(id % UInt64(writers)) }

    /// The writer that made `token`.
    public static func writer(of token: UInt64) -> Int { Int((token >> 24) & 0xFF) }

    /// The vector stored for `token`: values in [-1, 1), exactly representable
    /// so equality checks are exact.
    public static func vector(for token: UInt64) -> [Float] {
        var rng = SplitMix64(seed: token &* 0x9E37_79B9_7F4A_7C15 ^ 0xC0FFEE)
        return (0..<dimension).map { _ in Float(Int(rng.next() % 4096) - 2048) / 2048 }
    }

    /// The payload an upsert stores with `token`. With `named` (the `mixed`
    /// workload, whose collection has a `ttl` config on `expiresKey`) one
    /// token in 13 carries an expiry long past (the point is expired the
    /// moment it is written) and one in 13 one far in the future.
    public static func payload(for token: UInt64, named: Bool = false) -> Payload {
        var payload: Payload = [
            "token": .int(Int64(bitPattern: token)), "tag": .string(tag(token)), "w": .int(Int64(writer(of: token))),
        ]
        if named, let expiry = expiry(for: token) { payload[expiresKey] = expiry }
        return payload
    }

    /// The TTL key of the `mixed` collection.
    public static let expiresKey = "expires_at"
    /// An expiry long past (Unix seconds).
    public static let pastExpiry = JSONValue.int(1000)

    static func expiry(for token: UInt64) -> JSONValue? {
        switch token % 13 {
        case 0: return pastExpiry
        case 1: return .string("2999-01-01T00:00:00Z")
        default: return nil
        }
    }

    /// A digest of everything `collection` holds (ids, payloads, vectors,
    /// sparse vectors of the points it shows), to check
    /// that a tagged version reads the same after every crash.
    public static func digest(_ collection: Collection) throws -> String {
        var writer = ByteWriter()
        let records = try collection.scroll(limit: Int.max - 1, withPayload: true, withVector: true).points
        for record in records {
            writer.write(record.id)
            writer.write(JSONValue.object(record.payload ?? [:]))
            for (name, vector) in (record.vectors ?? [:]).sorted(by: { $0.key < $1.key }) {
                writer.writeString(name)
                vector.withUnsafeBufferPointer { writer.write(floats: $0) }
            }
            for (name, vector) in (record.sparseVectors ?? [:]).sorted(by: { $0.key < $1.key }) {
                writer.writeString(name)
                for index in vector.indices { writer.write(index) }
                vector.values.withUnsafeBufferPointer { writer.write(floats: $0) }
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in writer.bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\(records.count):" + String(hash, radix: 16)
    }

    /// Whether a point with this payload is expired (in the `mixed` workload).
    public static func isExpired(_ payload: Payload) -> Bool { payload[expiresKey] == pastExpiry }

    /// The payload an overwrite stores (`O` operations).
    public static func overwritePayload(for token: UInt64) -> Payload {
        ["o": .int(Int64(bitPattern: token)), "tag": .string(tag(token)), "w": .int(Int64(writer(of: token)))]
    }

    /// One of 97 tag values.
    public static func tag(_ token: UInt64) -> String { "t\(token % 97)" }

    /// What `F` and `Q` operations select: the writer's own points with this tag.
    public static func partitionFilter(writer: Int, tag: String) -> Filter {
        Filter(must: [
            .field(FieldCondition(key: try! PayloadPath("w"), .match(.value(.integer(Int64(writer)))))),
            .field(FieldCondition(key: try! PayloadPath("tag"), .match(.value(.keyword(tag))))),
        ])
    }

    /// The condition of a conditional write (`N` and `G` operations of the
    /// `mixed` workload): which existing points it may change.
    public enum WriteCondition: String, Sendable, CaseIterable {
        /// The writer's own points (payload `w`) whose tag is `t<k>` with `k` even.
        case even
        /// The same with `k` odd.
        case odd
        /// Points that hold the named vector `aux`.
        case aux

        /// The filter the child sends for writer `writer`.
        public func filter(writer: Int) -> Filter {
            switch self {
            case .aux:
                return Filter(must: [.hasVector(CrashWorkload.auxVectorName)])
            case .even, .odd:
                let parity = self == .even ? 0 : 1
                let tags = (0..<97).filter { $0 % 2 == parity }.map { MatchValue.keyword("t\($0)") }
                return Filter(must: [
                    .field(FieldCondition(key: try! PayloadPath("w"), .match(.value(.integer(Int64(writer)))))),
                    .field(FieldCondition(key: try! PayloadPath("tag"), .match(.any(tags)))),
                ])
            }
        }
    }

    /// Field indexes the workload creates and drops while it writes.
    public static let indexedFields: [(String, PayloadFieldSchema)] = [
        ("tag", PayloadFieldSchema(.keyword)), ("p", PayloadFieldSchema(.integer)),
        ("token", PayloadFieldSchema(.integer)),
        ("w", PayloadFieldSchema(.integer)),
    ]

    /// The second named vector of the `mixed` workload's collection.
    public static let auxVectorName = "aux"
    public static let auxDimension = 4

    /// The `aux` vector written with `token`, or nil (a third of the tokens):
    /// points may lack a named vector.
    public static func auxVector(for token: UInt64) -> [Float]? {
        guard token % 3 != 0 else { return nil }
        var rng = SplitMix64(seed: token ^ 0xA0C5)
        return (0..<auxDimension).map { _ in Float(Int(rng.next() % 256) - 128) / 128 }
    }

    /// The multivector (max_sim, Dot) of the `mixed` workload's collection.
    public static let multiVectorName = "mv"
    public static let multiDimension = 4

    /// The `mv` rows written with `token` (1…3 rows back to back), or nil
    /// (a fifth of the tokens).
    public static func multiVector(for token: UInt64) -> [Float]? {
        guard token % 5 != 0 else { return nil }
        var rng = SplitMix64(seed: token ^ 0x3D_C0DE)
        let rows = Int(rng.next() % 3) + 1
        return (0..<rows * multiDimension).map { _ in Float(Int(rng.next() % 256) - 128) / 128 }
    }

    /// The sparse vector (IDF-weighted) of the `mixed` workload's collection.
    public static let sparseVectorName = "sp"

    /// The `sp` vector written with `token` (1…8 terms of 64, canonical), or
    /// nil (a quarter of the tokens).
    public static func sparseVector(for token: UInt64) -> SparseVector? {
        guard token % 4 != 0 else { return nil }
        var rng = SplitMix64(seed: token ^ 0x5BA5_5E)
        var terms = Set<UInt32>()
        for _ in 0..<(Int(rng.next() % 8) + 1) { terms.insert(UInt32(rng.next() % 64)) }
        let indices = terms.sorted()
        return SparseVector(indices: indices, values: indices.map { _ in Float(Int(rng.next() % 16) + 1) / 8 })
    }

    /// The dense vectors and multivectors written with `token`: the unnamed
    /// one, and with `named` (the `mixed` workload) `aux` and `mv` when the
    /// token has them.
    public static func vectors(for token: UInt64, named: Bool) -> [String: [Float]] {
        var vectors = ["": vector(for: token)]
        if named, let aux = auxVector(for: token) { vectors[auxVectorName] = aux }
        if named, let rows = multiVector(for: token) { vectors[multiVectorName] = rows }
        return vectors
    }

    /// The sparse vectors written with `token` (only with `named`).
    public static func sparseVectors(for token: UInt64, named: Bool) -> [String: SparseVector] {
        guard named, let vector = sparseVector(for: token) else { return [:] }
        return [sparseVectorName: vector]
    }

    public static func point(id: UInt64, token: UInt64, named: Bool = false) -> PointStruct {
        PointStruct(
            id: .number(id), vectors: vectors(for: token, named: named), payload: payload(for: token, named: named),
            sparseVectors: sparseVectors(for: token, named: named))
    }
}
