import StrataIO
/// Why quantization could not train, encode or decode. Bad parameters and bad
/// bytes are errors, never traps.
public struct QuantizationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; new codes may be added without breaking callers.
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.invalidArgument`: A parameter is out of range or inconsistent (fix the caller's configuration).
    /// - `.corruption`: Serialized codes are damaged or do not match what the caller expects (retrain the quantization
    ///   from the full vectors).
    /// - `.unsupportedVersion`: Serialized codes were written by a newer Strata (upgrade to read them).
    public typealias Code = ErrorCode

    public let code: Code
    /// What happened and what to do about it.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "quantization \(code): \(message)" }
}
