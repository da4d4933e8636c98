import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A typed client for etcd v3 over its JSON gateway (`POST /v3/...`): reads,
/// writes, compare-and-swap transactions, leases and watches. Strata's
/// cluster keeps its control plane here (docs/cluster.md); no gRPC stack is
/// needed for it.
///
/// **Endpoints.** Requests go to one member at a time. A member that refuses
/// the connection is skipped and the next is tried, so a client given every
/// member's URL rides out a dead member; the member that last answered is
/// tried first.
///
/// **Deadlines.** Each request has `requestTimeout`. A request that was sent
/// and timed out throws `EtcdError.timedOut`, which is *indeterminate*: etcd
/// without quorum never answers a write, but a write may also have been applied
/// just before the deadline. It is never retried here; callers re-read.
///
/// Thread safety: all methods may be called concurrently. Call `shutdown()`
/// once when done (watches end with it).
public final class EtcdClient: Sendable {
    public struct Configuration: Sendable {
        /// Client URLs of etcd members, e.g. `http://127.0.0.1:2379`.
        public var endpoints: [String]
        /// How long a request may wait for its answer.
        public var requestTimeout: Duration = .seconds(3)
        /// How long connecting to one member may take before the next is tried.
        public var connectTimeout: Duration = .milliseconds(800)

        public init(endpoints: [String]) { self.endpoints = endpoints }
    }

    public let configuration: Configuration
    private let http: HTTPClient
    /// Index into `configuration.endpoints` of the member that answered last.
    private let preferred = Mutex(0)

    /// Checks the endpoint URLs (http or https, a host, no path) and makes the
    /// client; it does not connect yet.
    public init(_ configuration: Configuration) throws {
        guard !configuration.endpoints.isEmpty else {
            throw EtcdError.unreachable(endpoints: [], cause: "no etcd endpoint was given")
        }
        var normalized: [String] = []
        for endpoint in configuration.endpoints {
            guard let url = URL(string: endpoint), let scheme = url.scheme, scheme == "http" || scheme == "https",
                url.host != nil, url.path.isEmpty || url.path == "/"
            else {
                throw EtcdError.unreachable(
                    endpoints: configuration.endpoints,
                    cause: "\"\(endpoint)\" is not an etcd client URL like http://127.0.0.1:2379")
            }
            normalized.append(endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint)
        }
        var configuration = configuration
        configuration.endpoints = normalized
        self.configuration = configuration
        http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(connect: TimeAmount(configuration.connectTimeout))))
    }

    /// Ends open watches and closes connections. Must be called once before
    /// the client goes away.
    public func shutdown() async throws { try await http.shutdown() }

    /// Runs `body` with a new client, shut down afterwards whatever happens.
    public static func with<T: Sendable>(
        _ configuration: Configuration, _ body: (EtcdClient) async throws -> T
    ) async throws -> T {
        let client = try EtcdClient(configuration)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    // MARK: Keys

    /// The value at `key`, or nil.
    public func get(_ key: String) async throws -> EtcdKeyValue? {
        try await range(.key(key)).keyValues.first
    }

    /// Every key (with value) that `keys` covers, in key order, and the revision read.
    public func range(_ keys: EtcdKeys) async throws -> EtcdRange {
        let (key, end) = Wire.keys(keys)
        let (reply, endpoint) = try await call(
            "/v3/kv/range", WireRangeRequest(key: key, range_end: end), WireRangeResponse.self)
        return EtcdRange(
            keyValues: try (reply.kvs ?? []).map { try Wire.keyValue($0, endpoint: endpoint) },
            revision: Wire.int64(reply.header?.revision))
    }

    /// Puts `value` at `key` (attached to `lease` unless 0); returns the new revision.
    @discardableResult
    public func put(_ key: String, _ value: Data, lease: Int64 = 0) async throws -> Int64 {
        let request = WirePutRequest(
            key: Wire.encode(key), value: Wire.encode(value), lease: lease == 0 ? nil : String(lease))
        let (reply, _) = try await call("/v3/kv/put", request, WirePutResponse.self)
        return Wire.int64(reply.header?.revision)
    }

    /// Deletes what `keys` covers; returns how many keys were deleted.
    @discardableResult
    public func delete(_ keys: EtcdKeys) async throws -> Int64 {
        let (key, end) = Wire.keys(keys)
        let (reply, _) = try await call(
            "/v3/kv/deleterange", WireDeleteRangeRequest(key: key, range_end: end), WireDeleteRangeResponse.self)
        return Wire.int64(reply.deleted)
    }

    /// Runs `success` if every comparison holds, else `failure`, atomically.
    public func transaction(
        if compare: [EtcdCompare], then success: [EtcdOperation], else failure: [EtcdOperation] = []
    ) async throws -> EtcdTransactionResult {
        let request = WireTxnRequest(
            compare: compare.map(Wire.compare), success: success.map(Wire.operation),
            failure: failure.map(Wire.operation))
        let (reply, endpoint) = try await call("/v3/kv/txn", request, WireTxnResponse.self)
        let responses = reply.responses ?? []
        let ran = (reply.succeeded ?? false) ? success : failure
        guard responses.count == ran.count else {
            throw EtcdError.malformedReply(
                endpoint: endpoint, detail: "a transaction ran \(ran.count) operations but answered \(responses.count)")
        }
        var results: [EtcdOperationResult] = []
        for response in responses {
            if let range = response.response_range {
                results.append(.range(try (range.kvs ?? []).map { try Wire.keyValue($0, endpoint: endpoint) }))
            } else if let delete = response.response_delete_range {
                results.append(.delete(deleted: Wire.int64(delete.deleted)))
            } else {
                results.append(.put)
            }
        }
        return EtcdTransactionResult(
            succeeded: reply.succeeded ?? false, results: results, revision: Wire.int64(reply.header?.revision))
    }

    // MARK: Leases

    /// A new lease of `ttl` seconds.
    public func grantLease(ttl: Int64) async throws -> EtcdLease {
        let (reply, endpoint) = try await call(
            "/v3/lease/grant", WireLeaseGrantRequest(TTL: String(ttl)), WireLeaseGrantResponse.self)
        if let error = reply.error, !error.isEmpty {
            throw EtcdError.server(endpoint: endpoint, code: 0, message: error)
        }
        guard let id = reply.ID.flatMap({ Int64($0) }), id != 0 else {
            throw EtcdError.malformedReply(endpoint: endpoint, detail: "a lease grant without an ID")
        }
        return EtcdLease(id: id, ttl: Wire.int64(reply.TTL))
    }

    /// Renews `lease` once. Returns its new TTL, or nil when the lease no
    /// longer exists (it expired or was revoked: its keys are gone).
    public func keepAlive(_ lease: Int64) async throws -> Int64? {
        let (reply, _) = try await call(
            "/v3/lease/keepalive", WireLeaseID(ID: String(lease)), WireLeaseKeepAliveReply.self)
        let ttl = Wire.int64(reply.result?.TTL)
        return ttl > 0 ? ttl : nil
    }

    /// Revokes `lease`, deleting its keys. A lease that is already gone is not an error.
    public func revoke(_ lease: Int64) async throws {
        do {
            _ = try await call("/v3/lease/revoke", WireLeaseID(ID: String(lease)), WirePutResponse.self)
        } catch let error as EtcdError where error.isLeaseNotFound {
            return
        }
    }

    // MARK: Cluster

    /// The status of the first member that answers.
    public func status() async throws -> EtcdStatus {
        let (reply, _) = try await call("/v3/maintenance/status", [String: String](), WireStatusResponse.self)
        return EtcdStatus(
            version: reply.version ?? "", memberID: Wire.uint64(reply.header?.member_id),
            leaderID: Wire.uint64(reply.leader), raftTerm: Wire.uint64(reply.raftTerm),
            raftIndex: Wire.uint64(reply.raftIndex), revision: Wire.int64(reply.header?.revision))
    }

    // MARK: Watches

    /// Changes to `keys` from `revision` on (0: from now), in order, batched as
    /// etcd sends them. The stream ends by throwing when the connection drops
    /// (`EtcdError`), when the watch fell behind compaction (`.watchCompacted`:
    /// read again, then watch from the read's revision + 1), or when the
    /// consuming task is cancelled.
    public func watch(_ keys: EtcdKeys, fromRevision revision: Int64 = 0) -> AsyncThrowingStream<[EtcdEvent], Error> {
        let (key, end) = Wire.keys(keys)
        let create = WireWatchCreate(
            create_request: .init(key: key, range_end: end, start_revision: revision > 0 ? String(revision) : nil))
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await self.streamWatch(create, into: continuation)
                    continuation.finish(throwing: EtcdError.watchCancelled(reason: "the connection closed"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func streamWatch(
        _ create: WireWatchCreate, into continuation: AsyncThrowingStream<[EtcdEvent], Error>.Continuation
    ) async throws {
        let body = try JSONEncoder().encode(create)
        let (response, endpoint) = try await send("/v3/watch", body: body, deadline: .distantFuture)
        var pending: [UInt8] = []
        let decoder = JSONDecoder()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                guard !line.isEmpty else { continue }
                let reply: WireWatchReply
                do {
                    reply = try decoder.decode(WireWatchReply.self, from: line)
                } catch {
                    throw EtcdError.malformedReply(endpoint: endpoint, detail: "a watch line is not JSON: \(error)")
                }
                if let error = reply.error {
                    throw EtcdError.server(
                        endpoint: endpoint, code: error.grpc_code ?? error.code ?? 0,
                        message: error.message ?? error.error ?? "unknown")
                }
                guard let result = reply.result else { continue }
                let compacted = Wire.int64(result.compact_revision)
                if compacted > 0 { throw EtcdError.watchCompacted(revision: compacted) }
                if result.canceled == true {
                    throw EtcdError.watchCancelled(reason: result.cancel_reason ?? "no reason given")
                }
                let events = try (result.events ?? []).map { event in
                    EtcdEvent(
                        kind: event.type == "DELETE" ? .delete : .put,
                        keyValue: try Wire.keyValue(event.kv ?? WireKeyValue(), endpoint: endpoint))
                }
                if !events.isEmpty { continuation.yield(events) }
            }
        }
    }

    // MARK: Transport

    private func call<Request: Encodable, Reply: Decodable>(
        _ path: String, _ request: Request, _ reply: Reply.Type
    ) async throws -> (Reply, String) {
        let body = try JSONEncoder().encode(request)
        let (response, endpoint) = try await send(
            path, body: body, deadline: .now() + TimeAmount(configuration.requestTimeout))
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw translate(error, endpoint: endpoint)
        }
        let data = Data(bytes.readableBytesView)
        guard response.status == .ok else {
            let error = try? JSONDecoder().decode(WireError.self, from: data)
            throw EtcdError.server(
                endpoint: endpoint, code: error?.code ?? error?.grpc_code ?? Int(response.status.code),
                message: error?.message ?? error?.error ?? "HTTP \(response.status.code)")
        }
        do {
            return (try JSONDecoder().decode(Reply.self, from: data), endpoint)
        } catch {
            throw EtcdError.malformedReply(endpoint: endpoint, detail: "\(error)")
        }
    }

    /// Sends to the preferred member, then to each other member whose
    /// connection fails (nothing was sent to those).
    private func send(_ path: String, body: Data, deadline: NIODeadline) async throws -> (HTTPClientResponse, String) {
        let endpoints = configuration.endpoints
        let first = preferred.withLock { $0 }
        var lastCause = "no endpoint tried"
        for step in 0..<endpoints.count {
            let index = (first + step) % endpoints.count
            let endpoint = endpoints[index]
            var request = HTTPClientRequest(url: endpoint + path)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await http.execute(request, deadline: deadline)
                if step > 0 { preferred.withLock { $0 = index } }
                return (response, endpoint)
            } catch {
                guard Self.isConnectFailure(error) else { throw translate(error, endpoint: endpoint) }
                lastCause = "\(endpoint): \(Self.describe(error))"
            }
        }
        throw EtcdError.unreachable(endpoints: endpoints, cause: lastCause)
    }

    private func translate(_ error: Error, endpoint: String) -> Error {
        if error is EtcdError || error is CancellationError { return error }
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return EtcdError.timedOut(endpoint: endpoint, after: configuration.requestTimeout)
        }
        return EtcdError.unreachable(endpoints: [endpoint], cause: "\(error)")
    }

    /// A short reason for a connection failure ("connection refused").
    static func describe(_ error: Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? HTTPClientError, error == .connectTimeout { return "the connection timed out" }
        if let error = error as? ChannelError, case .connectTimeout = error { return "the connection timed out" }
        return "\(error)"
    }

    /// Errors that happen before a request is sent: the member is down or unreachable.
    static func isConnectFailure(_ error: Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .connectTimeout
        }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError {
            return [ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode)
        }
        return false
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
