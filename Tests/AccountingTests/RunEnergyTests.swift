import Carbon
import Foundation
import Measures
import Meters
import TestSupport
import XCTest
@testable import Ledger
@testable import Accounting

final class RunEnergyTests: XCTestCase {
    private func ledger() throws -> Ledger {
        try Ledger(path: try TestScratch.folder().appendingPathComponent("l.sqlite").path)
    }

    private let host = HostRecord(
        hostname: ProcessInfo.processInfo.hostName, cpuModel: "CPU", cpuCores: 2, memoryBytes: 0,
        kernel: "k", gpus: "", toolVersion: "t", bootID: LedgerClock.bootID())

    private func channel(
        _ device: String, kind: ChannelKind, role: ChannelRole, unit: String, mode: MeasurementMode = .measured,
        wrap: Double? = nil, uncertainty: Double = 0.05
    ) -> ChannelRecord {
        ChannelRecord(
            index: 0, device: device, domain: device, kind: kind, role: role, unit: unit, source: "test", mode: mode,
            wrapRange: wrap, uncertainty: uncertainty)
    }

    /// Package counter: 0 → 1,000,000 µJ → wraps at 2,000,000 → 500,000: 1 J + (2,000,000 − 1,000,000 + 500,000) µJ, plus one
    /// counter unit (2,000,000 ÷ (2³² − 1) µJ, under 1e-9 J) = 2.5 J.
    /// DRAM estimate: 2 W for 1 s then 4 W for 1 s (rectangle) = 6 J. Core is detail and never added.
    /// Tree used 1.5 of 2 busy CPU-seconds, so 75 % of the 2.5 J package energy is attributed.
    /// Recorded under integration rules 2: a 2 J counter read once a second is a scripted wrap here; under version 3 it
    /// would be a late read (it could wrap in 1.3 ms), as `MeasurementFaultTests` covers.
    func testEnergyTotalsAttributionAndBandFromRawSamples() throws {
        let l = try ledger()
        let r = try l.beginRun(host: host, command: "t", region: "FR", monotonicOriginNs: 0)
        r.record(EventRecord(tNs: 0, kind: "sampler_start", payload: "{\"interval_s\":1,\"integration\":2,\"note\":\"test\"}"))
        let pkg = r.addChannel(channel("cpu-package-0", kind: .energy, role: .total, unit: "uJ", wrap: 2_000_000))
        let core = r.addChannel(channel("cpu-cores-0", kind: .energy, role: .detail, unit: "uJ", wrap: 2_000_000))
        let dram = r.addChannel(channel("host-memory", kind: .intervalPower, role: .total, unit: "W", mode: .estimated, uncertainty: 0.5))
        let busy = r.addChannel(channel("host-cpu", kind: .cpuTime, role: .context, unit: "s", uncertainty: 0))
        let tree = r.addChannel(channel("process-tree-42", kind: .cpuTime, role: .context, unit: "s", uncertainty: 0))
        let s = Int64(1_000_000_000)
        for (t, p, c, d, b, tr) in [
            (0, 0.0, 0.0, 0.0, 10.0, 1.0), (s, 1_000_000, 500_000, 2, 11, 1.5), (2 * s, 500_000, 900_000, 4, 12, 2.5),
        ] {
            r.record(samples: [
                SampleRecord(channel: pkg, tNs: t, value: p), SampleRecord(channel: core, tNs: t, value: c),
                SampleRecord(channel: dram, tNs: t, value: d), SampleRecord(channel: busy, tNs: t, value: b),
                SampleRecord(channel: tree, tNs: t, value: tr),
            ])
        }
        r.record(EventRecord(tNs: s, kind: "tokens", payload: "{\"count\":1000}"))
        try r.close()
        let e = try RunEnergy.compute(ledger: l, run: r.runID)
        let package = 2.5 + 2_000_000 / Wraparound.counterMaximum * 1e-6
        XCTAssertEqual(e.channels.first { $0.device == "cpu-package-0" }?.joules ?? 0, package, accuracy: 1e-12)
        XCTAssertEqual(e.channels.first { $0.device == "cpu-package-0" }?.wraps, 1)
        XCTAssertEqual(e.totalJoules, package + 6, accuracy: 1e-12)
        XCTAssertEqual(e.measuredJoules, package, accuracy: 1e-12)
        XCTAssertEqual(e.estimatedJoules, 6, accuracy: 1e-12)
        // Band: sqrt((0.05 × 2.5)² + (0.5 × 6)²) = 3.0026 J.
        XCTAssertEqual(e.totalHighJoules - e.totalJoules, (0.125 * 0.125 + 9).squareRoot(), accuracy: 1e-12)
        let a = try XCTUnwrap(e.attribution)
        XCTAssertEqual(a.share, 0.75, accuracy: 1e-12)
        XCTAssertEqual(a.attributedCPUJoules, package * 0.75, accuracy: 1e-12)
        XCTAssertEqual(e.tokens, 1000)
        XCTAssertEqual(e.joulesPerToken ?? 0, (package + 6) / 1000, accuracy: 1e-15)

        let f = try RunFootprint.compute(
            ledger: l, run: r.runID, data: try CarbonData.bundled(), overrides: FootprintOverrides(site: SiteType.none))
        // FR (Ember 2024) 44.18 g/kWh × 8.5 J / 3.6e6 J/kWh, PUE 1 for --site none.
        XCTAssertEqual(f.carbon.locationBased.grams, (package + 6) / 3.6e6 * 44.18, accuracy: 1e-12)
        XCTAssertEqual(f.gramsPerToken ?? 0, f.carbon.total.grams / 1000, accuracy: 1e-18)

        let profile = try RunFootprint.energyProfile(ledger: l, run: try l.run(r.runID))
        XCTAssertEqual(profile.totalEnergy.joules, package + 6, accuracy: 1e-12, "the profile holds every total channel's energy once")
    }

    /// A result that disagrees with the samples it claims to summarise is caught even when the chain itself is intact
    /// (as after a forger rewrote samples and every hash but not the reported figure).
    func testARecordedResultIsRecomputedFromTheRawSamples() throws {
        let l = try ledger()
        let good = try l.beginRun(host: host, command: "good", region: nil, monotonicOriginNs: 0)
        let bad = try l.beginRun(host: host, command: "bad", region: nil, monotonicOriginNs: 0)
        for r in [good, bad] {
            let c = r.addChannel(channel("cpu-package-0", kind: .energy, role: .total, unit: "J"))
            r.record(samples: [SampleRecord(channel: c, tNs: 0, value: 10), SampleRecord(channel: c, tNs: 1_000_000_000, value: 13)])
            try r.flush()
        }
        good.record(RecordedResult(try RunEnergy.compute(ledger: l, run: good.runID)).event)
        var forged = RecordedResult(try RunEnergy.compute(ledger: l, run: bad.runID))
        forged.totalJoules = 1
        bad.record(forged.event)
        try good.close()
        try bad.close()
        XCTAssertEqual(try RecordedResult.check(ledger: l, run: good.runID).matches, true)
        XCTAssertEqual(try RecordedResult.check(ledger: l, run: good.runID).recomputed.totalJoules, 3)
        XCTAssertEqual(try l.verify(run: bad.runID).outcome, .ok, "the chain alone cannot see this")
        XCTAssertEqual(try RecordedResult.check(ledger: l, run: bad.runID).matches, false)
    }

    /// powercap counts the package; perf reads the same counter as a cross-check and is shown beside it, never added.
    func testAPackageReadThroughPerfTooIsACrossCheckNotAddedToTheTotal() throws {
        let l = try ledger()
        let r = try l.beginRun(host: host, command: "x", region: nil, monotonicOriginNs: 0)
        let rapl = r.addChannel(channel("cpu-package-0", kind: .energy, role: .total, unit: "uJ", wrap: 262_143_328_850))
        let perf = r.addChannel(channel("cpu-package-0", kind: .energy, role: .detail, unit: "J"))
        let s = Int64(1_000_000_000)
        r.record(samples: [
            SampleRecord(channel: rapl, tNs: 0, value: 0), SampleRecord(channel: perf, tNs: 0, value: 100),
            SampleRecord(channel: rapl, tNs: s, value: 50_000_000), SampleRecord(channel: perf, tNs: s, value: 150.5),
        ])
        try r.close()
        let e = try RunEnergy.compute(ledger: l, run: r.runID)
        XCTAssertEqual(e.totalJoules, 50, accuracy: 1e-9)
        XCTAssertEqual(e.crossChecks.count, 1)
        XCTAssertEqual(e.crossChecks.first?.relativeDifference ?? 0, 0.01, accuracy: 1e-12)
    }

    /// A GPU read three ways: the counter counts; POWER_INSTANT (trapezoid) and the 1 s average are each checked
    /// against it. A channel that drops out and comes back is one gap with its resumption; one that never comes
    /// back is an open gap.
    func testEachDetailReadingOfADeviceIsACrossCheckAndGapsPairWithResumptions() throws {
        let l = try ledger()
        let r = try l.beginRun(host: host, command: "x", region: nil, monotonicOriginNs: 0)
        let counter = r.addChannel(channel("gpu-0", kind: .energy, role: .total, unit: "mJ"))
        let instant = r.addChannel(channel("gpu-0", kind: .power, role: .detail, unit: "mW"))
        let average = r.addChannel(channel("gpu-0", kind: .power, role: .detail, unit: "mW"))
        let util = r.addChannel(channel("gpu-0", kind: .context, role: .context, unit: "%"))
        let s = Int64(1_000_000_000)
        // Counter: 5 J → 605 J over 2 s = 600 J. Instant: 200 W then 400 W, trapezoid (200 + 400) ÷ 2 × 2 s = 600 J.
        // Average: 200 W flat = 400 J, −33.3 %.
        r.record(samples: [
            SampleRecord(channel: counter, tNs: 0, value: 5_000), SampleRecord(channel: instant, tNs: 0, value: 200_000),
            SampleRecord(channel: average, tNs: 0, value: 200_000), SampleRecord(channel: util, tNs: 0, value: 90),
            SampleRecord(channel: counter, tNs: 2 * s, value: 605_000), SampleRecord(channel: instant, tNs: 2 * s, value: 400_000),
            SampleRecord(channel: average, tNs: 2 * s, value: 200_000),
        ])
        r.record(EventRecord(tNs: s / 2, kind: "channel_gap", payload: "{\"channel\":\(util),\"key\":\"u\"}"))
        r.record(EventRecord(tNs: s, kind: "channel_resumed", payload: "{\"channel\":\(util)}"))
        r.record(EventRecord(tNs: 3 * s / 2, kind: "channel_gap", payload: "{\"channel\":\(average),\"key\":\"a\"}"))
        try r.close()
        let e = try RunEnergy.compute(ledger: l, run: r.runID)
        XCTAssertEqual(e.totalJoules, 600, accuracy: 1e-9, "detail readings never add")
        XCTAssertEqual(e.crossChecks.count, 2)
        XCTAssertEqual(e.crossChecks[0].relativeDifference ?? .nan, 0, accuracy: 1e-12)
        XCTAssertEqual(e.crossChecks[1].relativeDifference ?? .nan, -1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(e.gaps.count, 2)
        XCTAssertEqual(e.gaps[0].atSeconds, 0.5, accuracy: 1e-12)
        XCTAssertEqual(e.gaps[0].resumedAtSeconds ?? 0, 1, accuracy: 1e-12)
        XCTAssertEqual(e.gaps[1].atSeconds, 1.5, accuracy: 1e-12)
        XCTAssertNil(e.gaps[1].resumedAtSeconds)
    }

    /// Readings scripted by read number, with a gap: every channel fails on reads 5…9.
    private func gappyMeter() -> ScriptedMeter {
        ScriptedMeter(channels: [
            MeterChannel(
                key: "gauge", device: "gpu-0", domain: "power", kind: .power, unit: "W", source: "script", mode: .measured,
                role: .total, uncertainty: 0.05, uncertaintyNote: "", deviceClass: .gpu, maxWatts: PowerBound.legacy),
            MeterChannel(
                key: "rapl", device: "cpu-package-0", domain: "package", kind: .energy, unit: "uJ", wrapRange: 3_000_000,
                source: "script", mode: .measured, role: .total, uncertainty: 0.05, uncertaintyNote: "",
                deviceClass: .cpuPackage, maxWatts: PowerBound.legacy),
            MeterChannel(
                key: "counter64", device: "gpu-1", domain: "energy", kind: .energy, unit: "mJ", source: "script",
                mode: .measured, role: .total, uncertainty: 0.05, uncertaintyNote: "", deviceClass: .gpu, maxWatts: PowerBound.legacy),
        ]) { reads in
            (5..<10).contains(reads) ? [nil, nil, nil] : [100 + Double(reads), Double(reads * 700_000 % 3_000_000), Double(reads) * 1000]
        }
    }

    /// The live integration (what measurement windows report) and the ledger's recomputation (what reports and
    /// `verify` show) make the same breaks at a gap: through the real sink, the events' times and indices.
    func testLiveAndRecomputedEnergyAgreeThroughTheLedgerAcrossAGap() throws {
        let l = try ledger()
        let r = try l.beginRun(host: host, command: "gappy", region: nil, monotonicOriginNs: 0)
        let meter = gappyMeter()
        let clock = ManualClock()
        let sampler = Sampler(
            meters: MeterSet(meters: [meter], host: HostDescription.current(paths: SystemPaths())), interval: 0.01,
            sink: LedgerSink(recorder: r), clock: clock)
        sampler.start()
        clock.waitForSleeper()
        while meter.reads < 15 { clock.advance(seconds: sampler.interval) }
        sampler.stop()
        XCTAssertEqual(meter.reads, 16, "15 readings on the clock and one at stop")
        try r.flush()
        let live = sampler.energies()
        let e = try RunEnergy.compute(ledger: l, run: r.runID)
        for (i, key) in ["gauge", "rapl", "counter64"].enumerated() {
            XCTAssertEqual(e.channels[i].joules, live[i].joules, accuracy: 1e-9 * max(live[i].joules, 1), key)
            XCTAssertEqual(e.channels[i].unmeasuredSeconds, live[i].unmeasuredSeconds, accuracy: 1e-12, key)
        }
        XCTAssertGreaterThan(live[0].unmeasuredSeconds, 0, "a power reading does not bridge the gap")
        XCTAssertGreaterThan(live[1].unmeasuredSeconds, 0, "nor does a counter that could have wrapped twice in it")
        XCTAssertEqual(live[2].unmeasuredSeconds, 0, "a 64-bit counter does")
        XCTAssertEqual(live[2].joules, Double(meter.reads - 1) * 1, accuracy: 1e-9, "1 J per read, the gap included")
        XCTAssertEqual(e.gaps.count, 3)
        XCTAssertTrue(e.gaps.allSatisfy { $0.resumedAtSeconds != nil })

        try r.close()
        let profile = try RunFootprint.energyProfile(ledger: l, run: try l.run(r.runID))
        XCTAssertEqual(
            profile.totalEnergy.joules, e.totalJoules, accuracy: 1e-9 * e.totalJoules, "the hourly profile makes the same breaks")
    }

    /// A run sampled before the rules were versioned keeps the rules it was recorded with: `verify` must not call
    /// it tampered because the wrap step was refined later.
    func testARunIsRecomputedByTheIntegrationRulesItWasRecordedUnder() throws {
        let l = try ledger()
        var joules: [String: Double] = [:]
        for (label, payload) in [
            ("v1", "{\"interval_s\":0.1,\"note\":\"x\"}"), ("v2", "{\"interval_s\":0.1,\"integration\":2,\"note\":\"x\"}"),
        ] {
            let r = try l.beginRun(host: host, command: label, region: nil, monotonicOriginNs: 0)
            let c = r.addChannel(channel("cpu-package-0", kind: .energy, role: .total, unit: "uJ", wrap: 2_000_000))
            r.record(EventRecord(tNs: 0, kind: "sampler_start", payload: payload))
            r.record(samples: [
                SampleRecord(channel: c, tNs: 0, value: 1_000_000), SampleRecord(channel: c, tNs: 1_000_000_000, value: 500_000),
            ])
            try r.close()
            joules[label] = try RunEnergy.compute(ledger: l, run: r.runID).totalJoules
        }
        XCTAssertEqual(joules["v1"]!, 1.500001, accuracy: 1e-12, "version 1: a wrap steps 1 µJ")
        XCTAssertEqual(joules["v2"]!, 1.5 + 2_000_000 / Wraparound.counterMaximum * 1e-6, accuracy: 1e-15, "version 2: one counter unit")

        // A newer wattprint's rules (or a payload that is not JSON) are not guessed.
        for payload in ["{\"interval_s\":0.1,\"integration\":9}", "not json"] {
            let r = try l.beginRun(host: host, command: "future", region: nil, monotonicOriginNs: 0)
            r.record(EventRecord(tNs: 0, kind: "sampler_start", payload: payload))
            try r.close()
            XCTAssertThrowsError(try RunEnergy.compute(ledger: l, run: r.runID)) { XCTAssertTrue($0 is UnknownIntegrationRules, "\($0)") }
        }
    }

    /// Version 3 runs: the recomputation makes the decisions the sampler recorded; a run whose recorded decisions
    /// differ from its samples' (an anomaly event missing) fails the check even though its chain is intact.
    func testVersion3DecisionsAreRecomputedAndComparedWithTheRecordedOnes() throws {
        let l = try ledger()
        let s = Int64(1_000_000_000)
        func record(withAnomalyEvent: Bool) throws -> Int64 {
            let r = try l.beginRun(host: host, command: "v3", region: nil, monotonicOriginNs: 0)
            r.record(EventRecord(tNs: 0, kind: "sampler_start", payload: "{\"interval_s\":1,\"integration\":3,\"note\":\"test\"}"))
            let c = r.addChannel(
                ChannelRecord(
                    index: 0, device: "cpu-package-0", domain: "package-0", kind: .energy, role: .total, unit: "uJ",
                    source: "test", mode: .measured, wrapRange: 262_143_328_850, uncertainty: 0.05,
                    key: "rapl:intel-rapl:0", deviceClass: .cpuPackage, maxWatts: 1000))
            for (t, v) in [(0, 1e9), (s, 1.05e9), (2 * s, 18_446_744_073_447_456_768), (3 * s, 1.15e9)] as [(Int64, Double)] {
                r.record(SampleRecord(channel: c, tNs: t, value: v))
            }
            if withAnomalyEvent {
                let live = RunIntegrator(channels: [
                    RunIntegrator.Channel(
                        key: "rapl:intel-rapl:0", device: "cpu-package-0", deviceClass: .cpuPackage,
                        kind: .energy, role: .total, mode: .measured, toSI: 1e-6,
                        wrapRange: 262_143_328_850, maxWatts: 1000)
                ])
                for (t, v) in [(0, 1e9), (s, 1.05e9), (2 * s, 18_446_744_073_447_456_768), (3 * s, 1.15e9)] as [(Int64, Double)] {
                    live.add(0, tNs: t, value: v)
                    for a in live.finishTick(tNs: t) {
                        r.record(
                            EventRecord(tNs: t, kind: "anomaly", payload: String(decoding: try JSONEncoder().encode(a), as: UTF8.self)))
                    }
                }
            }
            try r.flush()
            r.record(RecordedResult(try RunEnergy.compute(ledger: l, run: r.runID)).event)
            try r.close()
            return r.runID
        }
        let honest = try record(withAnomalyEvent: true), silent = try record(withAnomalyEvent: false)
        let e = try RunEnergy.compute(ledger: l, run: honest)
        XCTAssertEqual(e.totalJoules, 150, accuracy: 1e-9)
        XCTAssertEqual(e.integrationRules, 3)
        XCTAssertEqual(e.anomalies.map(\.decision.kind), [.outOfRange])
        XCTAssertEqual(e.anomalies.first?.atSeconds, 2)
        XCTAssertTrue(try RecordedResult.check(ledger: l, run: honest).anomaliesMatch)
        XCTAssertEqual(try l.verify(run: silent).outcome, .ok, "the chain alone cannot see this")
        XCTAssertFalse(try RecordedResult.check(ledger: l, run: silent).anomaliesMatch)
    }
}
