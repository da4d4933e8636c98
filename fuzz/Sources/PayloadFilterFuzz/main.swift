import StrataFuzzChecks

// libFuzzer entry point for the filter language and the payload-index format
// (issue 5). The checks live in StrataFuzzChecks (`PayloadFilterFuzzCheck`) so
// that the normal test run replays this target's corpus with the same checks.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    PayloadFilterFuzzCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
