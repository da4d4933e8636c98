internal import CStrataKernels

/// How a dense vector's elements are stored (Qdrant's `datatype`).
///
/// Vectors are given and returned as floats. A collection rounds every value
/// it is given to its datatype before the write is logged, so what is stored,
/// searched and returned is the rounded vector, everywhere (the mutable segment
/// keeps the rounded values as floats; immutable segments store the compact
/// elements, docs/format/segment.md):
///
/// | datatype   | bytes | a given value becomes |
/// |------------|------:|-----------------------|
/// | `float32`  | 4 | itself |
/// | `float16`  | 2 | the nearest IEEE binary16 value (ties to even; beyond ±65504 ±infinity, which is refused) |
/// | `uint8`    | 1 | truncated toward zero and clamped to 0…255 (Rust's `x as u8`, as Qdrant) |
///
/// Queries are rounded the same way. Under Cosine, `float16` vectors are
/// normalised first and then rounded; `uint8` vectors are not normalised (a byte
/// cannot hold a unit vector's components) and are scored by cosine over the
/// raw bytes, 0 for a zero vector, as Qdrant does.
///
/// The raw values are Qdrant's names and are persisted (`Codable`): never rename them.
public enum VectorDatatype: String, Sendable, CaseIterable, Codable {
    case float32
    case float16
    case uint8

    /// Bytes of one element as stored in a segment.
    public var bytesPerElement: Int {
        switch self {
        case .float32: 4
        case .float16: 2
        case .uint8: 1
        }
    }

    /// The element type code of segment format version 2 (docs/format/segment.md).
    public var formatCode: UInt32 {
        switch self {
        case .float32: 0
        case .float16: 1
        case .uint8: 2
        }
    }

    public init?(formatCode: UInt32) {
        guard let found = Self.allCases.first(where: { $0.formatCode == formatCode }) else { return nil }
        self = found
    }

    /// Qdrant's spelling in the API (`Float32`, `float16`, … are accepted case-insensitively).
    public init?(apiName: String) { self.init(rawValue: apiName.lowercased()) }

    /// Whether Cosine is scored over normalised stored vectors (as a dot
    /// product) rather than over raw ones.
    public func normalizesForCosine() -> Bool { self != .uint8 }

    /// `vector` with every value rounded to this datatype (see the table above).
    public func rounded(_ vector: [Float]) -> [Float] {
        switch self {
        case .float32:
            return vector
        case .float16:
            var bits = [UInt16](repeating: 0, count: vector.count)
            var result = [Float](repeating: 0, count: vector.count)
            strata_f32_to_f16(vector, &bits, vector.count)
            strata_f16_to_f32(bits, &result, vector.count)
            return result
        case .uint8:
            return vector.map { $0.isNaN ? 0 : min(max($0.rounded(.towardZero), 0), 255) }
        }
    }

    /// The stored little-endian bytes of `vector` (whose values this datatype
    /// represents exactly, see `rounded`).
    public func encode(_ vector: UnsafeBufferPointer<Float>, into bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: vector.count * bytesPerElement))
        bytes.withUnsafeMutableBytes { raw in
            let out = raw.baseAddress! + start
            switch self {
            case .float32:
                for (i, value) in vector.enumerated() {
                    out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            case .float16:
                var bits = [UInt16](repeating: 0, count: vector.count)
                strata_f32_to_f16(vector.baseAddress!, &bits, vector.count)
                for (i, value) in bits.enumerated() {
                    out.storeBytes(of: value.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            case .uint8:
                for (i, value) in vector.enumerated() {
                    out.storeBytes(
                        of: UInt8(value.isNaN ? 0 : min(max(value, 0), 255)), toByteOffset: i, as: UInt8.self)
                }
            }
        }
    }

    /// Decodes `count` stored elements at `elements` (this datatype's layout,
    /// aligned for it) into `out`.
    public func decode(_ elements: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32:
            out.update(from: elements.assumingMemoryBound(to: Float.self), count: count)
        case .float16:
            strata_f16_to_f32(elements.assumingMemoryBound(to: UInt16.self), out, count)
        case .uint8:
            strata_u8_to_f32(elements.assumingMemoryBound(to: UInt8.self), out, count)
        }
    }

    /// `count` stored elements at `elements` as floats.
    public func decode(_ elements: UnsafeRawPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            decode(elements, count: count, into: buffer.baseAddress!)
            initialized = count
        }
    }
}
