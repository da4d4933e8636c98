import Foundation
import Strata
import StrataIO

/// After each kill of the snapshot workload (`CrashWorkload.Kind.snapshot`),
/// checks what snapshots and restores left, on top of the oracle's check of
/// the written collection:
/// - no half-written snapshot remains or is listed (no `*.tmp`, no `.sha256`
///   without its archive), every snapshot the child reported as published is
///   listed, and every listed snapshot verifies completely (an incremental
///   with the chain of listed snapshots it builds on);
/// - collection `restored` is wholly the state of one snapshot: the one the
///   last finished restore used, or the one a restore in flight at the kill
///   was bringing in (compared point by point, vectors and payloads, against
///   that archive restored into a scratch directory).
///
/// Then it deletes every snapshot but the one `restored` holds, so the
/// directory does not grow from cycle to cycle.
struct CrashTestSnapshotCheck {
    /// The archive (path) whose state `restored` holds, if the collection exists.
    private(set) var restoredSource: String?

    struct Report {
        var snapshots = 0
        var restores = 0
        var problems: [String] = []
    }

    mutating func verify(
        childOutput: String, cycle: Int, fileSystem: any FileSystem, open: () throws -> Database
    ) -> Report {
        var report = Report()
        var published: [String] = []
        var restoreIntents: [String] = []
        var finishedRestores: [String] = []
        for line in childOutput.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 2 else { continue }
            switch fields[0] {
            case "S": published.append(fields[1])
            case "R": restoreIntents.append(fields[1])
            case "RA": finishedRestores.append(fields[1])
            default: continue
            }
        }
        report.snapshots = published.count
        report.restores = finishedRestores.count
        func problem(_ text: String) { report.problems.append("cycle \(cycle): \(text)") }

        let database: Database
        do {
            database = try open()
        } catch {
            problem("reopening the store failed: \(error)")
            return report
        }
        defer { database.close() }
        let snapshotsDirectory = database.snapshotsDirectory + "/" + CrashWorkload.collectionName
        let files = (try? fileSystem.listDirectory(snapshotsDirectory)) ?? []
        for file in files
        where file.hasSuffix(".tmp") || (file.hasSuffix(".sha256") && !files.contains(String(file.dropLast(7)))) {
            problem("a half-written snapshot file was left after recovery: \(snapshotsDirectory)/\(file)")
        }

        let listed: [SnapshotDescription]
        do {
            listed = try database.listSnapshots(collection: CrashWorkload.collectionName)
        } catch {
            problem("listing snapshots failed: \(error)")
            return report
        }
        let listedNames = Set(listed.map(\.name))
        for name in published where !listedNames.contains(name) {
            problem("snapshot \(name) was reported as published but is not listed after recovery")
        }
        let byChecksum = Dictionary(
            listed.compactMap { entry in entry.checksum.map { ($0, entry) } }, uniquingKeysWith: { a, _ in a })
        for snapshot in listed {
            guard snapshot.problem == nil, snapshot.checksum != nil else {
                problem("listed snapshot \(snapshot.name) is not whole: \(snapshot.problem ?? "no checksum file")")
                continue
            }
            var chain = [snapshot]
            while let base = chain[0].baseChecksum {
                guard let found = byChecksum[base], chain.count < 1000 else {
                    problem("snapshot \(snapshot.name) builds on an archive (SHA-256 \(base)) that is not listed")
                    break
                }
                chain.insert(found, at: 0)
            }
            do {
                _ = try Database.verifySnapshot(at: chain.map(\.path), fileSystem: fileSystem)
            } catch {
                problem("listed snapshot \(snapshot.name) does not verify: \(error)")
            }
        }

        // The restored collection: the last finished restore's state, or a later in-flight one's.
        var candidates: [String] = []
        if let last = finishedRestores.last {
            candidates.append(last)
            if let index = restoreIntents.lastIndex(of: last), index + 1 < restoreIntents.count {
                candidates.append(restoreIntents[index + 1])
            }
        } else {
            if let restoredSource { candidates.append((restoredSource as NSString).lastPathComponent) }
            if let inFlight = restoreIntents.last { candidates.append(inFlight) }
        }
        if database.collectionNames().contains(CrashWorkload.restoredCollectionName) {
            do {
                let state = try Self.state(of: try database.collection(CrashWorkload.restoredCollectionName))
                var matched: String?
                for name in candidates {
                    let path = snapshotsDirectory + "/" + name
                    if try Self.state(restoring: path, fileSystem: fileSystem) == state {
                        matched = path
                        break
                    }
                }
                if let matched {
                    restoredSource = matched
                } else {
                    problem(
                        "collection `\(CrashWorkload.restoredCollectionName)` (\(state.count) points) is not wholly the state of any snapshot it could hold (\(candidates))"
                    )
                }
            } catch {
                problem("checking collection `\(CrashWorkload.restoredCollectionName)` failed: \(error)")
            }
        } else if !finishedRestores.isEmpty || restoredSource != nil {
            problem("collection `\(CrashWorkload.restoredCollectionName)` is missing after a finished restore")
        }

        // Keep only what `restored` came from.
        for snapshot in listed where snapshot.path != restoredSource {
            do { try database.deleteSnapshot(named: snapshot.name, collection: CrashWorkload.collectionName) } catch {
                problem("deleting snapshot \(snapshot.name) failed: \(error)")
            }
        }
        return report
    }

    static func state(of collection: Collection) throws -> [Record] {
        try collection.scroll(limit: Int.max, withPayload: true, withVector: true).points
    }

    /// The points the archive at `path` restores to, in a scratch data directory.
    static func state(restoring path: String, fileSystem: any FileSystem) throws -> [Record] {
        let scratch = NSTemporaryDirectory() + "strata-crashtest-restore-\(UUID().uuidString.prefix(8))"
        defer { try? fileSystem.removeTree(scratch) }
        let database = try Database.open(at: scratch, fileSystem: fileSystem)
        defer { database.close() }
        try database.restoreSnapshot(from: [path], as: "scratch")
        return try state(of: try database.collection("scratch"))
    }
}
