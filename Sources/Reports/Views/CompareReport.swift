import Benchmarks
import Foundation
import Measures

/// `wattprint compare`: one table per phase with every workload side by side (the best value of each figure marked
/// `*`), then quality and the energy to reach a target loss, then the rating scale's notes.
public enum CompareReport {
    public static func build(_ c: Comparison) -> Report {
        var blocks: [Block] = []
        let phases = c.rows.flatMap { $0.phases.map(\.phase) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for phase in phases {
            blocks.append(.line("\(phase):"))
            var table = Table(
                header: [
                    "run", "workload", "architecture", "weights", "parameters", "active", "FLOP/token", "tokens/s",
                    "J/token [interval; coverage]",
                    "g CO2e/1k tok [90 %]",
                    "× ref", "grade", "energy",
                ], rightAligned: [0, 4, 5, 6, 7, 10])
            for (i, row) in c.rows.enumerated() {
                guard let p = row.phases.first(where: { $0.phase == phase }) else { continue }
                func mark(_ best: Bool) -> String { best ? " *" : "" }
                table.rows.append([
                    "\(row.run)", row.workload + (row.standard ? "" : " (non-standard)"), row.architecture, weights(row),
                    QuantityFormat.grouped(row.parameters),
                    QuantityFormat.grouped(row.activeParameters), p.flopsPerToken.map { String(format: "%.3g", $0) } ?? "—",
                    QuantityFormat.fixed(p.tokensPerSecond, 1)
                        + mark(c.isBest(row: i, phase: phase, figure: \.tokensPerSecondValue, lowerIsBetter: false)),
                    sig(p.joulesPerToken)
                        + (p.joulesPerTokenLow.map {
                            " [\(sig($0)), \(sig(p.joulesPerTokenHigh!))\(p.joulesPerTokenCoverage.map { "; \(QuantityFormat.fixed($0 * 100, 1)) %" } ?? "")]"
                        } ?? "")
                        + mark(c.isBest(row: i, phase: phase, figure: \.joulesPerTokenValue)),
                    (p.gramsPer1kTokens.map { "\(sig($0)) [\(sig(p.gramsPer1kTokensLow!)), \(sig(p.gramsPer1kTokensHigh!))]" } ?? "—")
                        + mark(c.isBest(row: i, phase: phase, figure: \.gramsPer1kTokens)),
                    p.ratio.map { String(format: "%.2f", $0) } ?? "—",
                    (p.grade ?? "—") + (p.grade != nil && p.gradeCaveats != nil ? " †" : ""),
                    p.energySource,
                ])
            }
            blocks.append(.prefixed("  ", [.table(table)]))
            blocks.append(.blank)
        }
        let variants = c.rows.contains { $0.fp32ValidationLoss != nil }
        var quality = Table(
            header: ["run", "workload", "weights", "validation loss"] + (variants ? ["fp32 loss", "Δ"] : []) + ["flags"],
            rightAligned: variants ? [0, 3, 4, 5, 6] : [0, 3, 4])
        if let target = c.targetLoss { quality.header.insert("J to loss \(QuantityFormat.decimals(target, 3))", at: 4) }
        for (i, row) in c.rows.enumerated() {
            var cells = ["\(row.run)", row.workload, weights(row), row.validationLoss.map { QuantityFormat.fixed($0, 4) } ?? "—"]
            if variants {
                cells.append(row.fp32ValidationLoss.map { QuantityFormat.fixed($0, 4) } ?? "—")
                if let loss = row.validationLoss, let base = row.fp32ValidationLoss {
                    cells.append(String(format: "%+.4f", loss - base))
                } else {
                    cells.append("—")
                }
            }
            cells.append("\(row.flags)" + (row.flagKinds.map { $0.isEmpty ? "" : " (\($0.joined(separator: ", ")))" } ?? ""))
            if c.targetLoss != nil {
                let values = c.rows.compactMap(\.joulesToTargetLoss)
                let best = values.count > 1 && row.joulesToTargetLoss == values.min()
                cells.insert(
                    row.joulesToTargetLoss.map { QuantityFormat.significant($0) + " J" + (best ? " *" : "") }
                        ?? (row.targetLossReached == false ? "not reached" : "— (no training)"), at: 4)
            }
            _ = i
            quality.rows.append(cells)
        }
        blocks.append(.line("quality:"))
        blocks.append(.prefixed("  ", [.table(quality)]))
        blocks.append(.blank)
        let versions = Set(c.rows.compactMap(\.ratingScale)).sorted()
        let scales =
            versions.count > 1
            ? "rating scales \(versions.map { "v\($0)" }.joined(separator: " and ")) (each run on its recorded reference's; the same bands)"
            : "rating scale v\(c.ratingScale)"
        blocks.append(
            .line(
                "* best in its column. Grades: \(scales), J/token ÷ \(c.reference)'s in the same run: A+ ≤ 0.5, A ≤ 0.7, B ≤ 0.9, C ≤ 1.1, D ≤ 1.4, E ≤ 2, F above."
            ))
        blocks.append(
            .line(
                "J/token's interval is for the median over the repeats, with how often such an interval covers it (50 % for two repeats, 93.75 % for five, 95 % or more from six); g CO2e's is a 90 % interval of the estimate. flags: the benchmark's validity warnings by kind (`wattprint bench` explains each)."
            ))
        let caveats = c.rows.flatMap { $0.phases.filter { $0.grade != nil }.flatMap { $0.gradeCaveats ?? [] } }
            .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if !caveats.isEmpty {
            blocks.append(
                .line(
                    "† the phase's windows, or the reference's, carry \(caveats.joined(separator: " or ")) (too short for steady state, or a repeat far from the others): the grade stands on them, and `wattprint offsets` and `report` claim no reduction from them; more repeats (`bench --repeats N`) or longer windows settle it."
                ))
        }
        if !c.notes.isEmpty { blocks.append(.findings(c.notes.map { Finding(.warning, $0) })) }
        return Report(blocks: blocks, data: c)
    }

    /// `fp32`, `bf16`, `int8/32` (weights per scale).
    static func weights(_ row: Comparison.Row) -> String {
        row.groupSize.map { "\(row.precision)/\($0)" } ?? row.precision
    }

    static func sig(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "—" }
}
