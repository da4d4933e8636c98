import Strata
import StrataIO

/// What the crash-test child writes, made reproducible from small numbers so
/// the parent can recompute every vector and payload it must find.
///
/// A point written by the harness is identified by a *token*: a 64-bit value
/// unique across the whole run (`cycle << 32 | counter`). Its vector and payload
/// are pure functions of the token.
public enum CrashWorkload {
    public static let collectionName = "crashtest"
    /// Where the snapshot workload restores its snapshots.
    public static let restoredCollectionName = "restored"
    public static let dimension = 16
    /// Ids are drawn from 0..<idSpace so upserts overwrite and deletes hit.
    public static let idSpace: UInt64 = 1500

    public static var collectionConfig: CollectionConfig { collectionConfig(for: .basic) }

    /// The collection each workload writes to. `.optimizer` forces tiny
    /// segments so seals, flushes, merges, vacuums and WAL truncations happen
    /// all the time.
    public static func collectionConfig(for workload: Kind) -> CollectionConfig {
        switch workload {
        case .basic:
            return CollectionConfig(size: dimension, distance: .euclid)
        case .snapshot:
            return CollectionConfig(
                size: dimension, distance: .euclid,
                optimizers: OptimizersConfig(deletedThreshold: 0.2, vacuumMinVectorNumber: 16, defaultSegmentNumber: 3,
                                             indexingThresholdKB: 256, flushIntervalSec: 1))
        case .optimizer:
            return CollectionConfig(
                size: dimension, distance: .euclid,
                optimizers: OptimizersConfig(deletedThreshold: 0.1, vacuumMinVectorNumber: 8, defaultSegmentNumber: 3,
                                             indexingThresholdKB: 2, flushIntervalSec: 1))
        }
    }

    /// What the crash-test child does besides writing.
    public enum Kind: String, Sendable, CaseIterable {
        /// Upserts and deletes from concurrent writers.
        case basic
        /// The same, plus tiny segments and a task that keeps calling
        /// `flush()` and `optimize()`; the WAL is truncated constantly.
        case optimizer
        /// The same as basic, plus a thread that keeps taking snapshots (full
        /// and incremental) and restoring the latest full one as collection
        /// `restored` (`CrashTestSnapshotCheck` checks them after each kill).
        case snapshot
    }

    /// The vector stored for `token`: values in [-1, 1), exactly representable
    /// so equality checks are exact.
    public static func vector(for token: UInt64) -> [Float] {
        var rng = SplitMix64(seed: token &* 0x9E37_79B9_7F4A_7C15 ^ 0xC0FFEE)
        return (0..<dimension).map { _ in Float(Int(rng.next() % 4096) - 2048) / 2048 }
    }

    /// The payload stored for `token`.
    public static func payload(for token: UInt64) -> Payload {
        ["token": .int(Int64(bitPattern: token)), "tag": .string("t\(token % 97)")]
    }

    /// Field indexes the workload creates and drops while it writes.
    public static let indexedFields: [(String, PayloadFieldSchema)] = [
        ("tag", PayloadFieldSchema(.keyword)), ("p", PayloadFieldSchema(.integer)), ("token", PayloadFieldSchema(.integer)),
    ]

    public static func point(id: UInt64, token: UInt64) -> PointStruct {
        PointStruct(id: .number(id), vector: vector(for: token), payload: payload(for: token))
    }
}
