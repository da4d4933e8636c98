/// Why quantization could not train, encode or decode. Bad parameters and bad
/// bytes are errors, never traps.
public struct QuantizationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; new codes may be added without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A parameter is out of range or inconsistent (fix the caller's configuration).
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// Serialized codes are damaged or do not match what the caller expects
        /// (retrain the quantization from the full vectors).
        public static let corruption = Code(rawValue: "corruption")
        /// Serialized codes were written by a newer Strata (upgrade to read them).
        public static let unsupportedVersion = Code(rawValue: "unsupported_version")
    }

    public let code: Code
    /// What happened and what to do about it.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "quantization \(code): \(message)" }
}
