import Foundation
import GRDB
import XCTest

final class BadInputTests: XCTestCase {
    /// `--region "$REGION"` with the variable unset: refused before anything is recorded, not taken for the world average.
    func testAnEmptyRegionIsRefused() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        for region in ["", "  "] {
            let r = try CLI.run(["run", "--ledger", ledger, "--region", region, "--", "true"])
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains("--region is empty (an unset shell variable?)"), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "nothing ran")
    }

    /// A negative number after an option reaches the option's own check, which names the problem, instead of reading as
    /// a missing value; a wrapped command's arguments after `--` stay as they were.
    func testANegativeValueIsNamedNotTakenForAMissingOne() throws {
        for (arguments, words) in [
            (["--energy", "-5kWh"], "energy '-5kWh' is negative"),
            (["--energy", "5kWh", "--pue", "-1"], "PUE -1.0 is not valid"),
            (["--energy", "5kWh", "--intensity", "-.5"], "--intensity -0.5 is not a valid intensity"),
        ] {
            let r = try CLI.run(["estimate"] + arguments + ["--region", "FR"])
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            XCTAssertTrue(r.stderr.contains(words) && !r.stderr.contains("Missing value"), "\(arguments): \(r.stderr)")
        }
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--", "echo", "--x", "-5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("--x -5\n"), r.stdout)
    }

    /// A negative run id reaches the command's own check, which says ids count from 1, instead of reading as an unknown
    /// option or a missing argument.
    func testANegativeRunIdIsNamed() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        for arguments in [
            ["show", "-1"], ["show", "-1", "--json"], ["show", "--json", "-1"], ["verify", "3", "-2"], ["verify", "--json", "-2"],
        ] {
            let r = try CLI.run(arguments + ["--ledger", ledger])
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("is not a run id: ids count from 1"), "\(arguments): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "nothing was opened")
        // Elsewhere a lone negative number stays where it was: `run` does not take it for a command to execute.
        let run = try CLI.run(["run", "-5", "--ledger", ledger])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "nothing ran: \(run.stderr)")
    }

    /// `compare` of recorded runs cannot change their region: the flag is refused with where to look instead.
    func testARegionForRecordedRunsInCompareIsRefused() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        for items in [["last"], ["1", "2"]] {
            let r = try CLI.run(["compare"] + items + ["--region", "PL", "--ledger", ledger])
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(
                r.stderr.contains("--region applies to specs benchmarked here") && r.stderr.contains("wattprint show N --region R"),
                r.stderr)
        }
    }

    /// --output that cannot be written says why in words and what to pass instead: a folder where a file goes, a missing
    /// folder, a file where `report`'s folder goes.
    func testOutputPathsThatCannotBeWrittenAreExplained() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path, file = dir.appendingPathComponent("afile").path
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--", "true"]).status, 0)
        for (arguments, words) in [
            (["runs", "--output", dir.path], "is a folder; pass a file path in it"),
            (["runs", "--output", dir.appendingPathComponent("none/x.txt").path], "for --output does not exist; create it"),
            (["report", "last", "--output", file], "is a file; a report is several files, so --output names a folder"),
        ] {
            let r = try CLI.run(arguments + ["--ledger", ledger], env: ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path])
            XCTAssertEqual(r.status, 1, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words) && !r.stderr.contains("NSCocoaErrorDomain"), "\(arguments): \(r.stderr)")
        }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "x", "nothing overwritten")
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    /// A report's folder option given a file-like name (`--output report.md`) is refused before anything runs, naming
    /// a folder to pass instead; an existing folder of that name is still used.
    func testAReportFolderNamedLikeAFileIsRefused() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path, env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path]
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--", "true"]).status, 0)
        let file = dir.appendingPathComponent("report.md").path
        let report = try CLI.run(["report", "last", "--output", file, "--ledger", ledger], env: env)
        XCTAssertEqual(report.status, 64, report.stderr)
        XCTAssertTrue(
            report.stderr.contains("--output \(file) looks like a file name")
                && report.stderr.contains("e.g. --output \(dir.path)/reports"), report.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file), "no folder named like a file")
        let bench = try CLI.run(["bench", "small", "--reports", "out.json", "--ledger", ledger], env: env)
        XCTAssertEqual(bench.status, 64, bench.stderr)
        XCTAssertTrue(bench.stderr.contains("--reports out.json looks like a file name"), bench.stderr)
        try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: false)
        XCTAssertEqual(
            try CLI.run(["report", "last", "--output", file, "--ledger", ledger], env: env).status, 0, "an existing folder is used")
    }

    func testALedgerPathThatIsATextFileIsRefusedAndKept() throws {
        let file = try scratchDirectory().appendingPathComponent("notes.txt")
        try Data("my notes\n".utf8).write(to: file)
        let r = try CLI.run(["run", "--ledger", file.path, "--", "true"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is not an SQLite database"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--ledger"))
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "my notes\n")
        XCTAssertNotEqual(try CLI.run(["runs", "--ledger", file.path]).status, 0)
    }

    func testAnUnwritableLedgerLocationIsAClearError() throws {
        let file = try scratchDirectory().appendingPathComponent("plain-file")
        try Data().write(to: file)
        let r = try CLI.run(["run", "--ledger", file.appendingPathComponent("ledger.sqlite").path, "--", "true"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("cannot open the ledger"), r.stderr)
    }

    func testALedgerFromANewerWattprintIsRefusedAndKept() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        try CLI.run(["run", "--ledger", ledger, "--", "true"])
        let q = try DatabaseQueue(path: ledger)
        try q.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v2: future')") }
        try q.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger))
        let r = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("newer wattprint"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ledger)), before)
    }

    func testACommandThatCannotStartExits127AndIsRecorded() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["run", "--ledger", ledger, "--", "/nonexistent/command"])
        XCTAssertEqual(r.status, 127)
        XCTAssertTrue(r.stderr.contains("cannot start /nonexistent/command"), r.stderr)
        let runs = try json(try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout) as! [[String: Any]]
        XCTAssertEqual(runs.first?["exitCode"] as? Int, 127)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testMissingCommandAndMissingLedgerAreExplained() throws {
        let r = try CLI.run(["run"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("after --"), r.stderr)
        let none = try scratchDirectory().appendingPathComponent("none.sqlite").path
        // `runs` lists none (RunSettingsTests); `show` and `verify` have nothing to show or check and say so.
        for command in [["show", "last"], ["verify"]] {
            let r = try CLI.run(command + ["--ledger", none])
            XCTAssertNotEqual(r.status, 0, "\(command)")
            XCTAssertTrue(r.stderr.contains("no ledger at"), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: none))
        // A ledger truncated to nothing is not "no runs yet", and looking does not give it a schema.
        XCTAssertTrue(FileManager.default.createFile(atPath: none, contents: Data()))
        for command in [["runs"], ["show", "last"], ["verify"], ["report", "last"]] {
            let r = try CLI.run(command + ["--ledger", none])
            XCTAssertNotEqual(r.status, 0, "\(command)")
            XCTAssertTrue(r.stderr.contains("is empty (0 bytes): it holds no ledger"), "\(command): \(r.stderr)")
        }
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: none)[.size] as? NSNumber)?.intValue, 0)
    }

    func testATruncatedLedgerIsReportedDamagedAndKept() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite")
        for _ in 0..<3 { try CLI.run(["run", "--ledger", ledger.path, "--", "true"]) }
        let q = try DatabaseQueue(path: ledger.path)
        try q.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try q.close()
        let whole = try Data(contentsOf: ledger)
        try whole.prefix(whole.count / 2).write(to: ledger)
        let before = try Data(contentsOf: ledger)
        let r = try CLI.run(["verify", "--ledger", ledger.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("damaged") || r.stderr.contains("corrupt"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: ledger), before, "nothing overwritten")
    }
}
