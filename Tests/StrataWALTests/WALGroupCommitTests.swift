import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// Concurrent appends share syncs, get unique contiguous op numbers, and see
/// their durability callbacks in op order.
@Suite struct WALGroupCommitTests {
    @Test func concurrentDurableAppendsShareSyncsAndGetContiguousOpNumbers() async throws {
        try await withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir, options: WALOptions(durability: .durable))
            let tasks = 16
            let perTask = 50
            let durableOrder = Locked<[UInt64]>([])

            let acknowledged: [(task: Int, index: Int, op: UInt64)] = try await withThrowingTaskGroup(
                of: [(task: Int, index: Int, op: UInt64)].self
            ) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var mine: [(task: Int, index: Int, op: UInt64)] = []
                        for index in 0..<perTask {
                            let op = try await log.append([UInt8(task), UInt8(index)]) { op in
                                durableOrder.withLock { $0.append(op) }
                            }
                            mine.append((task, index, op))
                        }
                        return mine
                    }
                }
                var all: [(task: Int, index: Int, op: UInt64)] = []
                for try await part in group { all += part }
                return all
            }
            let stats = log.stats
            log.close()

            let total = tasks * perTask
            #expect(acknowledged.count == total)
            #expect(acknowledged.map(\.op).sorted() == Array(1...UInt64(total)), "unique and contiguous")
            // Within one task, later appends get later op numbers.
            for task in 0..<tasks {
                let ops = acknowledged.filter { $0.task == task }.sorted { $0.index < $1.index }.map(\.op)
                #expect(ops == ops.sorted())
            }
            #expect(
                durableOrder.withLock { $0 } == Array(1...UInt64(total)),
                "whenDurable runs once per record, in op order")
            #expect(stats.records == UInt64(total))
            #expect(stats.syncs == stats.batches, "durable mode syncs once per group")
            #expect(stats.syncs < UInt64(total), "no sharing happened: \(stats)")
            print("[group commit] \(total) records in \(stats.batches) groups, \(stats.syncs) syncs")

            // The file holds each payload under the op number its append returned.
            let (records, _) = try replayLog(fs, dir)
            let byOp = Dictionary(
                uniqueKeysWithValues: acknowledged.map { ($0.op, [UInt8($0.task), UInt8($0.index)]) })
            #expect(records.count == total)
            for record in records { #expect(byOp[record.opNum] == record.payload) }
        }
    }

    @Test func concurrentBlockingAppendsFromThreadsAreAllAcknowledged() throws {
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir)
            let ops = Locked<[UInt64]>([])
            let failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for i in 0..<25 {
                    do {
                        let op = try log.appendAndWait([UInt8(thread), UInt8(i)])
                        ops.withLock { $0.append(op) }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            log.close()
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(ops.withLock { $0 }.sorted() == Array(1...200))
            #expect(try replayLog(fs, dir).records.map(\.opNum) == Array(1...200))
        }
    }

    @Test func groupCommitRecordsCarryTheOpBeforeTheirGroupAsSyncedThrough() async throws {
        // Durable mode: every record of a group has synced_through = first op of
        // the group - 1 (docs/format/wal.md); that is what lets recovery tell torn
        // unsynced groups from damaged durable data.
        try await withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let (log, _) = try openLog(fs, dir)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask { for i in 0..<20 { _ = try await log.append([UInt8(task), UInt8(i)]) } }
                }
                try await group.waitForAll()
            }
            log.close()
            let bytes = try readFile(joinPath(dir, WALFormat.fileName(firstOpNum: 1)))
            let scan = try bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
            #expect(scan.records.count == 160)
            // Each distinct synced_through value s starts a group at op s + 1, and
            // values never decrease.
            var previous: UInt64 = 0
            for record in scan.records {
                #expect(record.syncedThrough >= previous)
                #expect(record.syncedThrough < record.opNum)
                if record.syncedThrough != previous || record.opNum == 1 {
                    #expect(
                        record.opNum == record.syncedThrough + 1,
                        "op \(record.opNum) starts a group after \(record.syncedThrough)")
                }
                previous = record.syncedThrough
            }
        }
    }
}
