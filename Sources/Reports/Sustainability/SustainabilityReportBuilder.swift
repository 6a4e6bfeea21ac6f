import Accounting
import Benchmarks
import Carbon
import Foundation
import Ledger
import Measures
import Meters

/// Builds a `SustainabilityReport` from the ledger alone: the same request always gives the same figures, which is
/// what `verify --report` relies on.
public struct SustainabilityReportBuilder {
    public let ledger: Ledger
    public let carbon: CarbonData
    public let toolVersion: String

    public init(ledger: Ledger, carbon: CarbonData, toolVersion: String) {
        self.ledger = ledger; self.carbon = carbon; self.toolVersion = toolVersion
    }

    /// - Parameter schema: whose rules to follow (`SustainabilityReport.schemaVersion`; an older report's when
    ///   `verify --report` rebuilds it).
    /// - Throws: `ReportError` for an unknown run, an empty period, a bad date or a schema this wattprint does not know;
    ///   what `RunFootprint.compute` throws.
    public func build(_ request: SustainabilityReport.Request, schema: Int = SustainabilityReport.schemaVersion) throws
        -> SustainabilityReport
    {
        guard SustainabilityReport.readableSchemas.contains(schema) else {
            throw ReportError("schema \(schema) is not one this wattprint makes", fix: "use the wattprint that made the report")
        }
        let ids: [Int64]
        switch request.kind {
        case .run, .comparison:
            ids = request.runs
            let known = Set(try ledger.runs().compactMap(\.id))
            if let unknown = ids.first(where: { !known.contains($0) }) {
                throw ReportError("run \(unknown) is not in the ledger \(ledger.path)", fix: "list the runs with `wattprint runs`")
            }
        case .period:
            let since = try request.since.map(Self.instant) ?? "", until = try request.until.map(Self.instant) ?? "\u{10FFFF}"
            ids = try ledger.runs().filter { $0.startedAt >= since && $0.startedAt < until }.compactMap(\.id)
            if ids.isEmpty {
                throw ReportError(
                    "no run started between \(request.since ?? "the beginning") and \(request.until ?? "now")",
                    fix: "widen --since/--until, or list the runs with `wattprint runs`")
            }
        }
        // A period can hold thousands of runs: their power curves are left to the run reports.
        var footprints: [RunFootprint] = []
        let sections = try ids.map { id -> SustainabilityReport.RunSection in
            let f = try RunFootprint.compute(ledger: ledger, run: id, data: carbon)
            footprints.append(f)
            return try section(id, footprint: f, withPower: request.kind != .period, schema: schema)
        }
        var adviceOptions = OffsetAdvice.Options()
        adviceOptions.reportSchema = schema
        let offsets = try OffsetAdvice.build(ledger: ledger, runs: ids, data: carbon, options: adviceOptions, known: footprints)
        var totals = SustainabilityReport.Totals(
            runs: sections.count, kWh: 0, kWhLow: 0, kWhHigh: 0, locationBasedGrams: 0, marketBasedGrams: nil, embodiedGrams: 0,
            totalGrams: 0)
        for s in sections {
            totals.kWh += s.kWh; totals.kWhLow += s.kWhLow; totals.kWhHigh += s.kWhHigh
            totals.locationBasedGrams += s.locationBasedGrams; totals.embodiedGrams += s.embodiedGrams; totals.totalGrams += s.totalGrams
            if let m = s.marketBasedGrams { totals.marketBasedGrams = (totals.marketBasedGrams ?? 0) + m }
        }
        var gaps: [String] = []
        for s in sections where s.status != "complete" {
            gaps.append("run \(s.id) is \(s.status): its energy counts to its last committed sample")
        }
        for s in sections { for f in s.flags where f.hasPrefix("gap") || f.hasPrefix("unmeasured") { gaps.append("run \(s.id): \(f)") } }
        let kind = request.kind
        let title: String
        switch kind {
        case .run: title = "Sustainability report: run \(ids[0])"
        case .comparison: title = "Sustainability report: runs \(ids.map(String.init).joined(separator: ", ")) compared"
        case .period: title = "Sustainability report: \(request.since ?? "first run") to \(request.until ?? "now")"
        }
        let head = sections.last
        return SustainabilityReport(
            schema: schema, request: request, title: title, generatedBy: "wattprint \(toolVersion)",
            ledger: ledger.path, runs: sections, totals: totals,
            groups: kind == .period ? try groups(sections, by: request.groupBy ?? "workload", schema: schema) : [],
            trend: kind == .period ? trend(sections) : [], gaps: gaps, methodology: methodology(sections),
            quotable: kind == .run ? (head?.quotable ?? "") : periodSentence(totals, sections, schema: schema), offsets: offsets,
            verification: .init(command: "wattprint verify --report REPORT.json --ledger \(ledger.path)", publicKey: nil, signature: nil))
    }

    /// A period's bound as the ledger's start times compare with it: a day, "2026-11-30", as given (its UTC midnight);
    /// or an ISO 8601 time with `Z` or a UTC offset, fractional seconds optional ("2026-11-30T08:00:00Z",
    /// "2026-11-30T09:00:00.250+01:00"), written as the ledger writes times (UTC, milliseconds).
    /// - Throws: `ReportError` naming the forms it takes.
    public static func instant(_ text: String) throws -> String {
        if text.count == 10, Self.dayFormat.date(from: text) != nil { return text }
        // A UTC time with fractional seconds compares as given, as it always has (a report's recorded bounds select
        // the same runs when verified).
        if text.hasSuffix("Z"), LedgerClock.parseUTC(text) != nil { return text }
        if let time = LedgerClock.parseUTC(text) ?? Self.timeFormat.date(from: text) { return LedgerClock.utcString(time) }
        throw ReportError(
            "'\(text)' is not a date", fix: "use YYYY-MM-DD, or a time such as 2026-11-30T08:00:00Z or 2026-11-30T09:00:00+01:00")
    }

    /// ISO 8601 times without fractional seconds (`LedgerClock.parseUTC` takes those with them).
    static let timeFormat: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    static let dayFormat: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f
    }()

    func section(_ id: Int64, footprint f: RunFootprint, withPower: Bool, schema: Int) throws -> SustainabilityReport.RunSection {
        let run = try ledger.run(id)
        let host = try ledger.host(run.hostID)
        let e = f.energy, c = f.carbon
        let kWh = e.totalJoules / 3.6e6
        let basis: SustainabilityReport.Basis = e.estimatedJoules == 0 ? .measured : e.measuredJoules == 0 ? .modelled : .mixed
        let tokens = f.tokens.flatMap { $0 > 0 ? $0 : nil }
        let sci = try SoftwareCarbonIntensity.score(
            energy: c.facilityEnergy, intensity: c.intensity.intensity, embodied: c.embodied, functionalUnits: tokens ?? 1,
            per: tokens == nil ? .run : .token)
        var included = e.channels.filter { $0.role == .total && $0.kind != .cpuTime && $0.kind != .context }.map {
            "\($0.device) \($0.domain) (\($0.mode.rawValue), \($0.source))"
        }
        included.append("the facility's overhead through PUE \(QuantityFormat.number(c.pue.value))")
        var excluded = ["network, storage and other machines the work used", "water use", "end-of-life of the hardware"]
        if c.hardware == nil { excluded.insert("embodied emissions of the hardware (no --hardware given)", at: 0) }
        excluded += e.blocked.map { "\($0.device) (\($0.source)): not readable — \($0.reason)" }
        var coefficients = [
            SustainabilityReport.Coefficient(
                name: "grid intensity, \(c.intensity.label)", value: c.intensity.intensity.gramsPerKilowattHour, unit: "g CO2e/kWh",
                source: c.intensity.source, year: c.intensity.year, licence: c.intensity.licence),
            SustainabilityReport.Coefficient(
                name: "PUE\(c.pue.site.map { " (\($0.rawValue))" } ?? "")", value: c.pue.value, unit: "ratio", source: c.pue.source,
                year: c.pue.year, licence: c.pue.isOverride ? "given by the user" : "see Sources/Carbon/Data"),
        ]
        if let h = c.hardware {
            coefficients.append(
                .init(
                    name: "embodied emissions of \(h.name)", value: h.perUnit.grams / 1000, unit: "kg CO2e per unit", source: h.source,
                    year: nil, licence: "see Sources/Carbon/Data"))
            coefficients.append(
                .init(
                    name: "lifetime of \(h.name)", value: h.lifetimeYears, unit: "years", source: h.source, year: nil,
                    licence: "see Sources/Carbon/Data"))
        }
        if let m = c.marketBased {
            coefficients.append(
                .init(
                    name: "factor for energy not covered by instruments", value: m.uncoveredFactor.gramsPerKilowattHour, unit: "g CO2e/kWh",
                    source: m.uncoveredFactorSource.rawValue, year: nil, licence: "given by the user"))
        }
        let phases = (f.phases ?? []).map {
            SustainabilityReport.Phase(
                name: $0.name, seconds: $0.seconds, kWh: $0.joules / 3.6e6, tokens: $0.tokens, joulesPerToken: $0.joulesPerToken)
        }
        let hardware = [host?.cpuModel, host?.gpus.isEmpty == false ? host?.gpus : nil].compactMap { $0 }.joined(separator: " + ")
        let events = try ledger.events(run: id).filter { $0.kind == "model" || $0.kind == "step" }
        let training =
            events.contains { $0.kind == "model" } && events.contains { $0.kind == "step" && $0.payload.contains("learningRate") }
        let hours = e.seconds / 3600
        let regionName = c.intensity.label
        let modelCard =
            training
            ? SustainabilityReport.ModelCard(
                emissions: c.total.grams,
                source:
                    "wattprint \(toolVersion): energy \(basis == .measured ? "measured" : basis == .modelled ? "estimated" : "partly estimated") on the host, \(c.intensity.label) grid intensity (\(c.intensity.source))",
                trainingType: "pre-training", geographicalLocation: regionName, hardwareUsed: hardware, kWh: kWh, hours: hours) : nil
        let what = training ? "Training run \(id) (`\(run.command)`)" : "Run \(id) (`\(run.command)`)"
        let basisWord = basis == .measured ? "measured" : basis == .modelled ? "estimated" : "partly estimated"
        // Schema 2 names the PUE that takes the IT kWh to the emissions, and says "estimated with" for an estimate.
        let quotable =
            schema >= 2
            ? "\(what) used \(sig(kWh)) kWh of IT energy (90 % interval \(sig(e.totalLowJoules / 3.6e6))–\(sig(e.totalHighJoules / 3.6e6)) kWh; \(basisWord)) on \(hardware.isEmpty ? "an unrecorded host" : hardware) in \(regionName), emitting \(sig(c.total.grams)) g CO2e (90 % interval \(sig(c.interval.low.grams))–\(sig(c.interval.high.grams)); location-based, \(QuantityFormat.number(c.intensity.intensity.gramsPerKilowattHour)) g CO2e/kWh × PUE \(QuantityFormat.number(c.pue.value))\(c.pue.isOverride ? "" : " (assumed)"), data year \(c.intensity.year.map(String.init) ?? "not stated")), \(basis == .measured ? "measured" : "estimated") with wattprint \(toolVersion)."
            : "\(what) used \(sig(kWh)) kWh (90 % interval \(sig(e.totalLowJoules / 3.6e6))–\(sig(e.totalHighJoules / 3.6e6)) kWh; \(basisWord)) on \(hardware.isEmpty ? "an unrecorded host" : hardware) in \(regionName), emitting \(sig(c.total.grams)) g CO2e (90 % interval \(sig(c.interval.low.grams))–\(sig(c.interval.high.grams)); location-based, \(QuantityFormat.number(c.intensity.intensity.gramsPerKilowattHour)) g CO2e/kWh, data year \(c.intensity.year.map(String.init) ?? "not stated")), measured with wattprint \(toolVersion)."
        var flags = c.flags.map(\.description)
        flags += e.gaps.map { "gap: \($0.device) \($0.domain) stopped answering at \(String(format: "%.2f", $0.atSeconds)) s" }
        flags += e.channels.filter { $0.unmeasuredSeconds > 0 }.map {
            "unmeasured: \($0.device) \($0.domain) for \(String(format: "%.2f", $0.unmeasuredSeconds)) s"
        }
        let power =
            withPower
            ? try ChannelPower.profile(ledger: ledger, run: id, points: SustainabilityReport.PowerSeries.maximumPoints).map {
                SustainabilityReport.PowerSeries(key: $0.key, role: $0.role.rawValue, seconds: $0.seconds, watts: $0.watts)
            } : []
        return SustainabilityReport.RunSection(
            id: id, command: run.command, startedAt: run.startedAt, endedAt: run.endedAt, seconds: e.seconds, status: e.status,
            host: host?.hostname ?? "unknown", hardware: hardware, region: c.region.query, regionName: regionName, seal: e.seal,
            kWh: kWh, kWhLow: e.totalLowJoules / 3.6e6, kWhHigh: e.totalHighJoules / 3.6e6,
            measuredShare: e.totalJoules > 0 ? e.measuredJoules / e.totalJoules : 0,
            channels: e.channels.filter { $0.kind != .cpuTime && $0.kind != .context }.map {
                .init(
                    key: $0.key, device: $0.device, domain: $0.domain, role: $0.role.rawValue, mode: $0.mode.rawValue, source: $0.source,
                    kWh: $0.joules / 3.6e6, meanWatts: $0.meanWatts)
            }, phases: phases, tokens: tokens, joulesPerToken: tokens.map { e.totalJoules / $0 },
            sci: .init(
                functionalUnit: tokens == nil ? "run" : "token", functionalUnits: tokens ?? 1,
                functionalUnitReason: tokens == nil
                    ? "the run recorded no tokens, so one run is the unit" : "the run recorded the tokens its work produced",
                included: included, excluded: excluded,
                energy: .init(
                    value: c.facilityEnergy.kilowattHours, unit: "kWh", basis: basis,
                    note: "IT energy \(sig(c.itEnergy.kilowattHours)) kWh × PUE \(QuantityFormat.number(c.pue.value))"),
                intensity: .init(
                    value: c.intensity.intensity.gramsPerKilowattHour, unit: "g CO2e/kWh", basis: .sourced,
                    note:
                        "location-based, \(c.intensity.label), \(c.intensity.year.map(String.init) ?? "year not stated"), \(c.intensity.source)"
                ),
                embodied: .init(
                    value: c.embodied.grams, unit: "g CO2e", basis: c.hardware == nil ? .excluded : .modelled,
                    note: c.hardware.map {
                        "\(QuantityFormat.number($0.count)) × \($0.name) for \(QuantityFormat.number($0.hours)) h of a \(QuantityFormat.number($0.lifetimeYears))-year life"
                    }
                        ?? "no hardware given"),
                operationalGrams: sci.operational.grams, embodiedGrams: sci.embodied.grams,
                totalGrams: sci.operational.grams + sci.embodied.grams, perUnitGrams: sci.perUnit.grams),
            coefficients: coefficients, locationBasedGrams: c.locationBased.grams, marketBasedGrams: c.marketBased?.emissions.grams,
            embodiedGrams: c.embodied.grams, totalGrams: c.total.grams, totalGramsLow: c.interval.low.grams,
            totalGramsHigh: c.interval.high.grams,
            dominantContributor: c.dominantContributor, flags: flags, attribution: c.attribution, modelCard: modelCard, power: power,
            quotable: quotable)
    }

    /// A period's runs grouped by `key` (workload, model, host or region), most energy first. From schema 3, by model a
    /// benchmark run is split among its workloads' models (`benchShares`); from schema 4, by workload it is split among
    /// its workloads by name (schema 3 counted a findings rerun with the benchmark that measured it).
    func groups(_ sections: [SustainabilityReport.RunSection], by key: String, schema: Int) throws -> [SustainabilityReport.Group] {
        var out: [SustainabilityReport.Group] = []
        let parents = schema == 3 && key == "workload" ? try findingsParents(of: sections) : [:]
        let splits = (key == "model" && schema >= 3) || (key == "workload" && schema >= 4)
        let plans = splits ? try benchPlans(of: sections.map(\.id)) : [:]
        for s in sections {
            var shares: [Share]
            switch key {
            case "host": shares = [Share(name: s.host, kWh: s.kWh, grams: s.totalGrams, tokens: s.tokens)]
            case "region": shares = [Share(name: s.region, kWh: s.kWh, grams: s.totalGrams, tokens: s.tokens)]
            case "model":
                if let plan = plans[s.id] {
                    shares = Self.benchShares(s, plan: plan, by: Self.modelName)
                } else {
                    shares = [Share(name: (try? model(of: s.id)) ?? "no model recorded", kWh: s.kWh, grams: s.totalGrams, tokens: s.tokens)]
                }
            default:
                if let plan = plans[s.id] {
                    shares = Self.benchShares(s, plan: plan, by: \.name)
                } else {
                    let command = try parents[s.id].map { try ledger.run($0).command } ?? s.command
                    shares = [Share(name: Self.workload(command, schema: schema), kWh: s.kWh, grams: s.totalGrams, tokens: s.tokens)]
                }
            }
            var counted: Set<String> = []
            for share in shares {
                let first = counted.insert(share.name).inserted
                if let i = out.firstIndex(where: { $0.name == share.name }) {
                    out[i].runs += first ? 1 : 0; out[i].kWh += share.kWh; out[i].grams += share.grams
                    if let t = share.tokens { out[i].tokens = (out[i].tokens ?? 0) + t }
                } else {
                    out.append(.init(name: share.name, runs: 1, kWh: share.kWh, grams: share.grams, tokens: share.tokens))
                }
            }
        }
        return out.sorted { $0.kWh > $1.kWh }
    }

    /// One run's part of a group: kWh, g CO2e and tokens.
    struct Share: Equatable {
        var name: String
        var kWh: Double
        var grams: Double
        var tokens: Double?
    }

    /// The group a benchmark run's energy outside its workloads' windows goes to (by model from schema 3, by workload
    /// from 4). It is a group name in signed reports: changing it needs a new schema.
    public static let benchOverhead = "benchmark idle baselines, peak probes and set-up"

    /// A benchmark run shared among its workloads: each workload's windows (training, and inference, whose windows hold
    /// prefill's and decode's) under the group `group` names for it (`modelName`, or the workload's own name); the rest
    /// of the run (idle baselines, the sgemm and FMA probes, model builds, warm-up and evaluation) under
    /// `benchOverhead`. Grams are shared in proportion to kWh; tokens are the workload's training, prefill and decode
    /// tokens.
    static func benchShares(
        _ s: SustainabilityReport.RunSection, plan: BenchPlanRecord, by group: (BenchPlanRecord.Workload) -> String
    ) -> [Share] {
        func phase(_ workload: String, _ name: String) -> SustainabilityReport.Phase? {
            s.phases.first { $0.name == "\(workload) \(name)" }
        }
        // No energy to share out (a run killed before its first reading): its grams, embodied ones say, stay whole.
        guard s.kWh > 0 else { return [Share(name: benchOverhead, kWh: s.kWh, grams: s.totalGrams, tokens: s.tokens)] }
        func grams(_ kWh: Double) -> Double { s.totalGrams * kWh / s.kWh }
        var shares: [Share] = []
        for w in plan.workloads {
            let kWh = ["train", "inference"].compactMap { phase(w.name, $0)?.kWh }.reduce(0, +)
            let tokens = ["train", "prefill", "decode"].compactMap { phase(w.name, $0)?.tokens }.reduce(0, +)
            let name = group(w)
            // A workload the run never reached (killed before it) is no share of it.
            guard kWh > 0 || tokens > 0 else { continue }
            shares.append(Share(name: name, kWh: kWh, grams: grams(kWh), tokens: tokens > 0 ? tokens : nil))
        }
        let rest = s.kWh - shares.reduce(0) { $0 + $1.kWh }
        // Windows and the run's total come from one replay; a difference at rounding level is not energy of its own.
        if rest > s.kWh * 1e-9 { shares.append(Share(name: benchOverhead, kWh: rest, grams: grams(rest), tokens: nil)) }
        return shares
    }

    /// A workload's model, named as a run's model is ("gpt2 858,880", with its weights' precision when not fp32:
    /// "llama 25,427,968 int8").
    static func modelName(_ w: BenchPlanRecord.Workload) -> String {
        "\(w.architecture) \(QuantityFormat.grouped(w.parameters))\(w.precision.map { " \($0)" } ?? "")"
    }

    /// The plans of those of `runs` that are benchmarks, by run id (a run's first, should it hold more), in one query.
    func benchPlans(of runs: [Int64]) throws -> [Int64: BenchPlanRecord] {
        var plans: [Int64: BenchPlanRecord] = [:]
        for (run, e) in try ledger.events(kind: "bench_plan", runs: runs) where plans[run] == nil {
            if case let .benchPlan(p) = RunEvent(e) { plans[run] = p }
        }
        return plans
    }

    /// Each findings rerun's benchmark (`FindingsRerun.parents`; schema 3 groups a rerun by it), read only when the
    /// period holds a run that could be a rerun: one that `wattprint bench` started with `--findings none`, as it starts
    /// its reruns.
    func findingsParents(of sections: [SustainabilityReport.RunSection]) throws -> [Int64: Int64] {
        guard sections.contains(where: { $0.command.contains("--findings none") }) else { return [:] }
        return try FindingsRerun.parents(in: ledger)
    }

    /// A command's workload: the program and its first argument (`python train.py`); from schema 2 a wattprint command
    /// keeps its own first argument too, unless it is an option (`wattprint bench small`, where schema 1 put every
    /// benchmark under `wattprint bench`).
    static func workload(_ command: String, schema: Int) -> String {
        let words = command.split(separator: " ").map(String.init)
        let program = (words.first.map { ($0 as NSString).lastPathComponent }) ?? command
        var kept = Array(words.dropFirst().prefix(1))
        if schema >= 2, program == "wattprint", words.count > 2, !words[2].hasPrefix("-") { kept.append(words[2]) }
        return ([program] + kept).joined(separator: " ")
    }

    func model(of id: Int64) throws -> String? {
        for e in try ledger.events(run: id) where e.kind == "model" {
            if case let .workload(w) = RunEvent(e) {
                return "\(w.architecture)\(w.parameters.map { " \(QuantityFormat.grouped($0))" } ?? "")"
            }
        }
        return nil
    }

    func trend(_ sections: [SustainabilityReport.RunSection]) -> [SustainabilityReport.Day] {
        var days: [SustainabilityReport.Day] = []
        for s in sections {
            let day = String(s.startedAt.prefix(10))
            if let i = days.firstIndex(where: { $0.day == day }) {
                days[i].runs += 1; days[i].kWh += s.kWh; days[i].grams += s.totalGrams
            } else {
                days.append(.init(day: day, runs: 1, kWh: s.kWh, grams: s.totalGrams))
            }
        }
        return days.sorted { $0.day < $1.day }
    }

    func methodology(_ sections: [SustainabilityReport.RunSection]) -> SustainabilityReport.Methodology {
        var meters: [String] = []
        for s in sections {
            for c in s.channels {
                let line = "\(c.device) \(c.domain): \(c.mode), \(c.role), from \(c.source)"
                if !meters.contains(line) { meters.append(line) }
            }
        }
        var sources: [String] = []
        for s in sections {
            for a in s.attribution + s.coefficients.map({ "\($0.name): \($0.source) (\($0.licence))" }) where !sources.contains(a) {
                sources.append(a)
            }
        }
        return .init(
            meters: meters,
            formulas: [
                "energy: each counter's increments summed reading by reading under the run's recorded integration rules (wraps, resets and glitches decided and recorded); power readings integrated over their interval; estimates from CPU utilisation × TDP and memory in use",
                "total: the non-overlapping (total) channels; detail channels cross-check them",
                "facility energy E = IT energy × PUE; location-based emissions = E × I; market-based = covered energy × supplier factor + uncovered × residual mix",
                "embodied M = total embodied × (time reserved ÷ lifetime) × (units reserved ÷ units)",
                "SCI = (E × I + M) ÷ R, offsets and certificates excluded (ISO/IEC 21031:2024)",
                "90 % interval: each input's relative band combined in quadrature (treated as independent)",
            ], dataSources: sources)
    }

    /// A comparison's or a period's headline. From schema 2 it says, as a run's does, whether the energy was measured
    /// ("partly estimated" with the measured share of the kWh when the runs differ), that the kWh are IT energy and the
    /// grams include each run's PUE, and counts runs in words.
    func periodSentence(_ t: SustainabilityReport.Totals, _ sections: [SustainabilityReport.RunSection], schema: Int) -> String {
        let regions = Array(Set(sections.map(\.regionName))).sorted().joined(separator: ", ")
        let tool = sections.isEmpty ? "wattprint" : "wattprint \(toolVersion)"
        guard schema >= 2 else {
            return
                "\(t.runs) run(s) used \(sig(t.kWh)) kWh (90 % interval \(sig(t.kWhLow))–\(sig(t.kWhHigh)) kWh) in \(regions), emitting \(sig(t.totalGrams)) g CO2e (location-based), measured with \(tool)."
        }
        let measured = sections.reduce(0) { $0 + $1.measuredShare * $1.kWh }
        let share = t.kWh > 0 ? measured / t.kWh : 0
        let basis =
            share >= 1 - 1e-9
            ? "measured"
            : share <= 1e-9 ? "estimated" : "partly estimated: \(String(format: "%.0f", min(99, max(1, share * 100)))) % measured"
        return
            "\(t.runs) \(t.runs == 1 ? "run" : "runs") used \(sig(t.kWh)) kWh of IT energy (90 % interval \(sig(t.kWhLow))–\(sig(t.kWhHigh)) kWh; \(basis)) in \(regions), emitting \(sig(t.totalGrams)) g CO2e (location-based, each run's PUE included), \(basis == "measured" ? "measured" : "estimated") with \(tool)."
    }

    func sig(_ x: Double) -> String { QuantityFormat.significant(x) }
}

/// A report that cannot be made or checked, with the fix.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ problem: String, fix: String) { description = "\(problem); \(fix)" }
}
