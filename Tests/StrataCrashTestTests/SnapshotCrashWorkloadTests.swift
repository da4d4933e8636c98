import Foundation
import Strata
@testable import StrataCrashTest
import StrataTestSupport
import Testing

@Suite(.serialized) struct SnapshotCrashWorkloadTests {
    /// A child that writes, snapshots and restores is killed at random
    /// moments; every acknowledged write survives, no half snapshot is left
    /// or listed, every listed snapshot verifies, and collection `restored`
    /// is wholly one snapshot's state.
    @Test func killedSnapshotWorkloadLeavesOnlyWholeSnapshotsAndRestores() throws {
        let scratch = TemporaryDirectory("snapshot")
        let directory = scratch.path + "/db"
        var options = CrashTestOptions(
            directory: directory, cycles: 8, seed: 20261126, childExecutable: try strataExecutable())
        options.workload = .snapshot
        options.maxKillDelayMilliseconds = 900
        let summary = try CrashTestDriver.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(summary.snapshots > 0)
    }
}
