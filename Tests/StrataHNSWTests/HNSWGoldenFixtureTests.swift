import Foundation
import StrataHNSW
import Testing

/// The on-disk graph image (docs/format/hnsw-graph.md) is pinned by a fixture:
/// 40 two-dimensional points (exact binary fractions, no libm), Euclid, m 2, ef_construct 8, seed 7.
/// Building them again must give these exact bytes (format and build are stable
/// across releases; a deliberate change regenerates the fixture with
/// STRATA_WRITE_HNSW_FIXTURE=1 and says so in the commit), and reading the
/// fixture by the spec's offsets by hand must agree with `HNSWGraph`.
@Suite struct HNSWGoldenFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hnsw-v1-golden.bin").path

    static func rows() -> [Float] {
        (0..<40).flatMap { i -> [Float] in [Float((i * 37) % 41) / 4, Float((i * 17) % 29) / 8] }
    }

    static func build() -> [UInt8] {
        rows().withUnsafeBufferPointer {
            try! HNSWBuilder.build(  // never asked to stop: cannot throw
                rows: $0.baseAddress!, dimension: 2, count: 40, metric: .euclid, isPresent: { $0 != 13 },
                parameters: HNSWBuildParameters(m: 2, efConstruct: 8, seed: 7, threads: 2))
        }
    }

    @Test func buildingTheFixtureInputGivesTheFixtureBytes() throws {
        let built = Self.build()
        if ProcessInfo.processInfo.environment["STRATA_WRITE_HNSW_FIXTURE"] == "1" {
            try Data(built).write(to: URL(fileURLWithPath: Self.fixture))
        }
        let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
        #expect(built == stored)
    }

    @Test func theSpecsOffsetsReadTheFixture() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        #expect(Array(bytes[0..<8]) == Array("STRATHNS".utf8))
        #expect(u32(8) == 1 && u32(12) == 0)
        let n = u32(16), m = u32(20), m0 = u32(24), entry = u32(28), maxLevel = u32(32)
        let upperCount = u32(36), upperRows = u32(40), inserted = u32(44)
        #expect(n == 40 && m == 2 && m0 == 4 && inserted == 39)
        #expect(bytes[48..<64].allSatisfy { $0 == 0 })
        // Length = 64 + 4·(n·(m0+1) + n + U + 1 + R·(m+1)).
        #expect(bytes.count == 64 + 4 * (n * (m0 + 1) + n + upperCount + 1 + upperRows * (m + 1)))
        let graph = try HNSWGraph(copying: bytes, expectedNodeCount: n)
        #expect(graph.entryPoint == UInt32(entry) && graph.maxLevel == maxLevel)
        let level0 = 64, upperSlot = level0 + 4 * n * (m0 + 1), upperStart = upperSlot + 4 * n
        let upperLinks = upperStart + 4 * (upperCount + 1)
        for node in 0..<n {
            // Level 0: a count word, then m0 slots.
            let row = level0 + 4 * node * (m0 + 1)
            let count = u32(row)
            #expect(count <= m0)
            #expect(graph.neighbours(of: UInt32(node), level: 0) == (0..<count).map { UInt32(u32(row + 4 * (1 + $0))) })
            if node == 13 { #expect(count == 0) }  // not present: no links
            // Upper levels through upper_slot / upper_start.
            let slot = u32(upperSlot + 4 * node)
            if slot == 0xFFFF_FFFF {
                #expect(graph.upperLevels(of: UInt32(node)) == 0)
                continue
            }
            let first = u32(upperStart + 4 * slot), levels = u32(upperStart + 4 * (slot + 1)) - first
            #expect(graph.upperLevels(of: UInt32(node)) == levels)
            for level in 1...levels {
                let upper = upperLinks + 4 * (first + level - 1) * (m + 1)
                #expect(
                    graph.neighbours(of: UInt32(node), level: level)
                        == (0..<u32(upper)).map { UInt32(u32(upper + 4 * (1 + $0))) })
            }
        }
    }
}
