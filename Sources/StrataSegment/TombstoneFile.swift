import StrataBinary
import StrataIO

/// Tombstones: the internal offsets of the deleted points of one segment, kept in
/// a small sidecar file (docs/format/tombstones.md).
public enum TombstoneFile {
    static let magic: [UInt8] = Array("STRATTMB".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32
    /// Header and CRC: the size of a file with no offsets.
    static let minimumSize = headerSize + 4
    static let section = "tombstones"

    /// Writes `offsets` durably and atomically with `fileSystem.writeAtomically`
    /// (temp file, fsync, rename over `path`, directory fsync): after a crash the
    /// path holds the old file or the new one.
    ///
    /// - Parameters:
    ///   - offsets: strictly ascending, each `< segmentPointCount`.
    ///   - segmentPointCount: the point count of the segment they belong to, stored
    ///     so that `read` refuses a sidecar paired with another segment.
    /// - Throws: `SegmentError` `.invalidArgument` for offsets breaking the rules
    ///   (nothing is written); `.io` when the file system fails.
    public static func write(
        _ offsets: [UInt32], segmentPointCount: Int, to path: String, fileSystem: any FileSystem
    ) throws {
        guard (0...SegmentFormat.maxPointCount).contains(segmentPointCount) else {
            throw SegmentError(
                code: .invalidArgument, file: path, section: section,
                message:
                    "cannot write tombstones \(path): segment point count \(segmentPointCount) is outside 0…\(SegmentFormat.maxPointCount)"
            )
        }
        var previous: UInt32?
        for offset in offsets {
            guard Int(offset) < segmentPointCount, previous.map({ $0 < offset }) ?? true else {
                throw SegmentError(
                    code: .invalidArgument, file: path, section: section,
                    message:
                        "cannot write tombstones \(path): offset \(offset) is not above the previous one (\(previous.map(String.init) ?? "none")) or not below the segment's \(segmentPointCount) points; offsets must be sorted, unique and in range"
                )
            }
            previous = offset
        }
        var writer = ByteWriter(capacity: minimumSize + 4 * offsets.count)
        writer.write(contentsOf: magic)
        writer.write(version)
        writer.write(UInt32(0))
        writer.write(UInt64(segmentPointCount))
        writer.write(UInt64(offsets.count))
        for offset in offsets { writer.write(offset) }
        writer.write(CRC32C.mask(CRC32C.checksum(writer.bytes)))
        do {
            try fileSystem.writeAtomically(path, writer.bytes)
        } catch {
            throw wrap(error, path, "writing tombstones")
        }
    }

    /// Reads and checks a sidecar: size, magic, version, CRC32C, flags, count,
    /// segment point count equal to `segmentPointCount`, offsets strictly ascending
    /// and below it.
    ///
    /// - Throws: `SegmentError` `.corruption` (or `.unsupportedVersion`) naming the
    ///   file; `.io` when it cannot be read (`cause.code == .notFound` when missing).
    public static func read(_ path: String, segmentPointCount: Int, fileSystem: any FileSystem) throws -> [UInt32] {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.open(path, mode: .readOnly).readAll()
        } catch {
            throw wrap(error, path, "reading tombstones")
        }
        let result: Result<[UInt32], SegmentError> = bytes.withUnsafeBytes { raw in
            Result { () throws(SegmentError) in try decode(raw, segmentPointCount: segmentPointCount, path: path) }
        }
        return try result.get()
    }

    static func decode(
        _ raw: UnsafeRawBufferPointer, segmentPointCount: Int, path: String
    ) throws(SegmentError) -> [UInt32] {
        func fail(_ what: String) -> SegmentError {
            SegmentError(
                code: .corruption, file: path, section: section,
                message:
                    "tombstone file \(path) is corrupt: \(what); rebuild it from the WAL or take the segment out of service"
            )
        }
        guard raw.count >= minimumSize else {
            throw fail("it is \(raw.count) bytes, shorter than the \(minimumSize)-byte minimum (truncated)")
        }
        guard raw.slice(0, 8).elementsEqual(magic) else { throw fail("bad magic: not a Strata tombstone file") }
        let fileVersion = raw.loadLittleEndian(at: 8, as: UInt32.self)
        guard fileVersion == version else {
            throw SegmentError(
                code: .unsupportedVersion, file: path, section: section,
                message:
                    "tombstone file \(path) has format version \(fileVersion); this build reads version \(version). Upgrade Strata; if no newer Strata wrote it, it is damaged"
            )
        }
        let end = raw.count - 4
        guard raw.loadLittleEndian(at: end, as: UInt32.self) == CRC32C.mask(CRC32C.checksum(raw.slice(0, end))) else {
            throw fail("checksum mismatch")
        }
        guard raw.loadLittleEndian(at: 12, as: UInt32.self) == 0 else { throw fail("unknown flags") }
        let storedPointCount = raw.loadLittleEndian(at: 16, as: UInt64.self)
        guard storedPointCount == UInt64(max(0, segmentPointCount)) else {
            throw fail(
                "it belongs to a segment of \(storedPointCount) points, not \(segmentPointCount): a sidecar of another segment"
            )
        }
        let count = raw.loadLittleEndian(at: 24, as: UInt64.self)
        guard count == UInt64(end - headerSize) / 4, (end - headerSize) % 4 == 0 else {
            throw fail("it claims \(count) offsets but its size (\(raw.count) bytes) holds \((end - headerSize) / 4)")
        }
        var offsets: [UInt32] = []
        offsets.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let offset = raw.loadLittleEndian(at: headerSize + 4 * i, as: UInt32.self)
            guard UInt64(offset) < storedPointCount, offsets.last.map({ $0 < offset }) ?? true else {
                throw fail("offset \(offset) at position \(i) is out of order or not below \(storedPointCount)")
            }
            offsets.append(offset)
        }
        return offsets
    }
}
