import Foundation
import Strata
import StrataIO

/// Settings of one crash-test run.
public struct CrashTestOptions: Sendable {
    public var directory: String
    public var cycles: Int
    public var seed: UInt64
    /// Stop after this many seconds even if cycles remain (nil: run all cycles).
    public var durationSeconds: Double? = nil
    /// Concurrent writers in the child (exercises group commit).
    public var writers: Int = 4
    /// The child is killed at a seeded random moment in this window after it starts.
    public var minKillDelayMilliseconds: Int = 30
    public var maxKillDelayMilliseconds: Int = 500
    /// The `strata` executable to run as `strata crashtest-child`.
    public var childExecutable: String
    /// `nil` for the default durable mode, else the periodic sync interval.
    public var periodicSyncMilliseconds: Int? = nil
    /// What the child does besides writing.
    public var workload: CrashWorkload.Kind = .basic
    /// Where the crash happens.
    public var killAt: KillSchedule = .random
    /// With `killAt: .points`, how long to wait for the point before killing anyway.
    public var killPointTimeoutMilliseconds: Int = 4000

    public init(directory: String, cycles: Int, seed: UInt64, childExecutable: String) {
        self.directory = directory
        self.cycles = cycles
        self.seed = seed
        self.childExecutable = childExecutable
    }
}

/// Where a cycle's crash happens.
public enum KillSchedule: Sendable, Equatable {
    /// SIGKILL after a seeded random delay.
    case random
    /// Each cycle arms one of these points (seeded choice) at a random hit
    /// count 1…6; the child kills itself there. If the child does not reach
    /// it in time, it is killed anyway (counted as missed).
    case points([KillPoint])
}

/// The result of a crash-test run.
public struct CrashTestSummary: Sendable {
    public var cycles = 0
    /// Operations the child reported as acknowledged.
    public var acked = 0
    /// In-flight operations found applied after recovery.
    public var appliedInFlight = 0
    /// Acknowledged writes missing or overwritten by older data after recovery.
    public var lost = 0
    /// Points present that no acknowledged or in-flight operation wrote, or
    /// that an acknowledged delete removed.
    public var phantom = 0
    /// Points whose vector, payload or version differ from what was written,
    /// operations applied in part, holes in the log, count/scroll or filter
    /// disagreements, wrong search results, failed verification or reopen.
    public var corrupt = 0
    /// Human-readable descriptions of the first problems found (the first
    /// line says how to reproduce).
    public var problems: [String] = []
    /// Snapshots published and restores finished by the child.
    public var snapshots = 0
    public var restores = 0
    /// With kill points: cycles whose armed point was reached / not reached.
    public var killPointsReached = 0
    public var killPointsMissed = 0
    /// Wall-clock time of the run.
    public var seconds = 0.0

    public var isClean: Bool { lost == 0 && phantom == 0 && corrupt == 0 }

    /// `crashtest: cycles=N acked=A lost=L phantom=P corrupt=C`
    /// (plus what else the run did)
    public var line: String {
        "crashtest: cycles=\(cycles) acked=\(acked) lost=\(lost) phantom=\(phantom) corrupt=\(corrupt)"
            + (snapshots + restores > 0 ? " snapshots=\(snapshots) restores=\(restores)" : "")
            + (killPointsReached + killPointsMissed > 0
                ? " killpoints=\(killPointsReached)/\(killPointsReached + killPointsMissed)" : "")
    }

    mutating func add(_ report: CrashTestOracle.CycleReport) {
        cycles += 1
        acked += report.acked
        appliedInFlight += report.appliedInFlight
        lost += report.lost
        phantom += report.phantom
        corrupt += report.corrupt
        problems.append(contentsOf: report.problems.prefix(max(0, 20 - problems.count)))
    }
}

/// Runs the kill -9 crash test: for each cycle, start a child that writes
/// into the store, kill it with SIGKILL (at a random moment or an armed kill
/// point), reopen the store in this process and check it against the oracle
/// (`CrashTestOracle`, and `CrashTestSnapshotCheck` for snapshots and restores).
public enum CrashTestDriver {
    public static func run(
        _ options: CrashTestOptions, progress: (String) -> Void = { _ in }
    ) throws -> CrashTestSummary {
        let start = Date()
        var rng = SplitMix64(seed: options.seed)
        var oracle = CrashTestOracle(named: options.workload == .mixed)
        var snapshotCheck = CrashTestSnapshotCheck()
        var summary = CrashTestSummary()
        for cycle in 1...max(options.cycles, 1) {
            if let limit = options.durationSeconds, Date().timeIntervalSince(start) >= limit { break }
            var armed: (point: KillPoint, hit: Int)?
            if case .points(let points) = options.killAt, !points.isEmpty {
                armed = (points[Int(rng.next() % UInt64(points.count))], Int(rng.next() % 6) + 1)
            }
            let delay =
                options.minKillDelayMilliseconds
                + Int(rng.next() % UInt64(max(options.maxKillDelayMilliseconds - options.minKillDelayMilliseconds, 1)))
            let output = try runChild(
                options, cycle: UInt32(cycle),
                killAfterMilliseconds: armed == nil ? delay : options.killPointTimeoutMilliseconds,
                killPoint: armed)
            let checkStart = Date()
            let open = { try Database.open(at: options.directory) }
            var report = oracle.verify(
                childOutput: output, writers: options.writers, cycle: cycle, seed: options.seed, open: open)
            var note = ""
            if options.workload == .snapshot || options.workload == .mixed {
                let snapshots = snapshotCheck.verify(
                    childOutput: output, cycle: cycle, fileSystem: POSIXFileSystem(), open: open)
                report.corrupt += snapshots.problems.count
                report.problems += snapshots.problems
                summary.snapshots += snapshots.snapshots
                summary.restores += snapshots.restores
                note += ", snapshots \(snapshots.snapshots), restores \(snapshots.restores)"
            }
            var how = "killed after \(delay) ms"
            if let armed {
                let reached = output.split(separator: "\n").first { $0.hasPrefix("K ") }
                if let reached {
                    summary.killPointsReached += 1
                    how = "killed at \(reached.dropFirst(2))"
                } else {
                    summary.killPointsMissed += 1
                    how =
                        "\(armed.point) #\(armed.hit) not reached; killed after \(options.killPointTimeoutMilliseconds) ms"
                }
            }
            summary.add(report)
            note += String(format: ", checked in %.2f s", Date().timeIntervalSince(checkStart))
            progress(
                "cycle \(cycle)/\(options.cycles): \(how), acked \(report.acked), in flight \(report.inFlight) (applied \(report.appliedInFlight)), points \(oracle.pointCount)\(note)"
                    + (report.isClean
                        ? "" : " — PROBLEMS: lost=\(report.lost) phantom=\(report.phantom) corrupt=\(report.corrupt)"))
            if !report.isClean {
                var command =
                    "strata crashtest --dir <empty dir> --cycles \(cycle) --seed \(options.seed) --workload \(options.workload.rawValue) --writers \(options.writers) --max-delay-ms \(options.maxKillDelayMilliseconds)"
                if let ms = options.periodicSyncMilliseconds { command += " --periodic-sync-ms \(ms)" }
                if case .points(let points) = options.killAt {
                    command += " --kill-at \(points.map(\.description).joined(separator: ","))"
                }
                summary.problems.insert(
                    "reproduce with: \(command) (first failing cycle: \(cycle), \(how); timing makes a replay likely, not certain)",
                    at: 0)
                let log = options.directory + ".cycle\(cycle).events"
                if FileManager.default.createFile(atPath: log, contents: Data(output.utf8)) {
                    summary.problems.insert(
                        "the failing cycle's event log (what the child did, line by line): \(log)", at: 1)
                }
                break
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Starts the child, kills it after `killAfterMilliseconds` (unless it
    /// killed itself at its armed kill point first), returns all it printed.
    static func runChild(
        _ options: CrashTestOptions, cycle: UInt32, killAfterMilliseconds: Int,
        killPoint: (point: KillPoint, hit: Int)?
    ) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.childExecutable)
        var arguments = [
            "crashtest-child", "--dir", options.directory, "--seed", String(options.seed),
            "--cycle", String(cycle), "--writers", String(options.writers),
        ]
        if let ms = options.periodicSyncMilliseconds { arguments += ["--periodic-sync-ms", String(ms)] }
        arguments += ["--workload", options.workload.rawValue]
        if let killPoint {
            arguments += ["--kill-at", killPoint.point.description, "--kill-hit", String(killPoint.hit)]
        }
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let collected = OutputCollector(stdout.fileHandleForReading)
        let errors = OutputCollector(stderr.fileHandleForReading)
        try process.run()
        let deadline = Date().addingTimeInterval(Double(killAfterMilliseconds) / 1000)
        while process.isRunning && Date() < deadline { usleep(killPoint == nil ? 1000 : 5000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = collected.finish()
        let errorText = errors.finish()
        if process.terminationReason == .exit {
            // The child ended by itself: it failed before the kill.
            throw CrashTestError(
                message:
                    "the crash-test child exited with status \(process.terminationStatus) before it was killed: \(errorText.suffix(2000))"
            )
        }
        return text
    }
}

public struct CrashTestError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Reads a pipe to its end on a background thread.
final class OutputCollector: Sendable {
    /// What the reader thread has read so far, and whether it reached the end
    /// of the pipe; the condition is broadcast when `done` is set.
    private let output = Locked(Output())

    private struct Output {
        var data = Data()
        var done = false
    }

    init(_ handle: FileHandle) {
        let thread = Thread { [output] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                output.withLock { $0.data.append(chunk) }
            }
            output.withLock { state in
                state.done = true
                output.broadcast()
            }
        }
        thread.start()
    }

    /// Waits for the end of the pipe and returns everything read.
    func finish() -> String {
        output.withLock(whenReady: { $0.done }) { String(decoding: $0.data, as: UTF8.self) }
    }
}
