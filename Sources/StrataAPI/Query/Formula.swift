import StrataModel
import StrataPayload
import Foundation

// Score boosting formulas (Qdrant's `FormulaQuery`): the expression tree a
// formula query rescores its prefetch results with. The evaluation is in
// QueryExecutor+Formula.swift; docs/query.md lists the operators.

/// A variable of a formula: the score of a prefetch or a payload key.
public enum FormulaVariable: Sendable, Hashable, CustomStringConvertible {
    /// `$score` (index 0) or `$score[i]`: the point's score in the i-th prefetch.
    case score(Int)
    /// A payload key, read as a number.
    case payload(PayloadPath)

    /// Parses Qdrant's variable syntax: `$score`, `$score[i]`, or a payload
    /// key. Throws `.invalidArgument` for another `$` word or a malformed key.
    public init(parsing text: String) throws {
        guard text.hasPrefix("$") else {
            guard let path = try? PayloadPath(text) else {
                throw StrataError.invalid("failed to parse variable ID \(text): Invalid payload variable: \(text)")
            }
            self = .payload(path)
            return
        }
        let rest = text.dropFirst()
        guard rest.hasPrefix("score") else {
            throw StrataError.invalid("failed to parse variable ID \(text): Invalid reserved word: \(text)")
        }
        let index = rest.dropFirst("score".count)
        if index.isEmpty {
            self = .score(0)
            return
        }
        guard index.first == "[", index.last == "]", let value = Int(index.dropFirst().dropLast()), value >= 0 else {
            throw StrataError.invalid("failed to parse variable ID \(text): Invalid reserved variable: \(text)")
        }
        self = .score(value)
    }

    /// The variable in Qdrant's syntax: `$score[i]` (also for `$score`) or
    /// the payload key.
    public var description: String {
        switch self {
        case .score(let index): "$score[\(index)]"
        case .payload(let path): path.description
        }
    }
}

/// The shape of a decay function (`lin_decay`, `exp_decay`, `gauss_decay`).
///
/// With d the distance of `x` from the target, each is 1 at d = 0 and
/// `midpoint` at d = `scale`.
public enum DecayKind: String, Sendable, Equatable {
    /// `lin_decay`: `max(0, 1 − λ·d)`, λ = (1 − midpoint) / scale; midpoint in 0…1.
    case linear = "lin_decay"
    /// `exp_decay`: `exp(λ·d)`, λ = ln(midpoint) / scale; midpoint in (0, 1).
    case exponential = "exp_decay"
    /// `gauss_decay`: `exp(λ·d²)`, λ = ln(midpoint) / scale²; midpoint in (0, 1).
    case gaussian = "gauss_decay"
}

/// One node of a formula (Qdrant's `Expression`). Numbers are evaluated in
/// Double, as Qdrant does; the final score is converted to Float.
///
/// The operators and their JSON forms are listed in docs/query.md
/// ("Formulas"). A non-finite value anywhere (a division by zero without a
/// default, √ or ln of a negative number, an overflow) fails the query with
/// `.invalidArgument` naming the expression and the point.
public indirect enum FormulaExpression: Sendable, Equatable {
    /// A number; must be finite.
    case constant(Double)
    /// A prefetch score or a payload number (see `FormulaVariable`); a point
    /// without it takes the formula's default (see `Formula.defaults`).
    case variable(FormulaVariable)
    /// 1 when the point matches the condition, else 0.
    case condition(Condition)
    /// Haversine distance in meters from `origin` to the geo point at payload key `to`.
    case geoDistance(origin: GeoPoint, to: PayloadPath)
    /// An RFC 3339 datetime, as seconds since the epoch.
    case datetime(String)
    /// The datetime at a payload key, as seconds since the epoch.
    case datetimeKey(PayloadPath)
    /// The sum of the operands (0 for none).
    case sum([FormulaExpression])
    /// The product of the operands (1 for none).
    ///
    /// Stops at the first factor that is 0 (later factors are not evaluated).
    case mult([FormulaExpression])
    /// The largest (smallest) operand; NaN operands are skipped. Needs an operand.
    case max([FormulaExpression])
    /// The smallest operand; NaN operands are skipped. Needs an operand.
    case min([FormulaExpression])
    /// The operand negated: `−e`.
    case neg(FormulaExpression)
    /// The operand's absolute value: `|e|`.
    case abs(FormulaExpression)
    /// `left / right`; 0 when `left` is 0 (right not evaluated); `byZeroDefault` when `right` is 0.
    case div(left: FormulaExpression, right: FormulaExpression, byZeroDefault: Double?)
    /// The square root of the operand (a negative operand fails the query).
    case sqrt(FormulaExpression)
    /// `base` raised to `exponent`.
    case pow(base: FormulaExpression, exponent: FormulaExpression)
    /// e raised to the operand.
    case exp(FormulaExpression)
    /// The base-10 logarithm of the operand.
    case log10(FormulaExpression)
    /// The natural logarithm of the operand.
    case ln(FormulaExpression)
    /// The inverse hyperbolic cosine (defined from 1).
    case acosh(FormulaExpression)
    /// A decay of `x` away from `target` (default 0): 1 at the target,
    /// `midpoint` (default 0.5) at distance `scale` (default 1).
    case decay(DecayKind, x: FormulaExpression, target: FormulaExpression?, midpoint: Double?, scale: Double?)
}

/// A score boosting query: `expression` evaluated for each point the
/// prefetches returned. `defaults` give the value of a variable a point does
/// not have (a payload key it lacks, a prefetch it is missing from; a
/// missing score without a default is 0).
///
/// A formula is the query of a stage with prefetches (`QueryKind.formula`):
///
/// ```swift
/// // The vector score, plus a quarter of the point's "popularity" (0 when it has none):
/// let formula = try Formula(
///     .sum([.variable(.score(0)), .mult([.constant(0.25), .variable(named: "popularity")])]),
///     defaults: ["popularity": 0])
/// let request = QueryRequest(
///     prefetch: [Prefetch(query: .nearest(.dense(embedding)), limit: 100)],
///     query: .formula(formula), limit: 10)
/// ```
public struct Formula: Sendable, Equatable {
    /// The expression each candidate point is scored by.
    public var expression: FormulaExpression
    /// The value a variable takes for a point that lacks it; a payload
    /// default is used as given (a number, not unwrapped from an array).
    public var defaults: [FormulaVariable: JSONValue]

    /// Creates a formula from `expression` and the `defaults` of its variables.
    public init(_ expression: FormulaExpression, defaults: [FormulaVariable: JSONValue] = [:]) {
        self.expression = expression
        self.defaults = defaults
    }

    /// `defaults` keyed by Qdrant's variable syntax (`"$score[1]"`, `"price"`).
    /// Throws `.invalidArgument` for a key that is not a variable.
    public init(_ expression: FormulaExpression, defaults: [String: JSONValue]) throws {
        var parsed: [FormulaVariable: JSONValue] = [:]
        for (key, value) in defaults { parsed[try FormulaVariable(parsing: key)] = value }
        self.init(expression, defaults: parsed)
    }
}

extension FormulaExpression {
    /// A variable in Qdrant's syntax (`"$score"`, `"$score[1]"`, a payload key).
    public static func variable(named text: String) throws -> FormulaExpression {
        .variable(try FormulaVariable(parsing: text))
    }

    /// A number as Rust's `Display` writes it (`-1`, `0.5`, `NaN`, `inf`), for
    /// messages worded as Qdrant's.
    package static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// The decay's constant λ (Qdrant's `decay_params_to_lambda`). Throws
    /// `.invalidArgument` for a midpoint or a scale out of range.
    package static func decayLambda(_ kind: DecayKind, midpoint: Double?, scale: Double?) throws -> Double {
        let midpoint = midpoint ?? 0.5
        let scale = scale ?? 1
        switch kind {
        case .linear:
            guard (0...1).contains(midpoint) else {
                throw StrataError.invalid(
                    "Linear decay midpoint should be in the range [0.0, 1.0], got \(Self.format(midpoint))."
                )
            }
        case .exponential, .gaussian:
            guard midpoint > 0, midpoint < 1 else {
                throw StrataError.invalid(
                    "Decay midpoint should be in the range (0.0, 1.0), got \(Self.format(midpoint)).")
            }
        }
        guard scale > 0 else {
            throw StrataError.invalid("Decay scale should be non-zero positive, got \(Self.format(scale)).")
        }
        switch kind {
        case .linear: return (1 - midpoint) / scale
        case .exponential: return Foundation.log(midpoint) / scale
        case .gaussian: return Foundation.log(midpoint) / (scale * scale)
        }
    }

    private var isMax: Bool {
        if case .max = self { return true }
        return false
    }

    /// Checks what can be checked before reading anything: the decay
    /// parameters, the datetime constants, finite constants. Throws
    /// `.invalidArgument` for the first problem found.
    package func validate() throws {
        switch self {
        case .constant(let value):
            guard value.isFinite else { throw StrataError.invalid("formula constants must be finite, got \(value)") }
        case .variable, .condition, .geoDistance, .datetimeKey: break
        case .datetime(let text):
            guard Datetime.microseconds(text) != nil else {
                throw StrataError.invalid("failed to parse date-time \(text): not an RFC 3339 datetime")
            }
        case .sum(let terms), .mult(let terms): for term in terms { try term.validate() }
        case .max(let terms), .min(let terms):
            guard !terms.isEmpty else {
                throw StrataError.invalid("`\(self.isMax ? "max" : "min")` needs at least one operand")
            }
            for term in terms { try term.validate() }
        case .neg(let inner), .abs(let inner), .sqrt(let inner), .exp(let inner), .log10(let inner), .ln(let inner),
            .acosh(let inner):
            try inner.validate()
        case .div(let left, let right, _):
            try left.validate()
            try right.validate()
        case .pow(let base, let exponent):
            try base.validate()
            try exponent.validate()
        case .decay(let kind, let x, let target, let midpoint, let scale):
            _ = try Self.decayLambda(kind, midpoint: midpoint, scale: scale)
            try x.validate()
            try target?.validate()
        }
    }
}
