import Crypto
import Foundation
import Strata

/// Verifies Qdrant-style JWT access tokens: `header.payload.signature`,
/// base64url without padding, signed HS256 with the API key.
///
/// Accepted: header `alg` exactly `HS256` (`none` and every other algorithm
/// are refused before anything else is read); a valid signature (checked by
/// `HMAC.isValidAuthenticationCode`, constant time); `exp` (seconds since
/// 1970), if present, in the future; an `access` claim that is `"r"`, `"m"`
/// or a list of `{"collection": name, "access": "r" | "rw"}`. Tokens with
/// `value_exists` (access conditional on a point existing) are refused: Strata
/// cannot check it yet.
struct JWTVerifier: Sendable {
    struct Failure: Error { var reason: String }

    /// The HMAC secret (the API key's bytes); a `SymmetricKey` is made per
    /// verification because Crypto's key type is not `Sendable`.
    private let secret: Data

    init(secret: Data) { self.secret = secret }

    func verify(_ token: String, now: Date) throws(Failure) -> Access {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URLDecode(parts[0]),
            let payloadBytes = Self.base64URLDecode(parts[1]), let signature = Self.base64URLDecode(parts[2])
        else { throw Failure(reason: "not a JWT (three base64url parts)") }
        guard case .object(let header)? = try? JSONDecoder().decode(JSONValue.self, from: headerBytes),
            header["alg"] == .string("HS256")
        else { throw Failure(reason: "the token must be signed with HS256") }
        let signed = Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: SymmetricKey(data: secret))
        else {
            throw Failure(reason: "bad signature")
        }
        guard case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: payloadBytes) else {
            throw Failure(reason: "the claims are not a JSON object")
        }
        if let exp = claims["exp"] {
            let expiry: Double
            switch exp {
            case .int(let seconds): expiry = Double(seconds)
            case .double(let seconds): expiry = seconds
            default: throw Failure(reason: "`exp` must be a number of seconds")
            }
            guard now.timeIntervalSince1970 < expiry else { throw Failure(reason: "the token has expired") }
        }
        if let condition = claims["value_exists"], condition != .null {
            throw Failure(reason: "`value_exists` claims are not supported by Strata yet")
        }
        switch claims["access"] {
        case .string("m")?: return .manage
        case .string("r")?: return .readAll
        case .array(let grants)?:
            var byCollection: [String: Access.CollectionAccess] = [:]
            for grant in grants {
                guard case .object(let fields) = grant, case .string(let collection)? = fields["collection"],
                    case .string(let level)? = fields["access"], let access = Access.CollectionAccess(rawValue: level)
                else {
                    throw Failure(
                        reason: "each `access` entry must be {\"collection\": name, \"access\": \"r\" or \"rw\"}")
                }
                byCollection[collection] = access
            }
            return .collections(byCollection)
        case nil: throw Failure(reason: "missing `access` claim")
        default: throw Failure(reason: "`access` must be \"r\", \"m\" or a list of collection grants")
        }
    }

    static func base64URLDecode<S: StringProtocol>(_ text: S) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
