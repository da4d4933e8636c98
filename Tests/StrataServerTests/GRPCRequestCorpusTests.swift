import Foundation
import StrataServer
import Testing

/// Replays the gRPC request fuzz corpus (fuzz/corpus/grpc-request) through the
/// real services on every `swift test`: every seed (a valid request of each
/// RPC, scripts/grpc-fuzz-seeds.py) is answered, and truncated and bit-flipped
/// copies of each end in a reply or an error. Serialized: the tests share the
/// harness's one scratch database.
@Suite(.serialized) struct GRPCRequestCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/grpc-request")

    @Test func everySeedDecodesAndEveryRPCHasOne() async throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.corpus, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        var rpcs = Set<UInt8>()
        // Seeds that a one-node Strata refuses by design, as its REST API does.
        let refusedByDesign: Set<String> = [
            "Collections-UpdateCollectionClusterSetup.bin", "Collections-CreateShardKey.bin",
            "Collections-DeleteShardKey.bin", "Collections-ListShardKeys.bin", "Snapshots-Delete.bin",
            "Snapshots-DeleteFull.bin",
        ]
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            await GRPCRequestFuzzing.reset()
            let outcome = await GRPCRequestFuzzing.check(bytes)
            let name = file.lastPathComponent
            guard !name.hasPrefix("regression-") else { continue }
            rpcs.insert(bytes[0])
            if refusedByDesign.contains(name) {
                #expect(outcome != .undecodable, "\(name) did not decode as its RPC's message")
            } else {
                #expect(outcome == .answered, "\(name): \(outcome)")
            }
        }
        #expect(rpcs.count == GRPCRequestFuzzing.rpcCount)
    }

    @Test func damagedMessagesEndInErrors() async throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.corpus, includingPropertiesForKeys: nil)
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 5)) {
                await GRPCRequestFuzzing.check(Array(bytes.prefix(cut)))
            }
            var flipped = bytes
            for index in stride(from: 1, to: flipped.count, by: 3) { flipped[index] ^= 0x5A }
            await GRPCRequestFuzzing.check(flipped)
        }
    }
}
