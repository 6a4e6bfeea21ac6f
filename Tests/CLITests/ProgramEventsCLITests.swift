import Foundation
import XCTest

/// A program measured with `wattprint run` reports its phases and tokens through $WATTPRINT_EVENTS: J/token per phase
/// comes out of `show`, a malformed line is counted and kept without losing anything else, and `--tokens` serves a
/// program that cannot write.
final class ProgramEventsCLITests: XCTestCase {
    func testPythonChildReportsPhasesAndTokens() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 is not installed")
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let script = dir.appendingPathComponent("child.py")
        try """
        import json, os, time
        events = open(os.environ["WATTPRINT_EVENTS"], "a", buffering=1)
        def say(**e): events.write(json.dumps(e) + "\\n")
        def busy(seconds):
            end = time.time() + seconds
            while time.time() < end: pass
        say(phase="prefill", event="start"); busy(0.4); say(tokens=100, phase="prefill"); say(phase="prefill", event="end")
        say(phase="decode", event="start"); busy(0.6); say(tokens=300, phase="decode"); say(phase="decode", event="end")
        events.write("not json\\n")
        say(step=1, loss=2.31)
        """.write(to: script, atomically: false, encoding: .utf8)
        let r = try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--", "/usr/bin/python3", script.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stderr.contains("1 line of $WATTPRINT_EVENTS could not be read") && r.stderr.contains("line 7: not a JSON object"),
            r.stderr)
        XCTAssertTrue(r.stderr.contains("phase prefill: 1 window,") && r.stderr.contains("100 tokens"), r.stderr)
        // Each phase's grams per token: its J/token at the run's grams per joule (one intensity, no embodied share).
        let prefillLine = try XCTUnwrap(r.stderr.split(separator: "\n").first { $0.contains("phase prefill:") })
        XCTAssertTrue(prefillLine.contains("g CO2e/token"), String(prefillLine))
        let show = try XCTUnwrap(try json(try CLI.run(["show", "last", "--ledger", ledger, "--json"]).stdout) as? [String: Any])
        let phases = try XCTUnwrap(show["phases"] as? [[String: Any]])
        XCTAssertEqual(phases.map { $0["name"] as? String }, ["prefill", "decode"])
        XCTAssertEqual(phases.map { $0["tokens"] as? Double }, [100, 300])
        let seconds = phases.map { $0["seconds"] as? Double ?? 0 }
        XCTAssertEqual(seconds[0], 0.4, accuracy: 0.15, "the prefill window is the program's 0.4 s, edges read within 50 ms")
        XCTAssertEqual(seconds[1], 0.6, accuracy: 0.15)
        let joules = phases.map { $0["joules"] as? Double ?? 0 }
        XCTAssertTrue(joules.allSatisfy { $0 > 0 })
        XCTAssertLessThanOrEqual(joules.reduce(0, +), (show["energy"] as? [String: Any])?["totalJoules"] as? Double ?? 0)
        XCTAssertEqual(show["tokens"] as? Double, 400, "the run's tokens are the program's")
        // `show` in text names each bad line's problem and sums up the steps.
        let text = try CLI.run(["show", "last", "--ledger", ledger]).stdout
        XCTAssertTrue(text.contains("  note:   line 7: not a JSON object: not json"), text)
        XCTAssertTrue(text.contains("  1 step recorded (1–1), loss 2.31 → 2.31 (lowest 2.31)"), text)
        XCTAssertTrue(text.contains(" tokens/s)"), text)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testTokensFlagForAProgramThatCannotWrite() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--tokens", "5000", "--", "sleep", "0.3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("5000 tokens"), r.stderr)
        let bad = try CLI.run(["run", "--ledger", ledger, "--tokens=-3", "--", "true"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--tokens must be a count of 0 or more"), bad.stderr)
    }
}
