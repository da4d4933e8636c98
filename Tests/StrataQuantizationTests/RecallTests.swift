import StrataQuantization
import StrataVectorMath
import Testing

/// Recall@10 after rescoring the top 10·oversampling quantized candidates with
/// exact distances, against exact search, on the fixed seeded data sets of
/// TestData.swift (40 queries each). Thresholds are the measured values minus a
/// margin; measured (debug and release agree, the data are fixed):
///   int8 q=1 euclid 128-d ×2: 1.000; q=0.99 ×3: 0.970; q=1 cosine 384-d ×1: 0.985;
///   q=0.99 cosine ×2: 1.000; q=0.99 manhattan ×2: 1.000
///   binary cosine 384-d ×4: 1-bit asymmetric 0.990, 2-bit asymmetric 1.000,
///   2-bit symmetric 0.993, 1-bit symmetric 0.940
///   PQ x8 128-d ×4: euclid 1.000, dot 1.000
@Suite struct RecallTests {
    func check(
        _ method: QuantizationMethod, _ metric: DistanceMetric, _ data: Dataset, oversampling: Int, atLeast: Double
    ) throws {
        let recall = rescoredRecall(try train(method, metric, data), data, metric: metric, oversampling: oversampling)
        print("recall@10 \(method) \(metric) d=\(data.dimension) oversampling \(oversampling): \(recall)")
        #expect(recall >= atLeast, "\(method) \(metric) oversampling \(oversampling)")
    }

    @Test func int8() throws {
        try check(.scalarInt8(quantile: 1), .euclid, mixture128, oversampling: 2, atLeast: 0.98)
        try check(.scalarInt8(quantile: 0.99), .euclid, mixture128, oversampling: 3, atLeast: 0.93)
        try check(.scalarInt8(quantile: 1), .cosine, lowRank384, oversampling: 1, atLeast: 0.97)
        try check(.scalarInt8(quantile: 0.99), .cosine, lowRank384, oversampling: 2, atLeast: 0.98)
        try check(.scalarInt8(quantile: 0.99), .manhattan, mixture128, oversampling: 2, atLeast: 0.95)
    }

    @Test func binary() throws {
        try check(
            .binary(bitsPerDimension: 1, asymmetricQuery: true), .cosine, lowRank384, oversampling: 4, atLeast: 0.96)
        try check(
            .binary(bitsPerDimension: 2, asymmetricQuery: true), .cosine, lowRank384, oversampling: 4, atLeast: 0.98)
        try check(
            .binary(bitsPerDimension: 2, asymmetricQuery: false), .cosine, lowRank384, oversampling: 4, atLeast: 0.96)
        try check(
            .binary(bitsPerDimension: 1, asymmetricQuery: false), .cosine, lowRank384, oversampling: 4, atLeast: 0.9)
        // A 4-bit query (Qdrant's scalar4bits): between the binary and the 8-bit query.
        try check(
            .binary(bitsPerDimension: 1, asymmetricQuery: true, queryBits: 4), .cosine, lowRank384, oversampling: 4,
            atLeast: 0.93)
        try check(
            .binary(bitsPerDimension: 2, asymmetricQuery: true, queryBits: 4), .cosine, lowRank384, oversampling: 4,
            atLeast: 0.96)
        // 1.5 bits (Qdrant's one_and_half_bits): between one bit and two.
        try check(
            .binary(bitsPerDimension: 2, asymmetricQuery: true, pairedUpperPlane: true), .cosine, lowRank384,
            oversampling: 4, atLeast: 0.97)
        try check(
            .binary(bitsPerDimension: 2, asymmetricQuery: false, pairedUpperPlane: true), .cosine, lowRank384,
            oversampling: 4, atLeast: 0.9)
    }

    @Test func product() throws {
        try check(.product(compressionRatio: 8), .euclid, mixture128, oversampling: 4, atLeast: 0.97)
        try check(.product(compressionRatio: 8), .dot, mixture128, oversampling: 4, atLeast: 0.97)
    }
}
