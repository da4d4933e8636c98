import Crypto
import StrataIO

/// SHA-256 as lowercase hex, the form snapshot manifests and `.sha256` files use.
public struct SHA256Hasher {
    private var state = SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bufferPointer: bytes) }
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { state.update(bufferPointer: $0) } }

    public func hex() -> String { Self.hex(Array(state.finalize())) }

    public static func hex(of bytes: [UInt8]) -> String {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.hex()
    }

    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is 64 lowercase hex digits.
    public static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// Writes a tar archive sequentially into a `StorageFile` through a 1 MiB
/// buffer, hashing every byte, so the archive's SHA-256 is known when it is
/// finished. Not thread-safe; one writer per archive.
public final class TarWriter {
    private let file: any StorageFile
    private var buffer: [UInt8] = []
    private var offset: UInt64 = 0
    private var hasher = SHA256Hasher()
    private let modificationTime: UInt64
    public static let bufferSize = 1 << 20

    public init(file: any StorageFile, modificationTime: UInt64) {
        self.file = file
        self.modificationTime = modificationTime
        buffer.reserveCapacity(Self.bufferSize)
    }

    /// Bytes written so far (including buffered ones).
    public var size: UInt64 { offset + UInt64(buffer.count) }

    /// Writes one regular-file entry whose content `body` produces by calling
    /// its argument with consecutive chunks; exactly `size` bytes must come.
    public func addFile(
        path: String, size: UInt64, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try append(try TarFormat.header(path: path, size: size, modificationTime: modificationTime))
        var written: UInt64 = 0
        try body { chunk in
            written += UInt64(chunk.count)
            try self.append(chunk)
        }
        guard written == size else {
            throw TarError(
                .io, "snapshot entry \(path) changed size while it was archived: expected \(size) bytes, got \(written)"
            )
        }
        try append([UInt8](repeating: 0, count: TarFormat.padding(after: size)))
    }

    public func addFile(path: String, bytes: [UInt8]) throws {
        try addFile(path: path, size: UInt64(bytes.count)) { sink in try bytes.withUnsafeBytes { try sink($0) } }
    }

    /// Writes the end-of-archive marker (two zero blocks), pads to a whole
    /// record, flushes, and returns the archive's size and SHA-256.
    public func finish() throws -> (size: UInt64, sha256: String) {
        try append([UInt8](repeating: 0, count: 2 * TarFormat.blockSize))
        let remainder = Int(size % UInt64(TarFormat.recordSize))
        if remainder != 0 { try append([UInt8](repeating: 0, count: TarFormat.recordSize - remainder)) }
        try flush()
        return (offset, hasher.hex())
    }

    private func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        var rest = bytes
        while !rest.isEmpty {
            let room = Self.bufferSize - buffer.count
            let take = min(room, rest.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if buffer.count == Self.bufferSize { try flush() }
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try file.write(at: offset, buffer)
        offset += UInt64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Reads a tar archive sequentially from a `StorageFile`, checking every
/// header (`TarFormat.parseHeader`), that no entry runs past the end, that
/// the end-of-archive marker is there and only zeros follow it, and hashing
/// every byte of the file. Not thread-safe.
public final class TarReader {
    public let path: String
    private let file: any StorageFile
    private let fileSize: UInt64
    private var position: UInt64 = 0
    private var hasher = SHA256Hasher()
    private var block = [UInt8](repeating: 0, count: TarFormat.blockSize)
    private var chunk = [UInt8](repeating: 0, count: 1 << 20)
    private var pendingContent: (path: String, size: UInt64)?
    public private(set) var entryCount = 0

    public init(file: any StorageFile, path: String) throws {
        self.file = file
        self.path = path
        self.fileSize = try file.size()
    }

    /// The next entry's header, or nil at the end-of-archive marker. The
    /// caller must read the entry's content (`readContent`) before asking for
    /// the next one.
    public func next() throws -> TarFormat.Header? {
        precondition(pendingContent == nil, "read the content of the previous entry first")
        let headerOffset = position
        guard try readBlock() else {
            throw TarError(
                .corruption,
                "snapshot archive \(path) is truncated: it ends at byte \(headerOffset) without the end-of-archive marker (two zero blocks); the copy is incomplete"
            )
        }
        let header = try block.withUnsafeBytes { try TarFormat.parseHeader($0, offset: headerOffset, archive: path) }
        guard let header else {
            // One zero block; the marker is two.
            guard try readBlock() else {
                throw TarError(
                    .corruption,
                    "snapshot archive \(path) is truncated: it ends at byte \(position) inside the end-of-archive marker"
                )
            }
            guard block.allSatisfy({ $0 == 0 }) else {
                throw TarError(
                    .corruption,
                    "snapshot archive \(path): a lone zero block at byte \(headerOffset) is followed by data; the archive is damaged"
                )
            }
            return nil
        }
        let padded = header.size + UInt64(TarFormat.padding(after: header.size))
        guard padded <= fileSize - position else {
            throw TarError(
                .corruption,
                "snapshot archive \(path) is truncated: entry \(header.path) at byte \(headerOffset) needs \(header.size) bytes of content but only \(fileSize - position) remain"
            )
        }
        entryCount += 1
        pendingContent = (header.path, header.size)
        return header
    }

    /// Reads the current entry's content in chunks (then skips its padding).
    public func readContent(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let (entry, size) = pendingContent else { preconditionFailure("no entry to read") }
        var remaining = size
        while remaining > 0 {
            let count = Int(min(UInt64(chunk.count), remaining))
            try chunk.withUnsafeMutableBytes { raw in
                let buffer = UnsafeMutableRawBufferPointer(rebasing: raw[..<count])
                try readExactly(into: buffer, what: "content of \(entry)")
                hasher.update(UnsafeRawBufferPointer(buffer))
                try body(UnsafeRawBufferPointer(buffer))
            }
            remaining -= UInt64(count)
        }
        let padding = TarFormat.padding(after: size)
        if padding > 0 {
            try block.withUnsafeMutableBytes { raw in
                let buffer = UnsafeMutableRawBufferPointer(rebasing: raw[..<padding])
                try readExactly(into: buffer, what: "padding of \(entry)")
                hasher.update(UnsafeRawBufferPointer(buffer))
                guard buffer.allSatisfy({ $0 == 0 }) else {
                    throw TarError(
                        .corruption,
                        "snapshot archive \(path): the padding after entry \(entry) (byte \(position - UInt64(padding))) is not zero; the archive is damaged"
                    )
                }
            }
        }
        pendingContent = nil
    }

    /// Reads the current entry's content into memory, refusing more than `limit` bytes.
    public func readContent(limit: UInt64) throws -> [UInt8] {
        guard let (entry, size) = pendingContent else { preconditionFailure("no entry to read") }
        guard size <= limit else {
            throw TarError(
                .corruption,
                "snapshot archive \(path): entry \(entry) is \(size) bytes, more than the \(limit) allowed for it")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(size))
        try readContent { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// After the end-of-archive marker: checks that only zero bytes follow
    /// and returns the SHA-256 of the whole file.
    public func finish() throws -> String {
        while position < fileSize {
            let count = Int(min(UInt64(chunk.count), fileSize - position))
            let start = position
            try chunk.withUnsafeMutableBytes { raw in
                let buffer = UnsafeMutableRawBufferPointer(rebasing: raw[..<count])
                try readExactly(into: buffer, what: "end padding")
                hasher.update(UnsafeRawBufferPointer(buffer))
                if let index = buffer.firstIndex(where: { $0 != 0 }) {
                    throw TarError(
                        .corruption,
                        "snapshot archive \(path) has data after its end-of-archive marker (byte \(start + UInt64(index))); the archive is damaged or two archives were concatenated"
                    )
                }
            }
        }
        return hasher.hex()
    }

    /// Reads one header block; false at a clean end of file.
    private func readBlock() throws -> Bool {
        if position == fileSize { return false }
        guard fileSize - position >= UInt64(TarFormat.blockSize) else {
            throw TarError(
                .corruption,
                "snapshot archive \(path) is truncated: only \(fileSize - position) bytes remain at byte \(position) where a 512-byte tar header should be"
            )
        }
        try block.withUnsafeMutableBytes { raw in
            try readExactly(into: raw, what: "tar header")
            hasher.update(UnsafeRawBufferPointer(raw))
        }
        return true
    }

    private func readExactly(into buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        var done = 0
        while done < buffer.count {
            let got: Int
            do {
                got = try file.read(
                    at: position + UInt64(done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            } catch {
                throw TarError.reading(path, error)
            }
            guard got > 0 else {
                throw TarError(
                    .corruption,
                    "snapshot archive \(path) is truncated: it ended at byte \(position + UInt64(done)) while reading the \(what) (the file shrank while being read?)"
                )
            }
            done += got
        }
        position += UInt64(buffer.count)
    }
}
