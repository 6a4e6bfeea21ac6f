import Accounting
@testable import Benchmarks
import Carbon
import Engine
import Foundation
import Ledger
import TestSupport
import XCTest

/// The rating scale is frozen; comparisons grade against the reference measured in the same run, mark nothing they
/// cannot, and find the energy to a target loss from the training steps' losses.
final class ComparisonTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Writes a one-layer, 32-wide training spec on a small byte corpus (written once per folder) and returns its path.
    static func trainingSpec(in dir: String, name: String, architecture: String, steps: Int) throws -> String {
        let corpus = dir + "/corpus.txt"
        if !FileManager.default.fileExists(atPath: corpus) {
            try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
                toFile: corpus, atomically: false, encoding: .utf8)
        }
        let path = dir + "/\(name).json"
        try """
        {"schema": 1, "name": "\(name)", "model": {"architecture": "\(architecture)", "layers": 1, "width": 32, "heads": 2},
         "data": {"corpus": "\(corpus)", "tokenizer": "byte"},
         "phases": {"train": {"batch": 2, "sequence": 16, "steps": \(steps), "evaluationBatches": 1, "learningRate": 0.01}}}
        """.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// Editing the reference workload changes what every grade means: it needs a new scale version, not a new hash.
    func testReferenceSpecIsFrozen() throws {
        let path = Self.repository.appendingPathComponent("Workloads/small/gpt2.json").path
        let spec = try SpecReader.read(WorkloadSpec.self, path: path, keys: WorkloadSpec.keys, example: "")
        XCTAssertEqual(try RatingScale.specHash(spec), RatingScale.current.referenceSpecSHA256)
        XCTAssertEqual(spec.name, RatingScale.current.referenceWorkload)
        // As a comparison reads it back from a run's bench_plan.
        let recorded = try JSONDecoder().decode(WorkloadSpec.self, from: JSONEncoder().encode(try JSONValue(encoding: spec)))
        XCTAssertEqual(try RatingScale.specHash(recorded), RatingScale.current.referenceSpecSHA256)
        // v1's reference is the same file as it was before v2 lengthened its training and prefill windows.
        var v1 = spec
        v1.phases.train?.steps = 80
        v1.phases.prefill?.batch = 16
        v1.phases.decode?.newTokens = 128
        XCTAssertEqual(try RatingScale.specHash(v1), RatingScale.v1.referenceSpecSHA256)
        XCTAssertEqual(RatingScale.versions.map(\.version), [2, 1])
        XCTAssertEqual(Set(RatingScale.versions.map(\.referenceWorkload)), ["small-gpt2"])
    }

    /// Each run is graded on the scale whose reference it recorded: a run of the older reference keeps its grades
    /// (with a note saying which scale), a run of the newer one is graded on that, and a reference that is neither's
    /// is not graded.
    func testEachRunIsGradedOnTheScaleOfItsRecordedReference() throws {
        let dir = try TestScratch.folder(name).path
        // The reference must be standard: its spec names its corpus's hash.
        let draft = try Self.trainingSpec(in: dir, name: "small-gpt2", architecture: "gpt2", steps: 3)
        let sha = try BenchPlan.make(arguments: [draft], workloadsDirectory: dir, repeats: 1, idleSeconds: 0).workloads[0].corpusSHA256
        func reference(steps: Int) throws -> String {
            let path = dir + "/reference-\(steps).json"
            try """
            {"schema": 1, "name": "small-gpt2", "model": {"architecture": "gpt2", "layers": 1, "width": 32, "heads": 2},
             "data": {"corpus": "\(dir)/corpus.txt", "sha256": "\(sha)", "tokenizer": "byte"},
             "phases": {"train": {"batch": 2, "sequence": 16, "steps": \(steps), "evaluationBatches": 1, "learningRate": 0.01}}}
            """.write(toFile: path, atomically: false, encoding: .utf8)
            return path
        }
        let other = try Self.trainingSpec(in: dir, name: "mine-llama", architecture: "llama", steps: 3)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        var ids: [Int64] = [], hashes: [String] = []
        for steps in [3, 4, 5] {
            let plan = try BenchPlan.make(
                arguments: [try reference(steps: steps), other], workloadsDirectory: dir, repeats: 1, idleSeconds: 0.02)
            XCTAssertTrue(plan.workloads[0].standard)
            hashes.append(try RatingScale.specHash(plan.workloads[0].spec))
            let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
            let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.finish()
            try recorder.run.close(status: .complete, exitCode: 0)
            ids.append(recorder.run.runID)
        }
        let older = RatingScale(
            version: 8, referenceWorkload: "small-gpt2", referenceSpecSHA256: hashes[0], bands: RatingScale.standardBands)
        let newer = RatingScale(
            version: 9, referenceWorkload: "small-gpt2", referenceSpecSHA256: hashes[1], bands: RatingScale.standardBands)
        let analyses = try ids.map { try BenchAnalysis.compute(ledger: ledger, run: $0, data: try CarbonData.bundled()) }
        let c = try Comparison.build(ledger: ledger, runs: ids, analyses: analyses, targetLoss: nil, scales: [newer, older])
        XCTAssertEqual(c.rows.map(\.ratingScale), [8, 8, 9, 9, nil, nil])
        XCTAssertEqual(c.rows.map { $0.phases[0].grade != nil }, [true, true, true, true, false, false])
        XCTAssertEqual(c.rows[0].phases[0].grade, "C", "the reference is graded against itself")
        // Three steps of a tiny model are far below the steady-state minimum: each grade says it stands on short windows.
        XCTAssertEqual(
            c.rows.map { $0.phases[0].gradeCaveats }, [["shortWindow"], ["shortWindow"], ["shortWindow"], ["shortWindow"], nil, nil])
        XCTAssertEqual(c.ratingScale, 9)
        XCTAssertTrue(c.notes.contains { $0.hasPrefix("run \(ids[0]) is graded on rating scale v8: ") }, "\(c.notes)")
        XCTAssertFalse(c.notes.contains { $0.hasPrefix("run \(ids[1]) ") }, "\(c.notes)")
        XCTAssertTrue(
            c.notes.contains { $0.hasPrefix("run \(ids[2]): small-gpt2 is not the frozen reference") && $0.contains("v9, v8") },
            "\(c.notes)")
        // On its own, the newer run needs no note and the comparison names its scale.
        let alone = try Comparison.build(ledger: ledger, runs: [ids[1]], analyses: [analyses[1]], targetLoss: nil, scales: [newer, older])
        XCTAssertEqual(alone.ratingScale, 9)
        XCTAssertEqual(alone.notes, [])
    }

    /// Two workloads benchmarked together, one named like the reference but not its spec: figures side by side, best
    /// marked, no grades (and a note saying why), and the energy to a target loss from the recorded steps.
    func testComparisonOfARecordedRun() throws {
        let dir = try TestScratch.folder(name).path
        let files = try [("small-gpt2", "gpt2"), ("mine-llama", "llama")].map {
            try Self.trainingSpec(in: dir, name: $0.0, architecture: $0.1, steps: 6)
        }
        let plan = try BenchPlan.make(arguments: files, workloadsDirectory: dir, repeats: 2, idleSeconds: 0)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
        try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
        try recorder.finish()
        let id = recorder.run.runID
        let analysis = try BenchAnalysis.compute(ledger: ledger, run: id, data: try CarbonData.bundled())
        let c = try Comparison.build(ledger: ledger, runs: [id], analyses: [analysis], targetLoss: 100)
        XCTAssertEqual(c.rows.map(\.workload), ["small-gpt2", "mine-llama"])
        XCTAssertTrue(c.rows.allSatisfy { $0.phases.allSatisfy { $0.grade == nil } })
        XCTAssertTrue(c.notes.first?.contains("not the frozen reference") == true, "\(c.notes)")
        // The run's own warnings are repeated for its rows: here it measured no idle baseline.
        XCTAssertTrue(
            c.notes.contains("run \(id): no idle baseline was measured (--idle 0): dynamic energy is not separated from static"),
            "\(c.notes)")
        XCTAssertEqual(c.rows.map(\.targetLossReached), [true, true], "a loss of 100 nats is reached at the first step")
        let lowest = c.rows.map { $0.phases[0].joulesPerToken }.min()!
        for (i, row) in c.rows.enumerated() {
            XCTAssertEqual(c.isBest(row: i, phase: "train", figure: \.joulesPerTokenValue), row.phases[0].joulesPerToken == lowest)
        }
    }

    /// Runs on different grids: each row names its grid, a run with no region says loudly that it used the world
    /// average, a note says the g CO2e come from different grids, and the lowest g CO2e is marked per grid only.
    func testRowsOnDifferentGridsAreNamedAndNotRankedTogether() throws {
        let dir = try TestScratch.folder(name).path
        let spec = try Self.trainingSpec(in: dir, name: "mine-gpt2", architecture: "gpt2", steps: 4)
        let plan = try BenchPlan.make(arguments: [spec], workloadsDirectory: dir, repeats: 2, idleSeconds: 0)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        var ids: [Int64] = []
        for flag in ["FR", nil] {
            let region = RegionResolution.resolve(flag: flag, environment: [:], configValue: nil)
            let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.finish()
            ids.append(recorder.run.runID)
        }
        let analyses = try ids.map { try BenchAnalysis.compute(ledger: ledger, run: $0, data: try CarbonData.bundled()) }
        let c = try Comparison.build(ledger: ledger, runs: ids, analyses: analyses, targetLoss: nil)
        XCTAssertEqual(c.rows.map(\.grid), ["FR", "WORLD"])
        // Two repeats: the interval is [min, max], which covers the median half the time; flags named by kind, once each.
        XCTAssertEqual(c.rows[0].phases[0].joulesPerTokenCoverage ?? 0, 0.5, accuracy: 1e-12)
        for row in c.rows {
            let kinds = row.flagKinds ?? []
            XCTAssertEqual(Set(kinds).count, kinds.count)
            XCTAssertEqual(kinds.isEmpty, row.flags == 0, "\(kinds) for \(row.flags) flag(s)")
        }
        XCTAssertTrue(c.notes.contains { $0.hasPrefix("run \(ids[1]): REGION DEFAULTED TO WORLD AVERAGE") }, "\(c.notes)")
        XCTAssertFalse(c.notes.contains { $0.hasPrefix("run \(ids[0]): REGION DEFAULTED") }, "\(c.notes)")
        XCTAssertTrue(c.notes.contains { $0.hasPrefix("the rows' g CO2e come from different grids (FR ") }, "\(c.notes)")
        // Each row is alone on its grid: both are the lowest of theirs, although the world average's is far higher.
        XCTAssertTrue(c.isBest(row: 0, phase: "train", figure: \.gramsPer1kTokens) == false, "one row per grid: nothing to rank")
        XCTAssertTrue(c.isBest(row: 1, phase: "train", figure: \.gramsPer1kTokens) == false)
    }

    /// The same Llama in fp32 and int8, benchmarked together: the variant is a row of its own saying what weights it
    /// ran with, its validation loss with the converted weights beside its fp32 loss (the fp32 row's own: same seed,
    /// same training), and the ledger keeps precision and group size in the plan.
    func testPrecisionVariantsAreRowsOfTheirOwn() throws {
        let dir = try TestScratch.folder(name).path
        let corpus = dir + "/corpus.txt"
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
            toFile: corpus, atomically: false, encoding: .utf8)
        var files: [String] = []
        for (name, precision) in [("llama-fp32", nil), ("llama-int8", "int8"), ("llama-bf16", "bf16")] {
            let weights = precision.map { #", "precision": "\#($0)""# } ?? ""
            try """
            {"schema": 1, "name": "\(name)", "seed": 3,
             "model": {"architecture": "llama", "layers": 1, "width": 64, "heads": 2\(weights)},
             "data": {"corpus": "\(corpus)", "tokenizer": "byte"},
             "phases": {"train": {"batch": 2, "sequence": 16, "steps": 4, "evaluationBatches": 2, "learningRate": 0.01},
                        "prefill": {"batch": 2, "promptTokens": 8}, "decode": {"newTokens": 4}}}
            """.write(toFile: dir + "/\(name).json", atomically: false, encoding: .utf8)
            files.append(dir + "/\(name).json")
        }
        let plan = try BenchPlan.make(arguments: files, workloadsDirectory: dir, repeats: 1, idleSeconds: 0)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
        let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
        try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
        try recorder.finish()
        let id = recorder.run.runID
        let analysis = try BenchAnalysis.compute(ledger: ledger, run: id, data: try CarbonData.bundled())
        let c = try Comparison.build(ledger: ledger, runs: [id], analyses: [analysis], targetLoss: nil)
        XCTAssertEqual(c.rows.map(\.precision), ["fp32", "int8", "bf16"])
        // An fp32 workload's figures carry no precision at all: summaries recorded before variants still verify.
        XCTAssertNil(analysis.workloads[0].precision)
        let fp32JSON = String(decoding: try JSONEncoder().encode(analysis.workloads[0]), as: UTF8.self)
        XCTAssertFalse(
            fp32JSON.contains("precision") || fp32JSON.contains("groupSize") || fp32JSON.contains("fp32ValidationLoss"), fp32JSON)
        XCTAssertEqual(c.rows.map(\.groupSize), [nil, 32, nil])
        XCTAssertEqual(c.rows.map { $0.phases.map(\.phase) }, Array(repeating: ["train", "prefill", "decode"], count: 3))
        let fp32 = try XCTUnwrap(c.rows[0].validationLoss)
        XCTAssertNil(c.rows[0].fp32ValidationLoss)
        for row in c.rows.dropFirst() {
            // Same seed and one thread: the variant trained exactly as the fp32 row did before its conversion.
            XCTAssertEqual(try XCTUnwrap(row.fp32ValidationLoss), fp32, accuracy: 1e-6, row.workload)
            let converted = try XCTUnwrap(row.validationLoss)
            XCTAssertNotEqual(converted, fp32, "\(row.workload) evaluated its converted weights")
            XCTAssertEqual(converted, fp32, accuracy: 0.02, "\(row.workload): rounding the weights costs little")
        }
        let recorded = try ledger.events(run: id).compactMap { e -> BenchPlanRecord? in
            if case let .benchPlan(p) = RunEvent(e) { return p }
            return nil
        }.first
        XCTAssertEqual(recorded?.workloads.map(\.precision), [nil, "int8", "bf16"])
        XCTAssertEqual(recorded?.workloads[1].weightKernel, QuantizedKernel.name(.int8))
    }

    /// Reduced precision exists for GPT-2 and dense Llama; a spec asking it of another model, or for a precision that
    /// does not exist, is refused with the fix.
    func testPrecisionIsRefusedWhereNoKernelExists() throws {
        let dir = try TestScratch.folder(name).path
        try "some text to read. ".write(toFile: dir + "/c.txt", atomically: false, encoding: .utf8)
        func spec(_ model: String) throws -> String {
            let path = dir + "/s.json"
            try """
            {"schema": 1, "name": "v", "model": {\(model)}, "data": {"corpus": "c.txt", "tokenizer": "byte"},
             "phases": {"train": {"batch": 1, "sequence": 4, "steps": 1}}}
            """.write(toFile: path, atomically: false, encoding: .utf8)
            return path
        }
        XCTAssertThrowsError(
            try BenchPlan.make(
                arguments: [try spec(#""architecture": "moe", "layers": 1, "width": 32, "experts": 4, "precision": "int8""#)],
                workloadsDirectory: dir)
        ) { error in
            XCTAssertTrue("\(error)".contains("GPT-2 and dense Llama only"), "\(error)")
        }
        XCTAssertThrowsError(
            try BenchPlan.make(
                arguments: [try spec(#""architecture": "gpt2", "layers": 1, "width": 32, "precision": "fp16""#)], workloadsDirectory: dir)
        ) { error in
            XCTAssertTrue("\(error)".contains("unknown precision 'fp16'") && "\(error)".contains("fp32, bf16, int8"), "\(error)")
        }
    }

    /// A run that did not finish its work says so: one interrupted, one that closed with a failing exit code.
    func testUnfinishedRunsAreNoted() throws {
        let dir = try TestScratch.folder(name).path
        let spec = try Self.trainingSpec(in: dir, name: "mine-gpt2", architecture: "gpt2", steps: 2)
        let plan = try BenchPlan.make(arguments: [spec], workloadsDirectory: dir, repeats: 1, idleSeconds: 0.02)
        let ledger = try Ledger(path: dir + "/l.sqlite")
        var ids: [Int64] = []
        for (status, code) in [(Run.Status.interrupted, nil), (.complete, 1), (.complete, 0)] as [(Run.Status, Int32?)] {
            let region = RegionResolution.resolve(flag: "FR", environment: [:], configValue: nil)
            let recorder = try LedgerPhaseRecorder(ledger: ledger, settings: FootprintSettings(region: region, site: nil, pue: nil))
            try SuiteRunner.run(plan, threads: 1, recorder: recorder, probePeaks: false)
            try recorder.finish()
            try recorder.run.close(status: status, exitCode: code)
            ids.append(recorder.run.runID)
        }
        let analyses = try ids.map { try BenchAnalysis.compute(ledger: ledger, run: $0, data: try CarbonData.bundled()) }
        let c = try Comparison.build(ledger: ledger, runs: ids, analyses: analyses, targetLoss: nil)
        XCTAssertTrue(c.notes.contains("run \(ids[0]) was interrupted: its figures cover what it recorded before it stopped"), "\(c.notes)")
        XCTAssertTrue(
            c.notes.contains("run \(ids[1]) ended with exit code 1: its figures cover the work done before it failed"), "\(c.notes)")
        XCTAssertFalse(c.notes.contains { $0.hasPrefix("run \(ids[2]) was") || $0.hasPrefix("run \(ids[2]) ended") }, "\(c.notes)")
    }

    func testGradesBands() {
        let s = RatingScale.v1
        XCTAssertEqual(
            [0.4, 0.5, 0.6, 0.8, 1.0, 1.1, 1.3, 1.9, 2.5].map { s.grade(ratio: $0) }, ["A+", "A+", "A", "B", "C", "C", "D", "E", "F"])
        XCTAssertNil(s.grade(ratio: .nan))
        XCTAssertNil(s.grade(ratio: 0))
    }

    func testEnergyToTargetLossFollowsTheMovingMean() {
        let steps = [5.0, 4.0, 3.0, 2.9, 2.8, 2.7, 2.6, 2.5].enumerated().map { StepRecord(index: $0.offset + 1, loss: $0.element) }
        let window = PhaseWindow(
            mark: PhaseMark(name: "train"), startNs: 0, endNs: 1, closed: true, seconds: 8, joules: 80, measuredJoules: 80,
            estimatedJoules: 0,
            channelJoules: [:], tokens: 0, flops: 0, steps: steps)
        // Means of the last five: step 5 → 3.54, step 6 → 3.08, step 7 → 2.8, so 2.8 is first reached at step 7: 7/8 of 80 J.
        XCTAssertEqual(Comparison.energyToReach(2.8, in: window)!, 70, accuracy: 1e-12)
        XCTAssertNil(Comparison.energyToReach(1.0, in: window))
    }
}
