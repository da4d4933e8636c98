import Foundation
import Strata
import StrataIO

/// The process the crash test kills: it opens the store and runs random
/// upserts and deletes from several concurrent writers until it is killed,
/// reporting on standard output, one line per event:
///
///     I <writer> <seq> U <id>:<token> <id>:<token> …   intent: about to upsert
///     I <writer> <seq> D <id> <id> …                   intent: about to delete
///     I <writer> <seq> P <ptoken> <id> <id> …          intent: set payload {"p": ptoken} on these ids
///     I <writer> <seq> X <create|drop> <key>           intent: create or drop a field index
///     A <writer> <seq> <op_num>                        acknowledged
///     E <writer> <seq> <message>                       failed (not acknowledged)
///     READY                                            recovery finished
///
/// An intent line is written (with one `write(2)`, atomic on a pipe) before the
/// operation starts, and its ack only after the store acknowledged it, so the
/// parent knows, for every operation, whether it was acknowledged or in flight.
public enum CrashTestChild {
    public static func run(directory: String, seed: UInt64, cycle: UInt32, writers: Int, durability: Durability,
                           workload: CrashWorkload.Kind = .basic) async throws {
        let db = try Database.open(at: directory, options: DatabaseOptions(durability: durability))
        let collection: Collection
        if db.collectionNames().contains(CrashWorkload.collectionName) {
            collection = try db.collection(CrashWorkload.collectionName)
        } else {
            collection = try db.createCollection(CrashWorkload.collectionName, config: CrashWorkload.collectionConfig(for: workload))
        }
        emit("READY")
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    await runWriter(collection, writer: writer, seed: seed, cycle: cycle)
                }
            }
            if workload == .snapshot {
                group.addTask { await runSnapshots(db) }
            }
            if workload == .optimizer {
                // Flushes and merges on a thread of their own (they block), as
                // fast as they go, on top of the background optimizer.
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        let thread = Thread {
                            var round = 0
                            while true {
                                round += 1
                                do {
                                    if round % 3 == 0 { try collection.optimize() } else { try collection.flush() }
                                } catch {
                                    emit("E maintenance \(round) \(error)".replacingOccurrences(of: "\n", with: " "))
                                    done.resume()
                                    return
                                }
                                usleep(2000)
                            }
                        }
                        thread.start()
                    }
                }
            }
        }
    }

    static func runWriter(_ collection: Collection, writer: Int, seed: UInt64, cycle: UInt32) async {
        var rng = SplitMix64(seed: seed ^ (UInt64(cycle) << 20) ^ UInt64(writer))
        var sequence = 0
        // Tokens: cycle in the high 32 bits, writer and counter below; unique per run.
        var counter: UInt64 = 0
        while true {
            sequence += 1
            let roll = rng.next() % 100
            let isDelete = roll < 25
            let size = Int(rng.next() % 8) + 1
            do {
                if roll >= 98 {
                    // Field index changes: replayed from the WAL, recorded in the manifest.
                    let (key, schema) = CrashWorkload.indexedFields[Int(rng.next() % UInt64(CrashWorkload.indexedFields.count))]
                    let create = rng.next() % 2 == 0
                    emit("I \(writer) \(sequence) X \(create ? "create" : "drop") \(key)")
                    let result = create
                        ? try await collection.createFieldIndex(key, schema: schema)
                        : try await collection.deleteFieldIndex(key)
                    emit("A \(writer) \(sequence) \(result.operationID)")
                } else if roll >= 85 {
                    // Payload updates: copy-on-write for points in immutable segments.
                    counter += 1
                    let ptoken = (UInt64(cycle) << 32) | (UInt64(writer) << 24) | counter
                    let ids = (0..<size).map { _ in rng.next() % CrashWorkload.idSpace }
                    emit("I \(writer) \(sequence) P \(ptoken) " + ids.map(String.init).joined(separator: " "))
                    let result = try await collection.setPayload(["p": .int(Int64(bitPattern: ptoken))], for: ids.map { .number($0) })
                    emit("A \(writer) \(sequence) \(result.operationID)")
                } else if isDelete {
                    let ids = (0..<size).map { _ in rng.next() % CrashWorkload.idSpace }
                    emit("I \(writer) \(sequence) D " + ids.map(String.init).joined(separator: " "))
                    let result = try await collection.delete(ids.map { .number($0) })
                    emit("A \(writer) \(sequence) \(result.operationID)")
                } else {
                    var points: [PointStruct] = []
                    var described: [String] = []
                    for _ in 0..<size {
                        counter += 1
                        let token = (UInt64(cycle) << 32) | (UInt64(writer) << 24) | counter
                        let id = rng.next() % CrashWorkload.idSpace
                        points.append(CrashWorkload.point(id: id, token: token))
                        described.append("\(id):\(token)")
                    }
                    emit("I \(writer) \(sequence) U " + described.joined(separator: " "))
                    let result = try await collection.upsert(points)
                    emit("A \(writer) \(sequence) \(result.operationID)")
                }
            } catch {
                emit("E \(writer) \(sequence) \(error)".replacingOccurrences(of: "\n", with: " "))
                return
            }
        }
    }

    /// Snapshots and restores on a thread of their own (they block), reporting
    ///
    ///     S <archive name> <op_num> full|incremental    a snapshot was published
    ///     R <archive name>                               about to restore it as `restored`
    ///     RA <archive name>                              the restore finished
    ///
    /// Every third snapshot builds on the one before; every third round
    /// restores the latest full snapshot over collection `restored`.
    static func runSnapshots(_ db: Database) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var round = 0
                var previous: SnapshotDescription?
                var lastFull: SnapshotDescription?
                while true {
                    round += 1
                    do {
                        let incremental = round % 3 == 2 ? previous : nil
                        let snapshot = try db.createSnapshot(of: CrashWorkload.collectionName, incrementalFrom: incremental?.path)
                        emit("S \(snapshot.name) \(snapshot.opNum ?? 0) \(incremental == nil ? "full" : "incremental")")
                        previous = snapshot
                        if incremental == nil { lastFull = snapshot }
                        if round % 3 == 0, let source = lastFull {
                            emit("R \(source.name)")
                            try db.restoreSnapshot(from: [source.path], as: CrashWorkload.restoredCollectionName, overwrite: true)
                            emit("RA \(source.name)")
                        }
                    } catch {
                        emit("E snapshot \(round) \(error)".replacingOccurrences(of: "\n", with: " "))
                        done.resume()
                        return
                    }
                    usleep(3000)
                }
            }
            thread.start()
        }
    }

    /// One `write(2)` per line: lines from concurrent writers never interleave.
    static func emit(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { exit(3) } }
                offset += n
            }
        }
    }
}
