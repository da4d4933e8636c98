import CStrataKernels

/// CRC32C (Castagnoli), the checksum of every Strata on-disk record.
///
/// Uses the SSE4.2 `crc32` instruction when the CPU has it, else slicing-by-8.
/// Thread-safe, allocation-free.
public enum CRC32C {
    /// The CRC32C of `bytes`, continuing from `crc` (0 to start).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return strata_crc32c_extend(crc, base, bytes.count)
    }

    /// The CRC32C of a byte array.
    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// Stored checksums are masked (rotated and offset, as LevelDB does) so
    /// that a CRC computed over bytes that themselves contain a CRC does not
    /// collapse to a fixed value, and so an all-zero record never checks out.
    @inlinable
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// Inverse of `mask(_:)`.
    @inlinable
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- 0xA282_EAD8
        return (rotated >> 17) | (rotated << 15)
    }

    /// True when the hardware instruction is in use.
    public static var isHardwareAccelerated: Bool { strata_crc32c_is_hardware() != 0 }
}
