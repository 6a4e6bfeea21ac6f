import Measures
/// Emissions per unit of electricity, in grams of CO2-equivalent per kilowatt-hour.
public struct CarbonIntensity: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var gramsPerKilowattHour: Double

    public init(gramsPerKilowattHour: Double) {
        self.gramsPerKilowattHour = gramsPerKilowattHour
    }

    public static let zero = CarbonIntensity(gramsPerKilowattHour: 0)

    public static func < (lhs: CarbonIntensity, rhs: CarbonIntensity) -> Bool {
        lhs.gramsPerKilowattHour < rhs.gramsPerKilowattHour
    }

    /// E.g. "383.55 gCO2e/kWh" (at most two decimals).
    public var description: String {
        "\(QuantityFormat.decimals(gramsPerKilowattHour, 2)) gCO2e/kWh"
    }

    /// Checks a figure that came from outside (a flag or a file).
    ///
    /// - Throws: `CarbonError.invalidNumber` when it is negative, NaN or infinite.
    public static func validated(gramsPerKilowattHour value: Double, what: String) throws -> CarbonIntensity {
        guard value.isFinite, value >= 0 else {
            throw CarbonError(
                .invalidNumber,
                "\(what) \(value) is not a valid intensity; give grams CO2e per kWh, zero or more, e.g. 429")
        }
        return CarbonIntensity(gramsPerKilowattHour: value)
    }
}
