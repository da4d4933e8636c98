import Foundation
import StrataCompression
import StrataIO
import StrataModel
@testable import StrataSegment
import StrataTestSupport
import Testing

/// The writer on `FaultInjectingFileSystem`: a crash or power loss before its
/// fsync never leaves a file the reader accepts (unless every byte made it),
/// failed syncs and a full disk are reported and leave no partial file.
@Suite struct SegmentFaultInjectionTests {
    static let specs = [SegmentVectorSpec(name: "v", dimension: 8)]

    /// Forwards to a `FaultInjectingFileSystem`, and syncs the parent directory
    /// right after a file is created: as if some other thread (a manifest update,
    /// say) had synced the directory, so the new, still unsynced file survives a
    /// power loss with whatever part of its data the disk kept. Without this the
    /// writer's file (never published, its directory never synced by the writer)
    /// would simply vanish, which proves less.
    final class DirectorySyncingFileSystem: ForwardingFileSystem {
        let base: FaultInjectingFileSystem
        var forwardedTo: any FileSystem { base }
        init(_ base: FaultInjectingFileSystem) { self.base = base }
        func open(_ path: String, mode: FileOpenMode) throws -> any StorageFile {
            let file = try base.open(path, mode: mode)
            if mode == .createNew { try base.syncDirectory(parentDirectory(of: path)) }
            return file
        }
    }

    @Test func powerLossBeforeTheWritersFsyncLeavesNoValidFile() throws {
        var generator = SeededGenerator.forTest()
        let points = generator.points(150, specs: Self.specs)
        let path = "/s/new.seg"
        // A small write buffer so that the file takes many writes (crash points).
        let bufferSize = 256
        func write(_ fs: any FileSystem) throws {
            _ = try SegmentWriter.write(
                points, vectors: Self.specs, compression: .lz4, to: path, fileSystem: fs, bufferSize: bufferSize)
        }
        let reference = FaultInjectingFileSystem(durableDirectories: ["/s"])
        let before = reference.operationCount
        try write(DirectorySyncingFileSystem(reference))
        let operations = reference.operationCount - before
        let complete = try reference.open(path, mode: .readOnly).readAll()
        #expect(operations > 10, "\(operations) operations: the buffer should split the file into many writes")

        var outcomes: [String: Int] = [:]
        for crashPoint in 0...operations {
            let modes: [PowerLossMode] = [
                .dropUnsynced, .keepUnsyncedPrefix(writes: .max, tornBytes: 0),
                .randomTear(seed: generator.next()), .randomTear(seed: generator.next()),
            ]
            for mode in modes {
                let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
                fs.crashAfterOperations = fs.operationCount + crashPoint
                let crashed: Bool
                do {
                    try write(DirectorySyncingFileSystem(fs))
                    crashed = false
                } catch let error as SegmentError {
                    #expect(error.code == .io, "crash at \(crashPoint): \(error)")
                    crashed = true
                }
                #expect(crashed == (crashPoint < operations), "crash point \(crashPoint) of \(operations)")
                fs.simulatePowerLoss(mode)
                guard fs.fileKind(path) != nil else {
                    outcomes["no file", default: 0] += 1
                    continue
                }
                do {
                    let reader = try SegmentReader.open(path: path, fileSystem: fs)
                    // Accepted: only possible if every byte arrived, and then it is all correct.
                    #expect(try fs.open(path, mode: .readOnly).readAll() == complete, "crash \(crashPoint), \(mode)")
                    try expectSegment(reader, holds: points, specs: Self.specs)
                    outcomes[crashed ? "complete though unsynced" : "complete", default: 0] += 1
                } catch let error as SegmentError {
                    #expect(crashed, "a file whose fsync returned must open: \(error)")
                    #expect(error.code == .corruption && error.file == path, "crash \(crashPoint), \(mode): \(error)")
                    outcomes["refused", default: 0] += 1
                }
            }
        }
        print(
            "outcomes over \(operations + 1) crash points × 4 power-loss modes: \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes["refused", default: 0] > 0)
        #expect(outcomes["complete", default: 0] == 4)
    }

    @Test func failedFsyncIsReportedAndRemovesTheFile() throws {
        var generator = SeededGenerator.forTest()
        let points = generator.points(20, specs: Self.specs)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        fs.failSyncs(mode: .once)
        let error = segmentError {
            try SegmentWriter.write(points, vectors: Self.specs, to: "/s/a.seg", fileSystem: fs)
        }
        #expect(
            error?.code == .io && error?.cause?.code == .io && error?.file == "/s/a.seg", "\(String(describing: error))"
        )
        #expect(fs.fileKind("/s/a.seg") == nil, "the partial file is removed")
        // The same path can be written again.
        try SegmentWriter.write(points, vectors: Self.specs, to: "/s/a.seg", fileSystem: fs)
        try expectSegment(try SegmentReader.open(path: "/s/a.seg", fileSystem: fs), holds: points, specs: Self.specs)
    }

    @Test func fullDiskIsReportedAndRemovesTheFile() throws {
        var generator = SeededGenerator.forTest()
        let points = generator.points(200, specs: Self.specs)
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        fs.capacityBytes = 5000
        let error = segmentError {
            try SegmentWriter.write(points, vectors: Self.specs, to: "/s/a.seg", fileSystem: fs)
        }
        #expect(error?.code == .io && error?.cause?.code == .noSpace, "\(String(describing: error))")
        #expect(fs.fileKind("/s/a.seg") == nil)
        #expect(fs.usedBytes == 0)
    }

    @Test func failedMapIsReportedAsIO() throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/s"])
        try SegmentWriter.write([], vectors: [], to: "/s/a.seg", fileSystem: fs)
        fs.injectError(.map, mode: .once, errno: EIO)
        let error = segmentError { _ = try SegmentReader.open(path: "/s/a.seg", fileSystem: fs) }
        #expect(error?.code == .io && error?.cause?.code == .io)
        _ = try SegmentReader.open(path: "/s/a.seg", fileSystem: fs)
    }
}
