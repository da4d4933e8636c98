import Hummingbird
import Logging
import NIOCore

/// Outermost middleware: turns every error into Qdrant's error body, records
/// the response in the metrics and logs it (method, route, status, time —
/// never headers or bodies, so credentials never reach the log).
struct ResponseMiddleware: RouterMiddleware {
    typealias Context = StrataRequestContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError: APIError
            switch error {
            case let error as APIError: apiError = error
            case let error as HTTPError where error.status == .notFound:
                apiError = APIError(.notFound, "Not found: no endpoint \(request.method) \(request.uri.path)")
            case let error as HTTPError where error.status == .methodNotAllowed:
                apiError = APIError(.methodNotAllowed, "Method not allowed: \(request.method) \(request.uri.path)")
            case let error as HTTPError:
                apiError = APIError(error.status, error.body ?? error.status.reasonPhrase)
            case is NIOTooManyBytesError:
                apiError = APIError(.contentTooLarge, "Payload too large: the request body exceeds the server's limit")
            default:
                apiError = APIError.from(error)
            }
            response = Reply.error(apiError, context: context)
        }
        let endpoint = context.endpointPath ?? "unmatched"
        metrics.record(
            method: request.method.rawValue, endpoint: endpoint, status: response.status.code,
            seconds: context.elapsedSeconds)
        let level: Logger.Level = response.status.code >= 500 ? .error : (response.status.code >= 400 ? .info : .debug)
        context.logger.log(
            level: level, "request",
            metadata: [
                "method": "\(request.method)", "endpoint": "\(endpoint)", "status": "\(response.status.code)",
                "seconds": "\(context.elapsedSeconds)",
            ])
        return response
    }
}

/// Decides the request's `Access` from its credentials; health probes and the
/// dashboard's files (not the calls the page makes) need none.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = StrataRequestContext
    let authenticator: Authenticator

    static let probePaths: Set<String> = ["/healthz", "/livez", "/readyz"]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if Self.probePaths.contains(request.uri.path) || StrataHTTPServer.isDashboardPath(request.uri.path) {
            context.access = .manage
        } else {
            context.access = try authenticator.access(for: request.headers)
        }
        return try await next(request, context)
    }
}
