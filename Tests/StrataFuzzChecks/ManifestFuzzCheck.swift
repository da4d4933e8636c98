import Foundation
@_spi(Fuzzing) import Strata
import StrataBinary
import StrataIO

/// The checks of the `ManifestFuzz` target (fuzz/), shared with the test that
/// replays its corpus (fuzz/corpus/manifest). Each input is a collection's
/// MANIFEST file (docs/format/manifest.md, versions 1 and 2):
/// - decoded as is, and again with its CRC recomputed (libFuzzer cannot forge
///   CRC32C, so without that it would never reach the checks behind it); every
///   failure must be a `StrataError` `.corruption` naming the file; a manifest
///   that decodes must re-encode to bytes that decode to the same value and
///   re-encode to the same bytes;
/// - the CRC-fixed bytes put in place of the MANIFEST of a real collection
///   (config.json, a flushed segment, a payload index, a WAL) on an in-memory
///   `FaultInjectingFileSystem`, and the database opened: it must open or throw
///   a `StrataError`; a MANIFEST that does not decode must fail the open with
///   `.corruption` naming it.
/// Any input ends in a value or a thrown error; a broken invariant traps.
public enum ManifestFuzzCheck {
    static let root = "/db"
    static let collection = "c"
    static let manifestPath = "/db/collections/c/MANIFEST"

    /// Runs the checks on one input; returns whether it (or its CRC-fixed
    /// form) decoded.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Bool {
        var decoded = checkDecoding(bytes)
        var fixed = bytes
        recomputeManifestChecksum(&fixed)
        if fixed != bytes { decoded = checkDecoding(fixed) }
        checkOpening(fixed, decodes: decoded)
        return decoded
    }

    /// Sets the trailing masked CRC32C to the checksum of every byte before it.
    public static func recomputeManifestChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= 8 else { return }
        let crc = CRC32C.mask(CRC32C.checksum(Array(bytes[..<(bytes.count - 4)])))
        for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
    }

    private static func checkDecoding(_ bytes: [UInt8]) -> Bool {
        let image: ManifestImage
        do {
            image = try ManifestImage(decoding: bytes, path: manifestPath)
        } catch let error as StrataError {
            precondition(
                error.code == .corruption && error.message.contains(manifestPath),
                "a bad MANIFEST gave \(error), not a corruption error naming the file")
            return false
        } catch {
            preconditionFailure("decoding a MANIFEST threw \(type(of: error)): \(error)")
        }
        let encoded = image.encoded()
        let again: ManifestImage
        do {
            again = try ManifestImage(decoding: encoded, path: manifestPath)
        } catch {
            preconditionFailure("a decoded MANIFEST re-encodes to bytes that do not decode: \(error)")
        }
        // The same value; compared through the encoding when they differ, because a
        // schema may hold a NaN (binary JSON tag 4), which IEEE equality never
        // matches (fuzz/corpus/manifest/regression-nan-in-schema): bit-exact is the
        // round trip that matters.
        precondition(again.encoded() == encoded, "a re-encoded MANIFEST is not stable")
        precondition(
            again == image || again.encoded() == image.encoded(),
            "a decoded MANIFEST does not round-trip to the same value")
        return true
    }

    private static func checkOpening(_ manifest: [UInt8], decodes: Bool) {
        var fs: FaultInjectingFileSystem! = FaultInjectingFileSystem()
        weak let released = fs
        defer {
            // Whatever the open did, nothing of the engine may keep the file system
            // once the database is closed (or failed to open): no thread or cycle
            // left behind. A thread finishing its exit may hold it a moment, so
            // wait for it (LeakSanitizer would otherwise see the model half-freed).
            fs = nil
            var waited = 0
            while released != nil && waited < 2_000 {
                usleep(500)
                waited += 1
            }
            precondition(released == nil, "the engine still holds the file system a second after the database closed")
        }
        do {
            try template.install(in: fs)
            let file = try fs.open(manifestPath, mode: .create)
            try file.truncate(to: 0)
            try file.write(at: 0, manifest)
            try file.sync()
        } catch {
            preconditionFailure("setting up the in-memory collection failed: \(error)")
        }
        do {
            let db = try Database.open(at: root, options: options, fileSystem: fs)
            defer { db.close() }
            precondition(decodes, "a collection whose MANIFEST does not decode opened")
            let opened = try db.collection(collection)
            _ = opened.count()
        } catch let error as StrataError {
            if !decodes {
                precondition(
                    error.code == .corruption && error.message.contains(manifestPath),
                    "opening with a bad MANIFEST gave \(error), not a corruption error naming it")
            }
        } catch {
            preconditionFailure("opening a collection threw \(type(of: error)): \(error)")
        }
    }

    static let options = DatabaseOptions(durability: .durable, walFileSize: 1 << 20)

    // MARK: - The real collection the inputs are put into

    /// The files of a real data directory with collection "c": 3 points flushed
    /// into segment 1, a keyword index on "tag" (so the MANIFEST is version 2
    /// with a payload schema), then one more point in the WAL only.
    static let template: FileTree = {
        do {
            let fs = FaultInjectingFileSystem()
            let db = try Database.open(at: root, options: options, fileSystem: fs)
            let c = try db.createCollection(collection, config: CollectionConfig(size: 4, distance: .cosine))
            try runBlocking {
                try await c.upsert(
                    (1...3).map { id in
                        PointStruct(
                            id: .number(id), vector: [Float(id), 1, 0, 0.5],
                            payload: ["tag": .string("t\(id)"), "n": .int(Int64(id))])
                    })
                try await c.createFieldIndex("tag", schema: PayloadFieldSchema(.keyword))
            }
            try c.flush()
            try runBlocking {
                try await c.upsert([
                    PointStruct(id: .number(4), vector: [0, 1, 0, 0], payload: ["tag": .string("late")])
                ])
            }
            db.close()
            return try FileTree.capture(fs, root, skipping: ["LOCK"])
        } catch {
            preconditionFailure("building the template collection failed: \(error)")
        }
    }()

    // MARK: - Seeds

    /// Seed inputs cut from real files: the template's MANIFEST (version 2 with
    /// a segment and a payload index), the same as version 1 (written to the
    /// format's version-1 layout: no field count), an empty collection's, one
    /// with a tombstone generation and several segments, and a few damaged
    /// copies whose damage only the structure checks catch.
    public static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        let real = try require2(template.files["collections/c/MANIFEST"], "the template has no MANIFEST")
        var seeds: [(String, [UInt8])] = [("v2-segment-and-index", real)]
        // Version 1: same header and segments, version 1, no field_count/fields.
        let image = try ManifestImage(decoding: real, path: manifestPath)
        var v1 = Array(real[0..<(36 + 16 * image.segmentCount)])
        v1[8] = 1
        v1 += [0, 0, 0, 0]
        recomputeManifestChecksum(&v1)
        seeds.append(("v1-one-segment", v1))
        func manifest(
            version: UInt32, checkpoint: UInt64, next: UInt64, segments: [(UInt64, UInt64)], fields: [UInt8]? = nil
        ) -> [UInt8] {
            var w = ByteWriter(capacity: 64)
            w.write(contentsOf: Array("STRATMAN".utf8))
            w.write(version)
            w.write(UInt32(0))
            w.write(checkpoint)
            w.write(next)
            w.write(UInt32(segments.count))
            for (id, generation) in segments {
                w.write(id)
                w.write(generation)
            }
            if version == 2 {
                if let fields { w.write(contentsOf: fields) } else { w.write(UInt32(0)) }
            }
            var bytes = w.bytes + [0, 0, 0, 0]
            recomputeManifestChecksum(&bytes)
            return bytes
        }
        seeds.append(("v2-empty", manifest(version: 2, checkpoint: 0, next: 1, segments: [])))
        seeds.append(("v1-empty", manifest(version: 1, checkpoint: 0, next: 1, segments: [])))
        seeds.append(
            ("v2-tombstones", manifest(version: 2, checkpoint: 3, next: 9, segments: [(1, 2), (4, 0), (8, 1)])))
        seeds.append(
            ("v2-duplicate-segment", manifest(version: 2, checkpoint: 3, next: 9, segments: [(4, 0), (4, 1)])))
        seeds.append(("v2-segment-not-below-next", manifest(version: 2, checkpoint: 3, next: 2, segments: [(2, 0)])))
        seeds.append(("v3-unknown-version", manifest(version: 3, checkpoint: 0, next: 1, segments: [])))
        // Field keys out of order (the real schema entry twice).
        let fieldBytes = Array(real[(40 + 16 * image.segmentCount)..<(real.count - 4)])
        seeds.append(
            (
                "v2-keys-not-ascending",
                manifest(
                    version: 2, checkpoint: 3, next: 2, segments: [(1, 0)],
                    fields: [2, 0, 0, 0] + fieldBytes + fieldBytes)
            ))
        var badCRC = real
        badCRC[badCRC.count - 1] ^= 0x5A
        seeds.append(("v2-bad-crc", badCRC))
        return seeds
    }

    private static func require2<T>(_ value: T?, _ message: String) throws -> T {
        guard let value else { throw StrataError(.invalidArgument, message) }
        return value
    }
}

/// A directory tree copied out of one file system to be put into fresh ones.
struct FileTree: Sendable, Equatable {
    /// Relative paths of directories, parents first.
    var directories: [String] = []
    /// Relative path → content.
    var files: [String: [UInt8]] = [:]
    var root: String = ""

    static func capture(_ fs: any FileSystem, _ root: String, skipping: Set<String> = []) throws -> FileTree {
        var tree = FileTree(root: root)
        func walk(_ relative: String) throws {
            let path = relative.isEmpty ? root : joinPath(root, relative)
            for name in try fs.listDirectory(path) where !skipping.contains(name) {
                let child = relative.isEmpty ? name : relative + "/" + name
                switch fs.fileKind(joinPath(root, child)) {
                case .directory:
                    tree.directories.append(child)
                    try walk(child)
                case .file:
                    tree.files[child] = try fs.open(joinPath(root, child), mode: .readOnly).readAll()
                case nil:
                    break
                }
            }
        }
        try walk("")
        return tree
    }

    func install(in fs: any FileSystem) throws {
        try fs.createDirectory(root)
        for directory in directories { try fs.createDirectory(joinPath(root, directory)) }
        for (path, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let file = try fs.open(joinPath(root, path), mode: .createNew)
            try file.write(at: 0, bytes)
            try file.sync()
        }
        for directory in [root] + directories.map({ joinPath(root, $0) }) { try fs.syncDirectory(directory) }
    }
}

/// Runs `body` on the cooperative pool and blocks the calling thread until it
/// is done. Call only from a thread that is not in the pool (the fuzzer's
/// main thread, or a test's own `Thread`).
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    /// The outcome once `body` is done; the condition is broadcast when it is set.
    let result = Locked<Result<Void, any Error>?>(nil)
    Task {
        let outcome: Result<Void, any Error>
        do {
            try await body()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        result.withLock { state in
            state = outcome
            result.broadcast()
        }
    }
    try result.withLock(whenReady: { $0 != nil }) { $0! }.get()
}
