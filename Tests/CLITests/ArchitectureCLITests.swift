import Accounting
import Engine
import Foundation
import Ledger
import Measures
import Reports
import XCTest

/// `--arch` through every model command: train a tiny Llama and mixture of experts, read them back with info,
/// eval and generate, refuse a checkpoint of another architecture, and bench a mixture with its expert load.
final class ArchitectureCLITests: XCTestCase {
    func corpus(_ dir: URL) throws -> String {
        let file = dir.appendingPathComponent("corpus.txt")
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60).write(
            to: file, atomically: false, encoding: .utf8)
        return file.path
    }

    func testTrainedMixtureRoundTripsThroughInfoEvalAndGenerate() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path, checkpoint = dir.appendingPathComponent("moe.safetensors").path
        let train = try CLI.run([
            "model", "train", "--corpus", try corpus(dir), "--arch", "moe", "--layers", "1", "--width", "32", "--heads", "4",
            "--kv-heads", "2", "--experts", "4", "--experts-per-token", "2", "--seq", "16", "--batch", "2", "--steps", "3",
            "--out", checkpoint, "--ledger", ledger, "--region", "FR", "--json",
        ])
        XCTAssertEqual(train.status, 0, train.stderr)
        let report = try XCTUnwrap(try json(train.stdout) as? [String: Any])
        let config = try XCTUnwrap(report["config"] as? [String: Any])
        XCTAssertEqual(config["architecture"] as? String, "moe")
        XCTAssertEqual(config["hidden"] as? Int, 48, "8/3 × 32 = 85.3 → split over 2 experts per token → 48 (multiple of 16)")

        let info = try XCTUnwrap(try json(try CLI.run(["model", "info", checkpoint, "--json"]).stdout) as? [String: Any])
        XCTAssertEqual(info["architecture"] as? String, "moe")
        let total = try XCTUnwrap(info["parameters"] as? Int), active = try XCTUnwrap(info["activeParameters"] as? Int)
        XCTAssertEqual(total - active, 1 * (4 - 2) * 3 * 48 * 32, "two unused experts of 3 matrices 48 × 32")
        let text = try CLI.run(["model", "info", checkpoint])
        XCTAssertTrue(text.stdout.contains("architecture moe: 1 layers × 32, 4 heads (2 KV), SwiGLU 48, 4 experts (top-2)"), text.stdout)

        let eval = try CLI.run([
            "model", "eval", checkpoint, "--arch", "moe", "--corpus", try corpus(dir), "--seq", "16", "--max-batches", "2", "--json",
        ])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual((try json(eval.stdout) as? [String: Any])?["tokens"] as? Int, 2 * 4 * 16)
        let generate = try CLI.run(["model", "generate", checkpoint, "--prompt", "the ", "--max-tokens", "5", "--seed", "1", "--json"])
        XCTAssertEqual(generate.status, 0, generate.stderr)

        let wrong = try CLI.run(["model", "generate", checkpoint, "--arch", "llama", "--prompt", "the "])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(
            wrong.stderr.contains("holds a moe model, not --arch llama") && wrong.stderr.contains("pass --arch moe"), wrong.stderr)

        let show = try XCTUnwrap(
            try json(try CLI.run(["show", "\(report["runID"] as! Int)", "--ledger", ledger, "--json"]).stdout) as? [String: Any])
        XCTAssertNotNil(show["joulesPerToken"])
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testEncoderAndEncoderDecoderTrainEvaluateAndBench() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        for arch in ["bert", "t5"] {
            let checkpoint = dir.appendingPathComponent("\(arch).safetensors").path
            let train = try CLI.run([
                "model", "train", "--corpus", try corpus(dir), "--arch", arch, "--layers", "1", "--width", "32", "--heads", "2", "--seq",
                "16",
                "--batch", "2", "--steps", "2", "--out", checkpoint, "--ledger", ledger, "--region", "FR", "--json",
            ])
            XCTAssertEqual(train.status, 0, train.stderr)
            let report = try XCTUnwrap(try json(train.stdout) as? [String: Any])
            let config = try XCTUnwrap(report["config"] as? [String: Any])
            XCTAssertEqual(config["architecture"] as? String, arch)
            XCTAssertEqual(
                config["vocabularySize"] as? Int, arch == "bert" ? 258 : 358, "the byte tokenizer's 256 ids, then the special tokens")
            let evaluation = try XCTUnwrap((report["evaluations"] as? [[String: Any]])?.last)
            XCTAssertNotNil(evaluation["accuracy"], "\(arch) reports accuracy")

            let eval = try CLI.run([
                "model", "eval", checkpoint, "--corpus", try corpus(dir), "--seq", "16", "--max-batches", "2", "--json",
            ])
            XCTAssertEqual(eval.status, 0, eval.stderr)
            let scored = try XCTUnwrap(try json(eval.stdout) as? [String: Any])
            XCTAssertEqual(scored["objective"] as? String, arch == "bert" ? "masked-language-model" : "span-corruption")
            // 2 batches of 4 windows; BERT scores round(0.15 · 16) = 2 masked positions per window, T5 the 2 noise tokens,
            // their sentinel and the end.
            XCTAssertEqual(scored["tokens"] as? Int, arch == "bert" ? 2 * 4 * 2 : 2 * 4 * 4)

            let bench = try CLI.run([
                "model", "bench", "--arch", arch, "--layers", "1", "--width", "32", "--heads", "2", "--vocab", "300", "--context", "32",
                "--phase", "encode", "--batch", "2", "--seq", "8", "--steps", "1", "--ledger", ledger, "--region", "FR", "--json",
            ])
            XCTAssertEqual(bench.status, 0, bench.stderr)
            let generate = try CLI.run(["model", "generate", checkpoint, "--prompt", "the ", "--max-tokens", "3", "--temperature", "0"])
            if arch == "bert" {
                XCTAssertNotEqual(generate.status, 0)
                XCTAssertTrue(generate.stderr.contains("does not generate text") && generate.stderr.contains("model eval"), generate.stderr)
                let decode = try CLI.run([
                    "model", "bench", "--arch", "bert", "--layers", "1", "--width", "32", "--heads", "2", "--vocab", "300", "--phase",
                    "decode",
                    "--ledger", ledger,
                ])
                XCTAssertNotEqual(decode.status, 0)
                XCTAssertTrue(
                    decode.stderr.contains("does not generate") && decode.stderr.contains("--phase train or encode"), decode.stderr)
            } else {
                XCTAssertEqual(generate.status, 0, generate.stderr)
            }
        }
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testRecurrentAutoencoderAndGANTrainAndBench() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        for (arch, extra) in [
            ("lstm", ["--width", "16"]), ("gru", ["--width", "16"]), ("rnn", ["--width", "16"]),
            ("ae", ["--hidden", "32", "--latent", "4"]),
            ("vae", ["--hidden", "32", "--latent", "4"]), ("gan", ["--hidden", "16", "--latent", "4", "--width", "4"]),
        ] {
            let checkpoint = dir.appendingPathComponent("\(arch).safetensors").path
            let train = try CLI.run(
                ["model", "train", "--corpus", try corpus(dir), "--arch", arch, "--seq", "16", "--batch", "4", "--steps", "2"] + extra + [
                    "--out", checkpoint, "--ledger", ledger, "--region", "FR", "--json",
                ])
            XCTAssertEqual(train.status, 0, "\(arch): \(train.stderr)")
            let report = try XCTUnwrap(try json(train.stdout) as? [String: Any])
            XCTAssertEqual((report["config"] as? [String: Any])?["architecture"] as? String, arch)
            let evaluation = try XCTUnwrap((report["evaluations"] as? [[String: Any]])?.last)
            if arch == "gan" { XCTAssertNotNil(evaluation["discrepancy"], "the GAN reports its MMD²") }
            if arch == "vae" { XCTAssertNotNil(evaluation["reconstruction"], "the VAE reports its reconstruction loss") }
            let info = try CLI.run(["model", "info", checkpoint, "--json"])
            XCTAssertEqual(info.status, 0, "\(arch): \(info.stderr)")
            let bench = try CLI.run(
                ["model", "bench", "--arch", arch, "--seq", "16", "--context", "16", "--batch", "2", "--steps", "1", "--vocab", "256"]
                    + extra + [
                        "--ledger", ledger, "--region", "FR", "--json",
                    ])
            XCTAssertEqual(bench.status, 0, "\(arch): \(bench.stderr)")
        }
        let generate = try CLI.run([
            "model", "generate", dir.appendingPathComponent("lstm.safetensors").path, "--prompt", "the ", "--max-tokens", "4",
            "--temperature", "0",
        ])
        XCTAssertEqual(generate.status, 0, generate.stderr)
        let gan = try CLI.run(["model", "eval", dir.appendingPathComponent("gan.safetensors").path, "--corpus", try corpus(dir)])
        XCTAssertNotEqual(gan.status, 0)
        XCTAssertTrue(gan.stderr.contains("two networks") && gan.stderr.contains("wattprint show"), gan.stderr)
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testPruneThenFineTuneFromTheSmallerCheckpoint() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let base = dir.appendingPathComponent("base.safetensors").path, pruned = dir.appendingPathComponent("pruned.safetensors").path
        let train = try CLI.run([
            "model", "train", "--corpus", try corpus(dir), "--arch", "llama", "--layers", "1", "--width", "32", "--heads", "2", "--hidden",
            "64",
            "--seq", "16", "--batch", "2", "--steps", "2", "--out", base, "--ledger", ledger, "--region", "FR",
        ])
        XCTAssertEqual(train.status, 0, train.stderr)
        let prune = try CLI.run(["model", "prune", base, "--mlp", "0.5", "--out", pruned, "--json"])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        let summary = try XCTUnwrap((try json(prune.stdout) as? [String: Any])?["mlp"] as? [String: Any])
        XCTAssertEqual(summary["widthAfter"] as? Int, 32)
        let tune = try CLI.run([
            "model", "train", "--corpus", try corpus(dir), "--initial", pruned, "--seq", "16", "--batch", "2", "--steps", "2", "--ledger",
            ledger,
            "--region", "FR", "--json",
        ])
        XCTAssertEqual(tune.status, 0, tune.stderr)
        XCTAssertEqual(((try json(tune.stdout) as? [String: Any])?["config"] as? [String: Any])?["hidden"] as? Int, 32)
        let refused = try CLI.run(["model", "train", "--corpus", try corpus(dir), "--initial", pruned, "--width", "64", "--ledger", ledger])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("brings its own shape"), refused.stderr)
        let gan = try CLI.run(["model", "prune", base, "--mlp", "2", "--out", pruned])
        XCTAssertTrue(gan.stderr.contains("--mlp 2.0"), gan.stderr)
        // A negative fraction is named, not read as another option.
        let negative = try CLI.run(["model", "prune", base, "--attention", "-0.2", "--out", pruned])
        XCTAssertNotEqual(negative.status, 0)
        XCTAssertTrue(negative.stderr.contains("--attention -0.2 is not a fraction"), negative.stderr)
    }

    /// GPT-2's heads through the CLI: pruned, fine-tuned from the smaller checkpoint, evaluated; the ledger verifies.
    func testGPT2HeadsPruneThenFineTuneAndEvaluate() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let base = dir.appendingPathComponent("base.safetensors").path, pruned = dir.appendingPathComponent("pruned.safetensors").path
        let train = try CLI.run([
            "model", "train", "--corpus", try corpus(dir), "--layers", "1", "--width", "32", "--heads", "4", "--seq", "16", "--batch", "2",
            "--steps", "2", "--out", base, "--ledger", ledger, "--region", "FR",
        ])
        XCTAssertEqual(train.status, 0, train.stderr)
        let prune = try CLI.run(["model", "prune", base, "--attention", "0.5", "--mlp", "0.25", "--out", pruned, "--json"])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        let report = try XCTUnwrap(try json(prune.stdout) as? [String: Any])
        XCTAssertEqual((report["attention"] as? [String: Any])?["widthAfter"] as? Int, 16, "2 of 4 heads of 8")
        XCTAssertEqual((report["mlp"] as? [String: Any])?["widthAfter"] as? Int, 96)
        let tuned = dir.appendingPathComponent("tuned.safetensors").path
        let tune = try CLI.run([
            "model", "train", "--corpus", try corpus(dir), "--initial", pruned, "--seq", "16", "--batch", "2", "--steps", "2", "--ledger",
            ledger, "--region", "FR", "--json", "--out", tuned,
        ])
        XCTAssertEqual(tune.status, 0, tune.stderr)
        let config = try XCTUnwrap((try json(tune.stdout) as? [String: Any])?["config"] as? [String: Any])
        XCTAssertEqual(config["heads"] as? Int, 2)
        XCTAssertEqual(config["headDimension"] as? Int, 8)
        // The pruned file says what made it; the fine-tune's run records it as its origin, and its own file keeps it.
        let record = try XCTUnwrap(try Checkpoint.load(path: pruned).info.pruning)
        XCTAssertEqual(record.source, base)
        XCTAssertEqual(record.attention?.widthAfter, 16)
        XCTAssertEqual(record.mlp?.widthAfter, 96)
        XCTAssertEqual(try Checkpoint.load(path: tuned).info.pruning, record)
        // Pruned again: the new record keeps the first as its history, and `model info` shows both.
        let twice = dir.appendingPathComponent("twice.safetensors").path
        XCTAssertEqual(try CLI.run(["model", "prune", pruned, "--mlp", "0.5", "--out", twice]).status, 0)
        XCTAssertEqual(try Checkpoint.load(path: twice).info.pruning?.earlier, [record])
        let info = try CLI.run(["model", "info", twice])
        XCTAssertEqual(info.stdout.components(separatedBy: "pruned       from").count, 3, info.stdout)
        XCTAssertTrue(info.stdout.contains("2 heads of 8"), info.stdout)
        let book = try Ledger(path: ledger, create: false)
        let origins = try book.runs().flatMap { run in
            try book.events(run: run.id!).compactMap { e -> CheckpointOrigin? in
                if case let .workload(w) = RunEvent(e) { return w.origin }
                return nil
            }
        }
        XCTAssertEqual(origins.count, 1, "only the fine-tune started from a checkpoint")
        XCTAssertEqual(origins.first?.path, pruned)
        XCTAssertEqual(origins.first?.sha256.count, 64)
        XCTAssertEqual(origins.first?.pruning, try JSONValue(encoding: record))
        let written = dir.appendingPathComponent("eval.txt").path
        let eval = try CLI.run(["model", "eval", pruned, "--corpus", try corpus(dir), "--output", written])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(try String(contentsOfFile: written, encoding: .utf8).contains("perplexity"), "--output gets the text report")
        XCTAssertEqual(try CLI.run(["verify", "--ledger", ledger]).status, 0)
    }

    func testWorkloadSpecCarriesTheArchitecture() throws {
        let dir = try scratchDirectory()
        let spec = dir.appendingPathComponent("llama.json")
        try #"{"architecture": "llama", "layers": 1, "width": 32, "heads": 4, "kvHeads": 1, "seq": 16, "batch": 2, "steps": 2}"#
            .write(to: spec, atomically: false, encoding: .utf8)
        let r = try CLI.run([
            "model", "train", spec.path, "--corpus", try corpus(dir), "--ledger", dir.appendingPathComponent("l.sqlite").path,
            "--region", "FR", "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try XCTUnwrap((try json(r.stdout) as? [String: Any])?["config"] as? [String: Any])
        XCTAssertEqual(config["architecture"] as? String, "llama")
        XCTAssertEqual(config["kvHeads"] as? Int, 1)
    }

    func testBadShapesNameTheFieldAndAValidChoice() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        func fails(_ flags: [String], _ words: [String]) throws {
            let r = try CLI.run(["model", "train", "--corpus", try corpus(dir), "--steps", "1", "--ledger", ledger] + flags)
            XCTAssertNotEqual(r.status, 0, flags.joined(separator: " "))
            for word in words { XCTAssertTrue(r.stderr.contains(word), "\(flags): \(r.stderr)") }
        }
        try fails(["--arch", "llama", "--width", "32", "--heads", "4", "--kv-heads", "3"], ["kv heads 3", "divide"])
        try fails(["--arch", "llama", "--width", "48", "--heads", "16"], ["head size 3", "odd"])
        try fails(
            ["--arch", "moe", "--width", "32", "--heads", "4", "--experts", "2", "--experts-per-token", "3"],
            ["experts per token 3", "--experts-per-token", "from 1 to 2"])
        try fails(["--arch", "gpt2", "--kv-heads", "2"], ["--kv-heads (kvHeads) applies to --arch llama or moe"])
        try fails(["--arch", "llama", "--experts", "4"], ["--experts (experts) applies to --arch moe, not llama"])
        try fails(["--arch", "cnn"], ["cnn"])
        try fails(["--arch", "bert", "--kv-heads", "2"], ["--kv-heads", "llama or moe"])
        try fails(["--arch", "t5", "--width", "48", "--heads", "5"], ["width 48", "heads 5"])
        let before = try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout
        try fails(
            ["--arch", "llama", "--width", "32", "--heads", "4", "--dropout", "0.1"], ["--dropout 0.1", "llama trains without dropout"])
        XCTAssertEqual(try CLI.run(["runs", "--ledger", ledger, "--json"]).stdout, before, "refused before a run is opened")
        for (index, (spec, words)) in [
            (#"{"architecture": "lama"}"#, ["unknown architecture 'lama'", "gpt2, llama, moe"]),
            (#"{"architecture": "llama", "kv_heads": 2}"#, ["unknown key 'kv_heads'", "kvHeads"]),
        ].enumerated() {
            let file = dir.appendingPathComponent("spec-\(index).json")
            try spec.write(to: file, atomically: false, encoding: .utf8)
            try fails([file.path], words)
        }
    }

    func testMixtureBenchReportsActiveParametersAndExpertLoad() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "bench", "--arch", "moe", "--layers", "1", "--width", "64", "--heads", "2", "--kv-heads", "1", "--experts", "4",
            "--vocab", "256", "--context", "32", "--seq", "16", "--batch", "2", "--steps", "2", "--ledger", ledger,
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("model        moe, 1 layers × 64, 2 heads (1 KV)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("active per token)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("experts      tokens routed per expert (all layers): "), r.stdout)
        let preset = try CLI.run(["model", "bench", "--preset", "llama-124m", "--arch", "gpt2", "--ledger", ledger])
        XCTAssertNotEqual(preset.status, 0)
        XCTAssertTrue(preset.stderr.contains("--preset llama-124m is llama, not --arch gpt2"), preset.stderr)
    }

    /// Decode prints the bound from the probes before and after the steps, then the paired figure: one more step for
    /// each timed one, each held to the probe read around it. (A 4 MiB probe: a debug build streams 1 GiB slowly.)
    func testDecodeBenchReportsTheBandwidthReadAroundPairedSteps() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "bench", "--arch", "gpt2", "--layers", "1", "--width", "32", "--vocab", "256", "--context", "32", "--seq", "8",
            "--phase", "decode", "--steps", "3", "--bandwidth-probe-bytes", "\(1 << 22)", "--ledger", ledger,
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("% of the bandwidth bound"), r.stdout)
        let paired = r.stdout.split(separator: "\n").first { $0.hasPrefix("paired       ") }
        XCTAssertNotNil(paired, r.stdout)
        XCTAssertTrue(paired?.contains("% of the bandwidth read around each step, median of 3 more steps (") == true, r.stdout)
        XCTAssertTrue(paired?.hasSuffix("GB/s), outside the energy window") == true, r.stdout)
        // Batch 1 decoded from the copy laid out in rows (the layer's four matrices, 32 × 384 weights), named in the memory
        // line; without it, the line names the probe alone.
        let memory = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("peak RSS") }, r.stdout)
        XCTAssertTrue(
            memory.hasSuffix(
                " and the copy of the weights laid out in rows that decoding reads, \(QuantityFormat.bytes(32 * 384 * 4)): WATTPRINT_DECODE_LAYOUT=stored reads them as stored)"
            ), String(memory))
        let stored = try CLI.run(
            [
                "model", "bench", "--arch", "gpt2", "--layers", "1", "--width", "32", "--vocab", "256", "--context", "32", "--seq", "8",
                "--phase", "decode", "--steps", "1", "--bandwidth-probe-bytes", "\(1 << 22)", "--ledger", ledger, "--json",
            ], env: ["WATTPRINT_DECODE_LAYOUT": "stored"])
        XCTAssertEqual(stored.status, 0, stored.stderr)
        let record = try JSONDecoder().decode(BenchReport.Record.self, from: Data(stored.stdout.utf8))
        XCTAssertEqual(record.bench.decodeCopyBytes, 0)
        let lines = BenchReport.build(record).blocks.compactMap {
            if case .line(let text) = $0 { return text }
            return nil
        }
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("peak RSS") && $0.hasSuffix("(includes the bandwidth probe's 4.00 MiB buffer)") },
            lines.joined(separator: "\n"))
    }

    /// A bench whose pool backed off says how much and why; a long run's steps are listed as the first 32 and the
    /// slowest rather than all of them on one line.
    func testBenchReportNamesThePoolsBackingOffAndShortensLongStepLists() throws {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run([
            "model", "bench", "--arch", "gpt2", "--layers", "1", "--width", "32", "--vocab", "256", "--context", "128", "--seq", "8",
            "--phase", "decode", "--steps", "40", "--bandwidth-probe-bytes", "\(1 << 22)", "--ledger", ledger, "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        var record = try JSONDecoder().decode(BenchReport.Record.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(record.bench.stepSeconds.count, 40)
        XCTAssertNotNil(record.bench.poolBackoff, "the pool's counts are recorded")
        func lines() -> [String] {
            BenchReport.build(record).blocks.compactMap {
                if case .line(let text) = $0 { return text }
                return nil
            }
        }
        let phase = try XCTUnwrap(lines().first { $0.hasPrefix("phase ") })
        let slowest = QuantityFormat.fixed(record.bench.stepSeconds.max()! * 1000, 1)
        XCTAssertTrue(phase.contains("40 timed steps: median "), phase)
        XCTAssertTrue(phase.hasSuffix("; slowest \(slowest))"), phase)
        XCTAssertEqual(phase.components(separatedBy: "first 32: ").last?.components(separatedBy: ", ").count, 32, phase)
        record.bench.poolBackoff = PoolBackoff(jobs: 200, backedOff: 0, backoffs: 0)
        XCTAssertFalse(lines().contains { $0.hasPrefix("pool ") })
        record.bench.poolBackoff = PoolBackoff(jobs: 200, backedOff: 50, backoffs: 3)
        XCTAssertTrue(
            lines().contains(
                "pool         25.0 % of the engine pool's 200 parallel jobs ran on one thread: the pool was held up, a worker losing its core mid-job or the caller waiting for one (other processes, or more runnable threads than cores; 3 backoffs; WATTPRINT_POOL_BACKOFF=off keeps every thread)"
            ), lines().joined(separator: "\n"))
        record.bench.stepSeconds = [0.001, 0.002]
        XCTAssertTrue(lines().contains { $0.hasSuffix("(all: 1.0, 2.0)") })
    }
}
