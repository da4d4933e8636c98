import Foundation
import StrataBinary
import StrataCompression
import StrataVectorMath

// Invariants of a `SegmentLayout` returned by `parse` (the reader relies on them
// to address the mapping without further checks):
// - every section lies inside the file, before the section table: offset + length
//   ≤ tableOffset < bytes.count;
// - ids.numbers holds `numberCount` u64 and ids.uuids `pointCount - numberCount`
//   16-byte ids, both strictly ascending; versions holds `pointCount` u64;
// - each vector's presence bitmap has ⌈n/8⌉ bytes and its data n × dimension
//   elements of its datatype (f32 in version 1 files),
//   starting at a multiple of 64 (so at a 64-byte aligned address in the mapping);
// - `blocks` tile the points 0..<n (first points strictly ascending from 0) and the
//   payload.blocks section (each block's bytes inside it); raw lengths are at most
//   `SegmentFormat.maxBlockRawSize` and hold at least the block's entry table.

/// Where everything is in a segment file, parsed and checked by `parse`.
struct SegmentLayout: Sendable {
    struct Vector: Sendable {
        var spec: SegmentVectorSpec
        var presenceOffset: Int
        var dataOffset: Int
    }

    /// The two sections of one multivector (kinds 13 and 14).
    struct MultiVector: Sendable {
        var dimension: Int
        var datatype: VectorDatatype
        var offsetsOffset: Int
        var dataOffset: Int
        /// Rows in the data section (the last row start).
        var rowCount: Int
    }

    var pointCount: Int
    var codec: CompressionCodec
    var numberCount: Int
    var numbersOffset: Int
    var uuidsOffset: Int
    var versionsOffset: Int
    var vectors: [Vector]
    var vectorIndex: [String: Int]
    var payloadBlocksSection: Int
    /// Per vector name, the table index of its `hnsw[…]` and `quantized[…]` sections.
    var graphSections: [String: Int]
    var quantizedSections: [String: Int]
    /// Payload field key → table index of its `payload_index[<key>]` section.
    var fieldIndexSections: [String: Int]
    /// Sparse vector name → table indices of its `sparse[<name>].vectors` and `.index` sections.
    var sparseSections: [String: (vectors: Int, index: Int)]
    /// Multivector name → where its row starts (`u64` × (n + 1)) and rows (`f32`) are.
    var multiVectors: [String: MultiVector]
    var blocks: [SegmentFormat.BlockEntry]
    /// Every table entry, in table order.
    var sections: [SegmentFormat.SectionEntry]

    /// The points of block `b`.
    func pointRange(ofBlock b: Int) -> Range<Int> {
        blocks[b].firstPoint..<(b + 1 < blocks.count ? blocks[b + 1].firstPoint : pointCount)
    }

    /// The block holding point `offset` (binary search). Precondition: 0 ≤ offset < n.
    func block(holding offset: Int) -> Int {
        var low = 0
        var high = blocks.count  // invariant: blocks[low].firstPoint <= offset, answer in low..<high
        while high - low > 1 {
            let mid = (low + high) / 2
            if blocks[mid].firstPoint <= offset { low = mid } else { high = mid }
        }
        return low
    }
}

extension SegmentLayout {
    /// Parses and checks everything `SegmentReader.open` promises
    /// (docs/format/segment.md, "Reading rules", steps 1–7).
    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(SegmentError) -> SegmentLayout {
        func fail(_ section: String, _ what: String) -> SegmentError { .corruption(file, section, what) }
        let size = bytes.count

        // 1–2. Header.
        let magic = SegmentFormat.magic
        guard size >= magic.count, bytes.slice(0, magic.count).elementsEqual(magic) else {
            throw fail(
                "header",
                size < magic.count
                    ? "the file is \(size) bytes, too short for a header (truncated or empty)"
                    : "bad magic: not a Strata segment file")
        }
        guard size >= SegmentFormat.headerSize else {
            throw fail(
                "header",
                "the file is \(size) bytes, too short for the \(SegmentFormat.headerSize)-byte header (truncated)")
        }
        let version = bytes.loadLittleEndian(at: 8, as: UInt32.self)
        guard SegmentFormat.readableVersions.contains(version) else {
            throw SegmentError(
                code: .unsupportedVersion, file: file, section: "header",
                message:
                    "segment \(file) has format version \(version) in its header; this build reads versions \(SegmentFormat.readableVersions.lowerBound)…\(SegmentFormat.readableVersions.upperBound). Upgrade Strata; if no newer Strata wrote this file, it is damaged"
            )
        }
        let storedHeaderCRC = bytes.loadLittleEndian(at: SegmentFormat.headerCRCOffset, as: UInt32.self)
        guard storedHeaderCRC == SegmentFormat.maskedCRC(bytes.slice(0, SegmentFormat.headerCRCOffset)) else {
            throw fail("header", "header checksum mismatch")
        }
        guard bytes.loadLittleEndian(at: 12, as: UInt32.self) == 0 else {
            throw fail("header", "unknown flags \(bytes.loadLittleEndian(at: 12, as: UInt32.self))")
        }
        guard bytes.slice(25, SegmentFormat.headerCRCOffset - 25).allSatisfy({ $0 == 0 }) else {
            throw fail("header", "reserved header bytes are not zero")
        }
        guard let codec = CompressionCodec(rawValue: bytes[24]) else {
            throw fail("header", "unknown payload codec \(bytes[24])")
        }
        let storedPointCount = bytes.loadLittleEndian(at: 16, as: UInt64.self)
        guard storedPointCount <= UInt64(SegmentFormat.maxPointCount) else {
            throw fail("header", "point_count \(storedPointCount) exceeds the limit \(SegmentFormat.maxPointCount)")
        }
        let n = Int(storedPointCount)

        // 3. Footer.
        guard size >= SegmentFormat.minimumFileSize else {
            throw fail(
                "footer",
                "the file is \(size) bytes, shorter than the smallest segment (\(SegmentFormat.minimumFileSize) bytes): truncated"
            )
        }
        let footer = size - SegmentFormat.footerSize
        guard bytes.slice(footer + 32, 8).elementsEqual(SegmentFormat.footerMagic) else {
            throw fail(
                "footer", "the footer magic is missing at the end of the file: truncated, or not completely written")
        }
        guard
            bytes.loadLittleEndian(at: footer + 28, as: UInt32.self) == SegmentFormat.maskedCRC(bytes.slice(footer, 28))
        else {
            throw fail("footer", "footer checksum mismatch")
        }
        let fileLength = bytes.loadLittleEndian(at: footer + 16, as: UInt64.self)
        guard fileLength == UInt64(size) else {
            throw fail(
                "footer", "the footer says the file is \(fileLength) bytes but it is \(size): truncated or appended to")
        }
        let storedTableOffset = bytes.loadLittleEndian(at: footer, as: UInt64.self)
        let storedTableLength = bytes.loadLittleEndian(at: footer + 8, as: UInt64.self)
        // Both ≤ footer, so the sum cannot overflow.
        guard storedTableOffset >= UInt64(SegmentFormat.headerSize), storedTableOffset <= UInt64(footer),
            storedTableLength <= UInt64(footer), storedTableOffset + storedTableLength == UInt64(footer)
        else {
            throw fail(
                "footer",
                "the section table (offset \(storedTableOffset), length \(storedTableLength)) does not end where the footer starts (\(footer))"
            )
        }
        let tableOffset = Int(storedTableOffset)
        let tableLength = Int(storedTableLength)
        guard
            bytes.loadLittleEndian(at: footer + 24, as: UInt32.self)
                == SegmentFormat.maskedCRC(bytes.slice(tableOffset, tableLength))
        else {
            throw fail("section table", "section table checksum mismatch")
        }

        // 4. Section table.
        let table = "section table"
        guard tableLength >= SegmentFormat.tableHeaderSize else {
            throw fail(
                table,
                "the table is \(tableLength) bytes, shorter than its \(SegmentFormat.tableHeaderSize)-byte header")
        }
        let sectionCount = Int(bytes.loadLittleEndian(at: tableOffset, as: UInt32.self))
        guard bytes.loadLittleEndian(at: tableOffset + 4, as: UInt32.self) == 0 else {
            throw fail(table, "reserved table bytes are not zero")
        }
        guard sectionCount <= (tableLength - SegmentFormat.tableHeaderSize) / SegmentFormat.tableEntryFixedSize else {
            throw fail(table, "\(sectionCount) entries do not fit in a \(tableLength)-byte table")
        }
        var sections: [SegmentFormat.SectionEntry] = []
        sections.reserveCapacity(sectionCount)
        var position = tableOffset + SegmentFormat.tableHeaderSize
        let tableEnd = tableOffset + tableLength
        var expectedOffset = SegmentFormat.headerSize  // start of the next section
        var previousEnd = SegmentFormat.headerSize  // end of the previous section
        for index in 0..<sectionCount {
            guard tableEnd - position >= SegmentFormat.tableEntryFixedSize else {
                throw fail(table, "entry \(index) does not fit in the table")
            }
            let kind = SegmentFormat.Kind(rawValue: bytes.loadLittleEndian(at: position, as: UInt16.self))
            let nameLength = Int(bytes.loadLittleEndian(at: position + 2, as: UInt16.self))
            let dimension = Int(bytes.loadLittleEndian(at: position + 4, as: UInt32.self))
            let offset = bytes.loadLittleEndian(at: position + 8, as: UInt64.self)
            let length = bytes.loadLittleEndian(at: position + 16, as: UInt64.self)
            let crc = bytes.loadLittleEndian(at: position + 24, as: UInt32.self)
            let reserved = bytes.loadLittleEndian(at: position + 28, as: UInt32.self)
            position += SegmentFormat.tableEntryFixedSize
            // Version 2: the element type of vector rows (kinds 5 and 14); reserved elsewhere.
            let holdsRows = kind == .vectorData || kind == .multiVectorData
            if version >= SegmentFormat.compactVectorsVersion && holdsRows {
                guard VectorDatatype(formatCode: reserved) != nil else {
                    throw fail(table, "entry \(index): unknown vector element type \(reserved)")
                }
            } else {
                guard reserved == 0 else { throw fail(table, "entry \(index): reserved bytes are not zero") }
            }
            guard nameLength <= SegmentFormat.maxVectorNameBytes, nameLength <= tableEnd - position else {
                throw fail(
                    table, "entry \(index): a name of \(nameLength) bytes is too long or does not fit in the table")
            }
            guard let name = String(validating: bytes.slice(position, nameLength), as: UTF8.self) else {
                throw fail(table, "entry \(index): the name is not valid UTF-8")
            }
            position += nameLength
            // Canonical layout: this section starts at the aligned end of the previous.
            guard expectedOffset <= tableOffset, offset == UInt64(expectedOffset),
                length <= UInt64(tableOffset - expectedOffset)
            else {
                throw fail(
                    table,
                    "entry \(index) (\(SegmentFormat.displayName(kind: kind, vectorName: name))) at offset \(offset), length \(length) is not at \(expectedOffset) or runs past the table at \(tableOffset)"
                )
            }
            let entry = SegmentFormat.SectionEntry(
                kind: kind, name: name, dimension: dimension, offset: expectedOffset, length: Int(length), crc: crc,
                elementType: reserved)
            // Zero padding between the previous section and this one.
            guard bytes.slice(previousEnd, expectedOffset - previousEnd).allSatisfy({ $0 == 0 }) else {
                throw fail(
                    "padding",
                    "the padding before \(entry.displayName) (bytes \(previousEnd)..<\(expectedOffset)) is not zero")
            }
            previousEnd = entry.offset + entry.length
            expectedOffset = SegmentFormat.align(previousEnd)
            sections.append(entry)
        }
        guard position == tableEnd else {
            throw fail(table, "\(tableEnd - position) bytes follow the last table entry")
        }
        guard previousEnd == tableOffset else {
            throw fail(table, "the last section ends at \(previousEnd) but the table starts at \(tableOffset)")
        }

        // Kinds, order, multiplicity (ancillary kinds are skipped wherever they are).
        var required = sections.filter { !$0.kind.isAncillary }
        if let unknown = required.first(where: { $0.kind.rawValue < 1 || $0.kind.rawValue > 14 }) {
            throw SegmentError(
                code: .unsupportedVersion, file: file, section: table,
                message:
                    "segment \(file) lists in its section table a section of kind \(unknown.kind.rawValue), which this build does not know: it was written by a newer Strata; upgrade Strata"
            )
        }
        func take(_ kind: SegmentFormat.Kind) throws(SegmentError) -> SegmentFormat.SectionEntry {
            guard let first = required.first, first.kind == kind else {
                throw fail(
                    table,
                    "expected \(SegmentFormat.displayName(kind: kind, vectorName: "…")) next, found \(required.first?.displayName ?? "the end of the table")"
                )
            }
            required.removeFirst()
            if !kind.isVector {
                guard first.name.isEmpty, first.dimension == 0 else {
                    throw fail(table, "\(first.displayName) has a name or dimension")
                }
            }
            return first
        }
        let numbers = try take(.idNumbers)
        let uuids = try take(.idUUIDs)
        let versions = try take(.versions)
        var vectors: [Vector] = []
        var vectorIndex: [String: Int] = [:]
        while required.first?.kind == .vectorPresence {
            let presence = try take(.vectorPresence)
            let data = try take(.vectorData)
            guard data.name == presence.name, data.dimension == presence.dimension else {
                throw fail(
                    table,
                    "\(presence.displayName) (dimension \(presence.dimension)) is followed by \(data.displayName) (dimension \(data.dimension))"
                )
            }
            guard (1...SegmentFormat.maxDimension).contains(presence.dimension) else {
                throw fail(
                    table,
                    "\(presence.displayName) has dimension \(presence.dimension), outside 1…\(SegmentFormat.maxDimension)"
                )
            }
            guard vectorIndex.updateValue(vectors.count, forKey: presence.name) == nil else {
                throw fail(table, "vector name \"\(presence.name)\" appears twice")
            }
            let datatype = VectorDatatype(formatCode: data.elementType)!
            vectors.append(
                Vector(
                    spec: SegmentVectorSpec(name: presence.name, dimension: presence.dimension, datatype: datatype),
                    presenceOffset: presence.offset, dataOffset: data.offset))
            // 5. Lengths.
            guard presence.length == (n + 7) / 8 else {
                throw fail(presence.displayName, "\(presence.length) bytes; \(n) points need \((n + 7) / 8)")
            }
            let (rowBytes, o1) = n.multipliedReportingOverflow(by: presence.dimension)
            let (dataBytes, o2) = rowBytes.multipliedReportingOverflow(by: datatype.bytesPerElement)
            guard !o1, !o2, data.length == dataBytes else {
                throw fail(
                    data.displayName,
                    "\(data.length) bytes; \(n) points × \(presence.dimension) \(datatype.rawValue) values need \(n) × \(presence.dimension) × \(datatype.bytesPerElement)"
                )
            }
        }
        let blocksSection = try take(.payloadBlocks)
        let indexSection = try take(.payloadIndex)
        // Vector indexes: any number of hnsw / quantized sections, each naming a
        // vector of this segment, at most one of each kind per vector.
        var graphSections: [String: Int] = [:], quantizedSections: [String: Int] = [:]
        while let next = required.first, next.kind.isVectorIndex {
            required.removeFirst()
            guard let vector = vectorIndex[next.name], next.dimension == vectors[vector].spec.dimension else {
                throw fail(
                    table, "\(next.displayName) does not name a vector of this segment with dimension \(next.dimension)"
                )
            }
            let tableIndex = sections.firstIndex(of: next)!
            let isNew =
                next.kind == .hnswGraph
                ? graphSections.updateValue(tableIndex, forKey: next.name) == nil
                : quantizedSections.updateValue(tableIndex, forKey: next.name) == nil
            guard isNew else { throw fail(table, "\(next.displayName) appears twice") }
        }
        // Payload field indexes: any number, each naming a distinct field key.
        var fieldIndexSections: [String: Int] = [:]
        while let next = required.first, next.kind == .fieldIndex {
            required.removeFirst()
            guard !next.name.isEmpty, next.dimension == 0 else {
                throw fail(table, "\(next.displayName) has no field key or has a dimension")
            }
            guard fieldIndexSections.updateValue(sections.firstIndex(of: next)!, forKey: next.name) == nil else {
                throw fail(table, "\(next.displayName) appears twice")
            }
        }
        // Sparse vectors: for each name a kind 11 section followed by the kind 12 section of that name.
        var sparseSections: [String: (vectors: Int, index: Int)] = [:]
        while let next = required.first, next.kind == .sparseVectors {
            required.removeFirst()
            guard let index = required.first, index.kind == .sparseIndex, index.name == next.name else {
                throw fail(table, "\(next.displayName) is not followed by sparse[\(next.name)].index")
            }
            required.removeFirst()
            guard next.dimension == 0, index.dimension == 0 else {
                throw fail(table, "\(next.displayName) has a dimension")
            }
            guard sparseSections[next.name] == nil else { throw fail(table, "\(next.displayName) appears twice") }
            sparseSections[next.name] = (sections.firstIndex(of: next)!, sections.firstIndex(of: index)!)
        }
        // Multivectors: per name a kind 13 section followed by the kind 14 section
        // of that name, naming a vector of this segment with its dimension.
        var multiSections: [String: (offsets: SegmentFormat.SectionEntry, data: SegmentFormat.SectionEntry)] = [:]
        while let next = required.first, next.kind == .multiVectorOffsets {
            required.removeFirst()
            guard let data = required.first, data.kind == .multiVectorData, data.name == next.name,
                data.dimension == next.dimension
            else {
                throw fail(
                    table, "\(next.displayName) is not followed by multivector[\(next.name)].data of the same dimension"
                )
            }
            required.removeFirst()
            guard let vector = vectorIndex[next.name], vectors[vector].spec.dimension == next.dimension else {
                throw fail(
                    table, "\(next.displayName) does not name a vector of this segment with dimension \(next.dimension)"
                )
            }
            guard data.elementType == vectors[vector].spec.datatype.formatCode else {
                throw fail(
                    table,
                    "\(data.displayName) has element type \(data.elementType), vectors[\(next.name)].data \(vectors[vector].spec.datatype.formatCode)"
                )
            }
            guard multiSections.updateValue((next, data), forKey: next.name) == nil else {
                throw fail(table, "\(next.displayName) appears twice")
            }
            guard next.length == 8 * (n + 1) else {
                throw fail(next.displayName, "\(next.length) bytes; \(n) points need \(8 * (n + 1))")
            }
        }
        if let extra = required.first { throw fail(table, "unexpected \(extra.displayName) after payload.index") }

        guard numbers.length % 8 == 0 else {
            throw fail("ids.numbers", "\(numbers.length) bytes is not a whole number of 8-byte ids")
        }
        guard uuids.length % 16 == 0 else {
            throw fail("ids.uuids", "\(uuids.length) bytes is not a whole number of 16-byte ids")
        }
        guard numbers.length / 8 + uuids.length / 16 == n else {
            throw fail(
                "ids.numbers",
                "\(numbers.length / 8) integer ids and \(uuids.length / 16) UUIDs do not make the header's \(n) points")
        }
        guard versions.length == 8 * n else {
            throw fail("versions", "\(versions.length) bytes; \(n) points need \(8 * n)")
        }
        guard indexSection.length % SegmentFormat.indexEntrySize == 0 else {
            throw fail(
                "payload.index",
                "\(indexSection.length) bytes is not a whole number of \(SegmentFormat.indexEntrySize)-byte entries")
        }

        // 6. Checksums of the small sections.
        for entry in sections
        where entry.kind == .idNumbers || entry.kind == .idUUIDs || entry.kind == .versions
            || entry.kind == .vectorPresence || entry.kind == .payloadIndex || entry.kind == .multiVectorOffsets
        {
            guard SegmentFormat.maskedCRC(bytes.slice(entry.offset, entry.length)) == entry.crc else {
                throw fail(entry.displayName, "checksum mismatch")
            }
        }

        // 7. Contents.
        let numberCount = numbers.length / 8
        if numberCount > 1 {
            var previous = bytes.loadLittleEndian(at: numbers.offset, as: UInt64.self)
            for i in 1..<numberCount {
                let id = bytes.loadLittleEndian(at: numbers.offset + 8 * i, as: UInt64.self)
                guard id > previous else {
                    throw fail(
                        "ids.numbers", "id \(id) at position \(i) does not follow \(previous) in ascending order")
                }
                previous = id
            }
        }
        let uuidCount = uuids.length / 16
        if uuidCount > 1 {
            var previous = UUIDKey(bytes, at: uuids.offset)
            for i in 1..<uuidCount {
                let id = UUIDKey(bytes, at: uuids.offset + 16 * i)
                guard previous < id else {
                    throw fail(
                        "ids.uuids", "the UUID at position \(i) does not follow the previous one in ascending order")
                }
                previous = id
            }
        }
        if n % 8 != 0 {
            for vector in vectors {
                let last = bytes[vector.presenceOffset + n / 8]
                guard last >> UInt8(n % 8) == 0 else {
                    throw fail("vectors[\(vector.spec.name)].presence", "bits beyond the last point are set")
                }
            }
        }
        let blocks = try parseIndex(bytes, indexSection, blocksSection, pointCount: n, file: file)
        var multiVectors: [String: MultiVector] = [:]
        for (name, (offsets, data)) in multiSections {
            let vector = vectors[vectorIndex[name]!]
            multiVectors[name] = try parseMultiVector(
                bytes, offsets, data, presenceOffset: vector.presenceOffset, datatype: vector.spec.datatype,
                pointCount: n, file: file)
        }

        return SegmentLayout(
            pointCount: n, codec: codec, numberCount: numberCount, numbersOffset: numbers.offset,
            uuidsOffset: uuids.offset, versionsOffset: versions.offset, vectors: vectors, vectorIndex: vectorIndex,
            payloadBlocksSection: sections.firstIndex { $0.kind == .payloadBlocks }!, graphSections: graphSections,
            quantizedSections: quantizedSections, fieldIndexSections: fieldIndexSections,
            sparseSections: sparseSections,
            multiVectors: multiVectors, blocks: blocks, sections: sections)
    }

    /// Checks a multivector's row starts: 0 first, non-decreasing, a point has
    /// rows exactly when its presence bit is set, and the last start times the
    /// dimension fills the data section.
    private static func parseMultiVector(
        _ bytes: UnsafeRawBufferPointer, _ offsets: SegmentFormat.SectionEntry, _ data: SegmentFormat.SectionEntry,
        presenceOffset: Int, datatype: VectorDatatype, pointCount n: Int, file: String
    ) throws(SegmentError) -> MultiVector {
        func fail(_ what: String) -> SegmentError { .corruption(file, offsets.displayName, what) }
        var previous = bytes.loadLittleEndian(at: offsets.offset, as: UInt64.self)
        guard previous == 0 else { throw fail("the first row start is \(previous), not 0") }
        for i in 0..<n {
            let next = bytes.loadLittleEndian(at: offsets.offset + 8 * (i + 1), as: UInt64.self)
            guard next >= previous else {
                throw fail("the row start of point offset \(i + 1) (\(next)) is below the previous one (\(previous))")
            }
            let present = bytes[presenceOffset + i >> 3] & (1 << UInt8(i & 7)) != 0
            guard present == (next > previous) else {
                throw fail("point offset \(i) has \(next - previous) rows but its presence bit is \(present ? 1 : 0)")
            }
            previous = next
        }
        let (floats, o1) = Int(clamping: previous).multipliedReportingOverflow(by: offsets.dimension)
        let (length, o2) = floats.multipliedReportingOverflow(by: datatype.bytesPerElement)
        guard previous <= UInt64(Int.max), !o1, !o2, length == data.length else {
            throw SegmentError.corruption(
                file, data.displayName,
                "\(data.length) bytes; \(previous) rows × \(offsets.dimension) \(datatype.rawValue) values need \(previous) × \(offsets.dimension) × \(datatype.bytesPerElement)"
            )
        }
        return MultiVector(
            dimension: offsets.dimension, datatype: datatype, offsetsOffset: offsets.offset, dataOffset: data.offset,
            rowCount: Int(previous))
    }

    private static func parseIndex(
        _ bytes: UnsafeRawBufferPointer, _ index: SegmentFormat.SectionEntry,
        _ blocksSection: SegmentFormat.SectionEntry,
        pointCount n: Int, file: String
    ) throws(SegmentError) -> [SegmentFormat.BlockEntry] {
        func fail(_ what: String) -> SegmentError { .corruption(file, "payload.index", what) }
        let count = index.length / SegmentFormat.indexEntrySize
        guard n > 0 || count == 0 else { throw fail("\(count) payload blocks in a segment without points") }
        guard n == 0 || count > 0 else { throw fail("no payload blocks for \(n) points") }
        guard count <= n else { throw fail("\(count) payload blocks for \(n) points") }
        var blocks: [SegmentFormat.BlockEntry] = []
        blocks.reserveCapacity(count)
        var nextOffset = blocksSection.offset
        let sectionEnd = blocksSection.offset + blocksSection.length
        for b in 0..<count {
            let at = index.offset + b * SegmentFormat.indexEntrySize
            let firstPoint = bytes.loadLittleEndian(at: at, as: UInt64.self)
            let blockOffset = bytes.loadLittleEndian(at: at + 8, as: UInt64.self)
            let compressedLength = Int(bytes.loadLittleEndian(at: at + 16, as: UInt32.self))
            let rawLength = Int(bytes.loadLittleEndian(at: at + 20, as: UInt32.self))
            let crc = bytes.loadLittleEndian(at: at + 24, as: UInt32.self)
            guard bytes.loadLittleEndian(at: at + 28, as: UInt32.self) == 0 else {
                throw fail("entry \(b): reserved bytes are not zero")
            }
            if b == 0 {
                guard firstPoint == 0 else { throw fail("block 0 starts at point \(firstPoint), not 0") }
            } else {
                guard firstPoint > UInt64(blocks[b - 1].firstPoint), firstPoint < UInt64(n) else {
                    throw fail(
                        "block \(b) starts at point \(firstPoint), not after block \(b - 1) (point \(blocks[b - 1].firstPoint)) and before \(n)"
                    )
                }
            }
            guard blockOffset == UInt64(nextOffset), compressedLength <= sectionEnd - nextOffset else {
                throw fail(
                    "block \(b) at offset \(blockOffset), \(compressedLength) bytes, does not continue payload.blocks at \(nextOffset) inside its end \(sectionEnd)"
                )
            }
            guard rawLength <= SegmentFormat.maxBlockRawSize else {
                throw fail(
                    "block \(b) claims \(rawLength) raw bytes, more than the limit \(SegmentFormat.maxBlockRawSize)")
            }
            blocks.append(
                SegmentFormat.BlockEntry(
                    firstPoint: Int(firstPoint), blockOffset: nextOffset, compressedLength: compressedLength,
                    rawLength: rawLength, crc: crc))
            nextOffset += compressedLength
        }
        guard nextOffset == sectionEnd else {
            throw fail("the blocks end at \(nextOffset) but payload.blocks ends at \(sectionEnd)")
        }
        for b in 0..<count {
            let points = (b + 1 < count ? blocks[b + 1].firstPoint : n) - blocks[b].firstPoint
            guard blocks[b].rawLength >= 4 * points else {
                throw fail(
                    "block \(b) of \(points) points claims \(blocks[b].rawLength) raw bytes, less than its entry table")
            }
        }
        return blocks
    }
}

/// A UUID's 16 bytes as two big-endian halves, so that comparing keys compares
/// the bytes lexicographically (the order of `PointID`s and of `ids.uuids`).
struct UUIDKey: Comparable {
    var high: UInt64
    var low: UInt64

    @inline(__always)
    init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
    }

    init(_ uuid: uuid_t) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: uuid) { raw in
            high = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        self.high = high
        self.low = low
    }

    static func < (a: UUIDKey, b: UUIDKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
