import Accounting
import Foundation
import Ledger

/// Workloads from benchmark runs side by side: size, FLOPs and speed, J/token and emissions per phase, quality, the
/// energy to reach a target loss, and each phase's grade on the `RatingScale`.
public struct Comparison: Codable, Sendable {
    public struct PhaseFigures: Codable, Sendable, Equatable {
        public var phase: String
        public var flopsPerToken: Double?
        public var tokensPerSecond: Double
        public var joulesPerToken: Double
        public var joulesPerTokenLow: Double?
        public var joulesPerTokenHigh: Double?
        /// The share of repeats' medians [low, high] covers (`RepeatSummary.coverage`: 50 % for two repeats, 93.75 % for
        /// five, ≥ 95 % from six).
        public var joulesPerTokenCoverage: Double?
        public var gramsPer1kTokens: Double?
        public var gramsPer1kTokensLow: Double?
        public var gramsPer1kTokensHigh: Double?
        /// Median J/token ÷ the reference's in the same run, and its grade; nil without the reference.
        public var ratio: Double?
        public var grade: String?
        /// The flags (`BenchFlag.Kind.unranking`, each once) that this phase's windows or the reference's carry: a grade
        /// beside them stands on windows a report would not rank; nil when there are none.
        public var gradeCaveats: [String]?
        public var energySource: String
    }

    public struct Row: Codable, Sendable, Equatable {
        public var run: Int64
        public var workload: String
        public var architecture: String
        public var parameters: Int
        public var activeParameters: Int
        public var standard: Bool
        /// Weights of evaluation, prefill and decode: `fp32`, `bf16`, or `int8` (with `groupSize` weights per scale).
        public var precision: String
        public var groupSize: Int?
        public var phases: [PhaseFigures]
        /// With the row's weights; a reduced-precision row's validation loss with its fp32 weights beside it.
        public var validationLoss: Double?
        public var fp32ValidationLoss: Double?
        /// Training energy until the training loss (a 5-step moving mean) first reached `targetLoss`, J (median over
        /// repeats); nil when not asked or never reached.
        public var joulesToTargetLoss: Double?
        public var targetLossReached: Bool?
        public var flags: Int
        /// The kinds of those flags (`BenchFlag.Kind`), each once, in the order first raised.
        public var flagKinds: [String]?
        /// The grid its g CO2e use (the run's recorded region; "WORLD" when none was given) and that grid's intensity.
        public var grid: String?
        public var gridGramsPerKWh: Double?
        /// The rating scale version its grades are on: the one whose reference its run recorded; nil when ungraded.
        public var ratingScale: Int?
    }

    public var rows: [Row]
    public var targetLoss: Double?
    /// The newest rating scale version any row is graded on (the current version when none is graded); rows say their
    /// own (`Row.ratingScale`).
    public var ratingScale: Int
    public var reference: String
    /// Why some rows carry no grade.
    public var notes: [String]

    /// Each run is graded on the scale (of `scales`: at least one, newest first, all with one reference workload) whose
    /// reference spec it recorded, so a run from before a scale's change keeps the grades it had.
    /// - Throws: what `BenchAnalysis.compute` throws for a run that is not a benchmark.
    public static func build(
        ledger: Ledger, runs: [Int64], analyses: [BenchAnalysis], targetLoss: Double?, scales: [RatingScale] = RatingScale.versions
    ) throws -> Comparison {
        precondition(!scales.isEmpty, "a comparison grades on at least one rating scale")
        let current = scales[0]
        var rows: [Row] = []
        var notes: [String] = []
        for (run, analysis) in zip(runs, analyses) {
            let plan = try ledger.events(run: run).compactMap { e -> BenchPlanRecord? in
                if case let .benchPlan(p) = RunEvent(e) { return p }
                return nil
            }.first
            let reference = analysis.workloads.first { $0.name == current.referenceWorkload }
            var scale: RatingScale?
            if let reference, let recorded = plan?.workloads.first(where: { $0.name == reference.name }) {
                let decoder = JSONDecoder()
                let spec = try? decoder.decode(WorkloadSpec.self, from: JSONEncoder().encode(recorded.spec))
                let hash = (try? spec.map(RatingScale.specHash)) ?? nil
                scale = recorded.standard ? scales.first { $0.referenceSpecSHA256 == hash } : nil
                if let scale, scale.version != current.version {
                    notes.append(
                        "run \(run) is graded on rating scale v\(scale.version): its \(current.referenceWorkload) is that version's reference (the small suite as it was then), not v\(current.version)'s"
                    )
                } else if scale == nil {
                    let versions = scales.map { "v\($0.version)" }.joined(separator: ", ")
                    notes.append(
                        "run \(run): \(current.referenceWorkload) is not the frozen reference (its spec or corpus differs from that of every rating scale: \(versions)), so its rows are not graded"
                    )
                }
            } else {
                notes.append(
                    "run \(run) has no \(current.referenceWorkload) to grade against: run it in the same benchmark (it is in the small suite)"
                )
            }
            // A run still recording (bench's own, compared as it finishes) needs no note.
            let record = try ledger.run(run)
            switch try ledger.effectiveStatus(of: record) {
            case .interrupted: notes.append("run \(run) was interrupted: its figures cover what it recorded before it stopped")
            case .complete where (record.exitCode ?? 0) != 0:
                notes.append("run \(run) ended with exit code \(record.exitCode!): its figures cover the work done before it failed")
            default: break
            }
            // The run's own warnings, which no row's flags carry: its grades and rankings stand on them too.
            for flag in analysis.flags where Self.runWarnings.contains(flag.kind) { notes.append("run \(run): \(flag.message)") }
            let events = try ledger.events(run: run)
            let settings = events.lazy.filter { $0.kind == FootprintSettings.eventKind }.compactMap { e -> FootprintSettings? in
                if case let .footprintSettings(f) = RunEvent(e) { return f }
                return nil
            }.first
            let carbon = analysis.workloads.lazy.flatMap(\.phases).compactMap(\.carbon).first
            // Runs from before settings were recorded: no region recorded is the world average.
            let defaulted = settings.map(\.region.isDefaulted) ?? (record.region == nil)
            if defaulted, let carbon {
                notes.append(
                    "run \(run): REGION DEFAULTED TO WORLD AVERAGE (\(String(format: "%.1f", carbon.intensityGramsPerKWh)) gCO2e/kWh): its g CO2e are the world average's; benchmark with --region (e.g. --region FR) for your grid's"
                )
            }
            let windows = targetLoss == nil ? [] : try PhaseEnergy.windows(ledger: ledger, run: run)
            for w in analysis.workloads {
                var phases: [PhaseFigures] = []
                for p in w.phases {
                    var ratio: Double?
                    var caveats: [String] = []
                    if scale != nil, let r = reference?.phases.first(where: { $0.phase == p.phase }), r.joulesPerToken.median > 0 {
                        ratio = p.joulesPerToken.median / r.joulesPerToken.median
                        for flag in p.flags + r.flags where BenchFlag.Kind.unranking.contains(flag.kind) {
                            if !caveats.contains(flag.kind.rawValue) { caveats.append(flag.kind.rawValue) }
                        }
                    }
                    phases.append(
                        PhaseFigures(
                            phase: p.phase, flopsPerToken: p.flopsPerToken, tokensPerSecond: p.tokensPerSecond.median,
                            joulesPerToken: p.joulesPerToken.median, joulesPerTokenLow: p.joulesPerToken.low,
                            joulesPerTokenHigh: p.joulesPerToken.high, joulesPerTokenCoverage: p.joulesPerToken.coverage,
                            gramsPer1kTokens: p.carbon?.gramsPer1kTokens,
                            gramsPer1kTokensLow: p.carbon?.low, gramsPer1kTokensHigh: p.carbon?.high, ratio: ratio,
                            grade: ratio.flatMap { scale?.grade(ratio: $0) }, gradeCaveats: caveats.isEmpty ? nil : caveats,
                            energySource: p.energySource))
                }
                var toTarget: Double?, reached: Bool?
                let training = windows.filter { $0.mark.workload == w.name && $0.mark.name == "train" }
                if let targetLoss, !training.isEmpty {
                    let values = training.compactMap { energyToReach(targetLoss, in: $0) }
                    reached = !values.isEmpty
                    toTarget = values.isEmpty ? nil : RepeatSummary(values).median
                }
                rows.append(
                    Row(
                        run: run, workload: w.name, architecture: w.architecture, parameters: w.parameters,
                        activeParameters: w.activeParameters, standard: w.standard, precision: w.precision ?? "fp32",
                        groupSize: w.groupSize, phases: phases, validationLoss: w.validationLoss,
                        fp32ValidationLoss: w.fp32ValidationLoss,
                        joulesToTargetLoss: toTarget, targetLossReached: reached,
                        flags: w.flags.count + w.phases.reduce(0) { $0 + $1.flags.count },
                        flagKinds: (w.flags + w.phases.flatMap(\.flags)).map(\.kind.rawValue).reduce(into: []) {
                            if !$0.contains($1) { $0.append($1) }
                        },
                        grid: carbon?.region,
                        gridGramsPerKWh: carbon?.intensityGramsPerKWh,
                        ratingScale: scale?.version))
            }
        }
        var grids: [String] = []
        for row in rows {
            guard let grid = row.grid, let intensity = row.gridGramsPerKWh else { continue }
            let text = "\(grid) \(String(format: "%.1f", intensity)) gCO2e/kWh"
            if !grids.contains(text) { grids.append(text) }
        }
        if grids.count > 1 {
            notes.append(
                "the rows' g CO2e come from different grids (\(grids.joined(separator: "; "))): compare g CO2e within one grid (the best is marked per grid) and J/token across them"
            )
        }
        return Comparison(
            rows: rows, targetLoss: targetLoss, ratingScale: rows.compactMap(\.ratingScale).max() ?? current.version,
            reference: current.referenceWorkload, notes: notes)
    }

    /// Run-level flags a comparison repeats as notes: they bear on every row of the run (its idle baseline, its
    /// sampler, its counters, other processes beside it).
    static let runWarnings: Set<BenchFlag.Kind> = [.idleDrift, .samplerOverhead, .countersBlocked, .noIdleBaseline, .sharedHost]

    /// The window's energy up to the first step whose 5-step moving mean loss is at most `target`, in proportion to
    /// the steps taken (each step of a window costs about the same); nil if it never gets there.
    static func energyToReach(_ target: Double, in window: PhaseWindow) -> Double? {
        let losses = window.steps.compactMap(\.loss)
        guard !losses.isEmpty else { return nil }
        for k in losses.indices {
            let recent = losses[max(0, k - 4)...k]
            if recent.reduce(0, +) / Double(recent.count) <= target {
                return window.joules * Double(k + 1) / Double(losses.count)
            }
        }
        return nil
    }

    /// The best value of each figure across rows, for marking: lowest J/token, g CO2e, J to target; highest tokens/s.
    /// g CO2e are compared only between rows on the same grid (another grid's intensity is not a saving to make).
    public func isBest(row: Int, phase: String, figure: KeyPath<PhaseFigures, Double?>, lowerIsBetter: Bool = true) -> Bool {
        let peers = figure == \PhaseFigures.gramsPer1kTokens ? rows.filter { $0.grid == rows[row].grid } : rows
        let values = peers.compactMap { $0.phases.first { $0.phase == phase }?[keyPath: figure] }
        guard values.count > 1, let mine = rows[row].phases.first(where: { $0.phase == phase })?[keyPath: figure] else { return false }
        return mine == (lowerIsBetter ? values.min() : values.max())
    }
}

extension Comparison.PhaseFigures {
    public var joulesPerTokenValue: Double? { joulesPerToken }
    public var tokensPerSecondValue: Double? { tokensPerSecond }
}
