import StrataHNSW
import StrataQuantization
import StrataVectorMath

// libFuzzer entry point for the two vector-index parsers a segment carries:
// the HNSW graph image (docs/format/hnsw-graph.md) and the quantized codes
// (docs/format/quantization.md). Byte 0 picks the parser (even: graph, odd:
// codes); the rest is the section's contents. The expected node/row count and
// dimension are taken from the input's own header, as a segment whose point
// count matches would supply them, so the fuzzer reaches the deeper checks.
//
// A thrown error is a fine outcome; a trap or a broken invariant is a finding:
// - graph: every search returns at most `limit` distinct nodes < node_count,
//   in ascending distance order, never an excluded node;
// - codes: `distances` over every row (and `distance(between:)`) never traps.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] % 2 == 0 { exerciseGraph(bytes) } else { exerciseCodes(bytes) }
    return 0
}

private func word(_ bytes: [UInt8], _ offset: Int) -> Int {
    guard bytes.count >= offset + 4 else { return 0 }
    return (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
}

private func exerciseGraph(_ bytes: [UInt8]) {
    let nodes = word(bytes, 16)
    guard nodes <= 1 << 16, let graph = try? HNSWGraph(copying: bytes, expectedNodeCount: nodes) else { return }
    let dimension = 4
    let rows = (0..<(max(nodes, 1) * dimension)).map { Float(($0 * 7919) % 101) / 10 }
    var excluded = [UInt64](repeating: 0, count: (nodes + 63) / 64 + 1)
    for node in stride(from: 0, to: nodes, by: 3) { excluded[node / 64] |= 1 << UInt64(node % 64) }
    for q in 0..<3 {
        let query = (0..<dimension).map { Float(($0 + q * 13) % 11) }
        rows.withUnsafeBufferPointer { rowBuffer in
            query.withUnsafeBufferPointer { queryBuffer in
                let source = FloatRowsDistance(
                    query: queryBuffer.baseAddress!, rows: rowBuffer.baseAddress!,
                    dimension: dimension, metric: .euclid)
                let limit = 1 + q * 4
                let hits = excluded.withUnsafeBufferPointer {
                    graph.search(source, limit: limit, ef: 16, excluded: q == 2 ? $0.baseAddress : nil)
                }
                precondition(hits.count <= limit, "more hits than the limit")
                precondition(Set(hits.map(\.node)).count == hits.count, "duplicate hits")
                for (i, hit) in hits.enumerated() {
                    precondition(Int(hit.node) < nodes, "hit outside the graph")
                    precondition(q != 2 || hit.node % 3 != 0, "excluded node returned")
                    if i > 0 { precondition(hits[i - 1].distance <= hit.distance, "hits out of order") }
                }
            }
        }
    }
    // The raw row accessors stay in bounds whatever the rows hold.
    for node in 0..<UInt32(min(nodes, 512)) {
        for level in 0...min(graph.upperLevels(of: node), 3) {
            precondition(graph.neighbours(of: node, level: level).count <= 2 * graph.m, "row longer than its capacity")
        }
    }
}

private func exerciseCodes(_ bytes: [UInt8]) {
    guard bytes.count >= 24 else { return }
    let metric: DistanceMetric =
        switch bytes[13] {
        case 1: .cosine
        case 3: .euclid
        case 4: .manhattan
        default: .dot
        }
    let dimension = word(bytes, 16), count = word(bytes, 20)
    guard (1...4096).contains(dimension), count <= 1 << 16 else { return }
    let decoded = bytes.withUnsafeBytes {
        try? QuantizedVectors.decode($0, metric: metric, dimension: dimension, count: count)
    }
    guard let codes = decoded, count > 0 else { return }
    let query = (0..<dimension).map { Float(($0 * 31) % 17) / 8 - 1 }
    let prepared = query.withUnsafeBufferPointer { codes.prepare(query: $0.baseAddress!) }
    let rows = (0..<UInt32(min(count, 256))).map { $0 }
    var out = [Float](repeating: 0, count: rows.count)
    rows.withUnsafeBufferPointer { r in
        out.withUnsafeMutableBufferPointer {
            codes.distances(prepared, rows: r.baseAddress!, count: rows.count, into: $0.baseAddress!)
        }
    }
    _ = codes.distance(between: 0, and: UInt32(count - 1))
}
