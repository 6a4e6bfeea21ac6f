import Foundation
import XCTest

/// `wattprint bench` end to end on the shipped tiny suite: recorded, summarised, verifiable; and bad input refused
/// before anything is recorded.
final class BenchCLITests: XCTestCase {
    static let workloads = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Workloads").path

    func testTinySuiteIsMeasuredRecordedAndVerifies() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/games/fortunes"), "Debian's fortunes package is not installed")
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let r = try CLI.run(
            [
                "bench", "tiny", "--workloads-directory", Self.workloads, "--repeats", "2", "--idle", "0.3", "--findings", "predict",
                "--ledger", ledger, "--region", "FR", "--json", "--reports", dir.appendingPathComponent("Reports").path,
            ], env: ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("report written: ") && r.stderr.contains("bench-run-1.html"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("Reports/bench-run-1.json").path))
        let record = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        let analysis = try XCTUnwrap(record["analysis"] as? [String: Any])
        let workloads = try XCTUnwrap(analysis["workloads"] as? [[String: Any]])
        XCTAssertEqual(workloads.map { $0["name"] as? String }, ["tiny-gpt2", "tiny-llama", "tiny-moe"])
        for w in workloads {
            let phases = try XCTUnwrap(w["phases"] as? [[String: Any]])
            XCTAssertEqual(phases.map { $0["phase"] as? String }, ["train", "prefill", "decode"])
            for p in phases {
                XCTAssertGreaterThan(((p["joulesPerToken"] as? [String: Any])?["median"] as? Double) ?? 0, 0)
                XCTAssertNotNil(p["mfuFMA"], "MFU against the FMA peak")
                XCTAssertNotNil((p["carbon"] as? [String: Any])?["sciGramsPerToken"])
            }
            XCTAssertLessThanOrEqual(w["inferenceClosure"] as? Double ?? 1, 0.005)
        }
        let peaks = try XCTUnwrap(analysis["peaks"] as? [String: Any])
        XCTAssertGreaterThan(peaks["fmaGFLOPs"] as? Double ?? 0, 0)
        XCTAssertNotNil(peaks["vectorISA"])
        let verify = try CLI.run(["verify", "--ledger", ledger])
        XCTAssertEqual(verify.status, 0, verify.stdout)
        XCTAssertTrue(verify.stdout.contains("benchmark summary = recomputed"), verify.stdout)
        let show = try CLI.run(["show", "last", "--ledger", ledger])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("phase tiny-llama decode: 4 windows"), show.stdout)
        XCTAssertEqual((record["comparison"] as? [String: Any])?["reference"] as? String, "small-gpt2")
        let compare = try CLI.run(["compare", "last", "--ledger", ledger, "--target-loss", "50"])
        XCTAssertEqual(compare.status, 0, compare.stderr)
        XCTAssertTrue(compare.stdout.contains("decode:") && compare.stdout.contains("tiny-moe"), compare.stdout)
        XCTAssertTrue(compare.stdout.contains("has no small-gpt2 to grade against"), compare.stdout)
        // The quality table: each row's energy to the target sits under its own header, after the loss.
        func cells(_ line: Substring) -> [String] {
            line.replacingOccurrences(of: #" {2,}"#, with: "\t", options: .regularExpression).split(separator: "\t").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
        let quality = compare.stdout.components(separatedBy: "quality:\n")[1].split(separator: "\n").prefix(4)
        let header = cells(try XCTUnwrap(quality.first))
        let column = try XCTUnwrap(header.firstIndex { $0.hasPrefix("J to loss") })
        XCTAssertEqual(header.firstIndex(of: "validation loss"), column - 1, "\(header)")
        for line in quality.dropFirst() where line.contains("tiny-") {
            let row = cells(line)
            XCTAssertTrue(row[column].hasSuffix(" J") || row[column].hasSuffix(" J *") || row[column] == "not reached", "\(header) \(row)")
        }
        let notBench = try CLI.run(["compare", "999", "--ledger", ledger])
        XCTAssertNotEqual(notBench.status, 0)
    }

    func testBadSpecsAreRefusedBeforeAnythingIsRecorded() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let spec = dir.appendingPathComponent("bad.json")
        try
            #"{"schema": 1, "name": "x", "model": {"architecture": "gpt3", "layers": 1, "width": 32}, "data": {"corpus": "c", "tokenizer": "byte"}, "phases": {}}"#
            .write(to: spec, atomically: false, encoding: .utf8)
        for (arguments, words) in [
            ([spec.path], ["unknown architecture 'gpt3'", "gpt2, llama, moe"]),
            (["nosuch"], ["'nosuch' is neither a file nor a suite", "tiny"]),
            (["smal"], ["'smal' is neither a file nor a suite", "did you mean small? use one of the suites"]),
        ] {
            let r = try CLI.run(["bench"] + arguments + ["--workloads-directory", Self.workloads, "--ledger", ledger])
            XCTAssertNotEqual(r.status, 0)
            for word in words { XCTAssertTrue(r.stderr.contains(word), "\(arguments): \(r.stderr)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "nothing was recorded, not even an empty ledger")
        // Run from elsewhere, the suites are the repository's, found above the build's binary (whose real path is one
        // folder deeper than .build/debug).
        let elsewhere = try CLI.run(["bench", "nosuch", "--ledger", ledger], directory: dir)
        let repositoryWorkloads = URL(fileURLWithPath: Self.workloads).standardizedFileURL.path
        XCTAssertTrue(elsewhere.stderr.contains("a suite in \(repositoryWorkloads)"), elsewhere.stderr)
        let sweep = try CLI.run(["bench", "tiny", "--sweep", "batch=0,2", "--ledger", ledger])
        XCTAssertTrue(sweep.stderr.contains("--sweep takes batch=LIST or seq=LIST of values ≥ 1"), sweep.stderr)
        let context = try CLI.run(["bench", "tiny", "--sweep", "seq=64,-1", "--ledger", ledger])
        XCTAssertTrue(context.stderr.contains("--sweep seq=64,128,256,512,1024"), context.stderr)
        // A negative number is read as the option's value and refused with its range, not taken for a flag.
        for (arguments, words) in [
            (["bench", "tiny", "--idle", "-1"], "--idle must be 0 to 3600 seconds"),
            (["bench", "tiny", "--repeats", "-2"], "--repeats must be at least 1"),
            (["compare", "tiny", "--repeats", "-2"], "--repeats must be at least 1"),
            (["offsets", "last", "--plan-years", "-3"], "--plan-years must be at least 1"),
        ] {
            let r = try CLI.run(arguments + ["--ledger", ledger])
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(arguments): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "still nothing recorded")
    }

    /// `wattprint bench ARGUMENTS` with two repeats and its findings measured, OpenBLAS's narrow Haswell kernels forced
    /// so there is one to find, into a scratch ledger; skipped without Debian's fortunes (the workloads' corpus).
    func measuredFindingsBench(_ arguments: [String]) throws -> (CLI.Result, URL, String, [String: String]) {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/games/fortunes"), "Debian's fortunes package is not installed")
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let env = ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path, "OPENBLAS_CORETYPE": "Haswell"]
        let bench = try CLI.run(
            ["bench"] + arguments + [
                "--repeats", "2", "--idle", "0.1", "--findings", "measure", "--ledger", ledger, "--region", "FR", "--no-report",
            ], env: env)
        XCTAssertEqual(bench.status, 0, bench.stderr)
        return (bench, dir, ledger, env)
    }

    /// A finding measured by rerunning (`--findings measure`, with OpenBLAS's narrow kernels forced on a CPU with wider
    /// vectors): the rerun is a run of its own after the benchmark's, `compare last` still means the benchmark, and a
    /// period grouped by workload counts the rerun's windows with the workload it measured.
    func testAMeasuredFindingsRerunBelongsToItsBenchmark() throws {
        let (bench, dir, ledger, env) = try measuredFindingsBench(["tiny", "--workloads-directory", Self.workloads])
        try XCTSkipUnless(
            bench.stdout.contains("measured (run 2)"), "no narrower BLAS kernel to find on this CPU, so nothing was rerun: \(bench.stdout)")
        let compare = try CLI.run(["compare", "last", "--ledger", ledger, "--json"], env: env)
        XCTAssertEqual(compare.status, 0, compare.stderr)
        let rows = try XCTUnwrap((try json(compare.stdout) as? [String: Any])?["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["run"] as? Int }, [1, 1, 1], "last is the benchmark, not its findings' rerun")
        let report = try CLI.run(
            [
                "report", "--since", "2000-01-01", "--group-by", "workload", "--ledger", ledger, "--formats", "json", "--output",
                dir.appendingPathComponent("period").path,
            ], env: env)
        XCTAssertEqual(report.status, 0, report.stderr)
        let file = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("period").path).first { $0.hasSuffix(".json") })
        let period = try XCTUnwrap(
            try json(String(contentsOfFile: dir.appendingPathComponent("period/" + file).path, encoding: .utf8)) as? [String: Any])
        let groups = try XCTUnwrap(period["groups"] as? [[String: Any]])
        // The rerun's own command is `wattprint bench …/Workloads/tiny/gpt2.json --repeats 1 --findings none …`; its
        // windows count with the workload it measured again, the rest of both runs with the benchmarks' set-up.
        let runs = Dictionary(uniqueKeysWithValues: groups.map { ($0["name"] as? String ?? "?", $0["runs"] as? Int ?? 0) })
        XCTAssertEqual(
            runs, ["tiny-gpt2": 2, "tiny-llama": 1, "tiny-moe": 1, "benchmark idle baselines, peak probes and set-up": 2], "\(groups)")
    }

    /// A batch sweep's variant (`tiny-gpt2@batch=2`, the spec's own batch being 4) is rerun as that variant alone, so the
    /// finding is measured, not predicted for want of a workload of that name in the rerun, and the rerun does not
    /// run the spec's own batch beside it.
    func testASweepVariantsFindingsRerunMeasuresThatVariant() throws {
        let (bench, _, ledger, env) = try measuredFindingsBench([Self.workloads + "/tiny/gpt2.json", "--sweep", "batch=2"])
        try XCTSkipUnless(
            bench.stdout.contains("OpenBLAS runs its Haswell kernels"),
            "no narrower BLAS kernel to find on this CPU, so nothing was rerun: \(bench.stdout)")
        XCTAssertTrue(bench.stdout.contains("measured (run 2)"), bench.stdout)
        let rerun = try CLI.run(["show", "2", "--ledger", ledger, "--json"], env: env)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertTrue(rerun.stdout.contains("tiny-gpt2@batch=2"), "the rerun's windows are the variant's: \(rerun.stdout.prefix(2000))")
        XCTAssertFalse(rerun.stdout.contains("tiny-gpt2@batch=4"), "the spec's own batch is not rerun: \(rerun.stdout.prefix(2000))")
    }

    /// Both streams in one pipe, as `2>&1 | tee` gives them: stderr's messages start lines of their own, never the
    /// middle of one of the report's.
    func testStderrNeverLandsInsideAReportLine() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/games/fortunes"), "Debian's fortunes package is not installed")
        let dir = try scratchDirectory()
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = [
            "bench", "tiny", "--workloads-directory", Self.workloads, "--repeats", "1", "--idle", "0", "--findings", "none",
            "--ledger", dir.appendingPathComponent("l.sqlite").path, "--region", "FR", "--reports",
            dir.appendingPathComponent("Reports").path,
        ]
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("WATTPRINT_") }.merging(
            ["XDG_DATA_HOME": dir.appendingPathComponent("xdg").path, "HOME": dir.path]) { $1 }
        let both = Pipe()
        p.standardOutput = both
        p.standardError = both
        try p.run()
        let text = String(decoding: both.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        let lines = text.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("wattprint: report written: ") }, text)
        for line in lines where line.contains("wattprint: ") {
            XCTAssertTrue(line.hasPrefix("wattprint: ") || line.hasPrefix("… "), "a message inside a line: \(line)")
        }
    }
}
