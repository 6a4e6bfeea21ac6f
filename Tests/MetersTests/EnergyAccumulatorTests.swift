import Foundation
import XCTest
@testable import Meters

final class EnergyAccumulatorTests: XCTestCase {
    /// Property: for random power traces, a counter that wraps at `range` and is read at random intervals within
    /// the wrap bound integrates to exactly the energy that was put in, to the microjoule.
    func testRandomTracesWithWrapsIntegrateExactlyToTheMicrojoule() {
        var rng = SplitMix(seed: 42)
        for trial in 0..<200 {
            let range = UInt64.random(in: 1_000_000...262_143_328_850, using: &rng)
            let maxWatts = Double.random(in: 5...1500, using: &rng)
            let bound = Wraparound.maxSafeInterval(rangeJoules: Double(range) * 1e-6, maxWatts: maxWatts)
            var counter = UInt64.random(in: 0...range, using: &rng)
            var truth: UInt64 = 0
            var t: Int64 = 0
            var acc = EnergyAccumulator(kind: .energy, toSI: 1e-6, wrapRange: Double(range), maxPlausibleWatts: maxWatts * 4)
            acc.add(tNs: t, value: Double(counter))
            for _ in 0..<Int.random(in: 10...300, using: &rng) {
                let dt = Double.random(in: 0.001...bound, using: &rng)
                let watts = Double.random(in: 0...maxWatts, using: &rng)
                let added = UInt64(watts * dt * 1e6)
                truth += added
                counter = (counter + added) % (range + 1)
                t += Int64(dt * 1e9)
                acc.add(tNs: t, value: Double(counter))
            }
            XCTAssertEqual(UInt64(acc.energy.joules * 1e6 + 0.5), truth, "trial \(trial): range \(range)")
            XCTAssertEqual(acc.energy.resets, 0)
        }
    }

    func testAResetIsNotMistakenForAWrap() {
        var acc = EnergyAccumulator(kind: .energy, toSI: 1e-6, wrapRange: 262_143_328_850)
        acc.add(tNs: 0, value: 200_000_000_000)
        acc.add(tNs: 100_000_000, value: 200_001_000_000)  // 1 J in 0.1 s
        acc.add(tNs: 200_000_000, value: 500_000)         // reset: a wrap would mean 62 kJ in 0.1 s
        XCTAssertEqual(acc.energy.resets, 1)
        XCTAssertEqual(acc.energy.wraps, 0)
        XCTAssertEqual(acc.energy.joules, 1.5, accuracy: 1e-9)
    }

    /// amd_energy was seen dropping from 122.33 kJ to 77.85 kJ (shared/data/hardware/hwmon_examples/01): counting the new
    /// reading as energy since a reset would mean 778 kW over 0.1 s, so the interval adds nothing.
    func testAnImplausibleReadingAfterAResetAddsNothing() {
        let e = EnergyAccumulator.integrate([(0, 122_330), (100_000_000, 122_331), (200_000_000, 77_850), (300_000_000, 77_851)],
                                            kind: .energy, toSI: 1, wrapRange: nil)
        XCTAssertEqual(e.resets, 1)
        XCTAssertEqual(e.joules, 2, accuracy: 1e-9)
    }

    func testA64BitCounterGoingBackwardsIsAReset() {
        let s = Int64(1_000_000_000)
        let e = EnergyAccumulator.integrate([(0, 5000), (s, 6000), (2 * s, 100), (3 * s, 300)], kind: .energy, toSI: 1e-3, wrapRange: nil)
        XCTAssertEqual(e.resets, 1)
        XCTAssertEqual(e.joules, 1.0 + 0.1 + 0.2, accuracy: 1e-12)
    }

    func testPowerGaugesUseTheTrapezoidAndIntervalPowerTheRectangle() {
        // 0 → 10 W linearly over 2 s: trapezoid gives exactly 10 J.
        let gauge = EnergyAccumulator.integrate([(0, 0), (1_000_000_000, 5_000), (2_000_000_000, 10_000)], kind: .power, toSI: 1e-3, wrapRange: nil)
        XCTAssertEqual(gauge.joules, 10, accuracy: 1e-12)
        // Mean 4 W over the first second, 6 W over the next half: 4 + 3 = 7 J.
        let mean = EnergyAccumulator.integrate([(0, 99), (1_000_000_000, 4), (1_500_000_000, 6)], kind: .intervalPower, toSI: 1, wrapRange: nil)
        XCTAssertEqual(mean.joules, 7, accuracy: 1e-12)
    }

    func testUnitConversionToSI() {
        XCTAssertEqual(Units.factor("uJ"), 1e-6)
        XCTAssertEqual(Units.factor("mJ"), 1e-3)
        XCTAssertEqual(Units.factor("mW"), 1e-3)
        XCTAssertEqual(Units.factor("J"), 1)
        var rng = SplitMix(seed: 7)
        for _ in 0..<1000 {
            let uj = UInt64.random(in: 0...UInt64(1) << 50, using: &rng)
            XCTAssertEqual(Double(uj) * Units.factor("uJ") * 1e6, Double(uj), accuracy: Double(uj) * 1e-15)
        }
    }
}

/// A small seeded generator so property tests are reproducible.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
