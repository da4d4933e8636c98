import Strata
import Testing

@testable import StrataServer

@Suite struct ReplicationFramesTests {
    @Test func framesRoundTripAndDamageIsRefused() throws {
        let records = [
            Collection.ReplicatedRecord(opNum: 7, payload: [1, 0, 0, 0, 0]),
            Collection.ReplicatedRecord(opNum: 8, payload: []),
            Collection.ReplicatedRecord(opNum: 9, payload: Array(repeating: 0xAB, count: 300)),
        ]
        let bytes = ReplicationFrames.encode(records)
        #expect(bytes.count == 3 * 16 + 5 + 0 + 300)
        #expect(Array(bytes[0..<12]) == [7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0])
        #expect(try ReplicationFrames.decode(bytes) == records)
        #expect(try ReplicationFrames.decode([]).isEmpty)

        var flipped = bytes
        flipped[16 + 2] ^= 0x01  // a payload byte of op 7
        #expect(throws: (any Error).self) { try ReplicationFrames.decode(flipped) }
        #expect(throws: (any Error).self) { try ReplicationFrames.decode(Array(bytes.dropLast())) }
        #expect(throws: (any Error).self) { try ReplicationFrames.decode(Array(bytes.prefix(10))) }
    }
}
