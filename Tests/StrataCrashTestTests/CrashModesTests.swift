import Foundation
import Strata
@testable import StrataCrashTest
import StrataIO
import StrataTestSupport
import Testing

/// The `mixed` workload, kill points and the power-loss modes of `strata
/// crashtest`, at small scale (the full runs are commands: see docs/durability.md).
@Suite(.serialized) struct CrashModesTests {
    /// Every kind of write, by id and by filter, with flushes, merges,
    /// snapshots, restores and reopens, killed at random moments.
    @Test func killedMixedWorkloadNeverLosesAcknowledgedWrites() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATA_CRASHTEST_SEED"] ?? "") ?? 2026_1126
        print("seed: \(seed)")
        let scratch = TemporaryDirectory("mixed")
        let directory = scratch.path + "/db"
        var options = CrashTestOptions(
            directory: directory, cycles: 6, seed: seed, childExecutable: try strataExecutable())
        options.workload = .mixed
        options.maxKillDelayMilliseconds = 900
        let summary = try CrashTestDriver.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(summary.acked > 100)
    }

    /// The child kills itself at named points: after the manifest rename,
    /// between a WAL write and its fdatasync, after a WAL file is removed, and
    /// in the middle of snapshot and restore publishing.
    @Test func killsAtNamedPointsRecoverToAWholeState() throws {
        let scratch = TemporaryDirectory("killpoints")
        let directory = scratch.path + "/db"
        var options = CrashTestOptions(
            directory: directory, cycles: 6, seed: 11, childExecutable: try strataExecutable())
        options.workload = .mixed
        options.killAt = .points(
            [
                "rename.manifest.after", "sync.wal.before", "remove.wal.after", "syncdir.directory.after",
                "rename.snapshot.before", "rename.restore.after",
            ].map { KillPoint($0)! })
        options.killPointTimeoutMilliseconds = 3000
        let summary = try CrashTestDriver.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(
            summary.killPointsReached >= 3,
            "only \(summary.killPointsReached) of \(summary.cycles) armed kill points were reached")
    }

    /// Power cuts at random file-system operations: unsynced writes and
    /// directory entries are dropped, or (torn) a random prefix of them survives.
    @Test(arguments: [false, true]) func powerLossNeverLosesAcknowledgedWrites(torn: Bool) async throws {
        var options = PowerLossOptions(cycles: 6, seed: torn ? 5 : 6)
        options.workload = .mixed
        options.tornWrites = torn
        options.maxOperations = 1500
        let summary = try await PowerLossCrashTest.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        // The workload must have written: alone it acknowledges ~2,000
        // operations; under the full parallel suite on 2 cores the maintenance
        // thread (snapshots, restores) takes most of the time before the cut,
        // and 37–136 were seen.
        #expect(summary.cycles == 6 && summary.acked > 12)
    }

    /// The sweep: a power cut at every file-system operation of a short
    /// workload with flushes, merges, snapshots, restores and reopens.
    @Test func powerLossAtEveryFileSystemOperationOfAShortWorkload() async throws {
        var options = PowerLossOptions(cycles: 1, seed: 3)
        options.workload = .mixed
        options.sweepOperations = 40
        var lines: [String] = []
        let summary = try await PowerLossCrashTest.runSweep(options) { lines.append($0) }
        print(lines.first ?? "", summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(
            summary.cycles > 150, "the sweep should cover every operation of the workload; it covered \(summary.cycles)"
        )
    }

    /// The names of kill points: every catalog entry parses back, and paths
    /// are classified by the data-directory layout.
    @Test func killPointNamesAndFileClasses() {
        for point in KillPoint.catalog { #expect(KillPoint(point.description) == point) }
        #expect(KillPoint("rename.manifest.later") == nil && KillPoint("fsync.wal.before") == nil)
        let c = "/d/collections/c"
        let cases: [(String, Bool, KillPoint.FileClass)] = [
            ("\(c)/wal/wal-00000000000000000001.log", false, .wal),
            ("\(c)/segments/seg-00000000000000000003.seg", false, .segment),
            ("\(c)/segments/seg-00000000000000000003-00000000000000000002.del.tmp", false, .tombstones),
            ("\(c)/MANIFEST.tmp", false, .manifest),
            ("\(c)/config.json", false, .config),
            ("/d/STRATA.tmp", false, .config),
            ("/d/snapshots/c/c-20261126T000000Z-5.snapshot.tmp", false, .snapshot),
            ("/d/collections/.restore-ab12-c", true, .restore),
            ("/d/collections/.restore-ab12.commit", false, .restore),
            ("\(c)/wal", true, .directory),
            ("/d/collections/.creating-c", true, .directory),
        ]
        for (path, isDirectory, expected) in cases {
            #expect(KillPoint.FileClass.of(path, isDirectory: isDirectory) == expected, "\(path)")
        }
    }
}
