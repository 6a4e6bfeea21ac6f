import TestSupport
import XCTest
@testable import Carbon

final class UncertaintyTests: XCTestCase {
    func logQuantity(_ central: Double, _ below: Double, _ above: Double) -> UncertainQuantity {
        UncertainQuantity(central: central, logBelow: below, logAbove: above)
    }

    func testProductCombinesLogWidthsInQuadrature() {
        // 100 ×/÷ e^0.1 times 2 ×/÷ e^0.2: T = 200, K = √(0.1² + 0.2²) = √0.05 = 0.22361
        var budget = UncertaintyBudget()
        budget.addTerm([UncertaintyInput("a", logQuantity(100, 0.1, 0.1)), UncertaintyInput("b", logQuantity(2, 0.2, 0.2))])
        let result = budget.propagate()
        XCTAssertEqual(result.interval.central, 200, accuracy: 1e-9)
        XCTAssertEqual(result.interval.low, 200 * exp(-0.05.squareRoot()), accuracy: 1e-9)
        XCTAssertEqual(result.interval.high, 200 * exp(0.05.squareRoot()), accuracy: 1e-9)
        // shares: 0.01/0.05 = 0.2 and 0.04/0.05 = 0.8
        XCTAssertEqual(result.dominant?.name, "b")
        XCTAssertEqual(result.dominant?.varianceShare ?? 0, 0.8, accuracy: 1e-12)
        XCTAssertEqual(result.contributions.last?.varianceShare ?? 0, 0.2, accuracy: 1e-12)
    }

    func testSumWeightsEachTermByItsShare() {
        // 300 ×/÷ e^0.1 plus 100 ×/÷ e^0.4: T = 400, s = 0.75 and 0.25,
        // K = √((0.75·0.1)² + (0.25·0.4)²) = √(0.005625 + 0.01) = 0.125
        var budget = UncertaintyBudget()
        budget.addTerm([UncertaintyInput("operational", logQuantity(300, 0.1, 0.1))])
        budget.addTerm([UncertaintyInput("embodied", logQuantity(100, 0.4, 0.4))])
        let result = budget.propagate()
        XCTAssertEqual(result.interval.central, 400, accuracy: 1e-9)
        XCTAssertEqual(result.interval.high, 400 * exp(0.125), accuracy: 1e-9)
        XCTAssertEqual(result.dominant?.name, "embodied")
        XCTAssertEqual(result.dominant?.varianceShare ?? 0, 0.01 / 0.015625, accuracy: 1e-12)
    }

    func testAsymmetricSidesPropagateSeparately() throws {
        // Only an upper-side spread: the low bound stays at the central value.
        var budget = UncertaintyBudget()
        budget.addTerm([UncertaintyInput("x", try UncertainQuantity(central: 10, low: 10, high: 20))])
        let result = budget.propagate()
        XCTAssertEqual(result.interval.low, 10, accuracy: 1e-12)
        XCTAssertEqual(result.interval.high, 20, accuracy: 1e-9)
    }

    func testWideningAnyInputWidensTheResult() {
        var rng = SplitMix(seed: 90)
        for _ in 0..<300 {
            let inputs = (0..<4).map { i in
                UncertaintyInput(
                    "x\(i)",
                    logQuantity(
                        Double.random(in: 0.1...1_000, using: &rng),
                        Double.random(in: 0...0.5, using: &rng),
                        Double.random(in: 0...0.5, using: &rng)))
            }
            let embodied = UncertaintyInput("m", logQuantity(Double.random(in: 0.1...1_000, using: &rng), 0.3, 0.3))
            func propagate(_ inputs: [UncertaintyInput]) -> Interval<Double> {
                var budget = UncertaintyBudget()
                budget.addTerm(Array(inputs.prefix(3)))
                budget.addTerm([inputs[3], embodied])
                return budget.propagate().interval
            }
            let before = propagate(inputs)
            let i = Int.random(in: 0..<4, using: &rng)
            var wider = inputs
            let q = inputs[i].quantity
            wider[i] = UncertaintyInput(inputs[i].name, logQuantity(q.central, q.logBelow + 0.05, q.logAbove + 0.05))
            let after = propagate(wider)
            XCTAssertEqual(after.central, before.central, accuracy: before.central * 1e-12)
            XCTAssertLessThan(after.low, before.low)
            XCTAssertGreaterThan(after.high, before.high)
        }
    }

    func testExactInputAddsNothing() throws {
        var budget = UncertaintyBudget()
        budget.addTerm([
            UncertaintyInput("energy", try UncertainQuantity(central: 50, relativeRange: 0.05)),
            UncertaintyInput("intensity", logQuantity(400, 0.2, 0.3)),
        ])
        let base = budget.propagate().interval
        var withExact = UncertaintyBudget()
        withExact.addTerm([
            UncertaintyInput("energy", try UncertainQuantity(central: 50, relativeRange: 0.05)),
            UncertaintyInput("intensity", logQuantity(400, 0.2, 0.3)),
            UncertaintyInput("PUE", UncertainQuantity(exactly: 1.1)),
        ])
        let scaled = withExact.propagate()
        XCTAssertEqual(scaled.interval.low / scaled.interval.central, base.low / base.central, accuracy: 1e-12)
        XCTAssertEqual(scaled.interval.high / scaled.interval.central, base.high / base.central, accuracy: 1e-12)
        XCTAssertEqual(scaled.contributions.first { $0.name == "PUE" }?.varianceShare, 0)
    }

    func testNothingUncertainHasNoDominantInput() {
        var budget = UncertaintyBudget()
        budget.addTerm([UncertaintyInput("a", UncertainQuantity(exactly: 3))])
        let result = budget.propagate()
        XCTAssertNil(result.dominant)
        XCTAssertEqual(result.interval, Interval(central: 3, low: 3, high: 3))
        XCTAssertEqual(UncertaintyBudget().propagate().interval.central, 0)
    }

    func testQuantityValidation() throws {
        assertCarbonError(.invalidUncertainty) { try UncertainQuantity(central: 10, relativeRange: 1) }
        assertCarbonError(.invalidUncertainty) { try UncertainQuantity(central: 10, relativeRange: -0.1) }
        assertCarbonError(.invalidUncertainty) { try UncertainQuantity(central: 10, low: 11, high: 12) }
        assertCarbonError(.invalidUncertainty) { try UncertainQuantity(central: .nan, low: 1, high: 2) }
        XCTAssertTrue(try UncertainQuantity(central: 0, low: 0, high: 0).isExact)
        // 1/x swaps the sides: a lifetime of 4 y (3…6) gives 1/4 (1/6…1/3)
        let lifetime = try UncertainQuantity(central: 4, low: 3, high: 6).reciprocal
        XCTAssertEqual(lifetime.central, 0.25, accuracy: 1e-12)
        XCTAssertEqual(lifetime.low, 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(lifetime.high, 1.0 / 3, accuracy: 1e-12)
    }

    func testIntensityBandFromBasisAndVintage() throws {
        let us = try Bundled.data.grid.resolve("US").figure // Ember 2024, lifecycle
        // Same year: base only, e^±0.20
        let current = IntensityUncertainty.band(for: us, usageYear: 2024)
        XCTAssertEqual(current.low, 383.55 * exp(-0.20), accuracy: 1e-9)
        XCTAssertEqual(current.high, 383.55 * exp(0.20), accuracy: 1e-9)
        // Two years old: √(0.20² + (2 × 0.063)²) = √(0.04 + 0.015876) = 0.23638
        let old = IntensityUncertainty.band(for: us, usageYear: 2026)
        XCTAssertEqual(old.high, 383.55 * exp((0.04 + 0.015876).squareRoot()), accuracy: 1e-9)
        XCTAssertGreaterThan(old.high, current.high)
        XCTAssertLessThan(old.low, current.low)

        // eGRID 2016 direct combustion used in 2026: below √(0.04 + 0.63²), above √(0.04 + 0.63² + 0.28²)
        let california = try Bundled.data.grid.resolve("US-CA").figure
        let direct = IntensityUncertainty.band(for: california, usageYear: 2026)
        XCTAssertEqual(direct.low, 205.3 * exp(-(0.04 + 0.3969).squareRoot()), accuracy: 1e-9)
        XCTAssertEqual(direct.high, 205.3 * exp((0.04 + 0.3969 + 0.0784).squareRoot()), accuracy: 1e-9)

        // A user figure carries the base band only.
        let user = IntensityUncertainty.band(for: .userSupplied(CarbonIntensity(gramsPerKilowattHour: 429)), usageYear: 2026)
        XCTAssertEqual(user.high, 429 * exp(0.20), accuracy: 1e-9)
    }
}
