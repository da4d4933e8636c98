import Foundation
import Strata
import StrataIO

/// Settings of a power-loss run (`strata crashtest --power-loss`).
public struct PowerLossOptions: Sendable {
    /// A path inside the simulated file system.
    public var directory = "/crashtest"
    public var cycles: Int
    public var seed: UInt64
    public var durationSeconds: Double? = nil
    public var writers: Int = 4
    public var workload: CrashWorkload.Kind = .basic
    /// Keep a random prefix of each file's unsynced writes, the last one torn
    /// at a random byte, instead of dropping every unsynced write.
    public var tornWrites = false
    /// The crash comes after a random number of file-system operations in
    /// 1…this (or, if the workload has not got there, after `maxMilliseconds`).
    public var maxOperations = 3000
    public var maxMilliseconds = 1500
    /// Sweep: one writer, this many operations with maintenance inline, and a
    /// crash at every file-system operation of it in turn (`runSweep`).
    public var sweepOperations = 24

    public init(cycles: Int, seed: UInt64) {
        self.cycles = cycles
        self.seed = seed
    }
}

/// The power-loss crash test: the engine runs in this process on
/// `FaultInjectingFileSystem`, which keeps what was synced apart from what was
/// only written. At the crash point every later operation fails; then the
/// simulated power cut drops every write no `fsync` made durable (including
/// directory entries not yet synced), or with torn writes keeps a random
/// prefix of them, the last one cut at a random byte. The store is reopened
/// on what survived and checked by the same oracle as the kill -9 test.
/// Unlike `kill -9`, which keeps the page cache, this tests the `fsync`
/// discipline itself.
public enum PowerLossCrashTest {
    /// Random crash points, one per cycle, on one simulated disk that carries
    /// over from cycle to cycle.
    public static func run(
        _ options: PowerLossOptions, progress: (String) -> Void = { _ in }
    ) async throws -> CrashTestSummary {
        let start = Date()
        var rng = SplitMix64(seed: options.seed)
        let fileSystem = FaultInjectingFileSystem()
        var oracle = CrashTestOracle(named: options.workload == .mixed)
        var snapshotCheck = CrashTestSnapshotCheck()
        var summary = CrashTestSummary()
        var settings = CrashChildSettings(writers: options.writers, workload: options.workload)
        settings.durability = .durable
        for cycle in 1...max(options.cycles, 1) {
            if let limit = options.durationSeconds, Date().timeIntervalSince(start) >= limit { break }
            let budget = 1 + Int(rng.next() % UInt64(max(options.maxOperations, 1)))
            let mode: PowerLossMode = options.tornWrites ? .randomTear(seed: rng.next()) : .dropUnsynced
            let sink = BufferedEventSink()
            let crashedAt = try await runUntilCrash(
                options.directory, seed: options.seed, cycle: UInt32(cycle), settings: settings,
                fileSystem: fileSystem, sink: sink, budget: budget,
                maxMilliseconds: options.maxMilliseconds)
            fileSystem.simulatePowerLoss(mode)
            let output = sink.text
            let open = { try Database.open(at: options.directory, fileSystem: fileSystem) }
            var report = oracle.verify(
                childOutput: output, writers: options.writers, cycle: cycle, seed: options.seed,
                failuresMayBeCrashes: true, open: open)
            var note = ""
            if options.workload == .snapshot || options.workload == .mixed {
                let snapshots = snapshotCheck.verify(
                    childOutput: output, cycle: cycle, fileSystem: fileSystem, open: open)
                report.corrupt += snapshots.problems.count
                report.problems += snapshots.problems
                summary.snapshots += snapshots.snapshots
                summary.restores += snapshots.restores
                note = ", snapshots \(snapshots.snapshots), restores \(snapshots.restores)"
            }
            summary.add(report)
            progress(
                "cycle \(cycle)/\(options.cycles): power cut at file-system operation \(crashedAt) (\(mode)), acked \(report.acked), in flight \(report.inFlight) (applied \(report.appliedInFlight)), points \(oracle.pointCount)\(note)"
                    + (report.isClean
                        ? "" : " — PROBLEMS: lost=\(report.lost) phantom=\(report.phantom) corrupt=\(report.corrupt)"))
            if !report.isClean {
                explain(report, fileSystem: fileSystem, into: &summary)
                summary.problems.insert(
                    "reproduce with: strata crashtest --power-loss\(options.tornWrites ? " --torn-writes" : "") --cycles \(cycle) --seed \(options.seed) --workload \(options.workload.rawValue) --writers \(options.writers) (first failing cycle: \(cycle), power cut at operation \(crashedAt); thread timing makes a replay likely, not certain)",
                    at: 0)
                break
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// The sweep (as SQLite's crash tests do): one writer runs a short
    /// workload with flushes, merges, snapshots, restores and reopens inline;
    /// first without a crash to count its file-system operations, then once
    /// per operation with the power cut right there (alternately dropping all
    /// unsynced writes and keeping a torn random prefix), each on a fresh disk.
    public static func runSweep(
        _ options: PowerLossOptions, progress: (String) -> Void = { _ in }
    ) async throws -> CrashTestSummary {
        let start = Date()
        var summary = CrashTestSummary()
        var settings = CrashChildSettings(writers: 1, workload: options.workload)
        settings.operationsPerWriter = options.sweepOperations
        settings.inlineMaintenance = true
        // Dry run: how many operations the workload does.
        let dry = FaultInjectingFileSystem()
        let drySink = BufferedEventSink()
        try await CrashTestChild.run(
            directory: options.directory, seed: options.seed, cycle: 1, settings: settings, fileSystem: dry,
            sink: drySink)
        let total = dry.operationCount
        if let failure = drySink.text.split(separator: "\n").first(where: { $0.hasPrefix("E ") }) {
            summary.corrupt += 1
            summary.problems.append("the sweep's workload failed without a crash: \(failure)")
            summary.seconds = Date().timeIntervalSince(start)
            return summary
        }
        let dryLines = drySink.text.split(separator: "\n")
        func count(_ prefix: String) -> Int { dryLines.filter { $0.hasPrefix(prefix) }.count }
        progress(
            "sweep: the workload does \(total) file-system operations (\(count("A ")) writes, \(count("M flush")) flushes, \(count("M optimize")) merges, \(count("S ")) snapshots, \(count("RA ")) restores, \(count("M reopen")) reopens); cutting power at each"
        )
        for point in 0..<total {
            if let limit = options.durationSeconds, Date().timeIntervalSince(start) >= limit { break }
            let fileSystem = FaultInjectingFileSystem()
            fileSystem.crashAfterOperations = point
            let sink = BufferedEventSink()
            try? await CrashTestChild.run(
                directory: options.directory, seed: options.seed, cycle: 1, settings: settings,
                fileSystem: fileSystem, sink: sink)
            let mode: PowerLossMode = point % 2 == 0 ? .dropUnsynced : .randomTear(seed: options.seed ^ UInt64(point))
            fileSystem.simulatePowerLoss(mode)
            var oracle = CrashTestOracle(named: options.workload == .mixed)
            let open = { try Database.open(at: options.directory, fileSystem: fileSystem) }
            var report = oracle.verify(
                childOutput: sink.text, writers: 1, cycle: point + 1, seed: options.seed,
                failuresMayBeCrashes: true, open: open)
            if options.workload == .snapshot || options.workload == .mixed {
                var snapshotCheck = CrashTestSnapshotCheck()
                let snapshots = snapshotCheck.verify(
                    childOutput: sink.text, cycle: point + 1, fileSystem: fileSystem, open: open)
                report.corrupt += snapshots.problems.count
                report.problems += snapshots.problems
                summary.snapshots += snapshots.snapshots
                summary.restores += snapshots.restores
            }
            summary.add(report)
            if !report.isClean {
                summary.problems.insert(
                    "reproduce with: strata crashtest --power-loss --sweep --sweep-operations \(options.sweepOperations) --seed \(options.seed) --workload \(options.workload.rawValue) (power cut at file-system operation \(point) of \(total), \(mode))",
                    at: 0)
                progress(
                    "operation \(point)/\(total) (\(mode)): PROBLEMS: lost=\(report.lost) phantom=\(report.phantom) corrupt=\(report.corrupt)"
                )
                break
            }
            if point % 100 == 0 || point == total - 1 {
                progress("operation \(point + 1)/\(total): clean so far, acked \(summary.acked)")
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Adds the simulated disk's history of every file a problem names, and
    /// the last manifest updates, directory syncs and power losses.
    static func explain(
        _ report: CrashTestOracle.CycleReport, fileSystem: FaultInjectingFileSystem,
        into summary: inout CrashTestSummary
    ) {
        var names = Set<String>()
        for problem in report.problems {
            for word in problem.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "," }) where word.contains("/")
            {
                if let name = word.split(separator: "/").last, name.contains(".") || name.hasPrefix("MANIFEST") {
                    names.insert(String(name))
                }
            }
        }
        guard !names.isEmpty else { return }
        let files = fileSystem.recentOperations(containing: Array(names))
        let context = fileSystem.recentOperations(containing: ["power loss", "MANIFEST", "fsync directory"]).suffix(80)
        summary.problems.append(
            "simulated disk history of \(names.sorted()):\n  " + files.joined(separator: "\n  ")
                + "\nlast manifest updates, directory syncs and power losses:\n  " + context.joined(separator: "\n  "))
    }

    /// Runs the workload until the simulated crash stops it; returns the
    /// file-system operation the crash came at.
    static func runUntilCrash(
        _ directory: String, seed: UInt64, cycle: UInt32, settings: CrashChildSettings,
        fileSystem: FaultInjectingFileSystem, sink: BufferedEventSink, budget: Int,
        maxMilliseconds: Int
    ) async throws -> Int {
        fileSystem.crashAfterOperations = fileSystem.operationCount + budget
        let child = Task {
            try? await CrashTestChild.run(
                directory: directory, seed: seed, cycle: cycle, settings: settings, fileSystem: fileSystem, sink: sink)
        }
        let deadline = Date().addingTimeInterval(Double(maxMilliseconds) / 1000)
        while !fileSystem.hasCrashed && Date() < deadline { try await Task.sleep(nanoseconds: 1_000_000) }
        if !fileSystem.hasCrashed { fileSystem.crashAfterOperations = fileSystem.operationCount }
        let crashedAt = fileSystem.crashAfterOperations ?? fileSystem.operationCount
        // Every operation fails from now on, so the writers and the maintenance stop.
        let finished = await firstOf(
            {
                await child.value; return true
            }, orAfter: 60)
        guard finished else {
            throw CrashTestError(
                message: "the workload did not stop within 60 s after the simulated crash at operation \(crashedAt)")
        }
        return crashedAt
    }
}

/// Runs `body` and returns its result, or `false` once `seconds` pass first
/// (the body keeps running; this only stops waiting for it).
func firstOf(_ body: @escaping @Sendable () async -> Bool, orAfter seconds: Double) async -> Bool {
    /// The continuation until it is resumed: whoever takes it under the lock
    /// resumes it, so it is resumed once.
    let pending = Locked<CheckedContinuation<Bool, Never>?>(nil)
    @Sendable func resume(_ value: Bool) {
        let taken: CheckedContinuation<Bool, Never>? = pending.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        taken?.resume(returning: value)
    }
    return await withCheckedContinuation { continuation in
        pending.withLock { $0 = continuation }
        Task { resume(await body()) }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            resume(false)
        }
    }
}
