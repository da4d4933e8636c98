/// How vectors are compressed into codes kept in RAM (Qdrant's `quantization_config`).
///
/// | method | code bytes per vector (dimension d) | distance kernel |
/// |---|---|---|
/// | `.scalarInt8` | d | u8 × i8 integer dot product (VNNI), or u8 L1 for `.manhattan` |
/// | `.binary(1, _)` | ⌈d/64⌉·8 | Hamming (symmetric) or 8 bit-plane popcounts (asymmetric) |
/// | `.binary(2, _)` | 2·⌈d/64⌉·8 | bit-plane popcounts |
/// | `.binary(2, _, pairedUpperPlane: true)` | (⌈d/64⌉ + ⌈⌈d/2⌉/64⌉)·8 (1.5 bits) | bit-plane popcounts |
/// | `.product(r)` | ⌈d / (r/4)⌉ | per-query lookup table, one load per code byte |
///
/// The serialized form of each is specified in `docs/format/quantization.md`.
public enum QuantizationMethod: Sendable, Equatable {
    /// One unsigned byte per dimension over a clipping range [lo, hi] chosen so that
    /// the central `quantile` fraction of the training values falls inside it.
    /// `quantile` in 0.5...1; 1 keeps the full range (min...max).
    case scalarInt8(quantile: Double)
    /// `bitsPerDimension` (1 or 2) bits per dimension after centring on the
    /// per-dimension mean. With `asymmetricQuery` the query stays at
    /// `queryBits` (8 or 4) bits per dimension (Qdrant's `query_encoding:
    /// scalar8bits` / `scalar4bits`), which is slower but much more accurate;
    /// otherwise it is encoded like the stored vectors. With
    /// `pairedUpperPlane` (2 bits only) the upper plane keeps one bit per pair
    /// of dimensions, the OR of the pair's: 1.5 bits per dimension (Qdrant's
    /// `one_and_half_bits`).
    case binary(bitsPerDimension: Int, asymmetricQuery: Bool, queryBits: Int = 8, pairedUpperPlane: Bool = false)
    /// Product quantization: `compressionRatio` (4, 8, 16, 32 or 64) float bytes
    /// per code byte, so each sub-space spans `compressionRatio / 4` dimensions and
    /// is encoded as the index of one of 256 k-means centroids.
    case product(compressionRatio: Int)
}

extension QuantizationMethod: CustomStringConvertible {
    public var description: String {
        switch self {
        case .scalarInt8(let quantile): "scalar int8 (quantile \(quantile))"
        case .binary(let bits, let asymmetric, let queryBits, let paired):
            "binary \(paired ? "1.5" : "\(bits)") bit\(bits == 1 ? "" : "s")\(asymmetric ? " (asymmetric \(queryBits)-bit query)" : "")"
        case .product(let ratio): "product x\(ratio)"
        }
    }

    /// Throws `invalidArgument` unless the parameters are in range.
    func validate() throws(QuantizationError) {
        switch self {
        case .scalarInt8(let quantile):
            guard quantile.isFinite, quantile >= 0.5, quantile <= 1 else {
                throw QuantizationError(
                    .invalidArgument,
                    "scalar int8 quantile \(quantile) is outside 0.5...1; use e.g. 0.99, or 1 for the full range")
            }
        case .binary(let bits, _, let queryBits, let paired):
            guard bits == 1 || bits == 2 else {
                throw QuantizationError(
                    .invalidArgument, "binary quantization supports 1 or 2 bits per dimension, not \(bits)")
            }
            guard !paired || bits == 2 else {
                throw QuantizationError(.invalidArgument, "a paired upper plane (1.5 bits) needs 2 bit planes")
            }
            guard queryBits == 8 || queryBits == 4 else {
                throw QuantizationError(
                    .invalidArgument, "an asymmetric binary query has 8 or 4 bits per dimension, not \(queryBits)")
            }
        case .product(let ratio):
            guard [4, 8, 16, 32, 64].contains(ratio) else {
                throw QuantizationError(
                    .invalidArgument, "product quantization compression ratio \(ratio) is not one of 4, 8, 16, 32, 64")
            }
        }
    }
}
