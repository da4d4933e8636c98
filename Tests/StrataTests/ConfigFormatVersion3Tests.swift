import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import StrataVectorMath
import Testing

/// config.json version 3 (docs/format/data-directory.md): collection metadata.
/// Byte for byte as the spec shows it; versions 1 and 2 are still written while
/// the config holds nothing of version 3, and still read.
@Suite struct ConfigFormatVersion3Tests {
    static let config = CollectionConfig(
        vectors: ["a": VectorParams(size: 2, distance: .dot)], optimizers: OptimizersConfig(flushIntervalSec: 7),
        metadata: ["model": .string("e5-small"), "tags": .array([.int(1), .bool(true)])])

    @Test func version3GoldenFile() throws {
        let text = String(
            decoding: try Collection.StoredConfig(config: Self.config, vectorHistory: [:]).encoded(), as: UTF8.self)
        #expect(
            text.contains(
                """
                    "metadata" : {
                      "model" : "e5-small",
                      "tags" : [
                        1,
                        true
                      ]
                    },
                    "optimizers" : {
                """), "\(text)")
        #expect(text.hasSuffix("\"formatVersion\" : 3\n}"), "\(text)")
        let decoded = try JSONDecoder().decode(Collection.StoredConfig.self, from: Data(text.utf8))
        #expect(decoded.formatVersion == 3 && decoded.config == Self.config && decoded.vectorHistory == nil)
        // With a vector name history, version 3 carries it too.
        let history = ["b": VectorNameHistory(staleThroughOperation: 41, staleBelowSegment: 3)]
        let both = try Collection.StoredConfig(config: Self.config, vectorHistory: history)
        #expect(both.formatVersion == 3 && both.vectorHistory == history)
        // Without metadata the older versions are written, byte-identical to before.
        var plain = Self.config
        plain.metadata = nil
        let v1 = String(
            decoding: try Collection.StoredConfig(config: plain, vectorHistory: [:]).encoded(), as: UTF8.self)
        #expect(v1.contains("\"formatVersion\" : 1") && !v1.contains("metadata"))
        #expect(try Collection.StoredConfig(config: plain, vectorHistory: history).formatVersion == 2)
    }

    /// Strict mode is kept in config.json version 3 too, under `strictMode`.
    @Test func strictModeGoldenBytes() throws {
        var strict = StrictModeConfig()
        strict.enabled = true
        strict.maxQueryLimit = 100
        strict.sparseConfig = ["text": StrictModeConfig.Sparse(maxLength: 64)]
        var config = Self.config
        config.metadata = nil
        config.strictMode = strict
        let text = String(
            decoding: try Collection.StoredConfig(config: config, vectorHistory: [:]).encoded(), as: UTF8.self)
        #expect(text.hasSuffix("\"formatVersion\" : 3\n}"), "\(text)")
        #expect(
            text.contains(
                """
                    "strictMode" : {
                      "enabled" : true,
                      "maxQueryLimit" : 100,
                      "sparseConfig" : {
                        "text" : {
                          "maxLength" : 64
                        }
                      }
                    },
                """), "\(text)")
        let decoded = try JSONDecoder().decode(Collection.StoredConfig.self, from: Data(text.utf8))
        #expect(decoded.config == config)
    }

    /// Metadata survives a reopen; a change of it alone rewrites config.json.
    @Test func metadataIsPersisted() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
            let before = try String(contentsOfFile: dir.path + "/collections/c/config.json", encoding: .utf8)
            #expect(before.contains("\"formatVersion\" : 1"))
            try db.updateCollectionConfig("c") { $0.metadata = ["owner": .string("search-team")] }
            db.close()
        }
        let stored = try String(contentsOfFile: dir.path + "/collections/c/config.json", encoding: .utf8)
        #expect(stored.contains("\"formatVersion\" : 3"))
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        #expect(try db.collection("c").config.metadata == ["owner": .string("search-team")])
    }

    /// A version 1 or 2 file holding metadata is damaged (an older build would
    /// drop it); a version above 5 is from a newer build. Both refused at open.
    @Test func versionMismatchIsCorruption() throws {
        for (from, to, phrase) in [
            ("\"formatVersion\" : 3", "\"formatVersion\" : 2", "needs version 3"),
            ("\"formatVersion\" : 3", "\"formatVersion\" : 6", "reads versions 1 to 5"),
        ] {
            let dir = TemporaryDirectory()
            do {
                let db = try Database.open(at: dir.path)
                try db.createCollection("c", config: Self.config)
                db.close()
            }
            let path = dir.path + "/collections/c/config.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains(from))
            try text.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try Database.open(at: dir.path) } throws: { error in
                (error as? StrataError)?.code == .corruption && "\(error)".contains(phrase)
            }
        }
    }

    /// config.json version 4: a vector datatype other than float32.
    /// Version 5 (issue 20): `ttl`, exactly as docs/format/data-directory.md shows it;
    /// a version-4 file holding one is refused as damaged.
    @Test func version5GoldenFile() throws {
        var config = CollectionConfig(size: 2, distance: .dot)
        config.ttl = TTLConfig(key: "expires_at", defaultSeconds: 86400)
        let text = String(
            decoding: try Collection.StoredConfig(config: config, vectorHistory: [:]).encoded(), as: UTF8.self)
        #expect(
            text.contains(
                """
                    "ttl" : {
                      "defaultSeconds" : 86400,
                      "key" : "expires_at"
                    },
                """), "\(text)")
        #expect(text.hasSuffix("\"formatVersion\" : 5\n}"), "\(text)")
        let decoded = try JSONDecoder().decode(Collection.StoredConfig.self, from: Data(text.utf8))
        #expect(decoded.config == config)
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        try Data(text.replacingOccurrences(of: "\"formatVersion\" : 5", with: "\"formatVersion\" : 4").utf8)
            .write(to: URL(fileURLWithPath: dir.path + "/config.json"))
        #expect(throws: StrataError.self) {
            try Collection.readConfig(directory: dir.path, fileSystem: POSIXFileSystem())
        }
    }

    @Test func version4GoldenFile() throws {
        let config = CollectionConfig(
            vectors: [
                "": VectorParams(size: 384, distance: .cosine, datatype: .float16),
                "f": VectorParams(size: 2, distance: .dot, datatype: .float32),
            ])
        let text = String(
            decoding: try Collection.StoredConfig(config: config, vectorHistory: [:]).encoded(), as: UTF8.self)
        #expect(
            text.contains(
                """
                    "vectors" : {
                      "" : {
                        "datatype" : "float16",
                        "distance" : "Cosine",
                        "size" : 384
                      },
                      "f" : {
                        "datatype" : "float32",
                        "distance" : "Dot",
                        "size" : 2
                      }
                    }
                """), "\(text)")
        #expect(text.hasSuffix("\"formatVersion\" : 4\n}"), "\(text)")
        let decoded = try JSONDecoder().decode(Collection.StoredConfig.self, from: Data(text.utf8))
        #expect(decoded.config == config && decoded.config.vectors[""]?.storedDatatype == .float16)
        // float32 spelled out is kept (and reported, as Qdrant does), but needs no version 4.
        var plain = config
        plain.vectors[""] = VectorParams(size: 384, distance: .cosine, datatype: .float32)
        #expect(Collection.StoredConfig(config: plain, vectorHistory: [:]).formatVersion == 1)
        // A version 3 file naming a compact datatype is refused as damaged.
        try withTemporaryDirectory { dir in
            let downgraded = text.replacingOccurrences(of: "\"formatVersion\" : 4", with: "\"formatVersion\" : 3")
            _ = FileManager.default.createFile(atPath: joinPath(dir, "config.json"), contents: Data(downgraded.utf8))
            #expect(throws: StrataError.self) {
                _ = try Collection.readConfig(directory: dir, fileSystem: POSIXFileSystem())
            }
        }
    }
}
