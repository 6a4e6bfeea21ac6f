import Accounting
import Foundation
import Measures
import Meters

/// One run's energy and footprint, as `run` prints it when the run ends and `show` prints it later.
public enum RunReport {
    public static func build(_ f: RunFootprint) -> Report { Report(blocks: blocks(f), data: f) }

    static func blocks(_ f: RunFootprint) -> [Block] {
        let e = f.energy
        var out: [String] = []
        out.append("wattprint: run \(e.runID) — \(RunListReport.oneLine(e.command))")
        out.append("  duration \(QuantityFormat.seconds(e.seconds)), status \(e.status)\(e.region.map { ", region \($0)" } ?? "")")
        out += f.overrides.map { "  override: \($0)" }
        out += f.notes.map { "  note: \($0)" }
        if !f.settingsRecorded {
            out.append(
                "  note: the run recorded no footprint settings (wattprint kept none then): its region as recorded, the default site and PUE"
            )
        }
        var blocks = out.map(Block.line)
        var table = Table(header: ["channel", "domain", "role", "mode", "energy", "mean power"], rightAligned: [4, 5])
        for c in e.channels where c.kind != .cpuTime && c.kind != .context {
            table.rows.append([
                c.device, c.domain, c.role.rawValue, c.mode.rawValue, QuantityFormat.joules(c.joules), QuantityFormat.watts(c.meanWatts),
            ])
        }
        blocks.append(.prefixed("  ", [.table(table)]))
        out = []
        var total = String(
            format: "  total %@ (%.4g kWh), 90 %% interval %@ – %@", QuantityFormat.joules(e.totalJoules), e.kWh,
            QuantityFormat.joules(e.totalLowJoules), QuantityFormat.joules(e.totalHighJoules))
        if e.totalJoules > 0 {
            total += String(
                format: "; %.0f %% measured, %.0f %% ESTIMATED", e.measuredJoules / e.totalJoules * 100,
                e.estimatedJoules / e.totalJoules * 100)
        }
        out.append(total)
        if let a = e.attribution {
            out.append(
                String(
                    format: "  process tree: %.2f CPU-s of %.2f host busy CPU-s (%.0f %%) → %@ of %@ CPU energy attributed",
                    a.treeCPUSeconds, a.hostBusyCPUSeconds, a.share * 100, QuantityFormat.joules(a.attributedCPUJoules),
                    QuantityFormat.joules(a.hostCPUJoules)))
            if let detail = a.methodDetail { out.append("    attributed by \(detail)") }
            // The carbon figures below count the host's whole energy: say so where the program used visibly less.
            if a.share < 0.995 {
                out.append("    the carbon figures below count the host's whole energy, not only this share")
            }
        }
        for c in e.crossChecks {
            let difference = c.relativeDifference.map { String(format: "%+.2f %%", $0 * 100) } ?? "the counted reading saw no energy"
            out.append(
                String(
                    format: "  cross-check %@: %@ by %@, against %@ by %@ (%@)", c.device, QuantityFormat.joules(c.checkJoules),
                    c.checkSource, QuantityFormat.joules(c.countedJoules), c.countedSource, difference))
        }
        for d in e.decisions where d.kind != .skipped {
            out.append("  decided: \(d.subject)\(d.counterpart.map { " → \($0)" } ?? ""): \(d.reason)")
        }
        for d in e.decisions where d.kind == .skipped { out.append("  skipped: \(d.subject): \(d.reason)") }
        for a in e.anomalies {
            let value = a.decision.value.map { " reading " + readingText($0) } ?? ""
            out.append(
                String(
                    format: "  anomaly at %.2f s: %@ (%@) %@%@: %@", a.atSeconds, a.device, a.domain, a.decision.kind.rawValue,
                    value, a.decision.reason))
        }
        // A lost device ends all its channels in the same reading: one line per device and moment.
        var gaps: [(line: String, domains: [String])] = []
        for g in e.gaps {
            let end =
                g.resumedAtSeconds.map { String(format: "resumed at %.2f s", $0) }
                ?? "did not come back; its energy counts up to its last reading"
            let line = String(format: "  gap: %@ stopped answering at %.2f s; %@", g.device, g.atSeconds, end)
            if let i = gaps.firstIndex(where: { $0.line == line }) {
                gaps[i].domains.append(g.domain)
            } else {
                gaps.append((line, [g.domain]))
            }
        }
        out += gaps.map { "\($0.line) (\($0.domains.joined(separator: ", ")))" }
        for c in e.channels where c.unmeasuredSeconds > 0 && c.kind != .cpuTime && c.kind != .context {
            out.append(
                String(
                    format: "  unmeasured: %@ (%@) %.2f s of gaps its readings cannot bridge; no energy counted for them",
                    c.device, c.domain, c.unmeasuredSeconds))
        }
        for b in e.blocked { out.append("  ! not measured: \(b.device) (\(b.source)): \(b.reason)") }
        var fixes: [String] = []
        for fix in e.blocked.flatMap(\.fixes) where !fixes.contains(fix) { fixes.append(fix) }
        out += fixes.map { "    fix: \($0)" }
        if let seal = e.seal { out.append("  sealed: \(seal)") }
        if let o = e.samplerOverhead {
            out.append(
                String(
                    format: "  sampler: %d readings every %g s, %.4f %% of one core", o.ticks, o.intervalSeconds, o.fractionOfOneCore * 100)
            )
        }
        if let tokens = f.tokens, let j = f.joulesPerToken, let g = f.gramsPerToken {
            // With phases, the whole run's figure includes what lies between them (idle, probes, warm-up): say so.
            let scope = (f.phases?.isEmpty == false) ? " over the whole run (between-phase time included; per phase below)" : ""
            let rate = e.seconds > 0 ? String(format: " (%.4g tokens/s)", tokens / e.seconds) : ""
            out.append(
                String(format: "  %.0f tokens%@%@: %.4g J/token, %.4g kWh/token, %.4g g CO2e/token", tokens, rate, scope, j, j / 3.6e6, g))
        }
        if let s = f.steps {
            var line = "  \(QuantityFormat.counted(s.count, "step")) recorded (\(s.first)–\(s.last))"
            if let a = s.firstLoss, let b = s.lastLoss, let low = s.lowestLoss {
                line += String(format: ", loss %.4g → %.4g (lowest %.4g)", a, b, low)
            }
            out.append(line)
        }
        for p in f.phases ?? [] {
            var line = String(
                format: "  phase %@: %@, %@, %@", p.name, QuantityFormat.counted(p.windows, "window"), QuantityFormat.duration(p.seconds),
                QuantityFormat.joules(p.joules))
            if let j = p.joulesPerToken {
                line += String(format: ", %.0f tokens", p.tokens)
                if p.seconds > 0 { line += String(format: " (%.4g tokens/s)", p.tokens / p.seconds) }
                line += String(format: ", %.4g J/token", j)
                // One intensity and PUE for the whole run (no hourly series, no embodied share): a phase's grams are its share
                // of the energy.
                if f.hourly == nil, f.carbon.embodied.grams == 0, f.energy.totalJoules > 0 {
                    line += String(format: ", %.4g g CO2e/token", j * f.carbon.total.grams / f.energy.totalJoules)
                }
            }
            if p.joules > 0, p.estimatedJoules > 0 { line += String(format: " (%.0f %% ESTIMATED)", p.estimatedJoules / p.joules * 100) }
            if p.unclosed > 0 { line += "; \(p.unclosed) never ended (counted to the last reading)" }
            out.append(line)
        }
        if let h = f.hourly {
            out.append(
                "  hourly intensity over \(QuantityFormat.counted(h.hoursCovered, "hour")); \(h.hoursMissing) missing from the series used the annual figure (\(h.energyInMissingHours) of the energy); effective \(h.effectiveIntensity)"
            )
        }
        out.append("")
        blocks += out.map(Block.line)
        blocks.append(.prefixed("  ", EstimateReport.blocks(f.carbon, embodiedHint: EstimateReport.runEmbodiedHint)))
        return blocks
    }

    /// A counter reading as read: an integer in full (18446744073447456768), else as Swift prints it.
    static func readingText(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 0x1p64 ? "\(v < 0 ? "-" : "")\(UInt64(abs(v)))" : "\(v)"
    }

    /// Said on standard error before the measured work starts: what the chosen interval costs.
    public static func notices(_ caveats: [String]) -> String {
        caveats.map { "wattprint: note: \($0)\n" }.joined()
    }
}
