#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the file-system seam: which operation failed, on which path,
/// why (errno), and what the caller can do about it.
///
/// `code` is an open set (`RawRepresentable`), so new codes never break callers
/// that switch over the ones they know.
public struct IOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The codes this layer uses (`ErrorCode`, one vocabulary for every layer):
    /// - `.noSpace`: The device is full (ENOSPC, EDQUOT). Retrying after space is freed can succeed.
    /// - `.io`: The device reported an I/O error (EIO). After a failed fsync the contents of unsynced pages are
    ///   unknown: the caller must not retry and pretend.
    /// - `.notFound`: The path does not exist (ENOENT).
    /// - `.alreadyExists`: The path already exists (EEXIST).
    /// - `.permissionDenied`: Permission denied (EACCES, EPERM, EROFS).
    /// - `.locked`: Another holder has the lock (EWOULDBLOCK on flock).
    /// - `.shortRead`: Fewer bytes were available than the operation needed.
    /// - `.other`: Any other errno.
    public typealias Code = ErrorCode

    public let code: Code
    /// The system call or seam operation that failed, e.g. `"fdatasync"`.
    public let operation: String
    public let path: String
    /// The errno value, or 0 when the error did not come from the kernel.
    public let errno: Int32
    /// What happened and what to do about it.
    public let message: String

    public init(code: Code, operation: String, path: String, errno: Int32 = 0, message: String) {
        self.code = code
        self.operation = operation
        self.path = path
        self.errno = errno
        self.message = message
    }

    /// Builds an error from an errno value, choosing the code and a remedy.
    public init(errno err: Int32, operation: String, path: String) {
        let code: Code
        let remedy: String
        switch err {
        case ENOSPC, EDQUOT:
            code = .noSpace
            remedy = "free disk space and retry"
        case EIO:
            code = .io
            remedy = "the device reported an I/O error; check the disk and its kernel log"
        case ENOENT:
            code = .notFound
            remedy = "check that the path exists"
        case EEXIST:
            code = .alreadyExists
            remedy = "remove it or choose another name"
        case EACCES, EPERM, EROFS:
            code = .permissionDenied
            remedy = "check permissions and that the file system is writable"
        case EWOULDBLOCK:
            code = .locked
            remedy = "another process holds it"
        default:
            code = .other
            remedy = "see errno"
        }
        let reason = String(cString: strerror(err))
        self.init(
            code: code, operation: operation, path: path, errno: err,
            message: "\(operation) failed on \(path): \(reason) (errno \(err)); \(remedy)")
    }

    public var description: String { message }
}
