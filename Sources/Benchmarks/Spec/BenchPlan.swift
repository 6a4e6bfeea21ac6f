import Carbon
import Crypto
import Engine
import Foundation

/// A workload ready to run: its spec, model configuration, tokenised corpus and whether the corpus is the standard one.
public struct PlannedWorkload: Sendable {
    public let spec: WorkloadSpec
    /// The spec file.
    public let file: String
    public let config: AnyModelConfiguration
    public let tokens: TokenSplit
    /// SHA-256 of the corpus bytes read (hex).
    public let corpusSHA256: String
    public let corpusBytes: Int
    /// True when the spec names the corpus's SHA-256 and the corpus read has it: the figures are the standard
    /// workload's. False for a different corpus, and for a spec that names no hash (`corpusChecked` false).
    public let standard: Bool
    public let corpusChecked: Bool
    public let tokenizer: String

    public var name: String { spec.name }
    /// The weights inference and evaluation run with.
    public var precision: WeightPrecision { spec.model.precision ?? .fp32 }

    /// Memory one repeat needs at most, bytes: fp32 parameters, gradients and two AdamW moments for training, the
    /// activations kept for backward (a generous per-token count: 24 floats per channel plus the attention scores, per
    /// layer) and the logits; the KV cache and scratch for inference.
    public var estimatedBytes: Int {
        let c = config.configuration
        let parameters = Double(c.parameterSpecs.reduce(0) { $0 + $1.count })
        var floats = parameters
        if let t = spec.phases.train {
            let tokens = Double(t.batch * t.sequence)
            floats += 3 * parameters
            floats +=
                Double(c.layers) * tokens * (24 * Double(c.channels) + 2 * Double(t.sequence) * 16) + 3 * tokens
                * Double(c.paddedVocabularySize)
        }
        if let p = spec.phases.prefill {
            let context = Double(p.promptTokens + (spec.phases.decode?.newTokens ?? 0))
            floats += Double(p.batch) * context * Double(c.cacheFloatsPerPosition) + Double(p.batch) * Double(c.paddedVocabularySize)
            floats += Double(p.promptTokens) * 24 * Double(c.channels)
        }
        return Int(min(floats * 4, Double(Int.max / 2)))
    }

    /// Arithmetic of one repeat by the configuration's formula, FLOPs.
    public var estimatedFLOPsPerRepeat: Double {
        let c = config.configuration
        var flops = 0.0
        if let t = spec.phases.train, let steps = spec.trainSteps {
            flops += Double(steps + (spec.warmupSteps ?? 1)) * c.trainingStepFLOPs(B: t.batch, T: t.sequence)
        }
        if let p = spec.phases.prefill {
            let rounds = Double((p.rounds ?? 1) + 1)
            flops += rounds * Double(p.batch) * c.forwardFLOPs(tokens: p.promptTokens, attentionContext: p.promptTokens, logitRows: 1)
            if let d = spec.phases.decode {
                flops += rounds * Double(p.batch) * Double(d.newTokens) * c.flopsPerToken(.decode, context: p.promptTokens + d.newTokens)
            }
        }
        return flops
    }
}

func gib(_ bytes: Int) -> String { String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }

/// What `wattprint bench` will run, resolved and checked before anything is recorded.
public struct BenchPlan: Sendable {
    /// The suite's name, when one was named.
    public let suite: String?
    public let workloads: [PlannedWorkload]
    public let repeats: Int
    public let idleSeconds: Double
    /// With a batch sweep: each swept workload's name → the workload it varies and its batch.
    public let sweep: [String: (base: String, batch: Int)]
    /// Each spec's own batch (train's, else prefill's), by workload name.
    public let specBatches: [String: Int]
    /// With a context sweep: each swept workload's name → the workload it varies and its prompt length.
    public let contextSweep: [String: (base: String, promptTokens: Int)]

    /// Resolves each argument (a suite name found as `<workloads>/<name>/suite.json`, a suite file, or a workload spec
    /// file), reads and checks every spec and corpus.
    /// - Parameters:
    ///   - repeats, idleSeconds: command-line overrides of the suite's or spec's own.
    ///   - strict: refuse a corpus whose hash differs from the spec's, instead of marking the workload non-standard.
    ///   - sweepBatches: run every workload at each of these batch sizes (and its own) instead, named `NAME@batch=B`.
    ///   - availableBytes: memory the machine has free; a workload estimated to need more than 80 % of it is refused.
    ///   - maximumHours: a plan whose arithmetic alone would take longer at 1 TFLOP/s (faster than any CPU here) is
    ///     refused, so a typo'd size is caught before it runs for days.
    /// - Throws: `BenchError` naming the file, line and field; `EngineError` for an unreadable corpus or a bad model shape.
    public static func make(
        arguments: [String], workloadsDirectory: String, repeats: Int? = nil, idleSeconds: Double? = nil, strict: Bool = false,
        sweepBatches: [Int] = [], sweepSequences: [Int] = [], sweepKeepsSpecBatch: Bool = true, availableBytes: Int? = nil,
        maximumHours: Double = 24
    ) throws -> BenchPlan {
        guard !arguments.isEmpty else {
            throw BenchError(
                .unknownSuite, "no suite or workload given", fix: "run e.g. `wattprint bench small` or `wattprint bench my-spec.json`")
        }
        var files: [String] = []
        var suite: SuiteSpec?
        for argument in arguments {
            let path = try resolve(argument, in: workloadsDirectory)
            if let found = try readSuite(path) {
                suite = suite ?? found.spec
                files += found.workloads
            } else {
                files.append(path)
            }
        }
        var specs: [(WorkloadSpec, String)] = []
        for file in files {
            let spec = try SpecReader.read(WorkloadSpec.self, path: file, keys: WorkloadSpec.keys, example: exampleSpec)
            try spec.validate(file: file)
            if let clash = specs.first(where: { $0.0.name == spec.name }) {
                throw BenchError(
                    .specInvalid, "\(file): workload name '\(spec.name)' is also used by \(clash.1)", fix: "give each workload its own name"
                )
            }
            specs.append((spec, file))
        }
        var sweep: [String: (base: String, batch: Int)] = [:]
        var specBatches: [String: Int] = [:]
        for (spec, _) in specs { specBatches[spec.name] = spec.phases.train?.batch ?? spec.phases.prefill?.batch }
        if !sweepBatches.isEmpty {
            guard sweepBatches.allSatisfy({ $0 >= 1 }) else {
                throw BenchError(
                    .specInvalid, "--sweep batch=\(sweepBatches.map(String.init).joined(separator: ","))",
                    fix: "use batch sizes ≥ 1, e.g. batch=1,2,4,8,16")
            }
            specs = specs.flatMap { spec, file -> [(WorkloadSpec, String)] in
                // The spec's own batch rides along (the batch findings compare against it), unless only the swept
                // batches are asked for (a findings rerun of one variant).
                let own = sweepKeepsSpecBatch ? (specBatches[spec.name].map { [$0] } ?? []) : []
                return Array(Set(sweepBatches + own)).sorted().map { b in
                    var variant = spec
                    variant.name = "\(spec.name)@batch=\(b)"
                    if variant.phases.train != nil { variant.phases.train!.batch = b }
                    if variant.phases.prefill != nil { variant.phases.prefill!.batch = b }
                    sweep[variant.name] = (spec.name, b)
                    return (variant, file)
                }
            }
        }
        // A context sweep serves each workload's model at several prompt lengths: its inference phases only (the energy
        // of a token does not depend on what the weights learned), the context raised to fit.
        var contextSweep: [String: (base: String, promptTokens: Int)] = [:]
        if !sweepSequences.isEmpty {
            guard sweepSequences.allSatisfy({ $0 >= 1 }) else {
                throw BenchError(
                    .specInvalid, "--sweep seq=\(sweepSequences.map(String.init).joined(separator: ","))",
                    fix: "use prompt lengths ≥ 1, e.g. seq=64,128,256,512,1024")
            }
            guard sweepBatches.isEmpty else {
                throw BenchError(.specInvalid, "one --sweep at a time", fix: "sweep batch= or seq=, not both")
            }
            specs = specs.flatMap { spec, file -> [(WorkloadSpec, String)] in
                guard spec.phases.prefill != nil else { return [] }
                return sweepSequences.sorted().map { s in
                    var variant = spec
                    variant.name = "\(spec.name)@seq=\(s)"
                    variant.phases.train = nil
                    variant.phases.prefill!.promptTokens = s
                    variant.model.context = max(spec.model.context ?? 0, s + (spec.phases.decode?.newTokens ?? 0))
                    contextSweep[variant.name] = (spec.name, s)
                    return (variant, file)
                }
            }
            guard !specs.isEmpty else {
                throw BenchError(
                    .specInvalid, "--sweep seq= varies the prompt, and none of the workloads has a prefill phase",
                    fix: "sweep a suite or spec with phases.prefill (e.g. `wattprint bench small --sweep seq=64,128,256`)")
            }
        }
        var corpora: [String: (bytes: [UInt8], sha: String)] = [:]
        var planned: [PlannedWorkload] = []
        for (spec, file) in specs {
            let text = String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
            func inSpec<T>(_ field: [String], _ body: () throws -> T) throws -> T {
                do { return try body() } catch let error as EngineError {
                    throw BenchError(
                        .specInvalid, "\(file)\(SpecReader.lineSuffix(field, text)): \(field.joined(separator: ".")): \(error.description)",
                        fix: error.description.contains("--")
                            ? "change it in the spec, where a model flag (--heads, --width, …) is the model key of that name, --seq a phase's sequence (or promptTokens) and --batch its batch"
                            : "change it in the spec")
                }
            }
            if let hash = spec.data.sha256, hash.count != 64 || !hash.allSatisfy(\.isHexDigit) {
                throw BenchError(
                    .specInvalid,
                    "\(file)\(SpecReader.lineSuffix(["data", "sha256"], text)): data.sha256 '\(hash)' is not a SHA-256 (64 hex digits)",
                    fix: "put the corpus's hash there (sha256sum of the file, or what `wattprint bench` reports), or leave the key out")
            }
            let corpusPath = absolute(spec.data.corpus, relativeTo: file)
            let corpus: (bytes: [UInt8], sha: String)
            if let cached = corpora[corpusPath] {
                corpus = cached
            } else {
                let bytes = try inSpec(["data", "corpus"]) { try Corpus.load(path: corpusPath).bytes }
                corpus = (bytes, SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined())
                corpora[corpusPath] = corpus
            }
            let checked = spec.data.sha256 != nil
            let standard = spec.data.sha256.map { $0.lowercased() == corpus.sha } ?? false
            if strict && !standard {
                throw BenchError(
                    .corpusMismatch,
                    checked
                        ? "\(file): the corpus \(corpusPath) has SHA-256 \(corpus.sha), not the standard \(spec.data.sha256!)"
                        : "\(file): the spec names no data.sha256, so its corpus cannot be checked as standard",
                    fix: checked
                        ? "install the standard corpus (Debian's fortunes package for the suites), or drop --strict to record the run as non-standard"
                        : "add \"sha256\": \"\(corpus.sha)\" to data if this corpus is the standard one, or drop --strict")
            }
            let tokenizer: Tokenizer
            if spec.data.tokenizer == "gpt2" {
                tokenizer = try inSpec(["data", "vocab"]) {
                    try GPT2Tokenizer(
                        vocabularyPath: absolute(spec.data.vocab!, relativeTo: file),
                        mergesPath: absolute(spec.data.merges!, relativeTo: file))
                }
            } else {
                tokenizer = ByteTokenizer()
            }
            let window = max(spec.phases.train?.sequence ?? 0, spec.longestSequence)
            let split = try inSpec(["data", "corpus"]) { try TokenSplit(tokens: tokenizer.encode(bytes: corpus.bytes), window: window) }
            let config = try inSpec(["model"]) {
                try spec.model.shape.configuration(
                    vocabularySize: tokenizer.vocabularySize, maxSequence: spec.model.context ?? spec.longestSequence)
            }
            if config.architecture == .gan {
                throw BenchError(
                    .specInvalid,
                    "\(file)\(SpecReader.lineSuffix(["model", "architecture"], text)): \(spec.name) is a GAN, whose two networks the suite does not train",
                    fix: "measure it with `wattprint model bench --arch gan` and train it with `model train --arch gan`")
            }
            if ![.gpt2, .llama, .moe, .rnn, .lstm, .gru].contains(config.architecture),
                spec.phases.prefill != nil || spec.phases.decode != nil
            {
                throw BenchError(
                    .specInvalid,
                    "\(file)\(SpecReader.lineSuffix(["phases"], text)): \(spec.name) is a \(config.architecture.rawValue) model; the suite's prefill and decode phases feed text prompts to decoder-only models",
                    fix:
                        "keep only its train phase here, and measure its encode, prefill and decode with `wattprint model bench --arch \(config.architecture.rawValue) --phase …`"
                )
            }
            let workload = PlannedWorkload(
                spec: spec, file: file, config: config, tokens: split, corpusSHA256: corpus.sha, corpusBytes: corpus.bytes.count,
                standard: standard, corpusChecked: checked, tokenizer: spec.data.tokenizer)
            let bytes = workload.estimatedBytes
            if let availableBytes, Double(bytes) > 0.8 * Double(availableBytes) {
                throw BenchError(
                    .specInvalid,
                    "\(file): \(spec.name) needs about \(gib(bytes)) (parameters, gradients, optimizer state, activations and caches) but this machine has \(gib(availableBytes)) available",
                    fix: "shrink model.layers, model.width or the phases' batch and sequence")
            }
            let hours = workload.estimatedFLOPsPerRepeat / 1e12 / 3600
            if hours * Double(repeats ?? spec.repeats ?? 5) > maximumHours {
                throw BenchError(
                    .specInvalid,
                    "\(file): \(spec.name) is \(String(format: "%.3g", workload.estimatedFLOPsPerRepeat)) FLOPs a repeat: over \(String(format: "%.0f", hours)) h even at 1 TFLOP/s",
                    fix: "shrink the model or the phases' steps, rounds and tokens, or pass --max-hours if that is meant")
            }
            planned.append(workload)
        }
        let chosenRepeats = repeats ?? suite?.repeats ?? planned.compactMap(\.spec.repeats).max() ?? 5
        let idle = idleSeconds ?? suite?.idleSeconds ?? 10
        guard chosenRepeats >= 1 else { throw BenchError(.specInvalid, "--repeats \(chosenRepeats)", fix: "use at least 1") }
        guard idle >= 0, idle.isFinite else {
            throw BenchError(.specInvalid, "--idle \(idle)", fix: "use 0 or more seconds (10 by default)")
        }
        return BenchPlan(
            suite: suite?.name, workloads: planned, repeats: chosenRepeats, idleSeconds: idle, sweep: sweep, specBatches: specBatches,
            contextSweep: contextSweep)
    }

    static let exampleSpec =
        #"{"schema": 1, "name": "mine", "model": {"architecture": "gpt2", "layers": 2, "width": 64}, "data": {"corpus": "text.txt", "tokenizer": "byte"}, "phases": {"train": {"batch": 4, "sequence": 32, "steps": 20}}}"#

    /// A suite name → its suite.json; a path as given.
    static func resolve(_ argument: String, in directory: String) throws -> String {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: argument, isDirectory: &isDirectory) {
            return isDirectory.boolValue ? (argument as NSString).appendingPathComponent("suite.json") : argument
        }
        let named = ((directory as NSString).appendingPathComponent(argument) as NSString).appendingPathComponent("suite.json")
        if !argument.contains("/"), !argument.hasSuffix(".json"), fm.fileExists(atPath: named) { return named }
        let known =
            (try? fm.contentsOfDirectory(atPath: directory))?.filter {
                fm.fileExists(atPath: ((directory as NSString).appendingPathComponent($0) as NSString).appendingPathComponent("suite.json"))
            }.sorted() ?? []
        // A near miss ("smal") is named first: within a third of the name's length, as region names are suggested.
        let near = EditDistance.closest(to: argument, in: known, limit: 1).first {
            EditDistance.between(argument.lowercased(), $0.lowercased()) <= max(2, argument.count / 3)
        }
        throw BenchError(
            .unknownSuite, "'\(argument)' is neither a file nor a suite in \(directory)",
            fix: known.isEmpty
                ? "pass a spec file, or --workloads-directory DIR where suites live (DIR/NAME/suite.json)"
                : (near.map { "did you mean \($0)? " } ?? "")
                    + "use one of the suites \(known.joined(separator: ", ")) or a spec file (or --workloads-directory DIR)")
    }

    /// The suite at `path` and its workload files, or nil if the file is a workload spec.
    static func readSuite(_ path: String) throws -> (spec: SuiteSpec, workloads: [String])? {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["workloads"] != nil
        else { return nil }
        let suite = try SpecReader.read(
            SuiteSpec.self, path: path, keys: SuiteSpec.keys, example: #"{"schema": 1, "name": "small", "workloads": ["gpt2.json"]}"#)
        guard suite.schema == 1 else {
            throw BenchError(
                .specInvalid, "\(path): schema is \(suite.schema), but this wattprint reads schema 1", fix: "set \"schema\": 1")
        }
        guard !suite.workloads.isEmpty else {
            throw BenchError(.specInvalid, "\(path): workloads is empty", fix: "list at least one spec file")
        }
        let files = suite.workloads.map { absolute($0, relativeTo: path) }
        if let missing = files.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            throw BenchError(
                .suiteMissingFile, "\(path): the suite lists \(missing), which does not exist",
                fix: "restore the file or remove it from \"workloads\"")
        }
        return (suite, files)
    }

    static func absolute(_ path: String, relativeTo file: String) -> String {
        path.hasPrefix("/") ? path : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
    }
}
