// The wire form of a formula query (Qdrant's `FormulaQuery` and
// `Expression`): `{"formula": <expression>, "defaults": {...}}`. Numbers are
// read as Float, as Qdrant's schema has them, then evaluated in Double.
import Strata

enum FormulaInput {
    /// The engine formula of a `formula` query object. Throws a 400 naming
    /// the path of the first malformed expression.
    static func formula(_ expression: JSONValue, defaults: JSONValue?) throws -> Formula {
        let parsed = try self.expression(expression, path: "formula")
        switch defaults {
        case nil, .null?:
            return Formula(parsed)
        case .object(let object)?:
            do { return try Formula(parsed, defaults: object) } catch { throw APIError.from(error) }
        case let other?:
            throw APIError.jsonDeserialize("defaults must be an object, got \(other)")
        }
    }

    /// One node of the expression at `path`.
    static func expression(_ json: JSONValue, path: String) throws -> FormulaExpression {
        switch json {
        case .int(let value): return .constant(Double(Float(value)))
        case .double(let value): return .constant(Double(Float(value)))
        case .string(let name):
            do { return try .variable(named: name) } catch { throw APIError.from(error) }
        case .object(let object):
            return try operation(object, json: json, path: path)
        default:
            throw mismatch(path, json)
        }
    }

    private static func mismatch(_ path: String, _ json: JSONValue) -> APIError {
        APIError.jsonDeserialize(
            "\(path): data did not match any variant of untagged enum Expression (a number, a variable name, a condition or an operation object), got \(json)"
        )
    }

    private static func operation(
        _ object: [String: JSONValue], json: JSONValue, path: String
    ) throws -> FormulaExpression {
        func sub(_ key: String) throws -> FormulaExpression {
            guard let value = object[key] else { throw mismatch(path, json) }
            return try expression(value, path: "\(path).\(key)")
        }
        func list(_ key: String) throws -> [FormulaExpression] {
            guard case .array(let items)? = object[key] else {
                throw APIError.jsonDeserialize("\(path).\(key) must be a list of expressions")
            }
            return try items.enumerated().map { try expression($1, path: "\(path).\(key)[\($0)]") }
        }
        func params(_ key: String) throws -> [String: JSONValue] {
            guard case .object(let inner)? = object[key] else {
                throw APIError.jsonDeserialize("\(path).\(key) must be an object")
            }
            return inner
        }
        func inner(_ key: String, _ params: [String: JSONValue], _ field: String) throws -> FormulaExpression {
            guard let value = params[field] else {
                throw APIError.jsonDeserialize("\(path).\(key): missing field `\(field)`")
            }
            return try expression(value, path: "\(path).\(key).\(field)")
        }
        func float(_ key: String, _ params: [String: JSONValue], _ field: String) throws -> Double? {
            switch params[field] {
            case nil, .null?: return nil
            case .int(let value)?: return Double(Float(value))
            case .double(let value)?: return Double(Float(value))
            default: throw APIError.jsonDeserialize("\(path).\(key).\(field) must be a number")
            }
        }
        func key(_ value: JSONValue?, _ field: String) throws -> PayloadPath {
            guard case .string(let text)? = value else {
                throw APIError.jsonDeserialize("\(path).\(field) must be a payload key")
            }
            do { return try PayloadPath(text) } catch {
                throw APIError.wrongInput("\(path).\(field): \(error.message)")
            }
        }

        if object["sum"] != nil { return .sum(try list("sum")) }
        if object["mult"] != nil { return .mult(try list("mult")) }
        if object["max"] != nil { return .max(try list("max")) }
        if object["min"] != nil { return .min(try list("min")) }
        if object["acosh"] != nil { return .acosh(try sub("acosh")) }
        if object["neg"] != nil { return .neg(try sub("neg")) }
        if object["abs"] != nil { return .abs(try sub("abs")) }
        if object["sqrt"] != nil { return .sqrt(try sub("sqrt")) }
        if object["exp"] != nil { return .exp(try sub("exp")) }
        if object["log10"] != nil { return .log10(try sub("log10")) }
        if object["ln"] != nil { return .ln(try sub("ln")) }
        if object["div"] != nil {
            let div = try params("div")
            return .div(
                left: try inner("div", div, "left"), right: try inner("div", div, "right"),
                byZeroDefault: try float("div", div, "by_zero_default"))
        }
        if object["pow"] != nil {
            let pow = try params("pow")
            return .pow(base: try inner("pow", pow, "base"), exponent: try inner("pow", pow, "exponent"))
        }
        for kind in [DecayKind.linear, .exponential, .gaussian] where object[kind.rawValue] != nil {
            let decay = try params(kind.rawValue)
            let target: FormulaExpression?
            switch decay["target"] {
            case nil, .null?: target = nil
            default: target = try inner(kind.rawValue, decay, "target")
            }
            return .decay(
                kind, x: try inner(kind.rawValue, decay, "x"), target: target,
                midpoint: try float(kind.rawValue, decay, "midpoint"), scale: try float(kind.rawValue, decay, "scale"))
        }
        if object["geo_distance"] != nil {
            let geo = try params("geo_distance")
            guard let originValue = geo["origin"], let origin = GeoPoint(originValue) else {
                throw APIError.jsonDeserialize(
                    "\(path).geo_distance.origin must be a geo point {\"lon\": …, \"lat\": …} with valid coordinates")
            }
            return .geoDistance(origin: origin, to: try key(geo["to"], "geo_distance.to"))
        }
        if let value = object["datetime"] {
            guard case .string(let text) = value else {
                throw APIError.jsonDeserialize("\(path).datetime must be a string")
            }
            return .datetime(text)
        }
        if object["datetime_key"] != nil { return .datetimeKey(try key(object["datetime_key"], "datetime_key")) }
        do {
            return .condition(try Condition(json: json, path: path))
        } catch {
            throw mismatch(path, json)
        }
    }
}
