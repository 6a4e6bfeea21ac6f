import Carbon
import Foundation
import Ledger
import Measures
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
    /// Energy per phase the run marked (a program's `WATTPRINT_EVENTS`, a benchmark's windows); nil when none.
    public var phases: [PhaseTotal]?
    /// Set when an hourly intensity series was applied: how the run's energy fell across its hours.
    public var hourly: HourlyEmissions?

    /// The settings the footprint was computed with: what the run recorded, with any overrides applied.
    public var settings: FootprintSettings
    /// Whether the run recorded its settings (runs from before wattprint kept them did not: their region as
    /// recorded and the defaults stand in).
    public var settingsRecorded: Bool
    /// Each setting given now that differs from what the run recorded, in words ("PUE 1.2 (override; the run
    /// recorded 1.5)").
    public var overrides: [String]
    /// What could not be reproduced as the run printed it, and why.
    public var notes: [String]
    /// The training steps the run recorded, in brief; nil when it recorded none.
    public var steps: StepSummary? = nil

    /// Recomputes a run's footprint from the ledger alone: its energy from the raw samples, and its region, site, PUE,
    /// hourly intensities, contractual instruments and hardware as the run recorded them, unless `overrides` replaces
    /// one (each labelled in `overrides`).
    /// - Throws: what `RunEnergy.compute` throws; `CarbonError` for a region the tables do not know or invalid
    ///   settings.
    public static func compute(ledger: Ledger, run id: Int64, data: CarbonData, overrides: FootprintOverrides = .none) throws
        -> RunFootprint
    {
        let (energy, windows) = try RunEnergy.compute(ledger: ledger, run: id, phases: true)
        let run = try ledger.run(id)
        let events = try ledger.events(run: id)
        var recorded: FootprintSettings?, recordedHours: RecordedHourlyIntensity?
        let malformedLines = events.filter { $0.kind == "malformed_event" }.compactMap { e -> MalformedEventLine? in
            if case let .malformedEvent(m) = RunEvent(e) { return m }
            return nil
        }
        let malformed = events.filter { $0.kind == "malformed_event" }.count
        for e in events.lazy.filter({ $0.kind == FootprintSettings.eventKind || $0.kind == "hourly_intensity" }).map(RunEvent.init) {
            switch e {
            case let .footprintSettings(f): recorded = f
            case let .hourlyIntensity(h): recordedHours = h
            default: break
            }
        }
        var settings =
            recorded
            ?? FootprintSettings(
                region: RegionResolution.resolve(flag: run.region, environment: [:], configValue: nil),
                site: nil, pue: nil)
        var labels: [String] = [], notes: [String] = []
        if malformed > 0 {
            notes.append(
                "\(malformed == 1 ? "1 line" : "\(malformed) lines") the command wrote to $WATTPRINT_EVENTS \(malformed == 1 ? "was not an event and was" : "were not events and were") kept as written (malformed_event)"
            )
            // Each line's problem, so the program can be fixed without reading the ledger with sqlite3.
            let shown = 5
            notes += malformedLines.prefix(shown).map { "  line \($0.line): \($0.problem): \(String($0.text.prefix(80)))" }
            if malformedLines.count > shown {
                notes.append("  … and \(malformedLines.count - shown) more, each kept in the ledger as a malformed_event")
            }
        }
        func override<T: Equatable>(_ name: String, _ new: T?, _ keyPath: WritableKeyPath<FootprintSettings, T?>, _ text: (T) -> String) {
            guard let new, new != settings[keyPath: keyPath] else { return }
            labels.append("\(name) \(text(new)) (override; the run recorded \(settings[keyPath: keyPath].map(text) ?? "none"))")
            settings[keyPath: keyPath] = new
        }
        if let region = overrides.region, region.query != settings.region.query {
            labels.append(
                "region \(region.query) (override; the run recorded \(settings.region.isDefaulted ? "none" : settings.region.query))")
            settings.region = region
        }
        override("site", overrides.site, \.site) { $0.rawValue }
        override("PUE", overrides.pue, \.pue) { "\($0)" }
        override("instruments", overrides.instruments, \.instruments) { "covered share \($0.coveredShare)" }
        override("hardware", overrides.hardware, \.hardware) { "\($0.count) × \($0.hardware)" }

        // The hourly series: given now, else the hours the run recorded.
        var series: HourlyIntensitySeries?
        if let given = overrides.hourly {
            series = given.series
            if given.reference.sha256 != settings.hourly?.sha256 {
                labels.append("hourly series \(given.reference.name) (override; the run recorded \(settings.hourly?.name ?? "none"))")
                settings.hourly = given.reference
            }
        } else if let slice = recordedHours {
            series = try slice.intensitySeries()
        } else if let reference = settings.hourly {
            notes.append(
                "the run was given the hourly series \(reference.name) but ended before recording the hours it covered: the annual figure is used; pass --hourly \(reference.name) to apply it"
            )
            settings.hourly = nil
        }

        let region = settings.region
        var intensity = EstimateRequest.IntensityChoice.region
        var hourlyResult: HourlyEmissions?
        if let series {
            let annual = try data.grid.resolve(region).figure
            let profile = try energyProfile(ledger: ledger, run: run)
            let result = series.emissions(for: profile, fallback: annual.intensity)
            hourlyResult = result
            intensity = .figure(series.figure(for: result, year: annual.year, basis: annual.basis, source: .userSupplied))
        }
        let relative =
            energy.totalJoules > 0 ? (energy.totalHighJoules - energy.totalJoules) / energy.totalJoules : EstimateRequest.counterSpec
        let year = Calendar(identifier: .gregorian).component(.year, from: LedgerClock.parseUTC(run.startedAt) ?? Date())
        let reservation = try settings.hardware.map {
            try HardwareReservation(hardware: $0.hardware, count: $0.count, hours: max(energy.seconds, 1e-9) / 3600)
        }
        let request = EstimateRequest(
            itEnergy: Energy(joules: energy.totalJoules), region: region, usageYear: year,
            energyRelativeUncertainty: max(relative, 0), intensity: intensity, site: settings.site,
            pue: settings.pue, hardware: reservation, instruments: settings.instruments)
        let carbon = try CarbonEstimator(data: data).estimate(request)
        let perToken = energy.tokens.flatMap { $0 > 0 ? $0 : nil }
        // A benchmark's steps belong to several workloads and repeats: one summary of them would mix models.
        let isBenchmark = events.contains { $0.kind == "bench_plan" }
        let steps =
            isBenchmark
            ? nil
            : StepSummary(
                events.filter { $0.kind == "step" }.compactMap { e -> StepRecord? in
                    if case let .step(s) = RunEvent(e) { return s }
                    return nil
                })
        return RunFootprint(
            energy: energy, carbon: carbon, tokens: energy.tokens,
            joulesPerToken: perToken.map { energy.totalJoules / $0 },
            kWhPerToken: perToken.map { energy.totalJoules / 3.6e6 / $0 },
            gramsPerToken: perToken.map { carbon.total.grams / $0 },
            phases: PhaseTotal.totals(windows).nilIfEmpty, hourly: hourlyResult,
            settings: settings, settingsRecorded: recorded != nil, overrides: labels, notes: notes, steps: steps)
    }

    /// The run's energy as timed segments: each reading interval's counted energy of each channel, placed on the
    /// wall clock through the run's monotonic origin.
    public static func energyProfile(ledger: Ledger, run: Run) throws -> EnergyProfile {
        guard let id = run.id, let start = LedgerClock.parseUTC(run.startedAt) else { return try EnergyProfile(segments: []) }
        func date(_ tNs: Int64) -> Date { start.addingTimeInterval(Double(tNs - run.monotonicOriginNs) / 1e9) }
        let integration = try RecordedIntegration(events: try ledger.events(run: id))
        var segments: [EnergyProfile.Segment] = []
        var byChannel: [Int: [Int]] = [:]
        _ = try integration.replay(records: try ledger.channels(run: id), samples: try ledger.samples(run: id)) {
            position, from, to, joules in
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

extension Array {
    var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
