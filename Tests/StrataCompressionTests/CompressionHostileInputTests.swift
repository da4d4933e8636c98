import StrataCompression
import StrataTestSupport
import Testing

/// The outcome of decompressing untrusted bytes into a buffer fenced by guard
/// bytes on both sides; records an issue if anything outside the buffer changed.
func decompressFenced(
    _ input: [UInt8], codec: CompressionCodec, decompressedSize: Int,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Result<[UInt8], CompressionError> {
    let fence = 64
    let guardByte: UInt8 = 0xA5
    var region = [UInt8](repeating: guardByte, count: fence + decompressedSize + fence)
    let outcome = input.withUnsafeBytes { inputBytes in
        region.withUnsafeMutableBytes { regionBytes in
            let output = UnsafeMutableRawBufferPointer(rebasing: regionBytes[fence..<(fence + decompressedSize)])
            return Result { () throws(CompressionError) in
                try Compression.decompress(inputBytes, codec: codec, into: output)
            }
        }
    }
    let fencesIntact =
        region[..<fence].allSatisfy { $0 == guardByte }
        && region[(fence + decompressedSize)...].allSatisfy { $0 == guardByte }
    #expect(fencesIntact, "\(codec) wrote outside its output buffer", sourceLocation: sourceLocation)
    return outcome.map { Array(region[fence..<(fence + decompressedSize)]) }
}

/// The error from decompressing into a fresh array, or nil if it succeeded.
func decompressionError(_ input: [UInt8], codec: CompressionCodec, decompressedSize: Int) -> CompressionError? {
    do {
        _ = try Compression.decompress(input, codec: codec, decompressedSize: decompressedSize)
        return nil
    } catch {
        return error
    }
}

private func sampleData() -> [UInt8] {
    var rng = SeededGenerator(seed: 99)
    return TestData.jsonLines(count: 3_000, using: &rng) + TestData.random(count: 500, using: &rng)
        + TestData.repetitive(count: 1_500)
}

@Test(arguments: CompressionCodec.allCases)
func everyTruncatedFrameIsRejected(codec: CompressionCodec) throws {
    let data = sampleData()
    let compressed = try Compression.compress(data, codec: codec)
    for length in 0..<compressed.count {
        let outcome = decompressFenced(Array(compressed[..<length]), codec: codec, decompressedSize: data.count)
        guard case .failure(let error) = outcome else {
            Issue.record("\(codec): a \(length)-byte prefix of \(compressed.count) decoded")
            continue
        }
        #expect([.corruptInput, .sizeMismatch].contains(error.code), "\(codec) prefix \(length): \(error)")
    }
}

@Test(arguments: [CompressionCodec.lz4, .zstd])
func flippedBitsAreRejectedOrDecodeToTheStoredSizeWithoutCrashing(codec: CompressionCodec) throws {
    // Without a checksum, a flip inside a literal decodes to wrong bytes of the
    // right size; detecting that is the enclosing block's CRC32C's job. What the
    // codec layer guarantees is a typed error or exactly decompressedSize bytes,
    // and no access outside either buffer.
    let data = sampleData()
    let compressed = try Compression.compress(data, codec: codec)
    var rejected = 0
    var decodedWrongly = 0
    for bit in 0..<(compressed.count * 8) {
        var damaged = compressed
        damaged[bit / 8] ^= 1 << (bit % 8)
        switch decompressFenced(damaged, codec: codec, decompressedSize: data.count) {
        case .failure(let error):
            #expect([.corruptInput, .sizeMismatch].contains(error.code), "\(codec) bit \(bit): \(error)")
            rejected += 1
        case .success(let output):
            #expect(output.count == data.count)
            if output != data { decodedWrongly += 1 }
        }
    }
    print(
        "\(codec): of \(compressed.count * 8) single-bit flips, \(rejected) rejected, \(decodedWrongly) decoded to different bytes"
    )
    #expect(rejected > 0)
}

@Test(arguments: CompressionCodec.allCases)
func randomBytesAreRejectedOrDecodeToTheStoredSize(codec: CompressionCodec) {
    let seed = testSeed("randomBytesAreRejectedOrDecodeToTheStoredSize(\(codec))")
    var rng = SeededGenerator(seed: seed)
    var accepted = 0
    for _ in 0..<3_000 {
        var garbage = TestData.random(count: Int.random(in: 0...600, using: &rng), using: &rng)
        // Half the time, start with the zstd magic number so zstd parses further.
        if codec == .zstd && garbage.count >= 4 && Bool.random(using: &rng) {
            garbage.replaceSubrange(0..<4, with: [0x28, 0xB5, 0x2F, 0xFD])
        }
        let size = Int.random(in: 0...8_192, using: &rng)
        switch decompressFenced(garbage, codec: codec, decompressedSize: size) {
        case .failure(let error):
            #expect([.corruptInput, .sizeMismatch].contains(error.code), "seed \(seed): \(error)")
        case .success(let output):
            #expect(output.count == size, "seed \(seed)")
            accepted += 1
        }
    }
    if codec == .none { return }
    // A random frame is essentially never a valid stream of a random size.
    #expect(accepted <= 3, "seed \(seed): \(accepted) random inputs decoded")
}

@Test(arguments: CompressionCodec.allCases)
func understatedDecompressedSizeIsRejected(codec: CompressionCodec) throws {
    let data = sampleData()
    let compressed = try Compression.compress(data, codec: codec)
    // lz4's block format has no length, so a short output looks like a malformed block.
    let expected: CompressionError.Code = codec == .lz4 ? .corruptInput : .sizeMismatch
    for size in [0, 1, data.count / 2, data.count - 1] {
        let error = decompressionError(compressed, codec: codec, decompressedSize: size)
        #expect(error?.code == expected, "\(codec) with size \(size): \(String(describing: error))")
        #expect(error?.codec == codec)
        if case .success = decompressFenced(compressed, codec: codec, decompressedSize: size) {
            Issue.record("\(codec) decoded into a \(size)-byte buffer")
        }
    }
}

@Test(arguments: CompressionCodec.allCases)
func overstatedDecompressedSizeIsRejected(codec: CompressionCodec) throws {
    let data = sampleData()
    let compressed = try Compression.compress(data, codec: codec)
    for size in [data.count + 1, data.count * 2, 300 * compressed.count, Compression.maximumUncompressedSize] {
        let error = decompressionError(compressed, codec: codec, decompressedSize: size)
        #expect(error?.code == .sizeMismatch, "\(codec) with size \(size): \(String(describing: error))")
    }
}

@Test(arguments: CompressionCodec.allCases)
func sizesOutsideTheLimitsAreRefusedBeforeAllocating(codec: CompressionCodec) throws {
    let compressed = try Compression.compress([1, 2, 3], codec: codec)
    #expect(decompressionError(compressed, codec: codec, decompressedSize: -1)?.code == .invalidArgument)
    #expect(decompressionError(compressed, codec: codec, decompressedSize: Int.min)?.code == .invalidArgument)
    #expect(
        decompressionError(compressed, codec: codec, decompressedSize: Compression.maximumUncompressedSize + 1)?.code
            == .inputTooLarge)
    #expect(decompressionError(compressed, codec: codec, decompressedSize: Int.max)?.code == .inputTooLarge)
}

@Test(arguments: CompressionCodec.allCases)
func inputAboveTheLZ4LimitIsAnErrorNotACrash(codec: CompressionCodec) throws {
    #expect(Compression.maximumUncompressedSize == 0x7E00_0000)
    // The size check comes before any read, so a buffer that only claims to be
    // this large is enough (its bytes past the first are never touched).
    let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
    defer { byte.deallocate() }
    let claimed = UnsafeRawBufferPointer(start: byte, count: Compression.maximumUncompressedSize + 1)
    do {
        _ = try Compression.compress(claimed, codec: codec)
        Issue.record("\(codec) accepted \(claimed.count) bytes")
    } catch {
        #expect(error.code == .inputTooLarge)
        #expect(error.message.contains("split"))
    }
}

@Test func zstdRefusesTrailingBytesAndConcatenatedFrames() throws {
    let data = sampleData()
    let frame = try Compression.compress(data, codec: .zstd)
    for damaged in [frame + [0], frame + frame] {
        let error = decompressionError(damaged, codec: .zstd, decompressedSize: data.count)
        #expect(error?.code == .corruptInput)
        #expect(error?.message.contains("trailing bytes") == true, "\(String(describing: error))")
    }
    #expect(decompressionError(frame + frame, codec: .zstd, decompressedSize: 2 * data.count)?.code == .sizeMismatch)
}

@Test func lz4AndZstdDoNotAcceptEachOthersOutput() throws {
    let data = sampleData()
    let lz4 = try Compression.compress(data, codec: .lz4)
    let zstd = try Compression.compress(data, codec: .zstd)
    #expect(decompressionError(lz4, codec: .zstd, decompressedSize: data.count)?.code == .corruptInput)
    #expect(decompressionError(zstd, codec: .lz4, decompressedSize: data.count) != nil)
}

@Test func libraryErrorsCarryTheLibrarysNameAsCause() throws {
    let data = sampleData()
    var frame = try Compression.compress(data, codec: .zstd)
    frame.removeLast(frame.count / 2)
    let error = try #require(decompressionError(frame, codec: .zstd, decompressedSize: data.count))
    #expect(error.code == .corruptInput)
    #expect(error.cause?.isEmpty == false)
    #expect(error.description.contains(error.cause ?? "<none>"))
    #expect(error.description.contains("zstd"))
}
