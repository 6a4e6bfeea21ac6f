import Crypto
import Foundation
import XCTest

/// The engine's own work is recorded like any run: corpus identity, steps, tokens, and J/token.
final class ModelCLITests: XCTestCase {
    func testTrainingRecordsTheCorpusHashStepsAndTokens() throws {
        let dir = try scratchDirectory()
        let corpus = dir.appendingPathComponent("corpus.txt")
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60)
        try text.write(to: corpus, atomically: false, encoding: .utf8)
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "train", "--corpus", corpus.path, "--layers", "1", "--width", "32", "--heads", "2", "--seq", "16",
            "--batch", "2", "--steps", "3", "--ledger", ledger, "--region", "FR", "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let expected = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(report["corpusSHA256"] as? String, expected)
        let runID = try XCTUnwrap(report["runID"] as? Int)
        let show = try XCTUnwrap(try json(try CLI.run(["show", "\(runID)", "--ledger", ledger, "--json"]).stdout) as? [String: Any])
        XCTAssertEqual(show["tokens"] as? Double, 3 * 2 * 16, "three steps of B×T = 2×16 tokens")
        XCTAssertGreaterThan(show["joulesPerToken"] as? Double ?? 0, 0)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testBenchRecordsItsTimedStepsAsAMeasurementWindow() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "bench", "--layers", "1", "--width", "64", "--heads", "1", "--vocab", "256", "--context", "32",
            "--seq", "16", "--batch", "2", "--steps", "2", "--ledger", ledger, "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let record = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let energy = try XCTUnwrap(record["energy"] as? [String: Any])
        XCTAssertEqual(energy["tokens"] as? Int, 2 * 2 * 16)
        XCTAssertNotNil((energy["window"] as? [String: Any])?["totalJoules"])
        let bench = try XCTUnwrap(record["bench"] as? [String: Any])
        XCTAssertGreaterThan(bench["modelFLOPsUtilization"] as? Double ?? 0, 0)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    /// OpenBLAS is opened by the engine on first use, not linked: with the library hidden (a private mount
    /// namespace binds /dev/null over it), measuring still works and a model command says what to install.
    func testOpenBLASIsNeededOnlyByTheEngineAndItsAbsenceIsNamed() throws {
        try XCTSkipUnless(geteuid() == 0, "hiding a system library in a private mount namespace needs root (CI runs as root)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "unshare (util-linux) is not installed")
        let library = URL(fileURLWithPath: "/usr/lib/x86_64-linux-gnu/libopenblas.so.0").resolvingSymlinksInPath().path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: library), "OpenBLAS is not at the Debian path here")
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let script =
            "mount --bind /dev/null \(library) || { echo WATTPRINT-MOUNT-REFUSED >&2; exit 99; }\n"
            + "\"$1\" sensors --json > /dev/null || exit 10\n"
            + "\"$1\" run --ledger \(ledger) --region FR -- true 2> /dev/null || exit 11\n"
            + "exec \"$1\" model bench --layers 1 --width 64 --heads 1 --vocab 256 --context 32 --seq 16 --batch 2 --steps 1 --ledger \(ledger) --region FR\n"
        let r = try CLI.run(["-m", "sh", "-c", script, "sh", CLI.binary.path], executable: URL(fileURLWithPath: "/usr/bin/unshare"))
        if r.stderr.contains("WATTPRINT-MOUNT-REFUSED") { throw XCTSkip("a private mount namespace was refused here: \(r.stderr)") }
        XCTAssertNotEqual(r.status, 10, "sensors needs no OpenBLAS")
        XCTAssertNotEqual(r.status, 11, "run needs no OpenBLAS")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("OpenBLAS could not be loaded") && r.stderr.contains("apt install libopenblas0"), r.stderr)
        let runs = try XCTUnwrap(try json(try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout) as? [[String: Any]])
        XCTAssertEqual(runs.last?["status"] as? String, "complete", "the failed bench is a closed run")
        XCTAssertEqual(runs.last?["exitCode"] as? Int, 1)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }
}
