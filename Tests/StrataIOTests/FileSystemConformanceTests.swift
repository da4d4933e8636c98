#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import StrataIO
import Testing

/// Plain file-system semantics, one test body run against both `POSIXFileSystem`
/// (in a fresh temp directory) and `FaultInjectingFileSystem`: the fault FS is
/// only useful if, without faults, it behaves like the real thing.
@Suite struct FileSystemConformanceTests {
    @Test(arguments: FileSystemKind.allCases)
    func openingAMissingFileWithoutCreateThrowsNotFound(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "missing")
            expectIOError(.notFound) { try fs.open(path, mode: .readOnly) }
            expectIOError(.notFound) { try fs.open(path, mode: .readWrite) }
            expectIOError(.notFound) { try fs.open(joinPath(root, "no-dir", "file"), mode: .create) }
            #expect(fs.fileKind(path) == nil)
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func createNewOnAnExistingFileThrowsAlreadyExists(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "a")
            _ = try fs.open(path, mode: .createNew)
            expectIOError(.alreadyExists) { try fs.open(path, mode: .createNew) }
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func createOpensAnExistingFileWithoutTruncatingIt(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "a")
            try fs.open(path, mode: .createNew).write(at: 0, bytes("hello"))
            let again = try fs.open(path, mode: .create)
            #expect(try again.readAll() == bytes("hello"))
            #expect(try fs.open(path, mode: .readWrite).size() == 5)
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func appendWritesAtTheEndAndReturnsTheOffset(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "log"), mode: .create)
            #expect(try file.append(bytes("abc")) == 0)
            #expect(try file.append(bytes("de")) == 3)
            #expect(try file.readAll() == bytes("abcde"))
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func writtenBytesAreReadBackAndSizeFollowsThem(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            #expect(try file.size() == 0)
            try file.write(at: 0, bytes("hello world"))
            try file.write(at: 6, bytes("WORLD"))
            #expect(try file.size() == 11)
            #expect(try file.readAll() == bytes("hello WORLD"))
            #expect(try file.read(at: 6, count: 3) == bytes("WOR"))
            try file.write(at: 0, [UInt8]())
            #expect(try file.size() == 11)
            // A second handle sees the same bytes.
            #expect(try fs.open(joinPath(root, "a"), mode: .readOnly).readAll() == bytes("hello WORLD"))
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func writingPastTheEndZeroFillsTheGap(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            try file.write(at: 0, bytes("ab"))
            try file.write(at: 5, bytes("cd"))
            #expect(try file.readAll() == [0x61, 0x62, 0, 0, 0, 0x63, 0x64])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func readingPastTheEndReturnsFewerBytes(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            try file.write(at: 0, bytes("0123456789"))
            var buffer = [UInt8](repeating: 0xEE, count: 8)
            let got = try buffer.withUnsafeMutableBytes { try file.read(at: 6, into: $0) }
            #expect(got == 4)
            #expect(Array(buffer[..<4]) == bytes("6789"))
            let none = try buffer.withUnsafeMutableBytes { try file.read(at: 100, into: $0) }
            #expect(none == 0)
            let error = expectIOError(.shortRead) { try file.read(at: 8, count: 4) }
            #expect(error?.message.contains("got only 2") == true)
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func truncateShrinksAndExtendsWithZeros(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            try file.write(at: 0, bytes("0123456789"))
            try file.truncate(to: 4)
            #expect(try file.readAll() == bytes("0123"))
            try file.truncate(to: 6)
            #expect(try file.readAll() == bytes("0123") + [0, 0])
            try file.truncate(to: 0)
            #expect(try file.size() == 0)
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func renameReplacesTheDestination(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let source = joinPath(root, "new"), destination = joinPath(root, "current")
            try writeFile(fs, destination, bytes("old"))
            let oldHandle = try fs.open(destination, mode: .readOnly)
            try writeFile(fs, source, bytes("new content"))
            try fs.rename(source, to: destination)
            #expect(fs.fileKind(source) == nil)
            #expect(try contents(fs, destination) == bytes("new content"))
            // A handle refers to the file, not the name.
            #expect(try oldHandle.readAll() == bytes("old"))
            #expect(try fs.listDirectory(root) == ["current"])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func renameMovesFilesBetweenDirectoriesAndKeepsOpenHandles(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            try fs.createDirectory(joinPath(root, "a"))
            try fs.createDirectory(joinPath(root, "b"))
            let handle = try fs.open(joinPath(root, "a", "f"), mode: .create)
            try handle.write(at: 0, bytes("x"))
            try fs.rename(joinPath(root, "a", "f"), to: joinPath(root, "b", "g"))
            try handle.write(at: 1, bytes("y"))
            #expect(try contents(fs, joinPath(root, "b", "g")) == bytes("xy"))
            #expect(try fs.listDirectory(joinPath(root, "a")) == [])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func renamingAMissingSourceThrowsNotFound(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            try writeFile(fs, joinPath(root, "b"), bytes("keep"))
            expectIOError(.notFound) { try fs.rename(joinPath(root, "a"), to: joinPath(root, "b")) }
            #expect(try contents(fs, joinPath(root, "b")) == bytes("keep"))
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func removeFileDeletesItAndAMissingFileThrowsNotFound(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "a")
            try writeFile(fs, path, bytes("x"))
            try fs.removeFile(path)
            #expect(fs.fileKind(path) == nil)
            expectIOError(.notFound) { try fs.removeFile(path) }
            expectIOError(.notFound) { try fs.open(path, mode: .readOnly) }
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func anOpenHandleKeepsWorkingAfterItsFileIsRemoved(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "a")
            let file = try fs.open(path, mode: .create)
            try file.write(at: 0, bytes("still here"))
            try fs.removeFile(path)
            #expect(try file.readAll() == bytes("still here"))
            try file.write(at: 0, bytes("S"))
            #expect(try file.read(at: 0, count: 1) == bytes("S"))
            #expect(try fs.listDirectory(root) == [])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func removeTreeRemovesEverythingBelowAndIgnoresAMissingPath(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let tree = joinPath(root, "tree")
            try fs.createDirectory(joinPath(tree, "x", "y"))
            try writeFile(fs, joinPath(tree, "f1"), bytes("1"))
            try writeFile(fs, joinPath(tree, "x", "f2"), bytes("2"))
            try writeFile(fs, joinPath(tree, "x", "y", "f3"), bytes("3"))
            try writeFile(fs, joinPath(root, "outside"), bytes("o"))
            try fs.removeTree(tree)
            #expect(fs.fileKind(tree) == nil)
            #expect(try fs.listDirectory(root) == ["outside"])
            try fs.removeTree(tree)
            try fs.removeTree(joinPath(root, "outside"))
            #expect(try fs.listDirectory(root) == [])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func listDirectoryReturnsSortedNamesWithoutDotEntries(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            for name in ["0003.log", "MANIFEST", "0001.log", "a", "0002.log"] {
                try writeFile(fs, joinPath(root, name), [])
            }
            try fs.createDirectory(joinPath(root, "segments"))
            #expect(try fs.listDirectory(root) == ["0001.log", "0002.log", "0003.log", "MANIFEST", "a", "segments"])
            expectIOError(.notFound) { try fs.listDirectory(joinPath(root, "nope")) }
            expectIOError(.other) { try fs.listDirectory(joinPath(root, "a")) }  // ENOTDIR
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func createDirectoryMakesParentsAndIsIdempotent(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let deep = joinPath(root, "a", "b", "c")
            try fs.createDirectory(deep)
            try fs.createDirectory(deep)
            #expect(fs.fileKind(deep) == .directory)
            #expect(try fs.listDirectory(joinPath(root, "a")) == ["b"])
            try writeFile(fs, joinPath(root, "file"), [])
            expectIOError(.alreadyExists) { try fs.createDirectory(joinPath(root, "file")) }
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func fileKindTellsFilesFromDirectoriesAndMissingPaths(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            try writeFile(fs, joinPath(root, "f"), [])
            try fs.createDirectory(joinPath(root, "d"))
            #expect(fs.fileKind(root) == .directory)
            #expect(fs.fileKind(joinPath(root, "f")) == .file)
            #expect(fs.fileKind(joinPath(root, "d")) == .directory)
            #expect(fs.fileKind(joinPath(root, "x")) == nil)
            #expect(fs.fileKind(joinPath(root, "f", "x")) == nil)
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func aSecondLockOnTheSamePathFailsWithLockedUntilTheFirstIsReleased(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "LOCK")
            let first = try fs.lock(path)
            #expect(fs.fileKind(path) == .file)
            let error = expectIOError(.locked) { try fs.lock(path) }
            #expect(error?.message.contains("locked") == true)
            let other = try fs.lock(joinPath(root, "OTHER-LOCK"))
            first.release()
            first.release()  // idempotent
            let second = try fs.lock(path)
            expectIOError(.locked) { try fs.lock(path) }
            second.release()
            other.release()
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func aLockIsReleasedWhenItsOwnerGoesAway(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "LOCK")
            do { _ = try fs.lock(path) }
            let again = try fs.lock(path)
            again.release()
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func mapReturnsTheFileBytesAtAnyOffset(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let content = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            try writeFile(fs, joinPath(root, "seg"), content)
            let file = try fs.open(joinPath(root, "seg"), mode: .readOnly)
            for (offset, length) in [(0, 10_000), (5_001, 123), (4_096, 4_096), (9_999, 1), (0, 1)] {
                let region = try file.map(offset: UInt64(offset), length: length)
                #expect(region.count == length)
                #expect(region.withUnsafeBytes { Array($0) } == Array(content[offset..<(offset + length)]))
            }
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func aMappingOutlivesItsFileHandle(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            try writeFile(fs, joinPath(root, "seg"), bytes("mapped bytes"))
            var file: (any StorageFile)? = try fs.open(joinPath(root, "seg"), mode: .readOnly)
            let region = try file!.map(offset: 0, length: 12)
            file = nil
            #expect(region.withUnsafeBytes { Array($0) } == bytes("mapped bytes"))
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func mappingBeyondTheEndThrowsInsteadOfFaulting(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            try writeFile(fs, joinPath(root, "seg"), [UInt8](repeating: 1, count: 100))
            let file = try fs.open(joinPath(root, "seg"), mode: .readOnly)
            expectIOError(.shortRead) { _ = try file.map(offset: 0, length: 101) }
            expectIOError(.shortRead) { _ = try file.map(offset: 50, length: 51) }
            expectIOError(.shortRead) { _ = try file.map(offset: 101, length: 1) }
            expectIOError(.shortRead) { _ = try file.map(offset: 4_096, length: 1) }
            expectIOError(.shortRead) { _ = try file.map(offset: UInt64.max - 10, length: 20) }
            expectIOError(.shortRead) { _ = try file.map(offset: 0, length: -1) }
            let empty = try file.map(offset: 0, length: 0)
            #expect(empty.count == 0)
            let last = try file.map(offset: 99, length: 1)
            #expect(last.withUnsafeBytes { Array($0) } == [1])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func absurdOffsetsThrowInsteadOfTrapping(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            #expect(throws: IOError.self) { try file.write(at: UInt64.max - 1, bytes("xy")) }
            #expect(throws: IOError.self) { try file.truncate(to: UInt64.max) }
            #expect(try file.size() == 0)
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func writeAtomicallyReplacesTheContentAndLeavesNoTempFile(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let path = joinPath(root, "MANIFEST")
            try fs.writeAtomically(path, bytes("v1"))
            try fs.writeAtomically(path, bytes("version 2"))
            #expect(try contents(fs, path) == bytes("version 2"))
            #expect(try fs.listDirectory(root) == ["MANIFEST"])
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func syncsSucceedOnFilesAndDirectoriesAndAMissingDirectoryThrowsNotFound(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            try file.write(at: 0, bytes("x"))
            try file.sync()
            try file.dataSync()
            try fs.syncDirectory(root)
            try fs.createDirectoryDurably(joinPath(root, "sub"))
            expectIOError(.notFound) { try fs.syncDirectory(joinPath(root, "missing")) }
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func aReadOnlyHandleRejectsWritesAndTruncation(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            try writeFile(fs, joinPath(root, "a"), bytes("data"))
            let file = try fs.open(joinPath(root, "a"), mode: .readOnly)
            #expect(throws: IOError.self) { try file.write(at: 0, bytes("x")) }
            #expect(throws: IOError.self) { try file.truncate(to: 0) }
            #expect(try file.readAll() == bytes("data"))
        }
    }

    @Test(arguments: FileSystemKind.allCases)
    func positionalWritesFromManyThreadsAllLand(_ kind: FileSystemKind) throws {
        try withFileSystem(kind) { fs, root in
            let file = try fs.open(joinPath(root, "a"), mode: .create)
            let threads = 8, perThread = 200, recordSize = 16
            let failures = Counter()
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for i in 0..<perThread {
                    let index = i * threads + thread
                    let record = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: recordSize)
                    do {
                        try file.write(at: UInt64(index * recordSize), record)
                        if i % 50 == 0 { try file.dataSync() }
                    } catch {
                        failures.increment()
                    }
                }
            }
            #expect(failures.value == 0)
            let all = try file.readAll()
            #expect(all.count == threads * perThread * recordSize)
            for index in 0..<(threads * perThread) {
                #expect(all[index * recordSize] == UInt8(truncatingIfNeeded: index))
            }
        }
    }
}

/// A thread-safe counter for tests.
final class Counter: Sendable {
    /// Guards the count.
    private let count = Locked(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
