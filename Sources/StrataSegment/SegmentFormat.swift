import StrataBinary
import StrataCompression

/// Constants and fixed byte layouts of a segment file, as specified in
/// `docs/format/segment.md`. Nothing else in the module hard-codes an offset.
enum SegmentFormat {
    static let magic: [UInt8] = Array("STRATSEG".utf8)
    static let footerMagic: [UInt8] = Array("STRATEND".utf8)
    /// The version of files whose vectors are all `float32`: version 1, so
    /// such files stay readable by builds that predate version 2.
    static let version: UInt32 = 1
    /// Version 2 adds the element type of vector data (kinds 5 and 14) in the
    /// table entry's last field; written only when some vector is not `float32`.
    static let compactVectorsVersion: UInt32 = 2
    static let readableVersions: ClosedRange<UInt32> = 1...2

    static let headerSize = 64
    static let headerCRCOffset = 60
    static let footerSize = 40
    static let tableHeaderSize = 8
    static let tableEntryFixedSize = 32
    static let indexEntrySize = 32
    /// Every section starts at a multiple of this.
    static let sectionAlignment = 64
    /// The smallest possible file: header, an empty table, footer.
    static let minimumFileSize = headerSize + tableHeaderSize + footerSize

    static let maxPointCount = Int(UInt32.max)
    static let maxVectorNameBytes = 255
    static let maxDimension = 65536
    /// Largest raw payload block written or believed (bounds decompression allocations).
    static let maxBlockRawSize = 256 << 20
    /// The writer closes a payload block once its raw size reaches this.
    static let targetBlockRawSize = 64 << 10
    /// Kinds at or above this are ancillary: unknown ones are skipped, not refused.
    static let firstAncillaryKind: UInt16 = 0x8000

    /// `value` rounded up to a multiple of 64. Only for values far below `Int.max`.
    static func align(_ value: Int) -> Int {
        (value + sectionAlignment - 1) / sectionAlignment * sectionAlignment
    }

    static func maskedCRC(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRC32C.mask(CRC32C.checksum(bytes))
    }

    // MARK: Header

    static func encodeHeader(pointCount: Int, codec: CompressionCodec, version: UInt32) -> [UInt8] {
        var writer = ByteWriter(capacity: headerSize)
        writer.write(contentsOf: magic)
        writer.write(version)
        writer.write(UInt32(0))  // flags
        writer.write(UInt64(pointCount))
        writer.write(codec.rawValue)
        writer.write(contentsOf: [UInt8](repeating: 0, count: headerCRCOffset - 25))
        let crc = writer.bytes.withUnsafeBytes { maskedCRC($0) }
        writer.write(crc)
        return writer.bytes
    }

    // MARK: Footer

    struct Footer: Equatable {
        var tableOffset: UInt64
        var tableLength: UInt64
        var fileLength: UInt64
        var tableCRC: UInt32
    }

    static func encodeFooter(_ footer: Footer) -> [UInt8] {
        var writer = ByteWriter(capacity: footerSize)
        writer.write(footer.tableOffset)
        writer.write(footer.tableLength)
        writer.write(footer.fileLength)
        writer.write(footer.tableCRC)
        let crc = writer.bytes.withUnsafeBytes { maskedCRC($0) }
        writer.write(crc)
        writer.write(contentsOf: footerMagic)
        return writer.bytes
    }

    // MARK: Section table

    /// A section's kind, as stored in the table (an open set: unknown kinds exist).
    struct Kind: RawRepresentable, Hashable {
        let rawValue: UInt16
        static let idNumbers = Kind(rawValue: 1)
        static let idUUIDs = Kind(rawValue: 2)
        static let versions = Kind(rawValue: 3)
        static let vectorPresence = Kind(rawValue: 4)
        static let vectorData = Kind(rawValue: 5)
        static let payloadBlocks = Kind(rawValue: 6)
        static let payloadIndex = Kind(rawValue: 7)
        static let hnswGraph = Kind(rawValue: 8)
        static let quantizedVectors = Kind(rawValue: 9)
        static let fieldIndex = Kind(rawValue: 10)
        static let sparseVectors = Kind(rawValue: 11)
        static let sparseIndex = Kind(rawValue: 12)
        static let multiVectorOffsets = Kind(rawValue: 13)
        static let multiVectorData = Kind(rawValue: 14)

        /// Kinds whose table entry names a vector and carries its dimension.
        var isVector: Bool {
            self == .vectorPresence || self == .vectorData || self == .multiVectorOffsets || self == .multiVectorData
        }
        var isVectorIndex: Bool { self == .hnswGraph || self == .quantizedVectors }
        var isAncillary: Bool { rawValue >= SegmentFormat.firstAncillaryKind }
    }

    /// One entry of the section table.
    struct SectionEntry: Equatable {
        var kind: Kind
        var name: String
        var dimension: Int
        var offset: Int
        var length: Int
        var crc: UInt32
        /// Version 2, kinds 5 and 14: the `VectorDatatype.formatCode` of the
        /// rows; 0 (reserved) everywhere else.
        var elementType: UInt32 = 0

        /// The name used in errors and statistics (docs/format/segment.md).
        var displayName: String { SegmentFormat.displayName(kind: kind, vectorName: name) }
    }

    static func displayName(kind: Kind, vectorName: String) -> String {
        switch kind {
        case .idNumbers: "ids.numbers"
        case .idUUIDs: "ids.uuids"
        case .versions: "versions"
        case .vectorPresence: "vectors[\(vectorName)].presence"
        case .vectorData: "vectors[\(vectorName)].data"
        case .payloadBlocks: "payload.blocks"
        case .payloadIndex: "payload.index"
        case .hnswGraph: "hnsw[\(vectorName)]"
        case .quantizedVectors: "quantized[\(vectorName)]"
        case .fieldIndex: "payload_index[\(vectorName)]"
        case .sparseVectors: "sparse[\(vectorName)].vectors"
        case .sparseIndex: "sparse[\(vectorName)].index"
        case .multiVectorOffsets: "multivector[\(vectorName)].offsets"
        case .multiVectorData: "multivector[\(vectorName)].data"
        default: "section kind 0x" + String(kind.rawValue, radix: 16)
        }
    }

    static func encodeTable(_ entries: [SectionEntry]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(UInt32(entries.count))
        writer.write(UInt32(0))
        for entry in entries {
            let name = Array(entry.name.utf8)
            writer.write(entry.kind.rawValue)
            writer.write(UInt16(name.count))
            writer.write(UInt32(entry.dimension))
            writer.write(UInt64(entry.offset))
            writer.write(UInt64(entry.length))
            writer.write(entry.crc)
            writer.write(entry.elementType)
            writer.write(contentsOf: name)
        }
        return writer.bytes
    }

    // MARK: Payload index

    /// One entry of `payload.index`.
    struct BlockEntry: Equatable {
        var firstPoint: Int
        var blockOffset: Int
        var compressedLength: Int
        var rawLength: Int
        var crc: UInt32
    }

    static func append(_ entry: BlockEntry, to writer: inout ByteWriter) {
        writer.write(UInt64(entry.firstPoint))
        writer.write(UInt64(entry.blockOffset))
        writer.write(UInt32(entry.compressedLength))
        writer.write(UInt32(entry.rawLength))
        writer.write(entry.crc)
        writer.write(UInt32(0))
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset`; the caller has bounds-checked it.
    @inline(__always)
    func loadLittleEndian<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Bytes `range` as a buffer; the caller has bounds-checked it.
    @inline(__always)
    func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset..<(offset + count)])
    }
}
