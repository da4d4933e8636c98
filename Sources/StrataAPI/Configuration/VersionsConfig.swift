import StrataModel
import StrataPayload
import Foundation

/// Which versions of a collection are kept for reading (`Collection.at`)
/// and rollback (`Collection.restore(_:)`): every flush publishes a
/// version (the state exactly after its checkpoint op); the newest
/// `retainCount` and those younger than `retainSeconds` are kept (either
/// rule keeps a version). Tagged versions are kept until their tag is
/// deleted, with or without this config.
///
/// Strata's `versions_config` (Qdrant has none; docs/versions.md). Without
/// it, flushes publish no untagged versions at all.
public struct VersionsConfig: Sendable, Equatable, Codable {
    /// How many of the newest untagged versions are kept (`retain_count`);
    /// nil or 0: none by count. Must not be negative.
    public var retainCount: Int?
    /// Untagged versions published at most this many seconds ago are kept
    /// (`retain_seconds`); nil: none by age. Must not be negative.
    public var retainSeconds: Int?

    /// Creates a retention policy that keeps the newest `retainCount`
    /// versions and those younger than `retainSeconds` (nil: that rule keeps none).
    public init(retainCount: Int? = nil, retainSeconds: Int? = nil) {
        self.retainCount = retainCount
        self.retainSeconds = retainSeconds
    }

    /// Throws `.invalidArgument` when `retainCount` or `retainSeconds` is negative.
    public func validate() throws {
        if let retainCount, retainCount < 0 {
            throw StrataError.invalid("versions_config.retain_count must not be negative, got \(retainCount)")
        }
        if let retainSeconds, retainSeconds < 0 {
            throw StrataError.invalid("versions_config.retain_seconds must not be negative, got \(retainSeconds)")
        }
    }
}

/// A retained version of a collection.
public struct CollectionVersionInfo: Sendable, Equatable {
    /// Numbers increase with every version published.
    public var number: UInt64
    /// The state is exactly the one after this operation.
    public var operation: UInt64
    /// When the version was published.
    public var time: Date
    /// Its tag, if it has one (tagged versions are kept until the tag is deleted).
    public var tag: String?

    /// Creates the description of version `number`, published at `time`
    /// with the state after operation `operation`, tagged `tag` if given.
    public init(number: UInt64, operation: UInt64, time: Date, tag: String? = nil) {
        self.number = number
        self.operation = operation
        self.time = time
        self.tag = tag
    }
}

/// How a read names a version (Qdrant-style `as_of`).
public enum VersionSelector: Sendable, Equatable {
    /// The version with this number (`CollectionVersionInfo.number`).
    case number(UInt64)
    /// The version tagged with this name.
    case tag(String)
    /// The newest retained version published at or before this time.
    case time(Date)
}
