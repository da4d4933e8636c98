import StrataIO
import StrataSegment
import StrataFuzzChecks

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
    recomputeSegmentChecksums(&fixed)
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
                precondition(
                    vector.count == spec.dimension, "vector of dimension \(vector.count), spec \(spec.dimension)")
                let row = reader.withVectorRows(spec.name) { rows in rows.row(offset) }
                precondition(
                    row.map { $0.map(\.bitPattern) } == vector.map(\.bitPattern),
                    "vector(at:) differs from the mapped row")
            }
        }
        for name in reader.multiVectorNames {
            let rows = reader.withMultiVectorRows(name, at: offset) { rows, count in (rows.count, count) }
            let dimension = specs.first { $0.name == name }!.dimension
            precondition(rows.map { $0.0 == $0.1 * dimension } == true, "multivector rows do not fill whole rows")
            precondition((rows!.1 > 0) == reader.hasVector(name, at: offset), "multivector rows and presence disagree")
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
        precondition(reader.withVectorRows(spec.name) { $0.dimension } == spec.dimension)
        precondition(reader.withVectorRows(spec.name) { $0.datatype } == spec.datatype)
        // The float32 view exists exactly for float32 rows.
        precondition((reader.withVectors(spec.name) { _, _ in 1 } != nil) == (spec.datatype == .float32))
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
    precondition(
        error.code == .corruption || error.code == .unsupportedVersion, "unexpected code \(error.code): \(error)")
}

/// Writes the segment again from what the reader returns and checks the copy reads the same.
private func rewriteAndCompare(_ reader: SegmentReader, _ fs: FaultInjectingFileSystem) {
    let specs = reader.vectorSpecs
    var points: [SegmentBuildPoint] = []
    for offset in 0..<reader.pointCount {
        var vectors: [String: [Float]] = [:]
        for spec in specs { vectors[spec.name] = reader.vector(spec.name, at: offset) }
        var multi: [String: [Float]] = [:]
        for name in reader.multiVectorNames {
            multi[name] =
                reader.withMultiVectorRows(name, at: offset) { rows, count in count > 0 ? Array(rows) : nil } ?? nil
        }
        let payload = try! reader.payload(at: offset)  // verifyAll passed: must not throw
        points.append(
            SegmentBuildPoint(
                id: reader.id(at: offset), version: reader.version(at: offset), vectors: vectors, payload: payload,
                multiVectors: multi))
    }
    let copyPath = "/segments/copy.seg"
    let copy: SegmentReader
    do {
        try SegmentWriter.write(
            points, vectors: specs, compression: reader.payloadCodec, multiVectors: reader.multiVectorNames,
            to: copyPath, fileSystem: fs)
        copy = try SegmentReader.open(path: copyPath, fileSystem: fs)
    } catch {
        preconditionFailure("rewriting a segment that verified clean failed: \(error)")
    }
    precondition(copy.pointCount == reader.pointCount && copy.vectorSpecs == specs)
    for offset in 0..<reader.pointCount {
        precondition(
            copy.id(at: offset) == reader.id(at: offset) && copy.version(at: offset) == reader.version(at: offset))
        for spec in specs {
            precondition(
                copy.vector(spec.name, at: offset)?.map(\.bitPattern)
                    == reader.vector(spec.name, at: offset)?.map(\.bitPattern))
        }
        precondition(
            (try? copy.payload(at: offset)) == (try? reader.payload(at: offset)),
            "payload differs after rewrite at \(offset)")
        for name in reader.multiVectorNames {
            let original = reader.withMultiVectorRows(name, at: offset) { rows, _ in rows.map(\.bitPattern) }
            precondition(
                copy.withMultiVectorRows(name, at: offset) { rows, _ in rows.map(\.bitPattern) } == original,
                "multivector rows differ after rewrite")
        }
    }
    precondition(copy.verifyAll().isEmpty, "the rewritten segment does not verify")
}
