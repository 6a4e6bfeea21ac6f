import Carbon
import Foundation
import Ledger
import Meters

/// A run's energy and its carbon footprint, both recomputed from the ledger's raw samples.
public struct RunFootprint: Codable, Sendable {
    public var energy: RunEnergy
    public var carbon: CarbonEstimate
    public var tokens: Double?
    public var joulesPerToken: Double?
    public var kWhPerToken: Double?
    /// Total emissions (operational + embodied) per token, g CO2e.
    public var gramsPerToken: Double?
    /// Set when an hourly intensity series was applied: how the run's energy fell across its hours.
    public var hourly: HourlyEmissions?

    /// - Parameters:
    ///   - site: where the run's machine sits, for the PUE default; a cloud region implies its provider.
    ///   - pue: an explicit PUE, which overrides the site default.
    ///   - hourly: an intensity series; each sampling interval's energy is multiplied by its hour's intensity, and
    ///     hours the series lacks fall back to the region's annual figure (and are counted).
    public static func compute(ledger: Ledger, run id: Int64, data: CarbonData, site: SiteType? = nil, pue: Double? = nil,
                               hourly: HourlyIntensitySeries? = nil) throws -> RunFootprint {
        let energy = try RunEnergy.compute(ledger: ledger, run: id)
        let run = try ledger.run(id)
        let region = RegionResolution.resolve(flag: run.region, environment: [:], configValue: nil)
        var intensity = EstimateRequest.IntensityChoice.region
        var hourlyResult: HourlyEmissions?
        if let hourly {
            let annual = try data.grid.resolve(region).figure
            let profile = try energyProfile(ledger: ledger, run: run)
            let result = hourly.emissions(for: profile, fallback: annual.intensity)
            hourlyResult = result
            intensity = .figure(hourly.figure(for: result, year: annual.year, basis: annual.basis, source: .userSupplied))
        }
        let relative = energy.totalJoules > 0 ? (energy.totalHighJoules - energy.totalJoules) / energy.totalJoules : EstimateRequest.counterSpec
        let year = Calendar(identifier: .gregorian).component(.year, from: LedgerClock.parseUTC(run.startedAt) ?? Date())
        let request = EstimateRequest(itEnergy: Energy(joules: energy.totalJoules), region: region, usageYear: year,
                                      energyRelativeUncertainty: max(relative, 0), intensity: intensity, site: site, pue: pue)
        let carbon = try CarbonEstimator(data: data).estimate(request)
        let perToken = energy.tokens.flatMap { $0 > 0 ? $0 : nil }
        return RunFootprint(energy: energy, carbon: carbon, tokens: energy.tokens,
                            joulesPerToken: perToken.map { energy.totalJoules / $0 },
                            kWhPerToken: perToken.map { energy.totalJoules / 3.6e6 / $0 },
                            gramsPerToken: perToken.map { carbon.total.grams / $0 }, hourly: hourlyResult)
    }

    /// The run's energy as timed segments: each reading interval's counted energy of each channel, placed on the
    /// wall clock through the run's monotonic origin.
    static func energyProfile(ledger: Ledger, run: Run) throws -> EnergyProfile {
        guard let id = run.id, let start = LedgerClock.parseUTC(run.startedAt) else { return try EnergyProfile(segments: []) }
        func date(_ tNs: Int64) -> Date { start.addingTimeInterval(Double(tNs - run.monotonicOriginNs) / 1e9) }
        let integration = try RecordedIntegration(events: try ledger.events(run: id))
        var segments: [EnergyProfile.Segment] = []
        var byChannel: [Int: [Int]] = [:]
        _ = try integration.replay(records: try ledger.channels(run: id), samples: try ledger.samples(run: id)) { position, from, to, joules in
            if joules > 0 {
                byChannel[position, default: []].append(segments.count)
                segments.append(.init(start: date(from), end: date(to > from ? to : from + 1), energy: .joules(joules)))
                return
            }
            // A reading taken back (a stray one found later): its energy leaves the channel's latest segments.
            var owed = -joules
            while owed > 0, let k = byChannel[position]?.last {
                let s = segments[k], kept = max(s.energy.joules - owed, 0)
                owed -= s.energy.joules - kept
                segments[k] = .init(start: s.start, end: s.end, energy: .joules(kept))
                if kept == 0 { byChannel[position]?.removeLast() }
            }
        }
        return try EnergyProfile(segments: segments)
    }
}
