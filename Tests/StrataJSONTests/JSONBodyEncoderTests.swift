import Foundation
import StrataModel
import StrataTestSupport
import Testing

@testable import StrataJSON

/// JSONBodyEncoder against JSONEncoder (`.withoutEscapingSlashes`, what the
/// server used): the same bytes wherever JSONEncoder's own output is
/// deterministic (numbers, strings, arrays, single-member objects), the same
/// canonical form (members sorted) for objects, whose member order JSONEncoder
/// draws from a hash table.
@Suite struct JSONBodyEncoderTests {
    private func reference<T: Encodable>(_ value: T) throws -> [UInt8] { try JSONCanonical.foundationBytes(value) }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Floats with every exponent (subnormals included), plus the shapes of
    /// real vectors and the edges of decimal versus exponent notation.
    private func randomFloats(_ count: Int, using generator: inout SeededGenerator) -> [Float] {
        var values: [Float] = [
            0, -0.0, 1, -1, 0.1, 1e-7, 1e-4, 9.999999e-5, 1e21, 1e38, 16_777_216, 16_777_215, 33_554_432,
            8_388_608.5, 1e7, 1e16, 123_456_792, .leastNonzeroMagnitude, .leastNormalMagnitude,
            Float.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne,
            Float(1).nextUp, Float(1).nextDown, 100, 3.4028235e38, 0.3, 2.5, 1_000_000,
        ]
        for exponent in -45...38 { values.append(Float("1e\(exponent)")!) }
        while values.count < count {
            switch generator.next() % 4 {
            case 0:
                let value = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
                if value.isFinite { values.append(value) }
            case 1: values.append(Float.random(in: -1...1, using: &generator))
            case 2: values.append(Float(Int32(truncatingIfNeeded: generator.next()) >> (generator.next() % 32)))
            default: values.append(Float.random(in: -1e9...1e9, using: &generator))
            }
        }
        return values
    }

    private func randomDoubles(_ count: Int, using generator: inout SeededGenerator) -> [Double] {
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e-7, 1e-4, 1e21, 1e22, 1e16, 9_007_199_254_740_992, 9_007_199_254_740_994,
            123_456_789_012_345_680, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
            .ulpOfOne, 1.0.nextUp, 1.0.nextDown, 0.30000000000000004, 1e300, -1e-300, 2.5,
            Double(Float(0.1)), Double(Int64.max), Double(UInt64.max),
        ]
        for exponent in -324...308 { values.append(Double("1e\(exponent)")!) }
        while values.count < count {
            switch generator.next() % 4 {
            case 0:
                let value = Double(bitPattern: generator.next())
                if value.isFinite { values.append(value) }
            case 1: values.append(Double(Float.random(in: -1...1, using: &generator)))
            case 2: values.append(Double(Int64(bitPattern: generator.next()) >> (generator.next() % 64)))
            default: values.append(Double.random(in: -1e18...1e18, using: &generator))
            }
        }
        return values
    }

    /// Every float through three paths: the `[Float]` fast path, a keyed
    /// container's `encode(Float)`, an unkeyed container's generic `encode`.
    private struct FloatPaths<F: Encodable & BinaryFloatingPoint>: Encodable {
        var values: [F]
        private enum Keys: String, CodingKey { case v }
        func encode(to encoder: any Encoder) throws {
            var array = encoder.unkeyedContainer()
            for value in values {
                var object = array.nestedContainer(keyedBy: Keys.self)
                try object.encode(value, forKey: .v)
                try array.encode([value])
                try array.encode(Wrapped(value: value))
            }
        }
        private struct Wrapped: Encodable {
            var value: F
            func encode(to encoder: any Encoder) throws {
                var single = encoder.singleValueContainer()
                try single.encode(value)
            }
        }
    }

    /// Every value of `values` encoded in chunks (fast path, containers) against JSONEncoder;
    /// `extra` adds checks per chunk.
    private func expectByteIdentical<F: BinaryFloatingPoint & Codable & Sendable>(
        _ values: [F], extra: ([F]) throws -> Void = { _ in }
    ) throws {
        for chunk in stride(from: 0, to: values.count, by: 5_000) {
            let slice = Array(values[chunk..<min(chunk + 5_000, values.count)])
            let mine = try JSONBodyEncoder.encode(slice)
            let expected = try reference(slice)
            if mine != expected {
                for value in slice where try JSONBodyEncoder.encode([value]) != reference([value]) {
                    Issue.record("\(F.self) \(value): \(text(try JSONBodyEncoder.encode([value])))")
                    break
                }
            }
            #expect(mine == expected)
            let paths = FloatPaths(values: Array(slice.prefix(1_000)))
            #expect(try JSONBodyEncoder.encode(paths) == reference(paths))
            try extra(slice)
        }
    }

    @Test func floatsAreByteIdentical() throws {
        var generator = SeededGenerator.forTest()
        let values = randomFloats(150_000, using: &generator)
        try expectByteIdentical(values)
        // The top level too.
        for value in values.prefix(1_000) { #expect(try JSONBodyEncoder.encode(value) == reference(value)) }
        #expect(text(try JSONBodyEncoder.encode([Float(1), -0.0, 1e-7, 1e21, 0.1])) == "[1,-0,1e-07,1e+21,0.1]")
    }

    @Test func doublesAreByteIdentical() throws {
        var generator = SeededGenerator.forTest()
        try expectByteIdentical(randomDoubles(150_000, using: &generator)) { (slice: [Double]) throws in
            let json = JSONValue.array(slice.prefix(1_000).map { .double($0) })
            #expect(try JSONBodyEncoder.encode(json) == reference(json))
        }
        #expect(
            text(try JSONBodyEncoder.encode([1.0, -0.0, 1e-7, 1e21, 100, 123_456_789_012_345_680]))
                == "[1,-0,1e-07,1e+21,100,1.2345678901234568e+17]")
    }

    @Test func integersAreByteIdentical() throws {
        var generator = SeededGenerator.forTest()
        var int64s: [Int64] = [.min, .max, 0, -1, 1, 9, 10, -10, 99, 100, 1 << 53, -(1 << 53)]
        var uint64s: [UInt64] = [.max, 0, 1, 9, 10, UInt64(Int64.max) + 1]
        for _ in 0..<20_000 {
            int64s.append(Int64(bitPattern: generator.next()) >> (generator.next() % 64))
            uint64s.append(generator.next() >> (generator.next() % 64))
        }
        #expect(try JSONBodyEncoder.encode(int64s) == reference(int64s))
        #expect(try JSONBodyEncoder.encode(uint64s) == reference(uint64s))
        let uint32s = uint64s.map { UInt32(truncatingIfNeeded: $0) }
        #expect(try JSONBodyEncoder.encode(uint32s) == reference(uint32s))
        let json = JSONValue.array(int64s.map { .int($0) })
        #expect(try JSONBodyEncoder.encode(json) == reference(json))
        let small: [Int8] = [.min, .max, 0]
        #expect(try JSONBodyEncoder.encode(small) == reference(small))
        let mixed = Mixed()
        #expect(try JSONBodyEncoder.encode(mixed) == reference(mixed))
        let wide: [Int128] = [.min, .max, 0]
        #expect(try JSONBodyEncoder.encode(wide) == reference(wide))
        let keyed = ["k": UInt128.max]
        #expect(try JSONBodyEncoder.encode(keyed) == reference(keyed))
    }

    /// One of each primitive through unkeyed containers (deterministic order).
    private struct Mixed: Encodable {
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(Int.min)
            try c.encode(Int8.min)
            try c.encode(Int16.min)
            try c.encode(Int32.min)
            try c.encode(Int64.min)
            try c.encode(UInt.max)
            try c.encode(UInt8.max)
            try c.encode(UInt16.max)
            try c.encode(UInt32.max)
            try c.encode(UInt64.max)
            try c.encode(true)
            try c.encode(false)
            try c.encodeNil()
            try c.encode("s")
            try c.encode(Int128.min)
            try c.encode(UInt128.max)
            try c.encode(Decimal(string: "12.5")!)
            try c.encode(URL(string: "https://example.com/a/b?c=d")!)
            try c.encode(Data([0, 1, 2, 250, 255]))
            try c.encode(Date(timeIntervalSinceReferenceDate: 12.5))
        }
    }

    @Test func stringsAreByteIdentical() throws {
        var generator = SeededGenerator.forTest()
        var strings: [String] = [
            "", "plain", "quote\"", "back\\slash", "/slashes/", "\u{7F}", "\u{2028}\u{2029}", "é", "😀", "a\u{0}b",
            "\u{8}\u{C}\n\r\t", "\u{1F}\u{10}\u{B}", "mixé\"\\/\n😀",
        ]
        strings.append(String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self))
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 12)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length {
                let pick = generator.next()
                let value: UInt32
                switch pick % 4 {
                case 0: value = UInt32(truncatingIfNeeded: pick >> 8) % 0x80
                case 1: value = UInt32(truncatingIfNeeded: pick >> 8) % 0x800
                case 2: value = UInt32(truncatingIfNeeded: pick >> 8) % 0x10000
                default: value = UInt32(truncatingIfNeeded: pick >> 8) % 0x110000
                }
                if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
            }
            strings.append(String(scalars))
        }
        #expect(try JSONBodyEncoder.encode(strings) == reference(strings))
        for string in strings.prefix(2_000) {
            let object = [string: JSONValue.string(string)]
            #expect(try JSONBodyEncoder.encode(object) == reference(object))
            #expect(try JSONBodyEncoder.encode(string) == reference(string))
        }
        #expect(
            text(try JSONBodyEncoder.encode("a/\u{2028}\u{7F}\u{0}\u{1F}\"\\\t"))
                == "\"a/\u{2028}\u{7F}\\u0000\\u001f\\\"\\\\\\t\"")
    }

    private func randomJSON(_ depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        switch generator.next() % (depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(generator.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: generator.next()) >> (generator.next() % 64))
        case 3:
            let value = Double(bitPattern: generator.next())
            return .double(value.isFinite ? value : Double(Float.random(in: -1...1, using: &generator)))
        case 4: return .string(["a", "ключ", "x\"y", "\n", "/path", "😀", ""][Int(generator.next() % 7)])
        case 5: return .array((0..<Int(generator.next() % 5)).map { _ in randomJSON(depth + 1, using: &generator) })
        default:
            var object: [String: JSONValue] = [:]
            for index in 0..<Int(generator.next() % 6) {
                object["k\(index)\(["", "\"", "é", "/"][Int(generator.next() % 4)])"] = randomJSON(
                    depth + 1, using: &generator)
            }
            return .object(object)
        }
    }

    @Test func payloadsAreTheSameJSON() throws {
        var generator = SeededGenerator.forTest()
        for _ in 0..<3_000 {
            let value = randomJSON(0, using: &generator)
            let mine = try JSONBodyEncoder.encode(value)
            #expect(JSONCanonical.canonical(mine) != nil)
            #expect(JSONCanonical.canonical(mine) == JSONCanonical.canonical(try reference(value)))
            if case .object(let object) = value {
                // A dictionary's members come in its iteration order.
                let keys = try JSONCanonical.topLevelKeys(mine)?.map {
                    try JSONDecoder().decode(String.self, from: Data($0.utf8))
                }
                #expect(keys == Array(object.keys))
                #expect(try JSONBodyEncoder.encode(object) == mine)
                let generic = GenericDictionary(values: object)
                #expect(try JSONBodyEncoder.encode(generic) == mine)
            }
        }
    }

    private struct Point: Encodable {
        var id: PointID
        var next: PointID?
        var payload: Payload?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(next, forKey: .next)  // null when nil
            try container.encode(payload, forKey: .payload)
        }
        enum CodingKeys: CodingKey { case id, next, payload }
    }

    @Test func pointIDsAndOptionalPayloadsMatch() throws {
        var generator = SeededGenerator.forTest()
        for _ in 0..<500 {
            let id: PointID = generator.next() % 2 == 0 ? .number(generator.next()) : .uuid(UUID())
            let next: PointID? = generator.next() % 2 == 0 ? nil : .number(generator.next() >> 40)
            let payload: Payload? = generator.next() % 2 == 0 ? nil : ["k": .double(0.5)]
            let point = Point(id: id, next: next, payload: payload)
            #expect(
                JSONCanonical.canonical(try JSONBodyEncoder.encode(point))
                    == JSONCanonical.canonical(try reference(point)))
            #expect(try JSONBodyEncoder.encode([id]) == reference([id]))
        }
        #expect(
            text(try JSONBodyEncoder.encode(Point(id: 5, next: nil, payload: nil)))
                == #"{"id":5,"next":null,"payload":null}"#)
    }

    /// A `[String: JSONValue]` that goes through the `Encoder` protocol
    /// rather than the fast path: the same bytes.
    private struct GenericDictionary: Encodable {
        var values: [String: JSONValue]
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in values { try container.encode(Indirect(value: value), forKey: AnyKey(key)) }
        }
        struct Indirect: Encodable {
            var value: JSONValue
            func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    // MARK: The Encoder protocol

    private struct Ordered: Encodable {
        var zeta = 1
        var alpha: String? = nil
        var mid: Float? = 2.5
        var list: [Inner] = [Inner(), Inner(name: nil)]
        var nothing = Empty()
        var map: [Int: String] = [7: "seven"]
        struct Inner: Encodable {
            var name: String? = "n"
            var vector: [Float] = [0.5, 1]
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)  // null when nil
                try container.encode(vector, forKey: .vector)
            }
            enum CodingKeys: CodingKey { case name, vector }
        }
        struct Empty: Encodable {
            func encode(to encoder: any Encoder) throws {}
        }
    }

    @Test func membersComeInCallOrderWithJSONEncodersTokens() throws {
        let value = Ordered()
        let mine = try JSONBodyEncoder.encode(value)
        #expect(
            text(mine)
                == #"{"zeta":1,"mid":2.5,"list":[{"name":"n","vector":[0.5,1]},{"name":null,"vector":[0.5,1]}],"nothing":{},"map":{"7":"seven"}}"#
        )
        #expect(JSONCanonical.canonical(mine) == JSONCanonical.canonical(try reference(value)))
    }

    private class Base: Encodable {
        var base = "b"
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(base, forKey: .base)
        }
        enum Keys: CodingKey { case base, derived, nested, list, again }
    }

    private final class Derived: Base, @unchecked Sendable {
        var useSuper: Int
        init(_ useSuper: Int) { self.useSuper = useSuper }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .derived)
            switch useSuper {
            case 0: try super.encode(to: container.superEncoder())
            case 1: try super.encode(to: container.superEncoder(forKey: .again))
            case 2: _ = container.superEncoder()  // nothing written: {}
            default: try super.encode(to: encoder)  // same container, merged
            }
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .nested)
            try nested.encode([Float](), forKey: .list)
            var list = nested.nestedUnkeyedContainer(forKey: .again)
            try list.encode("x")
            var inner = list.nestedContainer(keyedBy: Keys.self)
            try inner.encode(true, forKey: .base)
            var innerList = list.nestedUnkeyedContainer()
            try innerList.encodeNil()
            try list.encode(2)
            var again = encoder.container(keyedBy: Keys.self)
            try again.encode("last", forKey: .list)
        }
    }

    @Test func nestedContainersAndSuperEncodersMatch() throws {
        for mode in 0..<4 {
            let value = Derived(mode)
            let mine = try JSONBodyEncoder.encode(value)
            #expect(JSONCanonical.canonical(mine) != nil, "\(text(mine))")
            #expect(JSONCanonical.canonical(mine) == JSONCanonical.canonical(try reference(value)), "\(text(mine))")
            #expect(try JSONBodyEncoder.encode([value, value]) == [UInt8]("[\(text(mine)),\(text(mine))]".utf8))
        }
    }

    // MARK: Errors

    private struct Holder<T: Encodable>: Encodable {
        var value: T
        enum CodingKeys: String, CodingKey { case value }
    }

    private struct Floats: Encodable {
        var score: Float
        var values: [Double]
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(score, forKey: .score)
            var list = container.nestedUnkeyedContainer(forKey: .values)
            for value in values { try list.encode(value) }
        }
        enum CodingKeys: CodingKey { case score, values }
    }

    private func sameError<T: Encodable>(_ value: T, _ sourceLocation: SourceLocation = #_sourceLocation) {
        var mineError: (any Error)?
        var referenceError: (any Error)?
        do { _ = try JSONBodyEncoder.encode(value) } catch { mineError = error }
        do { _ = try reference(value) } catch { referenceError = error }
        #expect(mineError != nil, sourceLocation: sourceLocation)
        #expect(mineError is EncodingError, sourceLocation: sourceLocation)
        #expect(
            mineError.map { "\($0)" } == referenceError.map { "\($0)" }, sourceLocation: sourceLocation)
    }

    @Test func nonFiniteNumbersThrowJSONEncodersErrors() throws {
        sameError(Float.nan)
        sameError(-Double.infinity)
        sameError(Holder(value: [Float(1), 2, .infinity]))
        sameError(Holder(value: [[Float(1)], [2, -.infinity]]))
        sameError(Holder(value: [Double(1), .nan]))
        sameError([Holder(value: Holder(value: Float.nan))])
        sameError(Holder(value: JSONValue.object(["a": .array([.int(1), .double(.nan)])])))
        sameError(Holder(value: ["p": JSONValue.double(.infinity)]))
        sameError([Holder(value: [JSONValue.double(-.infinity)])])
        sameError(Floats(score: .nan, values: []))
        // JSONEncoder leaves the key of a nested container out of the path
        // ("Path: [1]"); ours has it. No response type nests containers.
        #expect {
            try JSONBodyEncoder.encode(Floats(score: 1, values: [1, .infinity]))
        } throws: { error in
            "\(error)".contains("Path: values[1]. Debug description: Unable to encode Double.inf directly in JSON.")
        }
        sameError(Holder(value: Optional(Float.nan)))
    }

    @Test func topLevelWithoutAValueThrows() throws {
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        sameError(Nothing())
    }

    @Test func appendsAndLeavesTheBufferAsItWasOnError() throws {
        var bytes = [UInt8]("prefix:".utf8)
        try JSONBodyEncoder.encode(["a": JSONValue.int(1)], appendingTo: &bytes)
        #expect(text(bytes) == #"prefix:{"a":1}"#)
        #expect(throws: EncodingError.self) {
            try JSONBodyEncoder.encode(Holder(value: [Float(1), .nan]), appendingTo: &bytes)
        }
        #expect(text(bytes) == #"prefix:{"a":1}"#)
    }
}
