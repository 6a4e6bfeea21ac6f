import Measures
/// A mass of greenhouse gas in grams of CO2-equivalent (100-year GWP, as the intensity sources use).
public struct CarbonMass: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var grams: Double

    public init(grams: Double) {
        self.grams = grams
    }

    public static let zero = CarbonMass(grams: 0)

    public static func kilograms(_ value: Double) -> CarbonMass { CarbonMass(grams: value * 1e3) }
    public static func tonnes(_ value: Double) -> CarbonMass { CarbonMass(grams: value * 1e6) }

    public var kilograms: Double { grams / 1e3 }
    public var tonnes: Double { grams / 1e6 }

    /// Emissions of `energy` at `intensity`: kWh × gCO2e/kWh.
    public init(energy: Energy, intensity: CarbonIntensity) {
        self.grams = energy.kilowattHours * intensity.gramsPerKilowattHour
    }

    public static func < (lhs: CarbonMass, rhs: CarbonMass) -> Bool { lhs.grams < rhs.grams }
    public static func + (lhs: CarbonMass, rhs: CarbonMass) -> CarbonMass { CarbonMass(grams: lhs.grams + rhs.grams) }
    public static func - (lhs: CarbonMass, rhs: CarbonMass) -> CarbonMass { CarbonMass(grams: lhs.grams - rhs.grams) }
    public static func * (lhs: CarbonMass, rhs: Double) -> CarbonMass { CarbonMass(grams: lhs.grams * rhs) }
    public static func / (lhs: CarbonMass, rhs: Double) -> CarbonMass { CarbonMass(grams: lhs.grams / rhs) }

    /// Four significant digits in g, kg or t CO2e, e.g. "552.1 t CO2e".
    public var description: String {
        let magnitude = abs(grams)
        if magnitude >= 1e6 { return "\(QuantityFormat.significant(tonnes)) t CO2e" }
        if magnitude >= 1e3 { return "\(QuantityFormat.significant(kilograms)) kg CO2e" }
        return "\(QuantityFormat.significant(grams)) g CO2e"
    }
}

extension Energy {
    /// Emissions of this energy at `intensity`.
    public static func * (lhs: Energy, rhs: CarbonIntensity) -> CarbonMass {
        CarbonMass(energy: lhs, intensity: rhs)
    }
}
