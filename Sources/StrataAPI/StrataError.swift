@_exported import struct StrataIO.ErrorCode

/// Every error the engine's public API throws: a code to branch on, a message
/// that says what happened and what to do, and the underlying cause.
///
/// Branch on `code` (the list is under `Code`); show `message` to a person. The
/// embedded engine and `StrataClient` throw the same codes for the same
/// mistakes, so one `catch` serves both:
///
/// ```swift
/// do {
///     _ = try await store.collection("notes")
/// } catch let error as StrataError where error.code == .notFound {
///     print(error.message)  // what happened and what to do
/// }
/// ```
///
/// Code that validates input throws its own errors the same way:
///
/// ```swift
/// throw StrataError(.invalidArgument, "vector \"title\" has size 0; sizes must be 1…65536")
/// ```
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
    /// - `.cancelled`: The caller's deadline passed or it cancelled the request (from a server: its timeout); the
    ///   work stopped.
    ///
    /// `StrataClient` adds what only a server can answer:
    /// - `.permissionDenied`: The API key or token is missing, wrong, or may only read.
    /// - `.unavailable`: The server cannot be reached, or cannot serve now (shutting down, a cluster without enough
    ///   replicas); reads were retried first.
    public typealias Code = ErrorCode

    /// What kind of failure this is: the value to branch on (see `Code`).
    public let code: Code
    /// What happened and what to do about it, for a person to read.
    ///
    /// Messages name what they are about (the collection, the field, the file
    /// and offset of bad bytes); their wording may change, so match on `code`,
    /// never on the text.
    public let message: String
    /// The underlying error (a file-system error, a decoding error…), or nil
    /// when there is none.
    public let cause: (any Error & Sendable)?

    /// Creates an error with `code`, a `message` that says what happened and
    /// what to do, and the underlying `cause`, if any.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The code and the message as `<code>: <message>`, the code by its raw
    /// value (such as `not_found`).
    public var description: String { "\(code): \(message)" }

    /// An `.invalidArgument` error with `message`.
    package static func invalid(_ message: String) -> StrataError { StrataError(.invalidArgument, message) }
}
