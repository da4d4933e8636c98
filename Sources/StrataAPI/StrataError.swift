@_exported import struct StrataIO.ErrorCode

/// Every error the engine's public API throws: a code to branch on, a message
/// that says what happened and what to do, and the underlying cause.
public struct StrataError: Error, CustomStringConvertible, Sendable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.invalidArgument`: The caller passed something invalid (wrong dimension, NaN, bad name…). Nothing was
    ///   changed.
    /// - `.notFound`: The named collection (or point) does not exist.
    /// - `.alreadyExists`: A collection with that name already exists.
    /// - `.corruption`: Bytes on disk failed their checks; the message names the file.
    /// - `.io`: The file system failed; see `cause`.
    /// - `.resourceExhausted`: The disk is full. Nothing from the failed write was acknowledged; writes work again once
    ///   space is freed.
    /// - `.failed`: The store stopped accepting writes after an unrecoverable error (such as a failed fsync); reopen it
    ///   once the cause is fixed.
    /// - `.locked`: Another process (or another open handle) holds the data directory.
    /// - `.closed`: The database or collection was closed (a deleted collection is `.notFound`).
    /// - `.outOfSequence`: Replicated records do not start at the collection's next op number; nothing was written.
    public typealias Code = ErrorCode

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }

    /// An `.invalidArgument` error with `message`.
    package static func invalid(_ message: String) -> StrataError { StrataError(.invalidArgument, message) }
}
