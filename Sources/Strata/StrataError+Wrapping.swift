import StrataAPI
import StrataIO
import StrataSegment
import StrataTar
import StrataWAL

extension StrataError {
    /// Maps a lower layer's error to the engine's codes.
    static func wrapping(_ error: any Error, context: String) -> StrataError {
        if let error = error as? StrataError { return error }
        if let error = error as? TarError { return StrataError(error) }
        if let error = error as? WALError {
            let code: Code
            switch error.code {
            case .corruption: code = .corruption
            case .failed: code = .failed
            case .closed: code = .closed
            case .invalidArgument: code = .invalidArgument
            default: code = error.cause?.code == .noSpace ? .resourceExhausted : .io
            }
            return StrataError(code, "\(context): \(error.message)", cause: error)
        }
        if let error = error as? SegmentError {
            let code: Code
            switch error.code {
            case .corruption, .unsupportedVersion: code = .corruption
            case .invalidArgument: code = .invalidArgument
            default: code = error.cause?.code == .noSpace ? .resourceExhausted : .io
            }
            return StrataError(code, "\(context): \(error.description)", cause: error)
        }
        if let error = error as? IOError {
            let code: Code
            switch error.code {
            case .noSpace: code = .resourceExhausted
            case .locked: code = .locked
            case .notFound: code = .notFound
            default: code = .io
            }
            return StrataError(code, "\(context): \(error.message)", cause: error)
        }
        return StrataError(.io, "\(context): \(error)", cause: nil)
    }
}
