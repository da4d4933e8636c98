import StrataIO
import StrataSegment

// libFuzzer entry point for the segment reader (crash-test matrix row 15).
//
// Each input is written as a segment file into an in-memory
// `FaultInjectingFileSystem` and opened with `SegmentReader.open`; when it opens,
// every accessor is driven over every point (ids, offsets, versions, vectors,
// payloads) and `verifyAll` runs. This happens twice: on the raw bytes, and on a
// copy whose checksums (header, footer, table, every section, every payload
// block) and footer file_length are recomputed, because libFuzzer cannot forge
// CRC32C and would otherwise never get past the checksums to the structure checks
// behind them. A `SegmentError` is a fine outcome; a trap, a hang, or a broken
// invariant below is a finding. Invariants, checked with `precondition` so that
// libFuzzer reports them as crashes:
// - every error is a `SegmentError` naming the file and a section;
// - ids are strictly ascending (`PointID`'s `<`) and `offset(of: id(at: i)) == i`;
// - `withVectors` gives each spec's dimension, `vector(at:)` returns a row of that
//   dimension exactly when `hasVector` is true, and it equals the mapped row;
// - `payload(at:)` throws only if `verifyAll` reports a problem (a payload the
//   full check passes must be readable);
// - a segment that verifies clean, written again with `SegmentWriter` (same codec)
//   and reopened, holds the same ids, versions, vectors and payloads.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    exercise(input)
    var fixed = input
    recomputeChecksums(&fixed)
    if fixed != input { exercise(fixed) }
    return 0
}

private let path = "/segments/fuzz.seg"

private func exercise(_ bytes: [UInt8]) {
    let fs = FaultInjectingFileSystem(durableDirectories: ["/segments"])
    do {
        let file = try fs.open(path, mode: .createNew)
        try file.write(at: 0, bytes)
        try file.sync()
    } catch {
        preconditionFailure("setting up the in-memory file failed: \(error)")
    }
    let reader: SegmentReader
    do {
        reader = try SegmentReader.open(path: path, fileSystem: fs)
    } catch let error as SegmentError {
        checkNames(error)
        return
    } catch {
        preconditionFailure("open threw something other than SegmentError: \(error)")
    }

    let n = reader.pointCount
    let specs = reader.vectorSpecs
    var payloadFailed = false
    for offset in 0..<n {
        let id = reader.id(at: offset)
        if offset > 0 { precondition(reader.id(at: offset - 1) < id, "ids not ascending at offset \(offset)") }
        precondition(reader.offset(of: id) == offset, "offset(of: id(at: \(offset))) != \(offset)")
        _ = reader.version(at: offset)
        for spec in specs {
            let vector = reader.vector(spec.name, at: offset)
            precondition((vector != nil) == reader.hasVector(spec.name, at: offset), "vector/hasVector disagree")
            if let vector {
                precondition(vector.count == spec.dimension, "vector of dimension \(vector.count), spec \(spec.dimension)")
                let row = reader.withVectors(spec.name) { base, dimension in
                    Array(UnsafeBufferPointer(start: base + offset * dimension, count: dimension))
                }
                precondition(row.map { $0.map(\.bitPattern) } == vector.map(\.bitPattern), "vector(at:) differs from the mapped row")
            }
        }
        do {
            _ = try reader.payload(at: offset)
        } catch let error as SegmentError {
            checkNames(error)
            payloadFailed = true
        } catch {
            preconditionFailure("payload(at:) threw something other than SegmentError: \(error)")
        }
    }
    for spec in specs {
        precondition(reader.withVectors(spec.name) { _, dimension in dimension } == spec.dimension)
    }
    _ = reader.sectionSizes
    _ = reader.payloadRawBytes
    let problems = reader.verifyAll()
    for problem in problems { checkNames(problem) }
    precondition(!payloadFailed || !problems.isEmpty, "payload(at:) failed but verifyAll found nothing")
    if problems.isEmpty { rewriteAndCompare(reader, fs) }
}

private func checkNames(_ error: SegmentError) {
    precondition(error.file == path, "error names file \(error.file): \(error)")
    precondition(error.section != nil, "error names no section: \(error)")
    precondition(error.code == .corruption || error.code == .unsupportedVersion, "unexpected code \(error.code): \(error)")
}

/// Writes the segment again from what the reader returns and checks the copy reads the same.
private func rewriteAndCompare(_ reader: SegmentReader, _ fs: FaultInjectingFileSystem) {
    let specs = reader.vectorSpecs
    var points: [SegmentBuildPoint] = []
    for offset in 0..<reader.pointCount {
        var vectors: [String: [Float]] = [:]
        for spec in specs { vectors[spec.name] = reader.vector(spec.name, at: offset) }
        let payload = try! reader.payload(at: offset)  // verifyAll passed: must not throw
        points.append(SegmentBuildPoint(id: reader.id(at: offset), version: reader.version(at: offset), vectors: vectors, payload: payload))
    }
    let copyPath = "/segments/copy.seg"
    let copy: SegmentReader
    do {
        try SegmentWriter.write(points, vectors: specs, compression: reader.payloadCodec, to: copyPath, fileSystem: fs)
        copy = try SegmentReader.open(path: copyPath, fileSystem: fs)
    } catch {
        preconditionFailure("rewriting a segment that verified clean failed: \(error)")
    }
    precondition(copy.pointCount == reader.pointCount && copy.vectorSpecs == specs)
    for offset in 0..<reader.pointCount {
        precondition(copy.id(at: offset) == reader.id(at: offset) && copy.version(at: offset) == reader.version(at: offset))
        for spec in specs {
            precondition(copy.vector(spec.name, at: offset)?.map(\.bitPattern) == reader.vector(spec.name, at: offset)?.map(\.bitPattern))
        }
        precondition((try? copy.payload(at: offset)) == (try? reader.payload(at: offset)), "payload differs after rewrite at \(offset)")
    }
    precondition(copy.verifyAll().isEmpty, "the rewritten segment does not verify")
}

// MARK: - Checksums

/// Recomputes every checksum that can be located (payload block CRCs in the
/// index, section CRCs in the table, the table CRC, header and footer CRCs) and
/// sets the footer's file_length to the real size. Lenient: whatever does not fit
/// is left alone. Layout: docs/format/segment.md.
private func recomputeChecksums(_ bytes: inout [UInt8]) {
    func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    func u64(_ at: Int) -> UInt64 { bytes[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    func store(_ value: UInt32, _ at: Int) { for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) } }
    func store64(_ value: UInt64, _ at: Int) { for k in 0..<8 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) } }
    func crc(_ start: Int, _ count: Int) -> UInt32 { maskedCRC32C(bytes[start..<(start + count)]) }

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

/// CRC32C, masked as `docs/format/segment.md` says: a small table-driven copy, so
/// the fuzz package needs no product beyond StrataSegment and StrataIO.
private let crcTable: [UInt32] = (0..<256).map { index in
    var crc = UInt32(index)
    for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F6_3B78 : 0) }
    return crc
}

private func maskedCRC32C(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    crc ^= 0xFFFF_FFFF
    return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
}
