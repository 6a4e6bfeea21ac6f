import Benchmarks
import Foundation
import Measures

/// `wattprint bench`: per workload, a table of its phases (J/token with the median's interval and spread, dynamic
/// J/token, kWh per 1 000 tokens, tokens/s, MFU against both peaks, g CO2e per 1 000 tokens with its interval, and
/// where the energy came from), the quality reached, energy per channel, and every validity flag; then the findings.
public enum BenchSuiteReport {
    public struct Record: Codable, Sendable {
        public var analysis: BenchAnalysis
        public var findings: [EfficiencyFinding]
        /// The workloads side by side, when there are several.
        public var comparison: Comparison?
        /// J/token and attention's share by prompt length, from `--sweep seq=`.
        public var contextSweep: ContextSweep?
        public init(
            analysis: BenchAnalysis, findings: [EfficiencyFinding], comparison: Comparison? = nil, contextSweep: ContextSweep? = nil
        ) {
            self.analysis = analysis; self.findings = findings; self.comparison = comparison; self.contextSweep = contextSweep
        }
    }

    /// Why a channel's dynamic energy can be below zero: it is the workload's energy less the idle baseline's power over
    /// the same time, and a channel that barely moves with load (memory, here) can read less during the work than idle.
    /// - Parameter channels: the keys of the channels whose dynamic energy is negative.
    public static func negativeDynamicNote(_ channels: [String]) -> String {
        "\(channels.joined(separator: ", ")): dynamic energy below zero, less during the workload than the idle baseline's power over the same time; within the noise for a channel that barely moves with load, else a sign the idle power moved (an idle drift flag says so)"
    }

    public static func build(_ record: Record) -> Report {
        let a = record.analysis
        var blocks: [Block] = []
        var head =
            "wattprint bench\(a.suite.map { " \($0)" } ?? "") — run \(a.runID), \(QuantityFormat.counted(a.repeats, "repeat")) of each workload, interleaved"
        if let idle = a.idle {
            head +=
                "; idle \(idle.beforeWatts.map(QuantityFormat.watts) ?? "—") before, \(idle.afterWatts.map(QuantityFormat.watts) ?? "—") after"
            if let drift = idle.drift { head += " (drift \(QuantityFormat.percent(drift)))" }
        }
        blocks.append(.line(head))
        if let p = a.peaks {
            blocks.append(
                .line(
                    "peaks: sgemm \(QuantityFormat.fixed(p.sgemmGFLOPs, 1)) GFLOP/s (OpenBLAS \(p.blasCore ?? "?") kernels\(p.blasCoreOverride.map { ", OPENBLAS_CORETYPE=\($0)" } ?? ""), \(QuantityFormat.counted(p.threads, "thread"))); FMA \(QuantityFormat.fixed(p.fmaGFLOPs, 1)) GFLOP/s (\(p.vectorISA), \(QuantityFormat.counted(p.threads, "thread")))"
                ))
        }
        for w in a.workloads {
            blocks.append(.blank)
            var title = "\(w.name): \(w.architecture), \(QuantityFormat.grouped(w.parameters)) parameters"
            if w.activeParameters != w.parameters { title += " (\(QuantityFormat.grouped(w.activeParameters)) active)" }
            title +=
                w.standard
                ? "; standard corpus" : w.corpusChecked == false ? "; corpus not checked (no data.sha256)" : "; NON-STANDARD corpus"
            blocks.append(.line(title))
            var table = Table(
                header: [
                    "phase", "J/token [interval]", "CV", "dynamic J/token", "kWh/1k tok", "tokens/s", "MFU sgemm", "MFU FMA",
                    "g CO2e/1k tok [90 %]", "SCI g/token", "energy",
                ], rightAligned: [2, 3, 4, 5, 6, 7, 10])
            for p in w.phases {
                let j = p.joulesPerToken
                table.rows.append([
                    p.phase,
                    "\(sig(j.median))" + (j.low.map { " [\(sig($0)), \(sig(j.high!))]" } ?? ""),
                    j.coefficientOfVariation.map(QuantityFormat.percent) ?? "—",
                    p.dynamicJoulesPerToken.map { sig($0.median) } ?? "—",
                    String(format: "%.3g", p.kWhPer1kTokens),
                    QuantityFormat.fixed(p.tokensPerSecond.median, 1),
                    p.mfuSGEMM.map { QuantityFormat.percent($0.median) } ?? "—",
                    p.mfuFMA.map { QuantityFormat.percent($0.median) } ?? "—",
                    p.carbon.map { "\(sig($0.gramsPer1kTokens)) [\(sig($0.low)), \(sig($0.high))]" } ?? "—",
                    p.carbon.map { sig($0.sciGramsPerToken) } ?? "—",
                    p.energySource,
                ])
            }
            blocks.append(.prefixed("  ", [.table(table)]))
            var fields: [Field] = []
            if let loss = w.validationLoss, let ppl = w.perplexity {
                fields.append(
                    Field(
                        "quality",
                        "validation loss \(QuantityFormat.fixed(loss, 4)) nats/token (perplexity \(QuantityFormat.fixed(ppl, 3))), median of repeats"
                    ))
            }
            if let precision = w.precision, precision != "fp32" {
                var text = "\(precision) weights for evaluation, prefill and decode"
                if let g = w.groupSize { text += " (one scale per \(g) weights)" }
                if let k = w.weightKernel { text += "; kernel: \(k)" }
                if let base = w.fp32ValidationLoss, let loss = w.validationLoss {
                    text += String(format: "; validation loss %+.4f nats/token against its fp32 weights (%.4f)", loss - base, base)
                }
                fields.append(Field("weights", text))
            }
            if w.phases.contains(where: { $0.phase == "prefill" && ($0.mfuSGEMM?.median ?? 0) > 1 }) {
                fields.append(
                    Field(
                        "MFU",
                        "prefill above 100 % against the sgemm peak: where the CPU has AVX-512F, prefill multiplies with the engine's own kernel on weights packed once (fp32, or BF16 and VNNI int8 dot products for bf16 and int8 weights), not sgemm; MFU FMA is against what the cores can do at all"
                    ))
            }
            if let closure = w.inferenceClosure {
                fields.append(
                    Field(
                        "inference",
                        "the prefill and decode windows add up to the inference windows' energy to within \(QuantityFormat.percent(closure))"
                    ))
            }
            if !w.channels.isEmpty {
                fields.append(
                    Field(
                        "energy",
                        w.channels.map { c in
                            "\(c.key) \(QuantityFormat.joules(c.joules))"
                                + (c.dynamicJoules.map { " (dynamic \(QuantityFormat.joules($0)))" } ?? "")
                        }.joined(separator: "; ") + " per repeat, median"))
                let negative = w.channels.filter { ($0.dynamicJoules ?? 0) < 0 }.map(\.key)
                if !negative.isEmpty { fields.append(Field("", Self.negativeDynamicNote(negative))) }
            }
            blocks.append(.prefixed("  ", [.fields(fields)]))
            let flags = w.flags + w.phases.flatMap(\.flags)
            if !flags.isEmpty { blocks.append(.prefixed("  ", [.findings(flags.map { Finding(.warning, $0.message) })])) }
        }
        if let c = a.workloads.first?.phases.first?.carbon {
            blocks.append(.blank)
            blocks.append(
                .line(
                    "carbon: region \(c.region), \(QuantityFormat.fixed(c.intensityGramsPerKWh, 0)) g CO2e/kWh location-based; SCI per token excludes offsets and certificates"
                ))
        }
        if !a.flags.isEmpty {
            blocks.append(.blank)
            blocks.append(.findings(a.flags.map { Finding(.warning, $0.message) }))
        }
        if !record.findings.isEmpty {
            blocks.append(.blank)
            blocks.append(.line("Efficiency findings:"))
            for f in record.findings {
                blocks.append(.line("- \(f.summary)"))
            }
        }
        if let sweep = record.contextSweep, !sweep.rows.isEmpty {
            blocks.append(.blank)
            blocks.append(.line("Context sweep (J/token: median [interval] over repeats; attention: its share of the FLOPs per token):"))
            func figure(_ s: RepeatSummary?) -> String {
                guard let s else { return "—" }
                return
                    "\(String(format: "%.4g", s.median))\(s.low.map { l in s.high.map { h in " [\(String(format: "%.4g", l)), \(String(format: "%.4g", h))]" } ?? "" } ?? "")"
            }
            for row in sweep.rows {
                blocks.append(
                    .line(
                        "  \(row.workload) prompt \(row.promptTokens): prefill \(figure(row.prefillJoulesPerToken)) J/token (attention \(QuantityFormat.percent(row.prefillAttentionShare))), decode \(figure(row.decodeJoulesPerToken)) J/token\(row.decodeAttentionShare.map { " (attention \(QuantityFormat.percent($0)))" } ?? "")"
                    ))
            }
        }
        if var comparison = record.comparison {
            // The run's own warnings are printed above already.
            comparison.notes.removeAll { note in a.flags.contains { note == "run \(a.runID): \($0.message)" } }
            blocks.append(.blank)
            blocks.append(.line("Side by side (wattprint compare \(a.runID)):"))
            blocks += CompareReport.build(comparison).blocks
        }
        return Report(blocks: blocks, data: record)
    }

    static func sig(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "—" }
}
