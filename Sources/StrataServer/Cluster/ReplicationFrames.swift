import Strata
import StrataBinary

/// The body of `POST /p2p/v1/collections/{c}/replicate`: a run of log
/// records, each framed and checksummed (docs/format/replication.md):
///
///     op_num  u64 LE
///     length  u32 LE   (payload bytes)
///     crc     u32 LE   masked CRC32C of the payload
///     payload length bytes: the encoded operation (docs/format/operations.md)
///
/// The WAL's own checksums stay on disk; this one covers the wire.
enum ReplicationFrames {
    static let headerSize = 16

    static func encode(_ records: [Collection.ReplicatedRecord]) -> [UInt8] {
        var writer = ByteWriter(capacity: records.reduce(0) { $0 + headerSize + $1.payload.count })
        for record in records {
            writer.write(record.opNum)
            writer.write(UInt32(record.payload.count))
            writer.write(CRC32C.mask(CRC32C.checksum(record.payload)))
            writer.write(contentsOf: record.payload)
        }
        return writer.bytes
    }

    /// The records of a body; throws `FormatError` for a truncated or damaged frame.
    static func decode(_ bytes: [UInt8]) throws -> [Collection.ReplicatedRecord] {
        var records: [Collection.ReplicatedRecord] = []
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            var reader = ByteReader(raw)
            while reader.remaining > 0 {
                let opNum = try reader.readUInt64()
                let length = Int(try reader.readUInt32())
                let crc = try reader.readUInt32()
                guard length <= reader.remaining else {
                    throw FormatError("a replicated record of \(length) bytes is cut off (\(reader.remaining) remain)")
                }
                let payload = Array(try reader.readBytes(length))
                guard CRC32C.mask(CRC32C.checksum(payload)) == crc else {
                    throw FormatError("replicated record \(opNum) fails its checksum")
                }
                records.append(Collection.ReplicatedRecord(opNum: opNum, payload: payload))
            }
        }
        return records
    }
}
