import StrataCluster
import Testing

@testable import StrataServer

/// How a finished transfer changes the placement (ClusterReplication.complete).
@Suite struct ShardTransferTests {
    private func placement(primary: UInt64, _ transfer: CollectionPlacement.Transfer) -> CollectionPlacement {
        var placement = CollectionPlacement(
            name: "c", createBody: "{}", replicationFactor: 1, writeConsistencyFactor: 1, primary: primary,
            replicas: [.init(peerID: transfer.from, state: .active), .init(peerID: transfer.to, state: .active)])
        placement.epoch = 4
        placement.transfers = [transfer]
        return placement
    }

    @Test func aReplicationKeepsBothReplicasAndEndsTheTransfer() {
        var placement = placement(primary: 1, .init(from: 1, to: 2, kind: .replicate, method: .snapshot))
        let done = ClusterReplication.complete(transfer: 2, in: &placement, me: 1, at: 50)
        #expect(done?.kind == .replicate)
        #expect(placement.transfers == nil && placement.replicas.map(\.peer_id) == [1, 2])
        #expect(placement.primary == 1 && placement.epoch == 4)
    }

    @Test func movingThePrimaryHandsItOverInANewEpoch() {
        var placement = placement(primary: 1, .init(from: 1, to: 2, kind: .move, method: .streamRecords))
        let done = ClusterReplication.complete(transfer: 2, in: &placement, me: 1, at: 50)
        #expect(done?.kind == .move)
        #expect(placement.replicas.map(\.peer_id) == [2])
        #expect(placement.primary == 2 && placement.epoch == 5 && placement.epoch_starts == ["5": 50])
    }

    @Test func movingAnotherReplicaKeepsThePrimaryAndTheEpoch() {
        var placement = placement(primary: 3, .init(from: 1, to: 2, kind: .move, method: .walDelta))
        placement.replicas.append(.init(peerID: 3, state: .active))
        _ = ClusterReplication.complete(transfer: 2, in: &placement, me: 3, at: 50)
        #expect(placement.replicas.map(\.peer_id) == [2, 3])
        #expect(placement.primary == 3 && placement.epoch == 4 && placement.epoch_starts == nil)
    }

    @Test func aReplicaWithoutATransferChangesNothing() {
        var placement = placement(primary: 1, .init(from: 1, to: 2, kind: .move, method: .snapshot))
        let before = placement
        #expect(ClusterReplication.complete(transfer: 3, in: &placement, me: 1, at: 50) == nil)
        #expect(placement == before)
    }
}
