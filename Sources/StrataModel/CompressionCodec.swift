/// A compression codec, as stored on disk.
///
/// The raw values are an on-disk contract: block headers store them as one byte,
/// so they never change and are never reused. A new codec takes the next unused
/// value. `Codable` encodes the raw value (a number), for the same reason.
public enum CompressionCodec: UInt8, Sendable, CaseIterable, Codable {
    /// Stored as is.
    case none = 0
    /// LZ4 block format: fast to compress, very fast to decompress, modest ratio.
    case lz4 = 1
    /// Zstandard frame (with its content size): slower, better ratio.
    case zstd = 2

    /// The lower-case name used in configuration and on the command line:
    /// `"none"`, `"lz4"` or `"zstd"`.
    public var name: String {
        switch self {
        case .none: "none"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Parses a codec name (`"none"`, `"lz4"`, `"zstd"`, any letter case);
    /// `nil` for anything else.
    public init?(name: String) {
        switch name.lowercased() {
        case "none": self = .none
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }
}

extension CompressionCodec: LosslessStringConvertible {
    /// Same as `init?(name:)`.
    public init?(_ description: String) {
        self.init(name: description)
    }

    /// The codec's `name`.
    public var description: String { name }
}
