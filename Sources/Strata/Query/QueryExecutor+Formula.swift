import Foundation

// Formula queries (Qdrant's score boosting, lib/segment/src/index/
// query_optimization/rescore_formula): every point the prefetches returned,
// rescored by the formula (Formula.swift), best first.

extension QueryExecutor {
    /// The points of `sources` scored by `formula`, best first (equal scores
    /// by id), those below `scoreThreshold` left out, at most `limit`. Each
    /// point's payload is read once (and only when the formula reads one);
    /// each condition of the formula is one filter over the candidates.
    /// Throws `.invalidArgument` for a variable without a value or of the
    /// wrong type, or a non-finite result (the message names where).
    func rescore(
        _ sources: [[ScoredPoint]], formula: Formula, scoreThreshold: Float?, limit: Int
    ) throws -> [ScoredPoint] {
        let ids = Self.distinctIDs(sources)
        guard limit > 0, !ids.isEmpty else { return [] }
        var conditions: [Condition] = []
        formula.expression.collectConditions(into: &conditions)
        var matches: [Condition: Set<PointID>] = [:]
        if !conditions.isEmpty {
            let candidates = Condition.hasID(Set(ids))
            for condition in conditions where matches[condition] == nil {
                matches[condition] = Set(try matchingIDs(Filter(must: [condition, candidates])))
            }
        }
        let evaluator = FormulaEvaluator(formula: formula, sources: sources, matches: matches)
        let points = try records(ids, withPayload: formula.expression.readsPayload, withVector: false)
        var scored: [ScoredPoint] = []
        scored.reserveCapacity(points.count)
        for record in points {
            let score = try evaluator.score(record.id, payload: record.payload ?? [:])
            scored.append(ScoredPoint(id: record.id, version: record.version, score: score))
        }
        let ranked = scored.sorted(by: Self.order(higherIsBetter: true))
        return Array(applyThreshold(ranked, scoreThreshold, higherIsBetter: true, strict: false).prefix(limit))
    }
}

extension FormulaExpression {
    /// Every condition in the expression, in order of appearance.
    func collectConditions(into conditions: inout [Condition]) {
        switch self {
        case .condition(let condition): conditions.append(condition)
        case .constant, .variable, .geoDistance, .datetime, .datetimeKey: break
        case .sum(let terms), .mult(let terms), .max(let terms), .min(let terms):
            for term in terms { term.collectConditions(into: &conditions) }
        case .neg(let inner), .abs(let inner), .sqrt(let inner), .exp(let inner), .log10(let inner), .ln(let inner),
            .acosh(let inner):
            inner.collectConditions(into: &conditions)
        case .div(let left, let right, _):
            left.collectConditions(into: &conditions)
            right.collectConditions(into: &conditions)
        case .pow(let base, let exponent):
            base.collectConditions(into: &conditions)
            exponent.collectConditions(into: &conditions)
        case .decay(_, let x, let target, _, _):
            x.collectConditions(into: &conditions)
            target?.collectConditions(into: &conditions)
        }
    }

    /// Whether evaluating the expression reads the payload.
    var readsPayload: Bool {
        switch self {
        case .variable(.payload), .geoDistance, .datetimeKey: true
        case .constant, .variable(.score), .condition, .datetime: false
        case .sum(let terms), .mult(let terms), .max(let terms), .min(let terms): terms.contains { $0.readsPayload }
        case .neg(let inner), .abs(let inner), .sqrt(let inner), .exp(let inner), .log10(let inner), .ln(let inner),
            .acosh(let inner):
            inner.readsPayload
        case .div(let left, let right, _): left.readsPayload || right.readsPayload
        case .pow(let base, let exponent): base.readsPayload || exponent.readsPayload
        case .decay(_, let x, let target, _, _): x.readsPayload || target?.readsPayload == true
        }
    }
}

/// Evaluates one formula for many points (Qdrant's `FormulaScorer`), in Double.
struct FormulaEvaluator {
    let formula: Formula
    /// Per prefetch, each point's score there.
    let scores: [[PointID: Float]]
    /// Per condition of the formula, the candidates matching it.
    let matches: [Condition: Set<PointID>]

    init(formula: Formula, sources: [[ScoredPoint]], matches: [Condition: Set<PointID>]) {
        self.formula = formula
        self.scores = sources.map { source in
            Dictionary(source.map { ($0.id, $0.score) }, uniquingKeysWith: { first, _ in first })
        }
        self.matches = matches
    }

    /// A failure while evaluating: the message, and the path of the node (built on the way up).
    struct Failure: Error {
        var message: String
        var nonFinite: Bool
        var path: [String] = []
    }

    /// The formula's value for point `id` with `payload`, as a Float. Throws
    /// `.invalidArgument` as `QueryExecutor.rescore(_:formula:…)` documents.
    func score(_ id: PointID, payload: Payload) throws -> Float {
        do {
            let value = try evaluate(formula.expression, id, payload)
            let score = Float(value)
            guard score.isFinite else {
                throw Failure(message: "\(Self.format(value)) as f32 = \(Self.format(Double(score)))", nonFinite: true)
            }
            return score
        } catch let failure as Failure {
            guard failure.nonFinite else { throw StrataError.invalid(failure.message) }
            let path = (["formula"] + failure.path).joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            throw StrataError.invalid(
                "The expression \(failure.message) produced a non-finite number (at \(path), point \(id))")
        }
    }

    /// Runs `body`, prefixing the path of a failure with `step`.
    private func at<T>(_ step: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch var failure as Failure {
            failure.path.insert(step, at: 0)
            throw failure
        }
    }

    /// `value` unless it is not finite: then a failure describing `expression`.
    private func finite(_ value: Double, _ expression: @autoclosure () -> String) throws -> Double {
        guard value.isFinite else {
            throw Failure(message: "\(expression()) = \(Self.format(value))", nonFinite: true)
        }
        return value
    }

    private func evaluate(_ expression: FormulaExpression, _ id: PointID, _ payload: Payload) throws -> Double {
        func sub(_ step: String, _ inner: FormulaExpression) throws -> Double {
            try at(step) { try evaluate(inner, id, payload) }
        }
        switch expression {
        case .constant(let value):
            return value
        case .variable(.score(let index)):
            if index < scores.count, let score = scores[index][id] { return Double(score) }
            return formula.defaults[.score(index)]?.number ?? 0
        case .variable(.payload(let path)):
            return try parsed(path, payload, "number") { value in
                guard let number = value.number else {
                    throw Failure(message: "Value is not a number", nonFinite: false)
                }
                return number
            }
        case .condition(let condition):
            return matches[condition]?.contains(id) == true ? 1 : 0
        case .geoDistance(let origin, let key):
            let destination = try parsed(key, payload, "geo point") { value in
                guard let point = GeoPoint(value) else {
                    throw Failure(message: "not a geo point {\"lon\": …, \"lat\": …}", nonFinite: false)
                }
                return point
            }
            return origin.distance(to: destination)
        case .datetime(let text):
            return Double(Datetime.microseconds(text) ?? 0) / 1_000_000
        case .datetimeKey(let key):
            return try parsed(key, payload, "datetime") { value in
                guard case .string(let text) = value else {
                    throw Failure(message: "Value is not a string", nonFinite: false)
                }
                guard let micros = Datetime.microseconds(text) else {
                    throw Failure(message: "\"\(text)\" is not an RFC 3339 datetime", nonFinite: false)
                }
                return Double(micros) / 1_000_000
            }
        case .sum(let terms):
            var total = 0.0
            for (index, term) in terms.enumerated() { total += try sub("sum[\(index)]", term) }
            return total
        case .mult(let factors):
            var product = 1.0
            for (index, factor) in factors.enumerated() {
                let value = try sub("mult[\(index)]", factor)
                if value == 0 { return 0 }
                product *= value
            }
            return product
        case .max(let terms):
            var largest = -Double.infinity
            for (index, term) in terms.enumerated() {
                largest = Double.maximum(largest, try sub("max[\(index)]", term))
            }
            return largest
        case .min(let terms):
            var smallest = Double.infinity
            for (index, term) in terms.enumerated() {
                smallest = Double.minimum(smallest, try sub("min[\(index)]", term))
            }
            return smallest
        case .neg(let inner):
            return -(try sub("neg", inner))
        case .abs(let inner):
            return Swift.abs(try sub("abs", inner))
        case .div(let left, let right, let byZeroDefault):
            let numerator = try sub("div.left", left)
            if numerator == 0 { return 0 }
            let denominator = try sub("div.right", right)
            if denominator == 0, let byZeroDefault { return byZeroDefault }
            return try at("div") {
                try finite(numerator / denominator, "\(Self.format(numerator))/\(Self.format(denominator))")
            }
        case .sqrt(let inner):
            let value = try sub("sqrt", inner)
            return try at("sqrt") { try finite(value.squareRoot(), "√\(Self.format(value))") }
        case .pow(let base, let exponent):
            let b = try sub("pow.base", base)
            let e = try sub("pow.exponent", exponent)
            return try at("pow") { try finite(Foundation.pow(b, e), "\(Self.format(b))^\(Self.format(e))") }
        case .exp(let inner):
            let value = try sub("exp", inner)
            return try at("exp") { try finite(Foundation.exp(value), "exp(\(Self.format(value)))") }
        case .log10(let inner):
            let value = try sub("log10", inner)
            return try at("log10") { try finite(Foundation.log10(value), "log10(\(Self.format(value)))") }
        case .ln(let inner):
            let value = try sub("ln", inner)
            return try at("ln") { try finite(Foundation.log(value), "ln(\(Self.format(value)))") }
        case .acosh(let inner):
            let value = try sub("acosh", inner)
            return try at("acosh") { try finite(Foundation.acosh(value), "acosh(\(Self.format(value)))") }
        case .decay(let kind, let x, let target, let midpoint, let scale):
            let lambda = try FormulaExpression.decayLambda(kind, midpoint: midpoint, scale: scale)
            let value = try sub("\(kind.rawValue).x", x)
            let center = try target.map { try sub("\(kind.rawValue).target", $0) } ?? 0
            switch kind {
            case .linear: return Swift.max(0, 1 - lambda * Swift.abs(value - center))
            case .exponential: return Foundation.exp(lambda * Swift.abs(value - center))
            case .gaussian: return Foundation.exp(lambda * (value - center) * (value - center))
            }
        }
    }

    /// The value at payload key `path` (one value; several as an array;
    /// none: the default), converted by `convert`. Fails with Qdrant's
    /// message when there is no value or it does not convert.
    private func parsed<T>(
        _ path: PayloadPath, _ payload: Payload, _ type: String, _ convert: (JSONValue) throws -> T
    ) throws -> T {
        let values = path.values(in: payload)
        let value: JSONValue?
        switch values.count {
        case 0: value = formula.defaults[.payload(path)]
        case 1: value = values[0]
        default: value = .array(values)
        }
        func failure(_ description: String) -> Failure {
            Failure(
                message:
                    "Expected \(type) value for \(path) in the payload and/or in the formula defaults. Error: \(description)",
                nonFinite: false)
        }
        guard let value else { throw failure("No value found in a payload nor defaults") }
        do { return try convert(value) } catch let inner as Failure { throw failure(inner.message) }
    }

    /// A number as Rust's `Display` writes it (`-1`, `0.5`, `NaN`, `inf`).
    static func format(_ value: Double) -> String { FormulaExpression.format(value) }
}
