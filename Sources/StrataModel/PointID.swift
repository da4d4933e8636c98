import Foundation

/// A point's identity: an unsigned 64-bit integer or a UUID, as in Qdrant.
/// In JSON a number or a UUID string.
public enum PointID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    case number(UInt64)
    case uuid(UUID)

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

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let n): try container.encode(n)
        case .uuid(let u): try container.encode(u.uuidString.lowercased())
        }
    }
}

extension PointID: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: UInt64) { self = .number(value) }
}
