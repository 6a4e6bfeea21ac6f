import Foundation
import XCTest

/// A run records everything its footprint depends on; `show` reproduces what `run` printed, and a flag given to
/// `show` is an override, labelled so.
final class RunSettingsTests: XCTestCase {
    private func total(_ report: String) throws -> Double {
        let carbon = try XCTUnwrap((try json(report) as? [String: Any])?["carbon"] as? [String: Any])
        return try XCTUnwrap((carbon["total"] as? [String: Any])?["grams"] as? Double)
    }

    private func pue(_ report: String) throws -> Double {
        let carbon = try XCTUnwrap((try json(report) as? [String: Any])?["carbon"] as? [String: Any])
        return try XCTUnwrap((carbon["pue"] as? [String: Any])?["value"] as? Double)
    }

    /// `--pue 1.5` and `--site none` are the run's; before, `show` fell back to the on-premises default (+56 % for a laptop).
    func testShowReproducesThePUEAndSiteTheRunWasGiven() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let pue = try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--pue", "1.5", "--json", "--", "true"])
        XCTAssertEqual(pue.status, 0, pue.stderr)
        let shownPUE = try CLI.run(["show", "1", "--ledger", ledger, "--json"])
        XCTAssertEqual(try self.pue(shownPUE.stdout), 1.5)
        XCTAssertEqual(try total(shownPUE.stdout), try total(pue.stdout), accuracy: 1e-15)

        let laptop = try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--site", "none", "--json", "--", "true"])
        let shownLaptop = try CLI.run(["show", "2", "--ledger", ledger, "--json"])
        XCTAssertEqual(try self.pue(shownLaptop.stdout), 1)
        XCTAssertEqual(try total(shownLaptop.stdout), try total(laptop.stdout), accuracy: 1e-15)
        XCTAssertFalse(try CLI.run(["show", "2", "--ledger", ledger]).stdout.contains("override"))
    }

    /// A region from WATTPRINT_REGION or the config file is said to come from there, in `run` and in `show`.
    func testTheRegionKeepsWhereItCameFrom() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["run", "--ledger", ledger, "--", "true"], env: ["WATTPRINT_REGION": "DE"])
        XCTAssertTrue(r.stderr.contains("DE (WATTPRINT_REGION)"), r.stderr)
        let shown = try CLI.run(["show", "last", "--ledger", ledger])
        XCTAssertTrue(shown.stdout.contains("DE (WATTPRINT_REGION)"), shown.stdout)
        XCTAssertFalse(shown.stdout.contains("(--region)"))
    }

    /// A region is recorded as the tables name it, however it was typed: `runs` and `show` list FR for `fr` and `France`,
    /// and a cloud region in its own spelling.
    func testARegionIsRecordedAsTheTablesNameIt() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        for typed in ["fr", "France"] {
            XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", typed, "--", "true"]).status, 0)
        }
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "AWS:US-EAST-1", "--", "true"]).status, 0)
        let listed = try CLI.run(["runs", "--ledger", ledger]).stdout
        XCTAssertEqual(listed.components(separatedBy: "  FR  ").count - 1, 2, listed)
        XCTAssertTrue(listed.contains("aws:us-east-1"), listed)
        XCTAssertFalse(listed.contains(" fr ") || listed.contains("France") || listed.contains("AWS:"), listed)
        let unknown = try CLI.run(["run", "--ledger", ledger, "--region", "Atlantis", "--", "true"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown region 'Atlantis'"), unknown.stderr)
    }

    /// A flag given to `show` replaces the recorded setting and says so.
    func testAFlagGivenToShowIsALabelledOverride() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--pue", "1.5", "--", "true"]).status, 0)
        let shown = try CLI.run(["show", "last", "--ledger", ledger, "--pue", "1.2", "--region", "DE"])
        XCTAssertTrue(shown.stdout.contains("override: PUE 1.2 (override; the run recorded 1.5)"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("override: region DE (override; the run recorded FR)"), shown.stdout)
        let json = try CLI.run(["show", "last", "--ledger", ledger, "--pue", "1.2", "--json"])
        XCTAssertEqual(try pue(json.stdout), 1.2)
    }

    /// The hourly series is recorded by name and hash, and the hours the run covered with it: `show` reproduces the
    /// hourly footprint without the file; the hardware's embodied share is the run's too.
    func testHourlyIntensitiesAndHardwareAreReproducedFromTheLedgerAlone() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        var hour = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 3600)
        var csv = "timestamp_utc,gco2e_per_kwh\n"
        let format = ISO8601DateFormatter()
        for g in [300, 310, 320] { csv += "\(format.string(from: hour)),\(g)\n"; hour += 3600 }
        let file = dir.appendingPathComponent("hours.csv")
        try csv.write(to: file, atomically: false, encoding: .utf8)
        let r = try CLI.run([
            "run", "--ledger", ledger, "--region", "US", "--hourly", file.path, "--hardware", "h100", "--count", "2",
            "--covered-share", "0.5", "--json", "--", "sleep", "0.5",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        try FileManager.default.removeItem(at: file)
        let shown = try CLI.run(["show", "last", "--ledger", ledger, "--json"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertEqual(try total(shown.stdout), try total(r.stdout), accuracy: 1e-15)
        let carbon = try XCTUnwrap((try json(shown.stdout) as? [String: Any])?["carbon"] as? [String: Any])
        XCTAssertNotNil(carbon["marketBased"], "the covered share gives a market-based figure")
        XCTAssertEqual((carbon["hardware"] as? [String: Any])?["count"] as? Double, 2)
        let intensity = try XCTUnwrap(
            ((carbon["intensity"] as? [String: Any])?["intensity"] as? [String: Any])?["gramsPerKilowattHour"] as? Double)
        XCTAssertEqual(intensity, 310, accuracy: 10.001, "an hour of the series, not the annual US figure")
    }

    /// Scripts ask for runs before any exist: `[]` and "no runs yet", without creating the ledger.
    func testRunsOnALedgerThatDoesNotExistYetIsEmpty() throws {
        let ledger = try scratchDirectory().appendingPathComponent("none.sqlite").path
        let j = try CLI.run(["runs", "--ledger", ledger, "--json"])
        XCTAssertEqual(j.status, 0, j.stderr)
        XCTAssertEqual((try json(j.stdout) as? [Any])?.count, 0)
        XCTAssertTrue(try CLI.run(["runs", "--ledger", ledger]).stdout.contains("No runs yet"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "looking created nothing")
    }
}
