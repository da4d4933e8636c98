import Foundation

enum TestData {
    /// Uniformly random bytes: incompressible.
    static func random(count: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let word = rng.next()
                let n = min(8, buffer.count - offset)
                withUnsafeBytes(of: word.littleEndian) { wordBytes in
                    buffer.baseAddress!.advanced(by: offset).copyMemory(from: wordBytes.baseAddress!, byteCount: n)
                }
                offset += n
            }
        }
        return bytes
    }

    /// A short pattern repeated: compresses by orders of magnitude.
    static func repetitive(count: Int) -> [UInt8] {
        let pattern = Array("strata-vector-db|".utf8)
        return (0..<count).map { pattern[$0 % pattern.count] }
    }

    /// JSON lines shaped like point payloads, e.g.
    /// `{"category":"cat017","price":23.5,"year":2011,"in_stock":true,"tenant":"t3"}`.
    static func jsonLines(count: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 128)
        while bytes.count < count {
            let category = Int.random(in: 0..<200, using: &rng)
            let cents = Int.random(in: 50...99_999, using: &rng)
            let price =
                cents % 10 == 0
                ? "\(cents / 100).\(cents / 10 % 10)" : "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
            let year = Int.random(in: 1990...2024, using: &rng)
            let inStock = Bool.random(using: &rng)
            let tenant = Int.random(in: 0..<10, using: &rng)
            let padded = category < 10 ? "00\(category)" : category < 100 ? "0\(category)" : "\(category)"
            let line =
                #"{"category":"cat\#(padded)","price":\#(price),"year":\#(year),"in_stock":\#(inStock),"tenant":"t\#(tenant)"}"#
                + "\n"
            bytes.append(contentsOf: line.utf8)
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Alternating stretches of JSON lines, random bytes, runs of one byte and
    /// repeated patterns: exercises both literal-heavy and match-heavy paths.
    static func mixed(count: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let stretch = min(count - bytes.count, Int.random(in: 1...65_536, using: &rng))
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes += jsonLines(count: stretch, using: &rng)
            case 1: bytes += random(count: stretch, using: &rng)
            case 2: bytes += [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: stretch)
            default: bytes += repetitive(count: stretch)
            }
        }
        return bytes
    }
}
