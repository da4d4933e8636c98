#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO
import Testing

/// Regression tests for bugs fixed in `POSIXFileSystem`, one per bug.
@Suite struct POSIXFileSystemTests {
    @Test func removeTreeRemovesASymlinkWithoutFollowingIt() throws {
        try withFileSystem(.posix) { fs, root in
            let outside = joinPath(root, "outside")
            try fs.createDirectory(outside)
            try writeFile(fs, joinPath(outside, "precious"), bytes("keep me"))
            let tree = joinPath(root, "tree")
            try fs.createDirectory(tree)
            #expect(symlink(outside, joinPath(tree, "link")) == 0)
            try fs.removeTree(tree)
            #expect(fs.fileKind(tree) == nil)
            #expect(try contents(fs, joinPath(outside, "precious")) == bytes("keep me"))
        }
    }

    @Test func aNegativeMapLengthIsAnErrorNotATrap() throws {
        try withFileSystem(.posix) { fs, root in
            try writeFile(fs, joinPath(root, "f"), bytes("abc"))
            let file = try fs.open(joinPath(root, "f"), mode: .readOnly)
            expectIOError(.shortRead) { _ = try file.map(offset: 0, length: -4096) }
            expectIOError(.shortRead) { _ = try file.map(offset: UInt64.max, length: 1) }
        }
    }

    @Test func anOffsetBeyondOffTIsAnErrorNotATrap() throws {
        try withFileSystem(.posix) { fs, root in
            let file = try fs.open(joinPath(root, "f"), mode: .create)
            var buffer = [UInt8](repeating: 0, count: 4)
            expectIOError(.other) { try buffer.withUnsafeMutableBytes { try file.read(at: UInt64.max, into: $0) } }
            expectIOError(.other) { try file.write(at: UInt64(Int64.max), bytes("x")) }
            expectIOError(.other) { try file.truncate(to: UInt64.max) }
        }
    }
}
