@testable import Benchmarks
import Engine
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
        let variants = try BenchPlan.make(arguments: ["variants"], workloadsDirectory: workloads)
        XCTAssertEqual(variants.workloads.map(\.precision), [.fp32, .bf16, .int8, .fp32])
        XCTAssertEqual(Set(variants.workloads.map(\.config.configuration.channels)), [512], "one Llama, four ways")
        let small = try BenchPlan.make(arguments: ["small"], workloadsDirectory: workloads)
        let active = small.workloads.map { $0.config.configuration.activeParameterCount }
        XCTAssertLessThan(Double(active.max()!) / Double(active.min()!), 1.1, "small's architectures have similar active sizes: \(active)")
        XCTAssertEqual(small.repeats, 6, "six repeats: the median's [min, max] covers it 96.9 % of the time, over 95 %")
    }

    /// A head-pruned shape (`headSize`) reaches the workload's model; an architecture without heads of its own is refused.
    func testSpecHeadSizeShapesTheModel() throws {
        let pruned = try write(
            spec().replacingOccurrences(of: #""heads": 2}"#, with: #""heads": 2, "headSize": 8}"#), "pruned.json")
        let plan = try BenchPlan.make(arguments: [pruned], workloadsDirectory: dir)
        let config = try XCTUnwrap(plan.workloads.first?.config.configuration as? GPT2Config)
        XCTAssertEqual(config.attentionWidth, 16)
        let rnn = try write(
            spec(arch: "rnn").replacingOccurrences(of: #""heads": 2}"#, with: #""headSize": 8}"#), "rnn.json")
        XCTAssertThrowsError(try BenchPlan.make(arguments: [rnn], workloadsDirectory: dir)) { error in
            XCTAssertTrue("\(error)".contains("headSize"), "\(error)")
        }
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
        assertFails(.specMalformed, ["type.json (line 5): 'phases.train.batch' should be a whole number, got \"eight\""]) {
            _ = try BenchPlan.make(arguments: [type], workloadsDirectory: dir)
        }
        for (phases, words) in [
            (#""train": {"batch": 2, "sequence": 16, "steps": 2.5}"#, "'phases.train.steps' should be a whole number, got 2.5"),
            (#""train": {"batch": 1000000000, "sequence": 16, "steps": 2}"#, "'phases.train.batch' is 1000000000, outside 1…65536"),
            (
                #""train": {"batch": 2, "sequence": 16, "steps": 2, "learningRate": -0.1}"#,
                "'phases.train.learningRate' is -0.1, outside (0.0, 10.0]"
            ),
            (
                #""prefill": {"batch": 2, "promptTokens": 8}, "decode": {"newTokens": 4, "topP": 2}"#,
                "'phases.decode.topP' is 2, outside (0.0, 1.0]"
            ),
            (#""train": null"#, "'phases.train' should be an object"),
        ] {
            let path = try write(spec(phases: phases), "range-\(words.count).json")
            assertFails(.specMalformed, [words]) { _ = try BenchPlan.make(arguments: [path], workloadsDirectory: dir) }
        }
        let arch = try write(spec(arch: "cnn"), "arch.json")
        assertFails(
            .unknownArchitecture,
            ["arch.json (line 3)", "unknown architecture 'cnn'", "gpt2, llama, moe, bert, t5, rnn, lstm, gru, ae, vae, gan"]
        ) {
            _ = try BenchPlan.make(arguments: [arch], workloadsDirectory: dir)
        }
        let decodeAlone = try write(spec(phases: #""decode": {"newTokens": 4}"#), "decode.json")
        assertFails(.specInvalid, ["phases.decode", "no prefill phase"]) {
            _ = try BenchPlan.make(arguments: [decodeAlone], workloadsDirectory: dir)
        }
        let encode = try write(spec(phases: #""encode": {"batch": 2, "sequence": 8}"#), "encode.json")
        assertFails(.unsupportedPhase, ["phases.encode", "not a phase of the suite", "--phase encode"]) {
            _ = try BenchPlan.make(arguments: [encode], workloadsDirectory: dir)
        }
        let budget = try write(spec(phases: #""train": {"batch": 2, "sequence": 16}"#), "budget.json")
        assertFails(.specInvalid, ["exactly one of steps and tokens"]) {
            _ = try BenchPlan.make(arguments: [budget], workloadsDirectory: dir)
        }
        assertFails(.unknownSuite, ["'nosuch'", "neither a file nor a suite"]) {
            _ = try BenchPlan.make(arguments: ["nosuch"], workloadsDirectory: dir)
        }
        // Each message says what the fix is in this spec's own terms.
        let schema = try write(spec().replacingOccurrences(of: #""schema": 1"#, with: #""schema": 2"#), "schema2.json")
        assertFails(.specMalformed, ["'schema' is 2, but this wattprint reads only 1", "set it to 1"]) {
            _ = try BenchPlan.make(arguments: [schema], workloadsDirectory: dir)
        }
        let list = try write("[1, 2]", "list.json")
        assertFails(.specMalformed, ["list.json: the file should hold one JSON object { … }, got a list"]) {
            _ = try BenchPlan.make(arguments: [list], workloadsDirectory: dir)
        }
        let heads = try write(spec().replacingOccurrences(of: #""heads": 2"#, with: #""heads": 3"#), "heads.json")
        assertFails(.specInvalid, ["width 32 is not divisible by heads 3", "choose heads that divide the width 32: 1, 2, 4, 8 or 16"]) {
            _ = try BenchPlan.make(arguments: [heads], workloadsDirectory: dir)
        }
        // The engine names its own flag (--seq); the fix says which spec key that is.
        let sequence = try write(spec(phases: #""train": {"batch": 2, "sequence": 60000, "steps": 3}"#), "sequence.json")
        assertFails(.specInvalid, ["smaller --seq", "--seq a phase's sequence (or promptTokens)"]) {
            _ = try BenchPlan.make(arguments: [sequence], workloadsDirectory: dir)
        }
    }

    func testSuiteWithAMissingFileIsRefused() throws {
        _ = try write(spec("a"), "a.json")
        let suite = try write(#"{"schema": 1, "name": "mine", "workloads": ["a.json", "gone.json"]}"#, "suite.json")
        assertFails(.suiteMissingFile, ["gone.json", "does not exist"]) {
            _ = try BenchPlan.make(arguments: [suite], workloadsDirectory: dir)
        }
    }

    func testOversizedWorkloadsAreRefusedBeforeRunning() throws {
        let wide = try write(spec(extra: "").replacingOccurrences(of: #""width": 32"#, with: #""width": 65536"#), "wide.json")
        assertFails(.specInvalid, ["wide.json", "needs about", "GiB", "available", "shrink model.layers, model.width"]) {
            _ = try BenchPlan.make(arguments: [wide], workloadsDirectory: dir, availableBytes: 24 << 30)
        }
        let long = try write(spec(phases: #""train": {"batch": 64, "sequence": 16, "steps": 10000000}"#), "long.json")
        assertFails(.specInvalid, ["long.json", "FLOPs a repeat", "1 TFLOP/s", "--max-hours"]) {
            _ = try BenchPlan.make(arguments: [long], workloadsDirectory: dir, maximumHours: 0.5)
        }
        let shapes = try write(spec(arch: "llama", extra: "").replacingOccurrences(of: #""heads": 2"#, with: #""heads": 3"#), "heads.json")
        assertFails(.specInvalid, ["heads.json", "model:", "heads 3"]) {
            _ = try BenchPlan.make(arguments: [shapes], workloadsDirectory: dir)
        }
        let missing = try write(spec().replacingOccurrences(of: corpus, with: "/nope/corpus"), "missing.json")
        assertFails(.specInvalid, ["missing.json", "data.corpus", "/nope/corpus"]) {
            _ = try BenchPlan.make(arguments: [missing], workloadsDirectory: dir)
        }
        let badHash = try write(spec(sha: "abc"), "hash.json")
        assertFails(.specInvalid, ["data.sha256 'abc' is not a SHA-256"]) {
            _ = try BenchPlan.make(arguments: [badHash], workloadsDirectory: dir)
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
        let unchecked = try write(spec(phases: #""train": {"batch": 2, "sequence": 16, "steps": 2}"#), "unchecked.json")
        let plain = try BenchPlan.make(arguments: [unchecked], workloadsDirectory: dir)
        XCTAssertFalse(plain.workloads[0].standard, "a spec without a hash cannot vouch for its corpus")
        XCTAssertFalse(plain.workloads[0].corpusChecked)
        assertFails(.corpusMismatch, ["names no data.sha256", "sha256"]) {
            _ = try BenchPlan.make(arguments: [unchecked], workloadsDirectory: dir, strict: true)
        }
        let swept = try BenchPlan.make(arguments: [path], workloadsDirectory: dir, sweepBatches: [1, 4])
        XCTAssertEqual(swept.workloads.map(\.name), ["w@batch=1", "w@batch=2", "w@batch=4"], "the spec's own batch joins the sweep")
        XCTAssertEqual(swept.workloads.map { $0.spec.phases.train!.batch }, [1, 2, 4])
        XCTAssertEqual(swept.sweep["w@batch=4"]?.base, "w")
    }

    func testContextSweepServesEachModelAtEveryPromptLength() throws {
        let path = try write(spec(), "served.json")
        let plan = try BenchPlan.make(arguments: [path], workloadsDirectory: dir, sweepSequences: [32, 8, 64])
        XCTAssertEqual(plan.workloads.map(\.name), ["w@seq=8", "w@seq=32", "w@seq=64"])
        XCTAssertEqual(plan.workloads.map { $0.spec.phases.prefill!.promptTokens }, [8, 32, 64])
        XCTAssertTrue(plan.workloads.allSatisfy { $0.spec.phases.train == nil }, "a sweep serves; it does not train")
        XCTAssertEqual(plan.workloads.map { $0.config.configuration.maxSequence }, [12, 36, 68], "context = prompt + the 4 decoded")
        XCTAssertEqual(plan.contextSweep["w@seq=64"]?.promptTokens, 64)
        // Attention's share grows with the context, by the configuration's own formula.
        let shares = plan.workloads.map {
            ContextSweep.attentionShare($0.config.configuration, context: $0.spec.phases.prefill!.promptTokens, logitRows: 0)
        }
        XCTAssertEqual(shares, shares.sorted())
        let c = plan.workloads[0].config.configuration
        let expected =
            (c.forwardFLOPs(tokens: 1, attentionContext: 8, logitRows: 0) - c.forwardFLOPs(tokens: 1, attentionContext: 0, logitRows: 0))
            / c.forwardFLOPs(tokens: 1, attentionContext: 8, logitRows: 0)
        XCTAssertEqual(shares[0], expected, accuracy: 1e-12)
        let attention: Double = 4 * 32 * 8, blocks: Double = 24 * 32 * 32
        XCTAssertEqual(shares[0], attention / (blocks + attention), accuracy: 1e-12, "GPT-2: 4·C·T over 24·C² + 4·C·T per layer")
        let trainOnly = try write(spec(phases: #""train": {"batch": 2, "sequence": 16, "steps": 2}"#), "train-only.json")
        assertFails(.specInvalid, ["--sweep seq=", "prefill"]) {
            _ = try BenchPlan.make(arguments: [trainOnly], workloadsDirectory: dir, sweepSequences: [8])
        }
        assertFails(.specInvalid, ["one --sweep"]) {
            _ = try BenchPlan.make(arguments: [path], workloadsDirectory: dir, sweepBatches: [1], sweepSequences: [8])
        }
    }
}
