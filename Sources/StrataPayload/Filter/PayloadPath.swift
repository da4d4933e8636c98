import StrataModel

/// A path into a payload, as filters, field indexes and payload operations
/// name fields: `a.b` descends into objects, `a[].b` into every element of an
/// array, `a[2].b` into one element; `"a.b"` (quoted) is one key holding a dot.
///
/// This is the syntax of Qdrant's payload `key`s. Two paths are equal when
/// their steps are; they sort by their normalised text.
///
/// ```swift
/// let path = try PayloadPath("country.cities[].name")
/// // path.steps == [.key("country"), .key("cities"), .eachElement, .key("name")]
/// let payload: Payload = ["country": ["cities": [["name": "Paris"], ["name": "Lyon"]]]]
/// path.values(in: payload)  // [.string("Paris"), .string("Lyon")]
///
/// let dotted = try PayloadPath("\"a.b\".c")  // the key "a.b", then the key "c"
/// ```
public struct PayloadPath: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// One step of a path, applied to each value the steps before it reached.
    public enum Step: Sendable, Hashable {
        /// The member of an object with this name (`a`, or `"a.b"` quoted);
        /// reaches nothing in a value that is not an object.
        case key(String)
        /// Every element of an array (`[]`); reaches nothing in a value that
        /// is not an array.
        case eachElement
        /// The element at this zero-based index (`[2]`); reaches nothing when
        /// the array is shorter or the value is not an array.
        case element(Int)
    }

    /// The steps of the path in order; never empty for a parsed path.
    public let steps: [Step]
    /// The path as written (normalised).
    public let description: String

    /// Orders paths by their normalised text (`description`).
    public static func < (a: PayloadPath, b: PayloadPath) -> Bool { a.description < b.description }

    /// Parses a path; throws `PayloadPathError` naming the problem.
    ///
    /// Refused: the empty text, an empty unquoted key (`a..b`, `.a`), a
    /// trailing dot, an unterminated quote or `[`, a bracket holding anything
    /// but nothing or a non-negative integer, and anything other than `.` or
    /// `[` after a key or a bracket (`a[0]b`).
    public init(_ text: String) throws(PayloadPathError) {
        var steps: [Step] = []
        var chars = Array(text)
        var i = 0
        func fail(_ why: String) -> PayloadPathError {
            PayloadPathError(message: "invalid payload key \"\(text)\": \(why)")
        }
        guard !chars.isEmpty else { throw fail("empty") }
        var expectKey = true
        while i < chars.count {
            if expectKey {
                if chars[i] == "\"" {
                    var j = i + 1
                    var key = ""
                    while j < chars.count && chars[j] != "\"" { key.append(chars[j]); j += 1 }
                    guard j < chars.count else { throw fail("unterminated quote") }
                    // `""` is the empty key, which a payload may hold (Qdrant allows it).
                    steps.append(.key(key))
                    i = j + 1
                } else {
                    var key = ""
                    while i < chars.count && chars[i] != "." && chars[i] != "[" { key.append(chars[i]); i += 1 }
                    guard !key.isEmpty else { throw fail("empty key at position \(i)") }
                    steps.append(.key(key))
                }
                expectKey = false
            } else if chars[i] == "." {
                i += 1
                guard i < chars.count else { throw fail("ends with a dot") }
                expectKey = true
            } else if chars[i] == "[" {
                var j = i + 1
                var inside = ""
                while j < chars.count && chars[j] != "]" { inside.append(chars[j]); j += 1 }
                guard j < chars.count else { throw fail("unterminated [") }
                if inside.isEmpty {
                    steps.append(.eachElement)
                } else if let index = Int(inside), index >= 0 {
                    steps.append(.element(index))
                } else {
                    throw fail("[\(inside)] is not [] or a non-negative index")
                }
                i = j + 1
            } else {
                throw fail("unexpected \"\(chars[i])\" at position \(i)")
            }
        }
        chars.removeAll()
        self.steps = steps
        self.description = Self.render(steps)
    }

    init(steps: [Step]) {
        self.steps = steps
        self.description = Self.render(steps)
    }

    private static func render(_ steps: [Step]) -> String {
        var text = ""
        for step in steps {
            switch step {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key.contains(".") || key.contains("[") ? "\"\(key)\"" : key
            case .eachElement: text += "[]"
            case .element(let i): text += "[\(i)]"
            }
        }
        return text
    }

    /// The path followed by `other` (for nested filters, whose keys are
    /// relative to each element of the array at this path).
    public func appending(_ other: PayloadPath) -> PayloadPath { PayloadPath(steps: steps + other.steps) }

    /// Every value at this path. An array reached at the end contributes its
    /// elements (one level), as Qdrant flattens them; nulls are kept.
    public func values(in payload: Payload) -> [JSONValue] { Self.flatten(rawValues(in: payload)) }

    /// `rawValues` with each array replaced by its elements (one level).
    public static func flatten(_ rawValues: [JSONValue]) -> [JSONValue] {
        var flattened: [JSONValue] = []
        for value in rawValues {
            if case .array(let elements) = value {
                flattened.append(contentsOf: elements)
            } else {
                flattened.append(value)
            }
        }
        return flattened
    }

    /// The values at this path without flattening a final array (what a nested
    /// filter iterates over and what `is_null` inspects).
    public func rawValues(in payload: Payload) -> [JSONValue] {
        var current: [JSONValue] = [.object(payload)]
        for step in steps {
            var next: [JSONValue] = []
            for value in current {
                switch (step, value) {
                case (.key(let key), .object(let object)):
                    if let found = object[key] { next.append(found) }
                case (.eachElement, .array(let elements)):
                    next.append(contentsOf: elements)
                case (.element(let index), .array(let elements)):
                    if index < elements.count { next.append(elements[index]) }
                default:
                    break
                }
            }
            current = next
            if current.isEmpty { return [] }
        }
        return current
    }

    // MARK: - Changing payloads

    /// Merges `changes`' keys into the object(s) at this path, creating
    /// objects for missing keys (and replacing non-object values on the way);
    /// a null change removes its key. `[]` applies to every element of an
    /// array, `[i]` to one existing element; either over a value that is not
    /// an array replaces it with `[]` (as Qdrant does).
    public func merge(_ changes: Payload, into payload: inout Payload) {
        var root = JSONValue.object(payload)
        Self.merge(changes, into: &root, steps: steps[...])
        if case .object(let object) = root { payload = object }
    }

    private static func merge(_ changes: Payload, into value: inout JSONValue, steps: ArraySlice<Step>) {
        guard let step = steps.first else {
            var object: Payload
            if case .object(let existing) = value { object = existing } else { object = [:] }
            // Qdrant's merge: a null removes the key.
            for (key, change) in changes {
                if change == .null { object.removeValue(forKey: key) } else { object[key] = change }
            }
            value = .object(object)
            return
        }
        let rest = steps.dropFirst()
        switch step {
        case .key(let key):
            var object: Payload
            if case .object(let existing) = value { object = existing } else { object = [:] }
            var child = object[key] ?? .object([:])
            merge(changes, into: &child, steps: rest)
            object[key] = child
            value = .object(object)
        case .eachElement:
            // An array step over something else makes it an empty array (Qdrant).
            guard case .array(var elements) = value else {
                value = .array([])
                return
            }
            for index in elements.indices { merge(changes, into: &elements[index], steps: rest) }
            value = .array(elements)
        case .element(let index):
            guard case .array(var elements) = value else {
                value = .array([])
                return
            }
            guard index < elements.count else { return }
            merge(changes, into: &elements[index], steps: rest)
            value = .array(elements)
        }
    }

    /// Removes the key this path ends with from every object it reaches (a
    /// path ending in `[i]` removes that array element; one ending in `[]`
    /// empties the array).
    public func remove(from payload: inout Payload) {
        var root = JSONValue.object(payload)
        Self.remove(from: &root, steps: steps[...])
        if case .object(let object) = root { payload = object }
    }

    private static func remove(from value: inout JSONValue, steps: ArraySlice<Step>) {
        guard let step = steps.first else { return }
        let rest = steps.dropFirst()
        switch (step, value) {
        case (.key(let key), .object(var object)):
            if rest.isEmpty {
                object[key] = nil
            } else if var child = object[key] {
                remove(from: &child, steps: rest)
                object[key] = child
            }
            value = .object(object)
        case (.eachElement, .array(var elements)):
            if rest.isEmpty {
                elements.removeAll()
            } else {
                for index in elements.indices { remove(from: &elements[index], steps: rest) }
            }
            value = .array(elements)
        case (.element(let index), .array(var elements)) where index < elements.count:
            if rest.isEmpty {
                elements.remove(at: index)
            } else {
                remove(from: &elements[index], steps: rest)
            }
            value = .array(elements)
        default:
            break
        }
    }
}

/// A payload key that is not a valid `PayloadPath`.
public struct PayloadPathError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, quoting the key (`invalid payload key "a..b": empty key at position 2`).
    public let message: String
    /// The `message`.
    public var description: String { message }
}
