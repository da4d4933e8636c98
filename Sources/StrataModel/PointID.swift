import Foundation

/// A point's identity: an unsigned 64-bit integer or a UUID, as in Qdrant
/// (its `ExtendedPointId`). In JSON a number or a UUID string.
///
/// ```swift
/// let a: PointID = 42
/// let b = PointID.uuid(UUID(uuidString: "5c56c793-69f3-4fbf-87e6-c4bf54c28c26")!)
/// a < b  // true: numbers sort before UUIDs
/// b.description  // "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
/// ```
public enum PointID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// A numeric id.
    case number(UInt64)
    /// A UUID id.
    case uuid(UUID)

    /// The number in decimal, or the UUID in lowercase 8-4-4-4-12 form.
    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .uuid(let u): return u.uuidString.lowercased()
        }
    }

    /// Numbers sort before UUIDs; UUIDs sort by their bytes.
    public static func < (lhs: PointID, rhs: PointID) -> Bool {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return a < b
        case (.number, .uuid): return true
        case (.uuid, .number): return false
        case (.uuid(let a), .uuid(let b)): return a.uuidString < b.uuidString
        }
    }

    /// Decodes an unsigned integer or a UUID string; throws
    /// `DecodingError.dataCorrupted` for a string that is not a UUID.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(UInt64.self) {
            self = .number(n)
            return
        }
        let text = try container.decode(String.self)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "point id must be an unsigned integer or a UUID, got \"\(text)\"")
        }
        self = .uuid(uuid)
    }

    /// Encodes a number as a JSON number and a UUID as a lowercase string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let n): try container.encode(n)
        case .uuid(let u): try container.encode(u.uuidString.lowercased())
        }
    }
}

extension PointID: ExpressibleByIntegerLiteral {
    /// An integer literal as `.number`.
    public init(integerLiteral value: UInt64) { self = .number(value) }
}
