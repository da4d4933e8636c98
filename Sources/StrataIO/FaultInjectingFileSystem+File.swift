#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file of a `FaultInjectingFileSystem`.
///
/// Like a POSIX descriptor it refers to the inode, not the name: it keeps
/// working after the file is renamed or removed. After a simulated power loss
/// every operation throws `.io` (the handle predates the crash).
final class FaultInjectingFile: StorageFile, @unchecked Sendable {
    // SAFETY: all stored properties are immutable; `inode` (a non-Sendable
    // class, part of the file system's model) is read and mutated only inside
    // `fileSystem.locked`, which holds the lock that guards the whole model.
    let fileSystem: FaultInjectingFileSystem
    let inode: ModelInode
    let path: String
    /// The path in canonical form, matched against fault rules.
    let canonicalPath: String
    let writable: Bool
    /// The power-loss epoch this handle was opened in.
    let epoch: UInt64

    init(
        fileSystem: FaultInjectingFileSystem, inode: ModelInode, path: String, canonicalPath: String,
        writable: Bool, epoch: UInt64
    ) {
        self.fileSystem = fileSystem
        self.inode = inode
        self.path = path
        self.canonicalPath = canonicalPath
        self.writable = writable
        self.epoch = epoch
    }

    /// Throws if the file system crashed or this handle predates a power loss.
    private func checkUsable(_ model: FaultModel, _ operation: String) throws {
        try model.checkAlive(operation, path)
        if epoch != model.epoch {
            throw IOError(
                code: .io, operation: operation, path: path, errno: EIO,
                message:
                    "\(operation) failed on \(path): this handle predates a simulated crash (power loss); reopen the file"
            )
        }
    }

    private func checkWritable(_ operation: String) throws {
        if !writable {
            let base = IOError(errno: EBADF, operation: operation, path: path)
            throw IOError(
                code: base.code, operation: operation, path: path, errno: EBADF,
                message: base.message + " (the file was opened read-only)")
        }
    }

    private func checkedOffset(_ offset: UInt64, count: Int, _ operation: String) throws -> Int {
        guard offset <= UInt64(FaultModel.maximumFileSize),
            Int(offset) + count <= FaultModel.maximumFileSize
        else {
            throw IOError(errno: EFBIG, operation: operation, path: path)
        }
        return Int(offset)
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try fileSystem.locked { model in
            try checkUsable(model, "pread")
            try model.checkInjected(.read, [canonicalPath], name: "pread", reportedPath: path)
            let data = inode.current
            guard offset < UInt64(data.count), !buffer.isEmpty else { return 0 }
            let start = Int(offset)
            let count = min(buffer.count, data.count - start)
            data.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count)
            }
            model.applyBitFlips(path: canonicalPath, offset: start, into: buffer, count: count)
            return count
        }
    }

    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws {
        try fileSystem.locked { model in
            try checkUsable(model, "pwrite")
            try model.beginMutation("pwrite", path)
            try model.checkInjected(.write, [canonicalPath], name: "pwrite", reportedPath: path)
            try checkWritable("pwrite")
            let start = try checkedOffset(offset, count: bytes.count, "pwrite")
            if bytes.isEmpty { return }
            var fitting = bytes.count
            if inode.isLinked, let capacity = model.capacityBytes {
                // Space beyond the current end is what the write consumes.
                let available = max(0, capacity - model.usedBytes)
                let allowedEnd = inode.current.count + available
                if start + bytes.count > allowedEnd { fitting = max(0, min(bytes.count, allowedEnd - start)) }
            }
            if fitting > 0 {
                let part = UnsafeRawBufferPointer(rebasing: bytes[..<fitting])
                let before = inode.current.count
                applyWrite(part, at: start, to: &inode.current)
                inode.pending.append(.write(offset: start, bytes: Array(part)))
                if inode.isLinked { model.usedBytes += inode.current.count - before }
                model.statistics.writes += 1
                model.statistics.bytesWritten += fitting
            }
            if fitting < bytes.count {
                let base = IOError(errno: ENOSPC, operation: "pwrite", path: path)
                throw IOError(
                    code: base.code, operation: "pwrite", path: path, errno: ENOSPC,
                    message: base.message + " (\(fitting) of \(bytes.count) bytes were written)")
            }
        }
    }

    func size() throws -> UInt64 {
        try fileSystem.locked { model in
            try checkUsable(model, "fstat")
            return UInt64(inode.current.count)
        }
    }

    func truncate(to length: UInt64) throws {
        try fileSystem.locked { model in
            try checkUsable(model, "ftruncate")
            try model.beginMutation("ftruncate", path)
            try model.checkInjected(.truncate, [canonicalPath], name: "ftruncate", reportedPath: path)
            try checkWritable("ftruncate")
            let newLength = try checkedOffset(length, count: 0, "ftruncate")
            let before = inode.current.count
            // Extending is sparse on real file systems, so it never fails with
            // ENOSPC here either; the zeros still count as used space.
            applyTruncate(to: newLength, &inode.current)
            inode.pending.append(.truncate(length: newLength))
            if inode.isLinked { model.usedBytes += inode.current.count - before }
        }
    }

    func sync() throws { try sync(name: "fsync") }

    func dataSync() throws { try sync(name: "fdatasync") }

    private func sync(name: String) throws {
        try fileSystem.locked { model in
            try checkUsable(model, name)
            try model.beginMutation(name, path)
            if let error = model.injectedError(.sync, [canonicalPath], name: name, reportedPath: path) {
                // Linux marks the failed pages clean: the writes are not durable
                // and a later successful sync will not write them either.
                inode.pending.removeAll()
                model.statistics.failedSyncs += 1
                throw error
            }
            for change in inode.pending { apply(change, to: &inode.durable) }
            inode.pending.removeAll()
            if name == "fsync" { model.statistics.syncs += 1 } else { model.statistics.dataSyncs += 1 }
        }
    }

    func map(offset: UInt64, length: Int) throws -> MappedRegion {
        // Copy under the lock; wrap the copy in the (non-copyable) region outside it.
        let storage: UnsafeMutableRawBufferPointer? = try fileSystem.locked { model in
            try checkUsable(model, "mmap")
            try model.checkInjected(.map, [canonicalPath], name: "mmap", reportedPath: path)
            if length == 0 { return nil }
            let fileSize = UInt64(inode.current.count)
            guard length > 0, offset <= fileSize, UInt64(length) <= fileSize - offset else {
                throw IOError(
                    code: .shortRead, operation: "mmap", path: path,
                    message:
                        "mmap of \(length) bytes at \(offset) in \(path) goes past its end (\(fileSize) bytes): the file is truncated"
                )
            }
            let start = Int(offset)
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 64)
            inode.current.withUnsafeBytes {
                storage.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]))
            }
            model.applyBitFlips(path: canonicalPath, offset: start, into: storage, count: length)
            return storage
        }
        guard let storage else {
            return MappedRegion(bytes: UnsafeRawBufferPointer(start: nil, count: 0), release: .none)
        }
        return MappedRegion(bytes: UnsafeRawBufferPointer(storage), release: .deallocate(storage))
    }
}
