import CZstd

// One zstd frame per buffer, written by `ZSTD_compress`, which records the content
// size in the frame header. Before decoding, the header's size must equal the
// caller's `decompressedSize` and the frame must span the whole input, so trailing
// or concatenated frames are refused. `ZSTD_decompressDCtx` never writes past its
// capacity; a decode error is then a property of the bytes (`.corruptInput`),
// because the only non-data failure, allocating the context, is handled apart.

extension Compression {
    static func zstdLevel(_ level: Int?) throws(CompressionError) -> Int32 {
        let zstdLevel = level ?? defaultZstdLevel
        guard zstdLevels.contains(zstdLevel) else {
            throw zstdError(
                .invalidArgument,
                "zstd level \(zstdLevel) is out of range; use \(zstdLevels.lowerBound)...\(zstdLevels.upperBound) (default \(defaultZstdLevel); 1-3 fast, 19+ slow)"
            )
        }
        return Int32(zstdLevel)
    }

    /// The worst-case compressed size of `count` bytes, `count ≤ maximumUncompressedSize`.
    static func zstdCompressBound(_ count: Int) -> Int {
        ZSTD_compressBound(count)
    }

    static func zstdErrorName(_ result: Int) -> String {
        String(cString: ZSTD_getErrorName(result))
    }

    /// A zstd error with `code` and `message` (what happened and what to do);
    /// with `result`, the zstd error code it comes from, named as the cause.
    static func zstdError(_ code: CompressionError.Code, _ message: String, result: Int? = nil) -> CompressionError {
        CompressionError(code: code, codec: .zstd, message: message, cause: result.map(zstdErrorName))
    }

    /// Compresses into `output`, which holds at least `zstdCompressBound(input.count)`
    /// bytes; returns the number of bytes written.
    static func zstdCompress(
        _ input: UnsafeRawBufferPointer, level: Int32, into output: UnsafeMutableRawBufferPointer
    ) throws(CompressionError) -> Int {
        // SAFETY: zstd reads input.count bytes and writes at most output.count bytes.
        let written = ZSTD_compress(output.nonNullBase, output.count, input.nonNullBase, input.count, level)
        guard ZSTD_isError(written) == 0 else {
            throw zstdError(
                .libraryError,
                "zstd failed to compress \(input.count) bytes at level \(level); if the cause is memory, free memory or use smaller blocks, else report a bug",
                result: written)
        }
        return written
    }

    static func zstdCheckBeforeDecoding(_ input: UnsafeRawBufferPointer, decompressedSize: Int) throws(CompressionError)
    {
        // SAFETY: both functions parse at most input.count bytes.
        let contentSize = ZSTD_getFrameContentSize(input.nonNullBase, input.count)
        if contentSize == ZSTD_CONTENTSIZE_ERROR {
            throw zstdError(
                .corruptInput,
                "\(input.count) bytes do not start with a zstd frame header (wrong magic number or truncated header); the block is damaged or was written with another codec"
            )
        }
        if contentSize != ZSTD_CONTENTSIZE_UNKNOWN && contentSize != UInt64(decompressedSize) {
            throw zstdError(
                .sizeMismatch,
                "the zstd frame declares \(contentSize) bytes of content but decompressedSize is \(decompressedSize); the stored size or the frame is wrong"
            )
        }
        let frameSize = ZSTD_findFrameCompressedSize(input.nonNullBase, input.count)
        if ZSTD_isError(frameSize) != 0 {
            throw zstdError(
                .corruptInput,
                "the zstd frame in \(input.count) bytes is truncated or its block headers are damaged; check the block's checksum and length",
                result: frameSize)
        }
        guard frameSize == input.count else {
            throw zstdError(
                .corruptInput,
                "the zstd frame ends after \(frameSize) of \(input.count) bytes; the \(input.count - frameSize) trailing bytes mean the block length is wrong or the data is not one frame"
            )
        }
    }

    /// Decodes into `output`, exactly the decompressed size; `zstdCheckBeforeDecoding`
    /// has passed.
    static func zstdDecompress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(CompressionError) {
        guard let context = ZSTD_createDCtx() else {
            throw zstdError(.libraryError, "zstd could not allocate a decompression context; free memory and retry")
        }
        defer { ZSTD_freeDCtx(context) }
        // SAFETY: zstd reads at most input.count bytes and writes at most
        // output.count bytes whatever the input.
        let decoded = ZSTD_decompressDCtx(context, output.nonNullBase, output.count, input.nonNullBase, input.count)
        guard ZSTD_isError(decoded) == 0 else {
            throw zstdError(
                .corruptInput,
                "the zstd frame (\(input.count) bytes, \(output.count) expected) fails to decode: the block is damaged; check its checksum",
                result: decoded)
        }
        guard decoded == output.count else {
            throw zstdError(
                .sizeMismatch,
                "the zstd frame decoded to \(decoded) bytes but decompressedSize is \(output.count); the stored size or the frame is wrong"
            )
        }
    }
}
