import Measures
import Plot

/// The report as one self-contained HTML page: inline CSS and inline SVG charts, no script and nothing fetched, so it
/// reads the same offline, attached to an email or archived.
public enum SustainabilityHTML {
    static let css = """
        body{font:15px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
        h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}h3{margin-top:1.4em}
        table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
        td.n{text-align:right;font-variant-numeric:tabular-nums}blockquote{background:#f4f7f4;border-left:4px solid #1b9e77;margin:1em 0;padding:.6em 1em}
        code,pre{background:#f5f5f5}pre{padding:.6em;overflow-x:auto}svg.chart{display:block;margin:.8em 0;max-width:100%;height:auto}
        .basis{font-size:.85em;color:#555}.warn{color:#8a4b00}
        """

    public static func render(_ r: SustainabilityReport) -> String {
        var body: [Node<HTML.BodyContext>] = [.h1(.text(r.title)), .blockquote(.text(r.quotable)), .h2("Summary")]
        body.append(table(["figure", "value"], SustainabilityMarkdown.summaryRows(r)))
        if r.request.kind != .run {
            body.append(.h2("Runs"))
            body.append(
                table(
                    SustainabilityMarkdown.runsHeader,
                    r.runs.map {
                        [
                            "\($0.id)", $0.command, $0.startedAt, "\(sig($0.kWh)) [\(sig($0.kWhLow))–\(sig($0.kWhHigh))]",
                            "\(sig($0.totalGrams)) [\(sig($0.totalGramsLow))–\(sig($0.totalGramsHigh))]", $0.joulesPerToken.map(sig) ?? "—",
                            $0.status,
                        ]
                    }))
            body.append(
                .raw(
                    SVGChart.bars(
                        r.runs.map { ("run \($0.id)", $0.kWh, $0.kWhLow, $0.kWhHigh) }, unit: "kWh", kind: "comparison-energy",
                        title: "Energy per run with its 90 % interval")))
            body.append(
                .raw(
                    SVGChart.bars(
                        r.runs.map { ("run \($0.id)", $0.totalGrams, $0.totalGramsLow, $0.totalGramsHigh) }, unit: "g CO2e",
                        kind: "comparison-emissions", title: "Emissions per run with their 90 % interval")))
        }
        if r.request.kind != .run, !SustainabilityMarkdown.phaseRows(r).isEmpty {
            body.append(.h2("J/token by phase"))
            body.append(table(SustainabilityMarkdown.phaseHeader, SustainabilityMarkdown.phaseRows(r)))
        }
        if !r.groups.isEmpty {
            body.append(.h2(.text("By \(r.request.groupBy ?? "workload")")))
            body.append(
                table(
                    SustainabilityMarkdown.groupsHeader(r),
                    r.groups.map { [$0.name, "\($0.runs)", sig($0.kWh), sig($0.grams), $0.tokens.map(sig) ?? "—"] }))
            if let note = SustainabilityMarkdown.groupsNote(r) { body.append(.p(.em(.text(note)))) }
            body.append(
                .raw(SVGChart.bars(r.groups.map { ($0.name, $0.kWh, nil, nil) }, unit: "kWh", kind: "groups", title: "Energy by group")))
        }
        if !r.trend.isEmpty {
            body.append(.h2("Trend"))
            body.append(.raw(SVGChart.trend(r.trend, title: "Energy per day")))
            body.append(table(["day", "runs", "kWh", "g CO2e"], r.trend.map { [$0.day, "\($0.runs)", sig($0.kWh), sig($0.grams)] }))
        }
        if r.request.kind != .period { for run in r.runs { body += section(run) } }
        if let advice = r.offsets {
            body.append(.h2("Reductions and offsets"))
            for section in OffsetReport.sections(advice) {
                body.append(.h3(.text(section.title)))
                body.append(.ul(.forEach(section.lines) { .li(.text($0)) }))
            }
            if !advice.notes.isEmpty { body.append(.ul(.class("basis"), .forEach(advice.notes) { .li(.text($0)) })) }
        }
        body.append(.h2("Gaps and interrupted runs"))
        body.append(r.gaps.isEmpty ? .p("None in what this report covers.") : .ul(.forEach(r.gaps) { .li(.text($0)) }))
        body.append(.h2("Methodology"))
        body.append(.h3("Meters"))
        body.append(.ul(.forEach(r.methodology.meters) { .li(.text($0)) }))
        body.append(.h3("Formulas"))
        body.append(.ul(.forEach(r.methodology.formulas) { .li(.text($0)) }))
        body.append(.h3("Data sources"))
        body.append(.ul(.forEach(r.methodology.dataSources) { .li(.text($0)) }))
        body.append(.h2("Verification"))
        body.append(.p("Every figure is recomputed from the ledger's raw samples, and the signature checked, by:"))
        body.append(.pre(.code(.text(r.verification.command))))
        body.append(.ul(.forEach(r.runs) { .li(.text("run \($0.id): chain head (seal) \($0.seal ?? "not sealed")")) }))
        if let key = r.verification.publicKey {
            body.append(
                .p(
                    .text(
                        "The JSON report written beside this file is signed with Ed25519 by the host key \(key); this rendering is not: verify and quote the JSON."
                    )))
        }
        body.append(.p(.em(.text(r.generatedBy))))
        return HTML(.head(.meta(.charset(.utf8)), .title(r.title), .style(css)), .body(.group(body))).render()
    }

    static func section(_ s: SustainabilityReport.RunSection) -> [Node<HTML.BodyContext>] {
        var out: [Node<HTML.BodyContext>] = [
            .h2(.text("Run \(s.id): \(s.command)")),
            .ul(
                .li(.text("started \(s.startedAt), \(String(format: "%.1f", s.seconds)) s, \(s.status)")),
                .li(
                    .text(
                        "host \(s.host) (\(s.hardware.isEmpty ? "hardware not recorded" : s.hardware)), region \(s.regionName) (\(s.region))"
                    )),
                .li(
                    .text(
                        "energy \(sig(s.kWh)) kWh (90 %: \(sig(s.kWhLow))–\(sig(s.kWhHigh))), \(String(format: "%.0f", s.measuredShare * 100)) % measured"
                    )),
                .forEach([SustainabilityMarkdown.tokensLine(s)].compactMap { $0 }) { .li(.text($0)) }
            ),
        ]
        if !s.power.isEmpty {
            out.append(
                .raw(SVGChart.power(s.power, title: "Power over time, run \(s.id): channels that add up stacked, detail channels dashed")))
        }
        out.append(.h3("Energy by channel"))
        out.append(
            .raw(
                SVGChart.bars(
                    s.channels.filter { $0.role == "total" }.map { ("\($0.device) \($0.domain)", $0.kWh * 3.6e6, nil, nil) }, unit: "J",
                    kind: "channels", title: "Energy by channel, run \(s.id)")))
        out.append(
            table(
                ["channel", "domain", "role", "mode", "kWh", "mean W", "source"],
                s.channels.map { [$0.device, $0.domain, $0.role, $0.mode, sig($0.kWh), sig($0.meanWatts), $0.source] }))
        if !s.phases.isEmpty {
            out.append(.h3("Phases"))
            out.append(
                .raw(
                    SVGChart.bars(
                        s.phases.map { ($0.name, $0.kWh * 3.6e6, nil, nil) }, unit: "J", kind: "phases",
                        title: "Energy by phase, run \(s.id)")))
            out.append(
                table(
                    SustainabilityMarkdown.runPhaseHeader,
                    s.phases.map {
                        [$0.name, sig($0.seconds), sig($0.kWh), sig($0.tokens), $0.joulesPerToken.map(sig) ?? "—"]
                    }))
            out.append(.p(.text(SustainabilityMarkdown.runPhaseNote)))
        }
        let c = s.sci
        out += [
            .h3("Software Carbon Intensity (SCI)"),
            .p(.text("Functional unit R: \(c.functionalUnit) (\(sig(c.functionalUnits))) — \(c.functionalUnitReason).")),
            .p("Included:"), .ul(.forEach(c.included) { .li(.text($0)) }), .p("Excluded:"), .ul(.forEach(c.excluded) { .li(.text($0)) }),
            table(
                ["component", "value", "unit", "basis", "note"],
                [
                    ["E (facility energy)", sig(c.energy.value), c.energy.unit, c.energy.basis.rawValue, c.energy.note],
                    ["I (grid intensity)", sig(c.intensity.value), c.intensity.unit, c.intensity.basis.rawValue, c.intensity.note],
                    ["M (embodied)", sig(c.embodied.value), c.embodied.unit, c.embodied.basis.rawValue, c.embodied.note],
                    ["R (functional units)", sig(c.functionalUnits), c.functionalUnit, "measured", c.functionalUnitReason],
                ]),
            .p(
                .text(
                    "SCI = (E × I + M) ÷ R = (\(sig(c.operationalGrams)) + \(sig(c.embodiedGrams))) g ÷ \(sig(c.functionalUnits)) = \(sig(c.perUnitGrams)) g CO2e per \(c.functionalUnit) (total \(sig(c.totalGrams)) g)."
                )),
            .h3("Coefficients"),
            table(
                ["coefficient", "value", "unit", "source", "year", "licence"],
                s.coefficients.map { [$0.name, sig($0.value), $0.unit, $0.source, $0.year.map(String.init) ?? "—", $0.licence] }),
            .h3("Emissions"),
            .ul(
                .li(.text("location-based Scope 2: \(sig(s.locationBasedGrams)) g CO2e")),
                .li(
                    .text(
                        "market-based Scope 2: \(s.marketBasedGrams.map { "\(sig($0)) g CO2e" } ?? "not computed: no contractual instruments were given")"
                    )),
                .li(
                    .text(
                        "embodied: \(SustainabilityMarkdown.excludesEmbodied(s) ? SustainabilityMarkdown.embodiedExcluded : "\(sig(s.embodiedGrams)) g CO2e")"
                    )),
                .li(
                    .text(
                        "total: \(sig(s.totalGrams)) g CO2e, 90 % interval \(sig(s.totalGramsLow))–\(sig(s.totalGramsHigh)) g\(s.dominantContributor.map { ", dominated by \($0)" } ?? "")"
                    ))
            ),
        ]
        if let m = s.modelCard {
            out.append(.h3("Model card"))
            out.append(
                .pre(
                    .code(
                        .text(
                            "co2_eq_emissions:\n  emissions: \(m.emissions)\n  source: \"\(m.source)\"\n  training_type: \"\(m.trainingType)\"\n  geographical_location: \"\(m.geographicalLocation)\"\n  hardware_used: \"\(m.hardwareUsed)\""
                        ))))
            out.append(.p(.text("Beside it: \(sig(m.kWh)) kWh over \(String(format: "%.3f", m.hours)) h.")))
        }
        if !s.flags.isEmpty {
            out.append(.h3("What to know"))
            out.append(.ul(.class("warn"), .forEach(s.flags) { .li(.text($0)) }))
        }
        out.append(.group(s.attribution.map { .p(.class("basis"), .text($0)) }))
        out.append(.blockquote(.text(s.quotable)))
        return out
    }

    static func table(_ header: [String], _ rows: [[String]]) -> Node<HTML.BodyContext> {
        .table(
            .tr(.forEach(header) { .th(.text($0)) }),
            .forEach(rows) { row in .tr(.forEach(row) { cell in .td(.text(cell)) }) })
    }

    static func sig(_ x: Double) -> String { QuantityFormat.significant(x) }
}
