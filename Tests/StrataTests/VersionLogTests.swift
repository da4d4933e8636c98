import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// The `VERSIONS` file (docs/format/versions.md): its golden form, retention.
@Suite struct VersionLogTests {
    @Test func goldenFile() throws {
        let manifest = Manifest(
            checkpoint: 42, nextSegmentID: 3, segments: [.init(segmentID: 2, tombstoneGeneration: 1)])
        var log = VersionLog(next: 7)
        log.add(manifest, at: Date(timeIntervalSince1970: 1_800_000_000.25), tag: "v1", config: nil)
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        try log.write(directory: dir.path, fileSystem: POSIXFileSystem())
        let text = try String(contentsOfFile: dir.path + "/VERSIONS", encoding: .utf8)
        let base64 = Data(manifest.encoded()).base64EncodedString()
        #expect(
            text == """
                {
                  "format" : "strata-versions",
                  "next" : 8,
                  "version" : 1,
                  "versions" : [
                    {
                      "manifest" : "\(base64)",
                      "number" : 7,
                      "operation" : 42,
                      "tag" : "v1",
                      "time" : 1800000000.25
                    }
                  ]
                }
                """, "\(text)")
        let read = try VersionLog.load(directory: dir.path, fileSystem: POSIXFileSystem())
        #expect(read == log)
        #expect(try read.referencedFiles(path: "VERSIONS") == manifest.files && manifest.files.count == 2)
        // A damaged manifest inside is corruption, named.
        try text.replacingOccurrences(of: base64, with: "AAAA").write(
            toFile: dir.path + "/VERSIONS", atomically: true, encoding: .utf8)
        #expect(throws: StrataError.self) { try VersionLog.load(directory: dir.path, fileSystem: POSIXFileSystem()) }
    }

    @Test func retentionKeepsTheNewestCountAndTheYoungAndEveryTag() {
        var log = VersionLog()
        let config = VersionsConfig(retainCount: 2, retainSeconds: 100)
        for (op, time) in [(1, 0.0), (2, 10.0), (3, 20.0), (4, 200.0)] {
            log.add(Manifest(checkpoint: UInt64(op)), at: Date(timeIntervalSince1970: time), tag: nil, config: config)
            if op == 1 {
                log.add(Manifest(checkpoint: 1), at: Date(timeIntervalSince1970: 1), tag: "keep", config: config)
            }
        }
        // At 200 s: ops 3 and 4 are the newest two; op 2 is 190 s old; the tag stays.
        #expect(log.records.map(\.operation) == [1, 3, 4])
        #expect(log.records.map(\.tag) == ["keep", nil, nil])
        // The same checkpoint again adds no untagged version.
        log.add(Manifest(checkpoint: 4), at: Date(timeIntervalSince1970: 201), tag: nil, config: config)
        #expect(log.records.count == 3)
    }
}
