import CLZ4
import CZstd

// Invariants, for every codec and whatever the input bytes:
// - decompression reads only `input[0..<input.count]` and writes only
//   `output[0..<output.count]`; lz4 goes through `LZ4_decompress_safe` and zstd
//   through `ZSTD_decompressDCtx`, both bounded by the capacities passed to them;
// - a decompression that returns produced exactly `decompressedSize` bytes;
// - every size check happens before any allocation, so a hostile
//   `decompressedSize` or frame header cannot make us allocate more than
//   `maximumUncompressedSize`, and for lz4 no more than 255 times the input;
// - every uncompressed size is in `0...maximumUncompressedSize`, which fits in
//   the `int` the lz4 API takes, so no size is ever truncated on its way to C.

/// Compresses and decompresses one buffer at a time with lz4, zstd or no codec.
///
/// The compressed bytes carry no length of their own for lz4 (the block format),
/// so the caller stores the uncompressed size next to them (payload blocks keep it
/// in their header) and passes it back to `decompress`, which checks it exactly.
/// Compressed bytes carry no checksum either: the enclosing block's CRC32C is what
/// detects damage. Decompressing damaged bytes throws or, when the damage happens
/// to decode (a flipped literal byte, say), returns wrong bytes of the right size;
/// it never reads or writes out of bounds.
///
/// Thread safety: every function is pure and may be called from any thread.
/// The work is CPU-bound (from ~2 MB/s for zstd level 19 to ~6 GB/s for lz4
/// decompression, see docs/design/compression.md): keep large buffers off the
/// cooperative async pool.
public enum Compression {
    /// The largest uncompressed buffer any codec accepts, both as input to
    /// `compress` and as `decompressedSize`: `LZ4_MAX_INPUT_SIZE`, 2,113,929,216
    /// bytes. One limit for every codec means a block that one codec accepts, any
    /// codec accepts.
    public static let maximumUncompressedSize = Int(LZ4_MAX_INPUT_SIZE)

    /// The zstd level used when `level` is `nil`.
    public static let defaultZstdLevel = 3

    /// The lz4 acceleration used when `level` is `nil` (1 is lz4's default fast mode).
    public static let defaultLZ4Acceleration = 1

    /// The range of zstd levels `compress` accepts: `ZSTD_minCLevel()...ZSTD_maxCLevel()`
    /// (-131072...22 with zstd 1.5). Negative levels are faster than 1; 0 means 3.
    public static var zstdLevels: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }

    // MARK: - Compress

    /// Compresses `input` with `codec`.
    ///
    /// - Parameters:
    ///   - level: for zstd, the compression level (`zstdLevels`, default 3);
    ///     for lz4, the acceleration (≥ 1, default 1; higher is faster with a lower
    ///     ratio, values above 65537 act as 65537); ignored for `.none`.
    /// - Returns: the compressed bytes, sized exactly. For `.none`, a copy of `input`.
    ///   For zstd, one frame that records `input.count` as its content size.
    /// - Throws: `.inputTooLarge` when `input.count > maximumUncompressedSize`;
    ///   `.invalidArgument` for a level out of range; `.libraryError` if the library fails.
    /// - Complexity: O(`input.count`); allocates a worst-case-sized scratch buffer
    ///   (slightly more than `input.count`) for the duration of the call.
    public static func compress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, level: Int? = nil
    ) throws(CompressionError) -> [UInt8] {
        guard input.count <= maximumUncompressedSize else {
            throw CompressionError(
                code: .inputTooLarge, codec: codec,
                message:
                    "cannot compress \(input.count) bytes with \(codec.name): the limit is \(maximumUncompressedSize) bytes; split the data into smaller blocks"
            )
        }
        switch codec {
        case .none:
            return Array(input)
        case .lz4:
            let acceleration = try lz4Acceleration(level)
            return try compressIntoScratch(capacity: lz4CompressBound(input.count)) {
                (scratch) throws(CompressionError) in
                try lz4Compress(input, acceleration: acceleration, into: scratch)
            }
        case .zstd:
            let zstdLevel = try zstdLevel(level)
            return try compressIntoScratch(capacity: zstdCompressBound(input.count)) {
                (scratch) throws(CompressionError) in
                try zstdCompress(input, level: zstdLevel, into: scratch)
            }
        }
    }

    /// Compresses `input` with `codec`; see `compress(_:codec:level:)` for the
    /// UnsafeRawBufferPointer form, which this calls.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice<UInt8>`, `Data`, …) are
    /// read in place; any other collection is first copied into an array.
    public static func compress(
        _ input: some Collection<UInt8>, codec: CompressionCodec, level: Int? = nil
    ) throws(CompressionError) -> [UInt8] {
        try withContiguousBytes(of: input) { (bytes) throws(CompressionError) in
            try compress(bytes, codec: codec, level: level)
        }
    }

    // MARK: - Decompress

    /// Decompresses `input`, which `compress` produced with `codec` from
    /// `decompressedSize` bytes.
    ///
    /// - Returns: exactly `decompressedSize` bytes.
    /// - Throws: `.corruptInput` when `input` is not one valid stream for `codec`
    ///   (including trailing bytes after a zstd frame, and, for lz4, a
    ///   `decompressedSize` smaller than the true size); `.sizeMismatch` when the
    ///   data decodes or declares a size other than `decompressedSize`;
    ///   `.inputTooLarge` when `decompressedSize > maximumUncompressedSize`;
    ///   `.invalidArgument` when `decompressedSize < 0`.
    ///   Never traps, reads or writes out of bounds, whatever the bytes.
    /// - Complexity: O(`input.count + decompressedSize`). Allocates the result only
    ///   after the size checks above pass.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, decompressedSize: Int
    ) throws(CompressionError) -> [UInt8] {
        try checkBeforeDecoding(input, codec: codec, decompressedSize: decompressedSize)
        var outcome: Result<Void, CompressionError> = .success(())
        let output = [UInt8](unsafeUninitializedCapacity: decompressedSize) { buffer, initializedCount in
            do throws(CompressionError) {
                try decode(input, codec: codec, into: UnsafeMutableRawBufferPointer(buffer))
                initializedCount = decompressedSize
            } catch {
                outcome = .failure(error)
                initializedCount = 0
            }
        }
        try outcome.get()
        return output
    }

    /// Decompresses `input`; see `decompress(_:codec:decompressedSize:)` for the
    /// UnsafeRawBufferPointer form, which this calls.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice<UInt8>`, `Data`, …) are
    /// read in place; any other collection is first copied into an array.
    public static func decompress(
        _ input: some Collection<UInt8>, codec: CompressionCodec, decompressedSize: Int
    ) throws(CompressionError) -> [UInt8] {
        try withContiguousBytes(of: input) { (bytes) throws(CompressionError) in
            try decompress(bytes, codec: codec, decompressedSize: decompressedSize)
        }
    }

    /// Decompresses `input` into the caller's buffer, whose size is the expected
    /// decompressed size: on return `output` is completely filled. No allocation
    /// beyond zstd's decompression context.
    ///
    /// - Precondition: `output` does not overlap `input`.
    /// - Throws: as `decompress(_:codec:decompressedSize:)` with
    ///   `decompressedSize == output.count`. After a throw the contents of
    ///   `output` are unspecified (partly written), but nothing outside it is touched.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, into output: UnsafeMutableRawBufferPointer
    ) throws(CompressionError) {
        try checkBeforeDecoding(input, codec: codec, decompressedSize: output.count)
        try decode(input, codec: codec, into: output)
    }

    // MARK: - Shared steps

    /// Size and header checks that need no output buffer, so they run before
    /// anything is allocated.
    static func checkBeforeDecoding(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, decompressedSize: Int
    ) throws(CompressionError) {
        guard decompressedSize >= 0 else {
            throw CompressionError(
                code: .invalidArgument, codec: codec,
                message:
                    "decompressedSize is \(decompressedSize); it must be the non-negative size the data had before compression"
            )
        }
        guard decompressedSize <= maximumUncompressedSize else {
            throw CompressionError(
                code: .inputTooLarge, codec: codec,
                message:
                    "decompressedSize \(decompressedSize) exceeds the limit of \(maximumUncompressedSize) bytes; no block of that size can have been written, so the stored size is likely corrupt"
            )
        }
        switch codec {
        case .none:
            guard input.count == decompressedSize else {
                throw CompressionError(
                    code: .sizeMismatch, codec: codec,
                    message:
                        "uncompressed data is \(input.count) bytes but decompressedSize is \(decompressedSize); the stored size or the data is wrong (truncated or corrupt)"
                )
            }
        case .lz4:
            try lz4CheckBeforeDecoding(input, decompressedSize: decompressedSize)
        case .zstd:
            try zstdCheckBeforeDecoding(input, decompressedSize: decompressedSize)
        }
    }

    /// Decodes into `output`, which must be exactly the decompressed size;
    /// `checkBeforeDecoding` must have passed for `output.count`.
    static func decode(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, into output: UnsafeMutableRawBufferPointer
    ) throws(CompressionError) {
        switch codec {
        case .none:
            // SAFETY: checkBeforeDecoding verified input.count == output.count.
            if let source = input.baseAddress, let destination = output.baseAddress {
                destination.copyMemory(from: source, byteCount: input.count)
            }
        case .lz4:
            try lz4Decompress(input, into: output)
        case .zstd:
            try zstdDecompress(input, into: output)
        }
    }

    /// Runs `body` on a scratch buffer of `capacity` bytes and returns the first
    /// `n` bytes it reports writing, copied into an exactly-sized array (so a
    /// well-compressed result does not pin a worst-case-sized allocation).
    private static func compressIntoScratch(
        capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(CompressionError) -> Int
    ) throws(CompressionError) -> [UInt8] {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 1)
        defer { scratch.deallocate() }
        let written = try body(scratch)
        precondition(written >= 0 && written <= scratch.count, "compressor reported writing outside its buffer")
        return Array(UnsafeRawBufferPointer(rebasing: scratch[0..<written]))
    }
}

/// Runs `body` on the bytes of `collection`, in place when the collection is
/// contiguous, else on a copy. (`withContiguousStorageIfAvailable` is `rethrows`,
/// which would erase the typed error, hence the `Result`.)
func withContiguousBytes<R>(
    of collection: some Collection<UInt8>,
    _ body: (UnsafeRawBufferPointer) throws(CompressionError) -> R
) throws(CompressionError) -> R {
    let inPlace = collection.withContiguousStorageIfAvailable { buffer in
        Result { () throws(CompressionError) -> R in try body(UnsafeRawBufferPointer(buffer)) }
    }
    if let inPlace { return try inPlace.get() }
    return try Array(collection).withUnsafeBufferPointer { (buffer) throws(CompressionError) -> R in
        try body(UnsafeRawBufferPointer(buffer))
    }
}

/// A non-null pointer to pass to C for an empty buffer, whose Swift base address
/// may be `nil` (lz4 rejects a `NULL` source even with size 0).
// SAFETY: only ever passed together with a size of 0, so nothing reads or writes
// through it and sharing it across threads is harmless.
nonisolated(unsafe) let emptyBufferSentinel = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension UnsafeRawBufferPointer {
    /// The base address, or `emptyBufferSentinel` when the buffer is empty and has none.
    var nonNullBase: UnsafeRawPointer { baseAddress ?? UnsafeRawPointer(emptyBufferSentinel) }
}

extension UnsafeMutableRawBufferPointer {
    /// The base address, or `emptyBufferSentinel` when the buffer is empty and has none.
    var nonNullBase: UnsafeMutableRawPointer { baseAddress ?? emptyBufferSentinel }
}
