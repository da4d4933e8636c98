import StrataBinary
@testable import StrataWAL
import StrataTestSupport
import Testing

@Suite struct WALScannerBudgetTests {
    /// A damaged record followed by megabytes of crafted headers, each plausible
    /// and claiming a payload that runs to the end of the file: without a work
    /// budget the search for a proving record is quadratic. It must give up and
    /// report the damage instead of cutting it as a torn tail.
    @Test func craftedHeadersExhaustTheSearchBudgetAndAreNotCutSilently() throws {
        var file = referenceFileHeader(firstOpNum: 1)
        file += referenceRecord(opNum: 1, syncedThrough: 0, payload: [0xAA])
        var damaged = referenceRecord(opNum: 2, syncedThrough: 1, payload: [0xBB])
        damaged[0] ^= 0xFF  // bad CRC at op 2
        file += damaged
        let crafted = 24 * 87_381  // about 2 MiB, a whole number of headers
        var tail: [UInt8] = []
        tail.reserveCapacity(crafted)
        while tail.count + 24 <= crafted {
            var header = ByteWriter()
            header.write(UInt32(0))  // wrong CRC
            header.write(UInt32(crafted - tail.count - 24))  // payload to the end
            header.write(UInt64(3))  // op above the damaged one
            header.write(UInt64(2))  // claims op 2 was synced
            tail += header.bytes
        }
        file += tail
        let scan = try file.withUnsafeBytes { try WALFileScanner.scan($0) }
        #expect(scan.records.count == 1)
        guard case .undecided(let offset, _)? = scan.stop else {
            Issue.record("expected the search to give up, got \(String(describing: scan.stop))")
            return
        }
        #expect(offset == 32 + 25)
    }

    /// Random garbage after a torn record (no plausible headers) is still a torn tail.
    @Test func randomGarbageAfterATornRecordIsATornTail() throws {
        var rng = SeededGenerator.forTest()
        var file = referenceFileHeader(firstOpNum: 1)
        file += referenceRecord(opNum: 1, syncedThrough: 0, payload: [1, 2, 3])
        file += Array(referenceRecord(opNum: 2, syncedThrough: 1, payload: [4, 5, 6]).prefix(20))
        file += rng.bytes(1 << 20)
        let scan = try file.withUnsafeBytes { try WALFileScanner.scan($0) }
        #expect(scan.records.count == 1)
        guard case .tornTail? = scan.stop else {
            Issue.record("expected a torn tail, got \(String(describing: scan.stop))")
            return
        }
    }
}
