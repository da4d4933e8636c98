import Foundation
import Strata
@testable import StrataCrashTest
import StrataTestSupport
import Testing

/// `strata snapshot …` end to end through the executable: output and exit codes.
@Suite struct SnapshotCLITests {

    @Test func createListVerifyRestoreDeleteWithExitCodes() async throws {
        let scratch = TemporaryDirectory("snapshot-cli")
        let directory = scratch.path + "/db"
        do {
            let db = try Database.open(at: directory)
            let c = try db.createCollection("c", config: CrashWorkload.collectionConfig)
            try await c.upsert((0..<50).map { CrashWorkload.point(id: $0, token: $0) })
            db.close()
        }
        let created = try runStrata(["snapshot", "create", "--data-dir", directory, "--collection", "c"])
        #expect(created.status == 0, "\(created.stderr)")
        let archive = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(archive.hasSuffix(".snapshot") && FileManager.default.fileExists(atPath: archive + ".sha256"))

        let listed = try runStrata(["snapshot", "list", "--data-dir", directory, "--json"])
        #expect(listed.status == 0 && listed.stdout.contains("\"op_num\" : 1"), "\(listed.stdout)")
        let verified = try runStrata(["snapshot", "verify", archive])
        #expect(verified.status == 0 && verified.stdout.contains("verify: ok"), "\(verified.stdout)\(verified.stderr)")

        // Damaged: exit 2, the message names the archive.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        bytes[bytes.count / 2] ^= 0x40
        let damaged = directory + "/damaged.snapshot"
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let refused = try runStrata(["snapshot", "verify", damaged])
        #expect(refused.status == 2 && refused.stderr.contains(damaged), "\(refused.stderr)")

        // Over an existing collection: exit 3 without --force, 0 with it.
        let noForce = try runStrata(["snapshot", "restore", "--data-dir", directory, archive])
        #expect(noForce.status == 3 && noForce.stderr.contains("--force"), "\(noForce.stderr)")
        let forced = try runStrata(["snapshot", "restore", "--data-dir", directory, archive, "--force"])
        #expect(
            forced.status == 0 && forced.stdout.contains("restored collection c at op 1"),
            "\(forced.stdout)\(forced.stderr)")
        let copy = try runStrata(["snapshot", "restore", "--data-dir", directory, archive, "--collection", "copy"])
        #expect(copy.status == 0, "\(copy.stderr)")

        let name = (archive as NSString).lastPathComponent
        let deleted = try runStrata(["snapshot", "delete", "--data-dir", directory, name])
        #expect(deleted.status == 0)
        let missing = try runStrata(["snapshot", "delete", "--data-dir", directory, name])
        #expect(missing.status == 1 && missing.stderr.contains(name))
        let usage = try runStrata(["snapshot", "create", "--data-dir", directory])
        #expect(usage.status == 64)
    }
}
