import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// `Database.renameCollection` (issue 20): data and aliases follow the new
/// name; refusals change nothing; a rename interrupted after its commit point
/// is finished by the next open, whichever step it stopped at.
@Suite struct RenameCollectionTests {
    static let config = CollectionConfig(size: 2, distance: .dot)

    static func fill(_ c: Collection) async throws {
        try await c.upsert(
            (1...5).map { PointStruct(id: .number($0), vector: [Float($0), 1], payload: ["n": .int(Int64($0))]) })
        try c.flush()
        try await c.upsert([PointStruct(id: 6, vector: [6, 1])])  // in the WAL only
    }

    @Test func dataAndAliasesFollowTheNewName() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let old = try db.createCollection("a", config: Self.config)
            try await Self.fill(old)
            try db.updateAliases([.create(alias: "current", collection: "a")])
            let renamed = try db.renameCollection("a", to: "b")
            #expect(renamed.name == "b")
            #expect(db.collectionNames() == ["b"])
            #expect(renamed.count() == 6)
            #expect(db.resolveAlias("current") == "b")
            #expect(throws: StrataError.self) { try db.collection("a") }
            // A write through the old handle is forwarded to the renamed collection.
            try await old.upsert([PointStruct(id: 7, vector: [7, 1])])
            #expect(try db.collection("b").count() == 7)
            #expect(FileManager.default.fileExists(atPath: dir.path + "/rename.json") == false)
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        #expect(db.collectionNames() == ["b"])
        #expect(try db.collection(named: "current").count() == 7)
        #expect(try db.collection("b").retrieve([3]).first?.payload == ["n": 3])
    }

    @Test func refusalsChangeNothing() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try await Self.fill(try db.createCollection("a", config: Self.config))
        _ = try db.createCollection("b", config: Self.config)
        try db.updateAliases([.create(alias: "alias-of-b", collection: "b")])
        let refusals: [(String, String, StrataError.Code)] = [
            ("a", "b", .alreadyExists),
            ("a", "alias-of-b", .alreadyExists),
            ("a", "bad/name", .invalidArgument),
            ("a", "", .invalidArgument),
            ("missing", "c", .notFound),
        ]
        for (from, to, code) in refusals {
            #expect(throws: StrataError.self) { try db.renameCollection(from, to: to) }
            do { try db.renameCollection(from, to: to) } catch let error as StrataError {
                #expect(error.code == code, "\(from) → \(to): \(error)")
            }
        }
        #expect(db.collectionNames() == ["a", "b"])
        #expect(try db.collection("a").count() == 6)
        #expect(db.resolveAlias("alias-of-b") == "b")
    }

    /// The states a crash can leave after the commit point (rename.json
    /// written): directory not yet renamed; renamed but aliases not updated.
    /// Either way the next open finishes the rename.
    @Test(arguments: [false, true]) func anInterruptedRenameIsFinishedAtOpen(directoryRenamed: Bool) async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            try await Self.fill(try db.createCollection("a", config: Self.config))
            try db.updateAliases([.create(alias: "current", collection: "a")])
        }
        let fs = POSIXFileSystem()
        try RenameJournal(from: "a", to: "b").write(dataDirectory: dir.path, fileSystem: fs)
        if directoryRenamed { try fs.rename(dir.path + "/collections/a", to: dir.path + "/collections/b") }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        #expect(db.collectionNames() == ["b"])
        #expect(try db.collection("b").count() == 6)
        #expect(db.resolveAlias("current") == "b")
        #expect(fs.fileKind(dir.path + "/rename.json") == nil)
    }

    @Test func aRenameRecordNamingTwoLiveDirectoriesIsReportedNotGuessed() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            _ = try db.createCollection("a", config: Self.config)
            _ = try db.createCollection("b", config: Self.config)
        }
        try RenameJournal(from: "a", to: "b").write(dataDirectory: dir.path, fileSystem: POSIXFileSystem())
        do {
            _ = try Database.open(at: dir.path)
            Issue.record("opened with an impossible rename record")
        } catch let error as StrataError {
            #expect(error.code == .corruption)
            #expect(error.message.contains("rename.json") && error.message.contains("both"), "\(error)")
        }
    }
}
