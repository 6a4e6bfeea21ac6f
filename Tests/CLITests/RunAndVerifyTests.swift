import Foundation
import GRDB
import XCTest
import Ledger

final class RunAndVerifyTests: XCTestCase {
    func testHelpShowsExamples() throws {
        for cmd in [
            "run", "runs", "verify", "sensors", "show", "grid", "grid show", "grid list", "estimate",
            "model", "model info", "model eval", "model generate", "model train", "model bench",
        ] {
            let r = try CLI.run(cmd.split(separator: " ").map(String.init) + ["--help"])
            XCTAssertEqual(r.status, 0)
            let examples = r.stdout.split(separator: "\n").filter {
                !$0.contains("USAGE") && $0.drop { $0 == " " }.hasPrefix("wattprint \(cmd) ")
            }
            XCTAssertFalse(examples.isEmpty, "\(cmd) help lacks an example:\n\(r.stdout)")
        }
    }

    func testRunRecordsTheCommandAndVerifyPasses() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "run", "--ledger", ledger, "--region", "FR", "--interval", "0.05", "--json", "--", "sh", "-c", "echo hello; exit 3",
        ])
        XCTAssertEqual(r.status, 3, "wattprint exits with the command's status")
        XCTAssertTrue(r.stdout.hasPrefix("hello\n"))
        XCTAssertTrue(r.stderr.contains("run 1"))
        let footprint = try XCTUnwrap(try json(String(r.stdout.dropFirst("hello\n".count))) as? [String: Any])
        let summary = try XCTUnwrap(footprint["energy"] as? [String: Any])
        XCTAssertEqual(summary["region"] as? String, "FR")
        XCTAssertGreaterThan(try XCTUnwrap(summary["totalJoules"] as? Double), 0)
        let carbon = try XCTUnwrap(footprint["carbon"] as? [String: Any])
        let intensity = try XCTUnwrap(carbon["intensity"] as? [String: Any])
        XCTAssertEqual(intensity["zone"] as? String, "FR")

        let runs = try CLI.run(["runs", "--ledger", ledger, "--json"])
        let rows = try json(runs.stdout) as! [[String: Any]]
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["status"] as? String, "complete")
        XCTAssertEqual(rows[0]["exitCode"] as? Int, 3)

        let v = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.contains("run 1: ok"))
        XCTAssertTrue(v.stdout.contains("= recomputed from raw samples"), v.stdout)

        let show = try CLI.run(["show", "1", "--ledger", ledger, "--json"])
        let shown = try XCTUnwrap((try json(show.stdout) as? [String: Any])?["energy"] as? [String: Any])
        XCTAssertEqual(shown["totalJoules"] as? Double, summary["totalJoules"] as? Double, "recomputed from raw samples, the same figure")
        let last = try XCTUnwrap(
            (try json(try CLI.run(["show", "last", "--ledger", ledger, "--json"]).stdout) as? [String: Any])?["energy"] as? [String: Any])
        XCTAssertEqual(last["runID"] as? Int, 1)
        XCTAssertNotEqual(try CLI.run(["show", "first", "--ledger", ledger]).status, 0)
    }

    /// Σ energy of each interval × its hour's intensity: with one hour at 100 g/kWh and no PUE, emissions are
    /// exactly kWh × 100; a series without the run's hour falls back to the annual figure and counts that hour.
    func testAnHourlySeriesIsAppliedIntervalByInterval() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--", "sleep", "0.3"])
        let formatter = ISO8601DateFormatter()
        var hours = ""
        for offset in [-3600.0, 0, 3600] {
            let hour = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 + offset)
            hours += "\(formatter.string(from: hour)),100\n"
        }
        let series = dir.appendingPathComponent("hourly.csv")
        try ("timestamp_utc,gco2e_per_kwh\n" + hours).write(to: series, atomically: false, encoding: .utf8)
        let r = try CLI.run(["show", "1", "--ledger", ledger, "--site", "none", "--hourly", series.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let f = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let joules = try XCTUnwrap((f["energy"] as? [String: Any])?["totalJoules"] as? Double)
        let grams = try XCTUnwrap(((f["carbon"] as? [String: Any])?["locationBased"] as? [String: Any])?["grams"] as? Double)
        XCTAssertEqual(grams, joules / 3.6e6 * 100, accuracy: 1e-12)
        XCTAssertEqual((f["hourly"] as? [String: Any])?["hoursMissing"] as? Int, 0)

        try "timestamp_utc,gco2e_per_kwh\n2001-01-01T00:00:00Z,100\n".write(to: series, atomically: false, encoding: .utf8)
        let fallback = try XCTUnwrap(
            try json(try CLI.run(["show", "1", "--ledger", ledger, "--site", "none", "--hourly", series.path, "--json"]).stdout)
                as? [String: Any])
        XCTAssertGreaterThanOrEqual((fallback["hourly"] as? [String: Any])?["hoursMissing"] as? Int ?? 0, 1)

        try "timestamp_utc,gco2e_per_kwh\n2001-01-01T01:00:00Z,100\n2001-01-01T00:00:00Z,90\n".write(
            to: series, atomically: false, encoding: .utf8)
        let unsorted = try CLI.run(["show", "1", "--ledger", ledger, "--hourly", series.path])
        XCTAssertNotEqual(unsorted.status, 0)
        XCTAssertTrue(unsorted.stderr.contains("line 3"), unsorted.stderr)
    }

    func testARegionTypoIsRefusedBeforeAnythingRuns() throws {
        let dir = try scratchDirectory()
        let marker = dir.appendingPathComponent("ran").path
        let r = try CLI.run(["run", "--ledger", dir.appendingPathComponent("l.sqlite").path, "--region", "fr-typo", "--", "touch", marker])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown region"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the command must not run when its footprint could not be computed")
    }

    /// A multi-line script's command keeps to one line of `runs` and of `show`'s header.
    func testAMultiLineCommandReadsOnOneLine() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        try CLI.run(["run", "--ledger", ledger, "--", "sh", "-c", "true\ntrue"])
        let runs = try CLI.run(["runs", "--ledger", ledger])
        XCTAssertEqual(runs.stdout.split(separator: "\n").count, 2, "a header and one row: \(runs.stdout)")
        XCTAssertTrue(runs.stdout.contains("sh -c true ⏎ true"), runs.stdout)
        XCTAssertTrue(try CLI.run(["show", "1", "--ledger", ledger]).stdout.hasPrefix("wattprint: run 1 — sh -c true ⏎ true\n"))
    }

    func testTamperingWithOneSampleFailsVerifyNamingRunAndBatch() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        try CLI.run(["run", "--ledger", ledger, "--", "true"])
        try CLI.run(["run", "--ledger", ledger, "--", "true"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "sqlite3", ledger,
            "UPDATE sample SET value = value + 1 WHERE run_id = 2 AND batch_seq = 0 AND row_seq = (SELECT MIN(row_seq) FROM sample WHERE run_id = 2);",
        ]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let v = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(v.status, 1)
        XCTAssertTrue(v.stdout.contains("run 1: ok"))
        XCTAssertTrue(v.stdout.contains("run 2: MISMATCH at batch 0 row"), v.stdout)
        let j = try json(try CLI.run(["verify", "--ledger", ledger, "--json", "2"]).stdout) as! [[String: Any]]
        XCTAssertEqual(j[0]["batch"] as? Int, 0)
        XCTAssertEqual(j[0]["table"] as? String, "sample")
        // `report` will not sign figures made from the altered run; `show` shows them with a warning; the intact run
        // still reports.
        let env = ["XDG_DATA_HOME": URL(fileURLWithPath: ledger).deletingLastPathComponent().appendingPathComponent("xdg").path]
        let output = URL(fileURLWithPath: ledger).deletingLastPathComponent().appendingPathComponent("reports").path
        let refused = try CLI.run(["report", "2", "--ledger", ledger, "--output", output, "--formats", "json"], env: env)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("run 2 of \(ledger) does not verify against its hash chain (batch 0, row "), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("a report would sign figures the ledger no longer vouches for"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/run-2.json"))
        let shown = try CLI.run(["show", "2", "--ledger", ledger], env: env)
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stderr.contains("WARNING: run 2 of \(ledger) does not verify against its hash chain"), shown.stderr)
        XCTAssertEqual(try CLI.run(["report", "1", "--ledger", ledger, "--output", output, "--formats", "json"], env: env).status, 0)
        XCTAssertFalse(try CLI.run(["show", "1", "--ledger", ledger], env: env).stderr.contains("WARNING"))
    }

    /// A recorder killed with SIGKILL mid-run: the ledger opens, earlier batches verify, the run reads as interrupted.
    func testSIGKILLMidRunLeavesAnInterruptedRunWhoseBatchesVerify() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let (p, _, _) = try CLI.start(["run", "--ledger", ledger, "--interval", "0.05", "--", "sleep", "30"])
        var batches = 0
        let deadline = Date().addingTimeInterval(20)
        while batches < 2 && Date() < deadline {
            usleep(200_000)
            if let l = try? Ledger(path: ledger, create: false), let run = try? l.runs().first {
                batches = (try? l.batchCount(run: run.id!)) ?? 0
            }
        }
        XCTAssertGreaterThanOrEqual(batches, 2, "the recorder flushes batches while the command runs")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // The orphaned command is named by the run's process-tree channel.
        if let l = try? Ledger(path: ledger, create: false),
            let tree = try l.channels(run: 1).first(where: { $0.device.hasPrefix("process-tree-") }),
            let pid = Int32(tree.device.dropFirst("process-tree-".count))
        {
            kill(pid, SIGKILL)
        }

        let runs = try json(try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout) as! [[String: Any]]
        XCTAssertEqual(runs[0]["status"] as? String, "interrupted")
        let v = try CLI.run(["verify", "--ledger", ledger, "--json"])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        let row = (try json(v.stdout) as! [[String: Any]])[0]
        XCTAssertEqual(row["result"] as? String, "interrupted")
        XCTAssertGreaterThanOrEqual(row["batches"] as! Int, batches)
        // Its chain holds up to its last batch: it is reported (and shown) like any intact run, and the report verifies.
        let dir = URL(fileURLWithPath: ledger).deletingLastPathComponent()
        let env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path]
        let report = try CLI.run(
            ["report", "1", "--ledger", ledger, "--output", dir.appendingPathComponent("r").path, "--formats", "json"], env: env)
        XCTAssertEqual(report.status, 0, report.stderr)
        let checked = try CLI.run(
            ["verify", "--report", dir.appendingPathComponent("r/run-1.json").path, "--ledger", ledger], env: env)
        XCTAssertEqual(checked.status, 0, checked.stdout + checked.stderr)
        XCTAssertFalse(try CLI.run(["show", "1", "--ledger", ledger], env: env).stderr.contains("WARNING"))
        // The next run marks it interrupted for good and records normally.
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--", "true"]).status, 0)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    /// Ctrl-C at a terminal signals the whole foreground process group: the command must get it and end (wattprint
    /// ignores it and closes the run); SIGTERM sent to wattprint alone is passed on to the command.
    func testCtrlCAndSIGTERMReachTheCommandAndTheRunStillCloses() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        for (signal, toGroup) in [(SIGINT, true), (SIGTERM, false)] {
            let (p, _, _) = try CLI.start(["run", "--ledger", ledger, "--", "sleep", "30"])
            usleep(1_500_000)
            kill(toGroup ? -p.processIdentifier : p.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(50_000) }
            XCTAssertFalse(p.isRunning, "signal \(signal) did not end the command")
            if p.isRunning { kill(-p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 128 + signal)
        }
        let runs = try json(try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout) as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["status"] as? String }, ["complete", "complete"])
        XCTAssertEqual(runs.map { $0["exitCode"] as? Int }, [Int(128 + SIGINT), Int(128 + SIGTERM)])
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testTwoProcessesRecordingIntoOneLedgerLoseNoRows() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let a = try CLI.start(["run", "--ledger", ledger, "--interval", "0.01", "--", "sleep", "2.5"])
        let b = try CLI.start(["run", "--ledger", ledger, "--interval", "0.01", "--", "sleep", "2.5"])
        for (p, _, _) in [a, b] { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        let l = try Ledger(path: ledger, create: false)
        let runs = try l.runs()
        XCTAssertEqual(runs.count, 2)
        for run in runs {
            let v = try l.verify(run: run.id!)
            XCTAssertEqual(v.outcome, .ok)
            XCTAssertEqual(try l.samples(run: run.id!).count + l.events(run: run.id!).count + l.channels(run: run.id!).count, v.rows)
            // Estimates refresh at 1 Hz (EstimationMeter.period) plus the forced start and stop readings: about 4
            // readings of each of 4 channels in 2.5 s; the bound is loose so a loaded machine cannot fail it.
            XCTAssertGreaterThanOrEqual(try l.samples(run: run.id!).count, 8)
        }
    }
}
