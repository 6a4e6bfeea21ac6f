import Foundation
import Measures
import XCTest

final class CarbonCLITests: XCTestCase {
    func testGridShowGivesValueYearBasisSourceAndLicence() throws {
        let r = try CLI.run(["grid", "show", "fr", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try CLI.run(["grid", "show", "FR"]).stdout
        for field in ["44.18", "2024", "lifecycle", "Ember", "CC-BY-4.0"] {
            XCTAssertTrue(text.contains(field), "missing \(field):\n\(text)")
        }
        let cloud = try CLI.run(["grid", "show", "aws:us-east-1"]).stdout
        XCTAssertTrue(cloud.contains("US-MIDA-PJM"), cloud)
    }

    func testARegionTypoListsTheClosestMatches() throws {
        let r = try CLI.run(["grid", "show", "US-CAL-CSIO"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("US-CAL-CISO"), r.stderr)
    }

    /// 1 kWh in FR (44.18 g/kWh, Ember 2024) with PUE 1: exactly 44.18 g.
    func testEstimateByHand() throws {
        let r = try CLI.run(["estimate", "--energy", "1kWh", "--region", "FR", "--pue", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        XCTAssertEqual(((e["locationBased"] as? [String: Any])?["grams"] as? Double) ?? 0, 44.18, accuracy: 1e-9)
        let interval = try XCTUnwrap(e["interval"] as? [String: Any])
        let low = try XCTUnwrap((interval["low"] as? [String: Any])?["grams"] as? Double)
        let high = try XCTUnwrap((interval["high"] as? [String: Any])?["grams"] as? Double)
        XCTAssertLessThan(low, 44.18)
        XCTAssertGreaterThan(high, 44.18)
    }

    /// Each refusal ends with a valid example (the text after "e.g.", which the input does not echo).
    func testBadEnergyUnitsAreRefusedWithAnExample() throws {
        for bad in ["12", "12 parsecs", "-3kWh", "kWh", "1e400kWh"] {
            let r = try CLI.run(["estimate", "--energy", bad, "--region", "FR"])
            XCTAssertNotEqual(r.status, 0, bad)
            let example = try XCTUnwrap(r.stderr.range(of: "e.g. ").map { String(r.stderr[$0.upperBound...]) }, "\(bad): \(r.stderr)")
            XCTAssertNotNil(example.range(of: #"^[0-9.]+ ?[kMG]?Wh"#, options: .regularExpression), "\(bad): the example \(example)")
        }
    }

    func testNoRegionIsFlaggedLoudly() throws {
        let home = try scratchDirectory()
        let r = try CLI.run(["estimate", "--energy", "1kWh"], env: ["HOME": home.path, "XDG_CONFIG_HOME": "", "WATTPRINT_REGION": ""])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("WORLD AVERAGE"), r.stdout)
    }

    func testTheConfigFileSuppliesTheRegionAndRejectsUnknownKeys() throws {
        let home = try scratchDirectory()
        let config = home.appendingPathComponent(".config/wattprint/config")
        try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "# my machine\nregion = SE-SE3\n".write(to: config, atomically: false, encoding: .utf8)
        let env = ["HOME": home.path, "XDG_CONFIG_HOME": "", "WATTPRINT_REGION": ""]
        let r = try CLI.run(["estimate", "--energy", "1kWh", "--json"], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("SE-SE3"))
        try "regoin = FR\n".write(to: config, atomically: false, encoding: .utf8)
        let bad = try CLI.run(["estimate", "--energy", "1kWh"], env: env)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown setting 'regoin'"), bad.stderr)
    }

    /// `--format json` is what `--json` always was; `--output` writes the report to a file and nothing to the terminal.
    func testFormatAndOutputOptions() throws {
        let args = ["estimate", "--energy", "1kWh", "--region", "FR", "--usage-year", "2025"]
        let alias = try CLI.run(args + ["--json"]), format = try CLI.run(args + ["--format", "json"])
        XCTAssertEqual(alias.stdout, format.stdout)
        XCTAssertNotNil(try json(format.stdout) as? [String: Any])
        let file = try scratchDirectory().appendingPathComponent("estimate.json")
        let written = try CLI.run(args + ["--format", "json", "--output", file.path])
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertEqual(written.stdout, "")
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), format.stdout)
        let bad = try CLI.run(args + ["--format", "yaml"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("text, json"), bad.stderr)
    }
}
