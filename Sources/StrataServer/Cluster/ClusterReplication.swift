import Foundation
import Logging
import Strata
import StrataBinary
import StrataCluster
import Synchronization

/// The primary's side of replication (docs/cluster.md, "Data path"): the
/// engine's `ReplicationHook` for a cluster node.
///
/// - **Before a write**: only the collection's primary, holding its lease,
///   with at least `write_consistency_factor` Active replicas (counting
///   itself), may write; otherwise nothing is written (503).
/// - **After the write is durable here**: it is shipped to every other
///   replica; the write is acknowledged once `write_consistency_factor`
///   Active replicas (counting this one) have it durable. An Active replica
///   that has not confirmed within `replicaTimeout` is marked `Partial` (by
///   compare-and-swap in etcd) *before* the write is acknowledged without it;
///   if that cannot be recorded, the write is not acknowledged.
/// - **Catch-up**: a background loop brings `Partial` replicas up to date from
///   this log (a WAL delta) and marks them Active again while no write is
///   being replicated, so an Active replica never misses an acknowledged write.
///
/// Writes to one collection are replicated one at a time (`gate`); each
/// shipment carries every record the replica lacks, so concurrent writes are
/// batched into one round trip.
final class ClusterReplication: ReplicationHook, Sendable {
    let cluster: ClusterNode
    let database: Database
    let peers: PeerClient
    let replicaTimeout: Duration
    let logger: Logger
    /// Per collection: the async gate serializing replication, and what each replica confirmed.
    private let links = Mutex<[String: CollectionLinks]>([:])
    private let loop = Mutex<Task<Void, Never>?>(nil)

    init(cluster: ClusterNode, database: Database, secret: String, replicaTimeout: Duration, logger: Logger) {
        self.cluster = cluster
        self.database = database
        peers = PeerClient(secret: secret)
        self.replicaTimeout = replicaTimeout
        self.logger = logger
    }

    func authorizeWrite(collection: String) throws -> UInt64 {
        guard let placement = cluster.placement(collection) else {
            throw StrataError(.unavailable, "collection `\(collection)` is not placed in the cluster")
        }
        let me = cluster.identity.peerID
        guard placement.primary == me else {
            throw StrataError(
                .unavailable,
                "this node is not the primary of collection `\(collection)` (peer \(placement.primary) is); send writes there"
            )
        }
        guard cluster.holdsLease else {
            throw StrataError(.unavailable, "this node cannot renew its cluster lease; writes are refused until it can")
        }
        guard placement.activeCount >= placement.write_consistency_factor else {
            throw StrataError(
                .unavailable,
                "collection `\(collection)` has \(placement.activeCount) active replicas, fewer than its write_consistency_factor \(placement.write_consistency_factor)"
            )
        }
        return placement.epoch
    }

    func replicate(collection: String, through opNum: UInt64, authorization epoch: UInt64) async throws {
        let local = try database.collection(collection)
        let me = cluster.identity.peerID
        let links = self.links(for: collection)
        try await links.gate.withLock {
            // Still the primary of the epoch that authorized this write? A node deposed
            // meanwhile (paused, cut off) acknowledges nothing and touches no replica.
            guard let placement = cluster.placement(collection), placement.primary == me, placement.epoch == epoch
            else {
                throw StrataError(
                    .unavailable,
                    "write \(opNum) to `\(collection)` is not acknowledged: this node is no longer its primary")
            }
            links.align(with: placement)
            // Partial replicas are brought up to date by the catch-up loop, not by each write.
            let others = placement.replicas.filter { $0.peer_id != me && $0.state == .active }
            let confirmed = await withTaskGroup(of: (UInt64, Bool).self) { group in
                for replica in others {
                    group.addTask {
                        let ok = await self.ship(
                            local, to: replica.peer_id, through: opNum, placement: placement, links: links)
                        return (replica.peer_id, ok)
                    }
                }
                var result: [UInt64: Bool] = [:]
                for await (peer, ok) in group { result[peer] = ok }
                return result
            }
            let failedActive = others.filter { confirmed[$0.peer_id] != true }.map(\.peer_id)
            if !failedActive.isEmpty {
                var deposed = false
                do {
                    try await cluster.updatePlacement(collection) { current in
                        guard current.epoch == epoch, current.primary == me else {
                            deposed = true
                            return false
                        }
                        var changed = false
                        for index in current.replicas.indices
                        where failedActive.contains(current.replicas[index].peer_id)
                            && current.replicas[index].state == .active
                        {
                            current.replicas[index].state = .partial
                            changed = true
                        }
                        return changed
                    }
                } catch {
                    try? await cluster.refresh()
                    throw StrataError(
                        .unavailable,
                        "write \(opNum) to `\(collection)` is not acknowledged: replicas \(failedActive) did not confirm it and etcd could not record them as Partial (\(error))"
                    )
                }
                if deposed {
                    throw StrataError(
                        .unavailable,
                        "write \(opNum) to `\(collection)` is not acknowledged: this node is no longer its primary")
                }
                logger.warning(
                    "replicas fell behind; marked Partial",
                    metadata: ["collection": "\(collection)", "peers": "\(failedActive)", "op": "\(opNum)"])
            }
            let activeConfirmed = 1 + others.filter { confirmed[$0.peer_id] == true }.count
            guard activeConfirmed >= placement.write_consistency_factor else {
                throw StrataError(
                    .unavailable,
                    "write \(opNum) to `\(collection)` is not acknowledged: \(activeConfirmed) replicas have it, write_consistency_factor is \(placement.write_consistency_factor)"
                )
            }
            // A primary paused past its lease must not acknowledge: another may have taken over.
            guard cluster.holdsLease else {
                throw StrataError(
                    .unavailable, "this node lost its cluster lease while writing; the write is not acknowledged")
            }
        }
    }

    /// Ships what `peer` lacks up to `opNum`; true once it confirmed `opNum`
    /// (durable there) within the replica timeout. On first contact in an
    /// epoch the replica's position is checked against this log (its last
    /// record's checksum): a replica whose log is not a prefix of this one is
    /// marked divergent and never confirms.
    private func ship(
        _ local: Strata.Collection, to peer: UInt64, through opNum: UInt64, placement: CollectionPlacement,
        links: CollectionLinks, timeout: Duration? = nil
    ) async -> Bool {
        guard !links.isDivergent(peer),
            let url = cluster.livePeers()[peer]?.p2p_url
                ?? cluster.status().peers.first(where: { $0.record.peer_id == peer })?.record.p2p_url
        else { return false }
        let clock = ContinuousClock()
        let deadline = clock.now + (timeout ?? replicaTimeout)
        let base = "/p2p/v1/collections/\(local.name)"
        var confirmed = links.confirmed(peer)
        do {
            while confirmed.map({ $0 < opNum }) ?? true {
                let remaining = deadline - clock.now
                guard remaining > .zero else { return false }
                if confirmed == nil {
                    let state = try await peers.call(.GET, url, base + "/state", timeout: remaining)
                    guard state.status == 200, let last = state.number("last_operation") else { return false }
                    guard try agrees(local, at: last, replicaCRC: state.number("last_crc")) else {
                        links.markDivergent(peer)
                        logger.warning(
                            "a replica's log is not a prefix of the primary's; it will be rebuilt",
                            metadata: ["collection": "\(local.name)", "peer": "\(peer)", "replica_op": "\(last)"])
                        return false
                    }
                    confirmed = last
                    continue
                }
                guard let records = try local.replicationRecords(after: confirmed!, maxBytes: 16 << 20),
                    !records.isEmpty
                else { return false }  // gone from the log: the replica needs a snapshot
                let reply = try await peers.call(
                    .POST, url, base + "/replicate?epoch=\(placement.epoch)&from=\(cluster.identity.peerID)",
                    body: ReplicationFrames.encode(records), contentType: "application/octet-stream",
                    timeout: deadline - clock.now)
                guard reply.status == 200, let last = reply.number("last_operation") else {
                    // Out of sequence (409) or anything else: ask where it stands next time.
                    links.setConfirmed(peer, nil)
                    return false
                }
                confirmed = last
            }
            links.setConfirmed(peer, confirmed)
            return true
        } catch {
            links.setConfirmed(peer, nil)
            return false
        }
    }

    /// Whether a replica at op `last` (whose last record has the masked CRC
    /// `replicaCRC`) holds a prefix of this log. Unknown (the record left this
    /// log at a checkpoint, or an old replica sent no CRC) counts as agreeing
    /// only up to this log's end.
    private func agrees(_ local: Strata.Collection, at last: UInt64, replicaCRC: UInt64?) throws -> Bool {
        guard last <= local.lastOperation else { return false }
        guard last > 0, let replicaCRC,
            let record = try local.replicationRecords(after: last - 1, maxBytes: 1)?.first, record.opNum == last
        else { return true }
        return UInt64(CRC32C.mask(CRC32C.checksum(record.payload))) == replicaCRC
    }

    private func links(for collection: String) -> CollectionLinks {
        links.withLock { map in
            if let existing = map[collection] { return existing }
            let created = CollectionLinks()
            map[collection] = created
            return created
        }
    }

    // MARK: Catch-up

    /// Starts the loop that brings Partial replicas of this node's collections up to date.
    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                await catchUpOnce()
            }
        }
        loop.withLock { $0 = task }
    }

    func stop() { loop.withLock { $0?.cancel() } }

    func catchUpOnce() async {
        let me = cluster.identity.peerID
        guard cluster.holdsLease else { return }
        for (name, placement) in cluster.placements() where placement.primary == me {
            let lagging = placement.replicas.filter { $0.state == .partial && cluster.livePeers()[$0.peer_id] != nil }
            guard !lagging.isEmpty, let local = try? database.collection(name) else { continue }
            let links = self.links(for: name)
            links.align(with: placement)
            for replica in lagging {
                // A replica from an older epoch, or found divergent, may hold records that were
                // never acknowledged: if its log reaches past what it shares with this one, it is
                // rebuilt from scratch.
                if (replica.epoch ?? 1) < placement.epoch || links.isDivergent(replica.peer_id) {
                    guard await reconcile(replica, of: local, placement: placement, links: links) else { continue }
                }
                // Most of the way without holding writes back, then the last step under the gate.
                _ = await ship(
                    local, to: replica.peer_id, through: local.lastOperation, placement: placement, links: links,
                    timeout: .seconds(30))
                do {
                    try await links.gate.withLock {
                        guard let current = cluster.placement(name), current.epoch == placement.epoch,
                            current.primary == me, current.state(of: replica.peer_id) == .partial,
                            await ship(
                                local, to: replica.peer_id, through: local.lastOperation, placement: current,
                                links: links, timeout: .seconds(30)),
                            cluster.holdsLease
                        else { return }
                        let epoch = current.epoch
                        try await cluster.updatePlacement(name) { placement in
                            guard placement.epoch == epoch, placement.primary == me,
                                let index = placement.replicas.firstIndex(where: { $0.peer_id == replica.peer_id }),
                                placement.replicas[index].state == .partial
                            else { return false }
                            placement.replicas[index].state = .active
                            placement.replicas[index].epoch = placement.epoch
                            return true
                        }
                        logger.info(
                            "replica caught up; Active again",
                            metadata: [
                                "collection": "\(name)", "peer": "\(replica.peer_id)", "op": "\(local.lastOperation)",
                            ])
                    }
                } catch {
                    // Indeterminate: read the truth before the next write decides whom to ship to.
                    try? await cluster.refresh()
                }
            }
        }
    }
}

extension ClusterReplication {
    /// Checks a lagging replica of an older epoch (or found divergent) against
    /// what it still shares with this primary's log; rebuilds it empty when it
    /// holds more and this log can refill it from op 1. True when it can now
    /// be caught up by WAL delta.
    func reconcile(
        _ replica: CollectionPlacement.Replica, of local: Strata.Collection, placement: CollectionPlacement,
        links: CollectionLinks
    ) async -> Bool {
        guard let url = cluster.livePeers()[replica.peer_id]?.p2p_url else { return false }
        let base = "/p2p/v1/collections/\(local.name)"
        do {
            let state = try await peers.call(.GET, url, base + "/state", timeout: replicaTimeout)
            guard state.status == 200, let last = state.number("last_operation") else { return false }
            let agreed = placement.agreedPrefix(since: replica.epoch ?? 1)
            if !links.isDivergent(replica.peer_id), last <= agreed,
                try agrees(local, at: last, replicaCRC: state.number("last_crc"))
            {
                return true
            }
            guard try local.replicationRecords(after: 0, maxBytes: 1) != nil || local.lastOperation == 0 else {
                logger.warning(
                    "a replica holds records the primary does not, and this log no longer starts at op 1: it needs a snapshot transfer (not built yet) and stays Partial",
                    metadata: ["collection": "\(local.name)", "peer": "\(replica.peer_id)"])
                return false
            }
            logger.warning(
                "a replica holds records the primary does not; rebuilding it",
                metadata: [
                    "collection": "\(local.name)", "peer": "\(replica.peer_id)", "replica_op": "\(last)",
                    "agreed_through": "\(agreed)",
                ])
            let deleted = try await peers.call(.DELETE, url, base, timeout: .seconds(30))
            guard deleted.status == 200 else { return false }
            let created = try await peers.call(
                .POST, url, base + "/create", body: Array(placement.create_body.utf8), timeout: .seconds(30))
            guard created.status == 200 else { return false }
            links.clearDivergent(replica.peer_id)
            links.setConfirmed(replica.peer_id, 0)
            let me = cluster.identity.peerID
            try await cluster.updatePlacement(local.name) { current in
                guard current.epoch == placement.epoch, current.primary == me,
                    let index = current.replicas.firstIndex(where: { $0.peer_id == replica.peer_id })
                else { return false }
                current.replicas[index].epoch = current.epoch  // empty now: a prefix of anything
                return true
            }
            return true
        } catch {
            return false
        }
    }
}

/// One collection's replication state on its primary: the gate that
/// serializes its replication, and what each replica confirmed in the
/// current incarnation and epoch (forgotten when either changes).
final class CollectionLinks: Sendable {
    let gate = AsyncGate()
    private struct Positions {
        var tag = ""
        /// The last op each replica confirmed (absent: unknown, ask it).
        var confirmed: [UInt64: UInt64] = [:]
        /// Replicas whose log was found not to be a prefix of this one.
        var divergent: Set<UInt64> = []
    }
    private let positions = Mutex(Positions())

    /// Forgets every position if the collection was recreated or its epoch changed.
    func align(with placement: CollectionPlacement) {
        let tag = "\(placement.incarnation ?? "")/\(placement.epoch)/\(placement.primary)"
        positions.withLock { positions in
            if positions.tag != tag { positions = Positions(tag: tag) }
        }
    }

    func confirmed(_ peer: UInt64) -> UInt64? { positions.withLock { $0.confirmed[peer] } }
    func setConfirmed(_ peer: UInt64, _ opNum: UInt64?) { positions.withLock { $0.confirmed[peer] = opNum } }
    func isDivergent(_ peer: UInt64) -> Bool { positions.withLock { $0.divergent.contains(peer) } }
    func markDivergent(_ peer: UInt64) {
        positions.withLock {
            $0.divergent.insert(peer)
            $0.confirmed[peer] = nil
        }
    }
    func clearDivergent(_ peer: UInt64) { positions.withLock { _ = $0.divergent.remove(peer) } }
}

/// An async mutual exclusion: `withLock` runs its body with no other body
/// running, waiters in arrival order.
final class AsyncGate: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if !state.held {
                    state.held = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
