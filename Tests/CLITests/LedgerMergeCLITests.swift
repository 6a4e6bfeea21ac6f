import Foundation
import XCTest

/// `wattprint ledger merge` end to end: runs recorded into two ledgers, merged, verified, reported over a period;
/// a tampered source refused with the target untouched.
final class LedgerMergeCLITests: XCTestCase {
    func testMergedLedgerVerifiesAndReportsEveryRun() throws {
        let dir = try scratchDirectory()
        let a = dir.appendingPathComponent("a.sqlite").path, b = dir.appendingPathComponent("b.sqlite").path
        let fleet = dir.appendingPathComponent("fleet.sqlite").path
        for (ledger, count) in [(a, 2), (b, 1)] {
            for _ in 0..<count {
                let r = try CLI.run(["run", "--region", "FR", "--ledger", ledger, "--no-cgroup", "--", "true"])
                XCTAssertEqual(r.status, 0, r.stderr)
            }
        }
        let merge = try CLI.run(["ledger", "merge", a, b, "--into", fleet])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stdout.contains("\(a): 2 runs") && merge.stdout.contains("runs 1→1, 2→2"), merge.stdout)
        XCTAssertTrue(merge.stdout.contains("\(b): 1 run from") && merge.stdout.contains("runs 1→3"), merge.stdout)
        let verify = try CLI.run(["verify", "--ledger", fleet])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        let out = dir.appendingPathComponent("reports").path
        let report = try CLI.run([
            "report", "--since", "2000-01-01", "--group-by", "host", "--ledger", fleet, "--output", out, "--formats", "json",
        ])
        XCTAssertEqual(report.status, 0, report.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".json") }
        let json = try String(contentsOfFile: out + "/" + files[0], encoding: .utf8)
        XCTAssertTrue(json.contains("\"runCount\" : 3") || json.contains("\"runs\" : 3") || json.contains("\"runCount\":3"), json)

        let again = try CLI.run(["ledger", "merge", a, "--into", fleet])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("merged before"), again.stderr)
    }

    func testTamperedSourceIsRefusedAndTheTargetUntouched() throws {
        let dir = try scratchDirectory()
        let a = dir.appendingPathComponent("a.sqlite").path, fleet = dir.appendingPathComponent("fleet.sqlite").path
        XCTAssertEqual(try CLI.run(["run", "--region", "FR", "--ledger", a, "--no-cgroup", "--", "true"]).status, 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", a, "UPDATE sample SET value = value + 1"]
        try p.run()
        p.waitUntilExit()
        let merge = try CLI.run(["ledger", "merge", a, "--into", fleet])
        XCTAssertEqual(merge.status, 1)
        XCTAssertTrue(merge.stderr.contains("fails verification") && merge.stderr.contains("nothing was merged"), merge.stderr)
        let runs = try CLI.run(["runs", "--ledger", fleet])
        XCTAssertFalse(runs.stdout.contains("true"), runs.stdout)
        let empty = dir.appendingPathComponent("empty.sqlite").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        for (source, problem) in [(empty, "is an empty file, not a ledger"), (dir.path, "is a directory, not a ledger")] {
            let r = try CLI.run(["ledger", "merge", source, "--into", fleet])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains(problem), r.stderr)
        }
        let missing = try CLI.run(["ledger", "merge", dir.appendingPathComponent("nope.sqlite").path, "--into", fleet])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("does not exist"), missing.stderr)
    }

    /// A run whose recorder was killed stays marked running until `ledger mark-interrupted` on its host; then it merges.
    func testAKilledRunIsMarkedInterruptedThenMerges() throws {
        let dir = try scratchDirectory()
        let a = dir.appendingPathComponent("a.sqlite").path, fleet = dir.appendingPathComponent("fleet.sqlite").path
        let (p, _, _) = try CLI.start(["run", "--region", "FR", "--ledger", a, "--no-cgroup", "--", "sleep", "3"])
        Thread.sleep(forTimeInterval: 1)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let refused = try CLI.run(["ledger", "merge", a, "--into", fleet])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("marked running") && refused.stderr.contains("ledger mark-interrupted"), refused.stderr)
        let mark = try CLI.run(["ledger", "mark-interrupted", "--ledger", a])
        XCTAssertEqual(mark.status, 0, mark.stderr)
        XCTAssertTrue(mark.stdout.contains("marked interrupted: run 1"), mark.stdout)
        let merged = try CLI.run(["ledger", "merge", a, "--into", fleet])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", fleet]).status, 0)
    }
}
