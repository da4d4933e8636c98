import StrataFuzzChecks

// libFuzzer entry point for the collection MANIFEST (docs/format/manifest.md,
// versions 1 and 2). The checks live in StrataFuzzChecks (`ManifestFuzzCheck`)
// so that the normal test run replays this target's corpus with the same checks:
// decode raw and with the CRC recomputed (typed corruption errors naming the file,
// round trip), then open a real in-memory collection with the input as its MANIFEST.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ManifestFuzzCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
