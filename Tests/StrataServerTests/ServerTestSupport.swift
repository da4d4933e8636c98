import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Strata
import StrataServer
import StrataIO
import StrataTestSupport

/// A fresh data directory, a `StrataHTTPServer` over it and HummingbirdTesting's
/// in-process router client; everything is closed and removed afterwards.
func withServer<T: Sendable>(
    _ configure: (inout ServerConfiguration) -> Void = { _ in },
    logHandler: (any LogHandler)? = nil,
    _ body: @escaping @Sendable (any TestClientProtocol, Database) async throws -> T
) async throws -> T {
    let scratch = TemporaryDirectory("server")
    let directory = scratch.path
    var configuration = ServerConfiguration()
    configuration.dataDirectory = directory
    configuration.engineThreads = 2
    configure(&configuration)
    let database = try Database.open(at: directory)
    defer { database.close() }
    let logger = logHandler.map { handler in Logger(label: "test", factory: { _ in handler }) } ?? Logger(label: "test")
    let server = try StrataHTTPServer(database: database, configuration: configuration, logger: logger)
    let application = Application(router: server.makeRouter(), logger: logger)
    let result = try await application.test(.router) { client in try await body(client, database) }
    try await server.shutdown()
    return result
}

extension TestClientProtocol {
    /// Sends `json` (if any) and returns status and the decoded body.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers: HTTPFields = [:]
    )
        async throws -> (status: Int, body: JSONValue?, text: String)
    {
        var headers = headers
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        { response in
            let text = String(buffer: response.body)
            return (Int(response.status.code), try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), text)
        }
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }
    subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }
    var errorMessage: String? {
        if case .string(let message)? = self["status"]?["error"] { return message }
        return nil
    }
}

/// An HS256 JWT with `claims`, signed with `secret`, and a chosen header.
func makeJWT(_ claims: String, secret: String, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
    func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
    let signingInput = base64URL(Data(header.utf8)) + "." + base64URL(Data(claims.utf8))
    let mac = HMAC<SHA256>.authenticationCode(
        for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
    return signingInput + "." + base64URL(Data(mac))
}

/// Log lines captured by `CapturingLogHandler`.
final class LogLines: Sendable {
    /// Guards the captured lines, in order.
    let lines = Locked<[String]>([])
    var all: [String] { lines.withLock { $0 } }
}

/// Keeps every log line (message and metadata) for inspection.
struct CapturingLogHandler: LogHandler {
    let store: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(store: LogLines) { self.store = store }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(event.message) \(metadata) \(event.metadata ?? [:])"
        store.lines.withLock { $0.append(line) }
    }
}

let createSmallCollection = #"{"vectors":{"size":2,"distance":"Dot"}}"#
let twoPoints = #"{"points":[{"id":1,"vector":[1,0],"payload":{"a":1}},{"id":2,"vector":[0,1]}]}"#

// MARK: - Credentials (SecurityTests, DashboardAPITests)

/// The API key and the read-only key `secured` configures.
let apiKey = "secret-key-0123456789"
let readOnlyKey = "read-only-key-9876543210"

/// A server that needs credentials: `withServer(secured) { … }`.
func secured(_ configuration: inout ServerConfiguration) {
    configuration.apiKey = apiKey
    configuration.readOnlyAPIKey = readOnlyKey
}

/// Headers carrying `value` as the `api-key`, or `token` as a bearer token.
func key(_ value: String) -> HTTPFields { [Authenticator.apiKeyHeader: value] }
func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
