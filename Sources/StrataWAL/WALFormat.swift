import StrataBinary

/// Constants and byte layouts of the write-ahead log, as specified in
/// `docs/format/wal.md`. Nothing else in the module hard-codes an offset.
public enum WALFormat {
    public static let magic: [UInt8] = Array("STRATWAL".utf8)
    public static let version: UInt32 = 1
    public static let fileHeaderSize = 32
    public static let recordHeaderSize = 24
    /// Largest payload accepted for writing and believed when reading.
    public static let maxPayloadSize = 256 << 20
    public static let fileExtension = ".log"
    public static let filePrefix = "wal-"

    /// `wal-<20 digit op>.log`
    public static func fileName(firstOpNum: UInt64) -> String {
        let digits = String(firstOpNum)
        return filePrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + fileExtension
    }

    /// The op number in a log file name, or nil if the name is not a log file's.
    public static func firstOpNum(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix(filePrefix), name.hasSuffix(fileExtension) else { return nil }
        let digits = name.dropFirst(filePrefix.count).dropLast(fileExtension.count)
        guard digits.count == 20, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return UInt64(digits)
    }

    /// The 32-byte file header.
    public static func encodeFileHeader(firstOpNum: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: fileHeaderSize)
        writer.write(contentsOf: magic)
        writer.write(version)
        writer.write(UInt32(0))
        writer.write(firstOpNum)
        let crc = CRC32C.mask(CRC32C.checksum(writer.bytes))
        writer.write(crc)
        writer.write(UInt32(0))
        return writer.bytes
    }

    /// Parses and checks a file header; returns its first_op_num.
    public static func decodeFileHeader(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> UInt64 {
        guard bytes.count >= fileHeaderSize else {
            throw FormatError("file header needs \(fileHeaderSize) bytes, the file has \(bytes.count)")
        }
        guard Array(bytes[0..<8]) == magic else { throw FormatError("bad magic: not a Strata WAL file") }
        var reader = ByteReader(bytes, offset: 8)
        let version = try reader.readUInt32()
        let flags = try reader.readUInt32()
        let firstOpNum = try reader.readUInt64()
        let storedCRC = try reader.readUInt32()
        let reserved = try reader.readUInt32()
        let actualCRC = CRC32C.mask(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<24])))
        guard storedCRC == actualCRC else { throw FormatError("file header checksum mismatch") }
        // Not covered by the checksum, so checked here: no byte of a log file changes unnoticed.
        guard reserved == 0 else { throw FormatError("reserved header bytes 28..<32 are not zero (\(reserved))") }
        guard version == WALFormat.version else {
            throw FormatError(
                "unsupported WAL format version \(version) (this build reads version \(WALFormat.version))")
        }
        guard flags == 0 else { throw FormatError("unknown header flags \(flags)") }
        guard firstOpNum >= 1 else { throw FormatError("first_op_num is 0") }
        guard firstOpNum <= UInt64(Int64.max) else {
            throw FormatError("first_op_num \(firstOpNum) is out of range (at most 2^63 - 1)")
        }
        return firstOpNum
    }

    /// Appends one framed record to `writer`.
    public static func appendRecord(
        opNum: UInt64, syncedThrough: UInt64, payload: UnsafeRawBufferPointer, to writer: inout ByteWriter
    ) {
        let start = writer.count
        writer.write(UInt32(0))  // crc, patched below
        writer.write(UInt32(payload.count))
        writer.write(opNum)
        writer.write(syncedThrough)
        writer.write(contentsOf: payload)
        let crc = writer.bytes.withUnsafeBytes { all in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[(start + 4)...]))
        }
        writer.patch(CRC32C.mask(crc), at: start)
    }
}
