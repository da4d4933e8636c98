import StrataHNSW
import StrataQuantization
import StrataVectorMath

/// Graph search over quantized codes kept in RAM.
struct QuantizedDistance: HNSWDistanceSource {
    let codes: QuantizedVectors
    let query: QuantizedQuery

    func distances(_ nodes: UnsafePointer<UInt32>, count: Int, into out: UnsafeMutablePointer<Float>) {
        codes.distances(query, rows: nodes, count: count, into: out)
    }
}

extension QuantizationConfig {
    /// The quantizer that implements this config.
    var method: QuantizationMethod {
        switch self {
        case .scalar(let quantile, _): .scalarInt8(quantile: quantile ?? 1)
        case .binary(let encoding, let queryEncoding, _):
            .binary(
                bitsPerDimension: encoding == .oneBit ? 1 : 2,
                asymmetricQuery: queryEncoding == .scalar8Bits || queryEncoding == .scalar4Bits,
                queryBits: queryEncoding == .scalar4Bits ? 4 : 8, pairedUpperPlane: encoding == .oneAndHalfBits)
        case .product(let compression, _): .product(compressionRatio: compression.ratio)
        }
    }
}
