import ArgumentParser
import Engine
import Measures

extension ModelCommand {
    /// `model info CKPT`: architecture, parameter count and FLOPs per token.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a checkpoint's architecture, parameters and FLOPs per token.",
            discussion: "Example:\n  wattprint model info small.safetensors --json")

        @OptionGroup var checkpointFile: CheckpointOptions

        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            let checkpoint: String
            let config: GPT2Config
            let paddedVocabularySize: Int
            let parameters: Int
            let parameterBytes: Int
            let tokenizer: String?
            let headsSource: String
            let forwardFLOPsPerTokenAtFullContext: Double
            let trainingFLOPsPerTokenAtFullContext: Double
            let flopFormula: String
        }

        func run() throws {
            let (model, info) = try checkpointFile.load()
            let c = model.config
            let forward = FLOPCount.forwardPerToken(c, context: c.maxSequence)
            let report = Report(
                checkpoint: checkpointFile.checkpoint, config: c, paddedVocabularySize: c.paddedVocabularySize,
                parameters: c.parameterCount, parameterBytes: c.parameterCount * 4, tokenizer: info.tokenizer,
                headsSource: info.headsSource, forwardFLOPsPerTokenAtFullContext: forward,
                trainingFLOPsPerTokenAtFullContext: 3 * forward,
                flopFormula: "forward/token = 24·L·C² + 4·L·C·T_ctx + 2·V·C; training = 3×forward")
            if output.isJSON { return try output.emitJSON(report) }
            print("checkpoint   \(checkpointFile.checkpoint)")
            print(
                "architecture GPT-2: \(c.layers) layers, width \(c.channels), \(c.heads) heads (\(info.headsSource)), context \(c.maxSequence)"
            )
            print("vocabulary   \(c.vocabularySize) (padded to \(c.paddedVocabularySize)), tokenizer \(info.tokenizer ?? "unrecorded")")
            print("parameters   \(QuantityFormat.grouped(c.parameterCount)) (\(QuantityFormat.bytes(Double(c.parameterCount * 4))) fp32)")
            print(
                "FLOPs/token  forward \(QuantityFormat.flops(forward)), training \(QuantityFormat.flops(3 * forward)) at context \(c.maxSequence)"
            )
            print("formula      \(report.flopFormula)")
        }
    }
}
