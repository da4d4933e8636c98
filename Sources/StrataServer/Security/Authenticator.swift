import Crypto
import Foundation
import HTTPTypes

/// Turns a request's credentials into an `Access`.
///
/// Credentials come in the `api-key` header or as `Authorization: Bearer
/// <token>`; a token is the API key, the read-only API key, or a JWT signed
/// with the API key (HS256). Keys are compared in constant time (both sides
/// are hashed to 32 bytes first, so lengths leak nothing either) and never
/// logged. With no API key configured, every request has full access.
public struct Authenticator: Sendable {
    private let apiKeyDigest: [UInt8]?
    private let readOnlyKeyDigest: [UInt8]?
    private let jwtVerifier: JWTVerifier?

    public init(apiKey: String?, readOnlyAPIKey: String?) {
        apiKeyDigest = apiKey.map(digest)
        readOnlyKeyDigest = readOnlyAPIKey.map(digest)
        jwtVerifier = apiKey.map { JWTVerifier(secret: Data($0.utf8)) }
    }

    public var isEnabled: Bool { apiKeyDigest != nil }

    /// The `api-key` request header.
    public static let apiKeyHeader = HTTPField.Name("api-key")!

    /// The access `headers` grant at `now`; throws 401 when credentials are
    /// missing or wrong.
    public func access(for headers: HTTPFields, now: Date = Date()) throws(APIError) -> Access {
        guard let apiKeyDigest else { return .manage }
        let token: String
        if let key = headers[Self.apiKeyHeader] {
            token = key
        } else if let authorization = headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError(.unauthorized, "Authorization header must be `Bearer <token>`")
            }
            token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        } else {
            throw APIError(.unauthorized, "Must provide an API key or an Authorization bearer token")
        }
        let digest = digest(token)
        if constantTimeEqual(digest, apiKeyDigest) { return .manage }
        if let readOnlyKeyDigest, constantTimeEqual(digest, readOnlyKeyDigest) { return .readAll }
        if token.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2, let jwtVerifier {
            do {
                return try jwtVerifier.verify(token, now: now)
            } catch {
                throw APIError(.unauthorized, "Invalid JWT: \(error.reason)")
            }
        }
        throw APIError(.unauthorized, "Invalid API key or JWT")
    }
}

/// SHA-256 of a key: equal-length values for `constantTimeEqual`.
private func digest(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Data(key.utf8))) }

/// Compares two equal-length digests without an early exit.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
