import Foundation
@testable import Strata
import StrataTestSupport
import Testing

/// A query stops with `.cancelled` once its `Cancellation` is cancelled or
/// past its deadline, and runs normally otherwise.
@Suite struct CancellationTests {
    static func withCollection(_ body: (Collection) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            defer { db.close() }
            let collection = try db.createCollection(
                "c", config: CollectionConfig(vectors: ["": VectorParams(size: 4, distance: .dot)]))
            var random = SeededGenerator.printing(seed: 77)
            try await collection.upsert(
                (0..<50).map { PointStruct(id: .number(UInt64($0)), vectors: ["": random.vector(4)]) })
            try await body(collection)
        }
    }

    static let request = QueryRequest(query: .nearest(.vector(.dense([1, 0, 0, 0]))), limit: 5)

    @Test func anUncancelledQueryRuns() async throws {
        try await Self.withCollection { collection in
            let hits = try collection.query(Self.request, cancellation: Cancellation())
            #expect(hits.count == 5)
        }
    }

    @Test func aCancelledQueryThrowsCancelled() async throws {
        try await Self.withCollection { collection in
            let cancellation = Cancellation()
            cancellation.cancel()
            #expect(throws: StrataError.self) { try collection.query(Self.request, cancellation: cancellation) }
            do {
                _ = try collection.queryGroups(Self.request, groupBy: "g", cancellation: cancellation)
                Issue.record("a cancelled grouped query answered")
            } catch let error as StrataError {
                #expect(error.code == .cancelled)
            }
        }
    }

    @Test func aPassedDeadlineAndACancelledParentCancel() async throws {
        try await Self.withCollection { collection in
            let passed = Cancellation(deadline: .now - .seconds(1))
            #expect(passed.isCancelled)
            do {
                _ = try collection.query(Self.request, cancellation: passed)
                Issue.record("a query past its deadline answered")
            } catch let error as StrataError {
                #expect(error.code == .cancelled)
            }
            let parent = Cancellation()
            let child = Cancellation(deadline: .now + .seconds(3600), parent: parent)
            #expect(!child.isCancelled)
            parent.cancel()
            #expect(child.isCancelled)
        }
    }
}
