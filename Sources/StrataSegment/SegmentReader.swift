import Foundation
import StrataBinary
import StrataCompression
import StrataIO
import StrataModel
import StrataVectorMath

// Invariants (established by `open`, never changed afterwards):
// - `region` maps the whole file, read-only, for the reader's lifetime; `bytes`
//   is its buffer, and every offset in `layout` satisfies the invariants listed at
//   the top of SegmentLayout.swift, so accessors address `bytes` without checks
//   beyond the caller's `offset` precondition;
// - the mapping's base address is 64-byte aligned (mmap returns a page, the
//   fault-injecting file system a 64-byte aligned copy), so vector data, which
//   starts at a file offset that is a multiple of 64, is aligned for `Float`;
// - everything except `cache` is immutable.

/// A read-only, memory-mapped immutable segment (docs/format/segment.md).
///
/// Lifetime: the mapping lives as long as the reader; pointers handed to
/// `withVectors` are valid only inside its closure. The file must not be
/// modified or truncated while a reader has it mapped (segments are immutable;
/// truncating a mapped file turns a later access into `SIGBUS`).
///
/// Thread safety: every method may be called from any thread concurrently; the
/// only mutable state, the last decompressed payload block, is guarded by a lock.
public final class SegmentReader: @unchecked Sendable {
    // SAFETY: `bytes` points into `region`, which this object owns and releases only
    // in its deinit, so `bytes` is valid whenever a method of `self` runs; it is
    // never handed out except to closures that run while `self` is alive
    // (`withVectors` keeps `self` alive across its body). The mapping is read-only.
    // Every other stored property is an immutable `let` of a Sendable type.
    private let region: MappedRegion
    private let bytes: UnsafeRawBufferPointer
    let layout: SegmentLayout
    /// Guards the last decompressed payload block.
    private let cache = Locked<(block: Int, raw: [UInt8])?>(nil)

    /// The segment file's path, as given to `open`.
    public let path: String

    /// Maps the file and checks its size, header, footer, section table and the
    /// table's checksum, every section's bounds and alignment, and the checksums
    /// and contents of the small sections (ids, versions, vector presence, payload
    /// block index); not the vector data and payload blocks (see `verifyAll`).
    /// Reads ~16 bytes per point plus 1 bit per point and vector.
    ///
    /// - Throws: `SegmentError` `.corruption` (or `.unsupportedVersion`) naming
    ///   the file and section; `.io` when the file cannot be opened or mapped.
    public static func open(path: String, fileSystem: any FileSystem) throws -> SegmentReader {
        let region: MappedRegion
        do {
            let file = try fileSystem.open(path, mode: .readOnly)
            let size = try file.size()
            guard size <= UInt64(Int.max) else {
                throw SegmentError.corruption(path, "footer", "the file is \(size) bytes, too large to map")
            }
            guard size > 0 else {
                throw SegmentError.corruption(
                    path, "header", "the file is empty (never written, or lost before it was synced)")
            }
            region = try file.map(offset: 0, length: Int(size))
        } catch {
            throw wrap(error, path, "opening segment")
        }
        return try SegmentReader(region: region, path: path)
    }

    private init(region: consuming MappedRegion, path: String) throws(SegmentError) {
        let bytes = region.withUnsafeBytes { $0 }
        precondition(
            Int(bitPattern: bytes.baseAddress) % SegmentFormat.sectionAlignment == 0,
            "the file system mapped \(path) at an address that is not 64-byte aligned")
        self.layout = try SegmentLayout.parse(bytes, file: path)
        self.region = region
        self.bytes = bytes
        self.path = path
    }

    // MARK: - Points

    public var pointCount: Int { layout.pointCount }

    /// The vector names and dimensions, in the order the writer was given them.
    public var vectorSpecs: [SegmentVectorSpec] { layout.vectors.map(\.spec) }

    /// The codec of the payload blocks.
    public var payloadCodec: CompressionCodec { layout.codec }

    /// The internal offset (rank) of `id`, or nil if the segment does not hold it.
    /// O(log n), on the mapping.
    public func offset(of id: PointID) -> Int? {
        switch id {
        case .number(let number):
            var low = 0
            var high = layout.numberCount
            while low < high {
                let mid = (low + high) / 2
                let value = bytes.loadLittleEndian(at: layout.numbersOffset + 8 * mid, as: UInt64.self)
                if value == number { return mid }
                if value < number { low = mid + 1 } else { high = mid }
            }
            return nil
        case .uuid(let uuid):
            let key = UUIDKey(uuid.uuid)
            var low = 0
            var high = layout.pointCount - layout.numberCount
            while low < high {
                let mid = (low + high) / 2
                let value = UUIDKey(bytes, at: layout.uuidsOffset + 16 * mid)
                if value == key { return layout.numberCount + mid }
                if value < key { low = mid + 1 } else { high = mid }
            }
            return nil
        }
    }

    /// The id of the point at `offset`. Precondition: `0 <= offset < pointCount`.
    public func id(at offset: Int) -> PointID {
        checkOffset(offset)
        if offset < layout.numberCount {
            return .number(bytes.loadLittleEndian(at: layout.numbersOffset + 8 * offset, as: UInt64.self))
        }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) {
            $0.copyMemory(from: bytes.slice(layout.uuidsOffset + 16 * (offset - layout.numberCount), 16))
        }
        return .uuid(UUID(uuid: uuid))
    }

    /// The version (op number) of the point at `offset`. Precondition: offset in range.
    public func version(at offset: Int) -> UInt64 {
        checkOffset(offset)
        return bytes.loadLittleEndian(at: layout.versionsOffset + 8 * offset, as: UInt64.self)
    }

    // MARK: - Vectors

    /// Whether the point at `offset` has vector `name` (false for an unknown name).
    /// Precondition: offset in range.
    public func hasVector(_ name: String, at offset: Int) -> Bool {
        checkOffset(offset)
        guard let index = layout.vectorIndex[name] else { return false }
        let byte = bytes[layout.vectors[index].presenceOffset + offset >> 3]
        return byte & (1 << UInt8(offset & 7)) != 0
    }

    /// Calls `body` with the rows of vector `name` straight from the mapping,
    /// in their stored element type (row i at `rows.base + i × rows.rowBytes`;
    /// rows of absent vectors are zeros); nil if the segment has no vector of
    /// that name.
    ///
    /// The pointer is valid only inside `body`: do not store it or let it escape.
    /// It is 64-byte aligned.
    public func withVectorRows<R>(_ name: String, _ body: (VectorRows) throws -> R) rethrows -> R? {
        guard let index = layout.vectorIndex[name] else { return nil }
        let vector = layout.vectors[index]
        // SAFETY: layout invariant: n rows of the datatype at dataOffset, aligned;
        // the mapping is read-only.
        return try withExtendedLifetime(self) {
            try body(
                VectorRows(
                    base: UnsafeRawPointer(bytes.baseAddress! + vector.dataOffset), count: layout.pointCount,
                    dimension: vector.spec.dimension, datatype: vector.spec.datatype))
        }
    }

    /// Calls `body` with the row-major `float32` vectors of `name` straight from
    /// the mapping (row i at `base + i * dimension`; rows of absent vectors are
    /// zeros) and the dimension; nil if the segment has no vector of that name
    /// or stores it in another datatype (see `withVectorRows`).
    ///
    /// The pointer is valid only inside `body`: do not store it or let it escape.
    /// It addresses `pointCount * dimension` floats, 64-byte aligned.
    public func withVectors<R>(_ name: String, _ body: (UnsafePointer<Float>, Int) throws -> R) rethrows -> R? {
        guard let index = layout.vectorIndex[name], layout.vectors[index].spec.datatype == .float32 else { return nil }
        let vector = layout.vectors[index]
        let dimension = vector.spec.dimension
        // SAFETY: layout invariant: n × dimension floats at dataOffset, aligned; the
        // mapping is read-only and typed access as Float is the only use of the
        // rebound memory during `body`.
        return try withExtendedLifetime(self) {
            try (bytes.baseAddress! + vector.dataOffset).withMemoryRebound(
                to: Float.self, capacity: layout.pointCount * dimension
            ) { try body($0, dimension) }
        }
    }

    /// The bytes of vector `name`'s index section of `kind` straight from the
    /// mapping, or nil if the segment has none. Opening checked only its bounds
    /// (its checksum is checked by `verifyAll`).
    ///
    /// The buffer is valid as long as this reader is alive: keep the reader
    /// referenced (e.g. pass it as the owner) while using it.
    public func indexSection(_ kind: SegmentVectorIndex.Kind, vector name: String) -> UnsafeRawBufferPointer? {
        let sections = kind == .hnswGraph ? layout.graphSections : layout.quantizedSections
        guard let index = sections[name] else { return nil }
        let entry = layout.sections[index]
        return UnsafeRawBufferPointer(rebasing: bytes[entry.offset..<(entry.offset + entry.length)])
    }

    /// Drops this process's resident pages of vector `name`'s index section of
    /// `kind` (after its contents were copied into RAM); see `MappedRegion.releasePages`.
    public func releaseIndexSectionPages(_ kind: SegmentVectorIndex.Kind, vector name: String) {
        let sections = kind == .hnswGraph ? layout.graphSections : layout.quantizedSections
        guard let index = sections[name] else { return }
        let entry = layout.sections[index]
        region.releasePages(entry.offset..<(entry.offset + entry.length))
    }

    /// Tells the kernel that reads of this segment will be scattered (graph
    /// walks): page faults read only the pages needed, no read-ahead.
    public func adviseRandomAccess() { region.adviseRandomAccess() }

    /// The field keys that have a `payload_index[<key>]` section.
    public var fieldIndexKeys: [String] { layout.fieldIndexSections.keys.sorted() }

    /// The bytes of the payload field index of `key`, after checking the
    /// section's checksum (the caller decodes all of it anyway), valid while
    /// the reader lives. Throws `.corruption` naming the file and section.
    public func fieldIndexSection(_ key: String) throws(SegmentError) -> UnsafeRawBufferPointer? {
        guard let index = layout.fieldIndexSections[key] else { return nil }
        let entry = layout.sections[index]
        let section = UnsafeRawBufferPointer(rebasing: bytes[entry.offset..<(entry.offset + entry.length)])
        guard SegmentFormat.maskedCRC(section) == entry.crc else {
            throw SegmentError(
                code: .corruption, file: path, section: entry.displayName,
                message: "segment \(path), section \(entry.displayName): checksum mismatch")
        }
        return section
    }

    /// The sparse vector names that have sections in this segment.
    public var sparseVectorNames: [String] { layout.sparseSections.keys.sorted() }

    /// The checked sections of sparse vector `name` (checksums verified here,
    /// contents by the views), valid while the reader lives; nil if the
    /// segment has none. Throws `.corruption` naming the file and section.
    public func sparseSections(
        _ name: String
    ) throws(SegmentError) -> (vectors: SparseVectorsView, index: SparseIndexView)? {
        guard let (vectorsIndex, indexIndex) = layout.sparseSections[name] else { return nil }
        func checked(_ i: Int) throws(SegmentError) -> UnsafeRawBufferPointer {
            let entry = layout.sections[i]
            let section = UnsafeRawBufferPointer(rebasing: bytes[entry.offset..<(entry.offset + entry.length)])
            guard SegmentFormat.maskedCRC(section) == entry.crc else {
                throw SegmentError(
                    code: .corruption, file: path, section: entry.displayName,
                    message: "segment \(path), section \(entry.displayName): checksum mismatch")
            }
            return section
        }
        let vectorsBytes = try checked(vectorsIndex)
        let indexBytes = try checked(indexIndex)
        let vectors: SparseVectorsView
        let index: SparseIndexView
        do {
            vectors = try SparseVectorsView(vectorsBytes, pointCount: layout.pointCount)
        } catch {
            throw .corruption(path, layout.sections[vectorsIndex].displayName, error.message)
        }
        do {
            index = try SparseIndexView(indexBytes, pointCount: layout.pointCount)
        } catch {
            throw .corruption(path, layout.sections[indexIndex].displayName, error.message)
        }
        return (vectors, index)
    }

    /// The vector names stored as multivectors (kinds 13 and 14).
    public var multiVectorNames: [String] { layout.multiVectors.keys.sorted() }

    /// Calls `body` with the rows of multivector `name` of the point at
    /// `offset` (row-major, `rows × dimension` floats: straight from the
    /// mapping for `float32`, decoded into a temporary buffer for the compact
    /// datatypes) and the row count; nil if the segment holds no multivector of
    /// that name. A point without the vector has 0 rows. Open checked the row
    /// starts; the rows' checksum is checked by `verifyAll`/`verifyVectorData`.
    /// The pointer is valid only inside `body`. Precondition: offset in range.
    public func withMultiVectorRows<R>(
        _ name: String, at offset: Int, _ body: (UnsafeBufferPointer<Float>, Int) throws -> R
    ) rethrows -> R? {
        checkOffset(offset)
        guard let multi = layout.multiVectors[name] else { return nil }
        let start = Int(bytes.loadLittleEndian(at: multi.offsetsOffset + 8 * offset, as: UInt64.self))
        let end = Int(bytes.loadLittleEndian(at: multi.offsetsOffset + 8 * (offset + 1), as: UInt64.self))
        if multi.datatype != .float32 {
            let count = (end - start) * multi.dimension
            let rows = withExtendedLifetime(self) {
                multi.datatype.decode(
                    bytes.baseAddress! + multi.dataOffset + start * multi.dimension * multi.datatype.bytesPerElement,
                    count: count)
            }
            return try rows.withUnsafeBufferPointer { try body($0, end - start) }
        }
        // SAFETY: layout invariant: row starts ascend to rowCount and rowCount ×
        // dimension floats lie at dataOffset (64-byte aligned); the mapping is read-only.
        return try withExtendedLifetime(self) {
            try (bytes.baseAddress! + multi.dataOffset).withMemoryRebound(
                to: Float.self, capacity: multi.rowCount * multi.dimension
            ) {
                try body(
                    UnsafeBufferPointer(start: $0 + start * multi.dimension, count: (end - start) * multi.dimension),
                    end - start)
            }
        }
    }

    /// A copy of vector `name` of the point at `offset`; nil if the segment has no
    /// such vector name or the point has no such vector. Precondition: offset in range.
    public func vector(_ name: String, at offset: Int) -> [Float]? {
        checkOffset(offset)
        guard let index = layout.vectorIndex[name], hasVector(name, at: offset) else { return nil }
        let vector = layout.vectors[index]
        let dimension = vector.spec.dimension
        let rowBytes = vector.spec.datatype.bytesPerElement * dimension
        return vector.spec.datatype.decode(bytes.baseAddress! + vector.dataOffset + rowBytes * offset, count: dimension)
    }

    // MARK: - Payloads

    /// The payload of the point at `offset`; nil when it has none.
    ///
    /// Decompresses the point's payload block (after checking its CRC; the last
    /// block is cached) and decodes one entry. Precondition: offset in range.
    /// - Throws: `SegmentError` `.corruption` naming the file, `payload.blocks` and
    ///   the block, when the block fails its checksum, does not decompress to its
    ///   raw size, or the entry does not decode.
    public func payload(at offset: Int) throws -> Payload? {
        checkOffset(offset)
        let block = layout.block(holding: offset)
        let raw = try rawBlock(block)
        let points = layout.pointRange(ofBlock: block)
        let decoded = raw.withUnsafeBytes { raw in
            let range = PayloadBlock.entryRange(raw, pointCount: points.count, entry: offset - points.lowerBound)
            return Result { () throws(FormatError) in
                try PayloadBlock.decodeEntry(raw.slice(range.lowerBound, range.count))
            }
        }
        switch decoded {
        case .success(let payload):
            return payload
        case .failure(let error):
            throw blockError(
                block, "the payload of point \(id(at: offset)) (offset \(offset)) does not decode: \(error)")
        }
    }

    /// The decompressed, checked bytes of payload block `b`, from the cache or the file.
    func rawBlock(_ b: Int) throws(SegmentError) -> [UInt8] {
        if let cached = cache.withLock({ $0 }), cached.block == b { return cached.raw }
        let raw = try decodeBlock(b)
        cache.withLock { $0 = (b, raw) }
        return raw
    }

    /// Checks block `b`'s CRC, decompresses it and checks its entry table.
    func decodeBlock(_ b: Int) throws(SegmentError) -> [UInt8] {
        let entry = layout.blocks[b]
        let compressed = bytes.slice(entry.blockOffset, entry.compressedLength)
        guard SegmentFormat.maskedCRC(compressed) == entry.crc else {
            throw blockError(b, "block checksum mismatch")
        }
        let raw: [UInt8]
        do {
            raw = try Compression.decompress(compressed, codec: layout.codec, decompressedSize: entry.rawLength)
        } catch {
            throw blockError(b, "the block does not decompress to its \(entry.rawLength) bytes: \(error)")
        }
        let tableProblem = raw.withUnsafeBytes { raw in
            Result { () throws(FormatError) in
                try PayloadBlock.checkTable(raw, pointCount: layout.pointRange(ofBlock: b).count)
            }
        }
        if case .failure(let error) = tableProblem { throw blockError(b, "bad entry table: \(error)") }
        return raw
    }

    func blockError(_ b: Int, _ what: String) -> SegmentError {
        let entry = layout.blocks[b]
        let points = layout.pointRange(ofBlock: b)
        return .corruption(
            path, "payload.blocks", block: b,
            "\(what) (points \(points.lowerBound)..<\(points.upperBound), file offset \(entry.blockOffset), \(entry.compressedLength) bytes)"
        )
    }

    // MARK: - Statistics

    /// Every section's name (docs/format/segment.md) and length, in file order.
    public var sectionSizes: [(name: String, bytes: Int)] {
        layout.sections.map { ($0.displayName, $0.length) }
    }

    /// Every section's name and byte range in the file, in file order (tools, tests).
    public var sectionRanges: [(name: String, range: Range<Int>)] {
        layout.sections.map { ($0.displayName, $0.offset..<($0.offset + $0.length)) }
    }

    /// Size of all payload blocks decompressed.
    public var payloadRawBytes: Int { layout.blocks.reduce(0) { $0 + $1.rawLength } }

    /// Size of all payload blocks as stored.
    public var payloadCompressedBytes: Int { layout.sections[layout.payloadBlocksSection].length }

    public var payloadBlockCount: Int { layout.blocks.count }

    /// Whether some point of the segment has a payload (`{}` included). A
    /// block decompresses to a 4-byte end offset per point followed by the
    /// entries, and only a point without a payload has an empty entry
    /// (docs/format/segment.md), so anything beyond the offsets is a payload.
    public var holdsPayloads: Bool { payloadRawBytes > 4 * pointCount }

    /// Size of the file.
    public var fileBytes: Int { bytes.count }

    @inline(__always)
    private func checkOffset(_ offset: Int) {
        precondition(
            offset >= 0 && offset < layout.pointCount, "point offset \(offset) is outside 0..<\(layout.pointCount)")
    }

    /// The mapped bytes, for verification (valid while `self` is alive).
    var mappedBytes: UnsafeRawBufferPointer { bytes }
}
