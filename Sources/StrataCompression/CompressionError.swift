import StrataIO
/// An error from compressing or decompressing: what went wrong, with which codec,
/// what to do about it, and the library's own account when there is one.
///
/// `code` is an open set (`RawRepresentable`), so new codes never break callers
/// that switch over the ones they know.
public struct CompressionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.corruptInput`: The compressed bytes are not a valid stream for the codec: damaged, truncated, followed by
    ///   extra bytes, or written by another codec. For lz4 this is also what an understated `decompressedSize` looks like
    ///   (the block format cannot tell the two apart).
    /// - `.sizeMismatch`: The bytes decode, or declare that they decode, to a size other than the `decompressedSize`
    ///   the caller stored.
    /// - `.inputTooLarge`: An uncompressed size (input to compress, or `decompressedSize`) exceeds
    ///   `Compression.maximumUncompressedSize`. Split the data into smaller blocks.
    /// - `.invalidArgument`: The caller passed an argument outside its documented range (a level, a negative size). A
    ///   programming or configuration mistake.
    /// - `.libraryError`: The library failed for a reason unrelated to the input bytes (for example memory allocation);
    ///   `cause` has its account.
    public typealias Code = ErrorCode

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
