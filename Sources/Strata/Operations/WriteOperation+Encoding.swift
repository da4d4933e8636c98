import Foundation
import StrataBinary
import StrataPayload

/// The versioned binary encoding of operations (docs/format/operations.md).
extension WriteOperation {
    /// The newest version this build writes and reads. Version 2 adds the
    /// conditional writes (tags 14, 15), version 3 atomic batches (tags 16,
    /// 17); every other operation is still written as version 1, byte for
    /// byte as before, so logs without them stay readable by builds that know
    /// only version 1.
    static let encodingVersion: UInt8 = 3

    /// The version an operation is written with: the oldest that has its tag.
    var encodingVersion: UInt8 { tag >= 16 ? 3 : tag >= 14 ? 2 : 1 }

    /// The operation's binary form, as a WAL record's payload holds it: a
    /// version byte (the oldest version with this operation's tag), the tag,
    /// then its body (docs/format/operations.md).
    ///
    /// `decode(_:)` reads it back.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: estimatedSize)
        writer.write(encodingVersion)
        writer.write(tag)
        switch self {
        case .upsert(let points):
            Self.write(points, sparse: tag == 12, to: &writer)
        case .conditionalUpsert(let points, let mode, let filter):
            writer.write(UInt8(UpdateMode.allCases.firstIndex(of: mode)!))
            if let filter {
                writer.write(UInt8(1))
                writer.write(filter.json)
            } else {
                writer.write(UInt8(0))
            }
            Self.write(points, sparse: true, to: &writer)
        case .conditionalUpdateVectors(let points, let filter):
            writer.write(filter.json)
            Self.write(points, sparse: true, to: &writer)
        case .delete(let ids), .clearPayload(let ids):
            Self.write(ids, to: &writer)
        case .setPayload(let ids, let payload), .overwritePayload(let ids, let payload):
            Self.write(ids, to: &writer)
            writer.write(JSONValue.object(payload))
        case .deletePayloadKeys(let ids, let keys):
            Self.write(ids, to: &writer)
            writer.writeVarint(UInt64(keys.count))
            for key in keys { writer.writeString(key) }
        case .setPayloadAtKey(let ids, let payload, let key):
            Self.write(ids, to: &writer)
            writer.write(JSONValue.object(payload))
            writer.writeString(key)
        case .createFieldIndex(let key, let schema):
            writer.writeString(key)
            writer.write(schema)
        case .deleteFieldIndex(let key):
            writer.writeString(key)
        case .updateVectors(let points):
            Self.write(points, sparse: tag == 13, to: &writer)
        case .deleteVectors(let ids, let names):
            Self.write(ids, to: &writer)
            writer.writeVarint(UInt64(names.count))
            for name in names { writer.writeString(name) }
        case .atomicBatch(let operations):
            writer.writeVarint(UInt64(operations.count))
            for operation in operations { writer.writeLengthPrefixed(operation.encoded()) }
        case .matching(let filter, let operation):
            writer.write(filter.json)
            writer.write(contentsOf: operation.selecting([]).encoded())
        case .timed(let time, let operation):
            writer.write(time.timeIntervalSince1970)
            writer.write(contentsOf: operation.encoded())
        }
        return writer.bytes
    }

    private var estimatedSize: Int {
        if case .atomicBatch(let operations) = self { return operations.reduce(8) { $0 + $1.estimatedSize + 4 } }
        guard case .upsert(let points) = self, let first = points.first else { return 64 }
        return 16 + points.count * (first.vectors.values.reduce(0) { $0 + $1.count * 4 + 8 } + 64)
    }

    /// Decodes one operation; malformed bytes throw `FormatError`, never trap.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> WriteOperation {
        try decode(bytes, in: .record)
    }

    /// Where an operation being decoded sits: a whole WAL record, an
    /// operation of an atomic batch (tag 16), or the operation a `matching`
    /// (tag 17) applies.
    enum Nesting { case record, batch, matching, timed }

    static func decode(_ bytes: UnsafeRawBufferPointer, in nesting: Nesting) throws(FormatError) -> WriteOperation {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        guard version >= 1, version <= encodingVersion else {
            throw FormatError(
                "operation encoding version \(version) is not supported (this build reads 1 to \(encodingVersion))")
        }
        let tag = try reader.readUInt8()
        guard tag < 14 || version >= 2 else { throw FormatError("operation tag \(tag) needs encoding version 2") }
        guard tag < 16 || version >= 3 else { throw FormatError("operation tag \(tag) needs encoding version 3") }
        let operation: WriteOperation
        switch tag {
        case 18:
            guard nesting == .record else { throw FormatError("a timed operation inside another operation") }
            let seconds = try reader.readDouble()
            guard seconds.isFinite else { throw FormatError("timed operation at a non-finite time") }
            let inner = try decode(try reader.readBytes(reader.remaining), in: .timed)
            operation = .timed(Date(timeIntervalSince1970: seconds), inner)
        case 16:
            guard nesting == .record || nesting == .timed else {
                throw FormatError("an atomic batch inside another operation")
            }
            // Each operation needs at least 3 bytes (length, version, tag).
            let count = try reader.readCount(limit: reader.remaining / 3, "batch operation")
            var operations: [WriteOperation] = []
            operations.reserveCapacity(count)
            for _ in 0..<count {
                let length = try reader.readCount(limit: reader.remaining, "batch operation byte")
                operations.append(try decode(try reader.readBytes(length), in: .batch))
            }
            operation = .atomicBatch(operations)
        case 17:
            guard nesting == .batch else { throw FormatError("a filter-selected operation outside an atomic batch") }
            let filter = try readFilter(&reader)
            let selected = try decode(try reader.readBytes(reader.remaining), in: .matching)
            guard selected.selectsByID, selected.selecting([]) == selected else {
                throw FormatError(
                    "a filter-selected operation (tag 17) must be one that selects points by id, logged without ids")
            }
            operation = .matching(filter, selected)
        case 1, 12:
            operation = .upsert(try readPoints(&reader, sparse: tag == 12))
        case 14:
            let modeIndex = Int(try reader.readUInt8())
            guard modeIndex < UpdateMode.allCases.count else {
                throw FormatError("update mode \(modeIndex) is not 0, 1 or 2")
            }
            var filter: Filter? = nil
            switch try reader.readUInt8() {
            case 0: break
            case 1: filter = try readFilter(&reader)
            case let other: throw FormatError("filter presence flag \(other) is not 0 or 1")
            }
            let points = try readPoints(&reader, sparse: true)
            operation = .conditionalUpsert(points: points, mode: UpdateMode.allCases[modeIndex], filter: filter)
        case 15:
            let filter = try readFilter(&reader)
            operation = .conditionalUpdateVectors(points: try readPointVectors(&reader, sparse: true), filter: filter)
        case 2:
            operation = .delete(try readIDs(&reader))
        case 3:
            operation = .setPayload(ids: try readIDs(&reader), payload: try reader.readJSONObject())
        case 4:
            operation = .overwritePayload(ids: try readIDs(&reader), payload: try reader.readJSONObject())
        case 5:
            let ids = try readIDs(&reader)
            let count = try reader.readCount(limit: reader.remaining, "key")
            var keys: [String] = []
            for _ in 0..<count { keys.append(try reader.readString()) }
            operation = .deletePayloadKeys(ids: ids, keys: keys)
        case 6:
            operation = .clearPayload(ids: try readIDs(&reader))
        case 7:
            operation = .setPayloadAtKey(
                ids: try readIDs(&reader), payload: try reader.readJSONObject(), key: try reader.readString())
        case 8:
            operation = .createFieldIndex(key: try reader.readString(), schema: try reader.readJSON())
        case 9:
            operation = .deleteFieldIndex(key: try reader.readString())
        case 10, 13:
            operation = .updateVectors(try readPointVectors(&reader, sparse: tag == 13))
        case 11:
            let ids = try readIDs(&reader)
            let count = try reader.readCount(limit: reader.remaining, "name")
            var names: [String] = []
            for _ in 0..<count { names.append(try reader.readString()) }
            operation = .deleteVectors(ids: ids, names: names)
        default:
            throw FormatError("unknown operation tag \(tag)")
        }
        guard reader.isAtEnd else { throw FormatError("\(reader.remaining) unexpected bytes after the operation") }
        return operation
    }

    // MARK: - Pieces

    /// count:varint point*count (`point_sparse` when `sparse`).
    static func write(_ points: [PointStruct], sparse: Bool, to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(points.count))
        for point in points {
            writer.write(point.id)
            write(point.vectors, to: &writer)
            if sparse { write(point.sparseVectors, to: &writer) }
            if let payload = point.payload {
                writer.write(UInt8(1))
                writer.write(JSONValue.object(payload))
            } else {
                writer.write(UInt8(0))
            }
        }
    }

    static func readPoints(_ reader: inout ByteReader, sparse: Bool) throws(FormatError) -> [PointStruct] {
        // Each point needs at least 3 bytes, which bounds the count.
        let count = try reader.readCount(limit: reader.remaining / 3, "point")
        var points: [PointStruct] = []
        points.reserveCapacity(count)
        for _ in 0..<count {
            let id = try reader.readPointID()
            let vectors = try readVectors(&reader)
            let sparseVectors = sparse ? try readSparseVectors(&reader) : [:]
            var payload: Payload? = nil
            switch try reader.readUInt8() {
            case 0: break
            case 1: payload = try reader.readJSONObject()
            case let other: throw FormatError("payload presence flag \(other) is not 0 or 1")
            }
            points.append(PointStruct(id: id, vectors: vectors, payload: payload, sparseVectors: sparseVectors))
        }
        return points
    }

    /// count:varint (id vectors [sparse])*count.
    static func write(_ points: [PointVectors], sparse: Bool, to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(points.count))
        for point in points {
            writer.write(point.id)
            write(point.vectors, to: &writer)
            if sparse { write(point.sparseVectors, to: &writer) }
        }
    }

    static func readPointVectors(_ reader: inout ByteReader, sparse: Bool) throws(FormatError) -> [PointVectors] {
        let count = try reader.readCount(limit: reader.remaining / 2, "point")
        var points: [PointVectors] = []
        for _ in 0..<count {
            let id = try reader.readPointID()
            let vectors = try readVectors(&reader)
            let sparseVectors = sparse ? try readSparseVectors(&reader) : [:]
            points.append(PointVectors(id: id, vectors: vectors, sparseVectors: sparseVectors))
        }
        return points
    }

    /// A filter, as its JSON (Qdrant's shape) in the json encoding.
    static func readFilter(_ reader: inout ByteReader) throws(FormatError) -> Filter {
        let json = try reader.readJSON()
        do { return try Filter(json: json) } catch { throw FormatError("logged filter: \(error.message)") }
    }

    static func write(_ ids: [PointID], to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(ids.count))
        for id in ids { writer.write(id) }
    }

    /// count:varint (name:string dim:varint f32*dim)*count, names sorted.
    static func write(_ vectors: [String: [Float]], to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(vectors.count))
        for name in vectors.keys.sorted() {
            let vector = vectors[name]!
            writer.writeString(name)
            writer.writeVarint(UInt64(vector.count))
            vector.withUnsafeBufferPointer { writer.write(floats: $0) }
        }
    }

    static func readVectors(_ reader: inout ByteReader) throws(FormatError) -> [String: [Float]] {
        let vectorCount = try reader.readCount(limit: reader.remaining, "vector")
        var vectors: [String: [Float]] = [:]
        for _ in 0..<vectorCount {
            let name = try reader.readString()
            let dim = try reader.readCount(limit: reader.remaining / 4, "dimension")
            guard vectors[name] == nil else { throw FormatError("vector \"\(name)\" appears twice in one point") }
            vectors[name] = try reader.readFloats(dim)
        }
        return vectors
    }

    /// count:varint (name:string nnz:varint u32*nnz f32*nnz)*count, names
    /// sorted, indices strictly ascending (canonical, as validated before logging).
    static func write(_ vectors: [String: SparseVector], to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(vectors.count))
        for name in vectors.keys.sorted() {
            let vector = vectors[name]!
            writer.writeString(name)
            writer.writeVarint(UInt64(vector.count))
            for index in vector.indices { writer.write(index) }
            vector.values.withUnsafeBufferPointer { writer.write(floats: $0) }
        }
    }

    static func readSparseVectors(_ reader: inout ByteReader) throws(FormatError) -> [String: SparseVector] {
        let count = try reader.readCount(limit: reader.remaining, "sparse vector")
        var vectors: [String: SparseVector] = [:]
        for _ in 0..<count {
            let name = try reader.readString()
            let nnz = try reader.readCount(limit: reader.remaining / 8, "sparse dimension")
            guard vectors[name] == nil else {
                throw FormatError("sparse vector \"\(name)\" appears twice in one point")
            }
            var indices: [UInt32] = []
            indices.reserveCapacity(nnz)
            for _ in 0..<nnz { indices.append(try reader.readUInt32()) }
            let vector = SparseVector(indices: indices, values: try reader.readFloats(nnz))
            guard vector.isCanonical else {
                throw FormatError("sparse vector \"\(name)\" has indices that are not strictly ascending")
            }
            vectors[name] = vector
        }
        return vectors
    }

    static func readIDs(_ reader: inout ByteReader) throws(FormatError) -> [PointID] {
        let count = try reader.readCount(limit: reader.remaining / 2, "id")
        var ids: [PointID] = []
        ids.reserveCapacity(count)
        for _ in 0..<count { ids.append(try reader.readPointID()) }
        return ids
    }
}
