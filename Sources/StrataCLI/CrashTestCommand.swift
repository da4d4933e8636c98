import ArgumentParser
import Foundation
import Strata
import StrataCrashTest
import StrataIO

/// `strata crashtest`: crash a writing store again and again (kill -9 at
/// random moments or at named kill points, or a simulated power cut) and
/// check that recovery never loses an acknowledged write.
struct CrashTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crashtest",
        abstract:
            "Crash-test the storage engine: kill a writing store (or cut its power) over and over and verify every recovery.",
        discussion: """
            Each cycle starts a child process that opens the store in DIR and runs the workload from several \
            concurrent writers, reporting every operation before it starts and again when it is acknowledged. \
            The child is killed with SIGKILL after a seeded random delay, or at an armed kill point (--kill-at). \
            The store is then reopened here and checked against a model:
              - every writer's ids hold exactly what its acknowledged operations wrote, plus at most its one \
            in-flight operation applied whole (never part of one; lost writes and phantoms are named);
              - the op numbers recovery left are a prefix with no holes;
              - no duplicate ids; count equals scroll; filtered count equals filtered scroll equals the payloads;
              - exact search equals a reference computed from the model; graph search returns only live points;
              - every checksum of every segment verifies (what `strata verify` checks);
              - snapshots: only whole ones listed, every one verifies, `restored` is wholly one snapshot.
            --power-loss runs the engine in this process on a simulated disk instead, and at the crash drops \
            every write no fsync made durable (--torn-writes: keeps a random torn prefix of them); --sweep cuts \
            the power at every file-system operation of a short workload in turn.
            Ends with one line:
              crashtest: cycles=N acked=A lost=L phantom=P corrupt=C
            and exits 0 only when lost, phantom and corrupt are all 0. On failure it prints the seed, the \
            cycle and a command to reproduce, then the problems found.
            """)

    @Option(
        name: .long,
        help:
            "Data directory to crash-test (created if missing; use an empty or crashtest-only directory). Not used with --power-loss."
    )
    var dir: String?

    @Option(name: .long, help: "Number of crash/recover cycles.")
    var cycles: Int = 20

    @Option(
        name: .long,
        help:
            "Stop after this long even if cycles remain: seconds, or with a unit (90s, 15m, 2h). With --duration and no --cycles, cycles are unlimited."
    )
    var duration: String?

    @Option(name: .long, help: "Seed for every random choice; the same seed replays the same schedule.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Concurrent writers in the child.")
    var writers: Int = 4

    @Option(name: .long, help: "Longest delay before a random kill, in milliseconds.")
    var maxDelayMs: Int = 500

    @Option(
        name: .long,
        help: "Test the relaxed durability mode with this sync interval (default: durable mode). Not with --power-loss."
    )
    var periodicSyncMs: Int?

    @Option(
        name: .long,
        help:
            "basic (upserts, deletes, payload updates, index changes), optimizer (also tiny segments, constant flushes, merges, vacuums, WAL truncation), snapshot (also snapshots, incremental snapshots and restores) or mixed (every kind of write, by id and by filter, conditional upserts in every update mode and vector updates under a filter, on named dense vectors, a multivector and a sparse vector, and flushes, merges, snapshots, restores and reopens in random order)."
    )
    var workload: String = "basic"

    @Option(
        name: .long,
        help:
            "Where to kill: random (a random moment), points (each cycle one kill point from the catalog, at a random hit), or a comma-separated list of kill points (see --list-kill-points)."
    )
    var killAt: String = "random"

    @Flag(name: .long, help: "Print the kill points and exit.")
    var listKillPoints = false

    @Flag(
        name: .long,
        help: "Simulate power loss in this process (unsynced writes and directory entries are lost) instead of kill -9."
    )
    var powerLoss = false

    @Flag(
        name: .long,
        help:
            "With --power-loss: keep a random prefix of each file's unsynced writes, the last one torn, instead of dropping them all."
    )
    var tornWrites = false

    @Flag(
        name: .long,
        help: "With --power-loss: cut the power at every file-system operation of a short one-writer workload in turn.")
    var sweep = false

    @Option(name: .long, help: "With --sweep: operations in the swept workload.")
    var sweepOperations: Int = 24

    @Flag(name: .long, help: "Do not print a progress line per cycle (to standard error).")
    var quiet = false

    func validate() throws {
        if listKillPoints { return }
        guard cycles >= 1 else { throw ValidationError("--cycles must be at least 1") }
        guard (1...64).contains(writers) else { throw ValidationError("--writers must be 1…64") }
        guard maxDelayMs >= 40 else { throw ValidationError("--max-delay-ms must be at least 40") }
        guard CrashWorkload.Kind(rawValue: workload) != nil else {
            throw ValidationError(
                "--workload must be one of \(CrashWorkload.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let duration { _ = try Self.seconds(duration) }
        _ = try Self.schedule(killAt)
        if powerLoss {
            guard periodicSyncMs == nil else {
                throw ValidationError(
                    "--power-loss tests the durable mode; the periodic mode may lose the last interval's writes at a power cut by design"
                )
            }
            guard killAt == "random" else {
                throw ValidationError(
                    "--kill-at is for the kill -9 mode; --power-loss cuts at random file-system operations (or every one with --sweep)"
                )
            }
            guard sweepOperations >= 1 else { throw ValidationError("--sweep-operations must be at least 1") }
        } else {
            guard dir != nil else {
                throw ValidationError("--dir is required (except with --power-loss or --list-kill-points)")
            }
            guard !tornWrites && !sweep else { throw ValidationError("--torn-writes and --sweep need --power-loss") }
        }
    }

    static func seconds(_ text: String) throws -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value > 0 { return value * factor }
        }
        if let value = Double(text), value > 0 { return value }
        throw ValidationError(
            "--duration must be a positive number of seconds or have a unit (90s, 15m, 2h), not \(text)")
    }

    static func schedule(_ text: String) throws -> KillSchedule {
        switch text {
        case "random": return .random
        case "points", "all": return .points(KillPoint.catalog)
        default:
            var points: [KillPoint] = []
            for name in text.split(separator: ",") {
                guard let point = KillPoint(String(name)) else {
                    throw ValidationError(
                        "unknown kill point \(name); they are <operation>.<file>.<before|after>, see --list-kill-points"
                    )
                }
                points.append(point)
            }
            guard !points.isEmpty else { throw ValidationError("--kill-at needs random, points or kill point names") }
            return .points(points)
        }
    }

    func run() async throws {
        if listKillPoints {
            print(
                """
                Kill points are <operation>.<file>.<before|after>:
                  operations: \(KillPoint.Operation.allCases.map(\.rawValue).joined(separator: ", "))
                  files: \(KillPoint.FileClass.allCases.map(\.rawValue).joined(separator: ", "))
                Catalog (used by --kill-at points):
                """)
            for point in KillPoint.catalog { print("  \(point)") }
            return
        }
        let quiet = self.quiet
        let progress: (String) -> Void = { line in
            if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        let limit = try duration.map(Self.seconds)
        let cycleCount = limit != nil && !CommandLine.arguments.contains("--cycles") ? Int.max : cycles
        let summary: CrashTestSummary
        if powerLoss {
            var options = PowerLossOptions(cycles: cycleCount, seed: seed)
            options.durationSeconds = limit
            options.writers = writers
            options.workload = CrashWorkload.Kind(rawValue: workload)!
            options.tornWrites = tornWrites
            options.sweepOperations = sweepOperations
            summary =
                sweep
                ? try await PowerLossCrashTest.runSweep(options, progress: progress)
                : try await PowerLossCrashTest.run(options, progress: progress)
        } else {
            var options = CrashTestOptions(
                directory: dir!, cycles: cycleCount, seed: seed, childExecutable: try currentExecutablePath())
            options.durationSeconds = limit
            options.writers = writers
            options.maxKillDelayMilliseconds = maxDelayMs
            options.periodicSyncMilliseconds = periodicSyncMs
            options.workload = CrashWorkload.Kind(rawValue: workload)!
            options.killAt = try Self.schedule(killAt)
            summary = try CrashTestDriver.run(options, progress: progress)
        }
        for problem in summary.problems { print(problem) }
        progress(
            String(
                format: "crashtest: %.1f s, %d in-flight operations found applied", summary.seconds,
                summary.appliedInFlight))
        print(summary.line)
        if !summary.isClean { throw ExitCode(1) }
    }
}

/// The child half of `strata crashtest` (not for direct use).
struct CrashTestChildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crashtest-child", abstract: "The writer process that `strata crashtest` kills.",
        shouldDisplay: false)

    @Option var dir: String
    @Option var seed: UInt64
    @Option var cycle: UInt32
    @Option var writers: Int = 4
    @Option var periodicSyncMs: Int?
    @Option var workload: String = "basic"
    @Option var killAt: String?
    @Option var killHit: Int = 1

    func run() async throws {
        guard let kind = CrashWorkload.Kind(rawValue: workload) else {
            throw ValidationError("unknown workload \(workload)")
        }
        var settings = CrashChildSettings(writers: writers, workload: kind)
        settings.durability = periodicSyncMs.map { .periodic(milliseconds: $0) } ?? .durable
        let sink = StandardOutputEventSink()
        var fileSystem: any FileSystem = POSIXFileSystem()
        if let killAt {
            guard let point = KillPoint(killAt) else { throw ValidationError("unknown kill point \(killAt)") }
            fileSystem = KillPointFileSystem(wrapping: fileSystem, point: point, hit: killHit, sink: sink)
        }
        try await CrashTestChild.run(
            directory: dir, seed: seed, cycle: cycle, settings: settings, fileSystem: fileSystem, sink: sink)
    }
}

/// The path of the running executable, for re-running it as a child.
func currentExecutablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw ValidationError("cannot find the strata executable (/proc/self/exe)") }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
