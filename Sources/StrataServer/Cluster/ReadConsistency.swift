import Foundation
import Hummingbird
import StrataCluster

/// A read's `consistency` (Qdrant's `read_consistency`, the query parameter
/// of every read endpoint): how many replicas of each shard answer it, and
/// how their answers are resolved into one (docs/cluster.md, "Read
/// consistency"). The default, one replica, is what every read did before.
///
/// - `all`: every replica of the shard answers; an item is in the answer
///   only when every answer has it, equal.
/// - `majority`: every replica answers; an item needs a majority of them.
/// - `quorum`: a majority of the replicas answer; an item needs all of those.
/// - a number N: N replicas answer (at most the replica count); an item
///   needs all of them.
struct ReadConsistency: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case all, majority, quorum
        case factor(Int)
    }
    var kind: Kind

    /// The `consistency` query parameter; nil when absent. A value Qdrant
    /// does not define is a 400 that names it.
    static func parse(_ text: String?) throws(APIError) -> ReadConsistency? {
        guard let text else { return nil }
        switch text {
        case "all": return ReadConsistency(kind: .all)
        case "majority": return ReadConsistency(kind: .majority)
        case "quorum": return ReadConsistency(kind: .quorum)
        default:
            guard let factor = Int(text), factor >= 1 else {
                throw APIError.badRequest(
                    "Bad request: consistency must be all, majority, quorum or a number of replicas (at least 1), got \"\(text)\""
                )
            }
            return ReadConsistency(kind: .factor(factor))
        }
    }

    /// How many replicas must answer, and whether an item needs every one
    /// of those answers (true) or a majority of them (false), for a shard
    /// of `total` replicas.
    func plan(replicas total: Int) -> (answers: Int, needsAll: Bool) {
        switch kind {
        case .all: return (total, true)
        case .majority: return (total, false)
        case .quorum: return (total / 2 + 1, true)
        case .factor(let factor): return (min(max(factor, 1), total), true)
        }
    }

    /// The Active replicas that answer a read of `placement` (this node's
    /// first when it holds one), or a 503 when fewer run than the read needs.
    func readers(
        of placement: CollectionPlacement, live: [UInt64: MemberRecord], me: UInt64, shardName: String
    ) throws(APIError) -> (members: [MemberRecord], needsAll: Bool) {
        let (answers, needsAll) = plan(replicas: placement.replicas.count)
        let active = placement.replicas.filter { $0.state == .active }.map(\.peer_id)
            .sorted { ($0 == me ? 0 : 1, $0) < ($1 == me ? 0 : 1, $1) }
        let running = active.compactMap { live[$0] }
        guard running.count >= answers else {
            throw APIError(
                .serviceUnavailable,
                "Service unavailable: the read needs \(answers) replicas of \(shardName) (consistency), "
                    + "but \(running.count) of its \(placement.replicas.count) are Active and running")
        }
        return (Array(running.prefix(answers)), needsAll)
    }

    // MARK: Resolving answers

    /// One answer (`result`) made of several replicas' answers to the same
    /// read: items (points, hits, records) are identified by `id`, facet hits
    /// by `value`; an item is kept when it is in enough answers and equal in
    /// them (its `version` aside), in the order of the answers; counts take
    /// the smallest (every answer needed) or the median. An answer of another
    /// shape (groups, a collection's info) is the first replica's.
    static func resolve(_ results: [ShardJSON], needsAll: Bool) -> ShardJSON {
        guard let first = results.first else { return .null }
        guard results.count > 1 else { return first }
        let needed = needsAll ? results.count : results.count / 2 + 1
        switch first {
        case .array(let items) where items.first?.array != nil || items.first?["points"] != nil:
            // A batch: each request of it resolved on its own.
            let batches = results.map { $0.array ?? [] }
            guard batches.allSatisfy({ $0.count == items.count }) else { return first }
            return .array(
                (0..<items.count).map { index in
                    resolve(batches.map { $0[index] }, needsAll: needsAll)
                })
        case .array:
            return .array(resolveItems(results.map { $0.array ?? [] }, needed: needed, key: "id"))
        case .object:
            if first["points"]?.array != nil {
                var merged = first
                merged["points"] = .array(
                    resolveItems(results.map { $0["points"]?.array ?? [] }, needed: needed, key: "id"))
                return merged
            }
            if first["hits"]?.array != nil, first["hits"]?.array?.first?["value"] != nil {
                var merged = first
                merged["hits"] = .array(resolveFacet(results.map { $0["hits"]?.array ?? [] }, needed: needed))
                return merged
            }
            if first["count"]?.int != nil {
                let counts = results.compactMap { $0["count"]?.int }.sorted()
                var merged = first
                merged["count"] = .int(needsAll ? counts[0] : counts[counts.count / 2])
                return merged
            }
            return first
        default:
            return first
        }
    }

    /// Items present (equal) in at least `needed` of the answers, in the
    /// order of the answer that lists each first.
    static func resolveItems(_ answers: [[ShardJSON]], needed: Int, key: String) -> [ShardJSON] {
        var counts: [[UInt8]: Int] = [:]
        for answer in answers {
            var seen = Set<[UInt8]>()
            for item in answer {
                let identity = comparable(item)
                if seen.insert(identity).inserted { counts[identity, default: 0] += 1 }
            }
        }
        var emitted = Set<[UInt8]>()
        var ids = Set<[UInt8]>()
        var resolved: [ShardJSON] = []
        // Merge in order: position by position across the answers.
        let longest = answers.map(\.count).max() ?? 0
        for position in 0..<longest {
            for answer in answers where position < answer.count {
                let item = answer[position]
                let identity = comparable(item)
                let id = (item[key] ?? .null).bytes
                guard (counts[identity] ?? 0) >= needed, !ids.contains(id), emitted.insert(identity).inserted
                else { continue }
                ids.insert(id)
                resolved.append(item)
            }
        }
        return resolved
    }

    /// Facet hits: a value in at least `needed` answers, with the smallest
    /// (or median) of its counts.
    static func resolveFacet(_ answers: [[ShardJSON]], needed: Int) -> [ShardJSON] {
        var counts: [[UInt8]: [Int]] = [:]
        for answer in answers {
            for hit in answer { counts[(hit["value"] ?? .null).bytes, default: []].append(hit["count"]?.int ?? 0) }
        }
        var resolved: [ShardJSON] = []
        var emitted = Set<[UInt8]>()
        for answer in answers {
            for var hit in answer {
                let value = (hit["value"] ?? .null).bytes
                guard let found = counts[value], found.count >= needed, emitted.insert(value).inserted else {
                    continue
                }
                let sorted = found.sorted()
                hit["count"] = .int(needed == answers.count ? sorted[0] : sorted[sorted.count / 2])
                resolved.append(hit)
            }
        }
        return resolved
    }

    /// An item's bytes without its `version` (replicas agree on contents;
    /// Qdrant does not compare versions either).
    static func comparable(_ item: ShardJSON) -> [UInt8] {
        var item = item
        if item["version"] != nil { item["version"] = nil }
        return item.bytes
    }
}

/// On a single node, where one copy answers whatever `consistency` asks for,
/// the value is still checked as a cluster node checks it (and as Qdrant
/// does): a bad one is a 400, never silently ignored.
struct ReadConsistencyCheckMiddleware: RouterMiddleware {
    typealias Context = StrataRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let text = request.uri.queryParameters.get("consistency"),
            let (_, rest) = ClusterRoutingMiddleware.collectionPath(request.uri.path),
            !ClusterRoutingMiddleware.isWrite(request.method, rest), ClusterRoutingMiddleware.isPointRead(rest)
        {
            _ = try ReadConsistency.parse(text)
        }
        return try await next(request, context)
    }
}
