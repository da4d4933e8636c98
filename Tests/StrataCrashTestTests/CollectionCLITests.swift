import Foundation
import Strata
@testable import StrataCrashTest
import StrataTestSupport
import Testing

/// `strata collection …` end to end through the executable (issue 20):
/// rename, atomic batch, expiry settings and deletion, a query over several
/// collections, and their exit codes.
@Suite struct CollectionCLITests {

    @Test func renameBatchExpiryAndQueryFromTheCommandLine() async throws {
        let scratch = TemporaryDirectory("collection-cli")
        let directory = scratch.path + "/db"
        do {
            let db = try Database.open(at: directory)
            for name in ["a", "b"] {
                let c = try db.createCollection(name, config: CollectionConfig(size: 2, distance: .dot))
                try await c.upsert([PointStruct(id: 1, vector: [1, 0], payload: ["in": .string(name)])])
            }
            try db.updateAliases([.create(alias: "current", collection: "a")])
            db.close()
        }
        let renamed = try runStrata(["collection", "rename", "--data-dir", directory, "a", "docs"])
        #expect(renamed.status == 0, "\(renamed.stderr)")
        let listed = try runStrata(["collection", "list", "--data-dir", directory])
        #expect(listed.stdout.contains("docs  1 points  aliases: current"), "\(listed.stdout)")
        let taken = try runStrata(["collection", "rename", "--data-dir", directory, "docs", "b"])
        #expect(taken.status == 1 && taken.stderr.contains("already exists"), "\(taken.stderr)")

        // An atomic batch from standard input; a bad one changes nothing.
        let batch =
            #"{"operations": [{"upsert": {"points": [{"id": 2, "vector": [0, 1], "payload": {"expires_at": 1000}}]}}, {"delete": {"points": [1]}}]}"#
        let applied = try runStrata(
            ["collection", "batch", "--data-dir", directory, "current", "-", "--atomic"], input: batch)
        #expect(applied.status == 0 && applied.stdout.contains("applied 2 operation(s)"), "\(applied.stderr)")
        let bad =
            #"{"operations": [{"delete": {"points": [2]}}, {"upsert": {"points": [{"id": 3, "vector": [1, 2, 3]}]}}], "atomic": true}"#
        let refused = try runStrata(["collection", "batch", "--data-dir", directory, "docs", "-"], input: bad)
        #expect(refused.status == 1 && refused.stderr.contains("dimension"), "\(refused.stderr)")

        // Expiry: point 2 expired in 1970 once a ttl config names its key.
        let ttl = try runStrata(["collection", "ttl", "--data-dir", directory, "docs", "--key", "expires_at"])
        #expect(ttl.status == 0 && ttl.stdout.contains("docs: key expires_at"), "\(ttl.stdout)\(ttl.stderr)")
        #expect(try runStrata(["collection", "list", "--data-dir", directory]).stdout.contains("docs  0 points"))
        let expired = try runStrata(["collection", "expire", "--data-dir", directory, "docs"])
        #expect(expired.stdout.contains("deleted 1 expired point(s)"), "\(expired.stdout)\(expired.stderr)")
        let badTTL = try runStrata(["collection", "ttl", "--data-dir", directory, "docs", "--default-seconds", "0"])
        #expect(badTTL.status == 1, "\(badTTL.stdout)")

        // Versions: tag, list, restore after a change, untag.
        let tagged = try runStrata(["collection", "versions", "--data-dir", directory, "docs", "--tag", "v1"])
        #expect(tagged.status == 0 && tagged.stdout.contains("tag v1"), "\(tagged.stdout)\(tagged.stderr)")
        let change = #"{"operations": [{"upsert": {"points": [{"id": 7, "vector": [1, 1]}]}}]}"#
        _ = try runStrata(["collection", "batch", "--data-dir", directory, "docs", "-"], input: change)
        let restored = try runStrata(["collection", "versions", "--data-dir", directory, "docs", "--restore", "v1"])
        #expect(restored.status == 0 && restored.stdout.contains("restored v1"), "\(restored.stderr)")
        #expect(try runStrata(["collection", "list", "--data-dir", directory]).stdout.contains("docs  0 points"))
        let inspected = try runStrata(["inspect", directory])
        #expect(inspected.stdout.contains("versions: 1 retained"), "\(inspected.stdout)")
        let untagged = try runStrata(["collection", "versions", "--data-dir", directory, "docs", "--untag", "v1"])
        #expect(untagged.status == 0 && !untagged.stdout.contains("tag v1"), "\(untagged.stdout)")
        let missing = try runStrata(["collection", "versions", "--data-dir", directory, "docs", "--restore", "v1"])
        #expect(missing.status == 1 && missing.stderr.contains("no version"), "\(missing.stderr)")

        // A query over both collections.
        let query = #"{"collections": ["docs", "b"], "query": [1, 0], "limit": 5, "with_payload": true}"#
        let answered = try runStrata(["collection", "query", "--data-dir", directory, "-"], input: query)
        #expect(answered.status == 0, "\(answered.stderr)")
        #expect(
            answered.stdout.contains(#""collection":"b""#) && answered.stdout.contains(#""in":"b""#),
            "\(answered.stdout)")
    }
}
