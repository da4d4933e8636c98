import StrataIO

/// Every error StrataTar throws: a code to branch on, a message that names the
/// archive, the byte offset and what is wrong, and the file-system error under it.
/// The engine maps it to `StrataError` with the same code and message.
public struct TarError: Error, CustomStringConvertible, Sendable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.corruption`: The archive's bytes break the format (or the rules of `TarPath`); the message names the archive
    ///   and the offset.
    /// - `.invalidArgument`: The caller asked for something the format cannot hold (a path that does not fit a ustar
    ///   header). Nothing was written.
    /// - `.io`: Reading or writing the archive failed (see `cause`), or an entry's content did not have the size
    ///   announced for it.
    public typealias Code = ErrorCode

    public let code: Code
    /// What happened and what to do, naming the archive.
    public let message: String
    /// The file-system error under an `.io` error, if that was the cause.
    public let cause: IOError?

    public init(_ code: Code, _ message: String, cause: IOError? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }

    /// `error`, thrown while reading the archive at `path`, as an `.io` error.
    static func reading(_ path: String, _ error: any Error) -> TarError {
        let context = "reading snapshot archive \(path)"
        if let error = error as? IOError { return TarError(.io, "\(context): \(error.message)", cause: error) }
        return TarError(.io, "\(context): \(error)")
    }
}
