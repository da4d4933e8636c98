import Foundation

/// One key and its value as etcd stores it, with the revisions that
/// compare-and-swap transactions compare against.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: Data
    /// The revision of the put that created the key (0: it does not exist).
    public var createRevision: Int64
    /// The revision of the last put to the key.
    public var modRevision: Int64
    /// Number of puts since the key was created (1 after the first).
    public var version: Int64
    /// The lease the key is attached to (0: none).
    public var lease: Int64

    public init(
        key: String, value: Data, createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
        lease: Int64 = 0
    ) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

/// A lease: keys put with it are deleted when it expires (`ttl` seconds
/// without a keep-alive) or is revoked.
public struct EtcdLease: Sendable, Equatable {
    public var id: Int64
    /// Seconds granted (or left, from a keep-alive).
    public var ttl: Int64
}

/// Where etcd's cluster stands, as the member that answered sees it.
public struct EtcdStatus: Sendable, Equatable {
    public var version: String
    public var memberID: UInt64
    public var leaderID: UInt64
    public var raftTerm: UInt64
    public var raftIndex: UInt64
    /// The store's revision when the member answered.
    public var revision: Int64
}

/// The keys a read or delete covers.
public enum EtcdKeys: Sendable, Equatable {
    /// Exactly this key.
    case key(String)
    /// Every key that starts with this prefix.
    case prefix(String)
}

/// A condition of a transaction (`If` in etcd's If/Then/Else).
public struct EtcdCompare: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value(Data)
        case lease(Int64)
    }
    public enum Result: String, Sendable {
        case equal = "EQUAL"
        case notEqual = "NOT_EQUAL"
        case greater = "GREATER"
        case less = "LESS"
    }

    public var key: String
    public var target: Target
    public var result: Result

    public init(key: String, _ target: Target, _ result: Result = .equal) {
        self.key = key
        self.target = target
        self.result = result
    }

    /// The key does not exist.
    public static func absent(_ key: String) -> EtcdCompare { .init(key: key, .createRevision(0)) }
    /// The key was last written at `revision` (a compare-and-swap on what was read).
    public static func unchanged(_ key: String, since revision: Int64) -> EtcdCompare {
        .init(key: key, .modRevision(revision))
    }
}

/// One operation of a transaction branch.
public enum EtcdOperation: Sendable, Equatable {
    case put(key: String, value: Data, lease: Int64 = 0)
    case range(EtcdKeys)
    case delete(EtcdKeys)
}

/// The answer to one operation of the branch that ran.
public enum EtcdOperationResult: Sendable, Equatable {
    case put
    case range([EtcdKeyValue])
    case delete(deleted: Int64)
}

/// A transaction's outcome: which branch ran, what each operation answered,
/// and the store revision after it.
public struct EtcdTransactionResult: Sendable, Equatable {
    public var succeeded: Bool
    public var results: [EtcdOperationResult]
    public var revision: Int64
}

/// A read's keys and the store revision it saw (watch from `revision + 1`
/// to miss nothing after it).
public struct EtcdRange: Sendable, Equatable {
    public var keyValues: [EtcdKeyValue]
    public var revision: Int64
}

/// One change a watch reports.
public struct EtcdEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case put, delete }
    public var kind: Kind
    /// After a put, the new key and value; after a delete, the key (empty value)
    /// and the delete's revision as `modRevision`.
    public var keyValue: EtcdKeyValue
}
