import Foundation
import StrataServer

// libFuzzer entry point for the gRPC server's request path (issue 17).
//
// An input's first byte picks one of the 50 RPCs of qdrant.Collections,
// qdrant.Points and qdrant.Snapshots; the rest is that RPC's protobuf
// message. `GRPCRequestFuzzing.check` decodes it with swift-protobuf (as
// grpc-swift does) and, when it decodes, runs the real service method on a
// scratch database: the conversion to the REST inputs, the shared operations
// and the engine. Any input must end in a reply or an error; a trap, a hang or
// unbounded memory is a finding. Seeds: fuzz/corpus/grpc-request (written by
// scripts/grpc-fuzz-seeds.py from qdrant-client's own messages).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let done = DispatchSemaphore(value: 0)
    Task {
        await GRPCRequestFuzzing.check(bytes)
        done.signal()
    }
    done.wait()
    return 0
}
