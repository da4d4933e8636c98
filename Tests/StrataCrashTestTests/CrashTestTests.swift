import Foundation
import Strata
@testable import StrataCrashTest
import Testing

/// The `strata` executable built next to this test bundle (or $STRATA_EXECUTABLE).
func strataExecutable() throws -> String {
    if let path = ProcessInfo.processInfo.environment["STRATA_EXECUTABLE"] { return path }
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let candidate = me.deletingLastPathComponent().appendingPathComponent("strata").path
    guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw CrashTestError(message: "no strata executable at \(candidate): run `swift build` before `swift test`, or set STRATA_EXECUTABLE")
    }
    return candidate
}

func temporaryPath(_ label: String) -> String {
    NSTemporaryDirectory() + "strata-crash-\(label)-\(UUID().uuidString.prefix(8))"
}

@Suite(.serialized) struct CrashTestTests {
    /// The real thing: a child process killed with SIGKILL at random moments,
    /// 20+ cycles, every recovery checked against the model.
    @Test func killedWriterNeverLosesAcknowledgedWrites() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATA_CRASHTEST_SEED"] ?? "") ?? 20261125
        print("seed: \(seed)")
        let directory = temporaryPath("durable")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = CrashTestOptions(directory: directory, cycles: 24, seed: seed, childExecutable: try strataExecutable())
        options.maxKillDelayMilliseconds = 400
        let summary = try CrashTestDriver.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(summary.cycles == 24)
        #expect(summary.acked > 100, "the child should have acknowledged many writes; got \(summary.acked)")
    }

    @Test func killedWriterInPeriodicModeNeverLosesAcknowledgedWrites() throws {
        // kill -9 keeps the page cache, so even the relaxed mode must lose nothing here.
        let directory = temporaryPath("periodic")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = CrashTestOptions(directory: directory, cycles: 8, seed: 7, childExecutable: try strataExecutable())
        options.periodicSyncMilliseconds = 50
        options.maxKillDelayMilliseconds = 300
        let summary = try CrashTestDriver.run(options)
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(summary.acked > 0)
    }

    /// The oracle must be able to fail: claims of acknowledged writes that never
    /// reached the store are reported as lost, and points nobody wrote as phantoms.
    @Test func oracleReportsLostAndPhantomWrites() async throws {
        let directory = temporaryPath("oracle")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let db = try Database.open(at: directory)
            let c = try db.createCollection(CrashWorkload.collectionName, config: CrashWorkload.collectionConfig)
            try await c.upsert([CrashWorkload.point(id: 5, token: 77)])  // op 1, never reported: a phantom
            db.close()
        }
        var oracle = CrashTestOracle()
        // Claims op 2 upserted id 9 with token 42, which the store never saw.
        let report = oracle.verify(childOutput: "I 0 1 U 9:42\nA 0 1 2\n", directory: directory, cycle: 1, seed: 1)
        #expect(report.lost == 1)
        #expect(report.phantom == 1)
        #expect(!report.isClean)
    }

    @Test func oracleAcceptsEitherOutcomeOfAnInFlightWrite() async throws {
        let directory = temporaryPath("inflight")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let db = try Database.open(at: directory)
            let c = try db.createCollection(CrashWorkload.collectionName, config: CrashWorkload.collectionConfig)
            try await c.upsert([CrashWorkload.point(id: 1, token: 10)])
            try await c.upsert([CrashWorkload.point(id: 2, token: 20)])
            db.close()
        }
        var oracle = CrashTestOracle()
        // Op 1 acknowledged; op 2 in flight (applied); a third in flight (not applied).
        let output = "I 0 1 U 1:10\nA 0 1 1\nI 1 1 U 2:20\nI 2 1 D 1\n"
        let report = oracle.verify(childOutput: output, directory: directory, cycle: 1, seed: 1)
        #expect(report.isClean, "\(report.problems)")
        #expect(report.acked == 1)
        #expect(report.inFlight == 2)
    }

    @Test func corruptedPointIsReported() async throws {
        let directory = temporaryPath("corrupt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let db = try Database.open(at: directory)
            let c = try db.createCollection(CrashWorkload.collectionName, config: CrashWorkload.collectionConfig)
            // Token 10's payload with another token's vector.
            try await c.upsert([PointStruct(id: 1, vector: CrashWorkload.vector(for: 11), payload: CrashWorkload.payload(for: 10))])
            db.close()
        }
        var oracle = CrashTestOracle()
        let report = oracle.verify(childOutput: "I 0 1 U 1:10\nA 0 1 1\n", directory: directory, cycle: 1, seed: 1)
        #expect(report.corrupt >= 1)
    }
}

@Suite struct CrashTestCommandTests {
    /// `strata crashtest` as a user runs it: exit status 0 and the summary line last.
    @Test func commandPrintsTheSummaryLineAndExitsZero() throws {
        let directory = temporaryPath("cli")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try strataExecutable())
        process.arguments = ["crashtest", "--dir", directory, "--cycles", "3", "--seed", "3", "--quiet"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        #expect(process.terminationStatus == 0)
        let last = try #require(lines.last)
        #expect(last.hasPrefix("crashtest: cycles=3 acked="))
        #expect(last.hasSuffix("lost=0 phantom=0 corrupt=0"))
    }

    /// The directory lock holds across processes: while a child has the store
    /// open, opening it here fails with `.locked`; once the child is killed, the
    /// kernel drops its lock and opening works.
    @Test func secondProcessIsLockedOutUntilTheFirstDies() throws {
        let directory = temporaryPath("lock")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try strataExecutable())
        child.arguments = ["crashtest-child", "--dir", directory, "--seed", "1", "--cycle", "1", "--writers", "1"]
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        // Wait for the child's READY line (it has the lock from then on).
        var seen = ""
        while !seen.contains("READY") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("READY"))
        let error = #expect(throws: StrataError.self) { try Database.open(at: directory) }
        #expect(error?.code == .locked)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let db = try Database.open(at: directory)
        #expect(db.collectionNames() == [CrashWorkload.collectionName])
        db.close()
    }
}

@Suite(.serialized) struct OptimizerCrashTests {
    /// Tiny segments, constant flushes, merges, vacuums and WAL truncation in
    /// the child while it is killed at random moments.
    @Test func killedDuringFlushesAndMergesNeverLosesAcknowledgedWrites() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATA_CRASHTEST_SEED"] ?? "") ?? 7_2026
        print("seed: \(seed)")
        let directory = temporaryPath("optimizer")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = CrashTestOptions(directory: directory, cycles: 20, seed: seed, childExecutable: try strataExecutable())
        options.workload = .optimizer
        options.maxKillDelayMilliseconds = 500
        let summary = try CrashTestDriver.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(summary.acked > 100)
        // The workload really exercised the LSM machinery.
        let db = try Database.open(at: directory)
        defer { db.close() }
        let info = try db.collection(CrashWorkload.collectionName).storageInfo
        #expect(info.checkpoint > 0, "no flush was ever published")
        #expect(!info.segments.isEmpty)
    }
}
