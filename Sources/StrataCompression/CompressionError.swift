/// An error from compressing or decompressing: what went wrong, with which codec,
/// what to do about it, and the library's own account when there is one.
///
/// `code` is an open set (`RawRepresentable`), so new codes never break callers
/// that switch over the ones they know.
public struct CompressionError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The compressed bytes are not a valid stream for the codec: damaged,
        /// truncated, followed by extra bytes, or written by another codec.
        /// For lz4 this is also what an understated `decompressedSize` looks like
        /// (the block format cannot tell the two apart).
        public static let corruptInput = Code(rawValue: "corrupt_input")
        /// The bytes decode, or declare that they decode, to a size other than
        /// the `decompressedSize` the caller stored.
        public static let sizeMismatch = Code(rawValue: "size_mismatch")
        /// An uncompressed size (input to compress, or `decompressedSize`) exceeds
        /// `Compression.maximumUncompressedSize`. Split the data into smaller blocks.
        public static let inputTooLarge = Code(rawValue: "input_too_large")
        /// The caller passed an argument outside its documented range (a level, a
        /// negative size). A programming or configuration mistake.
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// The library failed for a reason unrelated to the input bytes
        /// (for example memory allocation); `cause` has its account.
        public static let libraryError = Code(rawValue: "library_error")
    }

    public let code: Code
    /// The codec in use when the error happened.
    public let codec: CompressionCodec
    /// What happened and what to do about it.
    public let message: String
    /// The library's own error name (`ZSTD_getErrorName`, or the lz4 return
    /// value), when the error came from the library.
    public let cause: String?

    public init(code: Code, codec: CompressionCodec, message: String, cause: String? = nil) {
        self.code = code
        self.codec = codec
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message) (\(codec.name): \(cause))"
    }
}
