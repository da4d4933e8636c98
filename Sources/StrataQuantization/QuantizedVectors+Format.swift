import StrataBinary
import StrataVectorMath

// The serialized form: docs/format/quantization.md (versions 1, 2 and 3). Header of 56
// bytes, then the codebook, the per-row corrections and the codes, all
// little-endian, nothing else; the length is exactly determined by the header.
extension QuantizedVectors {
    static let magic: [UInt8] = Array("STRATAQZ".utf8)
    /// Written unless the codes need version 2 (a 4-bit asymmetric query), so
    /// every other file stays readable by builds that know version 1 only.
    static let formatVersion: UInt32 = 1
    /// Version 2 adds flags bit 1: the asymmetric query has 4 bits per dimension.
    static let fourBitQueryVersion: UInt32 = 2
    /// Version 3 adds flags bit 2: 1.5-bit codes (a paired upper plane), with
    /// any query; written only for them.
    static let pairedPlaneVersion: UInt32 = 3
    static let headerLength = 56

    static func methodCode(_ method: QuantizationMethod) -> UInt8 {
        switch method {
        case .scalarInt8: 1
        case .binary: 2
        case .product: 3
        }
    }

    static func metricCode(_ metric: DistanceMetric) -> UInt8 {
        switch metric {
        case .cosine: 1
        case .dot: 2
        case .euclid: 3
        case .manhattan: 4
        }
    }

    /// The serialized form (docs/format/quantization.md). Complexity: O(size).
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(
            capacity: Self.headerLength + 4 * (codebookCount + count * correctionsPerRow) + count * codeStride)
        writer.write(contentsOf: Self.magic)
        if case .binary(_, _, _, true) = method {
            writer.write(Self.pairedPlaneVersion)
        } else if case .binary(_, true, 4, _) = method {
            writer.write(Self.fourBitQueryVersion)
        } else {
            writer.write(Self.formatVersion)
        }
        writer.write(Self.methodCode(method))
        writer.write(Self.metricCode(metric))
        var bits: UInt8 = 0, flags: UInt8 = 0, ratio: UInt32 = 0, quantile: Double = 0
        switch method {
        case .scalarInt8(let q): quantile = q
        case .binary(let b, let asymmetric, let queryBits, let paired):
            bits = UInt8(b)
            flags = (asymmetric ? (queryBits == 4 ? 0b11 : 0b01) : 0) | (paired ? 0b100 : 0)
        case .product(let r): ratio = UInt32(r)
        }
        writer.write(bits)
        writer.write(flags)
        writer.write(UInt32(dimension))
        writer.write(UInt32(count))
        writer.write(ratio)
        writer.write(UInt32(codeStride))
        writer.write(UInt32(correctionsPerRow))
        writer.write(UInt32(0))
        writer.write(quantile)
        writer.write(UInt64(codebookCount))
        writer.write(floats: UnsafeBufferPointer(start: codebook, count: codebookCount))
        writer.write(floats: UnsafeBufferPointer(start: corrections, count: count * correctionsPerRow))
        writer.write(contentsOf: UnsafeRawBufferPointer(start: codes, count: count * codeStride))
        return writer.bytes
    }

    /// Validates `bytes` (made by `encoded()`) against the expected metric,
    /// dimension and count, and copies everything into memory this object owns.
    /// - Throws: `corruption` for any malformed, truncated, inconsistent or
    ///   non-finite content or a mismatch with the arguments; `unsupportedVersion`
    ///   for a newer format version. Never traps on hostile bytes.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, metric: DistanceMetric, dimension: Int,
        count: Int
    ) throws -> QuantizedVectors {
        func corrupt(_ message: String) -> QuantizationError {
            QuantizationError(.corruption, "quantized codes: \(message); retrain from the full vectors")
        }
        var reader = ByteReader(bytes)
        do {
            guard bytes.count >= headerLength else {
                throw corrupt("\(bytes.count) bytes is shorter than the \(headerLength)-byte header")
            }
            guard Array(try reader.readBytes(8)) == magic else { throw corrupt("bad magic (not quantized codes)") }
            let version = try reader.readUInt32()
            guard version == formatVersion || version == fourBitQueryVersion || version == pairedPlaneVersion else {
                throw QuantizationError(
                    .unsupportedVersion,
                    "quantized codes format version \(version) is not supported (this build reads 1 to \(pairedPlaneVersion)); upgrade Strata or retrain"
                )
            }
            let methodByte = try reader.readUInt8(), metricByte = try reader.readUInt8()
            let bits = Int(try reader.readUInt8()), flags = try reader.readUInt8()
            let storedDimension = Int(try reader.readUInt32()), storedCount = Int(try reader.readUInt32())
            let ratio = Int(try reader.readUInt32())
            let stride = Int(try reader.readUInt32()), correctionsPerRow = Int(try reader.readUInt32())
            let reserved = try reader.readUInt32()
            let quantile = try reader.readDouble()
            let codebookCount = try reader.readUInt64()

            guard metricByte == metricCode(metric) else {
                throw corrupt("metric code \(metricByte) does not match the expected \(metric.rawValue)")
            }
            guard storedDimension == dimension, dimension >= 1, dimension <= maximumDimension else {
                throw corrupt("dimension \(storedDimension) does not match the expected \(dimension)")
            }
            guard storedCount == count else {
                throw corrupt("row count \(storedCount) does not match the expected \(count)")
            }
            guard reserved == 0 else { throw corrupt("reserved header field is \(reserved), not 0") }
            let method: QuantizationMethod
            switch methodByte {
            case 1:
                guard version == formatVersion else { throw corrupt("scalar codes in format version \(version)") }
                guard bits == 0, flags == 0, ratio == 0 else {
                    throw corrupt("scalar int8 header has non-zero bits/flags/ratio")
                }
                method = .scalarInt8(quantile: quantile)
            case 2:
                // Version 2 only: flags 0b11, an asymmetric query of 4 bits (bit 1 needs bit 0).
                // Version 3 only: flags bit 2 (1.5 bits, with 2 bits), with any query.
                let allowed: Set<UInt8> =
                    switch version {
                    case fourBitQueryVersion: [0b11]
                    case pairedPlaneVersion: [0b100, 0b101, 0b111]
                    default: [0, 0b01]
                    }
                guard allowed.contains(flags), ratio == 0, quantile.bitPattern == 0 else {
                    throw corrupt(
                        "binary header has flags \(flags), unknown for format version \(version), or non-zero ratio/quantile"
                    )
                }
                method = .binary(
                    bitsPerDimension: bits, asymmetricQuery: flags & 1 == 1, queryBits: flags & 0b10 != 0 ? 4 : 8,
                    pairedUpperPlane: flags & 0b100 != 0)
            case 3:
                guard version == formatVersion else { throw corrupt("product codes in format version \(version)") }
                guard bits == 0, flags == 0, quantile.bitPattern == 0 else {
                    throw corrupt("product header has non-zero bits/flags/quantile")
                }
                method = .product(compressionRatio: ratio)
            default:
                throw corrupt("unknown method code \(methodByte)")
            }
            do { try method.validate() } catch { throw corrupt("invalid parameters: \(error.message)") }
            let shape = Shape(method: method, metric: metric, dimension: dimension)
            guard stride == shape.codeStride, correctionsPerRow == shape.correctionsPerRow,
                codebookCount == UInt64(shape.codebookCount)
            else {
                throw corrupt(
                    "code stride \(stride), corrections \(correctionsPerRow) or codebook size \(codebookCount) disagree with \(method) at dimension \(dimension)"
                )
            }
            // All factors are < 2^32 and small multiples, so these products fit in Int.
            let expected = headerLength + 4 * shape.codebookCount + 4 * count * correctionsPerRow + count * stride
            guard bytes.count == expected else { throw corrupt("length \(bytes.count) bytes, expected \(expected)") }

            let codebook = allocateFloats(shape.codebookCount)
            let corrections = allocateFloats(count * correctionsPerRow)
            let codes = allocateCodes(count * stride)
            var owned = true
            defer {
                if owned {
                    codebook.deallocate()
                    corrections.deallocate()
                    codes.deallocate()
                }
            }
            let codebookBytes = try reader.readBytes(4 * shape.codebookCount)
            UnsafeMutableRawBufferPointer(start: codebook, count: 4 * shape.codebookCount).copyMemory(
                from: codebookBytes)
            let correctionBytes = try reader.readBytes(4 * count * correctionsPerRow)
            UnsafeMutableRawBufferPointer(start: corrections, count: 4 * count * correctionsPerRow).copyMemory(
                from: correctionBytes)
            let codeBytes = try reader.readBytes(count * stride)
            UnsafeMutableRawBufferPointer(start: codes, count: count * stride).copyMemory(from: codeBytes)

            for i in 0..<shape.codebookCount where !codebook[i].isFinite {
                throw corrupt("codebook value \(i) is not finite")
            }
            for i in 0..<(count * correctionsPerRow) where !corrections[i].isFinite {
                throw corrupt("correction \(i) is not finite")
            }
            switch method {
            case .scalarInt8:
                guard codebook[1] > 0 else { throw corrupt("scalar step \(codebook[1]) is not positive") }
            case .binary:
                for i in 0..<dimension where codebook[dimension + i] < 0 {
                    throw corrupt("deviation of dimension \(i) is negative")
                }
                // Each plane's last word: no bits at or past its length (the
                // dimension; a paired upper plane's, the number of pairs).
                let words = codes.assumingMemoryBound(to: UInt64.self)
                let wordsPerRow = stride / 8
                var planes = [(start: 0, words: shape.words, bits: dimension)]
                if shape.planes == 2 {
                    planes.append(
                        (shape.words, shape.upperWords, shape.paired ? (dimension + 1) / 2 : dimension))
                }
                for plane in planes where plane.bits % 64 != 0 {
                    let padding = ~((UInt64(1) << UInt64(plane.bits % 64)) - 1)
                    for row in 0..<count {
                        let word = words[row * wordsPerRow + plane.start + plane.words - 1]
                        if UInt64(littleEndian: word) & padding != 0 {
                            throw corrupt("row \(row) has bits set beyond the dimension")
                        }
                    }
                }
            case .product:
                break
            }
            owned = false
            return QuantizedVectors(
                method: method, metric: metric, dimension: dimension, count: count,
                codes: codes, corrections: corrections, codebook: codebook)
        } catch let error as FormatError {
            throw corrupt(error.message)
        }
    }
}
