import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Strata
import StrataCluster

/// Sends each collection request of a cluster node where it can be served
/// (docs/cluster.md, "Requests"): writes to the collection's primary, reads
/// to this node's replica when it is Active, else to the primary. A request
/// is forwarded at most once (`x-strata-forwarded-by`): a node that gets a
/// forwarded request serves it or fails it, so stale views never loop. The
/// header counts only with the cluster secret (`x-strata-cluster-secret`,
/// `forwardingHeaders`); without it the request is refused (403), so a
/// client cannot make a node serve a read from a replica that is not Active.
struct ClusterRoutingMiddleware: RouterMiddleware {
    typealias Context = StrataRequestContext
    static let forwardedHeader = HTTPField.Name("x-strata-forwarded-by")!
    /// Never relayed from an incoming request: a node sends its own (`forwardingHeaders`).
    static let secretHeader = HTTPField.Name(PeerClient.secretHeader)!

    let server: StrataHTTPServer
    let cluster: ClusterNode

    /// The headers a node adds to a request it sends on to another node: who
    /// forwards it, and the cluster secret that proves it came from a node (a
    /// client that sets `x-strata-forwarded-by` itself is refused, not served
    /// from whatever replica it reached).
    static func forwardingHeaders(_ cluster: ClusterNode) -> [(String, String)] {
        [
            (forwardedHeader.rawName, String(cluster.identity.peerID)),
            (PeerClient.secretHeader, cluster.configuration.secret),
        ]
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if request.headers[Self.forwardedHeader] != nil {
            guard PeerSecretMiddleware.carriesSecret(request, cluster.configuration.secret) else {
                throw APIError.forbidden(
                    "x-strata-forwarded-by is internal to a Strata cluster: only a node of the cluster may send it")
            }
            return try await next(request, context)
        }
        // Integrity checks cover every copy of the data, not one replica (ClusterVerify.swift).
        if request.method == .post,
            let (name, rest) = Self.collectionPath(request.uri.path), rest == "verify",
            let placement = cluster.placement(name)
        {
            return try await verifyEveryReplica(request, context, name: name, root: placement)
        }
        if let (name, rest) = Self.collectionPath(request.uri.path), let placement = cluster.placement(name),
            placement.isSharded,
            rest != "cluster", rest != "shards", !rest.hasPrefix("shards/delete"),
            !(rest.isEmpty && (request.method == .put || request.method == .delete))
        {
            return try await sharded(request, context, name: name, rest: rest, root: placement)
        }
        // `PUT` and `DELETE /collections/{c}` are the cluster's own (ClusterCollections.swift);
        // `GET /collections/{c}` is a read like the others, `PATCH` a write (to the primary).
        guard let (name, rest) = Self.collectionPath(request.uri.path),
            !rest.isEmpty || request.method == .get || request.method == .patch,
            let placement = cluster.placement(name)
        else { return try await next(request, context) }
        let me = cluster.identity.peerID
        let write = Self.isWrite(request.method, rest)
        if !write, Self.isPointRead(rest),
            let consistency = try ReadConsistency.parse(request.uri.queryParameters.get("consistency")),
            consistency.plan(replicas: placement.replicas.count).answers > 1
        {
            return try await readFromReplicas(request, context, name: name, rest: rest, root: placement, consistency)
        }
        if write ? placement.primary == me : placement.state(of: me) == .active {
            return try await next(request, context)
        }
        guard let target = cluster.livePeers()[placement.primary] else {
            throw APIError(
                .serviceUnavailable,
                "Service unavailable: the primary of collection `\(name)` (peer \(placement.primary)) is not running")
        }
        return try await forward(request, context, to: target.rest_url)
    }

    /// A request on a collection of several shards: split, sent to the
    /// shards and merged (ShardedCollection.swift).
    func sharded(
        _ request: Request, _ context: Context, name: String, rest: String, root: CollectionPlacement
    ) async throws -> Response {
        let router = ShardRouter(
            server: server, cluster: cluster, collection: ShardedCollection(name: name, root: root, cluster: cluster),
            headers: Self.relayedHeaders(request), query: request.uri.query.map { "?" + $0 } ?? "", started: .now,
            consistency: try ReadConsistency.parse(request.uri.queryParameters.get("consistency")))
        let body = try await server.body(of: request, context)
        do {
            guard let response = try await router.handle(.init(rawValue: request.method.rawValue), rest, body: body)
            else { throw APIError.badRequest("unexpected request on a sharded collection") }
            return response
        } catch let failure as ShardFailure {
            return Response(
                status: .init(code: failure.status), headers: Reply.jsonHeaders,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: failure.body)))
        }
    }

    /// A read of a one-shard collection's points (the endpoints where Qdrant
    /// takes `consistency`: retrieve, scroll, count, facet, every search and
    /// query) with a `consistency` above one replica: answered by that many
    /// Active replicas and resolved (ReadConsistency.swift). Other requests
    /// (collection info, snapshots) are served by one node whatever they carry.
    func readFromReplicas(
        _ request: Request, _ context: Context, name: String, rest: String, root: CollectionPlacement,
        _ consistency: ReadConsistency
    ) async throws -> Response {
        let router = ShardRouter(
            server: server, cluster: cluster,
            collection: ShardedCollection(name: name, root: root, shards: [0: root]),
            headers: Self.relayedHeaders(request), query: request.uri.query.map { "?" + $0 } ?? "", started: .now,
            consistency: consistency)
        let bytes = try await server.body(of: request, context)
        let body: ShardJSON?
        do {
            body = bytes.isEmpty ? nil : try ShardJSON(parsing: bytes)
        } catch {
            throw APIError.badRequest("Format error in JSON body: \(error)")
        }
        do {
            let reply = try await router.send(
                0, .init(rawValue: request.method.rawValue), rest, body: body, write: false)
            return ShardRouter.ok(reply.result, started: router.started)
        } catch let failure as ShardFailure {
            return Response(
                status: .init(code: failure.status), headers: Reply.jsonHeaders,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: failure.body)))
        }
    }

    /// The headers of a user's request that travel with its parts to other
    /// nodes (credentials and the like; never the cluster secret, nor what
    /// describes the body, which each part has its own of).
    static func relayedHeaders(_ request: Request) -> [(String, String)] {
        request.headers.filter {
            ![.contentLength, .connection, .transferEncoding, .contentType, secretHeader].contains($0.name)
        }.map { ($0.name.rawName, $0.value) }
    }

    /// `(collection, rest of the path)` for `/collections/{name}/…`.
    static func collectionPath(_ path: String) -> (String, String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].isEmpty, parts[1] == "collections", !parts[2].isEmpty,
            parts[2] != "aliases"
        else { return nil }
        let name = String(parts[2]).removingPercentEncoding ?? String(parts[2])
        return (name, parts.dropFirst(3).joined(separator: "/"))
    }

    /// Whether a read below `/collections/{name}/` reads points (retrieve,
    /// scroll, count, facet, searches, queries): the reads that take Qdrant's
    /// `consistency`.
    static func isPointRead(_ rest: String) -> Bool {
        rest == "points" || rest.hasPrefix("points/") || rest == "facet"
    }

    /// Whether a request below `/collections/{name}/` changes points or indexes.
    static func isWrite(_ method: HTTPRequest.Method, _ rest: String) -> Bool {
        switch method {
        case .put, .delete, .patch: return true
        case .post:
            return [
                "points/delete", "points/payload", "points/payload/delete", "points/payload/clear",
                "points/vectors", "points/vectors/delete", "points/batch",
            ].contains(rest)
        default: return false
        }
    }

    func forward(_ request: Request, _ context: Context, to baseURL: String) async throws -> Response {
        var outgoing = HTTPClientRequest(url: baseURL + request.uri.description)
        outgoing.method = .init(rawValue: request.method.rawValue)
        for field in request.headers
        where ![.contentLength, .connection, .transferEncoding, Self.secretHeader].contains(field.name) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        for (name, value) in Self.forwardingHeaders(cluster) { outgoing.headers.add(name: name, value: value) }
        let body = try await server.body(of: request, context)
        if !body.isEmpty || request.method != .get { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do {
            response = try await PeerClient.http(for: cluster).execute(outgoing, timeout: .seconds(120))
        } catch {
            throw APIError(.serviceUnavailable, "Service unavailable: cannot reach \(baseURL): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 1 << 30)
        var headers = HTTPFields()
        if let type = response.headers.first(name: "content-type") { headers[.contentType] = type }
        return Response(
            status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headers: headers, body: ResponseBody(byteBuffer: bytes))
    }
}
