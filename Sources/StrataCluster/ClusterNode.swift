import Crypto
import Foundation
import Logging
import StrataEtcd
import Synchronization

/// This process as a member of a Strata cluster: it joins through etcd,
/// keeps its membership alive on a lease, campaigns for the controller role,
/// and mirrors the cluster's membership for `GET /cluster`.
/// See docs/cluster.md for what each failure does.
///
/// **Lease.** The node's `live/<name>` key and, when it is the controller,
/// the `controller` key hang on one lease of `leaseTTL`, renewed every third
/// of it. `holdsLease` is true only while the last renewal that etcd
/// confirmed, counted from when it was *sent*, is younger than the TTL: a node
/// paused (SIGSTOP) or cut off from etcd knows its lease may be gone and must
/// not act on it. A lease etcd reports expired is replaced by a new one and
/// the node re-registers (if its name is still free).
///
/// Thread safety: all members may be used from any thread.
public final class ClusterNode: Sendable {
    public struct Configuration: Sendable {
        public var etcdEndpoints: [String]
        public var nodeName: String
        public var secret: String
        public var restURL: String
        public var grpcURL: String?
        public var p2pURL: String?
        /// PEM certificates trusted when this node calls another over TLS
        /// (`--tls-ca`); nil: the system's roots.
        public var caCertificatePath: String?
        public var dataDirectory: String
        public var leaseTTL: Int64 = 5
        public var version = "0"
        public var keyspace = ClusterKeyspace()

        public init(
            etcdEndpoints: [String], nodeName: String, secret: String, restURL: String, grpcURL: String?,
            dataDirectory: String
        ) {
            self.etcdEndpoints = etcdEndpoints
            self.nodeName = nodeName
            self.secret = secret
            self.restURL = restURL
            self.grpcURL = grpcURL
            self.dataDirectory = dataDirectory
        }
    }

    /// One peer as `GET /cluster` reports it.
    public struct Peer: Sendable, Equatable {
        public var record: MemberRecord
        /// Its `live/<name>` key exists and names it: it runs and renews its lease.
        public var isAlive: Bool
    }

    /// What `GET /cluster` shows.
    public struct Status: Sendable {
        public var peerID: UInt64
        public var peers: [Peer]
        public var controllerPeerID: UInt64?
        public var etcdRaftTerm: UInt64
        public var etcdRevision: Int64
        /// Set while the node cannot renew its lease: why.
        public var problem: String?
        public var lastRenewal: Date?
    }

    public let configuration: Configuration
    public let identity: NodeIdentity
    public let etcd: EtcdClient
    private let logger: Logger
    private let mirror: EtcdMirror
    private let keys: ClusterKeyspace

    private struct LeaseState {
        var lease: EtcdLease
        /// When the last confirmed renewal was sent (monotonic).
        var renewedAt: ContinuousClock.Instant
        var renewedAtWallClock: Date
        var problem: String?
        var raftTerm: UInt64 = 0
        var isController = false
    }
    /// Guards the lease and what the renewal loop learned.
    private let leaseState: Mutex<LeaseState>
    private let loop = Mutex<Task<Void, Never>?>(nil)

    /// Joins the cluster: checks etcd is reachable and the secret matches,
    /// registers this node's name (refused while another running node holds
    /// it), stores the identity in the data directory on first join, and
    /// starts the lease renewal and controller campaign. Throws a
    /// `ClusterError` that says what to do; on failure nothing was changed.
    public static func join(_ configuration: Configuration, logger: Logger) async throws -> ClusterNode {
        guard !configuration.nodeName.isEmpty,
            configuration.nodeName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw ClusterError.invalid(
                "the node name \"\(configuration.nodeName)\" must be 1 or more of A-Z a-z 0-9 - _ .")
        }
        guard !configuration.secret.isEmpty else {
            throw ClusterError.invalid(
                "a cluster needs a secret shared by its nodes: give --cluster-secret or STRATA_CLUSTER_SECRET")
        }
        let stored = try NodeIdentity.load(from: configuration.dataDirectory)
        if let stored, stored.nodeName != configuration.nodeName {
            throw ClusterError.identityMismatch(
                directoryName: stored.nodeName, requestedName: configuration.nodeName, peerID: stored.peerID,
                path: configuration.dataDirectory + "/" + NodeIdentity.fileName)
        }
        let identity = stored ?? NodeIdentity.new(nodeName: configuration.nodeName)
        let etcd = try EtcdClient(.init(endpoints: configuration.etcdEndpoints))
        do {
            let status = try await etcd.status()
            try await checkSecret(configuration, etcd: etcd)
            let registering = ContinuousClock.now  // the lease's time runs from before it was granted
            let lease = try await register(identity, configuration, etcd: etcd)
            if stored == nil {
                do {
                    try identity.store(in: configuration.dataDirectory)
                } catch {
                    try? await etcd.revoke(lease.id)
                    throw error
                }
            }
            let node = ClusterNode(
                configuration: configuration, identity: identity, etcd: etcd, lease: lease, leaseFrom: registering,
                raftTerm: status.raftTerm, logger: logger)
            try await node.mirror.start()
            // Best effort: a node starved past its lease right after joining campaigns
            // again on its next renewal, after it registered anew.
            try? await node.campaign()
            try? await node.mirror.refresh()
            node.startRenewing()
            logger.info(
                "joined the cluster",
                metadata: [
                    "node": "\(identity.nodeName)", "peer_id": "\(identity.peerID)",
                    "etcd": "\(configuration.etcdEndpoints.joined(separator: ","))",
                ])
            return node
        } catch {
            try? await etcd.shutdown()
            if let error = error as? EtcdError { throw ClusterError.etcd(error) }
            throw error
        }
    }

    private init(
        configuration: Configuration, identity: NodeIdentity, etcd: EtcdClient, lease: EtcdLease,
        leaseFrom: ContinuousClock.Instant, raftTerm: UInt64, logger: Logger
    ) {
        self.configuration = configuration
        self.identity = identity
        self.etcd = etcd
        self.logger = logger
        keys = configuration.keyspace
        mirror = EtcdMirror(client: etcd, prefix: configuration.keyspace.prefix, logger: logger)
        leaseState = Mutex(
            LeaseState(lease: lease, renewedAt: leaseFrom, renewedAtWallClock: Date(), raftTerm: raftTerm))
    }

    /// Leaves the cluster: stops renewing and revokes the lease, so the name
    /// is free at once and another node may become controller.
    public func leave() async {
        loop.withLock { $0?.cancel() }
        mirror.stop()
        let lease = leaseState.withLock { $0.lease.id }
        try? await etcd.revoke(lease)
        try? await etcd.shutdown()
    }

    /// Stops renewing without revoking anything, as a process killed with
    /// `kill -9` would (tests).
    func abandonWithoutLeaving() async {
        loop.withLock { $0?.cancel() }
        mirror.stop()
        try? await etcd.shutdown()
    }

    /// True while this node's lease is certainly alive (see the type's comment).
    public var holdsLease: Bool {
        leaseState.withLock { state in
            state.problem == nil && ContinuousClock.now - state.renewedAt < .seconds(state.lease.ttl)
        }
    }

    public var isController: Bool { leaseState.withLock { $0.isController } && holdsLease }

    // MARK: Status

    public func status() -> Status {
        let mirrored = mirror.snapshot
        var live: [String: UInt64] = [:]
        var members: [MemberRecord] = []
        var controller: UInt64?
        for (key, value) in mirrored.values {
            if key.hasPrefix(keys.live),
                let reference = try? JSONDecoder().decode(PeerReference.self, from: value.value)
            {
                live[String(key.dropFirst(keys.live.count))] = reference.peer_id
            } else if key.hasPrefix(keys.members),
                let record = try? JSONDecoder().decode(MemberRecord.self, from: value.value)
            {
                members.append(record)
            } else if key == keys.controller,
                let reference = try? JSONDecoder().decode(PeerReference.self, from: value.value)
            {
                controller = reference.peer_id
            }
        }
        let peers = members.sorted { $0.peer_id < $1.peer_id }.map {
            Peer(record: $0, isAlive: live[$0.node_name] == $0.peer_id)
        }
        return leaseState.withLock { state in
            Status(
                peerID: identity.peerID, peers: peers, controllerPeerID: controller, etcdRaftTerm: state.raftTerm,
                etcdRevision: mirrored.revision,
                problem: state.problem
                    ?? (ContinuousClock.now - state.renewedAt >= .seconds(state.lease.ttl)
                        ? "the lease was not renewed for \(state.lease.ttl) s" : nil)
                        ?? (mirrored.isCurrent ? nil : "the copy of the cluster state is not current"),
                lastRenewal: state.renewedAtWallClock)
        }
    }

    // MARK: Peers and metadata

    /// This node's copy of the cluster state.
    var mirrorSnapshot: EtcdMirror.State { mirror.snapshot }

    func recordInMirror(_ key: String, value: Data, revision: Int64) {
        mirror.record(key, value: value, revision: revision)
    }

    /// Reads the cluster state from etcd again now.
    public func refresh() async throws { try await mirror.refresh() }

    /// Removes a peer that is not running from the membership
    /// (`DELETE /cluster/peer/{id}`).
    /// A peer that holds replicas is refused, unless `force`: then its
    /// replicas are dropped from their collections (never a primary's).
    public func removePeer(_ peerID: UInt64, force: Bool = false) async throws {
        guard let record = try await etcd.get(keys.member(peerID)) else {
            throw ClusterError.notFound("Peer \(peerID) doesn't exist")
        }
        let member = try Self.decode(MemberRecord.self, record)
        guard peerID != identity.peerID else {
            throw ClusterError.invalid("Peer \(peerID) is this node: stop it and remove it through another node")
        }
        // Only while its name is not held by that peer: a running peer is never removed.
        let liveKey = keys.live(member.node_name)
        let live = try await etcd.get(liveKey)
        if let live, (try? JSONDecoder().decode(PeerReference.self, from: live.value))?.peer_id == peerID {
            throw ClusterError.invalid(
                "Peer \(peerID) (\(member.node_name)) is running: stop it before removing it from the cluster")
        }
        let holding = placements().values.filter { $0.state(of: peerID) != nil }.map(\.name).sorted()
        if !holding.isEmpty {
            let primaryOf = placements().values.filter { $0.primary == peerID }.map(\.name).sorted()
            guard force, primaryOf.isEmpty else {
                throw ClusterError.invalid(
                    primaryOf.isEmpty
                        ? "Cannot remove peer \(peerID) as there are shards on it (replicas of \(holding)); use force=true to drop them"
                        : "Cannot remove peer \(peerID): it is the primary of \(primaryOf)")
            }
            for name in holding {
                try await updatePlacement(name) { placement in
                    placement.replicas.removeAll { $0.peer_id == peerID }
                    return true
                }
            }
        }
        let liveUnchanged: EtcdCompare = live.map { .unchanged(liveKey, since: $0.modRevision) } ?? .absent(liveKey)
        let result = try await etcd.transaction(
            if: [.unchanged(keys.member(peerID), since: record.modRevision), liveUnchanged],
            then: [.delete(.key(keys.member(peerID)))])
        guard result.succeeded else {
            throw ClusterError.invalid("Peer \(peerID) changed while it was being removed; try again")
        }
        try? await mirror.refresh()
    }

    /// The user metadata keys, sorted.
    public func metadataKeys() async throws -> [String] {
        try await etcd.range(.prefix(keys.metadata)).keyValues.map { String($0.key.dropFirst(keys.metadata.count)) }
    }

    /// The JSON stored at a metadata key, or nil.
    public func metadata(_ key: String) async throws -> Data? {
        try await etcd.get(keys.metadata(key))?.value
    }

    /// Stores `json` (already validated JSON) at a metadata key.
    public func setMetadata(_ key: String, json: Data) async throws {
        try await etcd.put(keys.metadata(key), json)
    }

    public func deleteMetadata(_ key: String) async throws {
        try await etcd.delete(.key(keys.metadata(key)))
    }

    // MARK: Joining

    /// Sets the secret's verifier if the cluster has none; else checks it.
    private static func checkSecret(_ configuration: Configuration, etcd: EtcdClient) async throws {
        let key = configuration.keyspace.secret
        var saltBytes = [UInt8](repeating: 0, count: 16)
        for index in saltBytes.indices { saltBytes[index] = UInt8.random(in: 0...255) }
        let salt = Data(saltBytes).base64EncodedString()
        let proposed = SecretVerifier(salt: salt, sha256: digest(salt: salt, secret: configuration.secret))
        let result = try await etcd.transaction(
            if: [.absent(key)], then: [.put(key: key, value: try JSONEncoder().encode(proposed))],
            else: [.range(.key(key))])
        guard !result.succeeded else { return }
        guard case .range(let values) = result.results.first, let value = values.first else {
            throw ClusterError.corruptControlPlane(key: key, detail: "the secret verifier vanished while read")
        }
        let stored = try decode(SecretVerifier.self, value)
        guard digest(salt: stored.salt, secret: configuration.secret) == stored.sha256 else {
            throw ClusterError.wrongSecret
        }
    }

    static func digest(salt: String, secret: String) -> String {
        SHA256.hash(data: Data((salt + "\n" + secret).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Takes `live/<name>` on a new lease and writes the member record.
    private static func register(
        _ identity: NodeIdentity, _ configuration: Configuration, etcd: EtcdClient
    )
        async throws -> EtcdLease
    {
        let keys = configuration.keyspace
        let record = MemberRecord(
            peerID: identity.peerID, nodeName: identity.nodeName, restURL: configuration.restURL,
            grpcURL: configuration.grpcURL, p2pURL: configuration.p2pURL, version: configuration.version)
        // A peer id already registered under another name that runs: a copied directory.
        if let existing = try await etcd.get(keys.member(identity.peerID)) {
            let other = try decode(MemberRecord.self, existing)
            if other.node_name != identity.nodeName, let live = try await etcd.get(keys.live(other.node_name)),
                (try? JSONDecoder().decode(PeerReference.self, from: live.value))?.peer_id == identity.peerID
            {
                throw ClusterError.peerIDInUse(peerID: identity.peerID, byName: other.node_name)
            }
        }
        // A lease can expire before it is used when this process is starved of
        // CPU for longer than its TTL: then take a new one (a few times).
        var attempt = 0
        while true {
            attempt += 1
            let lease = try await etcd.grantLease(ttl: configuration.leaseTTL)
            do {
                try await claim(identity, record: record, lease: lease, keys: keys, etcd: etcd)
                return lease
            } catch let error as EtcdError where error.isLeaseNotFound && attempt < 4 {
                continue
            } catch {
                try? await etcd.revoke(lease.id)
                throw error
            }
        }
    }

    /// Creates `live/<name>` on `lease` if it is absent, or takes it over from
    /// this same peer's previous lease (a restart within the TTL); else the
    /// name belongs to another running node.
    private static func claim(
        _ identity: NodeIdentity, record: MemberRecord, lease: EtcdLease, keys: ClusterKeyspace, etcd: EtcdClient
    ) async throws {
        let liveKey = keys.live(identity.nodeName)
        let liveValue = try JSONEncoder().encode(PeerReference(peer_id: identity.peerID))
        let writes: [EtcdOperation] = [
            .put(key: liveKey, value: liveValue, lease: lease.id),
            .put(key: keys.member(identity.peerID), value: try JSONEncoder().encode(record)),
        ]
        for _ in 0..<5 {
            let created = try await etcd.transaction(
                if: [.absent(liveKey)], then: writes, else: [.range(.key(liveKey))])
            if created.succeeded { return }
            guard case .range(let values) = created.results.first, let current = values.first else { continue }
            let holder = try decode(PeerReference.self, current)
            guard holder.peer_id == identity.peerID else {
                let url = (try? await etcd.get(keys.member(holder.peer_id)))
                    .flatMap { $0 }
                    .flatMap { try? JSONDecoder().decode(MemberRecord.self, from: $0.value) }?.rest_url
                throw ClusterError.nodeNameTaken(
                    name: identity.nodeName, peerID: holder.peer_id, url: url ?? "an unknown address")
            }
            let taken = try await etcd.transaction(
                if: [.unchanged(liveKey, since: current.modRevision)], then: writes)
            if taken.succeeded { return }
        }
        throw ClusterError.invalid(
            "the node name \"\(identity.nodeName)\" kept changing in etcd while joining; try again")
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: EtcdKeyValue) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: value.value)
        } catch {
            throw ClusterError.corruptControlPlane(key: value.key, detail: "\(error)")
        }
    }

    // MARK: Renewal and the controller campaign

    private func startRenewing() {
        let task = Task { [self] in await renewLoop() }
        loop.withLock { $0 = task }
    }

    private func renewLoop() async {
        while !Task.isCancelled {
            let (lease, ttl) = leaseState.withLock { ($0.lease.id, $0.lease.ttl) }
            try? await Task.sleep(for: .milliseconds(max(200, ttl * 1000 / 3)))
            if Task.isCancelled { return }
            let sent = ContinuousClock.now
            let sentWallClock = Date()
            do {
                if (try await etcd.keepAlive(lease)) != nil {
                    leaseState.withLock { state in
                        state.renewedAt = sent
                        state.renewedAtWallClock = sentWallClock
                        state.problem = nil
                    }
                } else {
                    logger.warning("the cluster lease expired (was the node paused or cut off?); registering again")
                    leaseState.withLock {
                        $0.problem = "the lease expired"
                        $0.isController = false
                    }
                    try await reRegister()
                }
                try await campaign()
                if let status = try? await etcd.status() { leaseState.withLock { $0.raftTerm = status.raftTerm } }
            } catch is CancellationError {
                return
            } catch {
                leaseState.withLock { $0.problem = "\(error)" }
                logger.warning("cannot renew the cluster lease", metadata: ["error": "\(error)"])
            }
        }
    }

    private func reRegister() async throws {
        let record = MemberRecord(
            peerID: identity.peerID, nodeName: identity.nodeName, restURL: configuration.restURL,
            grpcURL: configuration.grpcURL, p2pURL: configuration.p2pURL, version: configuration.version)
        // The lease's time runs from before etcd granted it.
        let sent = ContinuousClock.now
        let lease = try await etcd.grantLease(ttl: configuration.leaseTTL)
        do {
            try await Self.claim(identity, record: record, lease: lease, keys: keys, etcd: etcd)
            // While the lease was gone another node may have taken over: read the
            // cluster state anew before acting on it again.
            try await mirror.refresh()
        } catch {
            try? await etcd.revoke(lease.id)
            throw error
        }
        leaseState.withLock { state in
            state.lease = lease
            state.renewedAt = sent
            state.renewedAtWallClock = Date()
            state.problem = nil
        }
        logger.info("registered in the cluster again with a new lease")
    }

    /// Becomes the controller if there is none (create-if-absent on this
    /// node's lease), and notes whether it is.
    private func campaign() async throws {
        let lease = leaseState.withLock { $0.lease.id }
        let value = try JSONEncoder().encode(PeerReference(peer_id: identity.peerID))
        let result = try await etcd.transaction(
            if: [.absent(keys.controller)], then: [.put(key: keys.controller, value: value, lease: lease)],
            else: [.range(.key(keys.controller))])
        var isController = result.succeeded
        if !result.succeeded, case .range(let values) = result.results.first, let current = values.first {
            isController = current.lease == lease
        }
        if isController != leaseState.withLock({ $0.isController }) {
            logger.info(isController ? "this node is the cluster controller" : "this node is no longer the controller")
        }
        leaseState.withLock { $0.isController = isController }
    }
}
