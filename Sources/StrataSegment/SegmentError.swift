import StrataIO

/// An error from reading, verifying or writing a segment or its tombstone
/// sidecar: what happened, in which file and section (and payload block), what to
/// do about it, and the file-system error behind it, if any.
///
/// `code` is an open set (`RawRepresentable`), so new codes never break callers
/// that switch over the ones they know.
public struct SegmentError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.corruption`: Bytes on disk fail their checks (checksum, bounds, layout, encoding). The segment must not be
    ///   served; restore it from a replica or snapshot, or rebuild it from the WAL if that still holds its operations.
    /// - `.io`: The file system failed an operation (see `cause`).
    /// - `.unsupportedVersion`: The file was written by a newer Strata (another format version, or a required section
    ///   kind this build does not know). Upgrade Strata.
    /// - `.invalidArgument`: The caller passed something a segment cannot store (unsorted or duplicate ids, a vector of
    ///   the wrong dimension, …). A programming mistake.
    public typealias Code = ErrorCode

    public let code: Code
    /// The segment (or tombstone) file concerned.
    public let file: String
    /// The part of the file: `header`, `footer`, `section table`, `padding`, a
    /// section name such as `versions` or `vectors[image].data` (see
    /// docs/format/segment.md), or `tombstones`; nil when not about one part.
    public let section: String?
    /// The payload block, for errors about one block of `payload.blocks`.
    public let block: Int?
    /// What happened and what to do about it; names the file and section.
    public let message: String
    /// The underlying file-system error, if any.
    public let cause: IOError?

    public init(
        code: Code, file: String, section: String? = nil, block: Int? = nil, message: String, cause: IOError? = nil
    ) {
        self.code = code
        self.file = file
        self.section = section
        self.block = block
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}

extension SegmentError {
    /// A corruption error whose message names the file, section and block.
    static func corruption(
        _ file: String, _ section: String, block: Int? = nil, _ what: String
    ) -> SegmentError {
        let place = block.map { "\(section), block \($0)" } ?? section
        return SegmentError(
            code: .corruption, file: file, section: section, block: block,
            message:
                "segment \(file) is corrupt in \(place): \(what); do not serve it: restore the segment from a snapshot or replica, or rebuild it"
        )
    }

    /// Wraps a file-system error.
    static func io(_ file: String, _ doing: String, _ error: IOError) -> SegmentError {
        SegmentError(code: .io, file: file, message: "\(doing) \(file) failed: \(error.message)", cause: error)
    }

    static func invalidArgument(_ file: String, _ what: String) -> SegmentError {
        SegmentError(code: .invalidArgument, file: file, message: "cannot write segment \(file): \(what)")
    }
}
