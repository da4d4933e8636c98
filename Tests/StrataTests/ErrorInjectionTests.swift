import Foundation
@testable import Strata
import StrataIO
import StrataSegment
import StrataTestSupport
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
        optimizers: OptimizersConfig(
            deletedThreshold: 0.2, vacuumMinVectorNumber: 2, defaultSegmentNumber: 2,
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

        init(
            options: DatabaseOptions = DatabaseOptions(), config: CollectionConfig = ErrorInjectionTests.config
        ) async throws {
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
        func check(
            _ context: String, alternatives: [PointModel] = [], sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let differences = model.differences(from: c)
            let matchesAlternative = alternatives.contains { $0.differences(from: c).isEmpty }
            #expect(
                differences.isEmpty || matchesAlternative, "\(context): \(differences)", sourceLocation: sourceLocation)
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
        func segmentPath(_ id: UInt64) -> String {
            ErrorInjectionTests.collectionDirectory + "/segments/" + Manifest.segmentFileName(id)
        }
        var publishedSegments: Set<String> {
            Set(c.storageInfo.segments.map { ($0.path as NSString).lastPathComponent })
        }

        /// Upserts two more points, flushes and snapshots: the store is usable.
        mutating func proveUsable(_ context: String, base: Int) async throws {
            try await upsert([modelPoint(base), modelPoint(base + 1)])
            try c.flush()
            let snapshot = try db.createSnapshot(of: "c")
            _ = try Database.verifySnapshot(at: [snapshot.path], fileSystem: fs)
            check("\(context), after the fault was lifted")
        }
    }

    // MARK: - fsync EIO

    /// Every kind of fsync the engine does. The WAL's are permanent (the
    /// collection stops taking writes); the others fail one operation whose
    /// file is then discarded, never published or synced again, and a retry
    /// writes a new file.
    enum SyncFault: String, CaseIterable, CustomTestStringConvertible {
        case walAppend  // fdatasync of a group commit (durable mode)
        case walNewFile  // fsync of a new WAL file at rotation
        case walBeforeCheckpoint  // periodic mode: the WAL fdatasync a publish does before its manifest
        case walDirectory  // fsync of wal/ after a new WAL file's rename
        case segmentFlush  // fsync of a flushed segment file
        case segmentMerge  // fsync of a merge's output
        case segmentVacuum  // fsync of a vacuum's output
        case segmentsDirectory  // fsync of segments/ after a new segment file
        case tombstoneFile  // fsync of seg-<id>-<gen>.del.tmp
        case manifest  // fsync of MANIFEST.tmp
        case collectionConfig  // fsync of config.json at create
        case aliases  // fsync of aliases.json.tmp
        case snapshotArchive  // fsync of <name>.snapshot.tmp
        case restoreStaging  // fsync of a file unpacked into .restore-<token>-<name>/
        case restoreCommit  // fsync of the restore's commit record (over a live collection)
        var testDescription: String { rawValue }
    }

    @Test(arguments: SyncFault.allCases)
    func fsyncEIO(_ fault: SyncFault) async throws {
        var f = try await Fixture(
            options: fault == .walBeforeCheckpoint
                ? DatabaseOptions(durability: .periodic(milliseconds: 3_600_000))
                : [.walNewFile, .walDirectory].contains(fault) ? DatabaseOptions(walFileSize: 1500) : DatabaseOptions())
        let context = "fsync EIO at \(fault)"
        switch fault {
        case .walAppend:
            let before = f.model
            f.fs.failSyncs(mode: .once, pathContains: "/wal/")
            let error = await #expect(throws: StrataError.self) { try await f.c.upsert([modelPoint(100)]) }
            #expect(
                error?.code == .failed && error?.message.contains("fdatasync") == true,
                "\(context): \(String(describing: error))")
            try await expectWritesRefused(f, context)
            f.check("\(context), reads after the failure")  // the failed write is not visible
            try f.reopen()
            // Its outcome is unknown (docs/durability.md), but it is whole or absent.
            f.check("\(context), after power loss", alternatives: [before.applying { $0.upsert([modelPoint(100)]) }])
            try await f.upsert([modelPoint(101)])  // writable again after reopen

        case .walNewFile:
            // Reopen first: the fault file system matches rules against the name a
            // file was opened under, and a WAL file created by rotation is written
            // through the handle opened under its temporary name.
            try f.reopen(powerLoss: false)
            f.fs.failSyncs(mode: .once, pathContains: ".log.tmp")
            try await expectRotationFailureThenRecovery(&f, context)

        case .walDirectory:
            try f.reopen(powerLoss: false)  // no rotation since: the next fsync of wal/ is the next rotation's
            f.fs.injectError(.syncDirectory, pathContains: "/wal", mode: .once, errno: EIO)
            try await expectRotationFailureThenRecovery(&f, context)

        case .walBeforeCheckpoint:
            f.fs.failSyncs(mode: .once, pathContains: "/wal/")
            let error = #expect(throws: StrataError.self) { try f.c.flush() }
            #expect(
                error?.code == .failed && error?.message.contains("fdatasync") == true,
                "\(context): \(String(describing: error))")
            #expect(
                f.c.storageInfo.checkpoint < f.c.storageInfo.lastOperation, "\(context): no checkpoint may be claimed")
            try await expectWritesRefused(f, context)
            // Periodic mode: a power loss may take the last interval; a reopen without one loses nothing.
            try f.reopen(powerLoss: false)
            f.check("\(context), after reopen")
            try await f.upsert([modelPoint(200)])

        case .segmentFlush, .segmentMerge, .segmentVacuum:
            if fault != .segmentFlush { try await prepareSegmentPair(&f, forMerge: fault == .segmentMerge) }
            let before = f.segmentFiles
            f.fs.failSyncs(mode: .once, pathContains: ".seg")
            let error = #expect(throws: StrataError.self) {
                if fault == .segmentFlush { try f.c.flush() } else { try f.c.optimize() }
            }
            let failed = try #require((error?.cause as? SegmentError)?.file, "\(context): \(String(describing: error))")
            #expect(
                error?.code == .io && error?.message.contains("fsync") == true
                    && error?.message.contains(failed) == true,
                "\(context): \(String(describing: error))")
            #expect(f.fs.fileKind(failed) == nil, "\(context): the file whose fsync failed must be discarded")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
            #expect(f.segmentFiles == before, "\(context): \(f.segmentFiles) vs \(before)")
            try await f.upsert([modelPoint(150)])  // the WAL is fine: writes go on
            if fault == .segmentFlush { try f.c.flush() } else { try f.c.optimize() }
            #expect(
                !f.publishedSegments.contains((failed as NSString).lastPathComponent),
                "\(context): the failed file's name was reused")
            if fault != .segmentFlush { #expect(f.c.storageInfo.segments.count <= 2) }
            f.check(context)
            try f.reopen()
            f.check("\(context), after power loss")
            try await f.proveUsable(context, base: 300)

        case .segmentsDirectory:
            f.fs.injectError(.syncDirectory, pathContains: "/segments", mode: .once, errno: EIO)
            let error = #expect(throws: StrataError.self) { try f.c.flush() }
            #expect(
                error?.code == .io && error?.message.contains("fsync directory") == true,
                "\(context): \(String(describing: error))")
            let leftovers = Set(f.segmentFiles).subtracting(f.publishedSegments)
            try f.c.flush()
            #expect(
                f.publishedSegments.isDisjoint(with: leftovers),
                "\(context): a file written before the failed directory fsync was published")
            f.check(context)
            try f.reopen()
            #expect(
                Set(f.segmentFiles).isDisjoint(with: leftovers.filter { $0.hasSuffix(".seg") }),
                "\(context): leftovers not removed at open")
            f.check("\(context), after power loss")
            try await f.proveUsable(context, base: 300)

        case .tombstoneFile, .manifest:
            let fragment = fault == .tombstoneFile ? ".del" : "MANIFEST"
            let checkpoint = f.c.storageInfo.checkpoint
            f.fs.failSyncs(mode: .once, pathContains: fragment)
            let error = #expect(throws: StrataError.self) { try f.c.flush() }
            #expect(
                error?.code == .io && error?.message.contains("fsync") == true
                    && error?.message.contains(fragment) == true,
                "\(context): \(String(describing: error))")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
            #expect(
                f.c.storageInfo.checkpoint == checkpoint,
                "\(context): a checkpoint was claimed without a durable manifest")
            try await f.upsert([modelPoint(150)])
            try f.c.flush()
            #expect(f.c.storageInfo.checkpoint > checkpoint)
            f.check(context)
            try f.reopen()
            f.check("\(context), after power loss")
            try await f.proveUsable(context, base: 300)

        case .collectionConfig:
            f.fs.failSyncs(mode: .once, pathContains: "config.json")
            let error = #expect(throws: StrataError.self) { try f.db.createCollection("d", config: Self.config) }
            #expect(
                error?.code == .io && error?.message.contains("config.json") == true,
                "\(context): \(String(describing: error))")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
            #expect(!f.db.collectionNames().contains("d"))
            #expect(f.files(Self.root + "/collections") == ["c"], "\(context): \(f.files(Self.root + "/collections"))")
            _ = try f.db.createCollection("d", config: Self.config)
            try f.reopen()
            #expect(f.db.collectionNames() == ["c", "d"])
            f.check("\(context), after power loss")
            try await f.proveUsable(context, base: 300)

        case .aliases:
            f.fs.failSyncs(mode: .once, pathContains: "aliases.json")
            let error = #expect(throws: StrataError.self) {
                try f.db.updateAliases([.create(alias: "a", collection: "c")])
            }
            #expect(
                error?.code == .io && error?.message.contains("aliases.json") == true,
                "\(context): \(String(describing: error))")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
            #expect(f.db.aliases().isEmpty)
            try f.db.updateAliases([.create(alias: "a", collection: "c")])
            try f.reopen()
            #expect(f.db.resolveAlias("a") == "c")
            f.check("\(context), after power loss")

        case .snapshotArchive:
            f.fs.failSyncs(mode: .once, pathContains: ".snapshot")
            let error = #expect(throws: StrataError.self) { try f.db.createSnapshot(of: "c") }
            #expect(
                error?.code == .io && error?.message.contains(".snapshot") == true,
                "\(context): \(String(describing: error))")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
            #expect(try f.db.listSnapshots(collection: "c").isEmpty)
            #expect(
                f.files(f.db.snapshotsDirectory + "/c").isEmpty,
                "\(context): \(f.files(f.db.snapshotsDirectory + "/c"))")
            try f.reopen()
            f.check("\(context), after power loss")
            try await f.proveUsable(context, base: 300)

        case .restoreStaging:
            let snapshot = try f.db.createSnapshot(of: "c")
            f.fs.failSyncs(mode: .once, pathContains: ".restore-")
            let error = #expect(throws: StrataError.self) { try f.db.restoreSnapshot(from: [snapshot.path], as: "r") }
            #expect(
                error?.code == .io && error?.message.contains("unpacking") == true,
                "\(context): \(String(describing: error))")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
            #expect(
                f.files(Self.root + "/collections") == ["c"],
                "\(context): staging left behind: \(f.files(Self.root + "/collections"))")
            f.check("\(context): live data")
            try f.db.restoreSnapshot(from: [snapshot.path], as: "r")
            #expect(f.model.differences(from: try f.db.collection("r")).isEmpty)
            try f.reopen()
            f.check("\(context), after power loss")

        case .restoreCommit:
            let snapshot = try f.db.createSnapshot(of: "c")
            try await f.upsert([modelPoint(150)])  // live data newer than the snapshot
            f.fs.failSyncs(mode: .once, pathContains: ".commit")
            let error = #expect(throws: StrataError.self) {
                try f.db.restoreSnapshot(from: [snapshot.path], as: "c", overwrite: true)
            }
            #expect(
                error?.code == .io && error?.message.contains(".commit") == true,
                "\(context): \(String(describing: error))")
            try expectRestoreRolledBack(&f, context)
            try f.db.restoreSnapshot(from: [snapshot.path], as: "c", overwrite: true)
            f.c = try f.db.collection("c")
            f.model.delete([.number(150)])
            try f.reopen()
            f.check("\(context), restored, after power loss")
        }
    }

    /// A restore that failed before its commit record: staging is gone and the
    /// live collection it closed is open again, unchanged.
    func expectRestoreRolledBack(_ f: inout Fixture, _ context: String) throws {
        #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
        #expect(
            f.files(Self.root + "/collections") == ["c"],
            "\(context): staging left behind: \(f.files(Self.root + "/collections"))")
        f.c = try f.db.collection("c")
        f.check("\(context): live data after the failed restore")
    }

    /// With a fault armed on the next WAL rotation: upserts (each acknowledged
    /// one recorded in the model) until one is refused because the new WAL
    /// file could not be made durable, then later writes are refused too, and
    /// after a power loss and reopen the store holds the model and takes writes.
    func expectRotationFailureThenRecovery(_ f: inout Fixture, _ context: String) async throws {
        var failure: StrataError?
        for id in 100..<140 {
            do {
                try await f.upsert([modelPoint(id)])
            } catch let error as StrataError {
                failure = error
                break
            }
        }
        #expect(
            failure?.code == .failed && failure?.message.contains("new WAL file") == true,
            "\(context): \(String(describing: failure))")
        try await expectWritesRefused(f, context)
        try f.reopen()
        f.check("\(context), after power loss")
        try await f.upsert([modelPoint(200)])
    }

    /// Two immutable segments for a merge (`forMerge`) or one with enough
    /// deletions for a vacuum, so the next `optimize()` writes a segment.
    func prepareSegmentPair(_ f: inout Fixture, forMerge: Bool) async throws {
        try f.c.flush()
        if forMerge {
            try await f.upsert((30..<35).map { modelPoint($0) })
        } else {
            try await f.delete([0, 2, 4, 5, 6].map { PointID.number($0) })
        }
        try f.c.flush()
    }

    /// After a permanent WAL failure: writes fail with `failed` saying why, reads work.
    func expectWritesRefused(_ f: Fixture, _ context: String) async throws {
        let error = await #expect(throws: StrataError.self) { try await f.c.upsert([modelPoint(999)]) }
        #expect(error?.code == .failed, "\(context): later writes must be refused: \(String(describing: error))")
        #expect(
            error?.message.contains("reopen") == true,
            "\(context): the message must say why and what to do: \(String(describing: error))")
        #expect(try f.c.retrieve([.number(999)]).isEmpty)
        #expect(f.c.count() == f.model.points.count)
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

    // MARK: - ENOSPC

    /// Every kind of write the engine does, failing with ENOSPC.
    enum SpaceFault: String, CaseIterable, CustomTestStringConvertible {
        case walRecord  // a group commit's records
        case walNewFile  // the header of a new WAL file at rotation
        case segmentFlush  // a flushed segment file
        case segmentMerge  // a merge's output
        case segmentVacuum  // a vacuum's output
        case tombstoneFile  // seg-<id>-<gen>.del.tmp
        case manifest  // MANIFEST.tmp
        case collectionConfig  // config.json of a new collection
        case aliases  // aliases.json.tmp
        case snapshotArchive  // <name>.snapshot.tmp
        case snapshotChecksum  // <name>.snapshot.sha256.tmp
        case restoreStaging  // a file unpacked into staging
        case restoreCommit  // the restore's commit record (over a live collection)
        var testDescription: String { rawValue }
    }

    @Test(arguments: SpaceFault.allCases)
    func writeENOSPC(_ fault: SpaceFault) async throws {
        var f = try await Fixture(
            options: fault == .walNewFile ? DatabaseOptions(walFileSize: 1500) : DatabaseOptions())
        let context = "ENOSPC at \(fault)"
        func expectExhausted(_ error: StrataError?, naming fragment: String) {
            #expect(
                error?.code == .resourceExhausted && error?.message.contains(fragment) == true
                    && error?.message.contains("No space left") == true,
                "\(context): \(String(describing: error))")
            #expect(f.temporaryFiles().isEmpty, "\(context): partial files left: \(f.temporaryFiles())")
        }
        func noSpace(_ fragment: String) {
            f.fs.injectError(.write, pathContains: fragment, mode: .once, errno: ENOSPC)
        }
        switch fault {
        case .walRecord:
            noSpace("/wal/")
            let error = await #expect(throws: StrataError.self) {
                try await f.c.upsert((100..<110).map { modelPoint($0) })
            }
            expectExhausted(error, naming: "/wal/wal-")
            #expect(try f.c.retrieve([.number(100)]).isEmpty)
            try await f.upsert([modelPoint(111)])  // the same log takes writes again
            f.check(context)

        case .walNewFile:
            try f.reopen(powerLoss: false)  // see fsyncEIO(.walNewFile)
            noSpace(".log.tmp")
            let filesBefore = f.c.storageInfo.walFiles
            for id in 100..<125 { try await f.upsert([modelPoint(id)]) }  // every one acknowledged
            #expect(f.c.storageInfo.walFiles > filesBefore, "\(context): rotation must be retried after the failed one")
            f.check(context)

        case .segmentFlush, .segmentMerge, .segmentVacuum:
            if fault != .segmentFlush { try await prepareSegmentPair(&f, forMerge: fault == .segmentMerge) }
            let before = f.segmentFiles
            let segmentsBefore = f.c.storageInfo.segments.map(\.id)
            noSpace(".seg")
            let error = #expect(throws: StrataError.self) {
                if fault == .segmentFlush { try f.c.flush() } else { try f.c.optimize() }
            }
            expectExhausted(error, naming: ".seg")
            #expect(f.segmentFiles == before, "\(context): a partial segment file was left: \(f.segmentFiles)")
            #expect(f.c.storageInfo.segments.map(\.id) == segmentsBefore)
            try await f.upsert([modelPoint(150)])
            if fault == .segmentFlush { try f.c.flush() } else { try f.c.optimize() }
            f.check(context)

        case .tombstoneFile, .manifest:
            let fragment = fault == .tombstoneFile ? ".del" : "MANIFEST"
            let checkpoint = f.c.storageInfo.checkpoint
            noSpace(fragment)
            let error = #expect(throws: StrataError.self) { try f.c.flush() }
            expectExhausted(error, naming: fragment)
            #expect(f.c.storageInfo.checkpoint == checkpoint)
            try await f.upsert([modelPoint(150)])
            try f.c.flush()
            #expect(f.c.storageInfo.checkpoint > checkpoint)
            f.check(context)

        case .collectionConfig:
            noSpace("config.json")
            let error = #expect(throws: StrataError.self) { try f.db.createCollection("d", config: Self.config) }
            expectExhausted(error, naming: "config.json")
            #expect(f.files(Self.root + "/collections") == ["c"])
            _ = try f.db.createCollection("d", config: Self.config)

        case .aliases:
            noSpace("aliases.json")
            let error = #expect(throws: StrataError.self) {
                try f.db.updateAliases([.create(alias: "a", collection: "c")])
            }
            expectExhausted(error, naming: "aliases.json")
            #expect(f.db.aliases().isEmpty)
            try f.db.updateAliases([.create(alias: "a", collection: "c")])

        case .snapshotArchive, .snapshotChecksum:
            noSpace(fault == .snapshotArchive ? ".snapshot.tmp" : ".sha256")
            let error = #expect(throws: StrataError.self) { try f.db.createSnapshot(of: "c") }
            expectExhausted(error, naming: ".snapshot")
            #expect(try f.db.listSnapshots(collection: "c").isEmpty)
            #expect(
                f.files(f.db.snapshotsDirectory + "/c").isEmpty,
                "\(context): \(f.files(f.db.snapshotsDirectory + "/c"))")

        case .restoreStaging:
            let snapshot = try f.db.createSnapshot(of: "c")
            noSpace(".restore-")
            let error = #expect(throws: StrataError.self) { try f.db.restoreSnapshot(from: [snapshot.path], as: "r") }
            expectExhausted(error, naming: "unpacking")
            #expect(f.files(Self.root + "/collections") == ["c"], "\(context): staging left behind")
            try f.db.restoreSnapshot(from: [snapshot.path], as: "r")
            #expect(f.model.differences(from: try f.db.collection("r")).isEmpty)

        case .restoreCommit:
            let snapshot = try f.db.createSnapshot(of: "c")
            try await f.upsert([modelPoint(150)])
            noSpace(".commit")
            let error = #expect(throws: StrataError.self) {
                try f.db.restoreSnapshot(from: [snapshot.path], as: "c", overwrite: true)
            }
            expectExhausted(error, naming: ".commit")
            try expectRestoreRolledBack(&f, context)
            try f.db.restoreSnapshot(from: [snapshot.path], as: "c", overwrite: true)
            f.c = try f.db.collection("c")
            f.model.delete([.number(150)])
        }
        try f.reopen()
        f.check("\(context), after power loss")
        try await f.proveUsable(context, base: 300)
    }

    /// The disk fills up (a capacity limit, not a targeted fault) under a
    /// workload that writes every kind of file; every failure is
    /// `resourceExhausted` and loses nothing acknowledged; after space returns
    /// everything works.
    @Test func diskFillsUpUnderAMixedWorkload() async throws {
        var f = try await Fixture(options: DatabaseOptions(walFileSize: 4096))
        f.fs.capacityBytes = f.fs.usedBytes + 24_000
        var failures: [String: Int] = [:]
        var next = 1000
        for round in 0..<60 {
            let batch = (next..<(next + 5)).map { modelPoint($0) }
            next += 5
            do {
                try await f.upsert(batch)
            } catch let error as StrataError {
                #expect(error.code == .resourceExhausted, "round \(round) upsert: \(error)")
                failures["upsert", default: 0] += 1
            }
            do {
                switch round % 3 {
                case 0: try f.c.flush()
                case 1: try f.c.optimize()
                default: _ = try f.db.createSnapshot(of: "c")
                }
            } catch let error as StrataError {
                #expect(error.code == .resourceExhausted, "round \(round) maintenance: \(error)")
                failures[["flush", "optimize", "snapshot"][round % 3], default: 0] += 1
            }
        }
        print("diskFillsUpUnderAMixedWorkload: failures \(failures.sorted { $0.key < $1.key })")
        #expect(
            failures["upsert", default: 0] > 0 && failures["flush", default: 0] > 0,
            "the disk never filled: \(failures)")
        f.check("disk full")
        f.fs.capacityBytes = nil
        for snapshot in try f.db.listSnapshots(collection: "c") {
            try f.db.deleteSnapshot(named: snapshot.name, collection: "c")
        }
        try f.reopen()
        f.check("disk full, after power loss")
        try await f.proveUsable("disk full", base: 5000)
    }

    /// A background flush that fails (disk full, or a segment file's fsync
    /// EIO) is reported in `StorageInfo.backgroundError` and retried, each
    /// time writing a new file: a file whose write or fsync failed is never
    /// published. Acknowledged writes stay in the WAL meanwhile.
    @Test(arguments: [ENOSPC, EIO])
    func backgroundFlushFailureIsReportedAndRetried(_ err: Int32) async throws {
        var config = Self.config
        config.optimizers.flushIntervalSec = 1  // the maintenance thread flushes every second
        var f = try await Fixture(config: config)
        f.fs.injectError(err == ENOSPC ? .write : .sync, pathContains: ".seg", mode: .always, errno: err)
        let firstFailedID = f.c.store.withStateLock { $0.manifest.nextSegmentID }  // every segment written from now on fails
        try await f.upsert([modelPoint(150)])  // something newer than the checkpoint to flush
        var reported: String?
        for _ in 0..<500 {
            reported = f.c.storageInfo.backgroundError
            if reported != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(
            reported?.contains(err == ENOSPC ? "No space left" : "Input/output error") == true,
            "\(String(describing: reported))")
        try await f.upsert([modelPoint(151)])  // writes are still acknowledged meanwhile
        f.check("background flush failing")
        f.fs.clearInjectedErrors()
        try f.c.flush()
        #expect(f.c.storageInfo.backgroundError == nil)
        // The segment published now has a new number, not the name of a failed file.
        #expect(
            !f.c.storageInfo.segments.map(\.id).contains(firstFailedID)
                && f.fs.fileKind(f.segmentPath(firstFailedID)) == nil,
            "\(f.c.storageInfo.segments.map(\.id)), first failed \(firstFailedID)")
        try f.reopen()
        f.check("background flush failure")
    }

    // MARK: - EIO on reads

    /// Read errors while opening: each is a clear `io` error naming the file;
    /// nothing is served from a store that could not be read, and once the
    /// device reads again the store opens with everything.
    enum ReadFault: String, CaseIterable, CustomTestStringConvertible {
        case walRecords  // pread of a WAL file during recovery
        case manifest  // pread of MANIFEST
        case collectionConfig  // pread of config.json
        case tombstoneFile  // pread of a tombstone file
        case segmentMap  // mmap of a segment file (the only way segments are read)
        case dataMarker  // pread of STRATA
        case snapshotArchive  // pread of an archive by verify and restore
        var testDescription: String { rawValue }
    }

    @Test(arguments: ReadFault.allCases)
    func readEIO(_ fault: ReadFault) async throws {
        var f = try await Fixture()
        try f.c.flush()  // a segment, a tombstone file, a MANIFEST
        try await f.upsert((40..<45).map { modelPoint($0) })  // and WAL records after the checkpoint
        let context = "EIO reading \(fault)"
        if fault == .snapshotArchive {
            let snapshot = try f.db.createSnapshot(of: "c")
            f.fs.injectError(.read, pathContains: ".snapshot", afterHits: 3, mode: .always, errno: EIO)
            let verify = #expect(throws: StrataError.self) {
                try Database.verifySnapshot(at: [snapshot.path], fileSystem: f.fs)
            }
            #expect(
                verify?.code == .io && verify?.message.contains(snapshot.name) == true,
                "\(context): \(String(describing: verify))")
            let restore = #expect(throws: StrataError.self) {
                try f.db.restoreSnapshot(from: [snapshot.path], as: "c", overwrite: true)
            }
            #expect(
                restore?.code == .io && restore?.message.contains(snapshot.name) == true,
                "\(context): \(String(describing: restore))")
            f.check("\(context): live data untouched")
            #expect(f.files(Self.root + "/collections") == ["c"])
            f.fs.clearInjectedErrors()
            _ = try Database.verifySnapshot(at: [snapshot.path], fileSystem: f.fs)
            return
        }
        f.db.close()
        let (operation, fragment): (FaultOperation, String) =
            switch fault {
            case .walRecords: (.read, "/wal/wal-")
            case .manifest: (.read, "MANIFEST")
            case .collectionConfig: (.read, "config.json")
            case .tombstoneFile: (.read, ".del")
            case .segmentMap: (.map, ".seg")
            case .dataMarker: (.read, "STRATA")
            case .snapshotArchive: (.read, "")
            }
        f.fs.injectError(operation, pathContains: fragment, mode: .always, errno: EIO)
        let error = #expect(throws: StrataError.self) { try Database.open(at: Self.root, fileSystem: f.fs) }
        #expect(
            error?.code == .io && error?.message.contains(fragment) == true
                && error?.message.contains("Input/output error") == true, "\(context): \(String(describing: error))")
        f.fs.clearInjectedErrors()
        f.db = try Database.open(at: Self.root, options: f.options, fileSystem: f.fs)
        f.c = try f.db.collection("c")
        f.check("\(context), once reads work again")
    }

    /// A transient bit flip on the way from the disk (bad RAM, cable) while a
    /// WAL file or the MANIFEST is read at open: refused as corruption naming
    /// the file, and the store opens normally once reads are clean again
    /// (the stored bytes were never bad).
    @Test(arguments: ["/wal/wal-", "MANIFEST", ".del"])
    func bitFlipOnReadAtOpenIsRefusedAndHarmless(_ fragment: String) async throws {
        var f = try await Fixture()
        try f.c.flush()
        try await f.upsert((40..<45).map { modelPoint($0) })
        f.db.close()
        f.fs.flipBitsOnRead(pathContains: fragment, atOffset: 40, mask: 0x10)
        let error = #expect(throws: StrataError.self) { try Database.open(at: Self.root, fileSystem: f.fs) }
        #expect(
            error?.code == .corruption && error?.message.contains(fragment) == true,
            "\(fragment): \(String(describing: error))")
        f.fs.clearBitFlips()
        f.db = try Database.open(at: Self.root, options: f.options, fileSystem: f.fs)
        f.c = try f.db.collection("c")
        f.check("bit flip on read of \(fragment)")
    }
}

/// A real file system that fills up: a 4 MiB tmpfs mounted for the test (it
/// needs root; without it the test prints why and passes without running),
/// written through `POSIXFileSystem` until the kernel says ENOSPC.
@Suite(.serialized) struct ErrorInjectionRealDiskTests {
    /// Mounts a size-limited tmpfs at `path`; returns why not, or nil on success.
    static func mountTmpfs(at path: String, size: String) -> String? {
        #if os(Linux)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/mount")
        process.arguments = ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { return "cannot run /bin/mount: \(error)" }
        process.waitUntilExit()
        if process.terminationStatus == 0 { return nil }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return
            "mount -t tmpfs failed (status \(process.terminationStatus)): \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
        #else
        return "tmpfs mounts are only tried on Linux"
        #endif
    }

    static func unmount(_ path: String) {
        for arguments in [[path], ["-l", path]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/umount")
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return }
        }
    }

    @Test func fillingARealFileSystemFailsCleanlyAndRecovers() async throws {
        let scratch = TemporaryDirectory("tmpfs")  // removed after the unmount below (cleanups run in reverse)
        let mountPoint = scratch.path
        if let reason = Self.mountTmpfs(at: mountPoint, size: "4m") {
            print("fillingARealFileSystemFailsCleanlyAndRecovers: skipped: \(reason)")
            return
        }
        defer { Self.unmount(mountPoint) }

        // 512 KiB of filler to delete when the disk is full.
        let filler = mountPoint + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 512 << 10)))
        let path = mountPoint + "/data"
        let options = DatabaseOptions(walFileSize: 256 << 10)
        var model = PointModel()
        func point(_ id: Int) -> PointStruct {
            // Big, compressible payloads: the WAL fills the disk, segments stay small.
            PointStruct(
                id: .number(UInt64(id)), vector: (0..<8).map { Float(($0 + id) % 31) },
                payload: ["n": .int(Int64(id)), "text": .string(String(repeating: "strata ", count: 150))])
        }
        do {
            let db = try Database.open(at: path, options: options)
            defer { db.close() }
            let c = try db.createCollection("c", config: ErrorInjectionTests.config)
            var next = 0
            var full: StrataError?
            while full == nil && next < 20_000 {
                let batch = (next..<(next + 20)).map(point)
                next += 20
                do {
                    try await c.upsert(batch)
                    model.upsert(batch)
                } catch let error as StrataError {
                    full = error
                }
            }
            let error = try #require(full, "4 MiB never filled up")
            #expect(
                error.code == .resourceExhausted && error.message.contains("No space left")
                    && error.message.contains("/wal/"),
                "\(error)")
            #expect(model.differences(from: c).isEmpty, "after ENOSPC: \(model.differences(from: c))")
            // Still full: a flush and a snapshot fail cleanly too (or fit), and lose nothing.
            for attempt in [{ try c.flush() }, { _ = try db.createSnapshot(of: "c") }] {
                do { try attempt() } catch let error as StrataError {
                    #expect(error.code == .resourceExhausted, "\(error)")
                }
            }
            // Space returns: writes, a flush (which truncates the WAL) and a snapshot succeed.
            try FileManager.default.removeItem(atPath: filler)
            for _ in 0..<3 {
                let batch = (next..<(next + 20)).map(point)
                next += 20
                try await c.upsert(batch)
                model.upsert(batch)
            }
            try c.flush()
            _ = try db.createSnapshot(of: "c")
            #expect(model.differences(from: c).isEmpty)
            print(
                "fillingARealFileSystemFailsCleanlyAndRecovers: \(model.points.count) points acknowledged, first ENOSPC after \(next - 80) points"
            )
        }
        let db = try Database.open(at: path, options: options)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(model.differences(from: c).isEmpty, "after reopen: \(model.differences(from: c))")
        #expect(c.verify().isEmpty)
    }
}
