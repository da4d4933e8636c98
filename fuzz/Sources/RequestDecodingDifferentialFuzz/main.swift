import StrataServer

// libFuzzer entry point: the server's request decoder (StrataJSON's tape
// decoder) against Foundation's JSONDecoder, its reference (issue 25).
//
// Each input is one request body. For every request type a route decodes,
// both decoders must make the same decision, and when both decode, produce the
// same value (compared by a canonical description: every field, dictionaries
// sorted, numbers in round-tripping form). Error messages are not compared
// here: with several errors inside one object decoded as a dictionary,
// JSONDecoder reports the one its per-process hash order meets first
// (`Tests/StrataServerTests/RequestDecodingReferenceTests` compares messages
// on bodies with one error). A disagreement is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let difference = RequestDecoding.disagreement(bytes, messages: false) {
        fatalError("decoders disagree: \(difference)")
    }
    return 0
}
