import Measures
import TestSupport
import XCTest
@testable import Carbon

final class EnergyTests: XCTestCase {
    func testParsesEachUnit() throws {
        let cases: [(String, Double)] = [
            ("1287MWh", 1287 * 3.6e9),
            ("12.5 kWh", 12.5 * 3.6e6),
            ("3.6e6 J", 3.6e6),
            ("1 GWh", 3.6e12),
            ("5kJ", 5e3),
            ("2 MJ", 2e6),
            ("7Wh", 7 * 3_600),
            (".5kWh", 0.5 * 3.6e6),
            ("+5kWh", 5 * 3.6e6),
            ("0 J", 0),
            ("  42 kWh  ", 42 * 3.6e6),
        ]
        for (text, joules) in cases {
            XCTAssertEqual(try Energy.parse(text).joules, joules, accuracy: joules * 1e-12, text)
        }
    }

    func testUnitLettersIgnoreCaseExceptMilli() throws {
        XCTAssertEqual(try Energy.parse("5 kwh"), try Energy.parse("5kWh"))
        XCTAssertEqual(try Energy.parse("5 KWH"), try Energy.parse("5kWh"))
        XCTAssertEqual(try Energy.parse("5 Mwh"), try Energy.parse("5MWh"))
        XCTAssertEqual(try Energy.parse("5 gwh"), try Energy.parse("5GWh"))
        XCTAssertEqual(try Energy.parse("5 KJ"), try Energy.parse("5kJ"))
        // "mWh" would be milliwatt-hours: reading it as mega would be 10⁹ times too much.
        let milli = assertCarbonError(.invalidEnergy) { try Energy.parse("5 mWh") }
        XCTAssertTrue(milli?.description.contains("milli") ?? false)
        assertCarbonError(.invalidEnergy) { try Energy.parse("5mj") }
    }

    func testRejectsBadInputWithAFix() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("kWh", "no number"),
            ("1287", "no unit"),
            ("-5kWh", "negative"),
            ("nan kWh", "not a finite number"),
            ("inf kWh", "not a finite number"),
            ("5 kW", "is power"),
            ("5 foo", "unknown unit"),
            ("1,287 kWh", "thousands separators"),
            ("5kWh extra", "unknown unit"),
            ("0x10 kWh", "unknown unit"),
        ]
        for (text, fragment) in cases {
            let error = assertCarbonError(.invalidEnergy) { try Energy.parse(text) }
            XCTAssertTrue(error?.description.contains(fragment) ?? false, "\(text): \(error?.description ?? "")")
            XCTAssertTrue(error?.description.contains("e.g.") ?? false, "names a valid example: \(text)")
        }
    }

    func testFormatThenParseRoundTrips() throws {
        var rng = SplitMix(seed: 21031)
        for _ in 0..<2_000 {
            let joules = pow(10, Double.random(in: -6...15, using: &rng))
            let energy = Energy(joules: joules)
            for unit in EnergyUnit.allCases {
                let back = try Energy.parse(energy.formatted(in: unit))
                XCTAssertEqual(back.joules, joules, accuracy: joules * 1e-9, "\(energy.formatted(in: unit))")
            }
        }
    }

    func testDescriptionPicksAReadableUnit() {
        XCTAssertEqual(Energy.megawattHours(1287).description, "1.287 GWh")
        XCTAssertEqual(Energy.kilowattHours(12.5).description, "12.5 kWh")
        XCTAssertEqual(Energy.joules(42).description, "42 J")
    }

    func testEnergyTimesIntensity() {
        // 1287 MWh × 429 gCO2e/kWh = 1 287 000 kWh × 429 g = 552 123 000 g = 552.123 t
        let mass = Energy.megawattHours(1287) * CarbonIntensity(gramsPerKilowattHour: 429)
        XCTAssertEqual(mass.grams, 552_123_000, accuracy: 1e-3)
        XCTAssertEqual(mass.tonnes, 552.123, accuracy: 1e-9)
        XCTAssertEqual(mass.description, "552.1 t CO2e")
    }
}
