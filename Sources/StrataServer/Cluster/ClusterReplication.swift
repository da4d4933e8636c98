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

    init(cluster: ClusterNode, database: Database, replicaTimeout: Duration, logger: Logger) {
        self.cluster = cluster
        self.database = database
        peers = PeerClient(cluster.configuration)
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
                "this node is not the primary of \(ShardMap.describe(collection)) (peer \(placement.primary) is); send writes there"
            )
        }
        guard cluster.holdsLease else {
            throw StrataError(.unavailable, "this node cannot renew its cluster lease; writes are refused until it can")
        }
        guard placement.activeCount >= placement.write_consistency_factor else {
            throw StrataError(
                .unavailable,
                "\(ShardMap.describe(collection)) has \(placement.activeCount) active replicas, fewer than its write_consistency_factor \(placement.write_consistency_factor)"
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
            try await markPartial(failedActive, of: collection, epoch: epoch, what: "write \(opNum)")
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

    /// Marks the Active replicas `failed` Partial by compare-and-swap before
    /// `what` is acknowledged without them; throws (nothing acknowledged) when
    /// that cannot be recorded, or when this node is no longer the primary of `epoch`.
    private func markPartial(_ failed: [UInt64], of collection: String, epoch: UInt64, what: String) async throws {
        guard !failed.isEmpty else { return }
        let me = cluster.identity.peerID
        var deposed = false
        do {
            try await cluster.updatePlacement(collection) { current in
                guard current.epoch == epoch, current.primary == me else {
                    deposed = true
                    return false
                }
                var changed = false
                for index in current.replicas.indices
                where failed.contains(current.replicas[index].peer_id) && current.replicas[index].state == .active {
                    current.replicas[index].state = .partial
                    changed = true
                }
                return changed
            }
        } catch {
            try? await cluster.refresh()
            throw StrataError(
                .unavailable,
                "\(what) to `\(collection)` is not acknowledged: replicas \(failed) did not confirm it and etcd could not record them as Partial (\(error))"
            )
        }
        if deposed {
            throw StrataError(
                .unavailable, "\(what) to `\(collection)` is not acknowledged: this node is no longer its primary")
        }
        logger.warning(
            "replicas fell behind; marked Partial",
            metadata: ["collection": "\(collection)", "peers": "\(failed)", "what": "\(what)"])
    }

    /// `PATCH /collections/{c}` on the primary: applies `change` to its
    /// configuration here, then on every Active replica (internal `config`
    /// endpoint), under the collection's replication gate. A replica that does
    /// not confirm is marked Partial first (catch-up gives it the
    /// configuration before it is Active again); acknowledged once
    /// `write_consistency_factor` replicas hold it, as a write. False when
    /// nothing changed.
    func updateConfig(
        collection name: String, _ change: @escaping @Sendable (CollectionConfig) throws -> CollectionConfig
    ) async throws -> Bool {
        let me = cluster.identity.peerID
        let database = self.database
        return try await links(for: name).gate.withLock {
            guard let placement = cluster.placement(name) else {
                throw StrataError(.unavailable, "collection `\(name)` is not placed in the cluster")
            }
            guard placement.primary == me else {
                throw StrataError(
                    .unavailable,
                    "this node is not the primary of \(ShardMap.describe(name)) (peer \(placement.primary) is); send the change there"
                )
            }
            guard cluster.holdsLease else {
                throw StrataError(
                    .unavailable, "this node cannot renew its cluster lease; changes are refused until it can")
            }
            guard placement.activeCount >= placement.write_consistency_factor else {
                throw StrataError(
                    .unavailable,
                    "\(ShardMap.describe(name)) has \(placement.activeCount) active replicas, fewer than its write_consistency_factor \(placement.write_consistency_factor)"
                )
            }
            let changed = try await Self.offPool { () throws -> CollectionConfig? in
                let current = try database.collection(name).config
                let updated = try change(current)
                guard updated != current else { return nil }
                try database.updateCollectionConfig(name) { $0 = updated }
                return updated
            }
            guard let updated = changed else { return false }
            let others = placement.replicas.filter { $0.peer_id != me && $0.state == .active }.map(\.peer_id)
            let confirmed = await withTaskGroup(of: (UInt64, Bool).self) { group in
                for peer in others {
                    group.addTask { (peer, await self.pushConfig(updated, of: name, to: peer, placement: placement)) }
                }
                var result: Set<UInt64> = []
                for await (peer, ok) in group where ok { result.insert(peer) }
                return result
            }
            try await markPartial(
                others.filter { !confirmed.contains($0) }, of: name, epoch: placement.epoch,
                what: "the configuration change")
            guard 1 + confirmed.count >= placement.write_consistency_factor else {
                throw StrataError(
                    .unavailable,
                    "the configuration change of `\(name)` is not acknowledged: \(1 + confirmed.count) replicas have it, write_consistency_factor is \(placement.write_consistency_factor)"
                )
            }
            return true
        }
    }

    /// Sends this primary's configuration of `name` to replica `peer`; true once applied there.
    func pushConfig(
        _ config: CollectionConfig, of name: String, to peer: UInt64, placement: CollectionPlacement
    ) async
        -> Bool
    {
        guard let url = cluster.livePeers()[peer]?.p2p_url, let body = try? JSONEncoder().encode(config) else {
            return false
        }
        let path = "/p2p/v1/collections/\(name)/config?epoch=\(placement.epoch)&from=\(cluster.identity.peerID)"
        let reply = try? await peers.call(.PUT, url, path, body: Array(body), timeout: replicaTimeout)
        return reply?.status == 200
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
                guard await prepare(replica, of: local, placement: placement, links: links) else { continue }
                // Most of the way without holding writes back, then the last step under the gate.
                _ = await ship(
                    local, to: replica.peer_id, through: local.lastOperation, placement: placement, links: links,
                    timeout: .seconds(30))
                var completed: CollectionPlacement.Transfer?
                do {
                    try await links.gate.withLock {
                        // Under the gate a PATCH also takes: the configuration sent here is the
                        // latest, so the replica turns Active with it.
                        guard let current = cluster.placement(name), current.epoch == placement.epoch,
                            current.primary == me, current.state(of: replica.peer_id) == .partial,
                            let fresh = try? database.collection(name),
                            await pushConfig(fresh.config, of: name, to: replica.peer_id, placement: current),
                            await ship(
                                local, to: replica.peer_id, through: local.lastOperation, placement: current,
                                links: links, timeout: .seconds(30)),
                            cluster.holdsLease
                        else { return }
                        let epoch = current.epoch
                        let handoverOp = local.lastOperation
                        try await cluster.updatePlacement(name) { placement in
                            guard placement.epoch == epoch, placement.primary == me,
                                let index = placement.replicas.firstIndex(where: { $0.peer_id == replica.peer_id }),
                                placement.replicas[index].state == .partial
                            else { return false }
                            placement.replicas[index].state = .active
                            placement.replicas[index].epoch = placement.epoch
                            completed = Self.complete(transfer: replica.peer_id, in: &placement, me: me, at: handoverOp)
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
                if let completed, completed.kind == .move { await removeMovedReplica(completed, of: name) }
            }
        }
    }

    /// Ends the transfer that filled replica `peer`, now Active: a move drops
    /// its source; a source that is this primary hands the primary over to
    /// the new replica (a new epoch starting at op `handoverOp`, which both
    /// hold: the caller holds the gate, so nothing newer was acknowledged).
    static func complete(
        transfer peer: UInt64, in placement: inout CollectionPlacement, me: UInt64, at handoverOp: UInt64
    )
        -> CollectionPlacement.Transfer?
    {
        guard let index = placement.transfers?.firstIndex(where: { $0.to == peer }) else { return nil }
        let transfer = placement.transfers!.remove(at: index)
        if placement.transfers!.isEmpty { placement.transfers = nil }
        guard transfer.kind == .move else { return transfer }
        placement.replicas.removeAll { $0.peer_id == transfer.from }
        if transfer.from == me {
            placement.epoch += 1
            placement.epoch_starts = (placement.epoch_starts ?? [:]).merging(
                [String(placement.epoch): handoverOp], uniquingKeysWith: { $1 })
            placement.primary = transfer.to
            placement.previous_primary = nil
        }
        return transfer
    }

    /// Deletes the copy a finished move left on its source node (this node
    /// when it handed the primary over).
    func removeMovedReplica(_ transfer: CollectionPlacement.Transfer, of name: String) async {
        if transfer.from == cluster.identity.peerID {
            let database = self.database
            do {
                try await Self.offPool { try database.deleteCollection(name) }
            } catch {
                logger.warning(
                    "the moved replica's copy could not be removed here",
                    metadata: ["collection": "\(name)", "error": "\(error)"])
            }
            return
        }
        guard let url = cluster.livePeers()[transfer.from]?.p2p_url,
            (try? await peers.call(.DELETE, url, "/p2p/v1/collections/\(name)", timeout: .seconds(30)))?.status == 200
        else {
            logger.warning(
                "the moved replica's copy could not be removed from its source node; remove it there by hand",
                metadata: ["collection": "\(name)", "peer": "\(transfer.from)"])
            return
        }
    }

    /// Makes lagging replica `replica` ready for a WAL delta: reconciles a
    /// replica of an older epoch (or found divergent), creates the copy of a
    /// replica that has none, and sends a snapshot when this log no longer
    /// holds what the replica lacks or its transfer asks for one. True when
    /// `ship` can take it from here.
    func prepare(
        _ replica: CollectionPlacement.Replica, of local: Strata.Collection, placement: CollectionPlacement,
        links: CollectionLinks
    ) async -> Bool {
        // A replica from an older epoch, or found divergent, may hold records that were
        // never acknowledged: if its log reaches past what it shares with this one, it is
        // rebuilt from scratch.
        if (replica.epoch ?? 1) < placement.epoch || links.isDivergent(replica.peer_id) {
            guard await reconcile(replica, of: local, placement: placement, links: links) else { return false }
        }
        guard let url = cluster.livePeers()[replica.peer_id]?.p2p_url else { return false }
        let base = "/p2p/v1/collections/\(local.name)"
        do {
            var state = try await peers.call(.GET, url, base + "/state", timeout: replicaTimeout)
            if state.status == 404 {
                // A new replica (a transfer's target), or one whose node lost its data.
                let created = try await peers.call(
                    .POST, url, base + "/create", body: Array(placement.create_body.utf8), timeout: .seconds(30))
                guard created.status == 200 else { return false }
                state = try await peers.call(.GET, url, base + "/state", timeout: replicaTimeout)
            }
            guard state.status == 200, let last = state.number("last_operation") else { return false }
            // The configuration first: a replica created from the original body, or one
            // that missed a PATCH, takes this primary's (a no-op when it has it).
            let config = (try? database.collection(local.name).config) ?? local.config
            guard await pushConfig(config, of: local.name, to: replica.peer_id, placement: placement) else {
                return false
            }
            let transfer = placement.transfer(to: replica.peer_id)
            let asked = transfer?.method == .snapshot && transfer?.snapshot_done != true
            let logLacks = try last < local.lastOperation && local.replicationRecords(after: last, maxBytes: 1) == nil
            guard asked || logLacks else { return true }
            if !asked, transfer?.method == .walDelta {
                logger.warning(
                    "a wal_delta transfer cannot go on: this log no longer holds what the replica lacks; abort it and use method snapshot or stream_records",
                    metadata: ["collection": "\(local.name)", "peer": "\(replica.peer_id)", "replica_op": "\(last)"])
                return false
            }
            guard let op = await sendSnapshot(local, to: replica.peer_id, url: url, placement: placement) else {
                return false
            }
            links.clearDivergent(replica.peer_id)
            links.setConfirmed(replica.peer_id, op)
            let me = cluster.identity.peerID
            try await cluster.updatePlacement(local.name) { current in
                guard current.epoch == placement.epoch, current.primary == me,
                    let index = current.replicas.firstIndex(where: { $0.peer_id == replica.peer_id })
                else { return false }
                current.replicas[index].epoch = current.epoch  // a copy of this primary's state: a prefix of its log
                if let transfer = current.transfers?.firstIndex(where: { $0.to == replica.peer_id }) {
                    current.transfers![transfer].snapshot_done = true
                }
                return true
            }
            return true
        } catch {
            return false
        }
    }
}

extension ClusterReplication {
    /// Checks a lagging replica of an older epoch (or found divergent) against
    /// what it still shares with this primary's log; rebuilds it empty when it
    /// holds more (refilled from op 1, or from a snapshot when this log no
    /// longer starts there). True when it can now be caught up.
    func reconcile(
        _ replica: CollectionPlacement.Replica, of local: Strata.Collection, placement: CollectionPlacement,
        links: CollectionLinks
    ) async -> Bool {
        guard let url = cluster.livePeers()[replica.peer_id]?.p2p_url else { return false }
        let base = "/p2p/v1/collections/\(local.name)"
        do {
            let state = try await peers.call(.GET, url, base + "/state", timeout: replicaTimeout)
            if state.status == 404 { return true }  // no copy at all: nothing to undo (`prepare` creates it)
            guard state.status == 200, let last = state.number("last_operation") else { return false }
            let agreed = placement.agreedPrefix(since: replica.epoch ?? 1)
            if !links.isDivergent(replica.peer_id), last <= agreed,
                try agrees(local, at: last, replicaCRC: state.number("last_crc"))
            {
                return true
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
