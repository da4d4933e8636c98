import Foundation
import StrataModel
import StrataWAL

/// What a cluster needs from a collection that is one replica of a shard
/// (docs/cluster.md, "Data path"): the primary's log records applied at the
/// primary's op numbers, its own acknowledged records read back for a replica
/// that missed them, and a checksum of its contents to compare replicas.
///
/// **Op numbers are the replication sequence (lsn).** A replica appends each
/// record with the op number the primary gave it, so after the same records
/// the two logs, and every point's version, are equal; a record that is not
/// the replica's next op is refused unwritten.
extension Collection {
    /// The op number of the newest acknowledged write (0: none yet).
    public var lastOperation: UInt64 { wal.lastOpNum }

    /// One logged write as it travels to a replica: its op number and its
    /// encoded operation (docs/format/operations.md).
    public struct ReplicatedRecord: Sendable, Equatable {
        /// The op number the primary's WAL gave the write; the replica logs
        /// it under the same number.
        public var opNum: UInt64
        /// The operation as `WriteOperation.encoded()` writes it: the WAL
        /// record's payload, byte for byte.
        public var payload: [UInt8]

        /// Creates a record of operation `payload` at op number `opNum`.
        public init(opNum: UInt64, payload: [UInt8]) {
            self.opNum = opNum
            self.payload = payload
        }
    }

    /// Applies records shipped by the primary, in order, each at its op
    /// number; returns the last op number once all are durable. Every record
    /// is decoded and checked against the config before anything is written:
    /// a bad record refuses the whole run (`.invalidArgument`). The first
    /// record must be `lastOperation + 1` (`.outOfSequence` otherwise, with
    /// nothing written). A failure part-way leaves a durable prefix; read
    /// `lastOperation` to know where the replica stands.
    public func applyReplicated(_ records: [ReplicatedRecord]) async throws -> UInt64 {
        guard let first = records.first else { return lastOperation }
        var operations: [WriteOperation] = []
        operations.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            guard record.opNum == first.opNum + UInt64(index) else {
                throw StrataError.invalid(
                    "replicated records must have consecutive op numbers; \(record.opNum) follows \(first.opNum + UInt64(index) - 1)"
                )
            }
            let operation: WriteOperation
            do {
                operation = try record.payload.withUnsafeBytes { try WriteOperation.decode($0) }
            } catch {
                throw StrataError.invalid(
                    "replicated operation \(record.opNum) for collection `\(name)` does not decode: \(error)")
            }
            if let mismatch = operation.vectorMismatch(config) {
                throw StrataError.invalid("replicated operation \(record.opNum) for collection `\(name)` \(mismatch)")
            }
            operations.append(operation)
        }
        let current = lastOperation
        guard first.opNum == current + 1 else {
            throw StrataError(
                .outOfSequence,
                "collection `\(name)` is at operation \(current); the replicated records start at \(first.opNum)")
        }
        let store = self.store
        let decoded = operations
        await store.waitWhileBacklogged()
        do {
            return try await wal.append(run: records.map { ($0.opNum, $0.payload) }) { opNum, index in
                store.apply(decoded[index], opNum: opNum)
            }
        } catch let error as WALError where error.code == .invalidArgument {
            throw StrataError(.outOfSequence, "collection `\(name)`: \(error.message)")
        } catch {
            throw StrataError.wrapping(error, context: "replicated write to collection `\(name)`")
        }
    }

    /// This collection's acknowledged records after op `opNum`, about
    /// `maxBytes` of them (at least one), for a replica that missed them.
    /// nil when the log no longer holds op `opNum + 1` (a checkpoint removed
    /// it): the replica needs a snapshot.
    public func replicationRecords(after opNum: UInt64, maxBytes: Int = 8 << 20) throws -> [ReplicatedRecord]? {
        do {
            return try wal.records(after: opNum, maxBytes: maxBytes)?.map {
                ReplicatedRecord(opNum: $0.opNum, payload: $0.payload)
            }
        } catch {
            throw StrataError.wrapping(error, context: "read the WAL of collection `\(name)`")
        }
    }

    /// A checksum of the collection's logical contents: every point's id,
    /// version, vectors and payload, in id order (FNV-1a, 64 bits). Two
    /// replicas at the same op number have the same checksum; how the points
    /// sit in segments does not matter. Reads every point: O(points).
    public func logicalChecksum() throws -> UInt64 {
        var hash = FNV1a()
        var offset: PointID? = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        repeat {
            let page = try store.scroll(offset: offset, limit: 1024, filter: nil, withPayload: true, withVector: true)
            for record in page.records {
                hash.add(Array("\(record.id)".utf8))
                hash.add(record.version)
                for (name, vector) in (record.vectors ?? [:]).sorted(by: { $0.key < $1.key }) {
                    hash.add(Array(name.utf8))
                    for value in vector { hash.add(UInt64(value.bitPattern)) }
                }
                for (name, vector) in (record.sparseVectors ?? [:]).sorted(by: { $0.key < $1.key }) {
                    hash.add(Array(name.utf8))
                    for (index, value) in zip(vector.indices, vector.values) {
                        hash.add(UInt64(index))
                        hash.add(UInt64(value.bitPattern))
                    }
                }
                if let payload = record.payload { hash.add(Array(try encoder.encode(payload))) }
                hash.add(0xFF)
            }
            offset = page.next
        } while offset != nil
        return hash.value
    }
}

/// FNV-1a over 64 bits, fed bytes and little-endian integers.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
        add(UInt64(bytes.count))
    }

    mutating func add(_ number: UInt64) {
        var number = number
        for _ in 0..<8 {
            value ^= number & 0xFF
            value = value &* 0x0000_0100_0000_01B3
            number >>= 8
        }
    }
}
