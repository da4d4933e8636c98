import Foundation
import Strata
import StrataTestSupport
import Testing

/// The README's embedded example, kept compiling and passing.
@Test func readmeEmbeddedExampleWorks() async throws {
    let dir = TemporaryDirectory()
    let db = try Database.open(at: dir.path)
    let docs = try db.createCollection("docs", config: CollectionConfig(size: 4, distance: .cosine))
    try await docs.upsert([
        PointStruct(id: 1, vector: [0.1, 0.9, 0.0, 0.2], payload: ["title": "Hello", "year": 2024]),
        PointStruct(id: .uuid(UUID()), vector: [0.5, 0.5, 0.5, 0.5]),
    ])
    let hits = try docs.search([0.1, 0.8, 0.1, 0.2], limit: 10, withPayload: true)
    #expect(hits.first?.id == 1)
    #expect(hits.first?.payload?["title"] == "Hello")
    #expect(hits.count == 2)
    let big = try db.createCollection(
        "big",
        config: CollectionConfig(
            size: 384, distance: .cosine, quantizationConfig: .scalar(quantile: nil, alwaysRam: true)))
    let none = try big.search(
        [Float](repeating: 0.1, count: 384), limit: 10,
        params: SearchParams(hnswEf: 128, quantization: QuantizationSearchParams(oversampling: 2)))
    #expect(none.isEmpty)
    db.close()
}
