import Foundation

/// Compact JSON text with every object's members sorted by key bytes and every
/// other token copied byte for byte: two encodings are the same JSON written
/// the same way, but for the order of object members, when their canonical
/// forms are equal. (Swift's JSONEncoder writes members in a hash order that
/// changes from one encoding to the next, so member order is all this leaves
/// out.) Fails the caller's expectation with a nil when the text is not JSON.
public enum JSONCanonical {
    /// What the server's responses were before JSONBodyEncoder: JSONEncoder with
    /// `.withoutEscapingSlashes` (the reference the encoder tests compare with).
    public static func foundationBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return [UInt8](try encoder.encode(value))
    }

    public static func canonical(_ bytes: [UInt8]) -> [UInt8]? {
        var index = 0
        guard let value = parse(bytes, &index), index == bytes.count else { return nil }
        var out: [UInt8] = []
        write(value, to: &out)
        return out
    }

    public static func canonical(_ data: Data) -> [UInt8]? { canonical([UInt8](data)) }

    /// The object members' keys in the order written (top level), as raw bytes.
    public static func topLevelKeys(_ bytes: [UInt8]) -> [String]? {
        var index = 0
        guard case .object(let members)? = parse(bytes, &index) else { return nil }
        return members.map { String(decoding: $0.key, as: UTF8.self) }
    }

    indirect enum Value {
        case token([UInt8])  // a number, string, true, false or null, as written
        case array([Value])
        case object([(key: [UInt8], value: Value)])
    }

    static func parse(_ bytes: [UInt8], _ index: inout Int) -> Value? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "["):
            index += 1
            var elements: [Value] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                guard let element = parse(bytes, &index) else { return nil }
                elements.append(element)
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                } else {
                    return nil
                }
            }
        case UInt8(ascii: "{"):
            index += 1
            var members: [(key: [UInt8], value: Value)] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                guard case .token(let key)? = parse(bytes, &index), key.first == UInt8(ascii: "\""),
                    index < bytes.count, bytes[index] == UInt8(ascii: ":")
                else { return nil }
                index += 1
                guard let value = parse(bytes, &index) else { return nil }
                members.append((key, value))
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    return nil
                }
            }
        case UInt8(ascii: "\""):
            let start = index
            index += 1
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\\") {
                    index += 2
                } else if bytes[index] == UInt8(ascii: "\"") {
                    index += 1
                    return .token(Array(bytes[start..<index]))
                } else {
                    index += 1
                }
            }
            return nil
        default:
            let start = index
            while index < bytes.count,
                ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(bytes[index])
            {
                index += 1
            }
            return index > start ? .token(Array(bytes[start..<index])) : nil
        }
    }

    static func write(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case .token(let bytes): out += bytes
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += member.key
                out.append(UInt8(ascii: ":"))
                write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
