import Dispatch
import Foundation
import GRPCCore
import HTTPTypes
import Strata
import SwiftProtobuf

/// One unary gRPC call as the services see it: the transport-independent
/// `RequestScope` (credentials from the metadata, the message's `timeout`)
/// and when the call started, for the `time` every Qdrant response carries.
struct GRPCCall: Sendable {
    var scope: RequestScope
    /// The call's `api-key` / `authorization`, as REST headers (a cluster node
    /// relays them with the parts of a call on a sharded collection).
    var credentials = HTTPFields()

    var access: Access { scope.access }

    /// Seconds since the call started.
    var elapsed: Double {
        let elapsed = ContinuousClock.now - scope.startedAt
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}

extension StrataHTTPServer {
    /// Runs one unary call: authenticates it from its metadata (`api-key`, or
    /// `authorization: Bearer …`, as over REST), runs `body` and maps every
    /// error to the gRPC status Qdrant answers with. When the call is
    /// cancelled (the client went away or its deadline passed), the call's
    /// queries stop at their next check (`RequestScope.abandoned`).
    /// On a cluster node, a call this node cannot serve goes on to the node
    /// that can (GRPCForwarding), after its credentials were checked here.
    func unary<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
        _ request: ServerRequest<Input>, _ context: ServerContext,
        _ body: (Input, GRPCCall) async throws -> Output
    ) async throws -> ServerResponse<Output> {
        let endpoint = "/\(context.descriptor.service)/\(context.descriptor.method)"
        let call: GRPCCall
        do {
            let credentials = Self.credentials(in: request.metadata)
            let access = try authenticator.access(for: credentials)
            call = GRPCCall(
                scope: RequestScope(access: access, startedAt: Self.arrival(of: request.metadata)),
                credentials: credentials)
        } catch {
            metrics.recordGRPC(endpoint: endpoint, failed: true, seconds: 0)
            throw Self.rpcError(error)
        }
        do {
            if let cluster, let target = try grpcForwardTarget(request.message, context, request.metadata) {
                let response: ServerResponse<Output> = try await forwardGRPC(
                    request, context, to: target, cluster: cluster)
                metrics.recordGRPC(endpoint: endpoint, failed: false, seconds: call.elapsed)
                return response
            }
            // gRPC signals a cancelled call (client gone, deadline passed) through
            // the RPC's cancellation handle; a cancelled task counts too.
            let abandoned = call.scope.abandoned
            let output = try await withRPCCancellationHandler {
                try await withTaskCancellationHandler {
                    try await body(request.message, call)
                } onCancel: {
                    abandoned.cancel()
                }
            } onCancelRPC: {
                abandoned.cancel()
            }
            metrics.recordGRPC(endpoint: endpoint, failed: false, seconds: call.elapsed)
            return ServerResponse(message: output)
        } catch {
            metrics.recordIfCancelled(error)
            metrics.recordGRPC(endpoint: endpoint, failed: true, seconds: call.elapsed)
            throw Self.rpcError(error)
        }
    }

    /// Runs a checked read on the engine pool and converts its result to the
    /// reply there too (big results are expensive to convert).
    func run<T, Output: Sendable>(
        _ read: @escaping EngineRead<T>, _ reply: @escaping @Sendable (T) throws -> Output
    )
        async throws -> Output
    {
        try await executor.run { try reply(try read()) }
    }

    /// When the call's request stream arrived (`GRPCRequestIntake`'s stamp), or now.
    static func arrival(of metadata: Metadata) -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        guard let text = metadata[stringValues: GRPCRequestIntake.receivedKey].first(where: { _ in true }),
            let stamp = UInt64(text)
        else { return now }
        let uptime = DispatchTime.now().uptimeNanoseconds
        guard stamp <= uptime else { return now }
        return now - .nanoseconds(Int64(uptime - stamp))
    }

    /// The credential headers of a call's metadata, for `Authenticator`.
    static func credentials(in metadata: Metadata) -> HTTPFields {
        var fields = HTTPFields()
        if let key = metadata[stringValues: "api-key"].first(where: { _ in true }) {
            fields[Authenticator.apiKeyHeader] = key
        }
        if let authorization = metadata[stringValues: "authorization"].first(where: { _ in true }) {
            fields[.authorization] = authorization
        }
        return fields
    }

    /// The gRPC status for an error, as Qdrant maps its errors to tonic's
    /// statuses; the message is the one REST answers with.
    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        let apiError = APIError.from(error)
        let code: RPCError.Code
        switch apiError.status.code {
        case 400, 422: code = .invalidArgument
        case 401: code = .unauthenticated
        case 403: code = .permissionDenied
        case 404: code = .notFound
        case 408, 504: code = .deadlineExceeded
        case 409: code = .alreadyExists
        case 412: code = .failedPrecondition
        case 413, 429, 507: code = .resourceExhausted
        case 501: code = .unimplemented
        case 503: code = .unavailable
        default: code = .internalError
        }
        return RPCError(code: code, message: apiError.message)
    }
}
