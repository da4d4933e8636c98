import Foundation
import StrataIO
@testable import StrataSegment
import StrataTestSupport
import Testing

/// Tombstone sidecars (docs/format/tombstones.md): round trip, the worked
/// example, refusal of every damage, and atomic replacement.
@Suite struct TombstoneFileTests {
    static let path = "/s/segment.tombstones"

    @Test func offsetsRoundTrip() throws {
        var generator = SeededGenerator.forTest()
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        for pointCount in [0, 1, 10, 1000, 100_000] {
            let offsets = (0..<pointCount).filter { _ in Int.random(in: 0..<4, using: &generator) == 0 }.map {
                UInt32($0)
            }
            try TombstoneFile.write(offsets, segmentPointCount: pointCount, to: Self.path, fileSystem: fs)
            #expect(fs.durableContents(of: Self.path)?.count == 36 + 4 * offsets.count, "written durably, exact size")
            #expect(try TombstoneFile.read(Self.path, segmentPointCount: pointCount, fileSystem: fs) == offsets)
        }
    }

    @Test func workedExampleMatchesTheSpec() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try TombstoneFile.write([1, 300], segmentPointCount: 1000, to: Self.path, fileSystem: fs)
        let bytes = try fs.open(Self.path, mode: .readOnly).readAll()
        let body = hexBytes(
            """
            53 54 52 41 54 54 4d 42  01 00 00 00 00 00 00 00
            e8 03 00 00 00 00 00 00  02 00 00 00 00 00 00 00
            01 00 00 00 2c 01 00 00
            """)
        #expect(Array(bytes.prefix(40)) == body)
        let crc = ReferenceSegment.mask(ReferenceSegment.crc32c(body))
        #expect(Array(bytes.suffix(4)) == ReferenceSegment.le(crc))
        print(
            "tombstone worked example crc: \(ReferenceSegment.le(crc).map { String(format: "%02x", $0) }.joined(separator: " "))"
        )
    }

    @Test func everyDamagedByteAndEveryTruncationIsRefused() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let offsets: [UInt32] = [0, 5, 6, 99]
        try TombstoneFile.write(offsets, segmentPointCount: 100, to: Self.path, fileSystem: fs)
        let bytes = try fs.open(Self.path, mode: .readOnly).readAll()
        for position in bytes.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                try fs.corruptStoredByte(path: Self.path, offset: UInt64(position), xor: mask)
                let error = segmentError {
                    _ = try TombstoneFile.read(Self.path, segmentPointCount: 100, fileSystem: fs)
                }
                #expect(
                    error?.code == .corruption || (8..<12).contains(position) && error?.code == .unsupportedVersion,
                    "byte \(position) ^ \(mask): \(String(describing: error))")
                #expect(error?.file == Self.path && error?.section == "tombstones")
                try fs.corruptStoredByte(path: Self.path, offset: UInt64(position), xor: mask)
            }
        }
        for length in 0..<bytes.count {
            try fs.writeAtomically("/s/cut", Array(bytes[0..<length]))
            let error = segmentError { _ = try TombstoneFile.read("/s/cut", segmentPointCount: 100, fileSystem: fs) }
            #expect(error?.code == .corruption, "length \(length)")
        }
        #expect(try TombstoneFile.read(Self.path, segmentPointCount: 100, fileSystem: fs) == offsets)
    }

    @Test func sidecarOfAnotherSegmentIsRefused() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try TombstoneFile.write([1, 2], segmentPointCount: 100, to: Self.path, fileSystem: fs)
        let error = segmentError { _ = try TombstoneFile.read(Self.path, segmentPointCount: 101, fileSystem: fs) }
        #expect(error?.code == .corruption && error?.message.contains("another segment") == true)
    }

    @Test func checksummedButUnsortedOrOutOfRangeOffsetsAreRefused() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        func file(_ offsets: [UInt32], count: UInt64? = nil, pointCount: UInt64 = 10) -> [UInt8] {
            var body =
                Array("STRATTMB".utf8) + ReferenceSegment.le(UInt32(1)) + ReferenceSegment.le(UInt32(0))
                + ReferenceSegment.le(pointCount) + ReferenceSegment.le(count ?? UInt64(offsets.count))
            body += offsets.flatMap { ReferenceSegment.le($0) }
            return body + ReferenceSegment.le(ReferenceSegment.mask(ReferenceSegment.crc32c(body)))
        }
        try fs.writeAtomically("/s/ok", file([1, 2]))
        #expect(try TombstoneFile.read("/s/ok", segmentPointCount: 10, fileSystem: fs) == [1, 2])
        for (what, bytes) in [
            ("unsorted", file([2, 1])), ("duplicate", file([2, 2])), ("out of range", file([1, 10])),
            ("count too large", file([1, 2], count: 3)), ("count huge", file([1, 2], count: .max)),
        ] {
            try fs.writeAtomically("/s/bad", bytes)
            let error = segmentError { _ = try TombstoneFile.read("/s/bad", segmentPointCount: 10, fileSystem: fs) }
            #expect(error?.code == .corruption, "\(what)")
        }
    }

    @Test func writeRejectsInvalidOffsets() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        for (offsets, count) in [([2, 1], 10), ([1, 1], 10), ([10], 10), ([0], 0)] as [([UInt32], Int)] {
            let error = segmentError {
                try TombstoneFile.write(offsets, segmentPointCount: count, to: Self.path, fileSystem: fs)
            }
            #expect(error?.code == .invalidArgument, "\(offsets) of \(count)")
        }
        #expect(fs.fileKind(Self.path) == nil)
    }

    @Test func replacementIsAtomicAtEveryCrashPoint() throws {
        let old: [UInt32] = [1, 2, 3]
        let new: [UInt32] = [1, 2, 3, 7, 8]
        let probe = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try TombstoneFile.write(old, segmentPointCount: 10, to: Self.path, fileSystem: probe)
        let start = probe.operationCount
        try TombstoneFile.write(new, segmentPointCount: 10, to: Self.path, fileSystem: probe)
        let operations = probe.operationCount - start
        for crashPoint in 0...operations {
            for mode: PowerLossMode in [
                .dropUnsynced, .keepUnsyncedPrefix(writes: .max, tornBytes: 0), .randomTear(seed: UInt64(crashPoint)),
            ] {
                let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
                try TombstoneFile.write(old, segmentPointCount: 10, to: Self.path, fileSystem: fs)
                fs.crashAfterOperations = fs.operationCount + crashPoint
                _ = try? TombstoneFile.write(new, segmentPointCount: 10, to: Self.path, fileSystem: fs)
                fs.simulatePowerLoss(mode)
                let read = try TombstoneFile.read(Self.path, segmentPointCount: 10, fileSystem: fs)
                #expect(read == old || read == new, "crash point \(crashPoint), \(mode)")
                if crashPoint == operations { #expect(read == new) }
            }
        }
    }
}
