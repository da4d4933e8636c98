import StrataIO

/// An error from the write-ahead log, naming the file and offset where it applies.
public struct WALError: Error, CustomStringConvertible, Sendable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.corruption`: Bytes on disk fail their checks somewhere other than a torn tail.
    /// - `.io`: The file system failed an operation (see `cause`).
    /// - `.failed`: A sync failed earlier; the log refuses all writes until the store is reopened (the state of
    ///   unsynced data is unknown after a failed fsync).
    /// - `.closed`: The log was closed.
    /// - `.invalidArgument`: The caller passed something the log cannot store.
    public typealias Code = ErrorCode

    public let code: Code
    public let message: String
    /// The log file concerned, when there is one.
    public let file: String?
    /// The byte offset in `file`, when known.
    public let offset: UInt64?
    /// The underlying file-system error, if any.
    public let cause: IOError?

    public init(code: Code, message: String, file: String? = nil, offset: UInt64? = nil, cause: IOError? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.cause = cause
    }

    public var description: String { message }
}
