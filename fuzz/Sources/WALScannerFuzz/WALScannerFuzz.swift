#if canImport(Glibc)
import Glibc
#endif
import StrataIO
import StrataWAL

// libFuzzer entry point for the WAL reader (crash-test matrix row 15).
//
// Each input is (a) scanned as one WAL file by `WALFileScanner.scan`, and (b)
// split at every "STRATWAL" magic into one or more files, written into an
// in-memory directory (each named after the first_op_num in its header, so the
// name check passes and the deeper checks run), and opened with
// `WriteAheadLog.open`. Both run twice: on the raw bytes, and on a copy whose
// header and record checksums are recomputed wherever a record's length fits,
// because libFuzzer cannot forge CRC32C and would otherwise never reach the
// checks behind the checksum (op numbers, synced_through, gaps between files).
// A typed error is a fine outcome; a trap, a hang, or a broken invariant below
// is a finding. Invariants, checked with `precondition`
// so that libFuzzer reports them as crashes:
// - the scanner's records are op-contiguous from first_op_num and end at validEnd;
// - a log that opens replays op-contiguous records, and its report agrees;
// - after a successful open, one more append gets op lastOpNum + 1, and after
//   a simulated power loss (unsynced data dropped) a reopen replays exactly the
//   same records plus that one, with no cut tail: the cut and the append were
//   both made durable.
// The directory lives in a `FaultInjectingFileSystem` (in memory, hermetic).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    scanOneFile(input)
    openAsLog(splitIntoFiles(input))
    var fixed = Array(input)
    fixChecksums(&fixed)
    if !fixed.elementsEqual(input) {
        fixed.withUnsafeBytes { scanOneFile($0) }
    }
    var files = fixed.withUnsafeBytes { splitIntoFiles($0) }
    for index in files.indices { fixChecksums(&files[index]) }
    openAsLog(files)
    return 0
}

/// Recomputes the header CRC and the CRC of every record whose length fits,
/// walking records from offset 32 until one does not fit.
private func fixChecksums(_ bytes: inout [UInt8]) {
    guard bytes.count >= WALFormat.fileHeaderSize else { return }
    bytes.withUnsafeMutableBytes { raw in
        let headerCRC = maskedCRC32C(UnsafeRawBufferPointer(rebasing: raw[0..<24]))
        raw.storeBytes(of: headerCRC.littleEndian, toByteOffset: 24, as: UInt32.self)
        var offset = WALFormat.fileHeaderSize
        while raw.count - offset >= WALFormat.recordHeaderSize {
            let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
            guard length <= raw.count - offset - WALFormat.recordHeaderSize else { return }
            let end = offset + WALFormat.recordHeaderSize + length
            let crc = maskedCRC32C(UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<end]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: offset, as: UInt32.self)
            offset = end
        }
    }
}

private func scanOneFile(_ input: UnsafeRawBufferPointer) {
    guard let scan = try? WALFileScanner.scan(input) else { return }
    var expected = scan.firstOpNum
    var end = WALFormat.fileHeaderSize
    for record in scan.records {
        precondition(record.opNum == expected, "scanner returned op \(record.opNum), expected \(expected)")
        precondition(record.offset == end, "scanner skipped bytes before op \(record.opNum)")
        precondition(record.payloadRange.lowerBound == record.offset + WALFormat.recordHeaderSize)
        precondition(record.payloadRange.upperBound <= input.count)
        precondition(record.syncedThrough < record.opNum)
        end = record.payloadRange.upperBound
        expected &+= 1
    }
    precondition(scan.validEnd == end, "validEnd \(scan.validEnd) is not the end of the last record \(end)")
    switch scan.stop {
    case nil:
        precondition(scan.validEnd == input.count, "clean scan stopped before the end")
    case .tornTail(let offset, _):
        precondition(offset == scan.validEnd && offset < input.count)
    case .damagedBeforeValidRecords(let offset, _, let later):
        precondition(offset == scan.validEnd && later > offset && later < input.count)
    case .undecided(let offset, _):
        precondition(offset == scan.validEnd && offset < input.count)
    }
}

/// Splits the input at each occurrence of the magic (after the first byte).
private func splitIntoFiles(_ input: UnsafeRawBufferPointer) -> [[UInt8]] {
    let magic = WALFormat.magic
    var files: [[UInt8]] = []
    var start = 0
    var i = 1
    while i + magic.count <= input.count {
        if input[i] == magic[0] && Array(input[i..<(i + magic.count)]) == magic {
            files.append(Array(input[start..<i]))
            start = i
            i += magic.count
        } else {
            i += 1
        }
    }
    files.append(Array(input[start...]))
    return files
}

private func openAsLog(_ fileContents: [[UInt8]]) {
    let directory = "/wal"
    let fs = FaultInjectingFileSystem(durableDirectories: [directory])
    do {
        for (index, bytes) in fileContents.enumerated() {
            // Name each file by the first_op_num its header claims (bytes 16..<24), so
            // that inputs reach record checks; fall back to a distinct op.
            var op = UInt64(index + 1)
            if bytes.count >= 24 {
                let claimed = bytes.withUnsafeBytes {
                    UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                }
                if claimed > 0 { op = claimed }
            }
            let file = try fs.open(joinPath(directory, WALFormat.fileName(firstOpNum: op)), mode: .create)
            try file.truncate(to: 0)
            try file.write(at: 0, bytes)
            try file.sync()
        }
        try fs.syncDirectory(directory)
    } catch {
        preconditionFailure("setting up the in-memory directory failed: \(error)")
    }

    var first: [Replayed] = []
    var log: WriteAheadLog?
    do {
        log = try WriteAheadLog.open(fileSystem: fs, directory: directory) { op, payload in
            first.append(Replayed(op: op, payload: Array(payload)))
        }
    } catch is WALError {
        return
    } catch {
        preconditionFailure("open threw something other than WALError: \(error)")
    }
    let report = log!.recoveryReport
    checkContiguous(first, report: report)
    let lastOp = report.lastOpNum
    // Op numbers near UInt64.max cannot take another record; skip the append there.
    guard lastOp < UInt64.max - 1 else {
        closeAndAwaitRelease(&log)
        return
    }
    do {
        let op = try log!.appendAndWait([0xF0, 0x0D])
        precondition(op == lastOp + 1, "append after recovery got op \(op), expected \(lastOp + 1)")
    } catch {
        preconditionFailure("append after a successful open failed: \(error)")
    }
    closeAndAwaitRelease(&log)
    let expected = first + [Replayed(op: lastOp + 1, payload: [0xF0, 0x0D])]

    // The cut of a torn tail and the acknowledged append must both be durable:
    // lose power, then the log must reopen cleanly with exactly those records.
    fs.simulatePowerLoss(.dropUnsynced)
    var second: [Replayed] = []
    do {
        var again: WriteAheadLog? = try WriteAheadLog.open(fileSystem: fs, directory: directory) { op, payload in
            second.append(Replayed(op: op, payload: Array(payload)))
        }
        let cut = again!.recoveryReport.cutTail
        precondition(cut == nil, "reopen cut a tail: \(String(describing: cut))")
        closeAndAwaitRelease(&again)
    } catch {
        preconditionFailure("reopen after recovery, one append and a power loss failed: \(error)")
    }
    precondition(
        second == expected,
        "reopen replayed \(second.count) records, expected \(expected.count) (\(expected.last!.op) last)")
}

/// Closes the log and waits until its writer thread has let go of it.
/// `close()` returns once the writer has stopped, but the thread still holds the
/// log (and through it the file system) for a moment while it exits; without
/// this wait LeakSanitizer, which libFuzzer runs after an input, reports that
/// transient state as a leak. Not released within 10 s means a real leak.
private func closeAndAwaitRelease(_ log: inout WriteAheadLog?) {
    log!.close()
    weak var released = log
    log = nil
    let deadline = ContinuousClock.now + .seconds(10)
    while released != nil {
        precondition(
            ContinuousClock.now < deadline,
            "the log was not released 10 s after close(): a reference cycle or a stuck writer thread")
        sched_yield()
    }
}

private struct Replayed: Equatable {
    let op: UInt64
    let payload: [UInt8]
}

private func checkContiguous(_ records: [Replayed], report: WALRecoveryReport) {
    precondition(report.records == records.count, "report says \(report.records) records, replay gave \(records.count)")
    for (a, b) in zip(records, records.dropFirst()) {
        precondition(b.op == a.op &+ 1, "replay jumped from op \(a.op) to \(b.op)")
    }
    if let last = records.last {
        precondition(report.lastOpNum == last.op, "report lastOpNum \(report.lastOpNum) != last replayed \(last.op)")
    }
}

/// CRC32C, masked as `docs/format/wal.md` says: a small table-driven copy, so
/// the fuzz package needs no product beyond StrataWAL and StrataIO.
private let crcTable: [UInt32] = (0..<256).map { index in
    var crc = UInt32(index)
    for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F6_3B78 : 0) }
    return crc
}

private func maskedCRC32C(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    crc ^= 0xFFFF_FFFF
    return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
}
