import HTTPTypes
import Strata

/// An error answered to the client in Qdrant's error body,
/// `{"status":{"error":"<message>"},"time":…}`, with an HTTP status.
///
/// Messages start with Qdrant's prefixes ("Wrong input: ", "Not found: ",
/// "Bad request: ", "Json deserialize error: ", "Forbidden: "…) so clients that
/// match on them keep working.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Sent as `Retry-After` (a rate limit's 429).
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    static func wrongInput(_ message: String) -> APIError { APIError(.badRequest, "Wrong input: \(message)") }
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "Bad request: \(message)") }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "Not found: \(message)") }
    static func validation(_ message: String) -> APIError {
        APIError(.unprocessableContent, "Validation error in JSON body: [\(message)]")
    }
    static func jsonDeserialize(_ message: String) -> APIError {
        APIError(.badRequest, "Json deserialize error: \(message)")
    }
    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "Unauthorized: \(message)") }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "Forbidden: \(message)") }

    /// A feature Strata does not have yet: 501 with the issue that brings it.
    static func notSupportedYet(_ feature: String, issue: Int? = nil) -> APIError {
        let tracking = issue.map { " (issue \($0))" } ?? ""
        return APIError(.notImplemented, "Not implemented: \(feature) is not supported by Strata yet\(tracking)")
    }

    /// Maps an engine error to Qdrant's status codes and wording.
    static func from(_ error: StrataError) -> APIError {
        switch error.code {
        case .invalidArgument: return .wrongInput(error.message)
        case .notFound: return .notFound(error.message)
        case .alreadyExists: return APIError(.conflict, "Wrong input: \(error.message)")
        case .closed, .unavailable: return APIError(.serviceUnavailable, "Service unavailable: \(error.message)")
        // Qdrant's timeout error (gRPC: DeadlineExceeded).
        case .cancelled: return APIError(.requestTimeout, "Timeout error: \(error.message)")
        case .resourceExhausted:
            return APIError(
                HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"),
                "Service internal error: \(error.message)")
        default: return APIError(.internalServerError, "Service internal error: \(error.message)")
        }
    }

    static func from(_ error: any Error) -> APIError {
        if let error = error as? APIError { return error }
        if let error = error as? StrataError { return from(error) }
        return APIError(.internalServerError, "Service internal error: \(error)")
    }
}
