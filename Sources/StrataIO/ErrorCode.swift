/// The code of an error: what kind of failure it is, for callers to branch on.
/// One vocabulary for every layer's error type (`IOError`, `WALError`,
/// `SegmentError`, `StrataError`…, each `typealias Code = ErrorCode`), so a
/// code keeps its meaning and its spelling when an error is wrapped by the
/// layer above. An open set: new codes never break callers that switch over
/// the ones they know. Each error type's documentation says which codes it
/// uses and what they mean there.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Stored bytes fail their checks (checksum, magic, bounds).
    public static let corruption = ErrorCode(rawValue: "corruption")
    /// A read or write of the underlying files failed (the cause says how).
    public static let io = ErrorCode(rawValue: "io")
    /// The caller passed something malformed or out of range; nothing changed.
    public static let invalidArgument = ErrorCode(rawValue: "invalid_argument")
    /// What was named does not exist.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// What was to be created exists already.
    public static let alreadyExists = ErrorCode(rawValue: "already_exists")
    /// Another holder has the lock.
    public static let locked = ErrorCode(rawValue: "locked")
    /// The operation was refused for lack of permission.
    public static let permissionDenied = ErrorCode(rawValue: "permission_denied")
    /// The device is full.
    public static let noSpace = ErrorCode(rawValue: "no_space")
    /// Fewer bytes were available than the operation needed.
    public static let shortRead = ErrorCode(rawValue: "short_read")
    /// A limit was reached (memory, size, count).
    public static let resourceExhausted = ErrorCode(rawValue: "resource_exhausted")
    /// The data was written by a format version this build does not read.
    public static let unsupportedVersion = ErrorCode(rawValue: "unsupported_version")
    /// An earlier failure left the component refusing all work until reopened.
    public static let failed = ErrorCode(rawValue: "failed")
    /// The component was closed.
    public static let closed = ErrorCode(rawValue: "closed")
    /// A size in the data disagrees with the size expected.
    public static let sizeMismatch = ErrorCode(rawValue: "size_mismatch")
    /// The input is larger than the operation accepts.
    public static let inputTooLarge = ErrorCode(rawValue: "input_too_large")
    /// Compressed input does not decode.
    public static let corruptInput = ErrorCode(rawValue: "corrupt_input")
    /// A system library failed in a way it does not classify.
    public static let libraryError = ErrorCode(rawValue: "library_error")
    /// The caller gave up (its deadline passed or it cancelled the request);
    /// the work stopped and nothing was changed.
    public static let cancelled = ErrorCode(rawValue: "cancelled")
    /// A replicated record is not the next one this log expects (a replica
    /// that missed records, or got them twice): nothing was written.
    public static let outOfSequence = ErrorCode(rawValue: "out_of_sequence")
    /// The service cannot take this request now (a cluster without enough
    /// replicas, or without its control plane); retry later.
    public static let unavailable = ErrorCode(rawValue: "unavailable")
    /// Any other failure (for `IOError`: any other errno).
    public static let other = ErrorCode(rawValue: "other")
}
