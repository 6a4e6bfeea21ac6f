import Accounting
import Benchmarks
import Carbon
import Foundation
import Ledger
import Reports
import TestSupport
import XCTest

/// How a period's runs are grouped from schema 3: by model a benchmark run is split among its workloads' models, the
/// rest of it a group of its own; by workload a findings rerun counts with the benchmark that measured it. Schema 2's
/// grouping is kept for its reports.
final class PeriodGroupsTests: XCTestCase {
    var ledger: Ledger!
    var benchmark: Int64 = 0, rerun: Int64 = 0
    let settings = FootprintSettings(region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)

    /// A benchmark of a GPT-2 and a Llama (`wattprint bench suite`), then a rerun of the GPT-2 alone that the
    /// benchmark's findings name as their measured alternative.
    override func setUpWithError() throws {
        let dir = try TestScratch.folder(name).path
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
            toFile: dir + "/corpus.txt", atomically: false, encoding: .utf8)
        for architecture in ["gpt2", "llama"] {
            try """
            {"schema": 1, "name": "w-\(architecture)", "model": {"architecture": "\(architecture)", "layers": 1, "width": 32, "heads": 2},
             "data": {"corpus": "corpus.txt", "tokenizer": "byte"},
             "phases": {"train": {"batch": 2, "sequence": 16, "steps": 2, "evaluationBatches": 1},
                        "prefill": {"batch": 2, "promptTokens": 8}, "decode": {"newTokens": 4}}}
            """.write(toFile: dir + "/\(architecture).json", atomically: false, encoding: .utf8)
        }
        ledger = try Ledger(path: dir + "/l.sqlite")
        let settings = FootprintSettings(
            region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)
        func run(_ files: [String], command: String) throws -> LedgerPhaseRecorder {
            let plan = try BenchPlan.make(
                arguments: files.map { dir + "/\($0).json" }, workloadsDirectory: dir, repeats: 1, idleSeconds: 0.02)
            let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: settings, command: command)
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.finish()
            return recorder
        }
        let parent = try run(["gpt2", "llama"], command: "/usr/bin/wattprint bench suite --region FR")
        let alternative = try run(["gpt2"], command: "/usr/bin/wattprint bench \(dir)/gpt2.json --repeats 1 --findings none")
        try alternative.run.close(status: .complete, exitCode: 0)
        let finding = EfficiencyFinding(
            kind: .narrowBLASKernels, evidence: .measured, workload: "w-gpt2", phase: "train", joulesPerToken: 2,
            alternativeJoulesPerToken: 1, alternativeRun: alternative.run.runID, detail: "test")
        parent.record(.benchFindings(try JSONValue(encoding: [finding])))
        try parent.run.close(status: .complete, exitCode: 0)
        benchmark = parent.run.runID
        rerun = alternative.run.runID
    }

    func period(by key: String, schema: Int = SustainabilityReport.schemaVersion) throws -> SustainabilityReport {
        try SustainabilityReportBuilder(ledger: ledger, carbon: try CarbonData.bundled(), toolVersion: "test").build(
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

    func testByWorkloadCountsAFindingsRerunWithItsBenchmark() throws {
        let r = try period(by: "workload")
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
        let merged = try SustainabilityReportBuilder(ledger: fleet, carbon: try CarbonData.bundled(), toolVersion: "test").build(
            .init(kind: .period, since: "2000-01-01", until: "2999-01-01", groupBy: "workload"))
        XCTAssertEqual(merged.groups.first { $0.name == "wattprint bench suite" }?.runs, 2, "\(merged.groups)")
        XCTAssertEqual(merged.groups.first { $0.name == "wattprint bench lone" }?.runs, 1, "\(merged.groups)")
        let two = try period(by: "workload", schema: 2)
        XCTAssertEqual(two.groups.count, 2, "schema 2 grouped the rerun under its own command")
        XCTAssertTrue(two.groups.contains { $0.name.hasPrefix("wattprint bench /") && $0.name.hasSuffix("/gpt2.json") }, "\(two.groups)")
    }
}
