import Accounting
import Carbon
import Foundation
import Ledger
import Measures
import Meters

/// A benchmark run's figures, recomputed from the ledger alone: every window's energy from the raw samples
/// (`PhaseEnergy`), the plan, peaks and events the run recorded. `wattprint bench` prints this; `verify` recomputes it
/// and compares it with the `bench_summary` the run recorded.
///
/// Per workload and phase, over repeats: energy (total, and dynamic: total − idle power × duration), J/token and
/// kWh per 1 000 tokens, tokens/s, MFU against the sgemm and FMA peaks, g CO2e per 1 000 tokens with its 90 % interval,
/// the SCI per token, the quality reached, and the validity flags each figure failed.
public struct BenchAnalysis: Codable, Sendable {
    /// Version of these rules; recorded in the plan so a later wattprint reads old runs the same way.
    /// - 1: the first.
    /// - 2: a single repeat's small-sample flag says its medians have no interval (1 named a [min, max] covering 50 %).
    /// - 3: counts read as words ("1 counter could not be read", not "1 counter(s)"); a short window's length keeps its
    ///   significant digits ("4.213 ms", where 2 wrote "0.00 s") and its advice says a reference suite's specs are fixed.
    /// - 4: a run during which other processes used more than `maximumOtherProcessShare` of the host's busy CPU time is
    ///   flagged `sharedHost`.
    public static let version = 4
    /// Steady-state minimum: shorter windows are flagged (ten readings at the default 100 ms).
    public static let minimumWindowSeconds = 1.0
    /// Idle power after ÷ before beyond ±10 %: the machine changed under the benchmark.
    public static let maximumIdleDrift = 0.10
    /// The sampler's share of one core beyond 1 %: it perturbs what it measures.
    public static let maximumSamplerShare = 0.01
    /// Other processes' share of the host's busy CPU time over the run beyond 10 %: they slowed the workloads and, where
    /// energy is read or estimated for the whole host, added theirs. On this project's idle development VM a bench's own
    /// process tree had 99–100 % of it; beside one shell busy loop on two cores, 48–55 %.
    public static let maximumOtherProcessShare = 0.10
    /// Prefill + decode windows against the inference windows they make up.
    public static let maximumInferenceClosure = 0.005

    public struct Idle: Codable, Sendable, Equatable {
        public var beforeWatts: Double?
        public var afterWatts: Double?
        /// Mean of the two (or the one there is), W; subtracted from each window for its dynamic energy.
        public var watts: Double
        public var channelWatts: [String: Double]
        /// |after − before| ÷ their mean.
        public var drift: Double?
        public var seconds: Double
    }

    public struct Carbon: Codable, Sendable, Equatable {
        public var gramsPer1kTokens: Double
        public var low: Double
        public var high: Double
        /// SCI (ISO/IEC 21031) per token: (facility energy × location-based intensity + embodied share) ÷ tokens, g.
        public var sciGramsPerToken: Double
        public var region: String
        public var intensityGramsPerKWh: Double
    }

    public struct Phase: Codable, Sendable, Equatable {
        public var phase: String
        public var tokensPerRepeat: Double
        public var seconds: RepeatSummary
        public var joules: RepeatSummary
        public var dynamicJoules: RepeatSummary?
        public var joulesPerToken: RepeatSummary
        public var dynamicJoulesPerToken: RepeatSummary?
        /// Median J/token ÷ 3.6 × 10⁶ × 1000.
        public var kWhPer1kTokens: Double
        public var tokensPerSecond: RepeatSummary
        public var flopsPerToken: Double?
        public var mfuSGEMM: RepeatSummary?
        public var mfuFMA: RepeatSummary?
        public var carbon: Carbon?
        /// "measured", "estimated" or "mixed": where the windows' energy came from.
        public var energySource: String
        public var flags: [BenchFlag]
    }

    public struct Channel: Codable, Sendable, Equatable {
        public var key: String
        /// Median over repeats of the workload's windows, J; and less the channel's idle power.
        public var joules: Double
        public var dynamicJoules: Double?
        public var kWh: Double { joules / 3.6e6 }
    }

    public struct Workload: Codable, Sendable, Equatable {
        public var name: String
        public var architecture: String
        public var parameters: Int
        public var activeParameters: Int
        public var standard: Bool
        /// False when the spec named no corpus hash; nil in runs recorded before it was kept.
        public var corpusChecked: Bool?
        public var corpusSHA256: String
        public var phases: [Phase]
        public var channels: [Channel]
        /// Median validation loss after training, nats per token, and its perplexity: with the weights inference ran
        /// with (`precision`).
        public var validationLoss: Double?
        public var perplexity: Double?
        /// The weights evaluation, prefill and decode ran with when not fp32 (`bf16`, `int8`), int8's weights per scale
        /// and the kernel that multiplied them. Nil for fp32, so the summary of a run recorded before variants is
        /// recomputed byte for byte (`verify`).
        public var precision: String?
        public var groupSize: Int?
        public var weightKernel: String?
        /// A reduced-precision variant's median validation loss with its trained fp32 weights, before conversion.
        public var fp32ValidationLoss: Double?
        /// Largest |prefill + decode − inference| ÷ inference over the repeats.
        public var inferenceClosure: Double?
        public var flags: [BenchFlag]
    }

    public var runID: Int64
    public var analysisVersion: Int
    public var suite: String?
    public var repeats: Int
    public var idle: Idle?
    public var peaks: ComputePeaksRecord?
    public var workloads: [Workload]
    public var samplerShareOfOneCore: Double?
    public var flags: [BenchFlag]

    /// - Throws: `BenchError.specInvalid` when the run is not a benchmark (no `bench_plan`); `NewerAnalysisRules` when it
    ///   was recorded under newer rules than these; what `PhaseEnergy` and the carbon estimate throw.
    public static func compute(ledger: Ledger, run id: Int64, data: CarbonData) throws -> BenchAnalysis {
        let events = try ledger.events(run: id).map(RunEvent.init)
        var plan: BenchPlanRecord?, peaks: ComputePeaksRecord?, overhead: SamplerOverhead?, settings: FootprintSettings?
        var blocked: [BlockedChannel] = [], evaluations: [EvaluationRecord] = []
        for event in events {
            switch event {
            case let .benchPlan(p): plan = p
            case let .computePeaks(p): peaks = p
            case let .samplerOverhead(o): overhead = o
            case let .footprintSettings(f): settings = f
            case let .metersBlocked(b): blocked += b
            case let .evaluation(e): evaluations.append(e)
            default: break
            }
        }
        guard let plan else {
            throw BenchError(
                .specInvalid, "run \(id) is not a benchmark (it was not recorded by `wattprint bench` or `compare`)",
                fix: "pass a run recorded by `wattprint bench`")
        }
        guard plan.analysis <= version else { throw NewerAnalysisRules(run: id, version: plan.analysis) }
        let windows = try PhaseEnergy.windows(ledger: ledger, run: id)
        let energy = try RunEnergy.compute(ledger: ledger, run: id)
        let run = try ledger.run(id)
        var flags: [BenchFlag] = []

        let idle = idleBaseline(windows)
        if idle == nil {
            flags.append(.init(.noIdleBaseline, "no idle baseline was measured (--idle 0): dynamic energy is not separated from static"))
        } else if let drift = idle?.drift, drift > maximumIdleDrift {
            flags.append(
                .init(
                    .idleDrift,
                    "idle power moved \(percent(drift)) between before (\(watts(idle?.beforeWatts))) and after (\(watts(idle?.afterWatts))): the machine's state changed during the benchmark (thermal, other load)"
                ))
        }
        let share = overhead?.fractionOfOneCore
        if let share, share > maximumSamplerShare {
            flags.append(.init(.samplerOverhead, "the sampler used \(percent(share)) of one core (above 1 %): it perturbs the measurement"))
        }
        if plan.analysis >= 4, let a = energy.attribution, a.hostBusyCPUSeconds > 0, 1 - a.share > maximumOtherProcessShare {
            flags.append(
                .init(
                    .sharedHost,
                    "other processes used \(percent(1 - a.share)) of the host's busy CPU time during the run (this run: \(QuantityFormat.fixed(a.treeCPUSeconds, 1)) of \(QuantityFormat.fixed(a.hostBusyCPUSeconds, 1)) CPU-s): they slowed the workloads and their energy is in the host's; compare workloads within this run, and run on an idle machine for figures to quote"
                ))
        }
        if !blocked.isEmpty {
            flags.append(
                .init(
                    .countersBlocked,
                    "\(plan.analysis >= 3 ? QuantityFormat.counted(blocked.count, "counter") : "\(blocked.count) counter(s)") could not be read (\(blocked.map(\.device).joined(separator: ", "))): their share is estimated or missing; see `wattprint sensors`"
                ))
        }
        if plan.repeats == 1 && plan.analysis >= 2 {
            flags.append(
                .init(
                    .smallSample,
                    "1 repeat: the medians have no interval; 2 repeats give [min, max], covering 50 %, and 6 or more 95 %"))
        } else if plan.repeats < 6 {
            flags.append(
                .init(
                    .smallSample,
                    // Recorded in each run's summary, which `verify` recomputes: older runs keep this exact wording.
                    "\(plan.repeats) repeats: the interval of each median is [min, max], covering \(percent(RepeatSummary.coverage(n: max(plan.repeats, 2), j: 1))) rather than 95 %; 6 or more repeats give 95 %"
                ))
        }
        let relative =
            energy.totalJoules > 0
            ? max((energy.totalHighJoules - energy.totalJoules) / energy.totalJoules, 0) : EstimateRequest.counterSpec
        let year = Calendar(identifier: .gregorian).component(.year, from: LedgerClock.parseUTC(run.startedAt) ?? Date())

        var workloads: [Workload] = []
        for w in plan.workloads {
            var phases: [Phase] = []
            var workloadFlags: [BenchFlag] = []
            if w.corpusChecked == false {
                workloadFlags.append(
                    .init(
                        .unverifiedCorpus,
                        "the spec names no corpus hash (data.sha256): the corpus read (SHA-256 \(w.corpusSHA256.prefix(12))…) is not checked against a standard one"
                    ))
            } else if !w.standard {
                workloadFlags.append(
                    .init(
                        .nonStandardCorpus,
                        "the corpus (SHA-256 \(w.corpusSHA256.prefix(12))…) is not the spec's standard one: figures are not comparable with the standard workload's"
                    ))
            }
            let mine = windows.filter { $0.mark.workload == w.name && $0.closed }
            for name in w.phases {
                let byRepeat = Dictionary(grouping: mine.filter { $0.mark.name == name }, by: { $0.mark.repeat ?? 0 })
                let repeats = byRepeat.keys.sorted()
                guard !repeats.isEmpty else { continue }
                func sum(_ r: Int, _ value: (PhaseWindow) -> Double) -> Double { byRepeat[r]!.reduce(0) { $0 + value($1) } }
                let seconds = repeats.map { sum($0, \.seconds) }
                let joules = repeats.map { sum($0, \.joules) }
                let tokens = repeats.map { sum($0, \.tokens) }
                let flops = repeats.map { sum($0, \.flops) }
                let dynamic = idle.map { idle in zip(joules, seconds).map { $0 - idle.watts * $1 } }
                let perToken = zip(joules, tokens).map { $1 > 0 ? $0 / $1 : .nan }
                let rate = zip(tokens, seconds).map { $1 > 0 ? $0 / $1 : 0 }
                let perTokenSummary = RepeatSummary(perToken)
                var phaseFlags: [BenchFlag] = []
                let medianSeconds = RepeatSummary(seconds).median
                if medianSeconds < minimumWindowSeconds {
                    phaseFlags.append(
                        .init(
                            .shortWindow,
                            plan.analysis >= 3
                                ? "\(name) windows last \(QuantityFormat.duration(medianSeconds)), under the \(Int(minimumWindowSeconds)) s steady-state minimum: raise the phase's steps or rounds in its spec (a reference suite's specs are fixed: the small suite measures at steady state)"
                                : "\(name) windows last \(String(format: "%.2f", medianSeconds)) s, under the \(Int(minimumWindowSeconds)) s steady-state minimum: raise its steps or rounds"
                        ))
                }
                let estimatedJoules = byRepeat.values.joined().reduce(0) { $0 + $1.estimatedJoules }
                let measuredJoules = byRepeat.values.joined().reduce(0) { $0 + $1.measuredJoules }
                let source = estimatedJoules == 0 ? "measured" : measuredJoules == 0 ? "estimated" : "mixed"
                if estimatedJoules > 0 {
                    phaseFlags.append(
                        .init(
                            .estimated,
                            "\(percent(estimatedJoules / max(estimatedJoules + measuredJoules, 1e-300))) of the \(name) energy is estimated (no counter readable for it here)"
                        ))
                }
                for r in perTokenSummary.disagreeing {
                    phaseFlags.append(
                        .init(
                            .disagreeingRepeat,
                            "repeat \(repeats[r]) of \(name): \(String(format: "%.4g", perToken[r])) J/token against a median of \(String(format: "%.4g", perTokenSummary.median))"
                        ))
                }
                let totalTokens = tokens.reduce(0, +)
                let flopsPerToken = totalTokens > 0 && flops.reduce(0, +) > 0 ? flops.reduce(0, +) / totalTokens : nil
                func mfu(_ peakGFLOPs: Double?) -> RepeatSummary? {
                    guard let peakGFLOPs, peakGFLOPs > 0, flopsPerToken != nil else { return nil }
                    return RepeatSummary(zip(flops, seconds).map { $1 > 0 ? $0 / $1 / (peakGFLOPs * 1e9) : 0 })
                }
                var carbon: Carbon?
                if let settings, perTokenSummary.median.isFinite {
                    carbon = try carbonPer1k(
                        joulesPer1k: perTokenSummary.median * 1000, secondsPer1k: 1000 / max(RepeatSummary(rate).median, 1e-300),
                        settings: settings, year: year, relative: relative, data: data)
                }
                phases.append(
                    Phase(
                        phase: name, tokensPerRepeat: RepeatSummary(tokens).median, seconds: RepeatSummary(seconds),
                        joules: RepeatSummary(joules),
                        dynamicJoules: dynamic.map(RepeatSummary.init),
                        joulesPerToken: perTokenSummary,
                        dynamicJoulesPerToken: dynamic.map { RepeatSummary(zip($0, tokens).map { $1 > 0 ? $0 / $1 : .nan }) },
                        kWhPer1kTokens: perTokenSummary.median * 1000 / 3.6e6, tokensPerSecond: RepeatSummary(rate),
                        flopsPerToken: flopsPerToken, mfuSGEMM: mfu(peaks?.sgemmGFLOPs), mfuFMA: mfu(peaks?.fmaGFLOPs), carbon: carbon,
                        energySource: source, flags: phaseFlags))
            }
            // Per channel: the workload's windows (inference excluded: it is prefill + decode again) summed per repeat.
            let parts = mine.filter { $0.mark.name != "inference" }
            let repeats = Set(parts.compactMap(\.mark.repeat)).sorted()
            let keys = Set(parts.flatMap(\.channelJoules.keys)).sorted()
            let channels = keys.map { key -> Channel in
                let totals = repeats.map { r in parts.filter { $0.mark.repeat == r }.reduce(0) { $0 + ($1.channelJoules[key] ?? 0) } }
                let seconds = repeats.map { r in parts.filter { $0.mark.repeat == r }.reduce(0) { $0 + $1.seconds } }
                let dynamic = idle.map { idle in zip(totals, seconds).map { $0 - (idle.channelWatts[key] ?? 0) * $1 } }
                return Channel(key: key, joules: RepeatSummary(totals).median, dynamicJoules: dynamic.map { RepeatSummary($0).median })
            }
            var closure: Double?
            for r in repeats {
                let inference = mine.filter { $0.mark.name == "inference" && $0.mark.repeat == r }.reduce(0) { $0 + $1.joules }
                let pieces = mine.filter { ($0.mark.name == "prefill" || $0.mark.name == "decode") && $0.mark.repeat == r }
                    .reduce(0) { $0 + $1.joules }
                guard inference > 0 else { continue }
                closure = max(closure ?? 0, abs(pieces - inference) / inference)
            }
            if let closure, closure > maximumInferenceClosure {
                workloadFlags.append(
                    .init(.inferenceClosure, "prefill + decode differ from the inference they make up by \(percent(closure)) (above 0.5 %)")
                )
            }
            let variant = w.precision ?? "fp32"
            let losses = evaluations.filter { $0.workload == w.name && ($0.precision ?? "fp32") == variant }.map(\.loss)
            let loss = losses.isEmpty ? nil : RepeatSummary(losses).median
            let fp32Losses = evaluations.filter { $0.workload == w.name && $0.precision == nil }.map(\.loss)
            let fp32Loss = variant == "fp32" || fp32Losses.isEmpty ? nil : RepeatSummary(fp32Losses).median
            workloads.append(
                Workload(
                    name: w.name, architecture: w.architecture, parameters: w.parameters, activeParameters: w.activeParameters,
                    standard: w.standard, corpusChecked: w.corpusChecked, corpusSHA256: w.corpusSHA256, phases: phases, channels: channels,
                    validationLoss: loss, perplexity: loss.map { Foundation.exp($0) }, precision: w.precision,
                    groupSize: w.groupSize, weightKernel: w.weightKernel, fp32ValidationLoss: fp32Loss, inferenceClosure: closure,
                    flags: workloadFlags))
        }
        // Energy that is all estimated is said once for the run, not for every phase.
        let sources = workloads.flatMap { $0.phases.map(\.energySource) }
        if !sources.isEmpty, sources.allSatisfy({ $0 == "estimated" }) {
            for k in workloads.indices {
                for p in workloads[k].phases.indices { workloads[k].phases[p].flags.removeAll { $0.kind == .estimated } }
            }
            flags.append(
                .init(
                    .estimated,
                    "every figure's energy is estimated (no energy counter readable here; `wattprint sensors` says why and how to enable one): compare workloads with each other, not with measured figures"
                ))
        }
        return BenchAnalysis(
            runID: id, analysisVersion: plan.analysis, suite: plan.suite, repeats: plan.repeats, idle: idle, peaks: peaks,
            workloads: workloads, samplerShareOfOneCore: share, flags: flags)
    }

    static func idleBaseline(_ windows: [PhaseWindow]) -> Idle? {
        func power(_ name: String) -> (watts: Double, channels: [String: Double], seconds: Double)? {
            let w = windows.filter { $0.mark.name == name && $0.closed && $0.seconds > 0 }
            let seconds = w.reduce(0) { $0 + $1.seconds }
            guard seconds > 0 else { return nil }
            var channels: [String: Double] = [:]
            for window in w { for (k, j) in window.channelJoules { channels[k, default: 0] += j / seconds } }
            return (w.reduce(0) { $0 + $1.joules } / seconds, channels, seconds)
        }
        let before = power("idle-before"), after = power("idle-after")
        guard before != nil || after != nil else { return nil }
        let present = [before, after].compactMap { $0 }
        let watts = present.reduce(0) { $0 + $1.watts } / Double(present.count)
        var channels: [String: Double] = [:]
        for p in present { for (k, w) in p.channels { channels[k, default: 0] += w / Double(present.count) } }
        var drift: Double?
        if let before, let after, before.watts + after.watts > 0 {
            drift = abs(after.watts - before.watts) / ((before.watts + after.watts) / 2)
        }
        return Idle(
            beforeWatts: before?.watts, afterWatts: after?.watts, watts: watts, channelWatts: channels, drift: drift,
            seconds: present.reduce(0) { $0 + $1.seconds })
    }

    /// Emissions of 1 000 tokens: their energy through the run's recorded footprint settings (region, site, PUE,
    /// hardware for the embodied share over the seconds they took).
    static func carbonPer1k(
        joulesPer1k: Double, secondsPer1k: Double, settings: FootprintSettings, year: Int, relative: Double, data: CarbonData
    ) throws -> Carbon {
        let hardware = try settings.hardware.map {
            try HardwareReservation(hardware: $0.hardware, count: $0.count, hours: secondsPer1k / 3600)
        }
        let estimate = try CarbonEstimator(data: data).estimate(
            EstimateRequest(
                itEnergy: Energy(joules: max(joulesPer1k, 0)), region: settings.region, usageYear: year,
                energyRelativeUncertainty: relative,
                site: settings.site, pue: settings.pue, hardware: hardware, instruments: settings.instruments))
        let sci = try SoftwareCarbonIntensity.score(
            energy: estimate.facilityEnergy, intensity: estimate.intensity.intensity, embodied: estimate.embodied, functionalUnits: 1000,
            per: .token)
        return Carbon(
            gramsPer1kTokens: estimate.total.grams, low: estimate.interval.low.grams, high: estimate.interval.high.grams,
            sciGramsPerToken: sci.perUnit.grams, region: settings.region.query,
            intensityGramsPerKWh: estimate.intensity.intensity.gramsPerKilowattHour)
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }
    static func watts(_ x: Double?) -> String { x.map { String(format: "%.2f W", $0) } ?? "—" }
}
