import Foundation
import Strata
import StrataIO

/// Settings of one crash-test run.
public struct CrashTestOptions: Sendable {
    public var directory: String
    public var cycles: Int
    public var seed: UInt64
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

    public init(directory: String, cycles: Int, seed: UInt64, childExecutable: String) {
        self.directory = directory
        self.cycles = cycles
        self.seed = seed
        self.childExecutable = childExecutable
    }
}

/// The result of a crash-test run.
public struct CrashTestSummary: Sendable {
    public var cycles = 0
    /// Operations the child reported as acknowledged.
    public var acked = 0
    /// Acknowledged writes missing or overwritten by older data after recovery.
    public var lost = 0
    /// Points present that no acknowledged or in-flight operation wrote, or
    /// that an acknowledged delete removed.
    public var phantom = 0
    /// Points whose vector, payload or version differ from what was written,
    /// count/scroll disagreements, wrong search results, or a failed reopen.
    public var corrupt = 0
    /// Human-readable descriptions of the first problems found.
    public var problems: [String] = []
    /// Snapshots published and restores finished by the child (workload `snapshot`).
    public var snapshots = 0
    public var restores = 0

    public var isClean: Bool { lost == 0 && phantom == 0 && corrupt == 0 }

    /// `crashtest: cycles=N acked=A lost=L phantom=P corrupt=C`
    /// (plus ` snapshots=S restores=R` for the snapshot workload)
    public var line: String {
        "crashtest: cycles=\(cycles) acked=\(acked) lost=\(lost) phantom=\(phantom) corrupt=\(corrupt)"
            + (snapshots + restores > 0 ? " snapshots=\(snapshots) restores=\(restores)" : "")
    }
}

/// Runs the kill -9 crash test: for each cycle, start a child that writes
/// into the store, kill it with SIGKILL at a random moment, reopen the store in
/// this process and check it against the oracle (`CrashTestOracle`).
public enum CrashTestDriver {
    public static func run(_ options: CrashTestOptions, progress: (String) -> Void = { _ in }) throws -> CrashTestSummary {
        var rng = SplitMix64(seed: options.seed)
        var oracle = CrashTestOracle()
        var snapshotCheck = CrashTestSnapshotCheck()
        var summary = CrashTestSummary()
        for cycle in 1...max(options.cycles, 1) {
            let delay = options.minKillDelayMilliseconds
                + Int(rng.next() % UInt64(max(options.maxKillDelayMilliseconds - options.minKillDelayMilliseconds, 1)))
            let output = try runChild(options, cycle: UInt32(cycle), killAfterMilliseconds: delay)
            var cycleReport = oracle.verify(childOutput: output, directory: options.directory, cycle: cycle, seed: options.seed)
            var snapshotNote = ""
            if options.workload == .snapshot {
                let snapshots = snapshotCheck.verify(childOutput: output, directory: options.directory, cycle: cycle)
                cycleReport.corrupt += snapshots.problems.count
                cycleReport.problems += snapshots.problems
                summary.snapshots += snapshots.snapshots
                summary.restores += snapshots.restores
                snapshotNote = ", snapshots \(snapshots.snapshots), restores \(snapshots.restores)"
            }
            summary.cycles += 1
            summary.acked += cycleReport.acked
            summary.lost += cycleReport.lost
            summary.phantom += cycleReport.phantom
            summary.corrupt += cycleReport.corrupt
            summary.problems.append(contentsOf: cycleReport.problems.prefix(max(0, 20 - summary.problems.count)))
            progress("cycle \(cycle)/\(options.cycles): killed after \(delay) ms, acked \(cycleReport.acked), in flight \(cycleReport.inFlight), points \(oracle.pointCount)\(snapshotNote)"
                + (cycleReport.isClean ? "" : " — PROBLEMS: lost=\(cycleReport.lost) phantom=\(cycleReport.phantom) corrupt=\(cycleReport.corrupt)"))
            if !cycleReport.isClean {
                summary.problems.insert(
                    "reproduce with: strata crashtest --dir <empty dir> --cycles \(cycle) --seed \(options.seed) --workload \(options.workload.rawValue) --writers \(options.writers) (first failing cycle: \(cycle))",
                    at: 0)
                break
            }
        }
        return summary
    }

    /// Starts the child, kills it after `killAfterMilliseconds`, returns all it printed.
    static func runChild(_ options: CrashTestOptions, cycle: UInt32, killAfterMilliseconds: Int) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.childExecutable)
        var arguments = ["crashtest-child", "--dir", options.directory, "--seed", String(options.seed),
                         "--cycle", String(cycle), "--writers", String(options.writers)]
        if let ms = options.periodicSyncMilliseconds { arguments += ["--periodic-sync-ms", String(ms)] }
        arguments += ["--workload", options.workload.rawValue]
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let collected = OutputCollector(stdout.fileHandleForReading)
        let errors = OutputCollector(stderr.fileHandleForReading)
        try process.run()
        usleep(UInt32(killAfterMilliseconds) * 1000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let text = collected.finish()
        let errorText = errors.finish()
        if process.terminationReason == .exit {
            // The child ended by itself: it failed before the kill.
            throw CrashTestError(message: "the crash-test child exited with status \(process.terminationStatus) before it was killed: \(errorText.suffix(2000))")
        }
        return text
    }
}

public struct CrashTestError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Reads a pipe to its end on a background thread.
final class OutputCollector: @unchecked Sendable {
    // SAFETY: `data` is written only by the reader thread before `done` is
    // signalled, and read only after waiting for `done`.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
            }
            done.signal()
        }
        thread.start()
    }

    func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
