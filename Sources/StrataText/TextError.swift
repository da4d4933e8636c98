import StrataIO
/// Every error StrataText throws: a code to branch on and a message that says
/// what was wrong. Its description reads like `StrataError`'s ("invalid_argument: …").
public struct TextError: Error, CustomStringConvertible, Sendable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.invalidArgument`: A parameter is out of its range (such as BM25 `b` outside 0…1).
    public typealias Code = ErrorCode

    /// What kind of error it is.
    public let code: Code
    /// What was wrong, naming the parameter and the accepted range.
    public let message: String

    /// An error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The code and the message, as `invalid_argument: …`.
    public var description: String { "\(code): \(message)" }

    static func invalid(_ message: String) -> TextError { TextError(.invalidArgument, message) }
}
