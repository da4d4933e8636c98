import Foundation
import Strata
@testable import StrataServer
import StrataTestSupport
import Testing

/// Strict mode's memory limit and the MiB numbers of its size limits, below
/// the HTTP layer (the client suite drives the size limits end to end; a
/// server's real resident share cannot be steered there).
@Suite struct StrictModeSizeTests {
    @Test func residentMemoryLimitRefusesAtAndAboveTheLimit() throws {
        try withTemporaryDirectory { dir in
            let database = try Database.open(at: dir)
            defer { database.close() }
            var strict = StrictModeConfig()
            strict.enabled = true
            strict.maxResidentMemoryPercent = 80
            let collection = try database.createCollection(
                "c", config: CollectionConfig(vectors: ["": VectorParams(size: 2, distance: .dot)], strictMode: strict))
            let check = try #require(StrictModeCheck(collection))
            try check.checkResidentMemory(used: .some(79))
            try check.checkResidentMemory(used: .some(nil))  // unreadable statistics let the write through
            #expect {
                try check.checkResidentMemory(used: .some(80))
            } throws: { error in
                (error as? APIError)?.message
                    == "Bad request: Resident memory usage is at 80% of total memory, exceeding the configured limit of 80%. Help: Reduce memory usage (e.g. delete points or drop collections), or raise `max_resident_memory_percent` in the strict mode config of this collection."
            }
            // The real measurement of this process is a sane percentage.
            let used = try #require(ResidentMemory.percentUsed())
            #expect((0...100).contains(used))
            #expect(try #require(ResidentMemory.residentBytes()) > 1 << 20)
        }
    }

    @Test func megabytesAreWrittenAsRustPrintsAnF32() {
        #expect(StrictModeCheck.megabytes(1 << 20) == "1")
        #expect(StrictModeCheck.megabytes(3 << 19) == "1.5")
        #expect(StrictModeCheck.megabytes(40) == "0.000038146973")
        #expect(StrictModeCheck.megabytes(100 << 20) == "100")
    }
}
