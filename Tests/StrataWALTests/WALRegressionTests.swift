import Foundation
import StrataIO
import StrataWAL
import StrataTestSupport
import Testing

/// One test per bug found (by the fuzzer or by review), named after what must
/// hold. Bugs that used to trap run in a child process (an exit test), so that a
/// regression fails this test instead of killing the whole test run.
@Suite struct WALRegressionTests {
    /// Fuzzer finding (fuzz/corpus/wal/regression-op-number-overflow.log): a file
    /// whose header claims first_op_num UInt64.max, with one valid record, made
    /// `WriteAheadLog.open` trap on `firstOpNum + records.count`. Bad bytes on
    /// disk must be an error, never a crash.
    @Test func opNumberNearUInt64MaxIsAnErrorNotATrap() async {
        await #expect(processExitsWith: .success) {
            let scratch = TemporaryDirectory("wal-overflow")
            let path = scratch.path
            for (firstOp, records) in [(UInt64.max, 1), (UInt64.max - 1, 2), (UInt64.max, 0)] {
                var bytes = referenceFileHeader(firstOpNum: firstOp)
                for k in 0..<records {
                    bytes += referenceRecord(opNum: firstOp + UInt64(k), syncedThrough: 0, payload: [])
                }
                _ = try? bytes.withUnsafeBytes { try WALFileScanner.scan($0) }
                let file = joinPath(path, WALFormat.fileName(firstOpNum: firstOp))
                try? Data(bytes).write(to: URL(fileURLWithPath: file))
                do {
                    let log = try WriteAheadLog.open(fileSystem: POSIXFileSystem(), directory: path) { _, _ in }
                    // If it opens, appending must fail cleanly rather than wrap or trap.
                    _ = try? log.appendAndWait([1])
                    log.close()
                } catch {
                    guard let error = error as? WALError, error.code == .corruption else { exit(3) }
                }
                try? FileManager.default.removeItem(atPath: file)
            }
        }
    }
}
