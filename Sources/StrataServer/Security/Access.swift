/// What a request may do, decided once per request from its credentials
/// (Qdrant's RBAC model): full access (`m`), read everything (`r`), or a list
/// of collections each readable (`r`) or readable and writable (`rw`).
public enum Access: Sendable, Equatable {
    case manage
    case readAll
    case collections([String: CollectionAccess])

    public enum CollectionAccess: String, Sendable, Equatable {
        case read = "r"
        case readWrite = "rw"
    }

    public func canRead(collection: String) -> Bool {
        switch self {
        case .manage, .readAll: true
        case .collections(let grants): grants[Self.grantName(collection)] != nil
        }
    }

    /// The collection a grant names: a shard of a sharded collection on a
    /// cluster (`name~i`, docs/cluster.md) is granted with its collection.
    static func grantName(_ collection: String) -> String {
        guard let cut = collection.firstIndex(of: "~") else { return collection }
        return String(collection[..<cut])
    }

    public func canWrite(collection: String) -> Bool {
        switch self {
        case .manage: true
        case .readAll: false
        case .collections(let grants): grants[Self.grantName(collection)] == .readWrite
        }
    }

    /// Whether some write is allowed: false for the read-only API key, a
    /// token with `access: r`, or a token whose grants are all `r`.
    public var canWriteSomething: Bool {
        switch self {
        case .manage: true
        case .readAll: false
        case .collections(let grants): grants.values.contains(.readWrite)
        }
    }

    /// Throws 403 unless `permission` is granted. Collection names are the
    /// resolved collection (an alias grants nothing by itself).
    func check(_ permission: Permission) throws(APIError) {
        switch permission {
        case .open, .authenticated:
            return
        case .globalRead:
            if case .collections = self { throw APIError.forbidden("Global read access is required") }
        case .manage:
            guard self == .manage else { throw APIError.forbidden("Global manage access is required") }
        case .read(let collection):
            guard canRead(collection: collection) else {
                throw APIError.forbidden("Read access to collection `\(collection)` is required")
            }
        case .write(let collection):
            guard canWrite(collection: collection) else {
                throw APIError.forbidden("Write access to collection `\(collection)` is required")
            }
        }
    }
}

/// What an endpoint needs; every route checks one in its handler (`context.access.check`, Routes/).
public enum Permission: Sendable, Equatable {
    /// Health probes: no credentials needed.
    case open
    /// Any valid credential (`AuthenticationMiddleware` refused the others),
    /// whatever it grants: `GET /access`.
    case authenticated
    /// Service-wide reads (telemetry, metrics, cluster status).
    case globalRead
    /// Creating, changing and deleting collections and aliases.
    case manage
    case read(collection: String)
    case write(collection: String)
}
