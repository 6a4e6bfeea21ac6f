import Measures
import TestSupport
import XCTest
@testable import Carbon

final class AccountingFormulaTests: XCTestCase {
    func testPUETurnsITEnergyIntoFacilityEnergy() throws {
        let onPrem = Bundled.data.pue.figure(for: .onPremises)
        // 100 kWh IT × 1.56 = 156 kWh facility
        XCTAssertEqual(onPrem.facilityEnergy(for: .kilowattHours(100)).kilowattHours, 156, accuracy: 1e-9)
        XCTAssertEqual(onPrem.value.low, 1.55)
        XCTAssertEqual(onPrem.value.high, 1.63)
        XCTAssertEqual(onPrem.year, 2024)
        XCTAssertEqual(Bundled.data.pue.figure(for: .aws).value.central, 1.14)
        XCTAssertEqual(Bundled.data.pue.figure(for: .gcp).value.central, 1.10)
        XCTAssertEqual(Bundled.data.pue.figure(for: .azure).value.central, 1.18)
        XCTAssertTrue(Bundled.data.pue.figure(for: .none).value.isExact)
        XCTAssertEqual(try PUEFigure.userSupplied(1.1).facilityEnergy(for: .kilowattHours(10)).kilowattHours, 11, accuracy: 1e-12)
        assertCarbonError(.invalidNumber) { try PUEFigure.userSupplied(0.9) }
    }

    func testLocationBased() {
        // 1000 kWh × 300 g/kWh = 300 000 g
        let mass = Scope2.locationBased(energy: .kilowattHours(1_000), intensity: CarbonIntensity(gramsPerKilowattHour: 300))
        XCTAssertEqual(mass.grams, 300_000, accuracy: 1e-6)
    }

    func testMarketBasedFollowsTheHierarchy() throws {
        let energy = Energy.kilowattHours(1_000)
        let location = CarbonIntensity(gramsPerKilowattHour: 300)

        // 80 % certificates at 0 g + 20 % at residual mix 400 g: 1000 × (0.8 × 0 + 0.2 × 400) = 80 000 g
        let residual = Scope2.marketBased(
            energy: energy, locationIntensity: location,
            instruments:
                try ContractualInstruments(coveredShare: 0.8, residualMixFactor: CarbonIntensity(gramsPerKilowattHour: 400)))
        XCTAssertEqual(residual.emissions.grams, 80_000, accuracy: 1e-6)
        XCTAssertEqual(residual.uncoveredFactorSource, .residualMix)
        XCTAssertTrue(residual.flags.isEmpty)

        // A supplier rate outranks the residual mix: 1000 × 0.2 × 250 = 50 000 g
        let supplier = Scope2.marketBased(
            energy: energy, locationIntensity: location,
            instruments:
                try ContractualInstruments(
                    coveredShare: 0.8, supplierFactor: CarbonIntensity(gramsPerKilowattHour: 250),
                    residualMixFactor: CarbonIntensity(gramsPerKilowattHour: 400)))
        XCTAssertEqual(supplier.emissions.grams, 50_000, accuracy: 1e-6)
        XCTAssertEqual(supplier.uncoveredFactorSource, .supplier)

        // Nothing but a 50 % certificate share: the rest falls back to location, flagged. 1000 × 0.5 × 300 = 150 000 g
        let fallback = Scope2.marketBased(
            energy: energy, locationIntensity: location,
            instruments: try ContractualInstruments(coveredShare: 0.5))
        XCTAssertEqual(fallback.emissions.grams, 150_000, accuracy: 1e-6)
        XCTAssertEqual(fallback.uncoveredFactorSource, .locationFallback)
        XCTAssertEqual(fallback.flags.count, 1)

        // A fully covered load at a 20 g certificate factor (e.g. a PPA with some emissions): 1000 × 20 = 20 000 g
        let covered = Scope2.marketBased(
            energy: energy, locationIntensity: location,
            instruments:
                try ContractualInstruments(coveredShare: 1, certificateFactor: CarbonIntensity(gramsPerKilowattHour: 20)))
        XCTAssertEqual(covered.emissions.grams, 20_000, accuracy: 1e-6)
        XCTAssertTrue(covered.flags.isEmpty)

        assertCarbonError(.invalidContract) { try ContractualInstruments(coveredShare: 1.2) }
        assertCarbonError(.invalidContract) {
            try ContractualInstruments(supplierFactor: CarbonIntensity(gramsPerKilowattHour: -1))
        }
    }

    func testEmbodiedAmortisation() throws {
        // H100: 281.3 kg × (24 h / (4 y × 8760 h)) × (8 cards / 1) = 281.3 × 8 × 24 / 35 040 = 1.541370 kg
        let h100 = try Bundled.data.hardware.hardware("H100")
        XCTAssertTrue(h100.isDerived)
        let m = try EmbodiedEmissions.amortised(
            totalEmbodied: h100.totalEmbodied, timeReserved: 24 * 3_600,
            expectedLifespan: 4 * EmbodiedEmissions.secondsPerYear,
            resourcesReserved: 8, totalResources: 1)
        XCTAssertEqual(m.kilograms, 281.3 * 8 * 24 / 35_040, accuracy: 1e-12)
        XCTAssertEqual(m.kilograms, 1.541370, accuracy: 1e-6)

        // A whole server's 3660 kg, 2 of 8 GPUs for 1 of 4 years: 3660 × 0.25 × 0.25 = 228.75 kg
        let share = try EmbodiedEmissions.amortised(
            totalEmbodied: .kilograms(3_660),
            timeReserved: EmbodiedEmissions.secondsPerYear,
            expectedLifespan: 4 * EmbodiedEmissions.secondsPerYear,
            resourcesReserved: 2, totalResources: 8)
        XCTAssertEqual(share.kilograms, 228.75, accuracy: 1e-9)

        assertCarbonError(.invalidNumber) {
            try EmbodiedEmissions.amortised(
                totalEmbodied: .kilograms(1), timeReserved: 1, expectedLifespan: 0,
                resourcesReserved: 1, totalResources: 1)
        }
        let typo = assertCarbonError(.unknownHardware) { try Bundled.data.hardware.hardware("h10") }
        XCTAssertEqual(typo?.suggestions.first, "h100")
    }

    func testHardwareBandsFollowTheDocumentedRule() {
        for hardware in Bundled.data.hardware.classes {
            let q = hardware.embodiedKilograms
            XCTAssertEqual(q.central / q.low, 4.2592 / 1.8, accuracy: 0.01, hardware.id)
            XCTAssertEqual(q.high / q.central, 4.2592 / 1.8, accuracy: 0.01, hardware.id)
            XCTAssertEqual(hardware.lifetimeYears, try UncertainQuantity(central: 4, low: 3, high: 6))
        }
    }

    func testSCI() throws {
        // E × I = 10 kWh × 400 g/kWh = 4000 g; M = 1000 g; R = 1000 requests → (4000 + 1000) / 1000 = 5 g per request
        let score = try SoftwareCarbonIntensity.score(
            energy: .kilowattHours(10), intensity: CarbonIntensity(gramsPerKilowattHour: 400),
            embodied: CarbonMass(grams: 1_000), functionalUnits: 1_000, per: .request)
        XCTAssertEqual(score.perUnit.grams, 5, accuracy: 1e-12)
        XCTAssertEqual(score.operational.grams, 4_000, accuracy: 1e-9)

        // 2 000 000 tokens = 2000 units of 1k tokens → 5000 g / 2000 = 2.5 g per 1k tokens
        let tokens = try XCTUnwrap(FunctionalUnit.thousandTokens.count(ofTokens: 2_000_000))
        let perTokens = try SoftwareCarbonIntensity.score(
            energy: .kilowattHours(10), intensity: CarbonIntensity(gramsPerKilowattHour: 400),
            embodied: CarbonMass(grams: 1_000), functionalUnits: tokens, per: .thousandTokens)
        XCTAssertEqual(perTokens.perUnit.grams, 2.5, accuracy: 1e-12)
        XCTAssertNil(FunctionalUnit.step.count(ofTokens: 10))
        assertCarbonError(.invalidNumber) {
            try SoftwareCarbonIntensity.score(energy: .kilowattHours(1), intensity: .zero, embodied: .zero, functionalUnits: 0, per: .run)
        }
    }

    func testOffsetsNeverReduceSCI() throws {
        var rng = SplitMix(seed: 2_1031)
        for _ in 0..<200 {
            let energy = Energy.kilowattHours(Double.random(in: 0...1e4, using: &rng))
            let intensity = CarbonIntensity(gramsPerKilowattHour: Double.random(in: 0...900, using: &rng))
            let embodied = CarbonMass(grams: Double.random(in: 0...1e6, using: &rng))
            let r = Double.random(in: 1...1e6, using: &rng)
            let offsets = CarbonMass(grams: Double.random(in: 0...1e9, using: &rng))
            let plain = try SoftwareCarbonIntensity.score(
                energy: energy, intensity: intensity, embodied: embodied,
                functionalUnits: r, per: .step)
            let withOffsets = try SoftwareCarbonIntensity.score(
                energy: energy, intensity: intensity, embodied: embodied,
                functionalUnits: r, per: .step, offsets: offsets)
            XCTAssertEqual(withOffsets.perUnit, plain.perUnit)
            XCTAssertEqual(withOffsets.offsetsDisclosed, offsets)
        }
    }
}
