import Foundation
import Measures
import TestSupport
import XCTest
@testable import Meters

final class EnergyAccumulatorTests: XCTestCase {
    /// Property: for random power traces, a RAPL counter (32 bits of energy units, shown in µJ rounded down as the
    /// kernel does, with `max_energy_range_uj` rounded too) read at random intervals within the wrap bound integrates
    /// to the energy that was put in, to within those roundings: 2 µJ at the ends and 2 µJ per wrap.
    func testRandomTracesWithWrapsIntegrateExactlyToTheMicrojoule() {
        var rng = SplitMix(seed: 42)
        var wraps = 0
        for trial in 0..<200 {
            let unit = Double.random(in: 0.001...61.1, using: &rng) // µJ per count; Intel's is 61.04 µJ, AMD's 15.26 µJ
            let range = (Wraparound.counterMaximum * unit).rounded(.down)
            let maxWatts = Double.random(in: 5...1500, using: &rng)
            // Read within the wrap bound of the accumulator's own device bound (4 × the trace's peak).
            let bound = Wraparound.maxSafeInterval(rangeJoules: range * 1e-6, maxWatts: maxWatts * 4)
            var raw = UInt64.random(in: 0...UInt64(UInt32.max), using: &rng)
            var truthCounts: UInt64 = 0
            var t: Int64 = 0
            var acc = EnergyAccumulator(kind: .energy, toSI: 1e-6, wrapRange: range, maxPlausibleWatts: maxWatts * 4)
            acc.add(tNs: t, value: (Double(raw) * unit).rounded(.down))
            for _ in 0..<Int.random(in: 10...300, using: &rng) {
                let dt = Double.random(in: 0.001...bound, using: &rng)
                let counts = UInt64(Double.random(in: 0...maxWatts, using: &rng) * dt * 1e6 / unit)
                truthCounts += counts
                raw = (raw + counts) & UInt64(UInt32.max)
                t += Int64(dt * 1e9)
                acc.add(tNs: t, value: (Double(raw) * unit).rounded(.down))
            }
            XCTAssertEqual(
                acc.energy.joules * 1e6, Double(truthCounts) * unit, accuracy: 2 + 2 * Double(acc.energy.wraps),
                "trial \(trial): unit \(unit) µJ, \(acc.energy.wraps) wraps")
            XCTAssertEqual(acc.energy.resets, 0)
            wraps += acc.energy.wraps
        }
        XCTAssertGreaterThan(wraps, 100, "the traces do wrap")
    }

    /// Version 2 (recorded runs): a drop a wrap cannot explain is a reset whose new reading is the energy since.
    func testAResetIsNotMistakenForAWrap() {
        var acc = EnergyAccumulator(kind: .energy, toSI: 1e-6, wrapRange: 262_143_328_850, rules: .v2)
        acc.add(tNs: 0, value: 200_000_000_000)
        acc.add(tNs: 100_000_000, value: 200_001_000_000) // 1 J in 0.1 s
        acc.add(tNs: 200_000_000, value: 500_000) // reset: a wrap would mean 62 kJ in 0.1 s
        XCTAssertEqual(acc.energy.resets, 1)
        XCTAssertEqual(acc.energy.wraps, 0)
        XCTAssertEqual(acc.energy.joules, 1.5, accuracy: 1e-9)
    }

    /// amd_energy was seen dropping from 122.33 kJ to 77.85 kJ (shared/data/hardware/hwmon_examples/01): counting the new
    /// reading as energy since a reset would mean 778 kW over 0.1 s, so the interval adds nothing.
    /// Version 2 (recorded runs).
    func testAnImplausibleReadingAfterAResetAddsNothing() {
        let e = EnergyAccumulator.integrate(
            [(0, 122_330), (100_000_000, 122_331), (200_000_000, 77_850), (300_000_000, 77_851)],
            kind: .energy, toSI: 1, wrapRange: nil, rules: .v2)
        XCTAssertEqual(e.resets, 1)
        XCTAssertEqual(e.joules, 2, accuracy: 1e-9)
    }

    /// Version 2 (recorded runs).
    func testA64BitCounterGoingBackwardsIsAReset() {
        let s = Int64(1_000_000_000)
        let e = EnergyAccumulator.integrate(
            [(0, 5000), (s, 6000), (2 * s, 100), (3 * s, 300)], kind: .energy, toSI: 1e-3, wrapRange: nil,
            rules: .v2)
        XCTAssertEqual(e.resets, 1)
        XCTAssertEqual(e.joules, 1.0 + 0.1 + 0.2, accuracy: 1e-12)
    }

    func testPowerGaugesUseTheTrapezoidAndIntervalPowerTheRectangle() {
        // 0 → 10 W linearly over 2 s: trapezoid gives exactly 10 J.
        let gauge = EnergyAccumulator.integrate(
            [(0, 0), (1_000_000_000, 5_000), (2_000_000_000, 10_000)], kind: .power, toSI: 1e-3, wrapRange: nil)
        XCTAssertEqual(gauge.joules, 10, accuracy: 1e-12)
        // Mean 4 W over the first second, 6 W over the next half: 4 + 3 = 7 J.
        let mean = EnergyAccumulator.integrate(
            [(0, 99), (1_000_000_000, 4), (1_500_000_000, 6)], kind: .intervalPower, toSI: 1, wrapRange: nil)
        XCTAssertEqual(mean.joules, 7, accuracy: 1e-12)
    }

    /// After a gap a counter still holds the energy drawn meanwhile; a power reading does not, so its gap is
    /// unmeasured time, never interpolated.
    func testGapsAreBridgedByCountersAndLeftUnmeasuredByPowerReadings() {
        let s = Int64(1_000_000_000)
        let resumed: Set<Int64> = [5 * s]
        let gauge = EnergyAccumulator.integrate(
            [(0, 100), (s, 100), (5 * s, 300), (6 * s, 300)], kind: .power, toSI: 1, wrapRange: nil,
            resumptions: resumed)
        XCTAssertEqual(gauge.joules, 400, accuracy: 1e-12, "100 J before the gap, 300 J after, nothing for the 4 s between")
        XCTAssertEqual(gauge.unmeasuredSeconds, 4, accuracy: 1e-12)
        XCTAssertEqual(gauge.meanWatts, 200, accuracy: 1e-12, "mean over the 2 measured seconds")

        let counter64 = EnergyAccumulator.integrate(
            [(0, 0), (s, 100_000), (5 * s, 900_000)], kind: .energy, toSI: 1e-3, wrapRange: nil,
            resumptions: resumed)
        XCTAssertEqual(counter64.joules, 900, accuracy: 1e-12, "a 64-bit counter bridges any gap")
        XCTAssertEqual(counter64.unmeasuredSeconds, 0)

        // RAPL-like counter of 3 J range: its wrap bound at 1500 W is 1 ms, so a 4 s gap may hide several wraps.
        let range = 3_000_000.0
        let tooLong = EnergyAccumulator.integrate(
            [(0, 0), (s / 2000, 500_000), (4 * s, 100_000), (4 * s + s / 2000, 600_000)],
            kind: .energy, toSI: 1e-6, wrapRange: range, resumptions: [4 * s])
        XCTAssertEqual(tooLong.joules, 1.0, accuracy: 1e-9, "0.5 J before and 0.5 J after; the gap is not guessed")
        XCTAssertEqual(tooLong.wraps, 0)
        XCTAssertEqual(tooLong.unmeasuredSeconds, 4 - 0.0005, accuracy: 1e-9)
        let withinBound = EnergyAccumulator.integrate(
            [(0, 2_900_000), (s / 4000, 100_000)], kind: .energy, toSI: 1e-6, wrapRange: range,
            resumptions: [s / 4000])
        XCTAssertEqual(withinBound.wraps, 1, "a gap shorter than the wrap bound is bridged, wrap included")
        XCTAssertEqual(withinBound.joules, (100_000 + range / Wraparound.counterMaximum + 100_000) * 1e-6, accuracy: 1e-12)
    }

    /// The sampler marks a resumption live; the ledger recomputes from the `channel_resumed` times: same energy.
    func testLiveAndRecomputedIntegrationAgreeAcrossAGap() {
        let series: [(tNs: Int64, value: Double)] = [(0, 5), (100, 6), (900, 2), (1000, 3)]
        var live = EnergyAccumulator(kind: .power, toSI: 1, wrapRange: nil)
        for (i, p) in series.enumerated() {
            if i == 2 { live.resumeAfterGap() }
            live.add(tNs: p.tNs, value: p.value)
        }
        XCTAssertEqual(EnergyAccumulator.integrate(series, kind: .power, toSI: 1, wrapRange: nil, resumptions: [900]), live.energy)
        XCTAssertNotEqual(EnergyAccumulator.integrate(series, kind: .power, toSI: 1, wrapRange: nil).joules, live.energy.joules)
    }

    /// Known units convert; an unknown one is refused (nil), never silently taken as SI.
    func testUnitConversionToSIRefusesUnknownUnits() {
        XCTAssertEqual(Units.factor("uJ"), 1e-6)
        XCTAssertEqual(Units.factor("mJ"), 1e-3)
        XCTAssertEqual(Units.factor("mW"), 1e-3)
        XCTAssertEqual(Units.factor("J"), 1)
        for unknown in ["kJ", "Wh", "", "uj", "µJ"] { XCTAssertNil(Units.factor(unknown), unknown) }
    }
}
