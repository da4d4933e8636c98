/// Per-query state prepared by ``QuantizedVectors/prepare(query:)``: the query
/// in the codes' representation (int8 values, bit planes or a lookup table) and
/// the constants that turn a kernel's integer result into a distance.
///
/// Lifetime: owns its buffers; valid only with the QuantizedVectors that made it.
/// Thread safety: not thread-safe (its scratch space is reused by `distances`);
/// use one per thread. Reusable for any number of distance calls.
public final class QuantizedQuery {
    /// Identity of the QuantizedVectors that prepared it.
    let owner: ObjectIdentifier
    /// int8 query (scalar), u8 grid query (scalar manhattan) or bit planes (binary), 64-byte aligned.
    let bytes: UnsafeMutableRawPointer
    /// Lookup table (product): subspaces × 256 floats.
    let table: UnsafeMutablePointer<Float>
    /// Integer results of one block of `distances`.
    let scratch: UnsafeMutableRawPointer
    static let scratchRows = 64

    /// Query bit planes (binary) and whether binary scoring uses Hamming distance.
    var queryPlanes = 0
    var usesHamming = false
    /// distance constants, meaning per method (see QuantizedVectors+Distance.swift).
    var scale: Float = 0
    var offset: Float = 0
    var constant: Float = 0

    init(owner: ObjectIdentifier, byteCount: Int, tableCount: Int) {
        self.owner = owner
        bytes = .allocate(byteCount: max(byteCount, 1), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        table = .allocate(capacity: max(tableCount, 1))
        table.initialize(repeating: 0, count: max(tableCount, 1))
        scratch = .allocate(byteCount: 8 * Self.scratchRows, alignment: 64)
    }

    deinit {
        bytes.deallocate()
        table.deallocate()
        scratch.deallocate()
    }
}
