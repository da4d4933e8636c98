/// POSIX ustar headers (IEEE Std 1003.1-1988, `pax` format without extended
/// headers), as much as snapshot archives need: regular files only.
/// Layout and rules: docs/format/snapshot.md, "Archive".
///
/// A header is one 512-byte block; every field is ASCII. Numbers are octal,
/// NUL- or space-terminated; a size of 8 GiB or more uses GNU's base-256 form
/// (first byte 0x80, big-endian), which GNU tar and bsdtar read.
public enum TarFormat {
    public static let blockSize = 512
    /// Archives are padded with zero blocks to a multiple of this (tar's default record).
    public static let recordSize = 10_240
    /// Longest path: prefix (155) + "/" + name (100).
    public static let maxPathBytes = 255

    /// Field offsets and widths of the ustar header.
    enum Field {
        static let name = (offset: 0, width: 100)
        static let mode = (offset: 100, width: 8)
        static let uid = (offset: 108, width: 8)
        static let gid = (offset: 116, width: 8)
        static let size = (offset: 124, width: 12)
        static let mtime = (offset: 136, width: 12)
        static let checksum = (offset: 148, width: 8)
        static let typeflag = 156
        static let linkname = (offset: 157, width: 100)
        static let magic = (offset: 257, width: 6)
        static let version = (offset: 263, width: 2)
        static let uname = (offset: 265, width: 32)
        static let gname = (offset: 297, width: 32)
        static let prefix = (offset: 345, width: 155)
    }

    static let magic: [UInt8] = Array("ustar\0".utf8)
    static let version: [UInt8] = Array("00".utf8)
    static let regularType = UInt8(ascii: "0")

    /// A parsed header.
    public struct Header: Equatable, Sendable {
        public var path: String
        public var size: UInt64

        public init(path: String, size: UInt64) {
            self.path = path
            self.size = size
        }
    }

    // MARK: - Writing

    /// The header block of a regular file `path` (already validated with
    /// `TarPath.validate`) of `size` bytes, mode 0644, owner 0:0.
    /// Throws `.invalidArgument` when the path cannot be split into ustar's
    /// prefix and name fields.
    public static func header(path: String, size: UInt64, modificationTime: UInt64) throws -> [UInt8] {
        guard let (prefix, name) = split(path) else {
            throw TarError(
                .invalidArgument,
                "cannot store \(path) in a ustar archive: the path is longer than 255 bytes or has no '/' to split it at 155/100 bytes (use a shorter collection name)"
            )
        }
        var block = [UInt8](repeating: 0, count: blockSize)
        put(Array(name.utf8), at: Field.name.offset, in: &block)
        put(octal(0o644, width: Field.mode.width), at: Field.mode.offset, in: &block)
        put(octal(0, width: Field.uid.width), at: Field.uid.offset, in: &block)
        put(octal(0, width: Field.gid.width), at: Field.gid.offset, in: &block)
        put(sizeField(size), at: Field.size.offset, in: &block)
        put(octal(modificationTime, width: Field.mtime.width), at: Field.mtime.offset, in: &block)
        block[Field.typeflag] = regularType
        put(magic, at: Field.magic.offset, in: &block)
        put(version, at: Field.version.offset, in: &block)
        put(Array("root".utf8), at: Field.uname.offset, in: &block)
        put(Array("root".utf8), at: Field.gname.offset, in: &block)
        put(Array(prefix.utf8), at: Field.prefix.offset, in: &block)
        // The checksum is computed with its own field read as eight spaces.
        put([UInt8](repeating: 0x20, count: 8), at: Field.checksum.offset, in: &block)
        let sum = block.reduce(0) { $0 + UInt64($1) }
        put(octal(sum, width: 7) + [0x20], at: Field.checksum.offset, in: &block)
        return block
    }

    /// Splits `path` into ustar's (prefix, name): the whole path as name when
    /// it fits in 100 bytes, else at the last `/` that leaves ≤ 155 + ≤ 100.
    public static func split(_ path: String) -> (prefix: String, name: String)? {
        let bytes = Array(path.utf8)
        if bytes.count <= Field.name.width { return ("", path) }
        guard bytes.count <= maxPathBytes else { return nil }
        for index in stride(from: min(bytes.count - 1, Field.prefix.width), through: 1, by: -1)
        where bytes[index] == UInt8(ascii: "/") {
            let nameBytes = bytes.count - index - 1
            if nameBytes == 0 || nameBytes > Field.name.width { return nil }
            return (
                String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 1)...], as: UTF8.self)
            )
        }
        return nil
    }

    /// Zero-padded octal digits filling `width - 1` bytes, then NUL.
    static func octal(_ value: UInt64, width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits + [0]
    }

    public static func sizeField(_ size: UInt64) -> [UInt8] {
        if size < 1 << 33 { return octal(size, width: Field.size.width) }
        // GNU base-256: 0x80 then the value big-endian in the remaining 11 bytes.
        var field = [UInt8](repeating: 0, count: Field.size.width)
        field[0] = 0x80
        for index in 0..<8 {
            field[Field.size.width - 1 - index] = UInt8(truncatingIfNeeded: size >> (8 * UInt64(index)))
        }
        return field
    }

    private static func put(_ bytes: [UInt8], at offset: Int, in block: inout [UInt8]) {
        block.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    }

    /// Bytes of zero padding after `size` bytes of content.
    public static func padding(after size: UInt64) -> Int {
        let remainder = Int(size % UInt64(blockSize))
        return remainder == 0 ? 0 : blockSize - remainder
    }

    // MARK: - Reading

    /// Parses the header block at byte `offset` of `archive`. Returns nil for
    /// an all-zero block (the end-of-archive marker). Throws `.corruption`
    /// naming the archive, the offset and what is wrong: bad checksum, not
    /// ustar, an entry that is not a regular file (hard link, symlink, device,
    /// FIFO, directory, extended header…), an unsafe path, a bad size.
    public static func parseHeader(_ block: UnsafeRawBufferPointer, offset: UInt64, archive: String) throws -> Header? {
        precondition(block.count == blockSize)
        func bad(_ why: String) -> TarError {
            TarError(
                .corruption,
                "snapshot archive \(archive): the tar header at byte \(offset) \(why); the archive is damaged or was not written by Strata"
            )
        }
        if block.allSatisfy({ $0 == 0 }) { return nil }
        let storedSum = try parseOctal(field(block, Field.checksum), what: "checksum", bad)
        var sum: UInt64 = 0
        for index in 0..<blockSize {
            let inChecksum = index >= Field.checksum.offset && index < Field.checksum.offset + Field.checksum.width
            sum += inChecksum ? 0x20 : UInt64(block[index])
        }
        guard storedSum == sum else { throw bad("fails its checksum (stored \(storedSum), computed \(sum))") }
        guard Array(field(block, Field.magic)) == magic, Array(field(block, Field.version)) == version else {
            throw bad("is not a POSIX ustar header (magic \"ustar\\0\" version \"00\" expected)")
        }
        let rawName = cString(field(block, Field.name))
        let rawPrefix = cString(field(block, Field.prefix))
        let pathBytes = rawPrefix.isEmpty ? rawName : rawPrefix + [UInt8(ascii: "/")] + rawName
        guard let path = String(validating: pathBytes, as: UTF8.self) else {
            throw bad("has a name that is not valid UTF-8")
        }
        let type = block[Field.typeflag]
        switch type {
        case regularType, 0:
            break
        case UInt8(ascii: "1"):
            let target = String(decoding: cString(field(block, Field.linkname)), as: UTF8.self)
            throw bad("is a hard link (\(path) -> \(target)); snapshot archives hold regular files only")
        case UInt8(ascii: "2"):
            let target = String(decoding: cString(field(block, Field.linkname)), as: UTF8.self)
            throw bad("is a symbolic link (\(path) -> \(target)); snapshot archives hold regular files only")
        case UInt8(ascii: "3"), UInt8(ascii: "4"):
            throw bad("is a device file (\(path)); snapshot archives hold regular files only")
        case UInt8(ascii: "5"):
            throw bad("is a directory entry (\(path)); snapshot archives hold regular files only")
        case UInt8(ascii: "6"):
            throw bad("is a FIFO (\(path)); snapshot archives hold regular files only")
        default:
            throw bad(
                "has entry type '\(String(decoding: [type], as: UTF8.self))' (\(path)); snapshot archives hold regular files only"
            )
        }
        do {
            try TarPath.validate(path)
        } catch let error as TarError {
            throw bad("has an unsafe name: \(error.message)")
        }
        let sizeBytes = field(block, Field.size)
        let size: UInt64
        if sizeBytes.first.map({ $0 & 0x80 != 0 }) == true {
            guard sizeBytes.first == 0x80, sizeBytes[1..<4].allSatisfy({ $0 == 0 }) else {
                throw bad("has a negative or huge base-256 size (\(path))")
            }
            size = sizeBytes[4...].reduce(0) { $0 << 8 | UInt64($1) }
        } else {
            size = try parseOctal(sizeBytes, what: "size of \(path)", bad)
        }
        return Header(path: path, size: size)
    }

    private static func field(_ block: UnsafeRawBufferPointer, _ field: (offset: Int, width: Int)) -> ArraySlice<UInt8>
    {
        ArraySlice(Array(block[field.offset..<(field.offset + field.width)]))
    }

    private static func cString(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(bytes.prefix { $0 != 0 })
    }

    /// Octal digits, optionally led by spaces and ended by NUL or space.
    private static func parseOctal(
        _ bytes: ArraySlice<UInt8>, what: String, _ bad: (String) -> TarError
    ) throws -> UInt64 {
        var digits = bytes.drop { $0 == 0x20 }
        if let end = digits.firstIndex(where: { $0 == 0 || $0 == 0x20 }) {
            guard digits[end...].allSatisfy({ $0 == 0 || $0 == 0x20 }) else {
                throw bad("has a malformed \(what) field")
            }
            digits = digits[..<end]
        }
        guard !digits.isEmpty, digits.count <= 21 else { throw bad("has a malformed \(what) field") }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else {
                throw bad("has a malformed \(what) field")
            }
            value = value << 3 | UInt64(digit - UInt8(ascii: "0"))
        }
        return value
    }
}

/// The rules for a path inside a snapshot (archive entry names and manifest
/// `path` fields): nothing an archive holds can name a file outside the
/// directory it is unpacked into.
public enum TarPath {
    /// Throws `TarError` `.corruption` unless `path` is relative, 1–255 bytes, made of
    /// non-empty components that are not `.` or `..`, with no NUL or backslash.
    public static func validate(_ path: String) throws {
        func bad(_ why: String) -> TarError { TarError(.corruption, "path \"\(path)\" \(why)") }
        guard !path.isEmpty else { throw bad("is empty") }
        guard path.utf8.count <= TarFormat.maxPathBytes else {
            throw bad("is longer than \(TarFormat.maxPathBytes) bytes")
        }
        guard !path.hasPrefix("/") else { throw bad("is absolute") }
        guard !path.utf8.contains(0), !path.contains("\\") else { throw bad("contains a NUL or a backslash") }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard !component.isEmpty else { throw bad("has an empty component (\"//\" or a trailing \"/\")") }
            guard component != "..", component != "." else { throw bad("has a \"\(component)\" component") }
        }
    }
}
