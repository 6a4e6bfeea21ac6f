import Measures
/// The result of `CarbonEstimator`, complete enough to print, store or emit as JSON.
///
/// Total = location-based + embodied; the market-based figure is reported beside it, never added.
public struct CarbonEstimate: Hashable, Codable, Sendable {
    /// The intensity used and how to cite it.
    public struct IntensityUsed: Hashable, Codable, Sendable {
        public let intensity: CarbonIntensity
        public let year: Int?
        public let basis: String
        public let origin: IntensityFigure.Origin
        public let label: String
        public let source: String
        public let licence: String
        public let attribution: String
        /// The zone the region lies in.
        public let zone: String
        /// The cloud region, when one was named.
        public let cloudRegion: String?
        /// For a cloud region: why its zone or provider figure is used.
        public let why: String?
        /// The 90 % band put around the figure (`IntensityUncertainty`).
        public let band: Interval<CarbonIntensity>
    }

    public struct PUEUsed: Hashable, Codable, Sendable {
        public let value: Double
        public let low: Double
        public let high: Double
        /// The site type whose default was used; nil for a user-supplied PUE.
        public let site: SiteType?
        public let year: Int?
        public let source: String
        public let isOverride: Bool
    }

    public struct EmbodiedUsed: Hashable, Codable, Sendable {
        public let hardware: String
        public let name: String
        public let count: Double
        public let hours: Double
        /// TE of one unit.
        public let perUnit: CarbonMass
        public let lifetimeYears: Double
        public let isDerived: Bool
        public let source: String
    }

    public let region: RegionResolution
    public let usageYear: Int
    public let itEnergy: Energy
    public let facilityEnergy: Energy
    public let locationBased: CarbonMass
    public let marketBased: Scope2.MarketBased?
    public let embodied: CarbonMass
    public let total: CarbonMass
    /// Embodied ÷ total, 0…1.
    public let embodiedShare: Double
    /// 90 % interval of `total`.
    public let interval: Interval<CarbonMass>
    /// The input with the largest share of the variance, nil when nothing is uncertain.
    public let dominantContributor: String?
    /// Inputs with a non-zero variance share, largest first.
    public let contributions: [UncertaintyContribution]
    public let intensity: IntensityUsed
    public let pue: PUEUsed
    public let hardware: EmbodiedUsed?
    /// What the reader must know about how the estimate was made, most important first.
    public let flags: [CarbonFinding]
    /// Attribution lines the data licences require.
    public let attribution: [String]
}
