/// A cloud provider region, the grid zone its documented location lies in, and the provider-side figure.
public struct CloudRegion: Hashable, Codable, Sendable, Identifiable {
    /// Which figure an estimate uses for this region.
    public enum FigureChoice: String, Codable, Sendable {
        case zone
        case provider
    }

    /// A figure published for the region (by the provider, or by a third party for it).
    public struct PublishedFigure: Hashable, Codable, Sendable {
        public let intensity: CarbonIntensity
        public let year: Int?
        public let basis: IntensityBasis
        public let source: DataSource
        /// The original citation the dataset gives for the row.
        public let originalSource: String
    }

    /// "provider:region", lowercase, e.g. "aws:us-east-1".
    public let id: String
    public let location: String
    public let zoneID: String
    /// Why the location maps to that zone.
    public let zoneWhy: String
    public let published: PublishedFigure?
    public let used: FigureChoice
    /// Why `used` was chosen.
    public let why: String

    /// "aws", "gcp" or "azure".
    public var provider: String { String(id.prefix { $0 != ":" }) }
}
