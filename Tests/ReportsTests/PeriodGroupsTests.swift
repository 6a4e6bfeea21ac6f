import Accounting
import Benchmarks
import Carbon
import Crypto
import Foundation
import Ledger
import Reports
import TestSupport
import XCTest

/// How a period's runs are grouped from schema 3: by model a benchmark run is split among its workloads' models, the
/// rest of it a group of its own; by workload (schema 4) among its workloads by name, a findings rerun's windows with
/// the workload it measured. Schema 3 grouped by workload counted a rerun with the benchmark that measured it, and 2's
/// grouping is kept for its reports.
final class PeriodGroupsTests: XCTestCase {
    var ledger: Ledger!
    var benchmark: Int64 = 0, rerun: Int64 = 0
    let settings = FootprintSettings(region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)

    /// A benchmark of a GPT-2 and a Llama (`wattprint bench suite`), then a rerun of the GPT-2 alone that the
    /// benchmark's findings name as their measured alternative.
    override func setUpWithError() throws {
        let dir = try TestScratch.folder(name).path
        ledger = try Ledger(path: dir + "/l.sqlite")
        (benchmark, rerun) = try recordBenchmark(into: ledger, suite: "suite")
    }

    /// Writes the specs beside `ledger` (GPT-2 and Llama, 1 layer × 32; `same` a second GPT-2 of that shape) and records
    /// `wattprint bench SUITE` of `workloads` and, when `rerunning`, its findings' rerun of the GPT-2.
    @discardableResult
    func recordBenchmark(
        into ledger: Ledger, suite: String, workloads: [String] = ["gpt2", "llama"], rerunning: Bool = true
    ) throws -> (Int64, Int64) {
        let dir = URL(fileURLWithPath: ledger.path).deletingLastPathComponent().path
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
            toFile: dir + "/corpus.txt", atomically: false, encoding: .utf8)
        for (name, architecture) in [("gpt2", "gpt2"), ("llama", "llama"), ("same", "gpt2")] {
            try """
            {"schema": 1, "name": "w-\(name)", "model": {"architecture": "\(architecture)", "layers": 1, "width": 32, "heads": 2},
             "data": {"corpus": "corpus.txt", "tokenizer": "byte"},
             "phases": {"train": {"batch": 2, "sequence": 16, "steps": 2, "evaluationBatches": 1},
                        "prefill": {"batch": 2, "promptTokens": 8}, "decode": {"newTokens": 4}}}
            """.write(toFile: dir + "/\(name).json", atomically: false, encoding: .utf8)
        }
        func run(_ files: [String], command: String) throws -> LedgerPhaseRecorder {
            let plan = try BenchPlan.make(
                arguments: files.map { dir + "/\($0).json" }, workloadsDirectory: dir, repeats: 1, idleSeconds: 0.02)
            let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: settings, command: command)
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.finish()
            return recorder
        }
        let parent = try run(workloads, command: "/usr/bin/wattprint bench \(suite) --region FR")
        guard rerunning else {
            try parent.run.close(status: .complete, exitCode: 0)
            return (parent.run.runID, 0)
        }
        let alternative = try run(["gpt2"], command: "/usr/bin/wattprint bench \(dir)/gpt2.json --repeats 1 --findings none")
        try alternative.run.close(status: .complete, exitCode: 0)
        let finding = EfficiencyFinding(
            kind: .narrowBLASKernels, evidence: .measured, workload: "w-gpt2", phase: "train", joulesPerToken: 2,
            alternativeJoulesPerToken: 1, alternativeRun: alternative.run.runID, detail: "test")
        parent.record(.benchFindings(try JSONValue(encoding: [finding])))
        try parent.run.close(status: .complete, exitCode: 0)
        return (parent.run.runID, alternative.run.runID)
    }

    func period(by key: String, schema: Int = SustainabilityReport.schemaVersion, in ledger: Ledger? = nil) throws
        -> SustainabilityReport
    {
        try SustainabilityReportBuilder(ledger: ledger ?? self.ledger, carbon: try CarbonData.bundled(), toolVersion: "test").build(
            .init(kind: .period, since: "2000-01-01", until: "2999-01-01", groupBy: key), schema: schema)
    }

    func testByModelSplitsABenchmarkAmongItsModels() throws {
        let r = try period(by: "model")
        let gpt2 = try XCTUnwrap(r.groups.first { $0.name.hasPrefix("gpt2 ") }, "\(r.groups.map(\.name))")
        let llama = try XCTUnwrap(r.groups.first { $0.name.hasPrefix("llama ") })
        let rest = try XCTUnwrap(r.groups.first { $0.name == SustainabilityReportBuilder.benchOverhead })
        XCTAssertEqual(r.groups.count, 3)
        XCTAssertEqual([gpt2.runs, llama.runs, rest.runs], [2, 1, 2], "each run counts once in each group it reaches")
        // The groups share out the period exactly: energy, grams and tokens.
        XCTAssertEqual(r.groups.reduce(0) { $0 + $1.kWh }, r.totals.kWh, accuracy: r.totals.kWh * 1e-12)
        XCTAssertEqual(r.groups.reduce(0) { $0 + $1.grams }, r.totals.totalGrams, accuracy: r.totals.totalGrams * 1e-12)
        XCTAssertEqual(r.groups.compactMap(\.tokens).reduce(0, +), r.runs.compactMap(\.tokens).reduce(0, +))
        XCTAssertNil(rest.tokens)
        // A workload's share is its windows' energy: training and inference (which holds prefill and decode).
        let parent = try XCTUnwrap(r.runs.first { $0.id == benchmark })
        let llamaWindows = parent.phases.filter { ["w-llama train", "w-llama inference"].contains($0.name) }
        XCTAssertEqual(llamaWindows.count, 2)
        XCTAssertEqual(llama.kWh, llamaWindows.reduce(0) { $0 + $1.kWh }, accuracy: 1e-18)
        XCTAssertEqual(llama.grams, parent.totalGrams * llama.kWh / parent.kWh, accuracy: parent.totalGrams * 1e-12)
        XCTAssertGreaterThan(rest.kWh, 0, "idle baselines and set-up lie outside the windows")
        let markdown = SustainabilityMarkdown.render(r)
        XCTAssertTrue(markdown.contains("A benchmark run is split among its workloads' models"), markdown)
        // Schema 2's reports keep their grouping: a benchmark records no model of its own.
        XCTAssertEqual(try period(by: "model", schema: 2).groups.map(\.name), ["no model recorded"])
        XCTAssertFalse(SustainabilityMarkdown.render(try period(by: "model", schema: 2)).contains("split among"))
    }

    func testByWorkloadSplitsABenchmarkAmongItsWorkloads() throws {
        let plain = try LedgerPhaseRecorder(ledger: ledger, settings: settings, command: "/usr/bin/python3 train.py --epochs 1")
        try plain.finish()
        try plain.run.close(status: .complete, exitCode: 0)
        let r = try period(by: "workload")
        XCTAssertEqual(
            Set(r.groups.map(\.name)), ["w-gpt2", "w-llama", SustainabilityReportBuilder.benchOverhead, "python3 train.py"],
            "\(r.groups.map(\.name))")
        let gpt2 = try XCTUnwrap(r.groups.first { $0.name == "w-gpt2" })
        XCTAssertEqual(gpt2.runs, 2, "the benchmark and the rerun that measured its GPT-2 again")
        let windows = r.runs.filter { [benchmark, rerun].contains($0.id) }.flatMap(\.phases)
            .filter { ["w-gpt2 train", "w-gpt2 inference"].contains($0.name) }
        XCTAssertEqual(windows.count, 4)
        XCTAssertEqual(gpt2.kWh, windows.reduce(0) { $0 + $1.kWh }, accuracy: gpt2.kWh * 1e-12)
        XCTAssertEqual(r.groups.first { $0.name == "w-llama" }?.runs, 1)
        XCTAssertEqual(r.groups.first { $0.name == SustainabilityReportBuilder.benchOverhead }?.runs, 2)
        XCTAssertEqual(r.groups.first { $0.name == "python3 train.py" }?.runs, 1, "a run that is no benchmark keeps its command")
        XCTAssertEqual(r.groups.reduce(0) { $0 + $1.kWh }, r.totals.kWh, accuracy: r.totals.kWh * 1e-12)
        XCTAssertEqual(r.groups.reduce(0) { $0 + $1.grams }, r.totals.totalGrams, accuracy: r.totals.totalGrams * 1e-12)
        XCTAssertEqual(r.groups.compactMap(\.tokens).reduce(0, +), r.runs.compactMap(\.tokens).reduce(0, +))
        let markdown = SustainabilityMarkdown.render(r)
        XCTAssertTrue(markdown.contains("A benchmark run is split among its workloads by the energy"), markdown)
        XCTAssertFalse(markdown.contains("findings reruns count with the benchmark"), markdown)
        // Schema 3's reports keep their grouping: the benchmark's command, its rerun with it.
        let three = try period(by: "workload", schema: 3)
        XCTAssertEqual(three.groups.map(\.name).sorted(), ["python3 train.py", "wattprint bench suite"])
    }

    /// Schema 3 grouped by workload under a benchmark's command, and counted a findings rerun with the benchmark whose
    /// findings name it; its reports are rebuilt that way.
    func testSchemaThreeCountsAFindingsRerunWithItsBenchmark() throws {
        let r = try period(by: "workload", schema: 3)
        XCTAssertEqual(r.groups.map(\.name), ["wattprint bench suite"])
        XCTAssertEqual(r.groups.first?.runs, 2)
        XCTAssertEqual(r.groups.first?.kWh ?? 0, r.totals.kWh, accuracy: r.totals.kWh * 1e-12)
        XCTAssertTrue(SustainabilityMarkdown.render(r).contains("findings reruns count with the benchmark"))
        // Merged into a fleet ledger whose ids differ, the rerun still finds its benchmark by the ids of its own ledger.
        let fleet = try Ledger(path: ledger.path.replacingOccurrences(of: "l.sqlite", with: "fleet.sqlite"))
        var own: [Int64] = []
        for command in ["/usr/bin/wattprint bench elsewhere", "/usr/bin/wattprint bench lone --findings none"] {
            let recorder = try LedgerPhaseRecorder(ledger: fleet, settings: settings, command: command)
            try recorder.finish()
            try recorder.run.close(status: .complete, exitCode: 0)
            own.append(recorder.run.runID)
        }
        XCTAssertEqual(own, [benchmark, rerun], "the fleet's own runs take the ids the finding names")
        try fleet.merge(from: [ledger.path])
        let merged = try period(by: "workload", schema: 3, in: fleet)
        XCTAssertEqual(merged.groups.first { $0.name == "wattprint bench suite" }?.runs, 2, "\(merged.groups)")
        XCTAssertEqual(merged.groups.first { $0.name == "wattprint bench lone" }?.runs, 1, "\(merged.groups)")
        let two = try period(by: "workload", schema: 2)
        XCTAssertEqual(two.groups.count, 2, "schema 2 grouped the rerun under its own command")
        XCTAssertTrue(two.groups.contains { $0.name.hasPrefix("wattprint bench /") && $0.name.hasSuffix("/gpt2.json") }, "\(two.groups)")
    }

    /// A signed schema-3 period report grouped by workload, with the ledger it was made from (`Fixtures/schema3`: a
    /// benchmark and its findings rerun, recorded in the eleventh session with `WATTPRINT_RECORD_FIXTURES=1`), still verifies:
    /// later wattprints rebuild it under schema 3's rules, the rerun counted with its benchmark's command.
    func testAReportOfSchemaThreeStillVerifies() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/schema3")
        if ProcessInfo.processInfo.environment["WATTPRINT_RECORD_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let report = try ReportSignature.sign(try period(by: "workload", schema: 3), with: Curve25519.Signing.PrivateKey())
            try SustainabilityJSON.render(report).write(
                to: folder.appendingPathComponent("period.json"), atomically: false, encoding: .utf8)
            try ledger.checkpoint()
            let target = folder.appendingPathComponent("ledger.sqlite").path
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: ledger.path, toPath: target)
        }
        let copy = URL(fileURLWithPath: ledger.path).deletingLastPathComponent().appendingPathComponent("schema3.sqlite").path
        try FileManager.default.copyItem(atPath: folder.appendingPathComponent("ledger.sqlite").path, toPath: copy)
        let path = folder.appendingPathComponent("period.json").path
        let report = try SustainabilityJSON.read(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        XCTAssertEqual(report.schema, 3)
        XCTAssertEqual(report.groups.map(\.name), ["wattprint bench suite"], "schema 3 counted the rerun with its benchmark")
        XCTAssertEqual(report.groups.first?.runs, 2)
        let outcome = try ReportVerification.verify(
            file: path, ledger: try Ledger(path: copy), carbon: try CarbonData.bundled(), toolVersion: "test", hostKey: nil)
        XCTAssertNil(outcome.firstDifference, outcome.firstDifference ?? "")
        XCTAssertTrue(outcome.matches, outcome.brokenChain ?? "")
    }

    /// One path merged twice (a node's ledger copied to the same place each day): the two copies' ids repeat, and each
    /// benchmark still finds its own rerun, the first on its host to start after it (schema 3's grouping by workload).
    func testAPathMergedTwiceKeepsEachRerunWithItsBenchmark() throws {
        let path = ledger.path
        let fleet = try Ledger(path: path.replacingOccurrences(of: "l.sqlite", with: "fleet.sqlite"))
        try fleet.merge(from: [path])
        ledger = nil
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.removeItem(atPath: path + suffix)
        }
        let next = try Ledger(path: path)
        let (secondBenchmark, secondRerun) = try recordBenchmark(into: next, suite: "suite-b")
        XCTAssertEqual([secondBenchmark, secondRerun], [benchmark, rerun], "the second copy's ids repeat the first's")
        try fleet.merge(from: [path])
        let merged = try period(by: "workload", schema: 3, in: fleet)
        XCTAssertEqual(merged.groups.map(\.name).sorted(), ["wattprint bench suite", "wattprint bench suite-b"])
        XCTAssertEqual(merged.groups.map(\.runs), [2, 2], "\(merged.groups)")
    }

    /// Two workloads of one model in a run make one group that the run counts in once; a benchmark killed before its
    /// workloads ran has no part in their models' groups.
    func testOneModelTwiceAndAWorkloadNeverReached() throws {
        let twice = try recordBenchmark(into: ledger, suite: "twice", workloads: ["gpt2", "same"], rerunning: false).0
        let plan = try XCTUnwrap(try ledger.events(run: twice).first { $0.kind == "bench_plan" })
        let killed = try LedgerPhaseRecorder(ledger: ledger, settings: settings, command: "/usr/bin/wattprint bench killed")
        killed.run.record(EventRecord(tNs: 1, kind: plan.kind, payload: plan.payload))
        try killed.finish()
        try killed.run.close(status: .interrupted, exitCode: nil)
        let r = try period(by: "model")
        let gpt2 = try XCTUnwrap(r.groups.first { $0.name.hasPrefix("gpt2 ") })
        XCTAssertEqual(gpt2.runs, 3, "the benchmark, its rerun and the run of two GPT-2 workloads, each once")
        let section = try XCTUnwrap(r.runs.first { $0.id == twice })
        let windows = section.phases.filter { $0.name.hasSuffix(" train") || $0.name.hasSuffix(" inference") }
        XCTAssertEqual(windows.count, 4)
        let fromTwice = windows.reduce(0) { $0 + $1.kWh }
        let others = try period(by: "model").runs.filter { [benchmark, rerun].contains($0.id) }.flatMap(\.phases)
            .filter { $0.name.hasPrefix("w-gpt2 ") && ($0.name.hasSuffix(" train") || $0.name.hasSuffix(" inference")) }
        XCTAssertEqual(gpt2.kWh, fromTwice + others.reduce(0) { $0 + $1.kWh }, accuracy: gpt2.kWh * 1e-12)
        XCTAssertEqual(r.groups.first { $0.name.hasPrefix("llama ") }?.runs, 1, "the killed run reached no Llama")
        XCTAssertEqual(r.groups.first { $0.name == SustainabilityReportBuilder.benchOverhead }?.runs, 4)
        XCTAssertEqual(r.groups.reduce(0) { $0 + $1.kWh }, r.totals.kWh, accuracy: r.totals.kWh * 1e-12)
        XCTAssertEqual(r.groups.reduce(0) { $0 + $1.grams }, r.totals.totalGrams, accuracy: r.totals.totalGrams * 1e-12)
    }
}
