import Foundation
import Strata
import StrataPayload
import StrataTestSupport
import Testing

/// A replica applies its primary's log records at the primary's op numbers
/// and ends with the same contents (docs/cluster.md, "Data path").
@Suite struct ReplicationTests {
    let config = CollectionConfig(size: 4, distance: .dot)

    /// A primary with a mix of every kind of write, seeded.
    func writeMixedHistory(_ primary: Collection, seed: UInt64) async throws {
        var random = SeededGenerator.printing(seed: seed)
        try await primary.createFieldIndex("n", schema: PayloadFieldSchema(.integer))
        for round in 0..<30 {
            let points = (0..<20).map { index in
                PointStruct(
                    id: .number(UInt64(Int.random(in: 0..<200, using: &random))),
                    vector: random.floats(4),
                    payload: ["n": .int(Int64(index)), "round": .int(Int64(round))])
            }
            try await primary.upsert(points)
            let some = (0..<5).map { _ in PointID.number(UInt64(Int.random(in: 0..<200, using: &random))) }
            switch round % 4 {
            case 0: try await primary.delete(some)
            case 1: try await primary.setPayload(["flag": .bool(true)], for: some)
            case 2:
                let keep = Filter(must: [.field(FieldCondition(key: try PayloadPath("n"), .match(.value(.integer(3)))))]
                )
                try await primary.upsert(
                    [PointStruct(id: .number(UInt64(round)), vector: random.floats(4))], mode: .upsert, filter: keep)
            default: try await primary.clearPayload(for: some)
            }
        }
    }

    @Test func aReplicaFedThePrimarysRecordsHasItsContentsAndOpNumbers() async throws {
        let primaryDirectory = TemporaryDirectory()
        let replicaDirectory = TemporaryDirectory()
        let primaryDatabase = try Database.open(at: primaryDirectory.path)
        defer { primaryDatabase.close() }
        let replicaDatabase = try Database.open(at: replicaDirectory.path)
        let primary = try primaryDatabase.createCollection("c", config: config)
        var replica = try replicaDatabase.createCollection("c", config: config)
        try await writeMixedHistory(primary, seed: testSeed())

        // Shipped in small runs, as a sender with a byte budget would.
        var shipped: UInt64 = 0
        while let run = try primary.replicationRecords(after: shipped, maxBytes: 2000), !run.isEmpty {
            #expect(try await replica.applyReplicated(run) == run.last?.opNum)
            shipped = run.last!.opNum
        }
        #expect(shipped == primary.lastOperation && replica.lastOperation == primary.lastOperation)
        #expect(try replica.logicalChecksum() == primary.logicalChecksum())
        #expect(replica.count() == primary.count())

        // Reopened, the replica is where it was and keeps following.
        replicaDatabase.close()
        let reopened = try Database.open(at: replicaDirectory.path)
        defer { reopened.close() }
        replica = try reopened.collection("c")
        #expect(replica.lastOperation == primary.lastOperation)
        try await primary.upsert([PointStruct(id: 999, vector: [1, 2, 3, 4], payload: ["late": .bool(true)])])
        let late = try #require(try primary.replicationRecords(after: shipped))
        _ = try await replica.applyReplicated(late)
        #expect(try replica.logicalChecksum() == primary.logicalChecksum())
    }

    @Test func recordsOutOfSequenceOrUndecodableAreRefusedAndWriteNothing() async throws {
        let primaryDirectory = TemporaryDirectory()
        let replicaDirectory = TemporaryDirectory()
        let primaryDatabase = try Database.open(at: primaryDirectory.path)
        defer { primaryDatabase.close() }
        let replicaDatabase = try Database.open(at: replicaDirectory.path)
        defer { replicaDatabase.close() }
        let primary = try primaryDatabase.createCollection("c", config: config)
        let replica = try replicaDatabase.createCollection("c", config: config)
        for id in 1...3 { try await primary.upsert([PointStruct(id: .number(UInt64(id)), vector: [1, 0, 0, 0])]) }
        let records = try #require(try primary.replicationRecords(after: 0))
        #expect(records.map(\.opNum) == [1, 2, 3])

        let gap = await #expect(throws: StrataError.self) { try await replica.applyReplicated(Array(records[1...])) }
        #expect(gap?.code == .outOfSequence)
        #expect(replica.lastOperation == 0 && replica.count() == 0)

        _ = try await replica.applyReplicated([records[0]])
        let again = await #expect(throws: StrataError.self) { try await replica.applyReplicated([records[0]]) }
        #expect(again?.code == .outOfSequence)

        // (A flipped vector byte still decodes: the transport's checksum catches that, not the decoder.)
        var damaged = records[1]
        damaged.payload[0] = 0xEE  // no such operation
        let bad = await #expect(throws: StrataError.self) {
            try await replica.applyReplicated([damaged, records[2]])
        }
        #expect(bad?.code == .invalidArgument)
        #expect(replica.lastOperation == 1 && replica.count() == 1)
        let wrongShape = try await {
            let other = try primaryDatabase.createCollection("wide", config: CollectionConfig(size: 8, distance: .dot))
            try await other.upsert([PointStruct(id: 1, vector: [1, 2, 3, 4, 5, 6, 7, 8])])
            return try #require(try other.replicationRecords(after: 0))
        }()
        let mismatch = await #expect(throws: StrataError.self) {
            try await replica.applyReplicated([.init(opNum: 2, payload: wrongShape[0].payload)])
        }
        #expect(mismatch?.code == .invalidArgument)
        #expect(replica.lastOperation == 1)
    }

    @Test func afterACheckpointTheOldRecordsAreGoneAndASnapshotIsNeeded() async throws {
        let directory = TemporaryDirectory()
        let database = try Database.open(at: directory.path)
        defer { database.close() }
        let primary = try database.createCollection("c", config: config)
        for id in 1...5 { try await primary.upsert([PointStruct(id: .number(UInt64(id)), vector: [1, 0, 0, 0])]) }
        try primary.flush()
        try await primary.upsert([PointStruct(id: 6, vector: [1, 0, 0, 0])])
        // Whether op 1 survives depends on whether the checkpoint removed its file;
        // what is returned is never wrong: nil, or exactly ops 1...6.
        if let records = try primary.replicationRecords(after: 0) {
            #expect(records.map(\.opNum) == Array(1...6))
        }
        #expect(try primary.replicationRecords(after: 5)?.map(\.opNum) == [6])
    }
}
