import StrataBinary
import StrataModel

/// The raw (uncompressed) form of one payload block, docs/format/segment.md:
///
///     raw_block := end:u32*k entry_bytes
///
/// Entry j is bytes `[start_j, end_j)` with `start_0 = 4k`, `start_j = end_{j-1}`;
/// an empty entry is "no payload", otherwise one JSON object (operations.md `json`)
/// whose numbers are all finite.
enum PayloadBlock {
    /// Accumulates the entries of one block for the writer.
    struct Builder {
        /// End of each entry, relative to the start of the entry bytes.
        private var ends: [Int] = []
        private var entries = ByteWriter()

        var pointCount: Int { ends.count }
        var isEmpty: Bool { ends.isEmpty }
        /// Size of the raw block as `finish()` would return it.
        var rawSize: Int { 4 * ends.count + entries.count }

        mutating func append(_ payload: Payload?) {
            if let payload { entries.write(JSONValue.object(payload)) }
            ends.append(entries.count)
        }

        /// The raw block. Precondition: `rawSize <= SegmentFormat.maxBlockRawSize`.
        func finish() -> [UInt8] {
            precondition(rawSize <= SegmentFormat.maxBlockRawSize, "payload block over the size limit")
            var writer = ByteWriter(capacity: rawSize)
            let tableSize = 4 * ends.count
            for end in ends { writer.write(UInt32(tableSize + end)) }
            writer.write(contentsOf: entries.bytes)
            return writer.bytes
        }
    }

    /// Checks the entry table of a raw block holding `pointCount` points: the table
    /// fits, ends are non-decreasing from the table's end, and the last is the size.
    static func checkTable(_ raw: UnsafeRawBufferPointer, pointCount: Int) throws(FormatError) {
        let tableSize = 4 * pointCount
        guard pointCount >= 0, tableSize <= raw.count else {
            throw FormatError(
                "the entry table of \(pointCount) points needs \(tableSize) bytes, the block has \(raw.count)")
        }
        var previous = tableSize
        for j in 0..<pointCount {
            let end = Int(raw.loadLittleEndian(at: 4 * j, as: UInt32.self))
            guard end >= previous, end <= raw.count else {
                throw FormatError("entry \(j) ends at \(end), outside \(previous)...\(raw.count)")
            }
            previous = end
        }
        guard previous == raw.count else {
            throw FormatError("the last entry ends at \(previous) but the block has \(raw.count) bytes")
        }
    }

    /// The byte range of entry `j`. Precondition: `checkTable` passed, `j < pointCount`.
    static func entryRange(_ raw: UnsafeRawBufferPointer, pointCount: Int, entry j: Int) -> Range<Int> {
        let start = j == 0 ? 4 * pointCount : Int(raw.loadLittleEndian(at: 4 * (j - 1), as: UInt32.self))
        let end = Int(raw.loadLittleEndian(at: 4 * j, as: UInt32.self))
        return start..<end
    }

    /// Decodes one entry: nil when empty, else exactly one JSON object.
    static func decodeEntry(_ entry: UnsafeRawBufferPointer) throws(FormatError) -> Payload? {
        if entry.isEmpty { return nil }
        var reader = ByteReader(entry)
        let payload = try reader.readJSONObject()
        guard reader.isAtEnd else {
            throw FormatError("\(reader.remaining) bytes follow the payload object")
        }
        guard JSONValue.object(payload).isFinite else {
            throw FormatError("the payload holds a NaN or infinite number, which JSON cannot")
        }
        return payload
    }
}
