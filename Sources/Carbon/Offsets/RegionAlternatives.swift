import Measures

/// The same IT energy run elsewhere: each region's location-based emissions with that site's PUE, against the run's
/// own. Location-based only, on both sides: comparing a market-based figure with a location-based one is a known way
/// to overstate a saving.
public struct RegionAlternative: Codable, Sendable, Equatable {
    public var region: String
    public var name: String
    public var site: String
    public var pue: Double
    public var intensityGramsPerKWh: Double
    public var year: Int?
    public var grams: Double
    /// The run's own location-based emissions minus these (positive: this region emits less).
    public var savingGrams: Double

    /// - Parameters:
    ///   - actualGrams: the run's own location-based emissions, to compare against.
    ///   - site: the run's site, used for regions that are not a cloud provider's.
    /// - Throws: `CarbonError` for a region the tables do not know (with the closest names).
    public static func compare(
        itEnergy: Energy, regions: [String], actualGrams: Double, site: SiteType?, usageYear: Int, data: CarbonData
    ) throws -> [RegionAlternative] {
        try regions.map { query in
            let resolution = RegionResolution.resolve(flag: query, environment: [:], configValue: nil)
            let cloud = query.split(separator: ":").first.flatMap { query.contains(":") ? SiteType.cloudProvider(String($0)) : nil }
            let estimate = try CarbonEstimator(data: data).estimate(
                EstimateRequest(itEnergy: itEnergy, region: resolution, usageYear: usageYear, site: cloud ?? site))
            return RegionAlternative(
                region: query, name: estimate.intensity.label, site: (cloud ?? site ?? .onPremises).rawValue, pue: estimate.pue.value,
                intensityGramsPerKWh: estimate.intensity.intensity.gramsPerKilowattHour, year: estimate.intensity.year,
                grams: estimate.locationBased.grams, savingGrams: actualGrams - estimate.locationBased.grams)
        }
    }

    /// A provider's `count` regions with the lowest location-based intensity in the tables.
    /// - Throws: `CarbonError.unknownRegion` for a provider with no regions.
    public static func cleanest(_ count: Int, provider: String, data: CarbonData) throws -> [String] {
        let regions = data.grid.cloudRegions.filter { $0.provider == provider.lowercased() }
        guard !regions.isEmpty else {
            throw CarbonError(
                .unknownRegion, "no cloud regions of '\(provider)' in the tables; use aws, gcp or azure")
        }
        let ranked = try regions.map { ($0.id, try data.grid.resolve($0.id).figure.intensity.gramsPerKilowattHour) }.sorted { $0.1 < $1.1 }
        return ranked.prefix(max(count, 0)).map(\.0)
    }
}
