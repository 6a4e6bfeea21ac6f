import Accounting
@testable import Benchmarks
import Carbon
import Foundation
import Ledger
import Meters
import TestSupport
import XCTest

/// A whole benchmark on real engine work, recorded into a ledger whose counter draws a known power: the analysis
/// recomputed from the ledger gives energy = power × window time per phase, idle-subtracted dynamic energy, tokens
/// from the work, and prefill + decode adding up to the inference they make.
final class BenchRunTests: XCTestCase {
    func plan(repeats: Int) throws -> (BenchPlan, String) {
        let dir = try TestScratch.folder(name).path
        let corpus = dir + "/corpus.txt"
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
            toFile: corpus, atomically: false, encoding: .utf8)
        var files: [String] = []
        for arch in ["gpt2", "moe"] {
            let extra = arch == "moe" ? #", "kvHeads": 1, "experts": 4"# : ""
            let spec = """
                {"schema": 1, "name": "t-\(arch)", "model": {"architecture": "\(arch)", "layers": 1, "width": 32, "heads": 2\(extra)},
                 "data": {"corpus": "\(corpus)", "tokenizer": "byte"}, "warmupSteps": 1,
                 "phases": {"train": {"batch": 2, "sequence": 16, "steps": 3, "evaluationBatches": 1},
                            "prefill": {"batch": 2, "promptTokens": 8, "rounds": 2}, "decode": {"newTokens": 4}}}
                """
            try spec.write(toFile: dir + "/\(arch).json", atomically: false, encoding: .utf8)
            files.append(dir + "/\(arch).json")
        }
        return (try BenchPlan.make(arguments: files, workloadsDirectory: dir, repeats: repeats, idleSeconds: 0.05), dir)
    }

    func testAnalysisRecomputesKnownPowerTokensAndClosure() throws {
        let (plan, dir) = try plan(repeats: 3)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        let recorder = try LedgerPhaseRecorder(
            ledger: ledger, idleWatts: 5, workWatts: 20, settings: FootprintSettings(region: region, site: nil, pue: nil))
        var seen: [String] = []
        try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false, sleep: { Thread.sleep(forTimeInterval: $0) }) {
            seen.append($0.label)
        }
        try recorder.finish()
        XCTAssertEqual(seen.filter { $0.contains("repeat") }.count, 6, "3 repeats × 2 workloads")
        XCTAssertEqual(seen.filter { $0.contains("repeat") }.prefix(2), ["t-gpt2 repeat 1/3", "t-moe repeat 1/3"], "interleaved")
        let a = try BenchAnalysis.compute(ledger: ledger, run: recorder.run.runID, data: try CarbonData.bundled())
        XCTAssertEqual(a.idle?.watts ?? 0, 5, accuracy: 1e-6)
        XCTAssertEqual(a.idle?.drift ?? 1, 0, accuracy: 1e-9)
        XCTAssertEqual(a.workloads.map(\.name), ["t-gpt2", "t-moe"])
        for w in a.workloads {
            XCTAssertEqual(w.phases.map(\.phase), ["train", "prefill", "decode"])
            for p in w.phases {
                XCTAssertEqual(p.joules.values.count, 3)
                for (j, s) in zip(p.joules.values, p.seconds.values) { XCTAssertEqual(j, 20 * s, accuracy: 1e-9 * max(1, j)) }
                for (d, s) in zip(p.dynamicJoules!.values, p.seconds.values) { XCTAssertEqual(d, 15 * s, accuracy: 1e-9 * max(1, d)) }
                XCTAssertEqual(p.energySource, "measured")
                XCTAssertNotNil(p.carbon, "the run recorded its region")
            }
            XCTAssertEqual(w.phases[0].tokensPerRepeat, 3 * 2 * 16, "3 steps × B×T 2×16")
            XCTAssertEqual(w.phases[1].tokensPerRepeat, 2 * 2 * 8, "2 rounds × 2 prompts × 8")
            XCTAssertEqual(w.phases[2].tokensPerRepeat, 2 * 2 * 4, "2 rounds × 2 sequences × 4 new tokens")
            XCTAssertEqual(w.inferenceClosure ?? 1, 0, accuracy: 1e-12, "prefill and decode share their edges with the inference window")
            XCTAssertNotNil(w.validationLoss)
            XCTAssertEqual(w.channels.first?.key, "test:package")
            XCTAssertTrue(w.phases.allSatisfy { $0.flags.contains { $0.kind == .shortWindow } }, "these windows last milliseconds")
        }
        XCTAssertTrue(a.flags.contains { $0.kind == .smallSample })
        XCTAssertFalse(a.flags.contains { $0.kind == .idleDrift })
    }

    func testIdleDriftIsFlagged() throws {
        let (plan, dir) = try plan(repeats: 1)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        let recorder = try LedgerPhaseRecorder(
            ledger: ledger, idleWatts: 5, workWatts: 20, settings: FootprintSettings(region: region, site: nil, pue: nil))
        recorder.idleAfterWatts = 6
        try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
        try recorder.finish()
        let a = try BenchAnalysis.compute(ledger: ledger, run: recorder.run.runID, data: try CarbonData.bundled())
        XCTAssertEqual(a.idle?.drift ?? 0, 1 / 5.5, accuracy: 1e-6)
        XCTAssertTrue(a.flags.contains { $0.kind == .idleDrift && $0.message.contains("18.2 %") }, "\(a.flags)")
    }

    /// One repeat has no interval for its medians, and its flag says so; a run an older wattprint recorded (analysis 1)
    /// is read with that version's wording, the one its recorded summary holds.
    func testASingleRepeatSaysItHasNoInterval() throws {
        let (plan, dir) = try plan(repeats: 1)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let settings = FootprintSettings(
            region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)
        var messages: [Int: String] = [:]
        for version in [1, BenchAnalysis.version] {
            let recorder = PlanVersionRecorder(try LedgerPhaseRecorder(ledger: ledger, settings: settings), version: version)
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.inner.finish()
            let a = try BenchAnalysis.compute(ledger: ledger, run: recorder.inner.run.runID, data: try CarbonData.bundled())
            XCTAssertEqual(a.analysisVersion, version)
            messages[version] = a.flags.first { $0.kind == .smallSample }?.message
        }
        XCTAssertEqual(
            messages[BenchAnalysis.version],
            "1 repeat: the medians have no interval; 2 repeats give [min, max], covering 50 %, and 6 or more 95 %")
        XCTAssertEqual(
            messages[1],
            "1 repeats: the interval of each median is [min, max], covering 50.0 % rather than 95 %; 6 or more repeats give 95 %")
    }

    /// Analysis 3 writes a millisecond window's length with its digits and counts as words; a run recorded under 2 keeps
    /// "0.00 s" and "counter(s)", the wording its recorded summary holds and `verify` recomputes.
    func testAnalysisThreeWordsShortWindowsAndBlockedCounters() throws {
        let (plan, dir) = try plan(repeats: 1)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let settings = FootprintSettings(
            region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)
        var flags: [Int: [BenchFlag]] = [:]
        for version in [2, 3] {
            let recorder = PlanVersionRecorder(try LedgerPhaseRecorder(ledger: ledger, settings: settings), version: version)
            recorder.record(.metersBlocked([BlockedChannel(device: "rapl", source: "powercap", reason: "EACCES", fixes: [])]))
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.inner.finish()
            let a = try BenchAnalysis.compute(ledger: ledger, run: recorder.inner.run.runID, data: try CarbonData.bundled())
            flags[version] = a.flags + a.workloads.flatMap { $0.phases.flatMap(\.flags) }
        }
        func message(_ version: Int, _ kind: BenchFlag.Kind) -> String? { flags[version]?.first { $0.kind == kind }?.message }
        XCTAssertEqual(
            message(3, .countersBlocked),
            "1 counter could not be read (rapl): their share is estimated or missing; see `wattprint sensors`")
        XCTAssertEqual(
            message(2, .countersBlocked),
            "1 counter(s) could not be read (rapl): their share is estimated or missing; see `wattprint sensors`")
        let short3 = try XCTUnwrap(message(3, .shortWindow)), short2 = try XCTUnwrap(message(2, .shortWindow))
        XCTAssertNotNil(short3.range(of: #"^train windows last \d+(\.\d+)? ms, under the 1 s"#, options: .regularExpression), short3)
        XCTAssertTrue(short3.hasSuffix("(a reference suite's specs are fixed: the small suite measures at steady state)"), short3)
        XCTAssertTrue(short2.hasSuffix("steady-state minimum: raise its steps or rounds"), short2)
        XCTAssertNotNil(short2.range(of: #"^train windows last 0\.\d\d s, under the 1 s"#, options: .regularExpression), short2)
    }

    /// Analysis 4 flags a run during which other processes used over 10 % of the host's busy CPU time, from the CPU time
    /// the run recorded (so `verify` recomputes it); a run recorded under 3 has no such flag, and a run with the host to
    /// itself none either.
    func testAnalysisFourFlagsAHostSharedWithOtherProcesses() throws {
        let (plan, dir) = try plan(repeats: 1)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let settings = FootprintSettings(
            region: RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil), site: nil, pue: nil)
        func sharedHost(version: Int, tree: Double, host: Double) throws -> BenchFlag? {
            let recorder = PlanVersionRecorder(
                try LedgerPhaseRecorder(ledger: ledger, settings: settings, cpuRates: (tree: tree, host: host)), version: version)
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.inner.finish()
            let a = try BenchAnalysis.compute(ledger: ledger, run: recorder.inner.run.runID, data: try CarbonData.bundled())
            return a.flags.first { $0.kind == .sharedHost }
        }
        let flag = try XCTUnwrap(try sharedHost(version: 4, tree: 1, host: 2))
        XCTAssertTrue(
            flag.message.hasPrefix("other processes used 50.0 % of the host's busy CPU time during the run (this run: "), flag.message)
        XCTAssertTrue(flag.message.hasSuffix("run on an idle machine for figures to quote"), flag.message)
        XCTAssertNil(try sharedHost(version: 3, tree: 1, host: 2), "rules 3 had no such flag")
        XCTAssertNil(try sharedHost(version: 4, tree: 0.95, host: 1), "5 % is the machine's own noise")
    }
}
