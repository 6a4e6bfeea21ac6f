import ArgumentParser
import Engine
import Measures

extension ModelCommand {
    /// `model info CKPT`: architecture, total and active parameters, and FLOPs per token by phase.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a checkpoint's architecture, parameters and FLOPs per token.",
            discussion: "Example:\n  wattprint model info small.safetensors --json")

        @OptionGroup var checkpointFile: CheckpointOptions

        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            let checkpoint: String
            let architecture: Architecture
            let config: AnyModelConfiguration
            let paddedVocabularySize: Int
            let parameters: Int
            /// Parameters one token passes through (a mixture counts its chosen experts only).
            let activeParameters: Int
            let parameterBytes: Int
            let tokenizer: String?
            let headsSource: String
            /// Settings the file did not give, with the default used.
            let assumed: [String]
            /// Per token at the model's full context, by `ModelConfiguration.flopsPerToken`.
            let forwardFLOPsPerTokenAtFullContext: Double
            let trainingFLOPsPerTokenAtFullContext: Double
            let prefillFLOPsPerTokenAtFullContext: Double
            let flopFormula: String
            /// What `model prune` removed to make this file (absent for any other file).
            let pruning: PruningRecord?
        }

        func run() throws {
            let (_, info) = try checkpointFile.load()
            let c = info.config.configuration
            let T = c.maxSequence
            let report = Report(
                checkpoint: checkpointFile.checkpoint, architecture: c.architecture, config: info.config,
                paddedVocabularySize: c.paddedVocabularySize, parameters: c.parameterCount, activeParameters: c.activeParameterCount,
                parameterBytes: c.parameterCount * 4, tokenizer: info.tokenizer, headsSource: info.headsSource, assumed: info.assumed,
                forwardFLOPsPerTokenAtFullContext: c.flopsPerToken(.decode, context: T),
                trainingFLOPsPerTokenAtFullContext: c.flopsPerToken(.train, context: T),
                prefillFLOPsPerTokenAtFullContext: c.flopsPerToken(.prefill, context: T), flopFormula: c.flopFormula,
                pruning: info.pruning)
            if output.isJSON { return try output.emitJSON(report) }
            var lines = ["checkpoint   \(checkpointFile.checkpoint)"]
            lines.append(
                "architecture \(c.architecture.rawValue): \(c.summary)\(info.headsSource == "none" ? "" : " (heads from \(info.headsSource))")"
            )
            lines.append(
                "vocabulary   \(c.vocabularySize) (padded to \(c.paddedVocabularySize)), tokenizer \(info.tokenizer ?? "unrecorded")")
            var parameters =
                "parameters   \(QuantityFormat.grouped(c.parameterCount)) (\(QuantityFormat.bytes(Double(c.parameterCount * 4))) fp32)"
            if c.activeParameterCount != c.parameterCount {
                parameters += ", \(QuantityFormat.grouped(c.activeParameterCount)) active per token"
            }
            lines.append(parameters)
            lines.append(
                "FLOPs/token  forward \(QuantityFormat.flops(report.forwardFLOPsPerTokenAtFullContext)), training \(QuantityFormat.flops(report.trainingFLOPsPerTokenAtFullContext)) at context \(T)"
            )
            lines.append("formula      \(report.flopFormula)")
            for field in info.assumed { lines.append("assumed      \(field)") }
            var record = info.pruning
            while let r = record {
                var removed: [String] = []
                if let a = r.attention { removed.append("attention \(a.widthBefore) → \(a.widthAfter)") }
                if let m = r.mlp { removed.append("MLP \(m.widthBefore) → \(m.widthAfter)") }
                lines.append("pruned       from \(r.source) (sha256 \(r.sourceSHA256.prefix(12))…): \(removed.joined(separator: ", "))")
                record = r.earlier?.first
            }
            try output.write(lines.joined(separator: "\n"))
        }
    }
}
