import StrataQuantization
import StrataTestSupport
import StrataVectorMath
import Testing

let allMethods: [QuantizationMethod] = [
    .scalarInt8(quantile: 0.99), .scalarInt8(quantile: 1),
    .binary(bitsPerDimension: 1, asymmetricQuery: false), .binary(bitsPerDimension: 1, asymmetricQuery: true),
    .binary(bitsPerDimension: 2, asymmetricQuery: false), .binary(bitsPerDimension: 2, asymmetricQuery: true),
    .binary(bitsPerDimension: 1, asymmetricQuery: true, queryBits: 4),
    .binary(bitsPerDimension: 2, asymmetricQuery: true, queryBits: 4),
    .binary(bitsPerDimension: 2, asymmetricQuery: false, pairedUpperPlane: true),
    .binary(bitsPerDimension: 2, asymmetricQuery: true, pairedUpperPlane: true),
    .binary(bitsPerDimension: 2, asymmetricQuery: true, queryBits: 4, pairedUpperPlane: true),
    .product(compressionRatio: 4), .product(compressionRatio: 8), .product(compressionRatio: 16),
    .product(compressionRatio: 32), .product(compressionRatio: 64),
]

func smallDataset(dimension: Int, count: Int, seed: UInt64) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    return Dataset(
        dimension: dimension, count: count, vectors: gaussians(dimension * count, using: &rng),
        queries: gaussians(dimension * 3, using: &rng))
}

func allDistances(_ q: QuantizedVectors, _ data: Dataset) -> [Float] {
    var result: [Float] = []
    data.queries.withUnsafeBufferPointer { queries in
        for qi in 0..<data.queryCount {
            let prepared = q.prepare(query: queries.baseAddress! + qi * data.dimension)
            for r in 0..<UInt32(data.count) { result.append(q.distance(prepared, to: r)) }
        }
    }
    return result
}

@Suite struct QuantizedVectorsTests {
    @Test func encodeDecodeGivesIdenticalDistances() throws {
        let data = smallDataset(dimension: 37, count: 300, seed: 1)
        for method in allMethods {
            for metric in DistanceMetric.allCases {
                let q = try train(method, metric, data)
                let bytes = q.encoded()
                let decoded = try bytes.withUnsafeBytes {
                    try QuantizedVectors.decode($0, metric: metric, dimension: data.dimension, count: data.count)
                }
                #expect(decoded.method == method && decoded.memoryBytes == q.memoryBytes)
                #expect(decoded.encoded() == bytes, "\(method) \(metric)")
                #expect(allDistances(decoded, data) == allDistances(q, data), "\(method) \(metric)")
            }
        }
    }

    @Test func batchAndSingleDistancesAgree() throws {
        let data = smallDataset(dimension: 70, count: 200, seed: 2)
        let rows = (0..<200).map { UInt32(($0 * 37) % 200) }
        for method in allMethods {
            for metric in DistanceMetric.allCases {
                let q = try train(method, metric, data)
                let prepared = data.queries.withUnsafeBufferPointer { q.prepare(query: $0.baseAddress!) }
                var out = [Float](repeating: 0, count: rows.count)
                q.distances(prepared, rows: rows, count: rows.count, into: &out)
                #expect(out == rows.map { q.distance(prepared, to: $0) }, "\(method) \(metric)")
            }
        }
    }

    @Test func sameSeedGivesIdenticalBytesWhateverTheThreads() throws {
        let data = smallDataset(dimension: 24, count: 700, seed: 3)
        for method in allMethods {
            let one = try train(method, .euclid, data, seed: 99, threads: 1).encoded()
            let two = try train(method, .euclid, data, seed: 99, threads: 2).encoded()
            let five = try train(method, .euclid, data, seed: 99, threads: 5).encoded()
            #expect(one == two && two == five, "\(method)")
        }
        let other = try train(.product(compressionRatio: 8), .euclid, data, seed: 100).encoded()
        #expect(other != (try train(.product(compressionRatio: 8), .euclid, data, seed: 99).encoded()))
    }

    @Test func absentRowsDoNotInfluenceTraining() throws {
        var data = smallDataset(dimension: 16, count: 400, seed: 4)
        var vectors = data.vectors
        for r in stride(from: 0, to: 400, by: 3) { for i in 0..<16 { vectors[r * 16 + i] = 0 } }
        let withZeros = Dataset(dimension: 16, count: 400, vectors: vectors, queries: data.queries)
        // Changing the absent rows' contents must not change the trained codebook or present rows' codes.
        for r in stride(from: 0, to: 400, by: 3) { for i in 0..<16 { vectors[r * 16 + i] = 1000 } }
        data = Dataset(dimension: 16, count: 400, vectors: vectors, queries: data.queries)
        let present: (Int) -> Bool = { $0 % 3 != 0 }
        for method in allMethods {
            let a = try train(method, .dot, withZeros, present: present)
            let b = try train(method, .dot, data, present: present)
            let prepared = (a.prepare(query: data.queries), b.prepare(query: data.queries))
            for r in 0..<UInt32(400) where present(Int(r)) {
                #expect(a.distance(prepared.0, to: r) == b.distance(prepared.1, to: r), "\(method) row \(r)")
            }
        }
    }

    @Test func edgeCasesTrainAndScore() throws {
        for method in allMethods {
            for metric in DistanceMetric.allCases {
                // No rows at all.
                let empty = try QuantizedVectors.train(
                    method: method, metric: metric, dimension: 5, count: 0,
                    vectors: [Float](repeating: 0, count: 1), isPresent: { _ in true }, seed: 1, threads: 2)
                let bytes = empty.encoded()
                _ = try bytes.withUnsafeBytes {
                    try QuantizedVectors.decode($0, metric: metric, dimension: 5, count: 0)
                }
                // Dimension 1, all rows identical, and every row absent.
                let identical = Dataset(
                    dimension: 1, count: 50, vectors: [Float](repeating: 0.25, count: 50), queries: [0.25])
                for present in [{ (_: Int) in true }, { (_: Int) in false }] {
                    let q = try train(method, metric, identical, present: present)
                    let prepared = q.prepare(query: [0.25])
                    let d = (0..<UInt32(50)).map { q.distance(prepared, to: $0) }
                    #expect(d.allSatisfy { $0.isFinite } && Set(d).count == 1, "\(method) \(metric)")
                    #expect(q.distance(between: 0, and: 1).isFinite)
                }
            }
        }
    }

    @Test func invalidArgumentsThrow() {
        let v = [Float](repeating: 0, count: 8)
        for (method, dimension) in [
            (QuantizationMethod.scalarInt8(quantile: 0.3), 4), (.scalarInt8(quantile: .nan), 4),
            (.binary(bitsPerDimension: 3, asymmetricQuery: false), 4), (.product(compressionRatio: 12), 4),
            (.scalarInt8(quantile: 1), 0), (.product(compressionRatio: 8), 70_000),
        ] {
            #expect(throws: QuantizationError.self) {
                _ = try QuantizedVectors.train(
                    method: method, metric: .dot, dimension: dimension, count: 0, vectors: v,
                    isPresent: { _ in true }, seed: 0, threads: 1)
            }
        }
    }

    @Test func rowToRowDistancesTrackTheQueryDistances() throws {
        let data = smallDataset(dimension: 64, count: 300, seed: 5)
        for method in allMethods {
            for metric in DistanceMetric.allCases {
                let q = try train(method, metric, data)
                // Row 0 as a query vs row 0 from its code: both should rank the rows similarly.
                let prepared = data.vectors.withUnsafeBufferPointer { q.prepare(query: $0.baseAddress!) }
                let viaQuery = (1..<UInt32(300)).map { q.distance(prepared, to: $0) }
                let viaCodes = (1..<UInt32(300)).map { q.distance(between: 0, and: $0) }
                #expect(spearman(viaQuery, viaCodes) > 0.7, "\(method) \(metric)")
            }
        }
    }
}

/// Rank correlation of two equally long samples.
func spearman(_ a: [Float], _ b: [Float]) -> Double {
    func ranks(_ x: [Float]) -> [Double] {
        var r = [Double](repeating: 0, count: x.count)
        for (rank, i) in x.indices.sorted(by: { x[$0] < x[$1] }).enumerated() { r[i] = Double(rank) }
        return r
    }
    let ra = ranks(a), rb = ranks(b), n = Double(a.count)
    let d2 = zip(ra, rb).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    return 1 - 6 * d2 / (n * (n * n - 1))
}
