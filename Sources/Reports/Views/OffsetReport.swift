import Carbon
import Foundation
import Measures

/// `wattprint offsets` and every report's "Reductions and offsets" section: reductions first, each with its measured
/// or stated basis, then the offset plan, apart from the emissions it never changes.
public enum OffsetReport {
    public static func build(_ a: OffsetAdvice) -> Report { Report(blocks: blocks(a), data: a) }

    static func blocks(_ a: OffsetAdvice) -> [Block] {
        var blocks: [Block] = [
            .line(sections(a).map { $0.title + "\n" + $0.lines.map { "  " + $0 }.joined(separator: "\n") }.joined(separator: "\n\n"))
        ]
        if !a.notes.isEmpty { blocks.append(.findings(a.notes.map { Finding(.warning, $0) })) }
        return blocks
    }

    /// The section as titled groups of plain lines, for every format to lay out its own way.
    public static func sections(_ a: OffsetAdvice) -> [(title: String, lines: [String])] {
        var out: [(String, [String])] = []
        out.append(
            (
                "Emissions as reported (unchanged by anything below)",
                [
                    "\(sig(a.emissionsGrams)) g CO2e (location-based + embodied) for \(a.runs.count == 1 ? "run" : "runs") \(a.runs.map(String.init).joined(separator: ", "))"
                ]
            ))
        var reductions: [String] = []
        if let t = a.timeShift {
            reductions.append(
                "Time shift (\(t.basis); \(t.zone)\(t.seriesYear.map { ", \($0) series" } ?? "")): started \(t.actualStart) the run emits \(sig(t.actualGrams)) g; starting \(t.bestStart) instead, within a \(QuantityFormat.decimals(t.deadlineHours, 1)) h deadline, \(sig(t.bestGrams)) g — saving \(sig(t.savingGrams)) g (\(QuantityFormat.percent(t.savingShare)))."
            )
            reductions.append(
                "Over the series' \(t.days) days at the same hour, the best start saves a median \(QuantityFormat.percent(t.medianDailySavingShare)) (P10 \(QuantityFormat.percent(t.p10DailySavingShare)), P90 \(QuantityFormat.percent(t.p90DailySavingShare)))."
            )
        }
        for r in a.regions {
            reductions.append(
                "Region \(r.region) (\(r.name), \(r.site) PUE \(QuantityFormat.number(r.pue)), \(QuantityFormat.number(r.intensityGramsPerKWh)) g/kWh\(r.year.map { " \($0)" } ?? "")): \(sig(r.grams)) g location-based, \(r.savingGrams >= 0 ? "saving" : "adding") \(sig(abs(r.savingGrams))) g against the run's own location-based figure."
            )
        }
        for e in a.efficiency {
            reductions.append(
                "\(e.change)\(e.phase.map { " (\($0))" } ?? ""): \(sig(e.joulesPerToken)) → \(sig(e.alternativeJoulesPerToken)) J/token, \(QuantityFormat.percent(e.savingShare)) less; \(e.evidence) (run \(e.run))."
            )
        }
        if reductions.isEmpty { reductions.append("none computed (see the notes)") }
        out.append(("Reductions first", reductions))
        let p = a.plan
        var plan = [
            "\(p.wording)",
            "Residual sized at \(sig(p.residualTonnesPerYear * 1e6)) g CO2e a year (\(sig(p.residualTonnesPerYear)) t)"
                + (a.emissionsGrams > 0
                    ? ": the reported emissions as if the work ran \(Self.times(p.residualTonnesPerYear * 1e6 / a.emissionsGrams)) a year, "
                        + "for each of the plan's \(p.years.count) years (`wattprint offsets RUN --runs-per-year N --plan-years Y` sizes it)."
                    : "."),
        ]
        for y in p.years {
            let tonnes = OffsetTables.Tier.allCases.map { "\($0.rawValue) \(sig(y.tonnes[$0.rawValue] ?? 0)) t" }.joined(separator: ", ")
            let cost = y.cost.keys.sorted().map { "\($0) \(sig(y.cost[$0]![0]))–\(sig(y.cost[$0]![1]))" }.joined(separator: "; ")
            // The shares the tonnes bought: the credit types allowed can move them off the plan's trajectory.
            let t = { (tier: OffsetTables.Tier) in y.tonnes[tier.rawValue] ?? 0 }
            let removed = t(.natureBasedRemoval) + t(.durableRemoval), all = removed + t(.avoidance)
            let bought = all > 0 ? removed / all : y.removalShare,
                durable = removed > 0 ? t(.durableRemoval) / removed : y.durableShareOfRemovals
            let moved =
                abs(bought - y.removalShare) > 1e-9 || abs(durable - y.durableShareOfRemovals) > 1e-9
                ? " (the trajectory's \(QuantityFormat.percent(y.removalShare)), durable \(QuantityFormat.percent(y.durableShareOfRemovals)), moved by the credit types allowed)"
                : ""
            let removals =
                removed > 0
                ? "removals \(QuantityFormat.percent(bought)) (durable \(QuantityFormat.percent(durable)) of them)" : "no removals"
            plan.append("\(y.year): \(removals)\(moved): \(tonnes); cost \(cost.isEmpty ? "—" : cost)")
        }
        plan.append(
            "Whole plan: "
                + p.totalCost.keys.sorted().map { "\($0) \(sig(p.totalCost[$0]![0]))–\(sig(p.totalCost[$0]![1]))" }.joined(separator: "; ")
                + " (currencies kept apart, never converted)")
        for price in p.prices {
            plan.append(
                "Price, \(price.tier), \(price.currency): \(Self.range(price.low, price.high, upperBound: price.flags.contains { $0.contains("upper bound") })) per t from \(QuantityFormat.counted(price.basis.count, "dated row"))\(price.flags.isEmpty ? "" : " [\(price.flags.joined(separator: "; "))]")"
            )
        }
        out.append(("Offset plan (a contribution, shown apart)", plan))
        out.append(("Quality requirements", p.quality))
        out.append(("Durability", p.durability))
        out.append(("Principles", p.principles))
        return out
    }

    static func sig(_ x: Double) -> String { QuantityFormat.significant(x) }

    /// How often a year: "once", "1.5 times".
    static func times(_ x: Double) -> String { sig(x) == "1" ? "once" : "\(sig(x)) times" }

    /// "12–16", one value when both ends agree, and "≤ 1" for a single quoted upper bound.
    static func range(_ low: Double, _ high: Double, upperBound: Bool) -> String {
        guard low != high else { return (upperBound ? "≤ " : "") + sig(high) }
        return "\(sig(low))–\(sig(high))"
    }
}
