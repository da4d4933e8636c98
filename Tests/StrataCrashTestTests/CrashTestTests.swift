import Foundation
import Strata
@testable import StrataCrashTest
import StrataTestSupport
import Testing

/// Runs the `strata` executable with `arguments` (and `input` on its standard
/// input) and returns its exit status and output.
func runStrata(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try strataExecutable())
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite(.serialized) struct CrashTestTests {
    /// The real thing: a child process killed with SIGKILL at random moments,
    /// 20+ cycles, every recovery checked against the model.
    @Test func killedWriterNeverLosesAcknowledgedWrites() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATA_CRASHTEST_SEED"] ?? "") ?? 20261125
        print("seed: \(seed)")
        let scratch = TemporaryDirectory("durable")
        let directory = scratch.path + "/db"
        var options = CrashTestOptions(
            directory: directory, cycles: 24, seed: seed, childExecutable: try strataExecutable())
        options.maxKillDelayMilliseconds = 400
        let summary = try CrashTestDriver.run(options) { print($0) }
        print(summary.line)
        #expect(summary.isClean, "\(summary.problems.joined(separator: "\n"))")
        #expect(summary.cycles == 24)
        #expect(summary.acked > 100, "the child should have acknowledged many writes; got \(summary.acked)")
    }

    @Test func killedWriterInPeriodicModeNeverLosesAcknowledgedWrites() throws {
        // kill -9 keeps the page cache, so even the relaxed mode must lose nothing here.
        let scratch = TemporaryDirectory("periodic")
        let directory = scratch.path + "/db"
        var options = CrashTestOptions(
            directory: directory, cycles: 8, seed: 7, childExecutable: try strataExecutable())
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
        let scratch = try await store { c in
            try await c.upsert([CrashWorkload.point(id: 5, token: 77)])  // op 1, never reported: a phantom
        }
        let directory = scratch.path + "/db"
        var oracle = CrashTestOracle()
        // Claims op 2 upserted id 9 with token 42, which the store never saw.
        let report = oracle.verify(childOutput: "I 0 1 U 9:42\nA 0 1 2\n", writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(report.lost >= 1)
        #expect(report.phantom == 1)
        #expect(!report.isClean)
    }

    /// Each writer's one in-flight operation may be applied whole or not at all.
    @Test func oracleAcceptsEitherOutcomeOfAnInFlightWrite() async throws {
        // Writers 0, 1, 2 own ids ≡ 0, 1, 2 (mod 3).
        let scratch = try await store { c in
            try await c.upsert([CrashWorkload.point(id: 3, token: 10)])  // op 1, acknowledged
            try await c.upsert([CrashWorkload.point(id: 4, token: 20)])  // op 2, in flight, applied
        }
        let directory = scratch.path + "/db"
        var oracle = CrashTestOracle()
        // Writer 2's delete of absent id 5 was in flight: its outcome cannot be seen.
        let output = "I 0 1 U 3:10\nA 0 1 1\nI 1 1 U 4:20\nI 2 1 D 5\n"
        let report = oracle.verify(childOutput: output, writers: 3, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(report.isClean, "\(report.problems)")
        #expect(report.acked == 1)
        #expect(report.inFlight == 2)
        #expect(report.appliedInFlight == 1)
    }

    /// An operation is applied whole or not at all: half of a two-point upsert is corruption.
    @Test func oracleReportsAnOperationAppliedInPart() async throws {
        let scratch = try await store { c in
            try await c.upsert([CrashWorkload.point(id: 1, token: 10)])  // op 1: only the first of the two points
        }
        let directory = scratch.path + "/db"
        var oracle = CrashTestOracle()
        let report = oracle.verify(childOutput: "I 0 1 U 1:10 2:11\n", writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(!report.isClean)
        #expect(
            report.problems.contains { $0.contains("applied in part") || $0.contains("neither") }, "\(report.problems)")
    }

    /// An atomic batch (`B … | …`) is one operation for the oracle: acknowledged,
    /// its parts apply in order under its op number; in flight, all of it or
    /// none; a store holding only its first part is reported.
    @Test func oracleModelsAtomicBatchesAsOneOperation() async throws {
        let whole = try await store { c in
            try await c.batch(
                [
                    .upsert([CrashWorkload.point(id: 1, token: 10)]), .delete(.ids([1])),
                    .upsert([CrashWorkload.point(id: 2, token: 11)]),
                ], atomic: true)  // op 1, acknowledged
            try await c.batch(
                [
                    .upsert([CrashWorkload.point(id: 3, token: 12)]),
                    .setPayload(["p": 5], .ids([3])),
                ], atomic: true)  // op 2, in flight, applied
        }
        var oracle = CrashTestOracle()
        let output = "I 0 1 B U 1:10 | D 1 | U 2:11\nA 0 1 1\nI 0 2 B U 3:12 | P 5 3\n"
        let report = oracle.verify(childOutput: output, writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: whole.path + "/db")
        }
        #expect(report.isClean, "\(report.problems)")
        #expect(report.acked == 1 && report.appliedInFlight == 1)

        let half = try await store { c in
            try await c.upsert([CrashWorkload.point(id: 3, token: 12)])  // op 1: only the batch's first part
        }
        var strict = CrashTestOracle()
        let partial = strict.verify(childOutput: "I 0 1 B U 3:12 | P 5 3\n", writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: half.path + "/db")
        }
        #expect(!partial.isClean, "half of a batch must be reported")
    }

    /// A tagged version must read what it read when it was made, and an
    /// acknowledged tag must be there.
    @Test func oracleChecksTaggedVersions() async throws {
        var digest = ""
        let scratch = try await store { c in
            try await c.upsert([CrashWorkload.point(id: 1, token: 10)])  // op 1
            try c.tagVersion("t1")
            digest = try CrashWorkload.digest(try c.at(.tag("t1")))
        }
        let open = { try Database.open(at: scratch.path + "/db") }
        let head = "I 0 1 U 1:10\nA 0 1 1\n"
        var good = CrashTestOracle()
        let clean = good.verify(
            childOutput: head + "M tag t1\nM tagged t1 \(digest)\n", writers: 1, cycle: 1, seed: 1, open: open)
        #expect(clean.isClean, "\(clean.problems)")
        var wrong = CrashTestOracle()
        let changed = wrong.verify(
            childOutput: head + "M tag t1\nM tagged t1 1:0\n", writers: 1, cycle: 1, seed: 1, open: open)
        #expect(changed.problems.contains { $0.contains("tagged version t1 reads") }, "\(changed.problems)")
        var missing = CrashTestOracle()
        let gone = missing.verify(
            childOutput: head + "M tag t1\nM tagged t1 \(digest)\nM tag t2\nM tagged t2 1:0\n", writers: 1, cycle: 1,
            seed: 1, open: open)
        #expect(gone.problems.contains { $0.contains("tagged version t2 is gone") }, "\(gone.problems)")
    }

    /// An operation in the log that nobody reported (here a delete with no
    /// visible effect) breaks the op-number count: a hole or a phantom operation.
    @Test func oracleReportsAnUnexplainedOperationInTheLog() async throws {
        let scratch = try await store { c in
            try await c.upsert([CrashWorkload.point(id: 0, token: 10)])  // op 1, acknowledged
            try await c.delete([7])  // op 2, invisible and never reported
        }
        let directory = scratch.path + "/db"
        var oracle = CrashTestOracle()
        let report = oracle.verify(childOutput: "I 0 1 U 0:10\nA 0 1 1\n", writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(report.corrupt == 1)
        #expect(report.problems.first?.contains("hole") == true, "\(report.problems)")
    }

    /// Filter operations are evaluated on the model: delete by filter and set
    /// payload by filter select exactly the writer's points with the tag.
    @Test func oracleEvaluatesFilterOperationsOnTheModel() async throws {
        // Tokens of writer 0; token 97 + 5 has tag t5, as does token 5.
        let tag = CrashWorkload.tag(5)
        var lines = ""
        let scratch = try await store { c in
            try await c.upsert([
                CrashWorkload.point(id: 0, token: 5), CrashWorkload.point(id: 1, token: 102),
                CrashWorkload.point(id: 2, token: 6),
            ])
            lines += "I 0 1 U 0:5 1:102 2:6\nA 0 1 1\n"
            try await c.setPayload(["p": 9], filter: CrashWorkload.partitionFilter(writer: 0, tag: tag))
            lines += "I 0 2 Q 9 \(tag)\nA 0 2 2\n"
            try await c.delete(filter: CrashWorkload.partitionFilter(writer: 0, tag: CrashWorkload.tag(6)))
            lines += "I 0 3 F \(CrashWorkload.tag(6))\nA 0 3 3\n"
        }
        let directory = scratch.path + "/db"
        var oracle = CrashTestOracle()
        let report = oracle.verify(childOutput: lines, writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(report.isClean, "\(report.problems)")
        #expect(oracle.model.keys.sorted() == [0, 1])
        #expect(oracle.model[0]?.payload["p"] == .int(9) && oracle.model[1]?.payload["p"] == .int(9))
    }

    @Test func corruptedPointIsReported() async throws {
        let scratch = try await store { c in
            // Token 10's payload with another token's vector.
            try await c.upsert([
                PointStruct(id: 1, vector: CrashWorkload.vector(for: 11), payload: CrashWorkload.payload(for: 10))
            ])
        }
        let directory = scratch.path + "/db"
        var oracle = CrashTestOracle()
        let report = oracle.verify(childOutput: "I 0 1 U 1:10\nA 0 1 1\n", writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(report.corrupt >= 1)
    }

    /// With named vectors (the mixed workload) the `aux` vector is checked
    /// too: a wrong one, or one the point should not have, is corruption.
    @Test func oracleChecksNamedVectors() async throws {
        for (token, aux) in [(UInt64(1), CrashWorkload.auxVector(for: 2)), (3, CrashWorkload.auxVector(for: 4))] {
            let scratch = TemporaryDirectory("named")
            let directory = scratch.path + "/db"
            do {
                let db = try Database.open(at: directory)
                let c = try db.createCollection(
                    CrashWorkload.collectionName, config: CrashWorkload.collectionConfig(for: .mixed))
                var vectors = ["": CrashWorkload.vector(for: token)]
                vectors[CrashWorkload.auxVectorName] = aux
                try await c.upsert([PointStruct(id: 0, vectors: vectors, payload: CrashWorkload.payload(for: token))])
                db.close()
            }
            var oracle = CrashTestOracle(named: true)
            let report = oracle.verify(childOutput: "I 0 1 U 0:\(token)\nA 0 1 1\n", writers: 1, cycle: 1, seed: 1) {
                try Database.open(at: directory)
            }
            #expect(report.corrupt >= 1, "token \(token): \(report.problems)")
        }
        // And the right vectors pass.
        let scratch = TemporaryDirectory("named-ok")
        let directory = scratch.path + "/db"
        do {
            let db = try Database.open(at: directory)
            let c = try db.createCollection(
                CrashWorkload.collectionName, config: CrashWorkload.collectionConfig(for: .mixed))
            try await c.upsert([
                CrashWorkload.point(id: 0, token: 1, named: true), CrashWorkload.point(id: 1, token: 3, named: true),
            ])
            db.close()
        }
        var oracle = CrashTestOracle(named: true)
        let report = oracle.verify(childOutput: "I 0 1 U 0:1 1:3\nA 0 1 1\n", writers: 1, cycle: 1, seed: 1) {
            try Database.open(at: directory)
        }
        #expect(report.isClean, "\(report.problems)")
        #expect(oracle.model[0]?.auxToken == 1 && oracle.model[1]?.auxToken == nil)
    }

    /// The multivector `mv` and the sparse vector `sp` are checked too: every
    /// point right but for one of them is corruption.
    @Test func oracleChecksMultiAndSparseVectors() async throws {
        let damages: [(String, (inout PointStruct) -> Void)] = [
            ("mv of another token", { $0.vectors[CrashWorkload.multiVectorName] = CrashWorkload.multiVector(for: 7) }),
            ("mv missing", { $0.vectors[CrashWorkload.multiVectorName] = nil }),
            (
                "sp of another token",
                { $0.sparseVectors[CrashWorkload.sparseVectorName] = CrashWorkload.sparseVector(for: 7) }
            ),
            ("sp missing", { $0.sparseVectors[CrashWorkload.sparseVectorName] = nil }),
        ]
        for (label, damage) in damages {
            let scratch = TemporaryDirectory("multi-sparse")
            let directory = scratch.path + "/db"
            do {
                let db = try Database.open(at: directory)
                let c = try db.createCollection(
                    CrashWorkload.collectionName, config: CrashWorkload.collectionConfig(for: .mixed))
                var point = CrashWorkload.point(id: 0, token: 1, named: true)  // token 1 has mv and sp
                #expect(
                    point.vectors[CrashWorkload.multiVectorName] != nil
                        && point.sparseVectors[CrashWorkload.sparseVectorName] != nil)
                damage(&point)
                try await c.upsert([point])
                db.close()
            }
            var oracle = CrashTestOracle(named: true)
            let report = oracle.verify(childOutput: "I 0 1 U 0:1\nA 0 1 1\n", writers: 1, cycle: 1, seed: 1) {
                try Database.open(at: directory)
            }
            #expect(report.corrupt >= 1, "\(label): \(report.problems)")
        }
    }

    /// Conditional writes are decided on the oracle's model in op order: an
    /// insert_only that overwrote an existing point, an update_only that
    /// inserted one, an upsert or a vector update under a filter applied to a
    /// point that does not match, are reported, acknowledged or in flight;
    /// the store's own conditional writes pass, and an in-flight one may be
    /// applied or not.
    @Test func oracleModelsConditionalWrites() async throws {
        func p(_ id: UInt64, _ token: UInt64) -> PointStruct { CrashWorkload.point(id: id, token: token, named: true) }
        func v(_ id: UInt64, _ token: UInt64) -> PointVectors {
            PointVectors(
                id: .number(id), vectors: CrashWorkload.vectors(for: token, named: true),
                sparseVectors: CrashWorkload.sparseVectors(for: token, named: true))
        }
        // Op 1, acknowledged: token 5 has tag t5 (odd) and `aux`; 6 has t6 (even), no `aux`; 8 has t8, `aux`.
        let setup = "I 0 1 U 0:5 1:6 2:8\nA 0 1 1\n"
        let before: [UInt64: UInt64] = [0: 5, 1: 6, 2: 8]
        typealias Write = (Collection) async throws -> Void
        let cases: [(intent: String, right: Write, wrong: Write, after: [UInt64: UInt64])] = [
            (
                "N insert_only none 0:20 3:21",
                { try await $0.upsert([p(0, 20), p(3, 21)], mode: .insertOnly) },
                { try await $0.upsert([p(0, 20), p(3, 21)]) }, [0: 5, 1: 6, 2: 8, 3: 21]
            ),
            (
                "N update_only none 1:22 4:23",
                { try await $0.upsert([p(1, 22), p(4, 23)], mode: .updateOnly) },
                { try await $0.upsert([p(1, 22), p(4, 23)]) }, [0: 5, 1: 22, 2: 8]
            ),
            (
                "N upsert even 0:24 1:25 5:26",
                {
                    try await $0.upsert(
                        [p(0, 24), p(1, 25), p(5, 26)], mode: .upsert,
                        filter: CrashWorkload.WriteCondition.even.filter(writer: 0))
                },
                // Token 26 carries an expiry long past: point 5 is absent from the moment it is written.
                { try await $0.upsert([p(0, 24), p(1, 25), p(5, 26)]) }, [0: 5, 1: 25, 2: 8]
            ),
            (
                "N update_only aux 0:27 1:28",
                {
                    try await $0.upsert(
                        [p(0, 27), p(1, 28)], mode: .updateOnly,
                        filter: CrashWorkload.WriteCondition.aux.filter(writer: 0))
                },
                { try await $0.upsert([p(0, 27), p(1, 28)]) }, [0: 27, 1: 6, 2: 8]
            ),
            (
                "G odd 0:29 1:30 2:31",
                {
                    try await $0.updateVectors(
                        [v(0, 29), v(1, 30), v(2, 31)], filter: CrashWorkload.WriteCondition.odd.filter(writer: 0))
                },
                { try await $0.updateVectors([v(0, 29), v(1, 30), v(2, 31)]) }, [0: 29, 1: 6, 2: 8]
            ),
        ]
        for (intent, right, wrong, after) in cases {
            for acknowledged in [true, false] {
                let output = setup + "I 0 2 \(intent)\n" + (acknowledged ? "A 0 2 2\n" : "")
                var outcomes: [(String, Write?, Bool, [UInt64: UInt64])] = [
                    ("applied right", right, true, after), ("applied wrongly", wrong, false, [:]),
                ]
                if !acknowledged { outcomes.append(("not applied", nil, true, before)) }
                for (label, write, clean, tokens) in outcomes {
                    let scratch = try await namedStore { c in
                        try await c.upsert([p(0, 5), p(1, 6), p(2, 8)])
                        try await write?(c)
                    }
                    var oracle = CrashTestOracle(named: true)
                    let report = oracle.verify(childOutput: output, writers: 1, cycle: 1, seed: 1) {
                        try Database.open(at: scratch.path + "/db")
                    }
                    let what = "\(intent), \(acknowledged ? "acknowledged" : "in flight"), \(label)"
                    #expect(report.isClean == clean, "\(what): \(report.problems)")
                    if clean { #expect(oracle.model.mapValues(\.vectorToken) == tokens, "\(what)") }
                }
            }
        }
    }

    /// The same as `store`, with the `mixed` workload's collection (named vectors).
    func namedStore(_ body: (Collection) async throws -> Void) async throws -> TemporaryDirectory {
        let scratch = TemporaryDirectory("oracle-named")
        let db = try Database.open(at: scratch.path + "/db")
        defer { db.close() }
        try await body(
            try db.createCollection(CrashWorkload.collectionName, config: CrashWorkload.collectionConfig(for: .mixed)))
        return scratch
    }

    /// A store written by `body` at `db` in the returned directory (removed when it goes away).
    func store(_ body: (Collection) async throws -> Void) async throws -> TemporaryDirectory {
        let scratch = TemporaryDirectory("oracle")
        let db = try Database.open(at: scratch.path + "/db")
        defer { db.close() }
        try await body(try db.createCollection(CrashWorkload.collectionName, config: CrashWorkload.collectionConfig))
        return scratch
    }
}

@Suite struct CrashTestCommandTests {
    /// `strata crashtest` as a user runs it: exit status 0 and the summary line last.
    @Test func commandPrintsTheSummaryLineAndExitsZero() throws {
        let scratch = TemporaryDirectory("cli")
        let directory = scratch.path + "/db"
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
        let scratch = TemporaryDirectory("lock")
        let directory = scratch.path + "/db"
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
        let scratch = TemporaryDirectory("optimizer")
        let directory = scratch.path + "/db"
        var options = CrashTestOptions(
            directory: directory, cycles: 20, seed: seed, childExecutable: try strataExecutable())
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
