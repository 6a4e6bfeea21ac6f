@testable import Benchmarks
import Foundation
import TestSupport
import XCTest

/// Specs and suites: the shipped ones read; every way a file can be wrong is named by file, line and field, with a
/// fix, before anything runs; a corpus that is not the standard one is marked, or refused with --strict.
final class BenchPlanTests: XCTestCase {
    var dir = ""
    var corpus = ""

    override func setUpWithError() throws {
        dir = try TestScratch.folder(name).path
        corpus = dir + "/corpus.txt"
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
            toFile: corpus, atomically: false, encoding: .utf8)
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func spec(_ name: String = "w", arch: String = "gpt2", extra: String = "", phases: String? = nil, sha: String? = nil) -> String {
        let phaseText =
            phases
            ?? #""train": {"batch": 2, "sequence": 16, "steps": 3}, "prefill": {"batch": 2, "promptTokens": 8}, "decode": {"newTokens": 4}"#
        return """
            {
              "schema": 1, "name": "\(name)",\(extra)
              "model": {"architecture": "\(arch)", "layers": 1, "width": 32, "heads": 2},
              "data": {"corpus": "\(corpus)", "tokenizer": "byte"\(sha.map { ", \"sha256\": \"\($0)\"" } ?? "")},
              "phases": {\(phaseText)}
            }
            """
    }

    func write(_ text: String, _ file: String) throws -> String {
        let path = dir + "/" + file
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func assertFails(
        _ kind: BenchError.Kind, _ words: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? BenchError else { return XCTFail("not a BenchError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, e.description, file: file, line: line)
            for w in words { XCTAssertTrue(e.description.contains(w), "'\(w)' not in: \(e.description)", file: file, line: line) }
        }
    }

    func testShippedSuitesRead() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/games/fortunes"), "Debian's fortunes package is not installed")
        let workloads = Self.repository.appendingPathComponent("Workloads").path
        for suite in ["tiny", "small", "base"] {
            let plan = try BenchPlan.make(arguments: [suite], workloadsDirectory: workloads)
            XCTAssertEqual(plan.suite, suite)
            XCTAssertEqual(Set(plan.workloads.map { $0.config.architecture.rawValue }), ["gpt2", "llama", "moe"], suite)
            XCTAssertTrue(plan.workloads.allSatisfy(\.standard), "\(suite): the installed fortunes corpus is the standard one")
        }
        let small = try BenchPlan.make(arguments: ["small"], workloadsDirectory: workloads)
        let active = small.workloads.map { $0.config.configuration.activeParameterCount }
        XCTAssertLessThan(Double(active.max()!) / Double(active.min()!), 1.1, "small's architectures have similar active sizes: \(active)")
        XCTAssertEqual(small.repeats, 5)
    }

    func testSpecErrorsNameFileLineAndField() throws {
        let broken = try write("{\n  \"schema\": 1,\n  \"name\": \"x\"\n  \"model\": {}\n}", "broken.json")
        assertFails(.specMalformed, ["broken.json", "not valid JSON", "line 4"]) {
            _ = try BenchPlan.make(arguments: [broken], workloadsDirectory: dir)
        }
        let typo = try write(spec(phases: #""train": {"batch": 2, "sequence": 16, "setps": 3}"#), "typo.json")
        assertFails(.specMalformed, ["typo.json (line 5)", "unknown key 'phases.train.setps'", "steps"]) {
            _ = try BenchPlan.make(arguments: [typo], workloadsDirectory: dir)
        }
        let type = try write(spec(phases: #""train": {"batch": "eight", "sequence": 16, "steps": 3}"#), "type.json")
        assertFails(.specMalformed, ["'phases.train.batch' (line 5) should be a whole number"]) {
            _ = try BenchPlan.make(arguments: [type], workloadsDirectory: dir)
        }
        let arch = try write(spec(arch: "bert"), "arch.json")
        assertFails(.unknownArchitecture, ["arch.json (line 3)", "unknown architecture 'bert'", "gpt2, llama, moe"]) {
            _ = try BenchPlan.make(arguments: [arch], workloadsDirectory: dir)
        }
        let decodeAlone = try write(spec(phases: #""decode": {"newTokens": 4}"#), "decode.json")
        assertFails(.specInvalid, ["phases.decode", "no prefill phase"]) {
            _ = try BenchPlan.make(arguments: [decodeAlone], workloadsDirectory: dir)
        }
        let encode = try write(spec(phases: #""encode": {"batch": 2, "sequence": 8}"#), "encode.json")
        assertFails(.unsupportedPhase, ["phases.encode", "gpt2 has none"]) {
            _ = try BenchPlan.make(arguments: [encode], workloadsDirectory: dir)
        }
        let budget = try write(spec(phases: #""train": {"batch": 2, "sequence": 16}"#), "budget.json")
        assertFails(.specInvalid, ["exactly one of steps and tokens"]) {
            _ = try BenchPlan.make(arguments: [budget], workloadsDirectory: dir)
        }
        assertFails(.unknownSuite, ["'nosuch'", "neither a file nor a suite"]) {
            _ = try BenchPlan.make(arguments: ["nosuch"], workloadsDirectory: dir)
        }
    }

    func testSuiteWithAMissingFileIsRefused() throws {
        _ = try write(spec("a"), "a.json")
        let suite = try write(#"{"schema": 1, "name": "mine", "workloads": ["a.json", "gone.json"]}"#, "suite.json")
        assertFails(.suiteMissingFile, ["gone.json", "does not exist"]) {
            _ = try BenchPlan.make(arguments: [suite], workloadsDirectory: dir)
        }
    }

    func testTokenBudgetSweepAndNonStandardCorpus() throws {
        let path = try write(
            spec(phases: #""train": {"batch": 2, "sequence": 16, "tokens": 100}"#, sha: String(repeating: "0", count: 64)), "w.json")
        let plan = try BenchPlan.make(arguments: [path], workloadsDirectory: dir, repeats: 2, idleSeconds: 0)
        XCTAssertEqual(plan.workloads[0].spec.trainSteps, 4, "⌈100 ÷ (2 × 16)⌉")
        XCTAssertFalse(plan.workloads[0].standard, "the corpus's hash is not the spec's")
        assertFails(.corpusMismatch, ["SHA-256", "not the standard", "--strict"]) {
            _ = try BenchPlan.make(arguments: [path], workloadsDirectory: dir, strict: true)
        }
        let swept = try BenchPlan.make(arguments: [path], workloadsDirectory: dir, sweepBatches: [1, 4])
        XCTAssertEqual(swept.workloads.map(\.name), ["w@batch=1", "w@batch=2", "w@batch=4"], "the spec's own batch joins the sweep")
        XCTAssertEqual(swept.workloads.map { $0.spec.phases.train!.batch }, [1, 2, 4])
        XCTAssertEqual(swept.sweep["w@batch=4"]?.base, "w")
    }
}
