import Accounting
@testable import Benchmarks
import Carbon
import Foundation
import Ledger
import TestSupport
import XCTest

/// The rating scale is frozen; comparisons grade against the reference measured in the same run, mark nothing they
/// cannot, and find the energy to a target loss from the training steps' losses.
final class ComparisonTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Editing the reference workload changes what every grade means: it needs a new scale version, not a new hash.
    func testReferenceSpecIsFrozen() throws {
        let path = Self.repository.appendingPathComponent("Workloads/small/gpt2.json").path
        let spec = try SpecReader.read(WorkloadSpec.self, path: path, keys: WorkloadSpec.keys, example: "")
        XCTAssertEqual(try RatingScale.specHash(spec), RatingScale.v1.referenceSpecSHA256)
        XCTAssertEqual(spec.name, RatingScale.v1.referenceWorkload)
        // As a comparison reads it back from a run's bench_plan.
        let recorded = try JSONDecoder().decode(WorkloadSpec.self, from: JSONEncoder().encode(try JSONValue(encoding: spec)))
        XCTAssertEqual(try RatingScale.specHash(recorded), RatingScale.v1.referenceSpecSHA256)
    }

    /// Two workloads benchmarked together, one named like the reference but not its spec: figures side by side, best
    /// marked, no grades (and a note saying why), and the energy to a target loss from the recorded steps.
    func testComparisonOfARecordedRun() throws {
        let dir = try TestScratch.folder(name).path
        let corpus = dir + "/corpus.txt"
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
            toFile: corpus, atomically: false, encoding: .utf8)
        var files: [String] = []
        for (name, arch) in [("small-gpt2", "gpt2"), ("mine-llama", "llama")] {
            try """
            {"schema": 1, "name": "\(name)", "model": {"architecture": "\(arch)", "layers": 1, "width": 32, "heads": 2},
             "data": {"corpus": "\(corpus)", "tokenizer": "byte"},
             "phases": {"train": {"batch": 2, "sequence": 16, "steps": 6, "evaluationBatches": 1, "learningRate": 0.01}}}
            """.write(toFile: dir + "/\(name).json", atomically: false, encoding: .utf8)
            files.append(dir + "/\(name).json")
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
        XCTAssertEqual(c.rows.map(\.targetLossReached), [true, true], "a loss of 100 nats is reached at the first step")
        let lowest = c.rows.map { $0.phases[0].joulesPerToken }.min()!
        for (i, row) in c.rows.enumerated() {
            XCTAssertEqual(c.isBest(row: i, phase: "train", figure: \.joulesPerTokenValue), row.phases[0].joulesPerToken == lowest)
        }
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
