import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import StrataCluster

/// `POST /collections/{c}/verify` on a cluster node: every replica of every
/// shard checks the checksums of its own segment files (each node reads only
/// its own disk), at the same time; the answer is one `VerifyOutput` whose
/// problems name the shard and the peer. A replica whose node is not running
/// cannot be checked, and says so as a problem: `ok` means every copy of the
/// data was read and found whole, not merely that the reachable ones were.
extension ClusterRoutingMiddleware {
    func verifyEveryReplica(
        _ request: Request, _ context: Context, name: String, root: CollectionPlacement
    ) async throws -> Response {
        try context.access.check(.read(collection: name))
        let started = ContinuousClock.now
        let collection = ShardedCollection(name: name, root: root, cluster: cluster)
        let live = cluster.livePeers()
        var headers: [(String, String)] = []
        for field in request.headers
        where ![.contentLength, .connection, .transferEncoding, .contentType, Self.secretHeader].contains(field.name) {
            headers.append((field.name.rawName, field.value))
        }
        let userHeaders = headers
        let forwarding = Self.forwardingHeaders(cluster)
        var jobs: [ReplicaCheck] = []
        for shard in collection.shardIDs {
            for replica in collection.shards[shard]?.replicas ?? [] {
                jobs.append(
                    ReplicaCheck(
                        shard: shard, shardCount: collection.shardIDs.count, peer: replica.peer_id,
                        state: replica.state.rawValue, baseURL: live[replica.peer_id]?.rest_url,
                        path: "/collections/\(ShardMap.shardName(name, shard))/verify"))
            }
        }
        let checks = jobs
        let http = PeerClient.http(for: cluster)
        let parts = await withTaskGroup(of: (Int, ReplicaCheck.Outcome).self) { group in
            for (index, job) in checks.enumerated() {
                group.addTask { (index, await job.run(headers: userHeaders + forwarding, http: http)) }
            }
            var outcomes = [ReplicaCheck.Outcome?](repeating: nil, count: checks.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0! }
        }
        let problems = parts.flatMap(\.problems)
        let elapsed = ContinuousClock.now - started
        let output = VerifyOutput(
            ok: problems.isEmpty, segments: parts.reduce(0) { $0 + $1.segments }, problems: problems,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        return try Reply.ok(output, context: context)
    }
}

/// One replica's check, run on its node.
private struct ReplicaCheck: Sendable {
    let shard: Int
    let shardCount: Int
    let peer: UInt64
    let state: String
    /// The node's REST address; nil when the node is not running.
    let baseURL: String?
    let path: String

    struct Outcome: Sendable {
        var segments = 0
        var problems: [String] = []
    }

    /// How the problems of this replica begin.
    var label: String {
        shardCount > 1 ? "shard \(shard), replica on peer \(peer) (\(state))" : "replica on peer \(peer) (\(state))"
    }

    /// `headers`: the user's credentials and the forwarding headers; `http`:
    /// the client for the cluster's nodes (`PeerClient.http(for:)`).
    func run(headers: [(String, String)], http: HTTPClient) async -> Outcome {
        guard let baseURL else { return Outcome(problems: ["\(label): its node is not running; not verified"]) }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            // Reading every segment of a large shard takes a while.
            let response = try await http.execute(request, timeout: .hours(1))
            let bytes = Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
            guard response.status.code == 200 else {
                let text = String(decoding: bytes.prefix(300), as: UTF8.self)
                return Outcome(problems: ["\(label): not verified: HTTP \(response.status.code): \(text)"])
            }
            let reply = try JSONDecoder().decode(Reply.self, from: Data(bytes))
            return Outcome(
                segments: reply.result.segments, problems: reply.result.problems.map { "\(label): \($0)" })
        } catch {
            return Outcome(problems: ["\(label): not verified: cannot reach \(baseURL): \(error)"])
        }
    }

    private struct Reply: Decodable {
        struct Result: Decodable {
            var segments: Int
            var problems: [String]
        }
        var result: Result
    }
}
