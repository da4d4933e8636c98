import ArgumentParser
import Foundation
import Strata
import StrataCrashTest

/// `strata crashtest`: kill -9 a writer at random moments and check that
/// recovery never loses an acknowledged write.
struct CrashTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crashtest",
        abstract: "Crash-test the storage engine: SIGKILL a writing child process at random moments and verify every recovery.",
        discussion: """
            Each cycle starts a child process that opens the store in DIR and runs random upserts and \
            deletes from several concurrent writers, reporting every acknowledged operation. The child is \
            killed with SIGKILL after a seeded random delay; the store is then reopened here and checked: \
            every acknowledged write present with the right vector, payload and version; no point that was \
            never written or that an acknowledged delete removed; count equals scroll; exact search equals \
            a reference computed from the model; every checksum of every segment verifies. Ends with one line:
              crashtest: cycles=N acked=A lost=L phantom=P corrupt=C
            and exits 0 only when lost, phantom and corrupt are all 0.
            """)

    @Option(name: .long, help: "Data directory to crash-test (created if missing; use an empty or crashtest-only directory).")
    var dir: String

    @Option(name: .long, help: "Number of kill/recover cycles.")
    var cycles: Int = 20

    @Option(name: .long, help: "Seed for every random choice; the same seed replays the same schedule.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Concurrent writers in the child.")
    var writers: Int = 4

    @Option(name: .long, help: "Longest delay before the kill, in milliseconds.")
    var maxDelayMs: Int = 500

    @Option(name: .long, help: "Test the relaxed durability mode with this sync interval (default: durable mode).")
    var periodicSyncMs: Int?

    @Option(name: .long, help: "basic (upserts and deletes), optimizer (also tiny segments, constant flushes, merges, vacuums and WAL truncation) or snapshot (also snapshots, incremental snapshots and restores into collection `restored`, all checked after each kill).")
    var workload: String = "basic"

    @Flag(name: .long, help: "Do not print a progress line per cycle (to standard error).")
    var quiet = false

    func validate() throws {
        guard cycles >= 1 else { throw ValidationError("--cycles must be at least 1") }
        guard (1...64).contains(writers) else { throw ValidationError("--writers must be 1…64") }
        guard maxDelayMs >= 40 else { throw ValidationError("--max-delay-ms must be at least 40") }
        guard CrashWorkload.Kind(rawValue: workload) != nil else {
            throw ValidationError("--workload must be one of \(CrashWorkload.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var options = CrashTestOptions(directory: dir, cycles: cycles, seed: seed, childExecutable: try currentExecutablePath())
        options.writers = writers
        options.maxKillDelayMilliseconds = maxDelayMs
        options.periodicSyncMilliseconds = periodicSyncMs
        options.workload = CrashWorkload.Kind(rawValue: workload)!
        let quiet = self.quiet
        let summary = try CrashTestDriver.run(options) { line in
            if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        for problem in summary.problems { print(problem) }
        print(summary.line)
        if !summary.isClean { throw ExitCode(1) }
    }
}

/// The child half of `strata crashtest` (not for direct use).
struct CrashTestChildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crashtest-child", abstract: "The writer process that `strata crashtest` kills.", shouldDisplay: false)

    @Option var dir: String
    @Option var seed: UInt64
    @Option var cycle: UInt32
    @Option var writers: Int = 4
    @Option var periodicSyncMs: Int?
    @Option var workload: String = "basic"

    func run() async throws {
        let durability: Durability = periodicSyncMs.map { .periodic(milliseconds: $0) } ?? .durable
        guard let kind = CrashWorkload.Kind(rawValue: workload) else { throw ValidationError("unknown workload \(workload)") }
        try await CrashTestChild.run(directory: dir, seed: seed, cycle: cycle, writers: writers, durability: durability, workload: kind)
    }
}

/// The path of the running executable, for re-running it as a child.
func currentExecutablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw ValidationError("cannot find the strata executable (/proc/self/exe)") }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
