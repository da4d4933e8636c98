import StrataFuzzChecks

// libFuzzer entry point for the snapshot archive reader (docs/format/snapshot.md:
// the tar reader, snapshot.json, the verify path and restore). The checks live in
// StrataFuzzChecks (`SnapshotArchiveFuzzCheck`) so that the normal test run
// replays this target's corpus with the same checks: verify and restore on an
// in-memory file system, raw and with every checksum recomputed; typed errors
// only, nothing written by verify, nothing outside the data directory by restore.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    SnapshotArchiveFuzzCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
