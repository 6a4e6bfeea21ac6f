import Accounting
import Benchmarks
import Carbon
import Foundation
import Ledger
import Reports
import TestSupport
import XCTest

/// `verify` recomputes a benchmark's recorded summary from its samples: a summary that was recorded wrong (with the
/// chain intact, so only the recomputation can tell) is a mismatch naming where it differs.
final class BenchVerificationTests: XCTestCase {
    func testRecordedSummaryIsRecomputedAndAWrongOneIsCaught() throws {
        let dir = try TestScratch.folder(name).path
        let plan = try oneWorkloadPlan("llama", in: dir)
        let carbon = try CarbonData.bundled()
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        func benchRun(tamper: Bool) throws -> VerifyReport.Row {
            let ledger = try Ledger(path: dir + "/l-\(tamper).sqlite")
            let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.finish()
            var summary = try JSONValue(encoding: try BenchAnalysis.compute(ledger: ledger, run: recorder.run.runID, data: carbon))
            if tamper, case var .object(o) = summary {
                o["repeats"] = .number(3)
                summary = .object(o)
            }
            recorder.record(.benchSummary(summary))
            try recorder.run.close(status: .complete, exitCode: 0)
            var row = VerifyReport.Row(try ledger.verify(run: recorder.run.runID))
            try row.check(ledger: ledger, carbon: carbon)
            return row
        }
        let honest = try benchRun(tamper: false)
        XCTAssertEqual(honest.result, "ok")
        XCTAssertEqual(honest.benchSummary, "matches")
        let tampered = try benchRun(tamper: true)
        XCTAssertEqual(tampered.result, VerifyReport.Row.mismatch)
        XCTAssertTrue(tampered.detail?.contains("repeats: 3.0 ≠ 2.0") == true, tampered.detail ?? "")
    }

    /// A run a newer wattprint recorded, under analysis rules this one does not know: its summary is not recomputed
    /// (nor called different), and verify says why.
    func testASummaryUnderNewerRulesIsNotRecomputed() throws {
        let dir = try TestScratch.folder(name).path
        let plan = try oneWorkloadPlan("gpt2", in: dir)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let settings = FootprintSettings(
            region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)
        let recorder = PlanVersionRecorder(try LedgerPhaseRecorder(ledger: ledger, settings: settings), version: BenchAnalysis.version + 1)
        try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
        try recorder.inner.finish()
        recorder.record(.benchSummary(.object(["repeats": .number(2)])))
        try recorder.inner.run.close(status: .complete, exitCode: 0)
        XCTAssertThrowsError(try BenchAnalysis.compute(ledger: ledger, run: recorder.inner.run.runID, data: try CarbonData.bundled())) {
            XCTAssertTrue($0 is NewerAnalysisRules, "\($0)")
        }
        var row = VerifyReport.Row(try ledger.verify(run: recorder.inner.run.runID))
        try row.check(ledger: ledger, carbon: try CarbonData.bundled())
        XCTAssertEqual(row.result, "ok")
        XCTAssertEqual(row.benchSummary, "not recomputed")
        XCTAssertTrue(
            row.detail?.contains("analysed under rules v\(BenchAnalysis.version + 1), newer than this wattprint's") == true,
            row.detail ?? "")
    }
}
