import Measures
/// Emissions of an energy profile against an hourly intensity series.
public struct HourlyEmissions: Hashable, Codable, Sendable {
    /// Σ energy in each hour × that hour's intensity.
    public let emissions: CarbonMass
    public let energy: Energy
    /// Distinct clock hours the profile touches.
    public let hoursCovered: Int
    /// Of those, hours absent from the series, filled with the annual figure.
    public let hoursMissing: Int
    /// Energy that fell in missing hours.
    public let energyInMissingHours: Energy
    /// The annual figure used for missing hours.
    public let fallback: CarbonIntensity

    /// Emissions ÷ energy; zero when there is no energy.
    public var effectiveIntensity: CarbonIntensity {
        guard energy.kilowattHours > 0 else { return .zero }
        return CarbonIntensity(gramsPerKilowattHour: emissions.grams / energy.kilowattHours)
    }
}
