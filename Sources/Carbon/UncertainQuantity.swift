import Foundation

/// A non-negative input with its 90 % interval, which may be asymmetric.
///
/// Inputs are multiplied together (energy × PUE × intensity), so the spread is kept as log half-widths:
/// `ln(central/low)` below and `ln(high/central)` above. See `UncertaintyBudget` for how they combine.
public struct UncertainQuantity: Hashable, Codable, Sendable {
    public let central: Double
    public let low: Double
    public let high: Double

    /// A value known exactly: it adds no spread.
    public init(exactly value: Double) {
        central = value
        low = value
        high = value
    }

    /// `central` ± `relativeRange` × `central`, e.g. 0.05 for ±5 %.
    ///
    /// - Throws: `CarbonError.invalidUncertainty` unless `central` ≥ 0 and 0 ≤ `relativeRange` < 1 (a range of
    ///   100 % or more would put the low bound at or below zero, where a log-scale spread is undefined).
    public init(central: Double, relativeRange: Double) throws {
        guard central.isFinite, central >= 0 else {
            throw CarbonError(.invalidUncertainty, "value \(central) must be a finite number, zero or more")
        }
        guard relativeRange.isFinite, relativeRange >= 0, relativeRange < 1 else {
            throw CarbonError(
                .invalidUncertainty,
                "relative range \(relativeRange) must be at least 0 and below 1, e.g. 0.05 for ±5 %")
        }
        try self.init(central: central, low: central * (1 - relativeRange), high: central * (1 + relativeRange))
    }

    /// An explicit 90 % interval.
    ///
    /// - Throws: `CarbonError.invalidUncertainty` unless 0 < `low` ≤ `central` ≤ `high`, all finite, or all
    ///   three are equal (an exact value, zero included).
    public init(central: Double, low: Double, high: Double) throws {
        guard central.isFinite, low.isFinite, high.isFinite else {
            throw CarbonError(.invalidUncertainty, "interval \(low)…\(high) around \(central) must be finite")
        }
        let exact = low == central && central == high && central >= 0
        guard exact || (low > 0 && low <= central && central <= high) else {
            throw CarbonError(
                .invalidUncertainty,
                "interval \(low)…\(high) must satisfy 0 < low ≤ central (\(central)) ≤ high")
        }
        self.central = central
        self.low = low
        self.high = high
    }

    /// `central` with log half-widths `below` and `above` (each ≥ 0).
    init(central: Double, logBelow below: Double, logAbove above: Double) {
        self.central = central
        low = central * exp(-below)
        high = central * exp(above)
    }

    public var interval: Interval<Double> { Interval(central: central, low: low, high: high) }

    public var isExact: Bool { low == high }

    /// 1/x with bounds swapped, for inputs that divide (a longer lifetime means less embodied carbon per hour).
    public var reciprocal: UncertainQuantity {
        guard central > 0, low > 0 else { return UncertainQuantity(exactly: central == 0 ? 0 : 1 / central) }
        return UncertainQuantity(central: 1 / central, logBelow: logAbove, logAbove: logBelow)
    }

    /// `ln(central/low)`; 0 for an exact or zero value.
    var logBelow: Double { isExact || central <= 0 ? 0 : log(central / low) }

    /// `ln(high/central)`; 0 for an exact or zero value.
    var logAbove: Double { isExact || central <= 0 ? 0 : log(high / central) }
}
