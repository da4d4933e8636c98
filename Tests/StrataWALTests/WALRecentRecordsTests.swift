import Foundation
import StrataIO
import StrataTestSupport
import StrataWAL
import Testing

/// Reading recent records back (`records(after:maxBytes:)`, what a primary
/// ships to its replicas) from the newest records kept in memory, and from
/// the files when memory does not reach back far enough: the same answers
/// either way, never a record that is not acknowledged, nothing a checkpoint
/// removed.
@Suite struct WALRecentRecordsTests {
    @Test func recordsFromEveryAppendPathAreServedFromMemoryWithoutReadingFiles() async throws {
        try await withTemporaryDirectory { dir in
            let (log, _) = try openLog(POSIXFileSystem(), dir)
            _ = try await log.append([1])
            _ = try await log.append([2, 2], asOpNum: 2)
            _ = try await log.append(run: [(3, [3]), (4, [4, 4, 4])])
            _ = try log.appendAndWait([5])

            let all = try #require(try log.records(after: 0))
            #expect(all.map(\.opNum) == [1, 2, 3, 4, 5])
            #expect(all.map(\.payload) == [[1], [2, 2], [3], [4, 4, 4], [5]])
            // Limited by maxBytes as from the files: at least one, the last one reaches maxBytes.
            #expect(try log.records(after: 0, maxBytes: 1)?.map(\.opNum) == [1])
            #expect(try log.records(after: 1, maxBytes: 3)?.map(\.opNum) == [2, 3])
            #expect(try log.records(after: 4, maxBytes: 1)?.map(\.opNum) == [5])
            #expect(try log.records(after: 5)?.isEmpty == true)
            #expect(log.stats.fileReads == 0)
            log.close()
        }
    }

    @Test func memoryAndFilesGiveTheSameAnswers() throws {
        var random = SeededGenerator.forTest()
        try withTemporaryDirectory { dir in
            let fs = POSIXFileSystem()
            let payloads = (0..<300).map { _ in random.bytes(Int.random(in: 0...300, using: &random)) }
            let (log, _) = try openLog(fs, dir, options: WALOptions(maxFileSize: 4096, recentRecordsBytes: 1 << 20))
            for payload in payloads { _ = try log.appendAndWait(payload) }
            #expect(log.fileCount > 10)
            var fromMemory: [[(opNum: UInt64, payload: [UInt8])]?] = []
            let queries = (0..<200).map { _ in
                (UInt64.random(in: 0...300, using: &random), Int.random(in: 1...5000, using: &random))
            }
            for (after, maxBytes) in queries { fromMemory.append(try log.records(after: after, maxBytes: maxBytes)) }
            #expect(log.stats.fileReads == 0)
            log.close()

            let (files, _) = try openLog(fs, dir, options: WALOptions(maxFileSize: 4096, recentRecordsBytes: 0))
            for ((after, maxBytes), memory) in zip(queries, fromMemory) {
                let read = try files.records(after: after, maxBytes: maxBytes)
                #expect(read?.map(\.opNum) == memory?.map(\.opNum), "after \(after), maxBytes \(maxBytes)")
                let samePayloads = read?.map(\.payload) == memory?.map(\.payload)
                #expect(samePayloads, "payloads differ after \(after), maxBytes \(maxBytes)")
                if let read, after < 300 {
                    #expect(read.first?.opNum == after + 1 && read.first?.payload == payloads[Int(after)])
                }
            }
            #expect(files.stats.fileReads == UInt64(queries.filter { $0.0 < 300 }.count))
            files.close()
        }
    }

    @Test func recordsOlderThanTheMemoryBudgetAreReadFromTheFiles() throws {
        try withTemporaryDirectory { dir in
            // 100-byte records and a 1000-byte budget: memory holds the newest 10.
            let (log, _) = try openLog(
                POSIXFileSystem(), dir, options: WALOptions(maxFileSize: 1500, recentRecordsBytes: 1000))
            let payloads = (1...50).map { [UInt8](repeating: UInt8($0), count: 100) }
            for payload in payloads { _ = try log.appendAndWait(payload) }
            #expect(log.fileCount > 3)

            let recent = try #require(try log.records(after: 40))
            #expect(recent.map(\.opNum) == Array(41...50) && recent.map(\.payload) == Array(payloads[40...]))
            #expect(log.stats.fileReads == 0)

            let older = try #require(try log.records(after: 39))
            #expect(older.map(\.opNum) == Array(40...50) && older.map(\.payload) == Array(payloads[39...]))
            #expect(log.stats.fileReads == 1)
            let oldest = try #require(try log.records(after: 0, maxBytes: 250))
            #expect(oldest.map(\.opNum) == [1, 2, 3] && oldest.map(\.payload) == Array(payloads[0..<3]))
            #expect(log.stats.fileReads == 2)

            // A record larger than the whole budget is not kept; the files serve it.
            _ = try log.appendAndWait([UInt8](repeating: 51, count: 1001))
            #expect(try log.records(after: 50)?.map(\.payload) == [[UInt8](repeating: 51, count: 1001)])
            #expect(log.stats.fileReads == 3)
            log.close()
        }
    }

    @Test func aCheckpointRemovesTheRecordsFromMemoryWithTheirFiles() throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try openLog(
                POSIXFileSystem(), dir, options: WALOptions(maxFileSize: 2048, recentRecordsBytes: 1 << 20))
            let payloads = (1...100).map { [UInt8](repeating: UInt8($0), count: 50) }
            for payload in payloads { _ = try log.appendAndWait(payload) }
            #expect(try log.records(after: 5)?.first?.opNum == 6)

            #expect(try log.removeFiles(below: 80) > 0)
            let firstKept = try #require(
                try logFileNames(dir).compactMap { WALFormat.firstOpNum(fromFileName: $0) }.min())
            #expect(firstKept > 6 && firstKept <= 80)
            // Memory held op 6, but the log does not any more: the caller needs a snapshot.
            #expect(try log.records(after: 5) == nil)
            #expect(try log.records(after: firstKept - 2) == nil)
            let kept = try #require(try log.records(after: firstKept - 1))
            #expect(
                kept.map(\.opNum) == Array(firstKept...100)
                    && kept.map(\.payload) == Array(payloads[Int(firstKept - 1)...]))
            #expect(log.stats.fileReads == 2)  // the two nil answers: memory did not hold them
            log.close()
        }
    }

    @Test(arguments: [0, 1 << 20])
    func aRecordWrittenButNotYetDurableIsNeverReturned(recentRecordsBytes: Int) throws {
        try withTemporaryDirectory { dir in
            let fs = PausingFileSystem()
            let (log, _) = try openLog(fs, dir, options: WALOptions(recentRecordsBytes: recentRecordsBytes))
            for op in 1...3 { _ = try log.appendAndWait([UInt8(op)]) }

            fs.pauseNextDataSync()
            let fourth = Locked<Result<UInt64, Error>?>(nil)
            let appended = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                let result = Result { try log.appendAndWait([4]) }
                fourth.withLock { $0 = result }
                appended.signal()
            }
            fs.waitUntilPaused()
            // Record 4 is in the file now, but its fdatasync has not returned.
            let walFile = try #require(try logFileNames(dir).last)
            let size = try fs.open(joinPath(dir, walFile), mode: .readOnly).size()
            #expect(size == UInt64(recordBoundaries(payloadSizes: [1, 1, 1, 1]).last!))
            #expect(log.lastOpNum == 3)
            #expect(try log.records(after: 0)?.map(\.opNum) == [1, 2, 3])
            #expect(try log.records(after: 2)?.map(\.opNum) == [3])
            #expect(try log.records(after: 3)?.isEmpty == true)

            fs.resume()
            appended.wait()
            #expect(try fourth.withLock { $0 }?.get() == 4)
            #expect(try log.records(after: 3)?.map(\.payload) == [[4]])
            log.close()
        }
    }

    /// Readers race appends, rotations and checkpoints: every answer is a
    /// gap-free run starting right after the op asked for, with the right
    /// payloads, acknowledged by the time it returns; nil only for ops a
    /// checkpoint was removing.
    @Test func readersRacingAppendsRotationAndCheckpointsSeeOnlyAcknowledgedRecords() throws {
        let seed = testSeed()
        try withTemporaryDirectory { dir in
            // A small budget so that readers use both memory and the files.
            let (log, _) = try openLog(
                POSIXFileSystem(), dir, options: WALOptions(maxFileSize: 3000, recentRecordsBytes: 2000))
            let removingBelow = Locked<UInt64>(0)
            let failures = Locked<[String]>([])
            let done = Locked(false)
            let calls = Locked(0)
            let minimumCalls = 300
            let readers = DispatchGroup()
            for reader in 0..<2 {
                DispatchQueue.global().async(group: readers) {
                    var random = SeededGenerator(seed: seed &+ UInt64(reader))
                    // At least `minimumCalls` each, even if the appends finish first.
                    var made = 0
                    while made < minimumCalls || !done.withLock({ $0 }) {
                        let last = log.lastOpNum
                        guard last > 0 else { continue }
                        made += 1
                        // Half near the end (memory), half anywhere (mostly the files).
                        let after =
                            Bool.random(using: &random)
                            ? last - UInt64.random(in: 1...min(last, 20), using: &random)
                            : UInt64.random(in: 0..<last, using: &random)
                        let answer: [(opNum: UInt64, payload: [UInt8])]?
                        do {
                            answer = try log.records(
                                after: after, maxBytes: Int.random(in: 1...3000, using: &random))
                        } catch {
                            failures.withLock { $0.append("after \(after): threw \(error)") }
                            return
                        }
                        let acknowledged = log.lastOpNum
                        calls.withLock { $0 += 1 }
                        guard let answer else {
                            // Set before `removeFiles` runs, so read now it covers any removal this call met.
                            let cutoff = removingBelow.withLock { $0 }
                            if after + 1 >= cutoff {
                                failures.withLock {
                                    $0.append("after \(after): nil, but only ops below \(cutoff) were removed")
                                }
                            }
                            continue
                        }
                        let ops = answer.map(\.opNum)
                        if ops.isEmpty || ops != Array((after + 1)...(after + UInt64(ops.count)))
                            || ops.last! > acknowledged
                            || answer.contains(where: { $0.payload != Self.payload(for: $0.opNum) })
                        {
                            failures.withLock {
                                $0.append(
                                    "after \(after): got ops \(ops.first ?? 0)…\(ops.last ?? 0) (acknowledged \(acknowledged))"
                                )
                            }
                            return
                        }
                    }
                }
            }
            var random = SeededGenerator(seed: seed)
            for op in UInt64(1)...1500 {
                _ = try log.appendAndWait(Self.payload(for: op))
                if op % 200 == 0 {
                    let below = op - UInt64.random(in: 50...150, using: &random)
                    removingBelow.withLock { $0 = max($0, below) }
                    try log.removeFiles(below: below)
                }
            }
            done.withLock { $0 = true }
            readers.wait()
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
            let stats = log.stats
            let answered = UInt64(calls.withLock { $0 })
            #expect(stats.rotations > 10)
            #expect(stats.fileReads > 0 && stats.fileReads < answered, "\(stats.fileReads) of \(answered)")
            log.close()
        }
    }

    /// The payload of op `opNum` in the racing test: its length and bytes follow from the number.
    static func payload(for opNum: UInt64) -> [UInt8] {
        [UInt8](repeating: UInt8(truncatingIfNeeded: opNum), count: Int(opNum % 97) + 1)
            + withUnsafeBytes(of: opNum.littleEndian, Array.init)
    }
}

/// A POSIX file system whose next `dataSync`, once asked, blocks until
/// `resume()`: the state of a log between writing a group and its sync.
final class PausingFileSystem: ForwardingFileSystem, Sendable {
    private let base = POSIXFileSystem()
    var forwardedTo: any FileSystem { base }
    private let armed = Locked(false)
    private let paused = DispatchSemaphore(value: 0)
    private let resumed = DispatchSemaphore(value: 0)

    func pauseNextDataSync() { armed.withLock { $0 = true } }
    /// Blocks until a `dataSync` is paused.
    func waitUntilPaused() { paused.wait() }
    func resume() { resumed.signal() }

    fileprivate func dataSyncStarting() {
        let pause = armed.withLock { armed in
            defer { armed = false }
            return armed
        }
        guard pause else { return }
        paused.signal()
        resumed.wait()
    }

    func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
        PausingFile(base: try base.open(path, mode: mode), fileSystem: self)
    }
}

private final class PausingFile: StorageFile {
    let base: any StorageFile
    let fileSystem: PausingFileSystem

    init(base: any StorageFile, fileSystem: PausingFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    var path: String { base.path }
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try base.read(at: offset, into: buffer)
    }
    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws { try base.write(at: offset, bytes) }
    func size() throws -> UInt64 { try base.size() }
    func truncate(to length: UInt64) throws { try base.truncate(to: length) }
    func sync() throws { try base.sync() }
    func dataSync() throws {
        fileSystem.dataSyncStarting()
        try base.dataSync()
    }
    func map(offset: UInt64, length: Int) throws -> MappedRegion { try base.map(offset: offset, length: length) }
}
