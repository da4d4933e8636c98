import StrataBinary

/// One record found in a log file: its op number and where its payload is.
public struct WALRecordLocation: Sendable, Equatable {
    public let opNum: UInt64
    /// The highest op number that was durable when this record was written.
    public let syncedThrough: UInt64
    /// Byte offset of the record header in the file.
    public let offset: Int
    /// Byte range of the payload in the file.
    public let payloadRange: Range<Int>
}

/// The result of scanning one log file's bytes.
public struct WALFileScan: Sendable {
    /// first_op_num from the header.
    public let firstOpNum: UInt64
    /// Records that passed every check, in order.
    public let records: [WALRecordLocation]
    /// Where the valid records end (file header size when there are none).
    public let validEnd: Int
    /// Why scanning stopped before the end of the bytes, or nil when it reached
    /// the end cleanly.
    public let stop: Stop?

    public enum Stop: Sendable, Equatable {
        /// The record at `offset` failed `reason`, and no valid record starts
        /// after it: a torn tail, safe to cut at `offset`.
        case tornTail(offset: Int, reason: String)
        /// The record at `offset` failed `reason`, but a valid record starting at
        /// `laterRecordOffset` says the damaged record had already been synced:
        /// damage to durable data, not a torn write.
        case damagedBeforeValidRecords(offset: Int, reason: String, laterRecordOffset: Int)
        /// The record at `offset` failed `reason`, and the bytes after it hold
        /// so many record-like headers that the search for a later valid record
        /// ran out of its work budget: treated as damage (never cut silently).
        case undecided(offset: Int, reason: String)
    }
}

/// Scans the bytes of one log file: header, then records until the first one
/// that fails a check, then (to tell a torn tail from damage in the middle) a
/// search for any valid later record. Pure: no I/O, never traps on any input,
/// time linear in the input (the search checks a CRC only where a plausible
/// header is found). This is the function the WAL fuzz target exercises.
public enum WALFileScanner {
    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> WALFileScan {
        let firstOpNum = try WALFormat.decodeFileHeader(bytes)
        var records: [WALRecordLocation] = []
        var offset = WALFormat.fileHeaderSize
        var expected = firstOpNum
        while offset < bytes.count {
            switch checkRecord(bytes, at: offset, expectedOpNum: expected) {
            case .valid(let location):
                records.append(location)
                offset = location.payloadRange.upperBound
                expected &+= 1
            case .invalid(let reason):
                let stop: WALFileScan.Stop
                switch findRecordProvingDurability(bytes, after: offset, ofOpNum: expected) {
                case .found(let later):
                    stop = .damagedBeforeValidRecords(offset: offset, reason: reason, laterRecordOffset: later)
                case .notFound:
                    stop = .tornTail(offset: offset, reason: reason)
                case .budgetExhausted:
                    stop = .undecided(offset: offset, reason: reason)
                }
                return WALFileScan(firstOpNum: firstOpNum, records: records, validEnd: offset, stop: stop)
            }
        }
        return WALFileScan(firstOpNum: firstOpNum, records: records, validEnd: offset, stop: nil)
    }

    enum Check {
        case valid(WALRecordLocation)
        case invalid(String)
    }

    static func checkRecord(_ bytes: UnsafeRawBufferPointer, at offset: Int, expectedOpNum: UInt64?) -> Check {
        let available = bytes.count - offset
        guard available >= WALFormat.recordHeaderSize else {
            return .invalid("incomplete record header (\(available) of \(WALFormat.recordHeaderSize) bytes)")
        }
        let storedCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
        let opNum = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        let syncedThrough = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
        guard length <= WALFormat.maxPayloadSize else {
            return .invalid("record length \(length) exceeds the maximum \(WALFormat.maxPayloadSize)")
        }
        guard length <= available - WALFormat.recordHeaderSize else {
            return .invalid("record payload of \(length) bytes runs past the end of the file")
        }
        let end = offset + WALFormat.recordHeaderSize + length
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<end]))
        guard CRC32C.mask(crc) == storedCRC else { return .invalid("record checksum mismatch") }
        if let expectedOpNum, opNum != expectedOpNum {
            return .invalid("record has op number \(opNum), expected \(expectedOpNum)")
        }
        guard syncedThrough < opNum else {
            return .invalid("record \(opNum) claims ops through \(syncedThrough) were already synced")
        }
        return .valid(
            WALRecordLocation(
                opNum: opNum, syncedThrough: syncedThrough, offset: offset,
                payloadRange: (offset + WALFormat.recordHeaderSize)..<end))
    }

    enum DurabilityProof: Equatable {
        case found(Int)
        case notFound
        case budgetExhausted
    }

    /// Looks for a record after `offset` that passes its checks and whose
    /// `synced_through` is at least `opNum` — proof that `opNum` had been made
    /// durable before that record was written.
    ///
    /// Bounded work: a candidate must be plausible before its CRC is computed
    /// (op number above `opNum` but no more above it than the records that fit
    /// between the two offsets, `synced_through` in range, length inside the
    /// file), and the bytes checksummed are capped at 4× the input plus 1 MiB,
    /// so crafted input cannot make recovery quadratic.
    static func findRecordProvingDurability(
        _ bytes: UnsafeRawBufferPointer, after offset: Int, ofOpNum opNum: UInt64
    ) -> DurabilityProof {
        var budget = 4 * bytes.count + (1 << 20)
        var candidate = offset + 1
        while candidate + WALFormat.recordHeaderSize <= bytes.count {
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: candidate + 4, as: UInt32.self)))
            let candidateOp = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: candidate + 8, as: UInt64.self))
            let syncedThrough = UInt64(
                littleEndian: bytes.loadUnaligned(fromByteOffset: candidate + 16, as: UInt64.self))
            // Ops opNum..<candidateOp lie between the two offsets, each at least a header long.
            let maxOpsBetween = UInt64((candidate - offset) / WALFormat.recordHeaderSize)
            if candidateOp > opNum, candidateOp - opNum <= maxOpsBetween,
                syncedThrough >= opNum, syncedThrough < candidateOp,
                length <= bytes.count - candidate - WALFormat.recordHeaderSize
            {
                budget -= WALFormat.recordHeaderSize + length
                if budget < 0 { return .budgetExhausted }
                if case .valid = checkRecord(bytes, at: candidate, expectedOpNum: nil) { return .found(candidate) }
            }
            candidate += 1
        }
        return .notFound
    }
}
