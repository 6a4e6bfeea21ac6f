import ArgumentParser
import Engine
import Foundation
import Measures

extension ModelCommand {
    /// `model prune CKPT --mlp F --out PATH`: structured pruning of MLP channels by magnitude into a smaller checkpoint.
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Remove the smallest MLP channels or attention heads of a GPT-2 or dense Llama checkpoint and write the smaller model.",
            discussion:
                "Each layer keeps its own largest channels (magnitude: the norms of the weights feeding and fed by a channel) and heads (the norms of their query, key and value weights and of their share of the output projection; the head size is kept); the MLP and the attention become narrower dense matrices, so FLOPs and time fall with dense BLAS. Zeroing single weights instead would not speed anything up. Compare the two checkpoints with `model eval` (quality) and `model bench --arch … --hidden N --heads H --head-size S` (the pruned shape's speed and J/token; `model info` gives its widths).\n\nExample:\n  wattprint model prune small.safetensors --mlp 0.25 --out small-pruned.safetensors\n  wattprint model prune small.safetensors --attention 0.5 --mlp 0.25 --out small-pruned.safetensors"
        )

        @OptionGroup var checkpointFile: CheckpointOptions
        // `.unconditional`: a negative value reaches `validate` (and its message) instead of reading as another option.
        @Option(
            parsing: .unconditional,
            help: "Fraction of each layer's MLP channels to remove (0 < F < 1); the kept width is rounded to a multiple of 16.")
        var mlp: Double?
        @Option(
            parsing: .unconditional,
            help:
                "Fraction of each layer's attention heads to remove (0 < F < 1; GPT-2: single heads; dense Llama: whole key/value groups with their query heads)."
        )
        var attention: Double?
        @Option(help: "Write the pruned checkpoint here (.safetensors).") var out: String
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if mlp == nil && attention == nil { throw ValidationError("pass --mlp F, --attention F or both") }
            for (name, fraction) in [("--mlp", mlp), ("--attention", attention)] {
                if let fraction, !(fraction > 0 && fraction < 1) {
                    throw ValidationError(
                        "\(name) \(fraction) is not a fraction to remove: pass a number above 0 and below 1, e.g. 0.25")
                }
            }
        }

        struct Report: Encodable {
            let checkpoint: String
            let out: String
            /// The MLP's pruning (widths are channels) and the attention's (widths are heads × head size).
            let mlp: StructuredPruning.Summary?
            let attention: StructuredPruning.Summary?
            let forwardFLOPsPerTokenBefore: Double
            let forwardFLOPsPerTokenAfter: Double
        }

        func run() throws {
            let (model, info) = try checkpointFile.loadTrainable()
            var pruned = model
            var attentionSummary: StructuredPruning.Summary?, summary: StructuredPruning.Summary?
            if let attention { (pruned, attentionSummary) = try StructuredPruning.pruneHeads(pruned, fraction: attention) }
            if let mlp { (pruned, summary) = try StructuredPruning.pruneMLP(pruned, fraction: mlp) }
            // The file says what made it, so runs that start from it record a pruned model (`model train --initial`).
            let record = PruningRecord(
                source: checkpointFile.checkpoint, sourceSHA256: try fileSHA256(checkpointFile.checkpoint), mlp: summary,
                attention: attentionSummary, earlier: info.pruning)
            let metadata = [Checkpoint.pruningKey: String(decoding: try JSONEncoder().encode(record), as: UTF8.self)]
            try pruned.save(path: out, tokenizer: info.tokenizer ?? "byte", metadata: metadata)
            let T = model.maxSequence
            let report = Report(
                checkpoint: checkpointFile.checkpoint, out: out, mlp: summary, attention: attentionSummary,
                forwardFLOPsPerTokenBefore: model.configuration.flopsPerToken(.decode, context: T),
                forwardFLOPsPerTokenAfter: pruned.configuration.flopsPerToken(.decode, context: T))
            if output.isJSON { return try output.emitJSON(report) }
            // The share actually removed: counts are rounded (heads whole, Llama's a key/value group at a time, MLP widths
            // to multiples of 16), so it can differ from the fraction asked.
            func removed(_ s: StructuredPruning.Summary) -> String {
                QuantityFormat.percent(1 - Double(s.widthAfter) / Double(s.widthBefore))
            }
            var lines: [String] = []
            if let attention = attentionSummary {
                lines.append(
                    "pruned attention \(attention.widthBefore) → \(attention.widthAfter) wide (heads × head size) per layer, \(removed(attention)) removed"
                )
            }
            if let summary {
                lines.append("pruned MLP \(summary.widthBefore) → \(summary.widthAfter) channels per layer, \(removed(summary)) removed")
            }
            lines.append(
                "parameters \(QuantityFormat.grouped(model.configuration.parameterCount)) → \(QuantityFormat.grouped(pruned.configuration.parameterCount)); forward FLOPs/token at context \(T): \(QuantityFormat.flops(report.forwardFLOPsPerTokenBefore)) → \(QuantityFormat.flops(report.forwardFLOPsPerTokenAfter))"
            )
            lines.append("saved \(out)")
            try output.write(lines.joined(separator: "\n"))
        }
    }
}
