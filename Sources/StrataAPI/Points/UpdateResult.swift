import StrataModel
import StrataPayload
/// What an acknowledged write returns.
public struct UpdateResult: Sendable, Equatable {
    /// The operation number the write was logged under.
    public let operationID: UInt64

    /// Creates the result of a write logged under `operationID`.
    public init(operationID: UInt64) { self.operationID = operationID }
}
