import Foundation
import StrataBinary

// The binary encodings of point ids and JSON values, shared by every on-disk
// format that stores them (WAL operations, segment payload blocks). Specified in
// docs/format/operations.md.

extension ByteWriter {
    /// `0x00 varint` for a number, `0x01` + 16 bytes (RFC 4122 order) for a UUID.
    public mutating func write(_ id: PointID) {
        switch id {
        case .number(let n):
            write(UInt8(0))
            writeVarint(n)
        case .uuid(let u):
            write(UInt8(1))
            withUnsafeBytes(of: u.uuid) { write(contentsOf: $0) }
        }
    }

    /// A tagged JSON value; object keys sorted by their UTF-8 bytes.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: write(UInt8(0))
        case .bool(let b): write(UInt8(b ? 2 : 1))
        case .int(let i):
            write(UInt8(3))
            write(i)
        case .double(let d):
            write(UInt8(4))
            write(d)
        case .string(let s):
            write(UInt8(5))
            writeString(s)
        case .array(let a):
            write(UInt8(6))
            writeVarint(UInt64(a.count))
            for element in a { write(element) }
        case .object(let o):
            write(UInt8(7))
            writeVarint(UInt64(o.count))
            for key in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                writeString(key)
                write(o[key]!)
            }
        }
    }
}

extension ByteReader {
    /// Nesting limit for JSON values, so hostile input cannot exhaust the stack.
    public static let maxJSONDepth = 64

    /// Reads a point id written by `ByteWriter.write(_:)`: tag `0x00` and a
    /// varint, or tag `0x01` and 16 UUID bytes. Throws `FormatError` for another
    /// tag or truncated input.
    public mutating func readPointID() throws(FormatError) -> PointID {
        switch try readUInt8() {
        case 0:
            return .number(try readVarint())
        case 1:
            let raw = try readBytes(16)
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: raw) }
            return .uuid(UUID(uuid: uuid))
        case let other:
            throw FormatError("point id tag \(other) is not 0 (number) or 1 (uuid)")
        }
    }

    /// A JSON value that must be an object (a payload).
    public mutating func readJSONObject() throws(FormatError) -> [String: JSONValue] {
        guard case .object(let object) = try readJSON() else {
            throw FormatError("payload is not a JSON object")
        }
        return object
    }

    /// Reads a tagged JSON value written by `ByteWriter.write(_:)`.
    ///
    /// Throws `FormatError` for an unknown tag, truncated input, a count larger
    /// than the bytes left could hold, or nesting deeper than `maxJSONDepth`;
    /// malformed bytes never trap.
    public mutating func readJSON() throws(FormatError) -> JSONValue {
        try readJSON(depth: 0)
    }

    private mutating func readJSON(depth: Int) throws(FormatError) -> JSONValue {
        guard depth < Self.maxJSONDepth else { throw FormatError("JSON nests deeper than \(Self.maxJSONDepth) levels") }
        switch try readUInt8() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(try readInt64())
        case 4: return .double(try readDouble())
        case 5: return .string(try readString())
        case 6:
            let count = try readCount(limit: remaining, "array element")
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try readJSON(depth: depth + 1)) }
            return .array(elements)
        case 7:
            let count = try readCount(limit: remaining / 2, "object member")
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(count)
            for _ in 0..<count {
                let key = try readString()
                object[key] = try readJSON(depth: depth + 1)
            }
            return .object(object)
        case let other:
            throw FormatError("unknown JSON value tag \(other)")
        }
    }
}
