import Accounting
import Benchmarks
import Carbon
import Foundation
import Ledger
import Measures

/// "Reductions and offsets": first what the run's own measured profile says could be cut (a later start within a
/// deadline, another region, a measured efficiency change), then an offset plan for what remains, shown apart: the
/// emissions and the SCI stay as measured.
public struct OffsetAdvice: Codable, Sendable, Equatable {
    public struct Options: Sendable {
        public var deadlineHours: Double?
        /// A series given by the user (else the shipped US balancing-authority year, for those zones).
        public var hourly: HourlyIntensitySeries?
        public var hourlyName: String?
        public var regions: [String]
        public var cleanest: Int?
        public var provider: String?
        public var planYears: Int
        /// How often the reported work recurs in a year, to size the plan (default once).
        public var runsPerYear: Double
        /// Credit tiers the plan may buy (default all).
        public var creditTypes: Set<OffsetTables.Tier>
        /// The sustainability-report schema whose rules to follow (`SustainabilityReport.schemaVersion`, or an older
        /// report's when `verify --report` rebuilds it): schema 1 claimed side-by-side reductions on medians alone and
        /// worded the durability table's definitions as storage.
        public var reportSchema = SustainabilityReport.schemaVersion

        public init(
            deadlineHours: Double? = nil, hourly: HourlyIntensitySeries? = nil, hourlyName: String? = nil, regions: [String] = [],
            cleanest: Int? = nil, provider: String? = nil, planYears: Int = 5, runsPerYear: Double = 1,
            creditTypes: Set<OffsetTables.Tier> = Set(OffsetTables.Tier.allCases)
        ) {
            self.creditTypes = creditTypes
            self.deadlineHours = deadlineHours; self.hourly = hourly; self.hourlyName = hourlyName; self.regions = regions
            self.cleanest = cleanest; self.provider = provider; self.planYears = planYears; self.runsPerYear = runsPerYear
        }
    }

    /// An efficiency change that was measured (a benchmark's finding, or another architecture in the same benchmark).
    public struct Efficiency: Codable, Sendable, Equatable {
        public var change: String
        public var phase: String?
        public var joulesPerToken: Double
        public var alternativeJoulesPerToken: Double
        public var savingShare: Double
        public var evidence: String
        public var run: Int64
    }

    public var runs: [Int64]
    /// The emissions as reported (location-based + embodied), g: unchanged by anything below.
    public var emissionsGrams: Double
    public var timeShift: TimeShift?
    public var regions: [RegionAlternative]
    public var efficiency: [Efficiency]
    public var plan: OffsetPlan
    public var notes: [String]

    /// - Throws: `ReportError` for a deadline shorter than the run or a time shift asked where no hourly data exists;
    ///   `CarbonError` for an unknown region or provider.
    /// - Parameter known: the runs' footprints when the caller already computed them (a report), in `ids` order.
    public static func build(
        ledger: Ledger, runs ids: [Int64], data: CarbonData, options o: Options, known: [RunFootprint]? = nil
    ) throws -> OffsetAdvice {
        guard !ids.isEmpty else { throw ReportError("no runs to advise on", fix: "name a run, or a period that has runs") }
        var notes: [String] = []
        let footprints = try known ?? ids.map { try RunFootprint.compute(ledger: ledger, run: $0, data: data) }
        let total = footprints.reduce(0) { $0 + $1.carbon.total.grams }
        var shift: TimeShift?
        if ids.count == 1, let f = footprints.first {
            let zone = try data.grid.resolve(f.settings.region).zone.id
            let series = try o.hourly ?? BundledHourlyYear.series(forZone: zone)
            if let series {
                let run = try ledger.run(ids[0])
                let (start, kWh) = TimeShift.energyPerHour(try RunFootprint.energyProfile(ledger: ledger, run: run))
                let deadline = o.deadlineHours ?? max(24, Double(kWh.count))
                do {
                    shift = try TimeShift.analyse(
                        energyPerHour: kWh, start: start, deadlineHours: deadline, series: series, zone: o.hourlyName ?? zone,
                        seriesYear: o.hourly == nil ? BundledHourlyYear.year : nil)
                } catch let error as CarbonError { throw ReportError(error.description, fix: "see `wattprint offsets --help`") }
            } else if o.deadlineHours != nil {
                throw ReportError(
                    "region \(f.settings.region.query) (zone \(zone)) has no hourly intensity data to shift the run in time",
                    fix: "pass --hourly CSV with its hourly series, or use a region of the shipped year (US-CAL-CISO, US-TEX-ERCO, …)")
            } else {
                notes.append(
                    "time shift not computed: no hourly series for \(zone) (wattprint ships 2022 for nine US balancing authorities; pass --hourly CSV for others)"
                )
            }
        } else if ids.count > 1 {
            notes.append("time shift is computed for a single run (it moves that run's own power profile)")
        }
        var candidates = o.regions
        if let n = o.cleanest {
            guard let provider = o.provider ?? footprints.first?.settings.region.query.split(separator: ":").first.map(String.init),
                SiteType.cloudProvider(provider) != nil
            else { throw ReportError("--cleanest needs a cloud provider", fix: "pass --provider aws, gcp or azure") }
            candidates += try RegionAlternative.cleanest(n, provider: provider, data: data)
        }
        var regions: [RegionAlternative] = []
        if candidates.isEmpty {
            notes.append(
                o.reportSchema >= 2
                    ? "no other region compared: `wattprint offsets RUN --regions A,B` (or --cleanest N --provider aws|gcp|azure) compares some"
                    : "no other region compared: name some with --regions, or --cleanest N --provider aws|gcp|azure")
        } else {
            let it = footprints.reduce(0) { $0 + $1.energy.totalJoules }
            let actual = footprints.reduce(0) { $0 + $1.carbon.locationBased.grams }
            let year = footprints.first?.carbon.usageYear ?? 2026
            regions = try RegionAlternative.compare(
                itEnergy: Energy(joules: it), regions: candidates, actualGrams: actual, site: footprints.first?.settings.site,
                usageYear: year,
                data: data
            ).sorted { $0.grams < $1.grams }
        }
        var efficiency: [Efficiency] = []
        for id in ids {
            for event in try ledger.events(run: id) where event.kind == "bench_findings" {
                guard case let .benchFindings(json) = RunEvent(event),
                    let findings = try? JSONDecoder().decode([EfficiencyFinding].self, from: JSONEncoder().encode(json))
                else { continue }
                // The finding's fix, its detail's last clause ("fix: unset OPENBLAS_CORETYPE …").
                func change(_ f: EfficiencyFinding) -> String {
                    let fix = f.detail.components(separatedBy: ";").last?.trimmingCharacters(in: .whitespaces) ?? f.kind.rawValue
                    return o.reportSchema >= 2 && fix.hasPrefix("fix: ") ? String(fix.dropFirst("fix: ".count)) : fix
                }
                for f in findings where f.evidence == .measured && f.inconclusive != nil && o.reportSchema >= 2 {
                    notes.append(
                        "run \(id): bench tried \"\(change(f))\"\(f.workload.map { " on \($0)" } ?? "")"
                            + "\(f.alternativeRun.map { " (run \($0))" } ?? "") and the result was inconclusive: \(f.inconclusive!); "
                            + "no reduction is claimed from it")
                }
                for f in findings where f.evidence == .measured && f.inconclusive == nil {
                    guard let a = f.joulesPerToken, let b = f.alternativeJoulesPerToken, a > 0 else { continue }
                    efficiency.append(
                        Efficiency(
                            change: change(f),
                            phase: f.phase, joulesPerToken: a, alternativeJoulesPerToken: b, savingShare: (a - b) / a,
                            evidence: "measured: \(f.workload ?? "") rerun\(f.alternativeRun.map { " as run \($0)" } ?? "")", run: id))
                }
            }
            if (try? ledger.events(run: id).contains { $0.kind == "bench_plan" }) == true,
                let analysis = try? BenchAnalysis.compute(ledger: ledger, run: id, data: data), analysis.workloads.count > 1
            {
                let phases = Set(analysis.workloads.flatMap { $0.phases.map(\.phase) }).sorted()
                for phase in phases {
                    let phases = analysis.workloads.compactMap { w in w.phases.first { $0.phase == phase }.map { (w.name, $0) } }
                    let points = phases.map { (name: $0.0, joulesPerToken: $0.1.joulesPerToken) }
                    let (found, note) = Self.sideBySide(
                        points, phase: phase, run: id, schema: o.reportSchema,
                        unreliable: Set(phases.filter { $0.1.flags.contains { BenchFlag.Kind.unranking.contains($0.kind) } }.map(\.0)))
                    efficiency += found.map { [$0] } ?? []
                    notes += note.map { [$0] } ?? []
                }
            }
        }
        if o.reportSchema >= 2 {
            let (kept, disagreements) = Self.withoutContradictions(efficiency)
            efficiency = kept
            notes += disagreements
        }
        if efficiency.isEmpty && !(o.reportSchema >= 2 && notes.contains { $0.contains("inconclusive") }) {
            notes.append(
                "no measured efficiency change: `wattprint bench` measures alternatives (kernels, threads, batch sizes, architectures); none is invented here"
            )
        }
        // The plan starts in the year of the (first) run, so rebuilding a report later gives the same plan.
        let year = footprints.first?.carbon.usageYear ?? 2026
        let plan = try OffsetPlan.make(
            residualTonnesPerYear: total * o.runsPerYear / 1e6, years: o.planYears, tables: try OffsetTables.bundled(), startYear: year,
            allowed: o.creditTypes, revised: o.reportSchema >= 2)
        return OffsetAdvice(
            runs: ids, emissionsGrams: total, timeShift: shift, regions: regions, efficiency: efficiency, plan: plan, notes: notes)
    }

    /// The cheapest and dearest of a benchmark's workloads in one phase (J/token medians, `points` in the plan's order)
    /// as a reduction "best instead of worst", or why none is claimed.
    ///
    /// From schema 2, a reduction needs the two apart: the best's interval (or its one value, measured once) wholly
    /// below the worst's interval (or its one value); otherwise a note says no reduction is claimed, since the order
    /// could be the repeats' noise. With one repeat each (no interval at all) the reduction stands, and its evidence
    /// says so. Nor is one claimed, from schema 2, when either workload's windows carry a flag in `BenchFlag.Kind.unranking`
    /// (`unreliable` names them). Schema 1 compared the medians alone.
    static func sideBySide(
        _ points: [(name: String, joulesPerToken: RepeatSummary)], phase: String, run: Int64, schema: Int,
        unreliable: Set<String> = []
    ) -> (Efficiency?, note: String?) {
        guard let best = points.min(by: { $0.joulesPerToken.median < $1.joulesPerToken.median }),
            let worst = points.max(by: { $0.joulesPerToken.median < $1.joulesPerToken.median }),
            worst.joulesPerToken.median > 0, best.name != worst.name
        else { return (nil, nil) }
        let a = worst.joulesPerToken, b = best.joulesPerToken
        var evidence = "measured side by side in the same benchmark"
        if schema >= 2, let flagged = [best.name, worst.name].first(where: unreliable.contains) {
            return (
                nil,
                "run \(run), \(phase): \(flagged)'s windows failed a validity check that ranking needs (too short for steady "
                    + "state, or a repeat far from the others: `wattprint bench` explains each), so no reduction is claimed between "
                    + "\(best.name) and \(worst.name)"
            )
        }
        if schema >= 2 {
            if b.high == nil, a.low == nil {
                evidence += ", one repeat each (no interval: rerun with --repeats 3 or more to bound the noise)"
            } else {
                func range(_ s: RepeatSummary) -> String {
                    s.low == nil
                        ? "\(QuantityFormat.significant(s.median)) (one repeat)"
                        : "\(QuantityFormat.significant(s.low!))–\(QuantityFormat.significant(s.high!))"
                }
                guard (b.high ?? b.median) < (a.low ?? a.median) else {
                    return (
                        nil,
                        "run \(run), \(phase): \(best.name) and \(worst.name) did not differ beyond their intervals (J/token \(range(b)) "
                            + "against \(range(a))), so no reduction is claimed between them"
                    )
                }
                evidence += b.high != nil && a.low != nil ? ", their J/token intervals apart" : ", apart beyond the one interval measured"
            }
        }
        return (
            Efficiency(
                change: "\(best.name) instead of \(worst.name)", phase: phase, joulesPerToken: a.median,
                alternativeJoulesPerToken: b.median,
                savingShare: (a.median - b.median) / a.median, evidence: evidence, run: run),
            nil
        )
    }

    /// Side-by-side reductions (`sideBySide`'s) that runs contradict ("A instead of B" in one, "B instead of A" in
    /// another, same phase) are dropped, with a note naming the runs; everything else is kept in order.
    static func withoutContradictions(_ efficiency: [Efficiency]) -> (kept: [Efficiency], notes: [String]) {
        func pair(_ e: Efficiency) -> (String, String)? {
            guard e.evidence.hasPrefix("measured side by side") else { return nil }
            let parts = e.change.components(separatedBy: " instead of ")
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
        var dropped = Set<Int>(), notes: [String] = []
        for (i, e) in efficiency.enumerated() {
            guard let (better, worse) = pair(e) else { continue }
            for (j, f) in efficiency.enumerated() where j > i && f.phase == e.phase {
                guard let (fBetter, fWorse) = pair(f), fBetter == worse, fWorse == better else { continue }
                if !dropped.contains(i) || !dropped.contains(j) {
                    let phase = e.phase.map { " (\($0))" } ?? ""
                    notes.append(
                        e.run == f.run
                            ? "run \(e.run) measured \(better) against \(worse) both ways\(phase), so neither reduction is claimed"
                            : "runs \(e.run) and \(f.run) disagree on \(better) against \(worse)\(phase), so neither reduction is claimed")
                }
                dropped.formUnion([i, j])
            }
        }
        return (efficiency.enumerated().filter { !dropped.contains($0.offset) }.map(\.element), notes)
    }
}
