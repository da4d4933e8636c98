import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// Every kind of hostile or damaged archive is refused, with an error naming
/// the archive (and entry) and what is wrong, before anything live changes:
/// no collection is replaced, no staging directory is left behind.
@Suite struct SnapshotHostileArchiveTests {
    enum Damage: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case absolutePath, dotDotPath, symlink, hardLink, deviceFile, fifo, duplicateName, sizeDisagreesWithManifest
        case truncatedInHeader, truncatedInContent, missingEndMarker, contentChecksumMismatch, sidecarChecksumMismatch
        case explicitChecksumMismatch, wrongFormatVersion, notAStrataSnapshot, fileNotInManifest, manifestFileMissing
        case walDoesNotReachOpNum, badHeaderChecksum, dataAfterEndMarker, unsafePathInManifest, manifestNotFirst
        case manifestNamesLiveDataDirectoryFile, nonZeroPadding

        var testDescription: String { rawValue }
    }

    /// What the error message must contain, per kind.
    static func expectedMessage(_ damage: Damage) -> String {
        switch damage {
        case .absolutePath: return "is absolute"
        case .dotDotPath: return "\"..\" component"
        case .symlink: return "is a symbolic link"
        case .hardLink: return "is a hard link"
        case .deviceFile: return "is a device file"
        case .fifo: return "is a FIFO"
        case .duplicateName: return "appears twice"
        case .sizeDisagreesWithManifest: return "but snapshot.json says"
        case .truncatedInHeader, .truncatedInContent, .missingEndMarker: return "is truncated"
        case .contentChecksumMismatch: return "fails its checksum: snapshot.json says SHA-256"
        case .sidecarChecksumMismatch: return ".sha256 says SHA-256"
        case .explicitChecksumMismatch: return "fails its checksum: expected SHA-256"
        case .wrongFormatVersion: return "format_version 2"
        case .notAStrataSnapshot: return "not a Strata snapshot"
        case .fileNotInManifest: return "is not listed in snapshot.json"
        case .manifestFileMissing: return "is listed in snapshot.json but missing from the archive"
        case .walDoesNotReachOpNum: return "the WAL ends at op"
        case .badHeaderChecksum: return "fails its checksum (stored"
        case .dataAfterEndMarker: return "data after its end-of-archive marker"
        case .unsafePathInManifest: return "lists an unsafe file"
        case .manifestNotFirst: return "starts with config.json, not snapshot.json"
        case .manifestNamesLiveDataDirectoryFile: return "may not replace the data directory's LOCK"
        case .nonZeroPadding: return "is not zero"
        }
    }

    func damagedArchive(
        _ damage: Damage, _ fixture: SnapshotFixture
    ) -> (bytes: [UInt8], sidecar: String?, checksum: String?) {
        var entries = fixture.entries
        let segment = entries.firstIndex { $0.name.hasPrefix("segments/") }!
        let config = entries.firstIndex { $0.name == "config.json" }!
        var bytes: [UInt8]?
        var sidecar: String?
        var checksum: String?
        switch damage {
        case .absolutePath: entries.append(RawTarEntry(name: "/etc/cron.d/evil", content: [1]))
        case .dotDotPath: entries.append(RawTarEntry(name: "segments/../../escape", content: [1]))
        case .symlink:
            entries.insert(
                RawTarEntry(name: "segments/link", type: UInt8(ascii: "2"), linkName: "/etc/passwd", content: []), at: 1
            )
        case .hardLink:
            entries.insert(
                RawTarEntry(
                    name: "segments/link", type: UInt8(ascii: "1"), linkName: "../../../etc/passwd", content: []), at: 1
            )
        case .deviceFile: entries.insert(RawTarEntry(name: "segments/sda", type: UInt8(ascii: "3"), content: []), at: 1)
        case .fifo: entries.insert(RawTarEntry(name: "segments/pipe", type: UInt8(ascii: "6"), content: []), at: 1)
        case .duplicateName: entries.append(entries[config])
        case .sizeDisagreesWithManifest:
            editManifestFile(&entries, path: "config.json") { $0["size"] = ($0["size"] as! Int) + 1 }
        case .truncatedInHeader:
            bytes = Array(writeRawTar(entries)[..<(512 + (entries[0].content.count + 511) / 512 * 512 + 100)])
        case .truncatedInContent:
            let full = writeRawTar(entries)
            bytes = Array(full[..<(full.count / 2)])
        case .missingEndMarker: bytes = writeRawTar(entries, endMarker: false)
        case .contentChecksumMismatch: entries[segment].content[entries[segment].content.count / 2] ^= 0x10
        case .sidecarChecksumMismatch: sidecar = String(repeating: "ab", count: 32) + "  x.snapshot\n"
        case .explicitChecksumMismatch: checksum = String(repeating: "cd", count: 32)
        case .wrongFormatVersion: editManifest(&entries) { $0["format_version"] = 2 }
        case .notAStrataSnapshot: editManifest(&entries) { $0["format"] = "qdrant-snapshot" }
        case .fileNotInManifest: entries.append(RawTarEntry(name: "payload_index.json", content: Array("{}".utf8)))
        case .manifestFileMissing: entries.remove(at: segment)
        case .walDoesNotReachOpNum:
            editManifest(&entries) { object in
                object["op_num"] = (object["op_num"] as! Int) + 1
                var collections = object["collections"] as! [[String: Any]]
                collections[0]["op_num"] = (collections[0]["op_num"] as! Int) + 1
                object["collections"] = collections
            }
        case .badHeaderChecksum:
            var raw = writeRawTar(entries)
            raw[512 + (entries[0].content.count + 511) / 512 * 512 + 3] ^= 0x01  // a byte of the second header's name
            bytes = raw
        case .dataAfterEndMarker: bytes = writeRawTar(entries) + [0, 0, 7]
        case .nonZeroPadding:
            var raw = writeRawTar(entries)
            precondition(entries[0].content.count % 512 != 0)
            raw[512 + entries[0].content.count] = 0x20  // the first padding byte after snapshot.json
            bytes = raw
        case .unsafePathInManifest:
            editManifestFile(&entries, path: "config.json") { $0["path"] = "../config.json" }
        case .manifestNotFirst: entries.swapAt(0, config)
        case .manifestNamesLiveDataDirectoryFile:
            entries = fixture.fullEntries
            entries.append(RawTarEntry(name: "LOCK", content: [0]))
            editManifest(&entries) { object in
                var files = object["files"] as! [[String: Any]]
                files.append(["path": "LOCK", "size": 1, "sha256": sha256Hex([0]), "source": "archive"])
                object["files"] = files
            }
        }
        return (bytes ?? writeRawTar(entries), sidecar, checksum)
    }

    @Test(arguments: Damage.allCases)
    func hostileArchiveIsRefusedBeforeAnythingChanges(_ damage: Damage) async throws {
        let fixture = try await SnapshotFixture(flushDeletion: false)
        defer { fixture.db.close() }
        let (bytes, sidecar, checksum) = damagedArchive(damage, fixture)
        let path = fixture.archivePath("\(damage.rawValue).snapshot")
        try writeFile(path, bytes)
        if let sidecar { try writeFile(path + ".sha256", Array(sidecar.utf8)) }

        let verifyError = #expect(throws: StrataError.self) {
            try Database.verifySnapshot(at: [path], checksum: checksum)
        }
        let restoreError = #expect(throws: StrataError.self) {
            try fixture.db.restoreSnapshot(from: [path], overwrite: true, checksum: checksum)
        }
        for error in [verifyError, restoreError] {
            let message = error?.message ?? ""
            #expect(message.contains(Self.expectedMessage(damage)), "\(damage): \(message)")
            #expect(message.contains(path), "\(damage): the message must name the archive: \(message)")
        }
        #expect(
            [.corruption, .invalidArgument].contains(restoreError?.code),
            "\(damage): \(String(describing: restoreError?.code))")
        // Nothing live changed and nothing was left behind.
        #expect(fixture.db.collectionNames() == ["c"])
        #expect(try CollectionState(fixture.db.collection("c")) == fixture.state)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory.path + "/collections") == ["c"])
        let root = try FileManager.default.contentsOfDirectory(atPath: fixture.directory.path)
        #expect(!root.contains { $0.hasPrefix(".restore-") }, "\(root)")
    }

    @Test func theUndamagedFixtureRestores() async throws {
        let fixture = try await SnapshotFixture(flushDeletion: false)
        defer { fixture.db.close() }
        let path = fixture.archivePath("clean.snapshot")
        // The tests' own writer produces an archive the engine accepts, so each
        // refusal above is caused by its damage alone.
        try writeFile(path, writeRawTar(fixture.entries))
        _ = try Database.verifySnapshot(at: [path])
        try fixture.db.restoreSnapshot(from: [path], overwrite: true)
        #expect(try CollectionState(fixture.db.collection("c")) == fixture.state)
    }
}
