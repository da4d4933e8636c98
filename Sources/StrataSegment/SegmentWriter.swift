import Foundation
import StrataBinary
import StrataCompression
import StrataIO
import StrataModel
import StrataVectorMath

/// Writes immutable segment files (docs/format/segment.md).
public enum SegmentWriter {
    /// Writes a complete segment file at `path` from `points`, then `fsync`s it.
    ///
    /// Does not rename the file or sync its directory: the caller publishes it
    /// (write under a temporary name, rename, sync the directory, record it in the
    /// manifest). On failure the partial file is removed (best effort) and the
    /// error thrown; a crash can still leave a partial file, which
    /// `SegmentReader.open` refuses.
    ///
    /// - Parameters:
    ///   - points: sorted by id (`PointID`'s `<`), ids unique; at most 2^32 − 1.
    ///   - vectors: the segment's vector names (unique, ≤ 255 UTF-8 bytes) and
    ///     dimensions (1…65536), stored in this order. Every point's vectors must be
    ///     named here and have exactly that dimension. Payload numbers must be
    ///     finite; each encoded payload at most 256 MiB.
    ///   - compression: codec of the payload blocks.
    ///   - indexes: graph and quantization sections, at most one of each kind per
    ///     vector name of `vectors`; stored as given (the writer only checksums them).
    ///   - path: must not exist (the file is created with `.createNew`).
    /// - Throws: `SegmentError` `.invalidArgument` for input breaking the rules above
    ///   (nothing is created), `.io` when the file system fails (`cause`).
    /// - Complexity: O(total bytes); memory: a 1 MiB write buffer, one payload block,
    ///   the presence bitmaps and the payload index. Blocking: call it off the
    ///   cooperative async pool.
    @discardableResult
    public static func write(
        _ points: [SegmentBuildPoint], vectors: [SegmentVectorSpec], compression: CompressionCodec = .zstd,
        indexes: [SegmentVectorIndex] = [], fieldIndexes: [SegmentFieldIndex] = [], sparseVectors: [String] = [],
        multiVectors: [String] = [], to path: String, fileSystem: any FileSystem
    ) throws -> SegmentWriteStats {
        try write(
            points, vectors: vectors, compression: compression, indexes: indexes, fieldIndexes: fieldIndexes,
            sparseVectors: sparseVectors, multiVectors: multiVectors, to: path, fileSystem: fileSystem,
            bufferSize: 1 << 20)
    }

    /// `write` with the write-buffer size exposed, so tests can make a small
    /// segment take many writes (and crash between them).
    static func write(
        _ points: [SegmentBuildPoint], vectors specs: [SegmentVectorSpec], compression: CompressionCodec,
        indexes: [SegmentVectorIndex] = [], fieldIndexes: [SegmentFieldIndex] = [],
        sparseVectors sparseNames: [String] = [],
        multiVectors multiNames: [String] = [], to path: String, fileSystem: any FileSystem, bufferSize: Int
    ) throws(SegmentError) -> SegmentWriteStats {
        try validate(points, specs, path)
        try validateMultiVectors(points, specs, multiNames, path)
        guard Set(sparseNames).count == sparseNames.count,
            sparseNames.allSatisfy({ $0.utf8.count <= SegmentFormat.maxVectorNameBytes })
        else {
            throw .invalidArgument(path, "sparse vector names must be unique and at most 255 bytes")
        }
        for point in points {
            for (name, vector) in point.sparseVectors {
                guard sparseNames.contains(name) else {
                    throw .invalidArgument(
                        path,
                        "point \(point.id) has sparse vector \"\(name)\", which is not in the segment's sparse vectors")
                }
                guard vector.isCanonical, vector.values.allSatisfy(\.isFinite) else {
                    throw .invalidArgument(
                        path,
                        "point \(point.id): sparse vector \"\(name)\" is not canonical (sorted unique indices, finite values)"
                    )
                }
            }
        }
        var seenKeys = Set<String>()
        for index in fieldIndexes {
            guard !index.key.isEmpty, index.key.utf8.count <= SegmentFormat.maxVectorNameBytes,
                seenKeys.insert(index.key).inserted
            else {
                throw .invalidArgument(
                    path, "payload field index \"\(index.key)\" has an empty or over-long key, or appears twice")
            }
        }
        var seen = Set<String>()
        for index in indexes {
            guard specs.contains(where: { $0.name == index.vectorName }),
                seen.insert("\(index.kind):\(index.vectorName)").inserted
            else {
                throw .invalidArgument(
                    path,
                    "index section \(index.kind) for vector \"\(index.vectorName)\" names no vector of the segment or appears twice"
                )
            }
        }
        let file: any StorageFile
        do {
            file = try fileSystem.open(path, mode: .createNew)
        } catch {
            throw wrap(error, path, "creating segment")
        }
        do throws(SegmentError) {
            var stream = SegmentFileStream(file: file, bufferSize: bufferSize)
            let stats = try writeContents(
                points, specs, compression, indexes, fieldIndexes, sparseNames, multiNames, &stream, path)
            try stream.flush()
            do {
                try file.sync()
            } catch {
                throw wrap(error, path, "syncing segment")
            }
            return stats
        } catch {
            // Never leave a partial file behind under a name a caller might publish.
            try? fileSystem.removeFile(path)
            throw error
        }
    }

    // MARK: - Sections

    private static func writeContents(
        _ points: [SegmentBuildPoint], _ specs: [SegmentVectorSpec], _ codec: CompressionCodec,
        _ indexes: [SegmentVectorIndex], _ fieldIndexes: [SegmentFieldIndex], _ sparseNames: [String],
        _ multiNames: [String],
        _ stream: inout SegmentFileStream, _ path: String
    ) throws(SegmentError) -> SegmentWriteStats {
        let n = points.count
        var table: [SegmentFormat.SectionEntry] = []
        let version =
            specs.allSatisfy { $0.datatype == .float32 } ? SegmentFormat.version : SegmentFormat.compactVectorsVersion
        try stream.writeRaw(SegmentFormat.encodeHeader(pointCount: n, codec: codec, version: version))

        // ids.numbers, ids.uuids: PointID order puts every number before every UUID.
        stream.beginSection()
        for point in points {
            if case .number(let number) = point.id { try stream.write(number) }
        }
        table.append(stream.endSection(.idNumbers))
        stream.beginSection()
        for point in points {
            if case .uuid(let uuid) = point.id {
                withUnsafeBytes(of: uuid.uuid) { stream.addToSection($0) }
                try stream.flushIfFull()
            }
        }
        table.append(stream.endSection(.idUUIDs))

        stream.beginSection()
        for point in points { try stream.write(point.version) }
        table.append(stream.endSection(.versions))

        for spec in specs {
            var presence = [UInt8](repeating: 0, count: (n + 7) / 8)
            for (index, point) in points.enumerated() where point.vectors[spec.name] != nil {
                presence[index >> 3] |= 1 << UInt8(index & 7)
            }
            stream.beginSection()
            try stream.write(presence)
            table.append(stream.endSection(.vectorPresence, name: spec.name, dimension: spec.dimension))

            let zeroRow = [Float](repeating: 0, count: spec.dimension)
            stream.beginSection()
            var encoded: [UInt8] = []
            for point in points {
                try stream.writeRows(point.vectors[spec.name] ?? zeroRow, as: spec.datatype, scratch: &encoded)
            }
            var dataEntry = stream.endSection(.vectorData, name: spec.name, dimension: spec.dimension)
            dataEntry.elementType = spec.datatype.formatCode
            table.append(dataEntry)
        }

        // payload.blocks, collecting payload.index.
        var index = ByteWriter()
        var blockCount = 0
        var rawTotal = 0
        var builder = PayloadBlock.Builder()
        var firstPoint = 0
        stream.beginSection()
        func flushBlock() throws(SegmentError) {
            let raw = builder.finish()
            let compressed: [UInt8]
            do {
                compressed = try Compression.compress(raw, codec: codec)
            } catch {
                throw SegmentError(
                    code: .io, file: path, section: "payload.blocks", block: blockCount,
                    message:
                        "compressing payload block \(blockCount) of segment \(path) with \(codec.name) failed: \(error)"
                )
            }
            guard compressed.count <= Int(UInt32.max) else {
                throw SegmentError.invalidArgument(
                    path, "payload block \(blockCount) compresses to \(compressed.count) bytes, more than a u32 length")
            }
            let entry = SegmentFormat.BlockEntry(
                firstPoint: firstPoint, blockOffset: stream.offset, compressedLength: compressed.count,
                rawLength: raw.count, crc: compressed.withUnsafeBytes { SegmentFormat.maskedCRC($0) })
            try stream.write(compressed)
            SegmentFormat.append(entry, to: &index)
            blockCount += 1
            rawTotal += raw.count
            firstPoint += builder.pointCount
            builder = PayloadBlock.Builder()
        }
        for point in points {
            builder.append(point.payload)
            guard builder.rawSize <= SegmentFormat.maxBlockRawSize else {
                throw SegmentError.invalidArgument(
                    path,
                    "the payload of point \(point.id) is too large: its block would be \(builder.rawSize) bytes, the limit is \(SegmentFormat.maxBlockRawSize) bytes"
                )
            }
            if builder.rawSize >= SegmentFormat.targetBlockRawSize { try flushBlock() }
        }
        if !builder.isEmpty { try flushBlock() }
        let blocksEntry = stream.endSection(.payloadBlocks)
        table.append(blocksEntry)

        stream.beginSection()
        try stream.write(index.bytes)
        table.append(stream.endSection(.payloadIndex))

        func writeSection(_ bytes: [UInt8]) throws(SegmentError) {
            stream.beginSection()
            var start = 0
            while start < bytes.count {
                let end = min(start + (1 << 20), bytes.count)
                bytes[start..<end].withUnsafeBytes { stream.addToSection($0) }
                try stream.flushIfFull()
                start = end
            }
        }
        for index in indexes {
            let dimension = specs.first { $0.name == index.vectorName }!.dimension
            try writeSection(index.bytes)
            table.append(
                stream.endSection(
                    index.kind == .hnswGraph ? .hnswGraph : .quantizedVectors,
                    name: index.vectorName, dimension: dimension))
        }
        for index in fieldIndexes {
            try writeSection(index.bytes)
            table.append(stream.endSection(.fieldIndex, name: index.key, dimension: 0))
        }
        for name in sparseNames.sorted() {
            let vectors = points.map { $0.sparseVectors[name] }
            try writeSection(SparseSectionCodec.encodeVectors(vectors))
            table.append(stream.endSection(.sparseVectors, name: name, dimension: 0))
            try writeSection(SparseSectionCodec.encodeIndex(vectors))
            table.append(stream.endSection(.sparseIndex, name: name, dimension: 0))
        }
        for name in multiNames.sorted() {
            let spec = specs.first { $0.name == name }!
            let dimension = spec.dimension
            stream.beginSection()
            var start: UInt64 = 0
            try stream.write(start)
            for point in points {
                start += UInt64((point.multiVectors[name]?.count ?? 0) / dimension)
                try stream.write(start)
            }
            table.append(stream.endSection(.multiVectorOffsets, name: name, dimension: dimension))
            stream.beginSection()
            var encoded: [UInt8] = []
            for point in points {
                guard let rows = point.multiVectors[name] else { continue }
                try stream.writeRows(rows, as: spec.datatype, scratch: &encoded)
            }
            var dataEntry = stream.endSection(.multiVectorData, name: name, dimension: dimension)
            dataEntry.elementType = spec.datatype.formatCode
            table.append(dataEntry)
        }

        // Table and footer.
        let tableBytes = SegmentFormat.encodeTable(table)
        let tableOffset = stream.offset
        try stream.writeRaw(tableBytes)
        let fileLength = stream.offset + SegmentFormat.footerSize
        try stream.writeRaw(
            SegmentFormat.encodeFooter(
                SegmentFormat.Footer(
                    tableOffset: UInt64(tableOffset), tableLength: UInt64(tableBytes.count),
                    fileLength: UInt64(fileLength),
                    tableCRC: tableBytes.withUnsafeBytes { SegmentFormat.maskedCRC($0) })))

        var sectionBytes: [String: Int] = [:]
        for entry in table { sectionBytes[entry.displayName] = entry.length }
        return SegmentWriteStats(
            sectionBytes: sectionBytes, fileBytes: fileLength, payloadRawBytes: rawTotal,
            payloadCompressedBytes: blocksEntry.length, payloadBlockCount: blockCount, pointCount: n)
    }

    // MARK: - Validation

    private static func validateMultiVectors(
        _ points: [SegmentBuildPoint], _ specs: [SegmentVectorSpec], _ names: [String], _ path: String
    ) throws(SegmentError) {
        guard Set(names).count == names.count, names.allSatisfy({ name in specs.contains { $0.name == name } }) else {
            throw .invalidArgument(path, "multivector names must be unique and name vectors of the segment")
        }
        for point in points {
            for (name, rows) in point.multiVectors {
                guard let spec = specs.first(where: { $0.name == name }), names.contains(name) else {
                    throw .invalidArgument(
                        path,
                        "point \(point.id) has multivector \"\(name)\", which is not in the segment's multivectors")
                }
                guard !rows.isEmpty, rows.count % spec.dimension == 0, point.vectors[name] != nil else {
                    throw .invalidArgument(
                        path,
                        "point \(point.id): multivector \"\(name)\" needs whole rows of \(spec.dimension) floats and an aggregate vector"
                    )
                }
            }
            for name in names where point.vectors[name] != nil && point.multiVectors[name] == nil {
                throw .invalidArgument(
                    path, "point \(point.id) has the aggregate of multivector \"\(name)\" but no rows")
            }
        }
    }

    private static func validate(
        _ points: [SegmentBuildPoint], _ specs: [SegmentVectorSpec], _ path: String
    ) throws(SegmentError) {
        guard points.count <= SegmentFormat.maxPointCount else {
            throw .invalidArgument(
                path, "\(points.count) points; a segment holds at most \(SegmentFormat.maxPointCount)")
        }
        var dimensions: [String: Int] = [:]
        for spec in specs {
            guard spec.name.utf8.count <= SegmentFormat.maxVectorNameBytes else {
                throw .invalidArgument(
                    path,
                    "vector name \"\(spec.name.prefix(32))…\" is longer than \(SegmentFormat.maxVectorNameBytes) bytes")
            }
            guard (1...SegmentFormat.maxDimension).contains(spec.dimension) else {
                throw .invalidArgument(
                    path,
                    "vector \"\(spec.name)\" has dimension \(spec.dimension); it must be 1…\(SegmentFormat.maxDimension)"
                )
            }
            guard dimensions.updateValue(spec.dimension, forKey: spec.name) == nil else {
                throw .invalidArgument(path, "vector name \"\(spec.name)\" appears twice in the specs")
            }
        }
        var previous: PointID?
        for point in points {
            if let previous, !(previous < point.id) {
                throw .invalidArgument(
                    path,
                    previous == point.id
                        ? "point id \(point.id) appears twice; ids must be unique"
                        : "point \(point.id) follows \(previous); points must be sorted by id")
            }
            previous = point.id
            if let payload = point.payload, !JSONValue.object(payload).isFinite {
                throw .invalidArgument(
                    path, "the payload of point \(point.id) holds a NaN or infinite number, which JSON cannot")
            }
            for (name, vector) in point.vectors {
                guard let dimension = dimensions[name] else {
                    throw .invalidArgument(
                        path, "point \(point.id) has vector \"\(name)\", which is not in the segment's vector specs")
                }
                guard vector.count == dimension else {
                    throw .invalidArgument(
                        path,
                        "point \(point.id) has vector \"\(name)\" of dimension \(vector.count), the spec says \(dimension)"
                    )
                }
            }
        }
    }
}

/// Turns a file-system error into a `SegmentError`.
func wrap(_ error: any Error, _ path: String, _ doing: String) -> SegmentError {
    if let error = error as? SegmentError { return error }
    if let error = error as? IOError { return .io(path, doing, error) }
    return SegmentError(code: .io, file: path, message: "\(doing) \(path) failed: \(error)")
}

/// Appends the file sequentially through a buffer, tracking the offset, the
/// current section's start and its running CRC32C (padding is outside sections).
struct SegmentFileStream {
    let file: any StorageFile
    let bufferSize: Int
    private var buffer: [UInt8] = []
    private var flushedBytes = 0
    private var sectionStart = 0
    private var sectionCRC: UInt32 = 0
    private var inSection = false

    init(file: any StorageFile, bufferSize: Int) {
        self.file = file
        self.bufferSize = max(1, bufferSize)
        buffer.reserveCapacity(self.bufferSize)
    }

    /// File offset of the next byte.
    var offset: Int { flushedBytes + buffer.count }

    /// Pads with zeros to the next multiple of 64 and starts a section there.
    mutating func beginSection() {
        precondition(!inSection)
        buffer.append(contentsOf: repeatElement(0, count: SegmentFormat.align(offset) - offset))
        sectionStart = offset
        sectionCRC = 0
        inSection = true
    }

    mutating func endSection(
        _ kind: SegmentFormat.Kind, name: String = "", dimension: Int = 0
    ) -> SegmentFormat.SectionEntry {
        precondition(inSection)
        inSection = false
        return SegmentFormat.SectionEntry(
            kind: kind, name: name, dimension: dimension, offset: sectionStart, length: offset - sectionStart,
            crc: CRC32C.mask(sectionCRC))
    }

    /// Appends section bytes to the buffer (no I/O; call `flushIfFull` after).
    mutating func addToSection(_ bytes: UnsafeRawBufferPointer) {
        precondition(inSection)
        sectionCRC = CRC32C.checksum(bytes, continuing: sectionCRC)
        buffer.append(contentsOf: bytes)
    }

    mutating func write(_ bytes: [UInt8]) throws(SegmentError) {
        bytes.withUnsafeBytes { addToSection($0) }
        try flushIfFull()
    }

    /// Appends vector elements as `datatype` (a float as its little-endian bit
    /// pattern, which is how little-endian hosts, the only ones Strata
    /// supports, hold it).
    mutating func writeRows(
        _ values: [Float], as datatype: VectorDatatype, scratch: inout [UInt8]
    ) throws(SegmentError) {
        if datatype == .float32 {
            values.withUnsafeBytes { addToSection($0) }
        } else {
            scratch.removeAll(keepingCapacity: true)
            values.withUnsafeBufferPointer { datatype.encode($0, into: &scratch) }
            scratch.withUnsafeBytes { addToSection($0) }
        }
        try flushIfFull()
    }

    mutating func write(_ value: UInt64) throws(SegmentError) {
        withUnsafeBytes(of: value.littleEndian) { addToSection($0) }
        try flushIfFull()
    }

    /// Bytes outside any section (header, table, footer).
    mutating func writeRaw(_ bytes: [UInt8]) throws(SegmentError) {
        precondition(!inSection)
        buffer.append(contentsOf: bytes)
        try flushIfFull()
    }

    mutating func flushIfFull() throws(SegmentError) {
        if buffer.count >= bufferSize { try flush() }
    }

    mutating func flush() throws(SegmentError) {
        guard !buffer.isEmpty else { return }
        do {
            try file.write(at: UInt64(flushedBytes), buffer)
        } catch {
            throw wrap(error, file.path, "writing segment")
        }
        flushedBytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}
