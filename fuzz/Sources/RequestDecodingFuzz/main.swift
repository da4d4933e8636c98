import StrataServer

// libFuzzer entry point for the REST server's request decoding (issue 7).
//
// Each input is one request body. `RequestDecoding.decodeEveryRequestKind`
// runs the server's own decoding path on it for every body type it accepts
// (depth check, JSONDecoder into the Qdrant wire types, then the mapping to
// engine types: upsert batches and their pre-checks, selectors, payload
// selectors, search params, collection configs, alias actions). Any input
// must end in a decoded value or an `APIError`: a trap, a hang or unbounded
// memory is a finding. A second pass with a tiny depth limit exercises the
// nesting guard on every input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = RequestDecoding.decodeEveryRequestKind(bytes)
    _ = RequestDecoding.decodeEveryRequestKind(bytes, maxDepth: 2)
    return 0
}
