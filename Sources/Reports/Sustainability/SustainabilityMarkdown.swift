import Measures

/// The report as Markdown: the same sections as the HTML, tables as pipe tables, no charts.
public enum SustainabilityMarkdown {
    public static func render(_ r: SustainabilityReport) -> String {
        var out: [String] = ["# \(r.title)", "", "> \(r.quotable)", ""]
        out += ["## Summary", ""]
        out += table(["figure", "value"], summaryRows(r))
        if r.request.kind != .run {
            out += ["", "## Runs", ""]
            out += table(
                runsHeader,
                r.runs.map {
                    [
                        "\($0.id)", "`\($0.command)`", $0.startedAt, "\(sig($0.kWh)) [\(sig($0.kWhLow))–\(sig($0.kWhHigh))]",
                        "\(sig($0.totalGrams)) [\(sig($0.totalGramsLow))–\(sig($0.totalGramsHigh))]", $0.joulesPerToken.map(sig) ?? "—",
                        $0.status,
                    ]
                })
        }
        if r.request.kind != .run, !phaseRows(r).isEmpty {
            out += ["", "## J/token by phase", ""] + table(phaseHeader, phaseRows(r))
        }
        if !r.groups.isEmpty {
            out += ["", "## By \(r.request.groupBy ?? "workload")", ""]
            out += table(
                groupsHeader(r),
                r.groups.map { ["\($0.name)", "\($0.runs)", sig($0.kWh), sig($0.grams), $0.tokens.map(sig) ?? "—"] })
            if let note = groupsNote(r) { out += ["", "_\(note)_"] }
        }
        if !r.trend.isEmpty {
            out += ["", "## Trend", ""]
            out += table(["day", "runs", "kWh", "g CO2e"], r.trend.map { [$0.day, "\($0.runs)", sig($0.kWh), sig($0.grams)] })
        }
        if r.request.kind != .period { for run in r.runs { out += [""] + section(run) } }
        if let advice = r.offsets {
            out += ["", "## Reductions and offsets"]
            for section in OffsetReport.sections(advice) { out += ["", "### \(section.title)", ""] + section.lines.map { "- \($0)" } }
            if !advice.notes.isEmpty { out += [""] + advice.notes.map { "_\($0)_" } }
        }
        out += ["", "## Gaps and interrupted runs", ""]
        out += r.gaps.isEmpty ? ["None in what this report covers."] : r.gaps.map { "- \($0)" }
        out += ["", "## Methodology", "", "Meters:", ""] + r.methodology.meters.map { "- \($0)" }
        out += ["", "Formulas:", ""] + r.methodology.formulas.map { "- \($0)" }
        out += ["", "Data sources:", ""] + r.methodology.dataSources.map { "- \($0)" }
        out += ["", "## Verification", ""]
        out += [
            "Every figure is recomputed from the ledger's raw samples, and the signature checked, by:", "", "```", r.verification.command,
            "```", "",
        ]
        out += ["Ledger `\(r.ledger)`; chain heads (run seals):", ""] + r.runs.map { "- run \($0.id): `\($0.seal ?? "not sealed")`" }
        if let key = r.verification.publicKey {
            out += [
                "",
                "The JSON report written beside this file is signed with Ed25519 by the host key `\(key)`; this rendering is not: verify and quote the JSON.",
            ]
        }
        out += ["", "_\(r.generatedBy)_", ""]
        return out.joined(separator: "\n")
    }

    /// The groups table's columns: by model a group is named by its architecture and parameter count ("gpt2 858,880").
    static func groupsHeader(_ r: SustainabilityReport) -> [String] {
        [r.request.groupBy == "model" ? "model (architecture, parameters)" : "group", "runs", "kWh", "g CO2e", "tokens"]
    }

    /// The runs table's columns: its J/token is the whole run's energy over its tokens, idle and set-up included.
    static let runsHeader = ["run", "command", "started", "kWh [90 %]", "g CO2e [90 %]", "J/token (whole run)", "status"]
    static let phaseHeader = ["run", "phase", "seconds", "tokens", "J/token (phase)"]

    /// How the groups were formed, where a run can be split or joined to another's (from schema 3, with such a run in
    /// the period: a benchmark's share outside its windows, or a findings rerun).
    static func groupsNote(_ r: SustainabilityReport) -> String? {
        guard r.schema >= 3 else { return nil }
        let split = r.groups.contains { $0.name == SustainabilityReportBuilder.benchOverhead }
        switch r.request.groupBy ?? "workload" {
        case "model" where split:
            return
                "A benchmark run is split among its workloads' models by the energy of their windows, its grams in proportion; the rest of it is \"\(SustainabilityReportBuilder.benchOverhead)\". Such a run counts once in each of its groups."
        case "workload" where split && r.schema >= 4:
            return
                "A benchmark run is split among its workloads by the energy of their windows, its grams in proportion; the rest of it is \"\(SustainabilityReportBuilder.benchOverhead)\". A findings rerun's windows count with the workload it measured. Such a run counts once in each of its groups; other runs are grouped by their command."
        case "workload" where r.schema == 3 && r.runs.contains { $0.command.contains("--findings none") }:
            return "A benchmark's findings reruns count with the benchmark that measured them."
        default: return nil
        }
    }

    /// Each run's phases that counted tokens, for comparing runs on the work itself (a whole run's J/token also
    /// carries its idle, set-up and evaluation time).
    static func phaseRows(_ r: SustainabilityReport) -> [[String]] {
        r.runs.flatMap { run in
            run.phases.compactMap { p in
                p.joulesPerToken.map { ["\(run.id)", p.name, sig(p.seconds), sig(p.tokens), sig($0)] }
            }
        }
    }

    /// A run whose embodied emissions were left out (no hardware given): its 0 g is no measured zero.
    static func excludesEmbodied(_ s: SustainabilityReport.RunSection) -> Bool { s.sci.embodied.basis == .excluded }
    static let embodiedExcluded = "not included (no hardware was recorded: `wattprint run` and `bench` take `--hardware CLASS`)"

    static func summaryRows(_ r: SustainabilityReport) -> [[String]] {
        let t = r.totals
        var rows = [
            ["runs", "\(t.runs)"], ["energy (IT)", "\(sig(t.kWh)) kWh (90 %: \(sig(t.kWhLow))–\(sig(t.kWhHigh)))"],
            ["location-based Scope 2", "\(sig(t.locationBasedGrams)) g CO2e"],
        ]
        rows.append(["market-based Scope 2", t.marketBasedGrams.map { "\(sig($0)) g CO2e" } ?? "no contractual data given"])
        rows.append(["embodied", r.runs.allSatisfy(excludesEmbodied) ? embodiedExcluded : "\(sig(t.embodiedGrams)) g CO2e"])
        rows.append(["total (location-based + embodied)", "\(sig(t.totalGrams)) g CO2e"])
        return rows
    }

    /// A run's tokens and J/token, saying the figure is the whole run's energy (idle baselines, the peaks' probes and
    /// set-up included) when the run has phases, whose own J/token can be several times lower.
    static func tokensLine(_ s: SustainabilityReport.RunSection) -> String? {
        guard let t = s.tokens, let j = s.joulesPerToken else { return nil }
        let scope = s.phases.isEmpty ? "" : " over the whole run (idle baselines, probes and set-up included; per phase below)"
        return "\(sig(t)) tokens, \(sig(j)) J/token\(scope)"
    }

    /// A run's phase table: each phase's energy over its tokens, all its windows together.
    static let runPhaseHeader = ["phase", "seconds", "kWh", "tokens", "J/token (all windows)"]
    static let runPhaseNote =
        "A phase's J/token here is its energy over its tokens, all its windows (a benchmark's repeats) together; `wattprint bench` and `compare` print the median over the repeats, with its interval."

    static func section(_ s: SustainabilityReport.RunSection) -> [String] {
        var out = ["## Run \(s.id): `\(s.command)`", ""]
        out += [
            "- started \(s.startedAt), \(String(format: "%.1f", s.seconds)) s, \(s.status)",
            "- host \(s.host) (\(s.hardware.isEmpty ? "hardware not recorded" : s.hardware)), region \(s.regionName) (`\(s.region)`)",
            "- energy \(sig(s.kWh)) kWh (90 %: \(sig(s.kWhLow))–\(sig(s.kWhHigh))), \(String(format: "%.0f", s.measuredShare * 100)) % measured",
        ]
        if let line = tokensLine(s) { out.append("- \(line)") }
        out += ["", "### Energy by channel", ""]
        out += table(
            ["channel", "domain", "role", "mode", "kWh", "mean W", "source"],
            s.channels.map { [$0.device, $0.domain, $0.role, $0.mode, sig($0.kWh), sig($0.meanWatts), "`\($0.source)`"] })
        if !s.phases.isEmpty {
            out += ["", "### Phases", ""]
            out += table(
                runPhaseHeader,
                s.phases.map {
                    [$0.name, sig($0.seconds), sig($0.kWh), sig($0.tokens), $0.joulesPerToken.map(sig) ?? "—"]
                })
            out += ["", runPhaseNote]
        }
        let c = s.sci
        out += ["", "### Software Carbon Intensity (SCI)", ""]
        out += ["Functional unit R: **\(c.functionalUnit)** (\(sig(c.functionalUnits))) — \(c.functionalUnitReason).", ""]
        out += ["Included:", ""] + c.included.map { "- \($0)" } + ["", "Excluded:", ""] + c.excluded.map { "- \($0)" } + [""]
        out += table(
            ["component", "value", "unit", "basis", "note"],
            [
                ["E (facility energy)", sig(c.energy.value), c.energy.unit, c.energy.basis.rawValue, c.energy.note],
                ["I (grid intensity)", sig(c.intensity.value), c.intensity.unit, c.intensity.basis.rawValue, c.intensity.note],
                ["M (embodied)", sig(c.embodied.value), c.embodied.unit, c.embodied.basis.rawValue, c.embodied.note],
                ["R (functional units)", sig(c.functionalUnits), c.functionalUnit, "measured", c.functionalUnitReason],
            ])
        out += [
            "",
            "SCI = (E × I + M) ÷ R = (\(sig(c.operationalGrams)) + \(sig(c.embodiedGrams))) g ÷ \(sig(c.functionalUnits)) = **\(sig(c.perUnitGrams)) g CO2e per \(c.functionalUnit)** (total \(sig(c.totalGrams)) g).",
        ]
        out += ["", "### Coefficients", ""]
        out += table(
            ["coefficient", "value", "unit", "source", "year", "licence"],
            s.coefficients.map { [$0.name, sig($0.value), $0.unit, $0.source, $0.year.map(String.init) ?? "—", $0.licence] })
        out += ["", "### Emissions", ""]
        out += [
            "- location-based Scope 2: \(sig(s.locationBasedGrams)) g CO2e",
            "- market-based Scope 2: \(s.marketBasedGrams.map { "\(sig($0)) g CO2e" } ?? "not computed: no contractual instruments were given")",
            "- embodied: \(excludesEmbodied(s) ? embodiedExcluded : "\(sig(s.embodiedGrams)) g CO2e")",
            "- total: \(sig(s.totalGrams)) g CO2e, 90 % interval \(sig(s.totalGramsLow))–\(sig(s.totalGramsHigh)) g\(s.dominantContributor.map { ", dominated by \($0)" } ?? "")",
        ]
        if let m = s.modelCard {
            out += ["", "### Model card", "", "```yaml", "co2_eq_emissions:"]
            out += [
                "  emissions: \(m.emissions)", "  source: \"\(m.source)\"", "  training_type: \"\(m.trainingType)\"",
                "  geographical_location: \"\(m.geographicalLocation)\"", "  hardware_used: \"\(m.hardwareUsed)\"", "```",
                "", "Beside it: \(sig(m.kWh)) kWh over \(String(format: "%.3f", m.hours)) h.",
            ]
        }
        if !s.flags.isEmpty { out += ["", "### What to know", ""] + s.flags.map { "- \($0)" } }
        if !s.attribution.isEmpty { out += [""] + s.attribution.map { "_\($0)_" } }
        out += ["", "> \(s.quotable)"]
        return out
    }

    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        return ["| " + header.map(cell).joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
            + rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
    }

    static func sig(_ x: Double) -> String { QuantityFormat.significant(x) }
}
