import Foundation
@testable import Strata
import StrataIO
import Testing

/// Crash safety of snapshot creation and restore on the fault-injecting file
/// system: a simulated crash at every file-system operation, then power loss
/// (dropping unsynced data, or tearing it at random), then a fresh open.
/// Afterwards the collection is wholly the old or wholly the new state, and
/// only whole snapshots are listed.
@Suite struct SnapshotCrashTests {
    let root = "/data"
    let config = CollectionConfig(
        size: 8, distance: .euclid,
        optimizers: OptimizersConfig(indexingThresholdKB: 1 << 20, flushIntervalSec: 3600))

    /// Builds collection "c", snapshots it (state "new"), then changes it
    /// (state "old", the live one). Returns the archive's path.
    func prepare(_ fs: FaultInjectingFileSystem) async throws -> String {
        let db = try Database.open(at: root, fileSystem: fs)
        defer { db.close() }
        let c = try db.createCollection("c", config: config)
        try await c.upsert((0..<6).map { SnapshotTests.point($0, token: $0) })
        try c.flush()
        try await c.delete([.number(1)])
        let snapshot = try db.createSnapshot(of: "c")
        try await c.upsert((0..<8).map { SnapshotTests.point($0, token: $0 + 100) })
        try c.flush()
        try await c.setPayload(["x": 1], for: [.number(2)])
        return snapshot.path
    }

    /// After a crash: nothing staged or half-written is left or listed.
    func expectClean(_ fs: FaultInjectingFileSystem, _ db: Database, _ context: String) throws {
        #expect(try fs.listDirectory(root + "/collections") == ["c"], "\(context)")
        #expect(!(try fs.listDirectory(root)).contains { $0.hasPrefix(".restore-") }, "\(context)")
        let snapshotsDirectory = root + "/snapshots/c"
        if fs.fileKind(snapshotsDirectory) != nil {
            let files = try fs.listDirectory(snapshotsDirectory)
            #expect(!files.contains { $0.hasSuffix(".tmp") }, "\(context): \(files)")
            for file in files where file.hasSuffix(".sha256") {
                #expect(files.contains(String(file.dropLast(".sha256".count))), "\(context): orphan \(file)")
            }
        }
        for snapshot in try db.listSnapshots() {
            #expect(snapshot.problem == nil && snapshot.checksum != nil, "\(context): \(snapshot)")
            _ = try Database.verifySnapshot(at: [snapshot.path], fileSystem: fs)
        }
    }

    @Test func crashAtEveryStepOfARestoreLeavesTheOldOrTheNewCollection() async throws {
        let counter = FaultInjectingFileSystem(durableDirectories: ["/"])
        let archive = try await prepare(counter)
        let (oldState, newState, total): (CollectionState, CollectionState, Int) = try {
            let db = try Database.open(at: root, fileSystem: counter)
            defer { db.close() }
            let old = try CollectionState(db.collection("c"))
            let start = counter.operationCount
            try db.restoreSnapshot(from: [archive], overwrite: true)
            return (old, try CollectionState(db.collection("c")), counter.operationCount - start)
        }()
        #expect(oldState != newState)
        #expect(total > 20)
        var outcomes = (old: 0, new: 0)
        for crashPoint in 0..<total {
            for mode in [PowerLossMode.dropUnsynced, .randomTear(seed: UInt64(crashPoint))] {
                let context = "crash at restore step \(crashPoint)/\(total), \(mode)"
                let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
                let path = try await prepare(fs)
                do {
                    let db = try Database.open(at: root, fileSystem: fs)
                    fs.crashAfterOperations = fs.operationCount + crashPoint
                    _ = try? db.restoreSnapshot(from: [path], overwrite: true)
                    #expect(fs.hasCrashed, "\(context): the crash point was not reached")
                    db.close()
                }
                fs.simulatePowerLoss(mode)
                let db: Database
                do {
                    db = try Database.open(at: root, fileSystem: fs)
                } catch {
                    Issue.record("\(context): reopening failed: \(error)")
                    continue
                }
                defer { db.close() }
                let state = try CollectionState(db.collection("c"))
                if state == oldState {
                    outcomes.old += 1
                } else if state == newState {
                    outcomes.new += 1
                } else {
                    Issue.record(
                        "\(context): the collection is neither the old nor the new state: \(state.differences(from: newState))"
                    )
                }
                #expect(try db.collection("c").verify().isEmpty, "\(context)")
                try expectClean(fs, db, context)
                // The store is usable: a write lands after the state's last op.
                try await db.collection("c").upsert([SnapshotTests.point(99, token: 99)])
            }
        }
        #expect(outcomes.old > 0 && outcomes.new > 0, "both outcomes should occur: \(outcomes)")
    }

    @Test func crashAtEveryStepOfSnapshotCreationListsOnlyWholeSnapshots() async throws {
        func prepareLive(_ fs: FaultInjectingFileSystem) async throws -> CollectionState {
            let db = try Database.open(at: root, fileSystem: fs)
            defer { db.close() }
            let c = try db.createCollection("c", config: config)
            try await c.upsert((0..<6).map { SnapshotTests.point($0, token: $0) })
            try c.flush()
            try await c.upsert((6..<9).map { SnapshotTests.point($0, token: $0) })
            try await c.delete([.number(0)])
            return try CollectionState(c)
        }
        let counter = FaultInjectingFileSystem(durableDirectories: ["/"])
        let state = try await prepareLive(counter)
        let total: Int = try {
            let db = try Database.open(at: root, fileSystem: counter)
            defer { db.close() }
            let start = counter.operationCount
            try db.createSnapshot(of: "c")
            return counter.operationCount - start
        }()
        var listed = 0
        // Up to `total`: the last run does not crash, so its snapshot must be listed.
        for crashPoint in 0...total {
            for mode in [PowerLossMode.dropUnsynced, .randomTear(seed: UInt64(crashPoint))] {
                let context = "crash at snapshot step \(crashPoint)/\(total), \(mode)"
                let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
                _ = try await prepareLive(fs)
                do {
                    let db = try Database.open(at: root, fileSystem: fs)
                    fs.crashAfterOperations = fs.operationCount + crashPoint
                    _ = try? db.createSnapshot(of: "c")
                    db.close()
                }
                fs.simulatePowerLoss(mode)
                let db = try Database.open(at: root, fileSystem: fs)
                defer { db.close() }
                #expect(try CollectionState(db.collection("c")) == state, "\(context)")
                try expectClean(fs, db, context)
                let snapshots = try db.listSnapshots()
                listed += snapshots.count
                // A listed snapshot restores to the live state.
                if let snapshot = snapshots.first {
                    try db.restoreSnapshot(from: [snapshot.path], as: "copy")
                    #expect(try CollectionState(db.collection("copy")) == state, "\(context)")
                }
            }
        }
        #expect(listed > 0)
    }
}
