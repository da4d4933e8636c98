import Foundation
import Strata
import StrataTestSupport
import Testing

@Suite struct AliasTests {
    @Test func aliasesResolveSurviveReopenAndRename() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            try db.createCollection("docs", config: CollectionConfig(size: 4, distance: .dot))
            try db.updateAliases([
                .create(alias: "current", collection: "docs"), .create(alias: "old", collection: "docs"),
            ])
            try db.updateAliases([.rename(from: "old", to: "previous")])
            #expect(db.aliases().map(\.alias) == ["current", "previous"])
            #expect(try db.collection(named: "current").name == "docs")
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        #expect(
            db.aliases() == [
                AliasDescription(alias: "current", collection: "docs"),
                AliasDescription(alias: "previous", collection: "docs"),
            ])
        #expect(db.resolveAlias("previous") == "docs")
    }

    @Test func failedAliasBatchChangesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try db.createCollection("docs", config: CollectionConfig(size: 4, distance: .dot))
        try db.updateAliases([.create(alias: "a", collection: "docs")])
        let error = #expect(throws: StrataError.self) {
            try db.updateAliases([.delete(alias: "a"), .create(alias: "b", collection: "missing")])
        }
        #expect(error?.code == .notFound)
        #expect(db.aliases().map(\.alias) == ["a"])
        let conflict = #expect(throws: StrataError.self) {
            try db.updateAliases([.create(alias: "docs", collection: "docs")])
        }
        #expect(conflict?.code == .alreadyExists)
        #expect(throws: StrataError.self) { try db.updateAliases([.delete(alias: "nope")]) }
        #expect(throws: StrataError.self) { try db.updateAliases([.create(alias: "bad name", collection: "docs")]) }
    }

    @Test func aliasesOfDeletedCollectionsDisappear() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try db.createCollection("docs", config: CollectionConfig(size: 4, distance: .dot))
        try db.updateAliases([.create(alias: "a", collection: "docs")])
        try db.deleteCollection("docs")
        #expect(db.aliases().isEmpty)
        #expect(db.resolveAlias("a") == nil)
        #expect(throws: StrataError.self) { try db.collection(named: "a") }
        // Recreating the collection does not resurrect the alias once any change dropped it.
        try db.createCollection("other", config: CollectionConfig(size: 4, distance: .dot))
        try db.updateAliases([.create(alias: "b", collection: "other")])
        try db.createCollection("docs", config: CollectionConfig(size: 4, distance: .dot))
        #expect(db.aliases().map(\.alias) == ["b"])
    }
}
