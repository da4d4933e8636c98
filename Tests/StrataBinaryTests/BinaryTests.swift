import StrataBinary
import Testing

@Suite struct CRC32CTests {
    /// Known answers from RFC 3720 (iSCSI) appendix B.4 and the common check value.
    @Test func matchesPublishedCheckValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func extendingEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(Array(bytes[..<split]))
            #expect(CRC32C.checksum(Array(bytes[split...]), continuing: first) == CRC32C.checksum(bytes))
        }
    }

    @Test func maskRoundTripsAndDiffers() {
        for crc: UInt32 in [0, 1, 0xFFFF_FFFF, 0xE306_9283] {
            #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
            #expect(CRC32C.mask(crc) != crc)
        }
    }
}

@Suite struct ByteReaderWriterTests {
    @Test func roundTripsEveryFieldKind() throws {
        var writer = ByteWriter()
        writer.write(UInt8(0xAB))
        writer.write(UInt16(0xBEEF))
        writer.write(UInt32(0xDEAD_BEEF))
        writer.write(UInt64.max)
        writer.write(Int64.min)
        writer.write(Float(1.5))
        writer.write(Double(-2.25))
        for value: UInt64 in [0, 1, 127, 128, 300, 1 << 35, .max] { writer.writeVarint(value) }
        writer.writeString("héllo")
        writer.writeLengthPrefixed([1, 2, 3])
        try withReader(writer.bytes) { reader in
            let v1 = try reader.readUInt8()
            #expect(v1 == 0xAB)
            let v2 = try reader.readUInt16()
            #expect(v2 == 0xBEEF)
            let v3 = try reader.readUInt32()
            #expect(v3 == 0xDEAD_BEEF)
            let v4 = try reader.readUInt64()
            #expect(v4 == .max)
            let v5 = try reader.readInt64()
            #expect(v5 == .min)
            let v6 = try reader.readFloat()
            #expect(v6 == 1.5)
            let v7 = try reader.readDouble()
            #expect(v7 == -2.25)
            for value: UInt64 in [0, 1, 127, 128, 300, 1 << 35, .max] {
                let read = try reader.readVarint()
                #expect(read == value)
            }
            let v8 = try reader.readString()
            #expect(v8 == "héllo")
            let v9 = try reader.readLengthPrefixed()
            #expect(v9 == [1, 2, 3])
            #expect(reader.isAtEnd)
        }
    }

    @Test func littleEndianLayout() {
        var writer = ByteWriter()
        writer.write(UInt32(0x0102_0304))
        writer.writeVarint(300)
        #expect(writer.bytes == [0x04, 0x03, 0x02, 0x01, 0xAC, 0x02])
    }

    @Test func truncatedAndHostileInputThrowsInsteadOfTrapping() {
        let cases: [[UInt8]] = [
            [],  // nothing to read
            [0x80, 0x80],  // unterminated varint
            Array(repeating: 0xFF, count: 11),  // varint longer than 10 bytes
            [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // string length far beyond the input
            [0x02, 0xC3],  // string with invalid/truncated UTF-8
        ]
        for bytes in cases {
            #expect(throws: FormatError.self) { try withReader(bytes) { _ = try $0.readString() } }
        }
        // Ten 0xFF bytes overflow 64 bits.
        #expect(throws: FormatError.self) {
            try withReader([UInt8](repeating: 0xFF, count: 10)) { _ = try $0.readVarint() }
        }
        #expect(throws: FormatError.self) { try withReader([0x10, 0x00]) { _ = try $0.readCount(limit: 4, "thing") } }
    }
}

/// Runs `body` with a reader over `bytes`.
func withReader<T>(_ bytes: [UInt8], _ body: (inout ByteReader) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { raw in
        var reader = ByteReader(raw)
        return try body(&reader)
    }
}
