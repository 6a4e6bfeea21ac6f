/// Embodied (manufacturing, transport, end-of-life) emissions of one unit of hardware and its lifetime.
public struct HardwareClass: Hashable, Codable, Sendable, Identifiable {
    /// E.g. "h100", "cpu-server".
    public let id: String
    public let name: String
    /// What one unit is, e.g. "per GPU card".
    public let unit: String
    /// Total embodied emissions of one unit (TE), kgCO2e, with its 90 % band.
    public let embodiedKilograms: UncertainQuantity
    /// True when the figure was derived for wattprint's facts rather than published as is.
    public let isDerived: Bool
    public let source: String
    /// Expected lifespan (EL) in years, with its 90 % band.
    public let lifetimeYears: UncertainQuantity
    public let lifetimeSource: String

    public var totalEmbodied: CarbonMass { .kilograms(embodiedKilograms.central) }
}
