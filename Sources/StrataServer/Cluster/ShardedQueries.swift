import Foundation
import Hummingbird
import NIOHTTP1
import Strata
import StrataCluster
import StrataModel
import StrataPayload

// Searches and universal queries over a sharded collection (docs/cluster.md,
// "Reads across shards"), computed so that the answer is the one a single
// shard holding every point would give:
// - Examples given by id are replaced by their stored vectors first (fetched
//   from the shards holding them), and the ids are excluded from the results,
//   as the engine does, so no shard needs a point it does not hold.
// - A stage without prefetches runs on every shard with `offset + limit`;
//   the answers merge best first, ties by id.
// - A stage with prefetches runs each prefetch across the shards first; then
//   fusion is computed here over the merged lists, and any other query
//   rescores the merged candidates on the shards that hold them (exactly, by
//   `has_id`).
// - Groups: the best groups are found from every shard's best groups, then
//   each chosen group's hits are completed from the shards that did not
//   report it.
// Formulas, MMR and distance matrices over several shards are refused for now.

extension ShardRouter {
    /// The member of a query object that names its kind, and its value,
    /// whatever the order of the members (JSON's objects have none):
    /// `nearest` of `{"mmr", "nearest"}`, `formula` of `{"defaults",
    /// "formula"}`, `indices` of a sparse vector; else the first member.
    static func queryKind(_ members: [(String, ShardJSON)]) -> (String, ShardJSON)? {
        members.first { !["mmr", "defaults", "values"].contains($0.0) } ?? members.first
    }

    /// Whether a query kind's higher scores are better, for `using`.
    func higherIsBetter(query: ShardJSON?, using: String) -> Bool {
        guard case .object(let members)? = query, let (kind, value) = Self.queryKind(members) else {
            return higherIsBetter(vector: using)  // a vector or an id: nearest
        }
        switch kind {
        case "nearest": return higherIsBetter(vector: using)
        case "recommend":
            let strategy = value["strategy"]?.string ?? "average_vector"
            return strategy == "average_vector" ? higherIsBetter(vector: using) : true
        case "indices": return true
        default: return true
        }
    }

    // MARK: - IDF across shards

    /// Whether sparse vector `name` weighs terms by IDF (from the create body).
    func hasIDF(_ name: String) -> Bool {
        guard let config = try? ShardJSON(parsing: Array(collection.root.create_body.utf8)) else { return false }
        return config["sparse_vectors"]?[name]?["modifier"]?.string?.lowercased() == "idf"
    }

    /// The terms of every sparse vector in `value` (objects with `indices`).
    static func sparseTerms(_ value: ShardJSON?, into terms: inout Set<UInt32>) {
        switch value {
        case .object(let members)?:
            if let indices = value?["indices"]?.array, value?["values"] != nil {
                for index in indices { if let term = index.int.flatMap(UInt32.init(exactly:)) { terms.insert(term) } }
                return
            }
            for (_, member) in members { sparseTerms(member, into: &terms) }
        case .array(let items)?:
            for item in items { sparseTerms(item, into: &terms) }
        default: break
        }
    }

    /// `part` with `params.idf` replaced by the statistics of every shard
    /// summed, when it queries a sparse vector with the `idf` modifier: each
    /// shard then weighs terms as one collection holding every point would.
    func withGlobalIDF(
        _ part: ShardJSON, using: String, examples: [ShardJSON?], shards: [Int]
    ) async throws -> ShardJSON {
        guard hasIDF(using), shards.count > 1 else { return part }
        var terms = Set<UInt32>()
        for example in examples { Self.sparseTerms(example, into: &terms) }
        guard !terms.isEmpty else { return part }
        let scope = part["params"]?["idf"]
        if let scope, scope["statistics"] != nil { return part }
        var request = ShardJSON.object([
            ("vector", .string(using)), ("terms", .array(terms.sorted().map { .int(Int($0)) })),
        ])
        request["corpus"] = scope?["corpus"]
        let body = request.bytes
        let peers = PeerClient(cluster.configuration)
        let replies = try await withThrowingTaskGroup(of: ShardJSON.self) { group in
            for shard in shards {
                guard let url = try self.target(shard, write: false).p2p_url else {
                    throw APIError(
                        .serviceUnavailable, "Service unavailable: a node of shard \(shard) has no internal URL")
                }
                let name = ShardMap.shardName(collection.name, shard)
                group.addTask {
                    let reply = try await peers.call(
                        .POST, url, "/p2p/v1/collections/\(name)/sparse-statistics", body: body,
                        timeout: .seconds(60))
                    guard reply.status == 200, let json = try? ShardJSON(parsing: reply.body) else {
                        throw ShardFailure(status: reply.status == 200 ? 500 : reply.status, body: reply.body)
                    }
                    return json
                }
            }
            var all: [ShardJSON] = []
            for try await reply in group { all.append(reply) }
            return all
        }
        var points = 0
        var frequencies: [Int: Int] = [:]
        for reply in replies {
            points += reply["points"]?.int ?? 0
            for pair in reply["document_frequencies"]?.array ?? [] {
                guard let items = pair.array, items.count == 2, let term = items[0].int else { continue }
                frequencies[term, default: 0] += items[1].int ?? 0
            }
        }
        var params = part["params"] ?? .object([])
        params["idf"] = .object([
            (
                "statistics",
                .object([
                    ("points", .int(points)),
                    (
                        "document_frequencies",
                        .array(frequencies.keys.sorted().map { .array([.int($0), .int(frequencies[$0]!)]) })
                    ),
                ])
            )
        ])
        var result = part
        result["params"] = params
        return result
    }

    // MARK: - Examples by id

    /// Whether a vector input is a point id (a number, or a string that is a UUID).
    static func isID(_ value: ShardJSON) -> Bool {
        switch value {
        case .number: return true
        case .string(let text): return ShardedCollection.parseUUID(text) != nil
        default: return false
        }
    }

    /// Applies `transform` to every example of a query (`query` of the query
    /// API) that may be a point id.
    static func mapExamples(_ query: ShardJSON, _ transform: (ShardJSON) throws -> ShardJSON) rethrows -> ShardJSON {
        func pairs(_ value: ShardJSON) throws -> ShardJSON {
            if case .array(let items) = value { return .array(try items.map(pairs)) }
            var pair = value
            if let positive = value["positive"] { pair["positive"] = try transform(positive) }
            if let negative = value["negative"] { pair["negative"] = try transform(negative) }
            return pair
        }
        func list(_ value: ShardJSON?) throws -> ShardJSON? {
            guard let value else { return nil }
            if case .array(let items) = value { return .array(try items.map(transform)) }
            return value
        }
        guard case .object(let members) = query, let (kind, value) = Self.queryKind(members), members.count <= 2,
            !isDocument(query)
        else {
            return isID(query) || isDocument(query) ? try transform(query) : query
        }
        var result = query
        switch kind {
        case "nearest": result["nearest"] = try transform(value)
        case "recommend":
            var inner = value
            inner["positive"] = try list(value["positive"])
            inner["negative"] = try list(value["negative"])
            result["recommend"] = inner
        case "discover":
            var inner = value
            if let target = value["target"] { inner["target"] = try transform(target) }
            if let context = value["context"] { inner["context"] = try pairs(context) }
            result["discover"] = inner
        case "context": result["context"] = try pairs(value)
        case "relevance_feedback":
            var inner = value
            if let target = value["target"] { inner["target"] = try transform(target) }
            if let feedback = value["feedback"]?.array {
                inner["feedback"] = .array(
                    try feedback.map { item in
                        var item = item
                        if let example = item["example"] { item["example"] = try transform(example) }
                        return item
                    })
            }
            result["relevance_feedback"] = inner
        default: break
        }
        return result
    }

    /// Whether a vector input is a `Document` (text for server-side inference).
    static func isDocument(_ value: ShardJSON) -> Bool { value["text"] != nil && value["model"] != nil }

    /// A `Document` encoded as the shard would encode it (a BM25 query
    /// vector), so that its terms are known here (IDF across shards).
    static func encodedDocument(_ value: ShardJSON) throws -> ShardJSON {
        let document = try RequestDecoding.decode(DocumentInput.self, from: value.bytes, maxDepth: 64)
        let vector = try document.encoder().query(document.text)
        return .object([
            ("indices", .array(vector.indices.map { .number(String($0)) })),
            ("values", .array(vector.values.map { .number(String($0)) })),
        ])
    }

    /// The stored vectors (`name`) of points `ids` of collection `source`
    /// (this collection when nil), by id; 404 for a point or vector that is missing.
    func exampleVectors(_ ids: [ShardJSON], name: String, source: String?) async throws -> [MergeID: ShardJSON] {
        guard !ids.isEmpty else { return [:] }
        let request = ShardJSON.object([
            ("ids", .array(ids)), ("with_payload", .bool(false)), ("with_vector", .array([.string(name)])),
        ])
        let found: [ShardJSON]
        if let source, source != collection.name {
            found = try await ownAPI(.POST, "/collections/\(source)/points", request).array ?? []
        } else {
            found = try await records(request)
        }
        var vectors: [MergeID: ShardJSON] = [:]
        for record in found {
            let vector = record["vector"]
            if case .object = vector, let named = vector?[name] {
                vectors[MergeID(record["id"])] = named
            } else if name.isEmpty, let vector, !vector.isNull {
                vectors[MergeID(record["id"])] = vector
            }
        }
        for id in ids where vectors[MergeID(id)] == nil {
            let text = String(decoding: id.bytes, as: UTF8.self).replacingOccurrences(of: "\"", with: "")
            if !found.contains(where: { MergeID($0["id"]) == MergeID(id) }) {
                throw APIError.notFound("No point with id \(text) found")
            }
            throw APIError.notFound("Vector with name \"\(name)\" for point \(text) not found")
        }
        return vectors
    }

    /// A request to this node's own API (routed as a user's request would be).
    func ownAPI(_ method: HTTPMethod, _ path: String, _ body: ShardJSON) async throws -> ShardJSON {
        guard let me = cluster.livePeers()[cluster.identity.peerID] else {
            throw APIError(.serviceUnavailable, "Service unavailable: this node is not running in the cluster")
        }
        // No forwarding headers: this node routes it.
        return try await call(method, me.rest_url, path, body: body, forwarding: false).result
    }

    /// `stage` with every example id of its query replaced by its vector;
    /// adds the ids taken from this collection to `referenced`.
    func resolvingExamples(
        _ stage: ShardJSON, queryKey: String, referenced: inout [ShardJSON]
    ) async throws
        -> ShardJSON
    {
        guard var query = stage[queryKey] else { return stage }
        var stage = stage
        query = try Self.mapExamples(query) { value in Self.isDocument(value) ? try Self.encodedDocument(value) : value
        }
        stage[queryKey] = query
        var ids: [ShardJSON] = []
        _ = Self.mapExamples(query) { value in
            if Self.isID(value) { ids.append(value) }
            return value
        }
        guard !ids.isEmpty else { return stage }
        let lookup = stage["lookup_from"]
        let source = lookup?["collection"]?.string
        let name = lookup?["vector"]?.string ?? stage["using"]?.string ?? ""
        let vectors = try await exampleVectors(ids, name: name, source: source)
        if source == nil || source == collection.name { referenced.append(contentsOf: ids) }
        var resolved = stage
        resolved[queryKey] = Self.mapExamples(query) { value in Self.isID(value) ? vectors[MergeID(value)]! : value }
        resolved["lookup_from"] = nil
        return resolved
    }

    /// `filter` and `other` both (Qdrant's `Filter::merge_opts`).
    static func merge(_ filter: ShardJSON?, _ other: ShardJSON?) -> ShardJSON? {
        let a = filter?.isNull == false ? filter : nil
        let b = other?.isNull == false ? other : nil
        switch (a, b) {
        case (nil, nil): return nil
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return .object([("must", .array([a, b]))])
        }
    }

    static func excluding(_ ids: [ShardJSON]) -> ShardJSON? {
        ids.isEmpty ? nil : .object([("must_not", .array([.object([("has_id", .array(ids))])]))])
    }

    /// Refuses what is not computed across shards yet.
    func refuseUnsupported(_ stage: ShardJSON) throws {
        if case .object(let members)? = stage["query"], let kind = Self.queryKind(members)?.0 {
        }
        for child in Self.prefetches(of: stage) { try refuseUnsupported(child) }
    }

    static func prefetches(of stage: ShardJSON) -> [ShardJSON] {
        switch stage["prefetch"] {
        case .array(let items)?: return items
        case .object?: return [stage["prefetch"]!]
        default: return []
        }
    }

    // MARK: - The universal query

    /// `POST points/query`.
    func query(_ body: ShardJSON) async throws -> Response {
        let points = try await queryPage(body)
        return ShardRouter.ok(.object([("points", .array(points))]), started: started)
    }

    /// `POST points/query/batch`: each query of `searches` on its own.
    func queryBatch(_ body: ShardJSON) async throws -> Response {
        let searches = body["searches"]?.array ?? []
        var results: [ShardJSON] = []
        for search in searches {
            results.append(.object([("points", .array(try await queryPage(search)))]))
        }
        return ShardRouter.ok(.array(results), started: started)
    }

    /// Checks a query whole, as one collection would before reading a point
    /// (its shape; what depends on the data is the shards' to say).
    func checkQuery(_ body: ShardJSON, grouped: Bool) throws {
        var plain = body
        plain["shard_key"] = nil
        if var lookup = plain["lookup_from"], case .object = lookup {
            lookup["shard_key"] = nil
            plain["lookup_from"] = lookup
        }
        let depth = server.configuration.maxJSONDepth
        do {
            if grouped {
                let input = try RequestDecoding.decode(QueryGroupsRequestInput.self, from: plain.bytes, maxDepth: depth)
                let grouping = try input.grouping.checked()
                try input.asQuery.engine().checkGroupedShape(groupSize: grouping.groupSize, groups: grouping.groups)
            } else {
                try RequestDecoding.decode(QueryRequestInput.self, from: plain.bytes, maxDepth: depth).engine()
                    .checkShape()
            }
        } catch let error as StrataError {
            throw APIError.from(error)
        }
    }

    /// The page a query asks for.
    func queryPage(_ body: ShardJSON) async throws -> [ShardJSON] {
        try checkQuery(body, grouped: false)
        try refuseUnsupported(body)
        let shards = try collection.readShards(body["shard_key"])
        var referenced: [ShardJSON] = []
        let root = try await resolvingAll(body, referenced: &referenced)
        let limit = body["limit"]?.int ?? 10
        let offset = body["offset"]?.int ?? 0
        let filter = Self.merge(root["filter"], Self.excluding(referenced))
        let results = try await stage(
            root, filter: filter, take: limit + offset, shards: shards,
            withPayload: body["with_payload"] ?? .bool(false), withVector: body["with_vector"] ?? .bool(false))
        return Self.takePage(results, offset: offset, limit: limit)
    }

    /// `stage` and its prefetches, recursively, with every example id resolved.
    func resolvingAll(_ stage: ShardJSON, referenced: inout [ShardJSON]) async throws -> ShardJSON {
        var resolved = try await resolvingExamples(stage, queryKey: "query", referenced: &referenced)
        let children = Self.prefetches(of: stage)
        if !children.isEmpty {
            var list: [ShardJSON] = []
            for child in children { list.append(try await resolvingAll(child, referenced: &referenced)) }
            resolved["prefetch"] = .array(list)
        }
        return resolved
    }

    /// The best `take` points of one stage over `shards`, `filter` being its
    /// own filter merged with those above it.
    func stage(
        _ stage: ShardJSON, filter: ShardJSON?, take: Int, shards: [Int], withPayload: ShardJSON, withVector: ShardJSON
    ) async throws -> [ShardJSON] {
        let using = stage["using"]?.string ?? ""
        let children = Self.prefetches(of: stage)
        var leaf = ShardJSON.object([])
        for key in ["query", "using", "params", "score_threshold"] { leaf[key] = stage[key] }
        leaf["with_payload"] = withPayload
        leaf["with_vector"] = withVector
        leaf["limit"] = .int(take)
        leaf = try await withGlobalIDF(leaf, using: using, examples: [stage["query"]], shards: shards)
        if let query = stage["query"], let mmr = query["mmr"], !mmr.isNull, let nearest = query["nearest"] {
            // MMR needs every candidate together: the nearest candidates are
            // found across the shards (with their vectors), then one shard
            // re-ranks them from the vectors it is given.
            var plain = stage
            plain["query"] = .object([("nearest", nearest)])
            let count = mmr["candidates_limit"]?.int ?? stage["limit"]?.int ?? 10
            let candidates = try await self.stage(
                plain, filter: filter, take: count, shards: shards, withPayload: .bool(false),
                withVector: .array([.string(using)]))
            var rerank = leaf
            rerank["with_payload"] = .bool(false)
            rerank["with_vector"] = .bool(false)
            rerank["prefetch_results"] = .array([
                .array(
                    candidates.map { point in
                        let vector = point["vector"]
                        let stored: ShardJSON = {
                            if case .object? = vector, let named = vector?[using] { return named }
                            return vector ?? .null
                        }()
                        return .object([
                            ("id", point["id"] ?? .null), ("score", point["score"] ?? .null), ("vector", stored),
                        ])
                    })
            ])
            let reply = try await send(shards[0], .POST, "points/query", body: rerank, write: false)
            return try await hydrate(
                reply.result["points"]?.array ?? [], withPayload: withPayload, withVector: withVector)
        }
        if children.isEmpty {
            leaf["filter"] = filter
            if stage["query"]?["sample"] != nil {
                // A uniform random sample of the union: how many points each shard gives is
                // drawn as from one set (each shard's count), from each shard's own random sample.
                let counts = try await sendAll(shards, .POST, "points/count", write: false) { _ in
                    .object([("filter", filter ?? .null), ("exact", .bool(true))])
                }.map { $0.result["count"]?.int ?? 0 }
                let taken = Self.draw(take, from: counts)
                let replies = try await sendAll(shards, .POST, "points/query", write: false) { _ in leaf }
                var sample: [ShardJSON] = []
                for (index, reply) in replies.enumerated() {
                    sample += (reply.result["points"]?.array ?? []).prefix(taken[index])
                }
                return sample.shuffled()
            }
            let replies = try await sendAll(shards, .POST, "points/query", write: false) { _ in leaf }
            let lists = replies.map { $0.result["points"]?.array ?? [] }
            return Self.mergeStage(
                lists, query: stage["query"], higherIsBetter: higherIsBetter(query: stage["query"], using: using),
                take: take)
        }
        // Prefetches first, each over every shard, with this stage's filter merged into its own.
        var sources: [[ShardJSON]] = []
        for child in children {
            let childFilter = Self.merge(filter, child["filter"])
            sources.append(
                try await self.stage(
                    child, filter: childFilter, take: child["limit"]?.int ?? 10, shards: shards,
                    withPayload: .bool(false), withVector: .bool(false)))
        }
        if case .object(let members)? = stage["query"], let kind = Self.queryKind(members)?.0,
            kind == "fusion" || kind == "rrf"
        {
            var fused = Self.fuse(sources, stage["query"]!)
            if let threshold = stage["score_threshold"]?.double {
                fused.removeAll { ($0["score"]?.double ?? 0) < threshold }
            }
            let page = Array(fused.prefix(take))
            return try await hydrate(page, withPayload: withPayload, withVector: withVector)
        }
        if case .object(let members)? = stage["query"], Self.queryKind(members)?.0 == "formula" {
            // A formula scores each point from its own payload and its prefetch
            // scores: each shard scores its candidates, given the merged prefetches.
            leaf["prefetch_results"] = .array(
                sources.map { source in
                    .array(source.map { .object([("id", $0["id"] ?? .null), ("score", $0["score"] ?? .null)]) })
                })
            let replies = try await sendAll(shards, .POST, "points/query", write: false) { _ in leaf }
            return Array(
                Self.mergeScored(replies.map { $0.result["points"]?.array ?? [] }, higherIsBetter: true).prefix(take))
        }
        // Any other query rescores the candidates where they are stored, exactly.
        var seen = Set<MergeID>()
        let ids = sources.joined().compactMap(\.["id"]).filter { seen.insert(MergeID($0)).inserted }
        guard !ids.isEmpty, take > 0 else { return [] }
        var params = stage["params"] ?? .object([])
        params["exact"] = .bool(true)
        leaf["params"] = params
        leaf["filter"] = .object([("must", .array([.object([("has_id", .array(ids))])]))])
        let replies = try await sendAll(shards, .POST, "points/query", write: false) { _ in leaf }
        let lists = replies.map { $0.result["points"]?.array ?? [] }
        return Self.mergeStage(
            lists, query: stage["query"], higherIsBetter: higherIsBetter(query: stage["query"], using: using),
            take: take)
    }

    /// Merges the shards' answers to one stage: by `order_value` for
    /// `order_by`, else by score (ties by id).
    static func mergeStage(_ lists: [[ShardJSON]], query: ShardJSON?, higherIsBetter: Bool, take: Int) -> [ShardJSON] {

        if let orderBy = query?["order_by"] {
            let descending = orderBy["direction"]?.string == "desc"
            let key: (ShardJSON) -> Double = { $0["order_value"]?.double ?? $0["score"]?.double ?? 0 }
            return Array(mergeBy(lists, key: key, descending: descending, distinct: false).prefix(take))
        }
        return Array(mergeScored(lists, higherIsBetter: higherIsBetter).prefix(take))
    }

    /// Fusion of prefetch results (the engine's `QueryExecutor.fuse`, with its scores): RRF
    /// (`k`, optional weights) or DBSF; equal scores by id.
    static func fuse(_ sources: [[ShardJSON]], _ query: ShardJSON) -> [ShardJSON] {
        var fused: [MergeID: (point: ShardJSON, score: Float)] = [:]
        var order: [MergeID] = []
        func add(_ point: ShardJSON, _ score: Float) {
            let id = MergeID(point["id"])
            if fused[id] != nil {
                fused[id]!.score += score
            } else {
                fused[id] = (point, score)
                order.append(id)
            }
        }
        let rrf = query["rrf"] ?? (query["fusion"]?.string == "rrf" ? .object([]) : nil)
        if let rrf {
            let k = rrf["k"]?.int ?? Fusion.defaultRRFK
            let weights = rrf["weights"]?.array?.map { Float($0.double ?? 1) }
            for (index, source) in sources.enumerated() {
                let weight = weights.map { index < $0.count ? $0[index] : 1 } ?? 1
                for (position, point) in source.enumerated() {
                    add(point, Fusion.rrfScore(position: position, k: k, weight: weight))
                }
            }
        } else {
            for source in sources {
                let scores = source.map { Float($0["score"]?.double ?? 0) }
                for (point, score) in zip(source, Fusion.distributionNormalized(scores)) { add(point, score) }
            }
        }
        return order.map { fused[$0]! }
            .sorted { a, b in a.score != b.score ? a.score > b.score : MergeID(a.point["id"]) < MergeID(b.point["id"]) }
            .map { entry in
                var point = entry.point
                point["score"] = .number(String(entry.score))
                point["order_value"] = nil
                return point
            }
    }

    /// How many of `take` points to draw from each of sets of `counts` points, as one
    /// uniform draw without replacement from their union (at most each set's count).
    static func draw(_ take: Int, from counts: [Int]) -> [Int] {
        var remaining = counts
        var taken = [Int](repeating: 0, count: counts.count)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<max(take, 0) {
            let total = remaining.reduce(0, +)
            guard total > 0 else { break }
            var pick = Int.random(in: 0..<total, using: &generator)
            for index in remaining.indices {
                if pick < remaining[index] {
                    remaining[index] -= 1
                    taken[index] += 1
                    break
                }
                pick -= remaining[index]
            }
        }
        return taken
    }

    /// `points` with payload and vectors as asked, read from their shards.
    func hydrate(_ points: [ShardJSON], withPayload: ShardJSON, withVector: ShardJSON) async throws -> [ShardJSON] {
        let wantsPayload = withPayload != .bool(false)
        let wantsVector = withVector != .bool(false)
        guard wantsPayload || wantsVector, !points.isEmpty else {
            return points.map { point in
                var point = point
                point["payload"] = .null
                point["vector"] = .null
                return point
            }
        }
        let found = try await records(
            .object([
                ("ids", .array(points.compactMap(\.["id"]))), ("with_payload", withPayload),
                ("with_vector", withVector),
            ]))
        var byID: [MergeID: ShardJSON] = [:]
        for record in found { byID[MergeID(record["id"])] = record }
        return points.compactMap { point in
            guard let record = byID[MergeID(point["id"])] else { return nil }
            var point = point
            point["payload"] = wantsPayload ? record["payload"] ?? .null : .null
            point["vector"] = wantsVector ? record["vector"] ?? .null : .null
            return point
        }
    }

    // MARK: - Legacy search, recommend, discover

    /// `POST points/search` (`kind` "search"), `points/recommend` or `points/discover`.
    func legacySearch(_ kind: String, _ body: ShardJSON) async throws -> Response {
        ShardRouter.ok(.array(try await legacyPage(kind, body)), started: started)
    }

    /// `POST points/{kind}/batch`.
    func legacyBatch(_ kind: String, _ body: ShardJSON) async throws -> Response {
        var results: [ShardJSON] = []
        for search in body["searches"]?.array ?? [] { results.append(.array(try await legacyPage(kind, search))) }
        return ShardRouter.ok(.array(results), started: started)
    }

    func legacyPage(_ kind: String, _ body: ShardJSON) async throws -> [ShardJSON] {
        let shards = try collection.readShards(body["shard_key"])
        let (part, using, higher) = try await legacyPart(kind, body)
        let limit = body["limit"]?.int ?? 10
        let offset = body["offset"]?.int ?? 0
        var request = try await withGlobalIDF(
            part, using: using, examples: ["vector", "positive", "negative", "target", "context"].map { part[$0] },
            shards: shards)
        request["limit"] = .int(limit + offset)
        request["offset"] = nil
        let replies = try await sendAll(shards, .POST, "points/\(kind)", write: false) { _ in request }
        let merged = Self.mergeScored(replies.map { $0.result.array ?? [] }, higherIsBetter: higher)
        return Self.takePage(merged, offset: offset, limit: limit)
    }

    /// A legacy request as each shard gets it (examples resolved, their ids
    /// excluded), the vector it scores by, and whether higher scores are better.
    func legacyPart(_ kind: String, _ body: ShardJSON) async throws -> (ShardJSON, String, Bool) {
        var part = body
        part["shard_key"] = nil
        switch kind {
        case "search":
            let vector = body["vector"]
            let name: String = {
                if case .object = vector, let name = vector?["name"]?.string { return name }
                return ""
            }()
            return (part, name, higherIsBetter(vector: name))
        default:
            let using = body["using"]?.string ?? ""
            var examples: [ShardJSON] = []
            let positive = body["positive"]?.array ?? []
            let negative = body["negative"]?.array ?? []
            examples += (positive + negative).filter(Self.isID)
            if let target = body["target"], Self.isID(target) { examples.append(target) }
            for pair in body["context"]?.array ?? [] {
                for member in ["positive", "negative"] {
                    if let value = pair[member], Self.isID(value) { examples.append(value) }
                }
            }
            let lookup = body["lookup_from"]
            let source = lookup?["collection"]?.string
            let vectors = try await exampleVectors(
                examples, name: lookup?["vector"]?.string ?? using, source: source)
            func resolve(_ value: ShardJSON) -> ShardJSON { Self.isID(value) ? vectors[MergeID(value)]! : value }
            if body["positive"] != nil { part["positive"] = .array(positive.map(resolve)) }
            if body["negative"] != nil { part["negative"] = .array(negative.map(resolve)) }
            if let target = body["target"] { part["target"] = resolve(target) }
            if let context = body["context"]?.array {
                part["context"] = .array(
                    context.map { pair in
                        var pair = pair
                        for member in ["positive", "negative"] {
                            if let value = pair[member] { pair[member] = resolve(value) }
                        }
                        return pair
                    })
            }
            part["lookup_from"] = nil
            if source == nil || source == collection.name {
                part["filter"] = Self.merge(body["filter"], Self.excluding(examples))
            }
            let strategy = body["strategy"]?.string ?? "average_vector"
            let higher = kind == "recommend" && strategy == "average_vector" ? higherIsBetter(vector: using) : true
            return (part, using, higher)
        }
    }

    // MARK: - Groups

    /// `POST points/{kind}/groups` (`kind`: search, recommend or query): the
    /// engine's group-by driver (QueryExecutor+Groups.swift, Qdrant's
    /// `group_by`) run here, each of its requests answered across the shards,
    /// so the groups are those of one collection holding every point.
    func groups(_ kind: String, _ body: ShardJSON) async throws -> Response {
        let shards = try collection.readShards(body["shard_key"])
        guard let groupBy = body["group_by"]?.string else {
            return Reply.ok(try await send(0, .POST, "points/\(kind)/groups", body: body, write: false).body)
        }
        let path: PayloadPath
        do { path = try PayloadPath(groupBy) } catch { throw APIError.badRequest("Bad request: \(error.message)") }
        let groupLimit = body["limit"]?.int ?? 10
        let groupSize = body["group_size"]?.int ?? 3
        guard groupLimit > 0, groupSize > 0 else {
            return Reply.ok(try await send(0, .POST, "points/\(kind)/groups", body: body, write: false).body)
        }
        // Only points holding the field; prefetch limits scaled by group_size.
        let holding = ShardJSON.object([
            ("must_not", .array([.object([("is_empty", .object([("key", .string(groupBy))]))])]))
        ])
        let order: Bool?
        var base: ShardJSON
        var referenced: [ShardJSON] = []
        if kind == "query" {
            try checkQuery(body, grouped: true)
            try refuseUnsupported(body)
            base = try await resolvingAll(Self.scaled(body, by: groupSize, root: true), referenced: &referenced)
            order =
                Self.prefetches(of: body).isEmpty || body["query"] != nil
                ? resultOrder(query: body["query"], using: body["using"]?.string ?? "") : nil
        } else {
            let part: ShardJSON
            (part, _, _) = try await legacyPart(kind, body)
            base = part
            let strategy = body["strategy"]?.string ?? "average_vector"
            order =
                kind == "recommend" && strategy != "average_vector"
                ? true
                : (kind == "discover"
                    ? true
                    : higherIsBetter(vector: kind == "search" ? legacyVectorName(body) : body["using"]?.string ?? ""))
        }
        base["filter"] = Self.merge(Self.merge(base["filter"], Self.excluding(referenced)), holding)
        base["shard_key"] = nil
        base["with_lookup"] = nil
        let candidates =
            groupLimit.multipliedReportingOverflow(by: groupSize).overflow ? Int.max / 4 : groupLimit * groupSize
        var aggregator = ShardGroupAggregator(groups: groupLimit, groupSize: groupSize, higherIsBetter: order)
        var collecting = 5, filling = 5  // the engine's groupRequestBudget
        while collecting > 0 || filling > 0 {
            var extra: [ShardJSON] = []
            let isCollecting = collecting > 0
            if isCollecting {
                collecting -= 1
                extra += Self.groupConditions(groupBy, aggregator.fullKeys, match: "except")
            } else {
                filling -= 1
                extra += Self.groupConditions(groupBy, aggregator.unfilledBestKeys, match: "any")
            }
            var filter: [(String, ShardJSON)] = []
            if !extra.isEmpty { filter.append(("must", .array(extra))) }
            if !aggregator.ids.isEmpty {
                filter.append(("must_not", .array([.object([("has_id", .array(aggregator.idValues))])])))
            }
            var request = base
            request["filter"] = Self.merge(base["filter"], filter.isEmpty ? nil : .object(filter))
            let hits: [ShardJSON]
            if kind == "query" {
                hits = try await stage(
                    request, filter: request["filter"], take: candidates, shards: shards,
                    withPayload: .bool(true), withVector: .bool(false))
            } else {
                request["limit"] = .int(candidates)
                request["offset"] = nil
                request["with_payload"] = .bool(true)
                request["with_vector"] = .bool(false)
                request["group_by"] = nil
                request["group_size"] = nil
                let replies = try await sendAll(shards, .POST, "points/\(kind)", write: false) { _ in request }
                hits = Array(
                    Self.mergeScored(replies.map { $0.result.array ?? [] }, higherIsBetter: order ?? true).prefix(
                        candidates))
            }
            for hit in hits {
                if let keys = Self.groupKeys(of: hit, at: path) { aggregator.add(hit, keys: keys) }
            }
            let enough = aggregator.filledBestCount >= groupLimit
            if enough || (!isCollecting && hits.isEmpty) { break }
            if isCollecting && hits.isEmpty { collecting = 0 }
        }
        let chosen = aggregator.distilled()
        let hydrated = try await hydrate(
            chosen.flatMap(\.hits), withPayload: body["with_payload"] ?? .bool(false),
            withVector: body["with_vector"] ?? .bool(false))
        var byID: [MergeID: ShardJSON] = [:]
        for hit in hydrated where byID[MergeID(hit["id"])] == nil { byID[MergeID(hit["id"])] = hit }
        var lookups: [MergeID: ShardJSON] = [:]
        if let lookup = body["with_lookup"], !lookup.isNull {
            let source = lookup.string ?? lookup["collection"]?.string ?? collection.name
            let ids = chosen.map(\.key).filter(Self.isLookupID)
            let request = ShardJSON.object([
                ("ids", .array(ids)),
                ("with_payload", lookup["with_payload"] ?? .bool(true)),
                ("with_vector", lookup["with_vectors"] ?? lookup["with_vector"] ?? .bool(true)),
            ])
            if !ids.isEmpty {
                for record in try await ownAPI(.POST, "/collections/\(source)/points", request).array ?? [] {
                    lookups[MergeID(record["id"])] = record
                }
            }
        }
        let groups: [ShardJSON] = chosen.map { group in
            var members: [(String, ShardJSON)] = [
                ("id", group.key),
                (
                    "hits",
                    .array(
                        group.hits.compactMap { hit in
                            guard var full = byID[MergeID(hit["id"])] else { return nil }
                            full["score"] = hit["score"]
                            return full
                        })
                ),
            ]
            if Self.isLookupID(group.key), let record = lookups[MergeID(group.key)] {
                members.append(("lookup", record))
            }
            return .object(members)
        }
        return ShardRouter.ok(.object([("groups", .array(groups))]), started: started)
    }

    /// A group value usable as a point id for `with_lookup` (non-negative integers, UUID strings).
    static func isLookupID(_ key: ShardJSON) -> Bool {
        switch key {
        case .number(let text): return UInt64(text) != nil
        case .string(let text): return UUID(uuidString: text) != nil
        default: return false
        }
    }

    func legacyVectorName(_ body: ShardJSON) -> String {
        if case .object? = body["vector"], let name = body["vector"]?["name"]?.string { return name }
        return ""
    }

    /// Whether a larger score ranks first (the engine's `resultOrder`); nil
    /// where results have no score order (MMR, samples, order_by, id order).
    func resultOrder(query: ShardJSON?, using: String) -> Bool? {
        guard let query, !query.isNull else { return nil }
        if case .object(let members) = query, let kind = Self.queryKind(members)?.0 {
            switch kind {
            case "nearest": return query["mmr"].map { $0.isNull } ?? true ? higherIsBetter(vector: using) : nil
            case "order_by", "sample": return nil
            case "recommend": return higherIsBetter(query: query, using: using)
            case "indices": return true
            default: return true
            }
        }
        return higherIsBetter(vector: using)
    }

    /// `match` conditions on `key` (`except` or `any`), one per value type, none without values.
    static func groupConditions(_ key: String, _ values: [ShardJSON], match: String) -> [ShardJSON] {
        let strings = values.filter { if case .string = $0 { return true } else { return false } }
        let integers = values.filter { if case .number = $0 { return true } else { return false } }
        return [strings, integers].filter { !$0.isEmpty }.map { list in
            .object([("key", .string(key)), ("match", .object([(match, .array(list))]))])
        }
    }

    /// The distinct group values of a hit (strings and integers, each element
    /// of an array); nil when it has none or a value of another type.
    static func groupKeys(of hit: ShardJSON, at path: PayloadPath) -> [ShardJSON]? {
        guard let payload = hit["payload"], case .object = payload,
            let decoded = try? JSONDecoder().decode([String: JSONValue].self, from: Data(payload.bytes))
        else { return nil }
        let values = path.values(in: decoded)
        guard !values.isEmpty else { return nil }
        var keys: [ShardJSON] = []
        for value in values {
            let key: ShardJSON
            switch value {
            case .string(let text): key = .string(text)
            case .int(let number): key = .number(String(number))
            default: return nil
            }
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    /// `stage` with the limits of its prefetches (recursively) multiplied by `factor`.
    static func scaled(_ stage: ShardJSON, by factor: Int, root: Bool) -> ShardJSON {
        var copy = stage
        if !root {
            let limit = stage["limit"]?.int ?? 10
            copy["limit"] = .int(limit.multipliedReportingOverflow(by: factor).overflow ? Int.max / 4 : limit * factor)
        }
        let children = prefetches(of: stage)
        if !children.isEmpty { copy["prefetch"] = .array(children.map { scaled($0, by: factor, root: false) }) }
        return copy
    }
}

/// The groups found so far (the engine's `GroupAggregator`, Qdrant's
/// `GroupsAggregator`): every hit under each of its group keys; a group is
/// full at `groupSize` hits; groups rank by their best hit.
struct ShardGroupAggregator {
    let groups: Int
    let groupSize: Int
    let higherIsBetter: Bool?
    private var keys: [ShardJSON] = []
    private var members: [String: [ShardJSON]] = [:]
    private var memberIDs: [String: Set<MergeID>] = [:]
    private var best: [String: Double] = [:]
    private var full: Set<String> = []
    private(set) var ids: Set<MergeID> = []
    private(set) var idValues: [ShardJSON] = []

    init(groups: Int, groupSize: Int, higherIsBetter: Bool?) {
        self.groups = groups
        self.groupSize = groupSize
        self.higherIsBetter = higherIsBetter
    }

    static func name(_ key: ShardJSON) -> String { String(decoding: key.bytes, as: UTF8.self) }

    mutating func add(_ hit: ShardJSON, keys groupKeys: [ShardJSON]) {
        let id = MergeID(hit["id"])
        let score = hit["score"]?.double ?? 0
        for key in groupKeys {
            let name = Self.name(key)
            if members[name] == nil {
                keys.append(key)
                members[name] = []
            }
            if memberIDs[name, default: []].insert(id).inserted {
                members[name]!.append(hit)
                if ids.insert(id).inserted, let value = hit["id"] { idValues.append(value) }
            }
            if members[name]!.count == groupSize { full.insert(name) }
            if let current = best[name] {
                if let higher = higherIsBetter, higher ? score > current : score < current { best[name] = score }
            } else {
                best[name] = score
            }
        }
    }

    var fullKeys: [ShardJSON] { keys.filter { full.contains(Self.name($0)) } }

    var bestKeys: [ShardJSON] {
        guard let higher = higherIsBetter else { return Array(keys.prefix(groups)) }
        let ranked = keys.enumerated().sorted { a, b in
            let x = best[Self.name(a.element)]!, y = best[Self.name(b.element)]!
            return x != y ? (higher ? x > y : x < y) : a.offset < b.offset
        }
        return ranked.prefix(groups).map(\.element)
    }

    var unfilledBestKeys: [ShardJSON] { bestKeys.filter { !full.contains(Self.name($0)) } }
    var filledBestCount: Int { bestKeys.filter { full.contains(Self.name($0)) }.count }

    func distilled() -> [(key: ShardJSON, hits: [ShardJSON])] {
        bestKeys.map { key in
            let hits = members[Self.name(key)]!
            let ranked = higherIsBetter == nil ? hits : ShardRouter.mergeScored([hits], higherIsBetter: higherIsBetter!)
            return (key, Array(ranked.prefix(groupSize)))
        }
    }
}
