// One HTTP exchange with a server speaking Qdrant's REST API: the request
// (JSON body, credentials, timeout), retries of idempotent requests, and the
// answer read as Qdrant's envelope `{"result": …, "status": "ok", "time": …}`
// or its error `{"status": {"error": "…"}}` mapped to `StrataError`.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import StrataAPI

struct RESTTransport: Sendable {
    let http: HTTPClient
    let configuration: StrataClient.Configuration
    let baseURL: String

    enum Method: Sendable {
        case get, put, post, delete, patch

        var http: HTTPMethod {
            switch self {
            case .get: .GET
            case .put: .PUT
            case .post: .POST
            case .delete: .DELETE
            case .patch: .PATCH
            }
        }
    }

    /// Sends one request and returns the envelope's `result`.
    ///
    /// `idempotent` requests (reads, and writes that are safe to repeat) are
    /// sent again after a connection failure or a 502/503/504, up to
    /// `configuration.retries` times with a doubling pause; other requests
    /// are sent once, so a write is never applied twice by the client.
    func send(
        _ method: Method, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, idempotent: Bool
    ) async throws -> JSONValue {
        var url = baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        let bytes: [UInt8]? = try body.map { Array(try JSONEncoder().encode($0)) }
        var attempt = 0
        var pause = configuration.retryPause
        while true {
            do {
                return try await exchange(method, url, bytes)
            } catch let error as RetryableFailure {
                attempt += 1
                guard idempotent, attempt <= configuration.retries, !Task.isCancelled else { throw error.error }
                try await Task.sleep(for: pause)
                pause *= 2
            }
        }
    }

    /// A failure that a retry may cure: the server was unreachable or busy.
    private struct RetryableFailure: Error {
        let error: StrataError
    }

    private func exchange(_ method: Method, _ url: String, _ body: [UInt8]?) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = method.http
        request.headers.add(name: "accept", value: "application/json")
        if let apiKey = configuration.apiKey { request.headers.add(name: "api-key", value: apiKey) }
        if let token = configuration.bearerToken {
            request.headers.add(name: "authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: TimeAmount(configuration.timeout))
            bytes = try await response.body.collect(upTo: configuration.maximumResponseBytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw StrataError(.cancelled, "\(url): no answer within \(configuration.timeout)", cause: error)
        } catch let error as NIOTooManyBytesError {
            throw StrataError(
                .resourceExhausted,
                "\(url): the answer is larger than maximumResponseBytes (\(configuration.maximumResponseBytes))",
                cause: error)
        } catch is CancellationError {
            throw StrataError(.cancelled, "\(url): the request was cancelled")
        } catch {
            throw RetryableFailure(error: StrataError(.unavailable, "\(url): the server cannot be reached: \(error)"))
        }
        let status = response.status.code
        let json = bytes.readableBytes == 0 ? nil : try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: bytes))
        if (200..<300).contains(status) {
            guard case .object(let envelope)? = json, let result = envelope["result"] else {
                throw WireDecoding.malformed("a JSON object with `result`", json)
            }
            return result
        }
        let error = Self.error(status: Int(status), json: json, text: String(buffer: bytes), url: url)
        if [502, 503, 504].contains(status) { throw RetryableFailure(error: error) }
        throw error
    }

    /// The `StrataError` for a non-2xx answer: the code from the HTTP status
    /// (the same code the embedded engine throws for the same mistake), the
    /// message from Qdrant's `status.error`.
    static func error(status: Int, json: JSONValue?, text: String, url: String) -> StrataError {
        var message = text.isEmpty ? "HTTP \(status)" : String(text.prefix(500))
        if case .object(let envelope)? = json, case .object(let fields)? = envelope["status"],
            case .string(let reason)? = fields["error"]
        {
            message = reason
        }
        let code: StrataError.Code
        switch status {
        case 400, 422: code = .invalidArgument
        case 401, 403: code = .permissionDenied
        case 404: code = .notFound
        case 408: code = .cancelled
        case 409: code = .alreadyExists
        case 413, 429, 507: code = .resourceExhausted
        case 502, 503, 504: code = .unavailable
        default: code = .io
        }
        return StrataError(code, message)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlUnreservedCharacters) ?? text
    }

    /// A path segment (a collection, field or snapshot name), percent-encoded.
    static func segment(_ text: String) -> String { escape(text) }
}

extension CharacterSet {
    /// RFC 3986's unreserved characters: the only ones left as they are in a path segment or query value.
    fileprivate static let urlUnreservedCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
