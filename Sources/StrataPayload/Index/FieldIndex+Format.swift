import StrataBinary
import StrataModel

/// The binary form of a field index, stored as a `payload_index[<key>]`
/// section of an immutable segment (docs/format/payload-index.md).
extension FieldIndex {
    /// The 8 bytes an encoded index starts with: `STRATPIX` in ASCII.
    public static let magic: [UInt8] = Array("STRATPIX".utf8)
    /// Version 2 is written for uuid indexes only (their dictionary holds
    /// every form of UUID Qdrant parses; version 1 held the 8-4-4-4-12 form
    /// only), so other indexes stay version 1.
    public static let formatVersion: UInt32 = 2
    static let formatVersionOfNonUUIDIndexes: UInt32 = 1

    /// The index in the binary form of docs/format/payload-index.md, to be
    /// stored as the segment's `payload_index[<key>]` section; `decode` reads
    /// it back. Written as version 2 for a uuid index and version 1 otherwise.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + pointCount * 4 + sortedValues.count * 12)
        writer.write(contentsOf: Self.magic)
        writer.write(schema.type == .uuid ? Self.formatVersion : Self.formatVersionOfNonUUIDIndexes)
        writer.write(UInt32(0))
        writer.write(UInt64(pointCount))
        writer.writeString(key.description)
        writer.write(schema.json)
        for count in valueCounts { writer.write(count) }
        writer.writeVarint(UInt64(postings.count))
        for key in postings.keys.sorted() {
            switch key {
            case .bool(let b):
                writer.write(UInt8(0))
                writer.write(UInt8(b ? 1 : 0))
            case .integer(let i):
                writer.write(UInt8(1))
                writer.write(i)
            case .string(let s):
                writer.write(UInt8(2))
                writer.writeString(s)
            }
            let list = postings[key]!
            writer.writeVarint(UInt64(list.count))
            for offset in list { writer.write(offset) }
        }
        writer.writeVarint(UInt64(sortedValues.count))
        for value in sortedValues { writer.write(value) }
        for offset in sortedOffsets { writer.write(offset) }
        writer.writeVarint(UInt64(geoPoints.count))
        for entry in geoPoints {
            writer.write(entry.point.lon)
            writer.write(entry.point.lat)
            writer.write(entry.offset)
        }
        return writer.bytes
    }

    /// Decodes and checks an index of a segment with `pointCount` points for
    /// `key`; anything malformed throws `FormatError`, never traps.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, key expectedKey: PayloadPath, pointCount expectedCount: Int
    ) throws(FormatError)
        -> FieldIndex
    {
        var reader = ByteReader(bytes)
        guard bytes.count >= 8, Array(try reader.readBytes(8)) == magic else {
            throw FormatError("bad magic (not a payload index)")
        }
        let version = try reader.readUInt32()
        guard version == 1 || version == formatVersion else {
            throw FormatError(
                "payload index format version \(version) is not 1 or \(formatVersion) (written by a newer Strata?)")
        }
        guard try reader.readUInt32() == 0 else { throw FormatError("reserved flags are not zero") }
        let pointCount = try reader.readUInt64()
        guard pointCount == UInt64(expectedCount) else {
            throw FormatError("index covers \(pointCount) points but the segment has \(expectedCount)")
        }
        let n = Int(pointCount)
        let keyText = try reader.readString()
        guard keyText == expectedKey.description else {
            throw FormatError("index is for key \"\(keyText)\", the section names \"\(expectedKey)\"")
        }
        let schemaJSON = try reader.readJSON()
        let schema: PayloadFieldSchema
        do {
            schema = try PayloadFieldSchema(json: schemaJSON)
        } catch {
            throw FormatError("index schema \(schemaJSON) is not valid: \(error.message)")
        }
        guard n <= reader.remaining / 4 else { throw FormatError("value counts of \(n) points are truncated") }
        var counts = [UInt32](repeating: 0, count: n)
        for i in 0..<n { counts[i] = try reader.readUInt32() }
        let keyCount = try reader.readCount(limit: reader.remaining / 2, "dictionary key")
        var postings: [IndexKey: [UInt32]] = [:]
        postings.reserveCapacity(keyCount)
        var previousKey: IndexKey?
        for _ in 0..<keyCount {
            let key: IndexKey
            switch try reader.readUInt8() {
            case 0:
                let b = try reader.readUInt8()
                guard b <= 1 else { throw FormatError("bool key byte \(b) is not 0 or 1") }
                key = .bool(b == 1)
            case 1: key = .integer(try reader.readInt64())
            case 2: key = .string(try reader.readString())
            case let tag: throw FormatError("unknown dictionary key tag \(tag)")
            }
            if let previousKey, !(previousKey < key) {
                throw FormatError("dictionary keys are not strictly ascending at \(key)")
            }
            previousKey = key
            let listCount = try reader.readCount(limit: min(n, reader.remaining / 4), "posting")
            guard listCount > 0 else { throw FormatError("empty posting list for key \(key)") }
            var list = [UInt32](repeating: 0, count: listCount)
            for i in 0..<listCount {
                let offset = try reader.readUInt32()
                guard Int(offset) < n, i == 0 || offset > list[i - 1] else {
                    throw FormatError("posting list of \(key) is not ascending within 0..<\(n) at entry \(i)")
                }
                list[i] = offset
            }
            postings[key] = list
        }
        let sortedCount = try reader.readCount(limit: reader.remaining / 12, "sorted value")
        var values = [Double](repeating: 0, count: sortedCount)
        for i in 0..<sortedCount {
            values[i] = try reader.readDouble()
            guard values[i].isFinite, i == 0 || values[i] >= values[i - 1] else {
                throw FormatError("sorted values are not finite and ascending at entry \(i)")
            }
        }
        var offsets = [UInt32](repeating: 0, count: sortedCount)
        for i in 0..<sortedCount {
            offsets[i] = try reader.readUInt32()
            guard Int(offsets[i]) < n else { throw FormatError("sorted entry \(i) names offset \(offsets[i]) ≥ \(n)") }
        }
        let geoCount = try reader.readCount(limit: reader.remaining / 20, "geo point")
        var geo: [GeoEntry] = []
        geo.reserveCapacity(geoCount)
        for i in 0..<geoCount {
            let lon = try reader.readDouble(), lat = try reader.readDouble(), offset = try reader.readUInt32()
            guard (-180...180).contains(lon), (-90...90).contains(lat), Int(offset) < n else {
                throw FormatError("geo entry \(i) is out of range")
            }
            geo.append(GeoEntry(point: GeoPoint(lon: lon, lat: lat), offset: offset))
        }
        guard reader.isAtEnd else { throw FormatError("\(reader.remaining) bytes follow the index") }
        return FieldIndex(
            key: expectedKey, schema: schema, pointCount: n, valueCounts: counts, postings: postings,
            sortedValues: values, sortedOffsets: offsets, geoPoints: geo,
            predatesUUIDForms: schema.type == .uuid && version == 1)
    }
}
