import Foundation
import Strata
import StrataIO
import StrataTestSupport
import Testing

@Suite struct DatabaseTests {
    @Test func createListAndDeleteCollections() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try db.createCollection("b", config: CollectionConfig(size: 4, distance: .dot))
        try db.createCollection(
            "a", config: CollectionConfig(vectors: ["text": VectorParams(size: 8, distance: .cosine)]))
        #expect(db.collectionNames() == ["a", "b"])
        try db.deleteCollection("b")
        #expect(db.collectionNames() == ["a"])
        #expect(throws: StrataError.self) { try db.collection("b") }
    }

    @Test func duplicateCollectionIsRejectedAndChangesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try db.createCollection("docs", config: CollectionConfig(size: 4, distance: .dot))
        let error = #expect(throws: StrataError.self) {
            try db.createCollection("docs", config: CollectionConfig(size: 8, distance: .euclid))
        }
        #expect(error?.code == .alreadyExists)
        #expect(try db.collection("docs").config.vectors[""]?.size == 4)
    }

    @Test func unknownCollectionIsNotFound() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let error = #expect(throws: StrataError.self) { try db.collection("nope") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("nope") == true)
    }

    @Test(arguments: ["", ".hidden", "a/b", "white space", String(repeating: "x", count: 256)])
    func badCollectionNamesAreRejected(name: String) throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let error = #expect(throws: StrataError.self) {
            try db.createCollection(name, config: CollectionConfig(size: 4, distance: .dot))
        }
        #expect(error?.code == .invalidArgument)
        #expect(db.collectionNames().isEmpty)
    }

    @Test func badConfigIsRejected() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        for config in [
            CollectionConfig(size: 0, distance: .dot),
            CollectionConfig(size: 70_000, distance: .dot),
        ] {
            let error = #expect(throws: StrataError.self) { try db.createCollection("c", config: config) }
            #expect(error?.code == .invalidArgument)
        }
        #expect(db.collectionNames().isEmpty)
    }

    @Test func secondOpenerOfADirectoryIsLockedOut() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        let error = #expect(throws: StrataError.self) { try Database.open(at: dir.path) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("LOCK") == true)
        db.close()
        let again = try Database.open(at: dir.path)
        again.close()
    }

    @Test func collectionsAndPointsSurviveReopen() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            let c = try db.createCollection("docs", config: CollectionConfig(size: 3, distance: .euclid))
            try await c.upsert([PointStruct(id: 1, vector: [1, 2, 3], payload: ["k": "v"])])
            try await c.upsert([
                PointStruct(id: .uuid(UUID(uuidString: "936DA01F-9ABD-4D9D-80C7-02AF85C822A8")!), vector: [0, 0, 1])
            ])
            try await c.delete([1])
            try await c.upsert([
                PointStruct(id: 2, vector: [4, 5, 6], payload: ["n": 7, "f": 1.5, "list": [1, "x", nil, true]])
            ])
            db.close()
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("docs")
        #expect(c.count() == 2)
        #expect(try c.retrieve([1]).isEmpty)
        let record = try #require(try c.retrieve([2], withVector: true).first)
        #expect(record.vectors?[""] == [4, 5, 6])
        #expect(record.payload == ["n": 7, "f": 1.5, "list": [1, "x", nil, true]])
        #expect(record.version == 4)
        #expect(c.recoveryReport.records == 4)
    }

    @Test func deletedCollectionHandleFailsAndNameCanBeReused() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let old = try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
        try await old.upsert([PointStruct(id: 1, vector: [1, 0])])
        try db.deleteCollection("c")
        let write = await #expect(throws: StrataError.self) {
            try await old.upsert([PointStruct(id: 2, vector: [1, 0])])
        }
        #expect(write?.code == .notFound)
        let read = #expect(throws: StrataError.self) { try old.retrieve([1]) }
        #expect(read?.code == .notFound)
        let fresh = try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
        #expect(fresh.count() == 0)
    }

    @Test func nonStrataDirectoryIsRefused() throws {
        let dir = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: dir.path + "/important.txt", contents: Data("hello".utf8))
        let error = #expect(throws: StrataError.self) { try Database.open(at: dir.path) }
        #expect(error?.code == .invalidArgument)
    }
}

/// A failed open closes what it opened.
@Suite struct FailedOpenTests {
    /// Found by `strata crashtest --power-loss --torn-writes`: when a later
    /// collection failed to open, the ones already opened kept their WAL
    /// writer and optimizer running, with the directory lock released; the
    /// leaked optimizer then flushed and published into a store that another
    /// open now owned (a manifest naming a segment the other one had removed).
    @Test func aFailedOpenLeavesNothingRunning() async throws {
        let fileSystem = FaultInjectingFileSystem()
        let root = "/db"
        let config = CollectionConfig(size: 4, distance: .euclid, optimizers: OptimizersConfig(flushIntervalSec: 1))
        do {
            let db = try Database.open(at: root, fileSystem: fileSystem)
            let a = try db.createCollection("a", config: config)
            try db.createCollection("b", config: config)
            try await a.upsert((0..<20).map { PointStruct(id: .number($0), vector: [1, 2, 3, Float($0)]) })
            db.close()  // the writes are only in a's WAL: its optimizer would flush them within a second
        }
        fileSystem.injectError(.open, pathContains: "/b/config.json", mode: .always, errno: EIO)
        #expect(throws: StrataError.self) { try Database.open(at: root, fileSystem: fileSystem) }
        let before = fileSystem.operationCount
        try await Task.sleep(nanoseconds: 2_500_000_000)
        #expect(fileSystem.operationCount == before, "something kept writing after the failed open")
        fileSystem.clearAllFaults()
        let db = try Database.open(at: root, fileSystem: fileSystem)
        #expect(try db.collection("a").count() == 20)
        db.close()
    }
}
