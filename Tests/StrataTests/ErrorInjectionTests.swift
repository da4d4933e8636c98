import Foundation
@testable import Strata
import StrataIO
import StrataSegment
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 8, item 3: errors injected at every kind of write, sync and read of
/// the engine (docs/durability.md, "What a failed write means"), on the
/// fault-injecting file system. For each: the error is clear (code, and the
/// message names the file it was writing), nothing acknowledged is lost
/// (power loss and reopen, then compare with a model of the acknowledged
/// writes), nothing half-written is published, and the store is usable again
/// once the fault is gone.
@Suite struct ErrorInjectionTests {
    static let root = "/data"
    static let collectionDirectory = "/data/collections/c"

    static let config = CollectionConfig(
        size: 8, distance: .euclid,
        optimizers: OptimizersConfig(deletedThreshold: 0.2, vacuumMinVectorNumber: 2, defaultSegmentNumber: 2,
                                     indexingThresholdKB: 1 << 20, flushIntervalSec: 3600))

    /// A store with one immutable segment (points 0..<20), points 20..<30
    /// only in the WAL and the mutable segment, point 1 deleted and point 3
    /// copied on write since the flush (a tombstone file waits for the next
    /// publish).
    struct Fixture {
        let fs: FaultInjectingFileSystem
        let options: DatabaseOptions
        var db: Database
        var c: Collection
        var model = PointModel()

        init(options: DatabaseOptions = DatabaseOptions(), config: CollectionConfig = ErrorInjectionTests.config) async throws {
            fs = FaultInjectingFileSystem(durableDirectories: ["/"])
            self.options = options
            db = try Database.open(at: ErrorInjectionTests.root, options: options, fileSystem: fs)
            c = try db.createCollection("c", config: config)
            try await upsert((0..<20).map { modelPoint($0) })
            try c.flush()
            try await upsert((20..<30).map { modelPoint($0) })
            try await delete([1])
            try await setPayload(["cow": .bool(true)], for: [3])
        }

        mutating func upsert(_ points: [PointStruct]) async throws {
            try await c.upsert(points)
            model.upsert(points)
        }

        mutating func delete(_ ids: [PointID]) async throws {
            try await c.delete(ids)
            model.delete(ids)
        }

        mutating func setPayload(_ payload: Payload, for ids: [PointID]) async throws {
            try await c.setPayload(payload, for: ids)
            model.setPayload(payload, for: ids)
        }

        /// Close, optionally lose power (unsynced data and directory entries
        /// dropped), and open again with every fault cleared.
        mutating func reopen(powerLoss: Bool = true) throws {
            db.close()
            fs.clearAllFaults()
            if powerLoss { fs.simulatePowerLoss(.dropUnsynced) }
            db = try Database.open(at: ErrorInjectionTests.root, options: options, fileSystem: fs)
            c = try db.collection("c")
        }

        /// The store agrees with `model` or one of `alternatives` (the outcomes
        /// allowed for a write whose result was unknown), and verifies clean.
        func check(_ context: String, alternatives: [PointModel] = [], sourceLocation: SourceLocation = #_sourceLocation) {
            let differences = model.differences(from: c)
            let matchesAlternative = alternatives.contains { $0.differences(from: c).isEmpty }
            #expect(differences.isEmpty || matchesAlternative, "\(context): \(differences)", sourceLocation: sourceLocation)
            #expect(c.verify().isEmpty, "\(context): verify: \(c.verify())", sourceLocation: sourceLocation)
        }

        func files(_ directory: String) -> [String] { (try? fs.listDirectory(directory)) ?? [] }

        /// `*.tmp` files anywhere in the data directory: what a failed write
        /// left behind (it must remove them: they would hold on to the space
        /// of a full disk).
        func temporaryFiles(_ directory: String = ErrorInjectionTests.root) -> [String] {
            files(directory).flatMap { name -> [String] in
                let path = directory + "/" + name
                if fs.fileKind(path) == .directory { return temporaryFiles(path) }
                return name.hasSuffix(".tmp") ? [path] : []
            }
        }
        var segmentFiles: [String] { files(ErrorInjectionTests.collectionDirectory + "/segments") }
        var publishedSegments: Set<String> { Set(c.storageInfo.segments.map { ($0.path as NSString).lastPathComponent }) }

        /// Upserts two more points, flushes and snapshots: the store is usable.
        mutating func proveUsable(_ context: String, base: Int) async throws {
            try await upsert([modelPoint(base), modelPoint(base + 1)])
            try c.flush()
            let snapshot = try db.createSnapshot(of: "c")
            _ = try Database.verifySnapshot(at: [snapshot.path], fileSystem: fs)
            check("\(context), after the fault was lifted")
        }
    }

    /// A failed fsync of the collection directory after the MANIFEST rename
    /// leaves it unknown whether the new MANIFEST (and the tombstone generation
    /// it names) is on disk. The retry must not rewrite that generation with
    /// newer tombstones: if the first MANIFEST did reach the disk (the kernel
    /// wrote the directory later anyway) and power is lost before the retry's
    /// MANIFEST, the old checkpoint would meet tombstones of later operations,
    /// and replaying a copy-on-write after it would find its source deleted
    /// (docs/format/manifest.md, rule 2).
    @Test func failedManifestDirectorySyncNeverReusesATombstoneGeneration() async throws {
        var f = try await Fixture()
        try f.c.flush()  // point 1's tombstone is durable now; generation 1
        try await f.delete([2])
        // The flush syncs segments/ for the tombstone file, then the collection
        // directory for the MANIFEST rename: fail the second.
        f.fs.injectError(.syncDirectory, pathContains: Self.collectionDirectory, afterHits: 1, mode: .once, errno: EIO)
        let error = #expect(throws: StrataError.self) { try f.c.flush() }
        #expect(error?.message.contains("fsync directory") == true, "\(String(describing: error))")
        #expect((error?.cause as? IOError)?.path == Self.collectionDirectory, "\(String(describing: error))")
        // The kernel persisted the rename after all.
        try f.fs.syncDirectory(Self.collectionDirectory)
        // A copy-on-write of a point of segment 1 after that checkpoint.
        try await f.setPayload(["late": .int(1)], for: [4])
        // The retry writes tombstones, then fails at the MANIFEST; power is lost.
        f.fs.injectError(.write, pathContains: "MANIFEST", mode: .once, errno: ENOSPC)
        #expect(throws: StrataError.self) { try f.c.flush() }
        try f.reopen()
        f.check("failed collection-directory fsync, retry, power loss")
    }
}
