import StrataTar

extension StrataError {
    /// A StrataTar error with the engine's code, the same message, and the
    /// file-system error under it as `cause`.
    init(_ error: TarError) {
        let code: Code
        switch error.code {
        case .corruption: code = .corruption
        case .invalidArgument: code = .invalidArgument
        default:
            switch error.cause?.code {
            case .noSpace?: code = .resourceExhausted
            case .locked?: code = .locked
            case .notFound?: code = .notFound
            default: code = .io
            }
        }
        self.init(code, error.message, cause: error.cause)
    }

    /// Runs `body`, turning a `TarError` it throws into a `StrataError`.
    static func mappingTarErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TarError {
            throw StrataError(error)
        }
    }
}
