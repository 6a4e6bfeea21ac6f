import Carbon
import Foundation
import Measures
@testable import Meters
import TestSupport
import XCTest
@testable import Accounting
@testable import Ledger

/// No perf events here: the session falls back to the fake powercap tree.
private struct NoPerfEvents: PerfCounterOpener {
    func open(type: UInt32, config: UInt64, cpu: Int32) -> Result<Int32, PerfOpenError> { .failure(PerfOpenError(errno: ENOENT)) }
    func read(_ handle: Int32) -> UInt64? { nil }
    func close(_ handle: Int32) {}
}

final class MeasuredSessionTests: XCTestCase {
    /// A benchmark's summary may run for a while after sampling stops (its findings rerun the workload as a run of
    /// their own): the run ends when sampling stopped, so its duration, and the embodied carbon reserved for it, leave
    /// that time out. A mutation closing the run at the end of `finish` fails both checks by the summary's 0.4 s.
    func testRunEndsWhenSamplingStopsNotAfterTheSummary() throws {
        let tree = try FakeSystemTree()
        try RAPLLayouts.amdZen(tree)
        try tree.proc()
        let ledger = try Ledger(path: try TestScratch.folder().appendingPathComponent("l.sqlite").path)
        let began = Date()
        let session = try MeasuredSession(
            ledger: ledger, command: "wattprint bench tiny",
            settings: FootprintSettings(region: RegionResolution(query: "FR", origin: .flag), site: nil, pue: nil),
            configuration: .init(
                paths: tree.paths, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1", useLibsensors: false, perfOpener: NoPerfEvents(),
                interval: 0.02, flushInterval: 0.05, toolVersion: "test"))
        session.start()
        usleep(200_000)
        var summaryStarted = Date()
        let energy = try session.finish { _, _ in
            summaryStarted = Date()
            usleep(400_000)
            return []
        }
        let run = try ledger.run(session.runID)
        let ended = try XCTUnwrap(run.endedAt.flatMap(LedgerClock.parseUTC))
        XCTAssertLessThanOrEqual(ended.timeIntervalSince(summaryStarted), 0.05, "the run's end is before the summary's work")
        let recomputed = try RunEnergy.compute(ledger: ledger, run: session.runID)
        XCTAssertGreaterThan(recomputed.seconds, 0.15)
        XCTAssertLessThanOrEqual(
            recomputed.seconds, summaryStarted.timeIntervalSince(began) + 0.05, "the summary's 0.4 s is not in the run's duration")
        XCTAssertEqual(energy.totalJoules, recomputed.totalJoules, accuracy: 1e-9)
    }
}
