import StrataBinary

/// Recomputes every checksum of a segment file that can be located (payload block
/// CRCs in the index, section CRCs in the table, the table CRC, and the header and
/// footer CRCs), and sets the footer's file_length to the real size: so tests can
/// craft hostile files whose damage is *not* caught by a checksum and must be
/// caught by the structural checks. Lenient: whatever does not fit is left alone.
/// Shared by the segment tests and the fuzz target `SegmentReaderFuzz`.
public func recomputeSegmentChecksums(_ bytes: inout [UInt8]) {
    func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    func u64(_ at: Int) -> UInt64 { bytes[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    func store(_ value: UInt32, _ at: Int) {
        for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }
    func store64(_ value: UInt64, _ at: Int) {
        for k in 0..<8 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }
    func crc(_ start: Int, _ count: Int) -> UInt32 {
        CRC32C.mask(CRC32C.checksum(Array(bytes[start..<(start + count)])))
    }

    let size = bytes.count
    if size >= 64 { store(crc(0, 60), 60) }
    guard size >= 64 + 8 + 40 else { return }
    let footer = size - 40
    store64(UInt64(size), footer + 16)
    let tableOffset = u64(footer)
    let tableLength = u64(footer + 8)
    if tableOffset <= UInt64(footer), tableLength <= UInt64(footer) - tableOffset, tableLength >= 8 {
        let start = Int(tableOffset)
        let end = start + Int(tableLength)
        let count = Int(u32(start))
        var entries: [(at: Int, kind: UInt16, offset: Int, length: Int)] = []
        var position = start + 8
        for _ in 0..<min(count, 1 << 16) {
            guard end - position >= 32 else { break }
            let kind = UInt16(truncatingIfNeeded: u32(position))
            let nameLength = Int(u32(position) >> 16)
            let offset = u64(position + 8)
            let length = u64(position + 16)
            if offset <= UInt64(size), length <= UInt64(size) - offset {
                entries.append((position, kind, Int(offset), Int(length)))
            }
            position += 32 + nameLength
            guard position <= end else { break }
        }
        // Payload block CRCs first (they are inside payload.index, whose CRC follows).
        for entry in entries where entry.kind == 7 {
            for at in stride(from: entry.offset, to: entry.offset + entry.length - 31, by: 32) {
                let blockOffset = u64(at + 8)
                let blockLength = UInt64(u32(at + 16))
                if blockOffset <= UInt64(size), blockLength <= UInt64(size) - blockOffset {
                    store(crc(Int(blockOffset), Int(blockLength)), at + 24)
                }
            }
        }
        for entry in entries { store(crc(entry.offset, entry.length), entry.at + 24) }
        store(crc(start, end - start), footer + 24)
    }
    store(crc(footer, 28), footer + 28)
}
