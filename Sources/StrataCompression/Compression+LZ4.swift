import CLZ4

// The lz4 block format: no magic, no length, no checksum. `LZ4_decompress_safe`
// is the decoder that never reads past `srcSize` nor writes past `dstCapacity`;
// it cannot tell "malformed" from "decodes to more than dstCapacity", so both
// surface as `.corruptInput`.

extension Compression {
    /// lz4 never expands a block more than this: the densest sequence (a long
    /// match) spends 4 + k bytes on at most 273 + 255k output bytes, < 255 per
    /// byte, and the final literals expand nothing.
    static let lz4MaximumExpansion = 255

    static func lz4Acceleration(_ level: Int?) throws(CompressionError) -> Int32 {
        let acceleration = level ?? defaultLZ4Acceleration
        guard acceleration >= 1 else {
            throw CompressionError(
                code: .invalidArgument, codec: .lz4,
                message:
                    "lz4 acceleration \(acceleration) is out of range; use 1 (default, best ratio) or more (faster, lower ratio)"
            )
        }
        return Int32(clamping: acceleration)
    }

    /// The worst-case compressed size of `count` bytes, `count ≤ maximumUncompressedSize`.
    static func lz4CompressBound(_ count: Int) -> Int {
        Int(LZ4_compressBound(Int32(count)))
    }

    /// Compresses into `output`, which holds at least `lz4CompressBound(input.count)`
    /// bytes; returns the number of bytes written.
    static func lz4Compress(
        _ input: UnsafeRawBufferPointer, acceleration: Int32, into output: UnsafeMutableRawBufferPointer
    ) throws(CompressionError) -> Int {
        // SAFETY: input.count ≤ LZ4_MAX_INPUT_SIZE (checked by compress) and
        // output.count is the bound of that, both < Int32.max; lz4 reads
        // input.count bytes and writes at most output.count bytes.
        let written = LZ4_compress_fast(
            input.nonNullBase.assumingMemoryBound(to: CChar.self),
            output.nonNullBase.assumingMemoryBound(to: CChar.self),
            Int32(input.count), Int32(clamping: output.count), acceleration)
        guard written > 0 else {
            throw CompressionError(
                code: .libraryError, codec: .lz4,
                message:
                    "lz4 failed to compress \(input.count) bytes into a buffer of its own worst-case size; this is a bug in Strata or liblz4, please report it",
                cause: "LZ4_compress_fast returned \(written)")
        }
        return Int(written)
    }

    static func lz4CheckBeforeDecoding(_ input: UnsafeRawBufferPointer, decompressedSize: Int) throws(CompressionError)
    {
        guard !input.isEmpty else {
            throw CompressionError(
                code: .corruptInput, codec: .lz4,
                message:
                    "an lz4 block is never empty (empty data compresses to 1 byte); the compressed bytes are missing or were truncated"
            )
        }
        let largestBlock = lz4CompressBound(maximumUncompressedSize)
        guard input.count <= largestBlock else {
            throw CompressionError(
                code: .corruptInput, codec: .lz4,
                message:
                    "\(input.count) bytes is larger than any lz4 block Strata writes (at most \(largestBlock)); the block length is corrupt"
            )
        }
        guard decompressedSize <= lz4MaximumExpansion * input.count else {
            throw CompressionError(
                code: .sizeMismatch, codec: .lz4,
                message:
                    "an lz4 block of \(input.count) bytes cannot expand to decompressedSize \(decompressedSize) (lz4 expands at most \(lz4MaximumExpansion)x); the stored size or the block is wrong"
            )
        }
    }

    /// Decodes into `output`, exactly the decompressed size; `lz4CheckBeforeDecoding`
    /// has passed.
    static func lz4Decompress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(CompressionError) {
        // SAFETY: LZ4_decompress_safe reads at most input.count bytes and writes at
        // most output.count bytes whatever the input; both counts fit in Int32
        // (lz4CheckBeforeDecoding and checkBeforeDecoding bound them).
        let decoded = LZ4_decompress_safe(
            input.nonNullBase.assumingMemoryBound(to: CChar.self),
            output.nonNullBase.assumingMemoryBound(to: CChar.self),
            Int32(input.count), Int32(output.count))
        guard decoded >= 0 else {
            throw CompressionError(
                code: .corruptInput, codec: .lz4,
                message:
                    "\(input.count) bytes are not a valid lz4 block that decodes to at most \(output.count) bytes: the block is damaged or truncated, or decompressedSize is smaller than the true size; check the block's checksum and stored size",
                cause: "LZ4_decompress_safe returned \(decoded)")
        }
        guard Int(decoded) == output.count else {
            throw CompressionError(
                code: .sizeMismatch, codec: .lz4,
                message:
                    "the lz4 block decoded to \(decoded) bytes but decompressedSize is \(output.count); the stored size or the block is wrong"
            )
        }
    }
}
