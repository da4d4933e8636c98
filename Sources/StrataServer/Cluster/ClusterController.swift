import Foundation
import Logging
import StrataCluster
import Synchronization

/// Failover, run by the one node that holds the controller role
/// (docs/cluster.md, "Failover"). Every 250 ms it looks for collections
/// whose primary no longer runs (its lease expired) and promotes a replica:
///
/// 1. **Fence**: by compare-and-swap, the epoch grows by one and the primary
///    becomes 0 (none): no node takes writes for the collection; the old
///    primary's replica entry turns `Partial`.
/// 2. **Ask** each running `Active` replica for its last op, with
///    `?fence=<epoch>`: from then on it refuses records of older epochs, so
///    the positions it reports are final.
/// 3. **Promote** the one with the highest op number (ties: lowest peer id)
///    by compare-and-swap, recording that op number as the new epoch's start.
///    Replicas that answered stay `Active` (their logs are prefixes of the
///    new primary's); `Active` ones that did not answer turn `Partial`. When no
///    `Active` replica runs, the deposed primary is promoted again once it is
///    back: it holds every acknowledged write.
///
/// Every acknowledged write is on every `Active` replica, so the promoted one
/// has them all; what the old primary logged after that start was never
/// acknowledged, and catch-up rebuilds it if it comes back with it.
final class ClusterController: Sendable {
    let cluster: ClusterNode
    let peers: PeerClient
    let logger: Logger
    private let loop = Mutex<Task<Void, Never>?>(nil)

    init(cluster: ClusterNode, logger: Logger) {
        self.cluster = cluster
        peers = PeerClient(cluster.configuration)
        self.logger = logger
    }

    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                guard cluster.isController else { continue }
                let live = cluster.livePeers()
                for (name, placement) in cluster.placements()
                where placement.primary == 0 || live[placement.primary] == nil {
                    await failover(name, placement)
                }
            }
        }
        loop.withLock { $0 = task }
    }

    func stop() { loop.withLock { $0?.cancel() } }

    /// Fences `peer`'s replica of `name` at `epoch` and returns its last op number, if it answers.
    private func fencedPosition(
        _ name: String, of peer: UInt64, epoch: UInt64, live: [UInt64: MemberRecord]
    ) async -> UInt64? {
        guard let url = live[peer]?.p2p_url else { return nil }
        let reply = try? await peers.call(
            .GET, url, "/p2p/v1/collections/\(name)/state?fence=\(epoch)", timeout: .seconds(2))
        guard let reply, reply.status == 200 else { return nil }
        return reply.number("last_operation")
    }

    func failover(_ name: String, _ seen: CollectionPlacement) async {
        do {
            // 1. Fence (a fence left by an interrupted failover is reused).
            var fenced = seen
            if seen.primary != 0 {
                guard
                    let stored = try await cluster.updatePlacement(
                        name,
                        { placement in
                            guard placement.epoch == seen.epoch, placement.primary == seen.primary else { return false }
                            placement.epoch += 1
                            if let index = placement.replicas.firstIndex(where: { $0.peer_id == seen.primary }) {
                                placement.replicas[index].state = .partial
                            }
                            placement.previous_primary = seen.primary
                            placement.primary = 0
                            return true
                        })
                else { return }
                fenced = stored
                logger.warning(
                    "the primary of a collection stopped; failing over",
                    metadata: ["collection": "\(name)", "old_primary": "\(seen.primary)", "epoch": "\(fenced.epoch)"])
            }
            // 2. Ask the running Active replicas where they are, fencing them.
            let live = cluster.livePeers()
            var positions: [(peer: UInt64, last: UInt64)] = []
            for replica in fenced.replicas where replica.state == .active {
                if let last = await fencedPosition(name, of: replica.peer_id, epoch: fenced.epoch, live: live) {
                    positions.append((replica.peer_id, last))
                }
            }
            // No Active replica runs: the deposed primary itself, once it is back, holds every
            // acknowledged write (a collection with one replica lives on this way).
            var restoringPrevious = false
            if positions.isEmpty, let previous = fenced.previous_primary,
                let last = await fencedPosition(name, of: previous, epoch: fenced.epoch, live: live)
            {
                positions.append((previous, last))
                restoringPrevious = true
            }
            guard let chosen = positions.max(by: { ($0.last, $1.peer) < ($1.last, $0.peer) }) else {
                return  // tried again on the next pass, when a replica may be back
            }
            let answered = Set(positions.map(\.peer))
            // 3. Promote.
            let epoch = fenced.epoch
            try await cluster.updatePlacement(name) { placement in
                guard placement.epoch == epoch, placement.primary == 0 else { return false }
                placement.primary = chosen.peer
                placement.previous_primary = nil
                placement.epoch_starts = (placement.epoch_starts ?? [:]).merging([String(epoch): chosen.last]) { $1 }
                for index in placement.replicas.indices {
                    let peer = placement.replicas[index].peer_id
                    if answered.contains(peer) {
                        // Fenced and asked: a prefix of the old primary's log, hence of the new one's.
                        placement.replicas[index].state = .active
                        placement.replicas[index].epoch = epoch
                    } else if placement.replicas[index].state == .active {
                        // Not fenced, not asked: it may hold records the new primary lacks.
                        placement.replicas[index].state = .partial
                    }
                }
                return true
            }
            if restoringPrevious {
                logger.warning(
                    "no other Active replica ran; the former primary is primary again",
                    metadata: ["collection": "\(name)", "primary": "\(chosen.peer)"])
            }
            logger.warning(
                "promoted a new primary",
                metadata: [
                    "collection": "\(name)", "primary": "\(chosen.peer)", "epoch": "\(epoch)",
                    "start_op": "\(chosen.last)",
                ])
        } catch {
            logger.warning(
                "failover did not complete; retrying", metadata: ["collection": "\(name)", "error": "\(error)"])
        }
    }
}
