import StrataBinary
import StrataIO

/// The list of a collection's immutable segments and the checkpoint they are
/// complete up to. Format and rules: docs/format/manifest.md.
struct Manifest: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var segmentID: UInt64
        /// 0 when the segment has no tombstone file.
        var tombstoneGeneration: UInt64
    }

    var checkpoint: UInt64 = 0
    var nextSegmentID: UInt64 = 1
    var segments: [Entry] = []
    /// The payload field indexes (key → canonical schema JSON), sorted by key.
    var payloadSchema: [FieldIndexEntry] = []

    struct FieldIndexEntry: Equatable, Sendable {
        var key: String
        var schema: JSONValue
    }

    static let fileName = "MANIFEST"
    static let magic: [UInt8] = Array("STRATMAN".utf8)
    /// Version 2 adds the payload schema; version 1 files (no schema) are still read.
    static let version: UInt32 = 2

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 44 + segments.count * 16)
        writer.write(contentsOf: Self.magic)
        writer.write(Self.version)
        writer.write(UInt32(0))
        writer.write(checkpoint)
        writer.write(nextSegmentID)
        writer.write(UInt32(segments.count))
        for entry in segments {
            writer.write(entry.segmentID)
            writer.write(entry.tombstoneGeneration)
        }
        writer.write(UInt32(payloadSchema.count))
        for entry in payloadSchema {
            writer.writeString(entry.key)
            writer.write(entry.schema)
        }
        writer.write(CRC32C.mask(CRC32C.checksum(writer.bytes)))
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        func corrupt(_ why: String) -> StrataError {
            StrataError(.corruption, "manifest \(path) is corrupt: \(why); restore the collection from a snapshot")
        }
        guard bytes.count >= 40, Array(bytes[0..<8]) == magic else { throw corrupt("bad size or magic") }
        let stored = bytes.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))
        }
        guard CRC32C.mask(CRC32C.checksum(Array(bytes[..<(bytes.count - 4)]))) == stored else {
            throw corrupt("checksum mismatch")
        }
        do {
            return try bytes.withUnsafeBytes { raw in
                var reader = ByteReader(UnsafeRawBufferPointer(rebasing: raw[8..<(raw.count - 4)]))
                let version = try reader.readUInt32()
                guard version == 1 || version == 2 else {
                    throw corrupt("format version \(version), this build reads 1 and 2")
                }
                guard try reader.readUInt32() == 0 else { throw corrupt("unknown flags") }
                var manifest = Manifest()
                manifest.checkpoint = try reader.readUInt64()
                manifest.nextSegmentID = try reader.readUInt64()
                let count = Int(try reader.readUInt32())
                guard version == 1 ? count * 16 == reader.remaining : count * 16 + 4 <= reader.remaining else {
                    throw corrupt("segment count \(count) disagrees with the file size")
                }
                var seen = Set<UInt64>()
                for _ in 0..<count {
                    let entry = Entry(segmentID: try reader.readUInt64(), tombstoneGeneration: try reader.readUInt64())
                    guard entry.segmentID < manifest.nextSegmentID, seen.insert(entry.segmentID).inserted else {
                        throw corrupt("segment id \(entry.segmentID) is duplicated or not below next_segment_id")
                    }
                    manifest.segments.append(entry)
                }
                if version == 2 {
                    let fieldCount = Int(try reader.readUInt32())
                    guard fieldCount <= reader.remaining else {
                        throw corrupt("field index count \(fieldCount) exceeds the file")
                    }
                    for _ in 0..<fieldCount {
                        let entry = FieldIndexEntry(key: try reader.readString(), schema: try reader.readJSON())
                        guard manifest.payloadSchema.last.map({ $0.key < entry.key }) ?? true else {
                            throw corrupt("field index keys are not strictly ascending at \"\(entry.key)\"")
                        }
                        manifest.payloadSchema.append(entry)
                    }
                    guard reader.isAtEnd else { throw corrupt("\(reader.remaining) bytes follow the payload schema") }
                }
                return manifest
            }
        } catch let error as FormatError {
            throw corrupt(error.message)
        }
    }

    static func segmentFileName(_ id: UInt64) -> String { "seg-\(padded(id)).seg" }
    static func tombstoneFileName(_ id: UInt64, generation: UInt64) -> String {
        "seg-\(padded(id))-\(padded(generation)).del"
    }

    private static func padded(_ n: UInt64) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}

/// The narrowest view of the MANIFEST codec that the `ManifestFuzz` target
/// (fuzz/) and the test replaying its corpus need: decode, compare, re-encode.
/// Not API; import with `@_spi(Fuzzing) import Strata`.
@_spi(Fuzzing) public struct ManifestImage: Equatable, Sendable {
    let manifest: Manifest

    /// Decodes MANIFEST bytes as opening a collection does; throws the same
    /// `StrataError` (`.corruption`, naming `path`).
    public init(decoding bytes: [UInt8], path: String) throws {
        manifest = try Manifest.decode(bytes, path: path)
    }

    /// The bytes this build writes for the same manifest (the current version).
    public func encoded() -> [UInt8] { manifest.encoded() }

    public var checkpoint: UInt64 { manifest.checkpoint }
    public var segmentCount: Int { manifest.segments.count }
    public var payloadIndexCount: Int { manifest.payloadSchema.count }
}
