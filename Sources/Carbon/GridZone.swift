/// A grid area with one annual carbon intensity: a country, a sub-national zone or an aggregate.
public struct GridZone: Hashable, Codable, Sendable, Identifiable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case country
        case subnational
        case aggregate
    }

    /// ISO 3166-1 alpha-2 for countries ("FR"), Electricity Maps ids for sub-national zones ("US-CAL-CISO"),
    /// ISO 3166-2 for US states ("US-CA"), and names like "WORLD" for aggregates.
    public let id: String
    /// ISO 3166-1 alpha-3 for countries ("FRA").
    public let alias: String?
    public let name: String
    public let kind: Kind
    /// The country (alpha-2) a sub-national zone belongs to.
    public let parent: String?
    public let intensity: CarbonIntensity
    public let year: Int
    public let basis: IntensityBasis
    public let source: DataSource
    public let licence: String
    /// A caveat to show with the figure, e.g. that a state rate is old and direct-combustion.
    public let note: String?

    /// This zone's figure, as an estimate uses it.
    public var figure: IntensityFigure {
        IntensityFigure(
            intensity: intensity, year: year, basis: basis, source: source, origin: .zone,
            label: "\(id) (\(name))")
    }
}
