import Carbon
import Foundation
import Ledger

/// A run's energy and its carbon footprint, both recomputed from the ledger's raw samples.
public struct RunFootprint: Codable, Sendable {
    public var energy: RunEnergy
    public var carbon: CarbonEstimate
    public var tokens: Double?
    public var joulesPerToken: Double?
    public var kWhPerToken: Double?
    /// Total emissions (operational + embodied) per token, g CO2e.
    public var gramsPerToken: Double?

    /// - Parameters:
    ///   - site: where the run's machine sits, for the PUE default; a cloud region implies its provider.
    ///   - pue: an explicit PUE, which overrides the site default.
    public static func compute(ledger: Ledger, run id: Int64, data: CarbonData, site: SiteType? = nil, pue: Double? = nil) throws -> RunFootprint {
        let energy = try RunEnergy.compute(ledger: ledger, run: id)
        let run = try ledger.run(id)
        let region = RegionResolution.resolve(flag: run.region, environment: [:], configValue: nil)
        let relative = energy.totalJoules > 0 ? (energy.totalHighJoules - energy.totalJoules) / energy.totalJoules : EstimateRequest.counterSpec
        let year = Calendar(identifier: .gregorian).component(.year, from: LedgerClock.parseUTC(run.startedAt) ?? Date())
        let request = EstimateRequest(itEnergy: Energy(joules: energy.totalJoules), region: region, usageYear: year,
                                      energyRelativeUncertainty: max(relative, 0), site: site, pue: pue)
        let carbon = try CarbonEstimator(data: data).estimate(request)
        let perToken = energy.tokens.flatMap { $0 > 0 ? $0 : nil }
        return RunFootprint(energy: energy, carbon: carbon, tokens: energy.tokens,
                            joulesPerToken: perToken.map { energy.totalJoules / $0 },
                            kWhPerToken: perToken.map { energy.totalJoules / 3.6e6 / $0 },
                            gramsPerToken: perToken.map { carbon.total.grams / $0 })
    }
}
