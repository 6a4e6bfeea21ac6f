import Accounting
import Benchmarks
import Carbon
import Foundation
import Ledger
import Reports
import TestSupport
import XCTest

/// The text `wattprint bench` prints for a recorded run: a channel whose dynamic energy is below zero is explained.
final class BenchSuiteReportTests: XCTestCase {
    /// The lines of the report of a one-workload run whose counter draws `idleWatts` while idle and `workWatts` in the
    /// workload's windows.
    func reportLines(idleWatts: Double, workWatts: Double) throws -> [String] {
        let dir = try TestScratch.folder(name + "-\(idleWatts)").path
        let plan = try oneWorkloadPlan("gpt2", in: dir)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let settings = FootprintSettings(
            region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)
        let recorder = try LedgerPhaseRecorder(ledger: ledger, idleWatts: idleWatts, workWatts: workWatts, settings: settings)
        try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
        try recorder.finish()
        let analysis = try BenchAnalysis.compute(ledger: ledger, run: recorder.run.runID, data: try CarbonData.bundled())
        let report = BenchSuiteReport.build(.init(analysis: analysis, findings: []))
        return try TextRenderer().render(report).components(separatedBy: "\n")
    }

    func testANegativeDynamicEnergyIsExplained() throws {
        let drawingLess = try reportLines(idleWatts: 20, workWatts: 5)
        let energy = try XCTUnwrap(
            drawingLess.first { $0.contains("energy") && $0.contains("(dynamic -") }, drawingLess.joined(separator: "\n"))
        XCTAssertTrue(energy.hasSuffix("per repeat, median"), energy)
        XCTAssertTrue(
            drawingLess.contains { $0.hasSuffix(BenchSuiteReport.negativeDynamicNote(["test:package"])) },
            drawingLess.joined(separator: "\n"))
        let drawingMore = try reportLines(idleWatts: 5, workWatts: 20)
        XCTAssertFalse(drawingMore.contains { $0.contains("dynamic energy below zero") }, drawingMore.joined(separator: "\n"))
    }
}
