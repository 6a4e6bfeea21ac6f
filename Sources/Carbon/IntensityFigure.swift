import Measures
/// The grid intensity an estimate uses, with everything needed to cite and qualify it.
public struct IntensityFigure: Hashable, Codable, Sendable {
    /// Which kind of figure this is.
    public enum Origin: String, Codable, Sendable {
        /// A grid zone's annual figure (country, sub-national zone or aggregate).
        case zone
        /// A cloud provider's published figure for a region.
        case provider
        /// The world average, because no region was given.
        case worldDefault = "world-default"
        /// A figure the user typed.
        case userSupplied = "user"
        /// Energy-weighted from an hourly series.
        case hourly
    }

    public let intensity: CarbonIntensity
    /// The data year; nil when the source states none.
    public let year: Int?
    public let basis: IntensityBasis
    public let source: DataSource
    public let origin: Origin
    /// What the figure is for, e.g. "US (United States)".
    public let label: String

    public init(
        intensity: CarbonIntensity, year: Int?, basis: IntensityBasis, source: DataSource,
        origin: Origin, label: String
    ) {
        self.intensity = intensity
        self.year = year
        self.basis = basis
        self.source = source
        self.origin = origin
        self.label = label
    }

    /// A figure typed by the user: no year, basis not stated.
    public static func userSupplied(_ intensity: CarbonIntensity) -> IntensityFigure {
        IntensityFigure(
            intensity: intensity, year: nil, basis: IntensityBasis("not stated (user-supplied)"),
            source: .userSupplied, origin: .userSupplied, label: "user-supplied intensity")
    }
}
