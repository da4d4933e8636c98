import StrataCompression
import StrataTestSupport
import Testing

/// Compresses and decompresses through both decompress forms and checks both
/// give back `data`.
func expectRoundTrip(
    _ data: [UInt8], codec: CompressionCodec, level: Int? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let compressed = try Compression.compress(data, codec: codec, level: level)
    let restored = try Compression.decompress(compressed, codec: codec, decompressedSize: data.count)
    #expect(
        restored == data, "\(codec) level \(String(describing: level)), \(data.count) bytes",
        sourceLocation: sourceLocation)

    var intoBuffer = [UInt8](repeating: 0xEE, count: data.count)
    try compressed.withUnsafeBytes { input in
        try intoBuffer.withUnsafeMutableBytes { output in
            try Compression.decompress(input, codec: codec, into: output)
        }
    }
    #expect(intoBuffer == data, "decompress(into:) with \(codec), \(data.count) bytes", sourceLocation: sourceLocation)
}

@Test(arguments: CompressionCodec.allCases)
func everyCodecRoundTripsEmptyInput(codec: CompressionCodec) throws {
    try expectRoundTrip([], codec: codec)
    let compressed = try Compression.compress([UInt8](), codec: codec)
    #expect(codec == .none ? compressed.isEmpty : !compressed.isEmpty)
}

@Test(arguments: CompressionCodec.allCases)
func everyCodecRoundTripsTinyInputs(codec: CompressionCodec) throws {
    for data: [UInt8] in [[0], [0xFF], [1, 2], Array("hello, strata".utf8), [UInt8](repeating: 7, count: 20)] {
        try expectRoundTrip(data, codec: codec)
    }
}

@Test(arguments: CompressionCodec.allCases)
func everyCodecRoundTripsRandomAndRepetitiveData(codec: CompressionCodec) throws {
    var rng = SeededGenerator(seed: 42)
    for count in [1, 100, 4_096, 65_536, 300_001] {
        try expectRoundTrip(TestData.random(count: count, using: &rng), codec: codec)
        try expectRoundTrip(TestData.repetitive(count: count), codec: codec)
        try expectRoundTrip(TestData.jsonLines(count: count, using: &rng), codec: codec)
    }
}

@Test(arguments: CompressionCodec.allCases)
func everyCodecRoundTripsTenMebibytes(codec: CompressionCodec) throws {
    var rng = SeededGenerator(seed: 10)
    let tenMiB = 10 << 20
    try expectRoundTrip(TestData.mixed(count: tenMiB, using: &rng), codec: codec)
    // All zeros is lz4's densest case (close to its 255x expansion limit).
    try expectRoundTrip([UInt8](repeating: 0, count: tenMiB), codec: codec)
}

@Test(arguments: [CompressionCodec.lz4, .zstd])
func compressionShrinksRepetitiveData(codec: CompressionCodec) throws {
    let repetitive = TestData.repetitive(count: 1 << 20)
    let compressed = try Compression.compress(repetitive, codec: codec)
    #expect(compressed.count * 100 < repetitive.count, "\(codec): \(compressed.count) bytes from \(repetitive.count)")

    var rng = SeededGenerator(seed: 7)
    let json = TestData.jsonLines(count: 1 << 20, using: &rng)
    let compressedJSON = try Compression.compress(json, codec: codec)
    #expect(compressedJSON.count * 2 < json.count, "\(codec): \(compressedJSON.count) bytes from \(json.count) of JSON")
}

@Test func noneCodecStoresBytesUnchanged() throws {
    var rng = SeededGenerator(seed: 3)
    let data = TestData.random(count: 1000, using: &rng)
    #expect(try Compression.compress(data, codec: .none) == data)
    #expect(try Compression.compress(data, codec: .none, level: 99) == data)
}

@Test func randomDataGrowsOnlyByTheCodecsFraming() throws {
    var rng = SeededGenerator(seed: 5)
    let data = TestData.random(count: 65_536, using: &rng)
    for codec in [CompressionCodec.lz4, .zstd] {
        let compressed = try Compression.compress(data, codec: codec)
        #expect(compressed.count <= data.count + data.count / 255 + 64, "\(codec): \(compressed.count)")
    }
}

@Test func zstdRoundTripsAtEveryKindOfLevel() throws {
    var rng = SeededGenerator(seed: 11)
    let json = TestData.jsonLines(count: 200_000, using: &rng)
    for level in [Compression.zstdLevels.lowerBound, -5, 0, 1, 3, 9, 19, Compression.zstdLevels.upperBound] {
        try expectRoundTrip(json, codec: .zstd, level: level)
    }
    let fast = try Compression.compress(json, codec: .zstd, level: 1)
    let strong = try Compression.compress(json, codec: .zstd, level: 19)
    #expect(strong.count < fast.count)
    #expect(try Compression.compress(json, codec: .zstd) == Compression.compress(json, codec: .zstd, level: 3))
}

@Test func lz4RoundTripsAtSeveralAccelerations() throws {
    var rng = SeededGenerator(seed: 12)
    let json = TestData.jsonLines(count: 200_000, using: &rng)
    for acceleration in [1, 2, 8, 100, 65_537, Int.max] {
        try expectRoundTrip(json, codec: .lz4, level: acceleration)
    }
    let fast = try Compression.compress(json, codec: .lz4, level: 100)
    let default1 = try Compression.compress(json, codec: .lz4)
    #expect(default1.count < fast.count)
    #expect(default1 == (try Compression.compress(json, codec: .lz4, level: 1)))
}

@Test func levelsOutOfRangeAreInvalidArguments() {
    for (codec, level) in [
        (CompressionCodec.lz4, 0), (.lz4, -1), (.lz4, Int.min), (.zstd, 23), (.zstd, Int.max), (.zstd, Int.min),
    ] {
        do {
            _ = try Compression.compress([1, 2, 3], codec: codec, level: level)
            Issue.record("\(codec) level \(level) was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.codec == codec)
        }
    }
}

@Test func collectionFormsAcceptSlicesAndNonContiguousCollections() throws {
    var rng = SeededGenerator(seed: 13)
    let data = TestData.jsonLines(count: 10_000, using: &rng)
    for codec in CompressionCodec.allCases {
        let framed = [0xAA, 0xBB] + (try Compression.compress(data[100..<9_000], codec: codec)) + [0xCC]
        let restored = try Compression.decompress(framed[2..<(framed.count - 1)], codec: codec, decompressedSize: 8_900)
        #expect(restored[...] == data[100..<9_000])

        let repeated = repeatElement(UInt8(9), count: 5_000)
        let compressed = try Compression.compress(repeated, codec: codec)
        #expect(try Compression.decompress(compressed, codec: codec, decompressedSize: 5_000) == Array(repeated))
    }
}

@Test func seededRandomBuffersRoundTripWithRandomCodecsAndLevels() throws {
    let seed = testSeed("seededRandomBuffersRoundTripWithRandomCodecsAndLevels")
    var rng = SeededGenerator(seed: seed)
    for iteration in 0..<300 {
        let count =
            Bool.random(using: &rng) ? Int.random(in: 0...300, using: &rng) : Int.random(in: 0...200_000, using: &rng)
        let data = TestData.mixed(count: count, using: &rng)
        let codec = CompressionCodec.allCases.randomElement(using: &rng)!
        let level: Int? =
            switch codec {
            case .none: nil
            case .lz4: [nil, 1, 3, 17].randomElement(using: &rng)!
            case .zstd: [nil, -3, 1, 3, 6].randomElement(using: &rng)!
            }
        let compressed = try Compression.compress(data, codec: codec, level: level)
        let restored = try Compression.decompress(compressed, codec: codec, decompressedSize: data.count)
        #expect(
            restored == data,
            "seed \(seed), iteration \(iteration): \(codec) level \(String(describing: level)), \(count) bytes")
        if restored != data { return }
    }
}
