import StrataModel
import StrataPayload
import Foundation

extension JSONValue {
    /// Parses JSON text; throws `.invalidArgument` with the parser's reason.
    public init(parsing text: String) throws {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw StrataError.invalid("invalid JSON: \(error)")
        }
    }
}
