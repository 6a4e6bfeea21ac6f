import Benchmarks
import Carbon
import Foundation
@testable import Reports
import XCTest

/// Schema 2's content rules beside schema 1's, each on its own: side-by-side reductions need their intervals apart,
/// reductions that runs contradict are dropped, a wattprint command keeps its first argument as its workload, and the
/// offset tables' definitions, unverified standards and currency-only flags are worded for a reader.
final class ReportSchemaRulesTests: XCTestCase {
    /// Five repeats give the median an interval (the second lowest to the second highest value, 93.75 %).
    func summary(_ values: [Double]) -> RepeatSummary { RepeatSummary(values) }

    func testSideBySideReductionsNeedTheirIntervalsApart() throws {
        let apart = [("gpt2", summary([10, 10.2, 10.4, 10.6, 10.8])), ("llama", summary([7, 7.1, 7.2, 7.3, 7.4]))]
        let (found, none) = OffsetAdvice.sideBySide(apart, phase: "train", run: 4, schema: 2)
        XCTAssertNil(none)
        let e = try XCTUnwrap(found)
        XCTAssertEqual(e.change, "llama instead of gpt2")
        XCTAssertEqual(e.savingShare, (10.4 - 7.2) / 10.4, accuracy: 1e-12)
        XCTAssertTrue(e.evidence.hasSuffix("their J/token intervals apart"), e.evidence)

        let overlapping = [("gpt2", summary([9, 9.5, 10, 10.5, 11])), ("llama", summary([8, 9, 9.6, 9.8, 12]))]
        let (claimed, note) = OffsetAdvice.sideBySide(overlapping, phase: "train", run: 4, schema: 2)
        XCTAssertNil(claimed, "the medians differ but the intervals (8–12 and 9–11) overlap")
        XCTAssertEqual(
            note,
            "run 4, train: llama and gpt2 did not differ beyond their intervals (J/token 8–12 against 9–11), so no reduction is claimed between them"
        )
        // Schema 1 claimed it on the medians, and verifying a schema-1 report must rebuild that claim.
        XCTAssertEqual(OffsetAdvice.sideBySide(overlapping, phase: "train", run: 4, schema: 1).0?.change, "llama instead of gpt2")
        XCTAssertEqual(
            OffsetAdvice.sideBySide(overlapping, phase: "train", run: 4, schema: 1).0?.evidence,
            "measured side by side in the same benchmark")

        // A workload whose windows failed a check that ranking needs: nothing claimed, even with the intervals apart.
        let (flagged, why) = OffsetAdvice.sideBySide(apart, phase: "train", run: 4, schema: 2, unreliable: ["llama"])
        XCTAssertNil(flagged)
        XCTAssertTrue(why?.hasPrefix("run 4, train: llama's windows failed a validity check that ranking needs") == true, why ?? "")
        XCTAssertNotNil(OffsetAdvice.sideBySide(apart, phase: "train", run: 4, schema: 1, unreliable: ["llama"]).0, "schema 1 ranked them")

        // One side measured once: its value must lie beyond the other's interval.
        let oneSided = [("gpt2", summary([10])), ("llama", summary([7, 8, 9.5]))]
        XCTAssertEqual(
            OffsetAdvice.sideBySide(oneSided, phase: "train", run: 6, schema: 2).0?.evidence,
            "measured side by side in the same benchmark, apart beyond the one interval measured")
        let within = [("gpt2", summary([9])), ("llama", summary([7, 8, 9.5]))]
        XCTAssertEqual(
            OffsetAdvice.sideBySide(within, phase: "train", run: 6, schema: 2).note,
            "run 6, train: llama and gpt2 did not differ beyond their intervals (J/token 7–9.5 against 9 (one repeat)), so no reduction is claimed between them"
        )

        let once = [("gpt2", summary([10])), ("llama", summary([7]))]
        let single = try XCTUnwrap(OffsetAdvice.sideBySide(once, phase: "decode", run: 5, schema: 2).0)
        XCTAssertTrue(single.evidence.contains("one repeat each (no interval"), single.evidence)
        XCTAssertNil(
            OffsetAdvice.sideBySide([("gpt2", summary([10]))], phase: "decode", run: 5, schema: 2).0, "one workload: nothing to compare")
    }

    func testReductionsThatRunsContradictAreDropped() {
        func e(_ change: String, _ phase: String, run: Int64, finding: Bool = false) -> OffsetAdvice.Efficiency {
            .init(
                change: change, phase: phase, joulesPerToken: 2, alternativeJoulesPerToken: 1, savingShare: 0.5,
                evidence: finding ? "measured: tiny-gpt2 rerun as run 9" : "measured side by side in the same benchmark", run: run)
        }
        let (kept, notes) = OffsetAdvice.withoutContradictions([
            e("llama instead of gpt2", "train", run: 1), e("2 threads instead of 1", "train", run: 1, finding: true),
            e("gpt2 instead of llama", "train", run: 2), e("gpt2 instead of llama", "decode", run: 2),
            e("1 threads instead of 2", "train", run: 3, finding: true),
        ])
        XCTAssertEqual(kept.map(\.change), ["2 threads instead of 1", "gpt2 instead of llama", "1 threads instead of 2"])
        XCTAssertEqual(kept.map(\.phase), ["train", "decode", "train"], "the same pair in another phase is no contradiction")
        XCTAssertEqual(notes, ["runs 1 and 2 disagree on llama against gpt2 (train), so neither reduction is claimed"])
    }

    func testAWattprintCommandKeepsItsFirstArgumentAsItsWorkload() {
        for (command, one, two) in [
            ("/usr/local/bin/wattprint bench small --region FR", "wattprint bench", "wattprint bench small"),
            ("wattprint bench --repeats 3 tiny", "wattprint bench", "wattprint bench"),
            ("wattprint sensors", "wattprint sensors", "wattprint sensors"),
            ("python train.py --epochs 3", "python train.py", "python train.py"),
        ] {
            XCTAssertEqual(SustainabilityReportBuilder.workload(command, schema: 1), one, command)
            XCTAssertEqual(SustainabilityReportBuilder.workload(command, schema: 2), two, command)
        }
    }

    func testTheOffsetTablesAreWordedForAReader() throws {
        let tables = try OffsetTables.bundled()
        let definition = try XCTUnwrap(tables.durability.first { $0.storage == "-" }, "the shipped table has CDR.fyi's definition")
        let now = try OffsetPlan.make(residualTonnesPerYear: 1, years: 3, tables: tables, startYear: 2026)
        let first = try OffsetPlan.make(residualTonnesPerYear: 1, years: 3, tables: tables, startYear: 2026, revised: false)
        XCTAssertFalse(now.durability.contains { $0.contains("stored in -") }, now.durability.joined(separator: "\n"))
        XCTAssertTrue(now.durability.contains { $0.hasPrefix("\(definition.category) (a definition, not a kind of credit): ") })
        XCTAssertTrue(first.durability.contains { $0.hasPrefix("\(definition.category): stored in -, ") }, "schema 1's wording")
        XCTAssertEqual(now.durability.count, first.durability.count)
        // A standard the table's compiler did not check is said so for a reader; price flags that repeat the currency go.
        XCTAssertTrue(first.quality.contains { $0.contains("[NOT verified in this session") }, "the shipped table has such a row")
        XCTAssertFalse(now.quality.contains { $0.contains("this session") }, now.quality.joined(separator: "\n"))
        XCTAssertTrue(
            now.quality.contains { $0.hasSuffix("[not checked against the standard's own documents when the table was compiled]") })
        XCTAssertTrue(first.prices.contains { $0.flags.contains("EUR") })
        XCTAssertFalse(now.prices.contains { $0.flags.contains { ["EUR", "EUR not USD"].contains($0) } })
        XCTAssertTrue(now.prices.contains { $0.flags.contains("price_point is an upper bound") }, "a flag that says more stays")
        // Avoidance alone, priced in USD only by an upper bound ("≤ 1"): its cost runs from 0, not from the bound.
        let bound = try XCTUnwrap(now.prices.first { $0.tier == "avoidance" && $0.currency == "USD" })
        XCTAssertEqual(bound.low, bound.high, "the shipped table quotes one upper bound")
        let avoidance = try OffsetPlan.make(residualTonnesPerYear: 2, years: 1, tables: tables, startYear: 2026, allowed: [.avoidance])
        let oldAvoidance = try OffsetPlan.make(
            residualTonnesPerYear: 2, years: 1, tables: tables, startYear: 2026, allowed: [.avoidance], revised: false)
        XCTAssertEqual(avoidance.years[0].cost["USD"], [0, 2 * bound.high])
        XCTAssertEqual(oldAvoidance.years[0].cost["USD"], [2 * bound.high, 2 * bound.high], "schema 1 costed from the bound")
    }
}
