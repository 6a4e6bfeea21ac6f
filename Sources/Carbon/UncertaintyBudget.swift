import Foundation

/// One named input of an `UncertaintyBudget`.
public struct UncertaintyInput: Hashable, Sendable {
    public let name: String
    public let quantity: UncertainQuantity

    public init(_ name: String, _ quantity: UncertainQuantity) {
        self.name = name
        self.quantity = quantity
    }
}

/// How much of the result's spread one input explains.
public struct UncertaintyContribution: Hashable, Codable, Sendable {
    public let name: String
    /// This input's share of the variance of ln(result), 0…1; the shares sum to 1.
    public let varianceShare: Double
}

/// The result of propagating an `UncertaintyBudget`.
public struct PropagatedUncertainty: Hashable, Codable, Sendable {
    public let interval: Interval<Double>
    /// Largest share first.
    public let contributions: [UncertaintyContribution]

    /// The input with the largest variance share; nil when nothing is uncertain.
    public var dominant: UncertaintyContribution? { contributions.first }
}

/// A sum of products of uncertain inputs, e.g. energy × PUE × intensity + embodied × (1/lifetime).
///
/// Method (first-order, in log space, deterministic):
/// - each input is read as a lognormal factor whose 90 % interval is given, so its log half-width on each
///   side is `k = z₉₀·σ` with z₉₀ = 1.645;
/// - the result's sensitivity to an input is the share of the total carried by the terms that contain it
///   (`∂ln T/∂ln x`; 1 for a pure product);
/// - half-widths add in quadrature, separately below and above: `K = √Σ (s·k)²`, and the interval is
///   `T·e^(−K_below) … T·e^(K_above)` around the point estimate `T` (the sum of products of centrals).
///
/// For a single product this is exact for lognormal inputs; for the operational + embodied sum it is the
/// first-order (delta-method) approximation. Properties the tests pin: widening any input that carries a
/// non-zero share widens the result, and an exact input adds nothing. An input that appears in several terms
/// (same name) counts once, with the summed sensitivity, because it is the same quantity.
public struct UncertaintyBudget: Sendable {
    /// z for a two-sided 90 % interval of a normal distribution.
    public static let z90 = 1.6448536269514722

    public private(set) var terms: [[UncertaintyInput]] = []

    public init() {}

    /// Adds one product of inputs to the sum.
    public mutating func addTerm(_ factors: [UncertaintyInput]) {
        terms.append(factors)
    }

    public func propagate() -> PropagatedUncertainty {
        let values = terms.map { $0.reduce(1.0) { $0 * $1.quantity.central } }
        let total = values.reduce(0, +)
        guard total > 0 else {
            return PropagatedUncertainty(interval: Interval(central: total, low: total, high: total), contributions: [])
        }
        var order: [String] = []
        var sensitivity: [String: Double] = [:]
        var quantity: [String: UncertainQuantity] = [:]
        for (term, value) in zip(terms, values) {
            for input in term {
                if quantity[input.name] == nil {
                    order.append(input.name)
                    quantity[input.name] = input.quantity
                }
                sensitivity[input.name, default: 0] += value / total
            }
        }
        var below = 0.0
        var above = 0.0
        var variance: [(String, Double)] = []
        for name in order {
            let s = sensitivity[name] ?? 0
            let q = quantity[name]!
            let b = s * q.logBelow
            let a = s * q.logAbove
            below += b * b
            above += a * a
            variance.append((name, (b * b + a * a) / 2))
        }
        let sum = variance.reduce(0) { $0 + $1.1 }
        let contributions: [UncertaintyContribution]
        if sum > 0 {
            contributions = variance.enumerated()
                .sorted { ($0.element.1, -$0.offset) > ($1.element.1, -$1.offset) }
                .map { UncertaintyContribution(name: $0.element.0, varianceShare: $0.element.1 / sum) }
        } else {
            contributions = []
        }
        let interval = Interval(central: total, low: total * exp(-below.squareRoot()), high: total * exp(above.squareRoot()))
        return PropagatedUncertainty(interval: interval, contributions: contributions)
    }
}
