import Engine

/// A reference workload: the model, the data, and the phases to measure, read from a JSON spec file.
///
/// Schema version 1 (`"schema": 1`), every key below and nothing else (an unknown key is an error, so a typo is
/// never ignored):
///
/// ```json
/// {
///   "schema": 1, "name": "small-llama", "description": "…",
///   "model": {"architecture": "llama", "layers": 4, "width": 128, "heads": 4, "kvHeads": 2, "context": 64},
///   "data": {"corpus": "/usr/share/games/fortunes", "sha256": "…", "tokenizer": "byte"},
///   "seed": 1, "warmupSteps": 1, "repeats": 5,
///   "phases": {
///     "train": {"batch": 8, "sequence": 64, "steps": 40, "learningRate": 0.002, "evaluationBatches": 8},
///     "prefill": {"batch": 4, "promptTokens": 48, "rounds": 8},
///     "decode": {"newTokens": 16, "temperature": 0}
///   }
/// }
/// ```
///
/// `model` takes `ModelShape`'s keys (the `model train` flags) plus `context`; `train` takes `steps` or a `tokens`
/// budget (steps = ⌈tokens ÷ (batch × sequence)⌉); `decode` continues each prefill round's prompts, so it needs
/// `prefill`; `encode` is reserved (refused: encoders are measured by `model bench --phase encode`). `warmupSteps`
/// untimed training steps and one untimed
/// inference round come before each repeat's measured windows.
public struct WorkloadSpec: Codable, Sendable, Equatable {
    public static let schemaVersion = 1

    public struct Model: Codable, Sendable, Equatable {
        public var architecture: Architecture
        public var layers, width: Int
        public var heads, kvHeads, hidden, experts, expertsPerToken: Int?
        /// Width of each attention head (GPT-2, Llama, mixture; default width ÷ heads): the shape a head-pruned model
        /// keeps (`model prune --attention`).
        public var headSize: Int?
        /// Longest sequence the model takes (default: the longest the phases use).
        public var context: Int?
        /// Weights for evaluation, prefill and decode (`fp32` by default; `bf16`, or `int8` in groups of 32 as
        /// llama.cpp's Q8_0): GPT-2 and dense Llama. Training is fp32; the trained weights are converted after it,
        /// and the validation loss is taken both before and after, so a variant's quality cost is in its own row.
        public var precision: WeightPrecision?

        public var shape: ModelShape {
            ModelShape(
                architecture: architecture, layers: layers, width: width, heads: heads, kvHeads: kvHeads, hidden: hidden,
                experts: experts, expertsPerToken: expertsPerToken, headSize: headSize)
        }
    }

    public struct Data: Codable, Sendable, Equatable {
        /// A text file or directory.
        public var corpus: String
        /// The SHA-256 of the corpus bytes the workload is standard for (hex); absent: not checked.
        public var sha256: String?
        /// `byte` (256 ids), or `gpt2` with `vocab` and `merges` files.
        public var tokenizer: String
        public var vocab: String?
        public var merges: String?
    }

    public struct Train: Codable, Sendable, Equatable {
        public var batch, sequence: Int
        public var steps, tokens: Int?
        public var learningRate: Float?
        public var evaluationBatches: Int?
    }

    public struct Prefill: Codable, Sendable, Equatable {
        public var batch: Int
        public var promptTokens: Int
        /// Prompts are prefilled this many times per repeat (a fresh cache each time) so the window is long enough to
        /// measure; default 1.
        public var rounds: Int?
    }

    public struct Decode: Codable, Sendable, Equatable {
        public var newTokens: Int
        /// 0 is greedy (default).
        public var temperature: Float?
        public var topK: Int?
        public var topP: Float?
    }

    public struct Encode: Codable, Sendable, Equatable {
        public var batch, sequence: Int
        public var rounds: Int?
    }

    public struct Phases: Codable, Sendable, Equatable {
        public var train: Train?
        public var prefill: Prefill?
        public var decode: Decode?
        public var encode: Encode?
    }

    public var schema: Int
    public var name: String
    public var description: String?
    public var model: Model
    public var data: Data
    public var seed: UInt64?
    public var warmupSteps: Int?
    public var repeats: Int?
    public var phases: Phases

    /// The keys each object takes, for rejecting unknown ones.
    static let keys: SpecKeys = .object([
        "schema": .count(1...1), "name": .text, "description": .text, "seed": .count(0...(1 << 53)), "warmupSteps": .count(0...10_000),
        "repeats": .count(1...1_000),
        "model": .object([
            "architecture": .text, "layers": .count(1...256), "width": .count(1...65_536), "heads": .count(1...1_024),
            "kvHeads": .count(1...1_024), "hidden": .count(1...262_144), "experts": .count(0...1_024), "expertsPerToken": .count(1...64),
            "headSize": .count(1...4_096), "context": .count(1...131_072), "precision": .text,
        ]),
        "data": .object(["corpus": .text, "sha256": .text, "tokenizer": .text, "vocab": .text, "merges": .text]),
        "phases": .object([
            "train": .object([
                "batch": .count(1...65_536), "sequence": .count(1...131_072), "steps": .count(1...10_000_000),
                "tokens": .count(1...1_000_000_000_000), "learningRate": .number(0...10, above: true),
                "evaluationBatches": .count(1...100_000),
            ]),
            "prefill": .object(["batch": .count(1...65_536), "promptTokens": .count(1...131_072), "rounds": .count(1...100_000)]),
            "decode": .object([
                "newTokens": .count(1...131_072), "temperature": .number(0...100), "topK": .count(1...1_000_000),
                "topP": .number(0...1, above: true),
            ]),
            "encode": .object(["batch": .count(1...65_536), "sequence": .count(1...131_072), "rounds": .count(1...100_000)]),
        ]),
    ])

    /// Phases in the order a repeat runs them.
    public var phaseNames: [String] {
        var names: [String] = []
        if phases.train != nil { names.append("train") }
        if phases.prefill != nil { names.append("prefill") }
        if phases.decode != nil { names.append("decode") }
        if phases.encode != nil { names.append("encode") }
        return names
    }

    public var trainSteps: Int? {
        guard let t = phases.train else { return nil }
        if let steps = t.steps { return steps }
        return t.tokens.map { ($0 + t.batch * t.sequence - 1) / (t.batch * t.sequence) }
    }

    /// The longest sequence any phase needs.
    var longestSequence: Int {
        max(
            phases.train?.sequence ?? 0, (phases.prefill?.promptTokens ?? 0) + (phases.decode?.newTokens ?? 0),
            phases.encode?.sequence ?? 0)
    }

    /// Checks what decoding cannot: ranges, required combinations, supported phases.
    /// - Throws: `BenchError.specInvalid` naming the field and a valid value; `unsupportedPhase`.
    func validate(file: String) throws {
        func bad(_ field: String, _ problem: String, _ fix: String) -> BenchError {
            .init(.specInvalid, "\(file): \(field) \(problem)", fix: fix)
        }
        guard schema == Self.schemaVersion else {
            throw bad(
                "schema", "is \(schema), but this wattprint reads schema \(Self.schemaVersion)", "set \"schema\": \(Self.schemaVersion)")
        }
        if name.isEmpty || name.contains(where: { $0 == "/" || $0.isWhitespace }) {
            throw bad("name", "'\(name)' is empty or has spaces or slashes", "use a short name like \"small-gpt2\"")
        }
        if let r = repeats, r < 1 { throw bad("repeats", "is \(r)", "use at least 1 (5 for a median with an interval)") }
        if let w = warmupSteps, w < 0 { throw bad("warmupSteps", "is \(w)", "use 0 or more") }
        if phaseNames.isEmpty { throw bad("phases", "has none", "add at least one of train, prefill, decode, encode") }
        if let t = phases.train {
            if t.batch < 1 || t.sequence < 1 {
                throw bad("phases.train", "needs batch and sequence ≥ 1", "e.g. \"batch\": 8, \"sequence\": 64")
            }
            if (t.steps == nil) == (t.tokens == nil) {
                throw bad("phases.train", "needs exactly one of steps and tokens", "give \"steps\": 40 or a token budget \"tokens\": 20480")
            }
            if let s = trainSteps, s < 1 { throw bad("phases.train.steps", "is \(s)", "use at least 1") }
        }
        if let p = phases.prefill {
            if p.batch < 1 || p.promptTokens < 1 || (p.rounds ?? 1) < 1 {
                throw bad("phases.prefill", "needs batch, promptTokens and rounds ≥ 1", "e.g. \"batch\": 4, \"promptTokens\": 48")
            }
        }
        if let d = phases.decode {
            guard phases.prefill != nil else {
                throw bad(
                    "phases.decode", "continues the prefill's prompts, but there is no prefill phase",
                    "add \"prefill\": {\"batch\": 4, \"promptTokens\": 48}")
            }
            if d.newTokens < 1 { throw bad("phases.decode.newTokens", "is \(d.newTokens)", "use at least 1") }
            if let t = d.temperature, t < 0 { throw bad("phases.decode.temperature", "is \(t)", "use 0 (greedy) or more") }
        }
        if phases.encode != nil {
            throw BenchError(
                .unsupportedPhase,
                "\(file): phases.encode is not a phase of the suite (it runs train, prefill and decode)",
                fix: "remove the encode phase, and measure an encoder's with `wattprint model bench --arch bert|t5 --phase encode`")
        }
        if let c = model.context, c < longestSequence {
            throw bad(
                "model.context", "is \(c), shorter than the \(longestSequence) tokens a phase needs",
                "raise it to at least \(longestSequence) or omit it")
        }
        if !["byte", "gpt2"].contains(data.tokenizer) {
            throw bad("data.tokenizer", "is '\(data.tokenizer)'", "use \"byte\", or \"gpt2\" with \"vocab\" and \"merges\" files")
        }
        if let precision = model.precision, precision != .fp32,
            !(model.architecture == .gpt2 || (model.architecture == .llama && (model.experts ?? 0) == 0))
        {
            throw bad(
                "model.precision", "is \(precision.rawValue), but reduced-precision weights exist for GPT-2 and dense Llama only",
                "drop \"precision\" or use \"architecture\": \"gpt2\" or \"llama\"")
        }
        if data.tokenizer == "gpt2", data.vocab == nil || data.merges == nil {
            throw bad("data", "uses the gpt2 tokenizer without its files", "add \"vocab\": \"vocab.json\", \"merges\": \"merges.txt\"")
        }
    }
}
