import Foundation
import StrataCompression
import Testing

@Test func codecRawValuesAreStableOnDisk() {
    #expect(CompressionCodec.none.rawValue == 0)
    #expect(CompressionCodec.lz4.rawValue == 1)
    #expect(CompressionCodec.zstd.rawValue == 2)
    #expect(CompressionCodec.allCases == [.none, .lz4, .zstd])
    #expect(CompressionCodec(rawValue: 3) == nil)
}

@Test(arguments: CompressionCodec.allCases)
func codecNameParsesBackToTheCodec(codec: CompressionCodec) {
    #expect(CompressionCodec(name: codec.name) == codec)
    #expect(CompressionCodec(name: codec.name.uppercased()) == codec)
    #expect(CompressionCodec(codec.description) == codec)
}

@Test func codecNamesAreTheDocumentedOnes() {
    #expect(CompressionCodec.allCases.map(\.name) == ["none", "lz4", "zstd"])
    #expect(CompressionCodec(name: "gzip") == nil)
    #expect(CompressionCodec(name: "") == nil)
    #expect(CompressionCodec(name: " lz4") == nil)
}

@Test func codecEncodesAsItsRawValue() throws {
    let encoded = try JSONEncoder().encode([CompressionCodec.none, .lz4, .zstd])
    #expect(String(decoding: encoded, as: UTF8.self) == "[0,1,2]")
    #expect(try JSONDecoder().decode(CompressionCodec.self, from: Data("2".utf8)) == .zstd)
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(CompressionCodec.self, from: Data("7".utf8)) }
}
