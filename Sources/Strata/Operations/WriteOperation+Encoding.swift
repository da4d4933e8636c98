import Foundation
import StrataBinary

/// The versioned binary encoding of operations (docs/format/operations.md).
extension WriteOperation {
    static let encodingVersion: UInt8 = 1
    /// Nesting limit for payload values, so hostile input cannot exhaust the stack.
    static let maxJSONDepth = 64

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: estimatedSize)
        writer.write(Self.encodingVersion)
        writer.write(tag)
        switch self {
        case .upsert(let points):
            writer.writeVarint(UInt64(points.count))
            for point in points {
                Self.write(point.id, to: &writer)
                writer.writeVarint(UInt64(point.vectors.count))
                for name in point.vectors.keys.sorted() {
                    let vector = point.vectors[name]!
                    writer.writeString(name)
                    writer.writeVarint(UInt64(vector.count))
                    vector.withUnsafeBufferPointer { writer.write(floats: $0) }
                }
                if let payload = point.payload {
                    writer.write(UInt8(1))
                    Self.write(.object(payload), to: &writer)
                } else {
                    writer.write(UInt8(0))
                }
            }
        case .delete(let ids), .clearPayload(let ids):
            Self.write(ids, to: &writer)
        case .setPayload(let ids, let payload), .overwritePayload(let ids, let payload):
            Self.write(ids, to: &writer)
            Self.write(.object(payload), to: &writer)
        case .deletePayloadKeys(let ids, let keys):
            Self.write(ids, to: &writer)
            writer.writeVarint(UInt64(keys.count))
            for key in keys { writer.writeString(key) }
        }
        return writer.bytes
    }

    private var estimatedSize: Int {
        guard case .upsert(let points) = self, let first = points.first else { return 64 }
        return 16 + points.count * (first.vectors.values.reduce(0) { $0 + $1.count * 4 + 8 } + 64)
    }

    /// Decodes one operation; malformed bytes throw `FormatError`, never trap.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> WriteOperation {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        guard version == encodingVersion else {
            throw FormatError("operation encoding version \(version) is not supported (this build reads \(encodingVersion))")
        }
        let tag = try reader.readUInt8()
        let operation: WriteOperation
        switch tag {
        case 1:
            // Each point needs at least 3 bytes, which bounds the count.
            let count = try reader.readCount(limit: reader.remaining / 3, "point")
            var points: [PointStruct] = []
            points.reserveCapacity(count)
            for _ in 0..<count {
                let id = try readPointID(&reader)
                let vectorCount = try reader.readCount(limit: reader.remaining, "vector")
                var vectors: [String: [Float]] = [:]
                for _ in 0..<vectorCount {
                    let name = try reader.readString()
                    let dim = try reader.readCount(limit: reader.remaining / 4, "dimension")
                    guard vectors[name] == nil else { throw FormatError("vector \"\(name)\" appears twice in one point") }
                    vectors[name] = try reader.readFloats(dim)
                }
                var payload: Payload? = nil
                switch try reader.readUInt8() {
                case 0: break
                case 1: payload = try readObject(&reader)
                case let other: throw FormatError("payload presence flag \(other) is not 0 or 1")
                }
                points.append(PointStruct(id: id, vectors: vectors, payload: payload))
            }
            operation = .upsert(points)
        case 2:
            operation = .delete(try readIDs(&reader))
        case 3:
            operation = .setPayload(ids: try readIDs(&reader), payload: try readObject(&reader))
        case 4:
            operation = .overwritePayload(ids: try readIDs(&reader), payload: try readObject(&reader))
        case 5:
            let ids = try readIDs(&reader)
            let count = try reader.readCount(limit: reader.remaining, "key")
            var keys: [String] = []
            for _ in 0..<count { keys.append(try reader.readString()) }
            operation = .deletePayloadKeys(ids: ids, keys: keys)
        case 6:
            operation = .clearPayload(ids: try readIDs(&reader))
        default:
            throw FormatError("unknown operation tag \(tag)")
        }
        guard reader.isAtEnd else { throw FormatError("\(reader.remaining) unexpected bytes after the operation") }
        return operation
    }

    // MARK: - Pieces

    static func write(_ id: PointID, to writer: inout ByteWriter) {
        switch id {
        case .number(let n):
            writer.write(UInt8(0))
            writer.writeVarint(n)
        case .uuid(let u):
            writer.write(UInt8(1))
            withUnsafeBytes(of: u.uuid) { writer.write(contentsOf: $0) }
        }
    }

    static func readPointID(_ reader: inout ByteReader) throws(FormatError) -> PointID {
        switch try reader.readUInt8() {
        case 0:
            return .number(try reader.readVarint())
        case 1:
            let raw = try reader.readBytes(16)
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: raw) }
            return .uuid(UUID(uuid: uuid))
        case let other:
            throw FormatError("point id tag \(other) is not 0 (number) or 1 (uuid)")
        }
    }

    static func write(_ ids: [PointID], to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(ids.count))
        for id in ids { write(id, to: &writer) }
    }

    static func readIDs(_ reader: inout ByteReader) throws(FormatError) -> [PointID] {
        let count = try reader.readCount(limit: reader.remaining / 2, "id")
        var ids: [PointID] = []
        ids.reserveCapacity(count)
        for _ in 0..<count { ids.append(try readPointID(&reader)) }
        return ids
    }

    static func write(_ value: JSONValue, to writer: inout ByteWriter) {
        switch value {
        case .null: writer.write(UInt8(0))
        case .bool(let b): writer.write(UInt8(b ? 2 : 1))
        case .int(let i):
            writer.write(UInt8(3))
            writer.write(i)
        case .double(let d):
            writer.write(UInt8(4))
            writer.write(d)
        case .string(let s):
            writer.write(UInt8(5))
            writer.writeString(s)
        case .array(let a):
            writer.write(UInt8(6))
            writer.writeVarint(UInt64(a.count))
            for element in a { write(element, to: &writer) }
        case .object(let o):
            writer.write(UInt8(7))
            writer.writeVarint(UInt64(o.count))
            for key in o.keys.sorted() {
                writer.writeString(key)
                write(o[key]!, to: &writer)
            }
        }
    }

    static func readObject(_ reader: inout ByteReader) throws(FormatError) -> Payload {
        guard case .object(let object) = try readJSON(&reader, depth: 0) else {
            throw FormatError("payload is not a JSON object")
        }
        return object
    }

    static func readJSON(_ reader: inout ByteReader, depth: Int) throws(FormatError) -> JSONValue {
        guard depth < maxJSONDepth else { throw FormatError("payload nests deeper than \(maxJSONDepth) levels") }
        switch try reader.readUInt8() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(try reader.readInt64())
        case 4: return .double(try reader.readDouble())
        case 5: return .string(try reader.readString())
        case 6:
            let count = try reader.readCount(limit: reader.remaining, "array element")
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try readJSON(&reader, depth: depth + 1)) }
            return .array(elements)
        case 7:
            let count = try reader.readCount(limit: reader.remaining / 2, "object member")
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(count)
            for _ in 0..<count {
                let key = try reader.readString()
                object[key] = try readJSON(&reader, depth: depth + 1)
            }
            return .object(object)
        case let other:
            throw FormatError("unknown JSON value tag \(other)")
        }
    }
}
