import Accounting
import Foundation
import Ledger
import Meters
import TestSupport
import XCTest

/// Windows' energy from the raw samples: a reading interval straddling an edge is shared in proportion to time,
/// nested and repeated windows each get theirs, a window never ended runs to the last sample, and tokens count in the
/// windows they fall in. Checked against a direct computation on random runs.
final class PhaseEnergyTests: XCTestCase {
    static let host = HostRecord(
        hostname: "t", cpuModel: "t", cpuCores: 1, memoryBytes: 1, kernel: "t", gpus: "", toolVersion: "t", bootID: "t")

    /// One joule counter read at `times` (ns) with cumulative `joules`, and the events; returns the run id.
    func run(_ ledger: Ledger, times: [Int64], joules: [Double], events: [EventRecord]) throws -> Int64 {
        let r = try ledger.beginRun(host: Self.host, command: "t", region: nil, monotonicOriginNs: 0)
        let sink = LedgerSink(recorder: r)
        let index = sink.register([
            MeterChannel(
                key: "c", device: "cpu-package-0", domain: "package-0", kind: .energy, unit: "J", resolution: 1e-9, source: "t",
                mode: .measured, role: .total, uncertainty: 0, uncertaintyNote: "", deviceClass: .cpuPackage, maxWatts: 1e12)
        ])
        r.record(EventRecord(tNs: 0, kind: "sampler_start", payload: #"{"interval_s":0.1,"integration":3,"note":"t","events":1}"#))
        for (t, j) in zip(times, joules) { sink.record(channel: index[0], tNs: t, value: j) }
        for e in events { r.record(e) }
        try r.flush()
        return r.runID
    }

    func mark(_ start: Bool, _ name: String, _ t: Int64) -> EventRecord {
        (start ? RunEvent.phaseStart(PhaseMark(name: name)) : .phaseEnd(PhaseMark(name: name))).record(at: t)
    }

    func testStraddlingNestedRepeatedUnclosedAndTokens() throws {
        let ledger = try Ledger(path: try TestScratch.folder(name).appendingPathComponent("l.sqlite").path)
        // 10 W for 10 s, read every 2 s.
        let times = stride(from: Int64(0), through: 10_000_000_000, by: 2_000_000_000).map { $0 }
        let id = try run(
            ledger, times: times, joules: times.map { Double($0) / 1e9 * 10 },
            events: [
                mark(true, "outer", 1_000_000_000), mark(true, "inner", 3_000_000_000), mark(false, "inner", 4_000_000_000),
                RunEvent.tokens(TokenCount(count: 7, phase: "inner")).record(at: 3_500_000_000),
                RunEvent.tokens(TokenCount(count: 5)).record(at: 3_600_000_000),
                mark(true, "inner", 5_000_000_000), mark(false, "inner", 6_000_000_000), mark(false, "outer", 7_000_000_000),
                mark(true, "open", 8_000_000_000),
            ])
        let windows = try PhaseEnergy.windows(ledger: ledger, run: id)
        XCTAssertEqual(windows.map(\.mark.name), ["outer", "inner", "inner", "open"])
        XCTAssertEqual(windows.map(\.joules), [60, 10, 10, 20].map(Double.init), "10 W × each window's seconds, intervals shared by time")
        XCTAssertEqual(windows.map(\.tokens), [5, 12, 0, 0], "outer takes the unlabelled 5; inner its own 7 and the 5")
        XCTAssertEqual(windows.map(\.closed), [true, true, true, false])
        XCTAssertEqual(windows[3].seconds, 2, "never ended: runs to the last sample")
        let totals = try PhaseTotal.compute(ledger: ledger, run: id)
        XCTAssertEqual(totals.map(\.name), ["outer", "inner", "open"])
        XCTAssertEqual(totals[1].windows, 2)
        XCTAssertEqual(totals[1].joules, 20)
        XCTAssertEqual(totals[2].unclosed, 1)
    }

    /// Random runs: irregular readings and power, up to 30 overlapping windows; the sweep matches a direct computation.
    func testSweepMatchesDirectComputation() throws {
        var rng = SplitMix(seed: 11)
        let dir = try TestScratch.folder(name)
        for trial in 0..<25 {
            let ledger = try Ledger(path: dir.appendingPathComponent("l\(trial).sqlite").path)
            var times: [Int64] = [0], joules: [Double] = [0]
            for _ in 0..<200 {
                times.append(times.last! + 1 + Int64(rng.nextInt(below: 1_000_000)))
                joules.append(joules.last! + Double(rng.nextInt(below: 1000)) / 100)
            }
            var events: [EventRecord] = []
            var spans: [(Int64, Int64)] = []
            for w in 0..<(1 + rng.nextInt(below: 30)) {
                let a = Int64(rng.nextInt(below: Int(times.last!))), b = Int64(rng.nextInt(below: Int(times.last!)))
                let (start, end) = (min(a, b), max(a, b) + 1)
                spans.append((start, end))
                events += [mark(true, "w\(w)", start), mark(false, "w\(w)", end)]
            }
            let id = try run(ledger, times: times, joules: joules, events: events)
            let windows = try PhaseEnergy.windows(ledger: ledger, run: id)
            for (w, (start, end)) in spans.enumerated() {
                var expected = 0.0
                for k in 1..<times.count {
                    let (from, to) = (times[k - 1], times[k])
                    let overlap = Double(min(to, end) - max(from, start))
                    if overlap > 0 { expected += (joules[k] - joules[k - 1]) * overlap / Double(to - from) }
                }
                let got = try XCTUnwrap(windows.first { $0.mark.name == "w\(w)" })
                XCTAssertEqual(got.joules, expected, accuracy: 1e-9 * max(1, expected), "trial \(trial) window \(w)")
            }
        }
    }
}
