import StrataModel

/// A response type that writes its own JSON, for the hot responses (search
/// hits, records): the same bytes its `encode(to:)` produces through
/// `JSONBodyEncoder`, without the `Encoder` protocol's containers, coding keys
/// and generic metadata lookups per member.
///
/// `JSONBodyEncoder` takes this path wherever it meets such a value, at any
/// depth. When `writeJSON` throws (a NaN or an infinity), what it wrote is
/// dropped and the value goes through `encode(to:)`, so errors are the
/// `EncodingError`s of the generic path, with their full coding path.
/// `ResponseEncodingTests` checks both paths write the same bytes.
public protocol JSONBodyWritable: Encodable {
    func writeJSON(to stream: JSONBodyStream) throws
}

/// Where a `JSONBodyWritable` writes: the encoder's output, with its tokens.
/// Valid only during the `writeJSON` call it is handed to.
public struct JSONBodyStream {
    let writer: JSONBodyWriter

    /// Literal JSON text (punctuation and keys), written as it is.
    @inline(__always) public func raw(_ text: StaticString) { writer.sink.append(text) }

    @inline(__always) public func string(_ value: String) { JSONBodyTokens.write(string: value, to: &writer.sink) }

    @inline(__always) public func integer<I: FixedWidthInteger>(_ value: I) {
        JSONBodyTokens.write(integer: value, to: &writer.sink)
    }

    /// As JSONEncoder writes a Float; throws on NaN and infinities.
    @inline(__always) public func float(_ value: Float) throws {
        try JSONBodyTokens.write(float: value, to: &writer.sink)
    }

    /// As JSONEncoder writes a Double; throws on NaN and infinities.
    @inline(__always) public func double(_ value: Double) throws {
        try JSONBodyTokens.write(double: value, to: &writer.sink)
    }

    @inline(__always) public func floats(_ values: [Float]) throws {
        try JSONBodyTokens.write(floats: values, to: &writer.sink)
    }

    @inline(__always) public func pointID(_ id: PointID) { JSONBodyTokens.write(pointID: id, to: &writer.sink) }

    /// An optional payload: its object, or `null`.
    @inline(__always) public func payload(_ payload: [String: JSONValue]?) throws {
        if let payload {
            try JSONBodyTokens.write(jsonObject: payload, to: &writer.sink)
        } else {
            writer.sink.append("null")
        }
    }

    /// Any value, as the encoder writes it (its own `writeJSON` when it has one).
    public func value<T: Encodable>(_ value: T) throws {
        try writer.writeValue(value, key: nil, extraKeys: [])
    }
}

extension JSONBodyWriter {
    /// Writes `value` through its `writeJSON` if it is a `JSONBodyWritable`;
    /// false when it is not one, or when `writeJSON` threw (nothing written then).
    @inline(__always) func writeWritable<T: Encodable>(_ value: T) -> Bool {
        guard usesWritable, let writable = value as? any JSONBodyWritable else { return false }
        let mark = sink.bytes.count
        let openCount = open.count
        do {
            try writable.writeJSON(to: JSONBodyStream(writer: self))
            return true
        } catch {
            sink.bytes.removeSubrange(mark...)
            open.removeSubrange(openCount...)
            if pendingSuperMark >= mark { pendingSuperMark = -1 }
            return false
        }
    }
}

extension Array: JSONBodyWritable where Element: JSONBodyWritable {
    public func writeJSON(to stream: JSONBodyStream) throws {
        stream.raw("[")
        for (index, element) in enumerated() {
            if index > 0 { stream.raw(",") }
            try element.writeJSON(to: stream)
        }
        stream.raw("]")
    }
}
