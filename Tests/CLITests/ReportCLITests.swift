import Foundation
import XCTest

/// `wattprint report` end to end: files written where asked and their paths printed, the host key made once with
/// mode 0600, `verify --report` passing on an untouched report and failing on an edited one, and bad requests refused.
final class ReportCLITests: XCTestCase {
    func testReportIsWrittenSignedAndVerifies() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path, out = dir.appendingPathComponent("Reports").path
        let env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path]
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--tokens", "500", "--", "sleep", "0.3"]).status, 0)
        let r = try CLI.run(["report", "last", "--ledger", ledger, "--output", out], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let paths = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent }, ["run-1.md", "run-1.html", "run-1.json", "run-1.csv"])
        for path in paths { XCTAssertGreaterThan((try? Data(contentsOf: URL(fileURLWithPath: path)).count) ?? 0, 500, path) }
        XCTAssertTrue(r.stderr.contains("created this host's report-signing key"), r.stderr)
        let key = dir.appendingPathComponent("xdg/wattprint/host-key.ed25519").path
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let again = try CLI.run(["report", "1", "--ledger", ledger, "--output", out, "--formats", "json"], env: env)
        XCTAssertFalse(again.stderr.contains("created"), "the key is made once")

        let json = paths[2]
        let verify = try CLI.run(["verify", "--report", json, "--ledger", ledger], env: env)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains("this host's") && verify.stdout.contains("every figure matches"), verify.stdout)
        var text = try String(contentsOfFile: json, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"status\" : \"complete\"", with: "\"status\" : \"completed\"")
        try text.write(toFile: json, atomically: false, encoding: .utf8)
        let edited = try CLI.run(["verify", "--report", json, "--ledger", ledger], env: env)
        XCTAssertNotEqual(edited.status, 0)
        XCTAssertTrue(edited.stderr.contains("edited after signing"), edited.stderr)
        // The error names the edited figure, rebuilt from the raw samples.
        XCTAssertTrue(edited.stderr.contains("the first figure that differs from the ledger's raw samples: runs[0].status"), edited.stderr)
        // A rendering is pointed to the signed JSON beside it.
        let markdown = try CLI.run(["verify", "--report", paths[0], "--ledger", ledger], env: env)
        XCTAssertNotEqual(markdown.status, 0)
        XCTAssertTrue(markdown.stderr.contains("is not the signed report") && markdown.stderr.contains("run-1.json"), markdown.stderr)
    }

    func testAMarkdownOnlyReportIsWrittenWithTheSignedJSONItPointsTo() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path, out = dir.appendingPathComponent("only-md").path
        let env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path]
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--tokens", "500", "--", "sleep", "0.3"]).status, 0)
        let r = try CLI.run(["report", "last", "--ledger", ledger, "--output", out, "--formats", "Markdown,md"], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let paths = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent }, ["run-1.md", "run-1.json"])
        let markdown = try String(contentsOfFile: paths[0], encoding: .utf8)
        XCTAssertTrue(markdown.contains("wattprint verify --report \(out)/run-1.json"), markdown)
        let verify = try CLI.run(["verify", "--report", paths[1], "--ledger", ledger], env: env)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    /// A period report made without --until ends when it was made: runs recorded afterwards do not make it fail.
    func testAPeriodReportStillVerifiesAfterLaterRuns() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path, out = dir.appendingPathComponent("Reports").path
        let env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path]
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--tokens", "100", "--", "sleep", "0.2"]).status, 0)
        let r = try CLI.run(["report", "--since", "2000-01-01", "--ledger", ledger, "--output", out, "--formats", "json"], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(r.stdout.split(separator: "\n").first.map(String.init))
        let request = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])?["request"]
                as? [String: Any])
        XCTAssertNotNil(request["until"], "the end is recorded")
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--tokens", "100", "--", "sleep", "0.2"]).status, 0)
        let verify = try CLI.run(["verify", "--report", json, "--ledger", ledger], env: env)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    func testBadRequestsAreRefused() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path]
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--", "true"]).status, 0)
        for (arguments, words) in [
            (["report", "7"], "run 7 is not in the ledger"),
            (["report", "--since", "1999-01-01", "--until", "1999-02-01"], "no run started between 1999-01-01 and 1999-02-01"),
            (["report", "1", "--formats", "pdf"], "unknown format pdf"),
            (["report", "1", "--compare", "1"], "each make a report of their own: give only one (a run's report: wattprint report 1)"),
            (["report", "1", "--since", "2000-01-01"], "each make a report of their own: give only one"),
            (["report"], "give one of: a run (or last), --compare RUN…, or --since/--until"),
            (["report", "--compare", "1"], "--compare needs two runs or more; for one run, name it alone: wattprint report 1"),
            (["report", "--since", "2026-12-01", "--until", "2026-11-01"], "--since 2026-12-01 is not before --until 2026-11-01"),
            (["report", "--since", "2000-01-01", "--group-by", "colour"], "--group-by takes workload, model, host or region"),
            (["report", "--compare", "1", "1"], "--compare names run 1 twice"),
            (["report", "--compare", "last", "1"], "--compare names run 1 twice (last is run 1)"),
            (["report", "--compare", "1", "first"], "'first' is neither"),
            (["compare", "1", "1"], "run 1 is named twice"),
            (["report", "--since", "2026-13-01"], "'2026-13-01' is not a date; use YYYY-MM-DD, or a time such as"),
            (["report", "--since", "2026-12-01T09:00:00-02:00", "--until", "2026-12-01T10:00:00Z"], "is not before --until"),
            (["offsets", "--since", "someday"], "'someday' is not a date"),
        ] {
            let r = try CLI.run(arguments + ["--ledger", ledger, "--output", dir.path], env: env)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(words), "\(arguments): \(r.stderr)")
        }
        // A date that is no date is a usage error, as a reversed period is.
        let badDate = try CLI.run(["report", "--since", "2026-13-01", "--ledger", ledger, "--output", dir.path], env: env)
        XCTAssertEqual(badDate.status, 64, badDate.stderr)
        // Two hours ago at +12:00 reads later than the run's UTC start as text, and is earlier in time: the run is in.
        let east = ISO8601DateFormatter()
        east.timeZone = TimeZone(secondsFromGMT: 12 * 3600)
        let since = east.string(from: Date().addingTimeInterval(-7200))
        XCTAssertTrue(since.hasSuffix("+12:00"), since)
        let offset = try CLI.run(["report", "--since", since, "--ledger", ledger, "--output", dir.path, "--formats", "json"], env: env)
        XCTAssertEqual(offset.status, 0, offset.stderr)
        XCTAssertEqual(try CLI.run(["report", "--since", "2026-11-30", "--until", "2026-11-30T00:00:00Z"]).status, 64)
        // `last` names the ledger's last run in a comparison too.
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--", "true"]).status, 0)
        let both = try CLI.run(
            ["report", "--compare", "1", "last", "--ledger", ledger, "--output", dir.path, "--formats", "json"], env: env)
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("compare-1-2.json").path), both.stdout)
        let missing = try CLI.run(["verify", "--report", dir.appendingPathComponent("none.json").path, "--ledger", ledger], env: env)
        XCTAssertTrue(missing.stderr.contains("cannot read"), missing.stderr)
    }
}
