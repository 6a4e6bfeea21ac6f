import ArgumentParser
import Engine
import Foundation

/// `--vocab`/`--merges`: GPT-2 BPE files, when the checkpoint's tokenizer is not byte-level.
struct TokenizerOptions: ParsableArguments {
    @Option(help: "GPT-2 vocab.json (default: next to the checkpoint).")
    var vocab: String?

    @Option(help: "GPT-2 merges.txt (default: next to the checkpoint).")
    var merges: String?

    /// The tokenizer for a checkpoint: explicit BPE files, else byte-level when the checkpoint says so
    /// (or has vocabulary 256), else vocab.json + merges.txt beside the checkpoint.
    func resolve(checkpoint: String, info: CheckpointInfo) throws -> Tokenizer {
        let V = info.config.configuration.vocabularySize
        let directory = (checkpoint as NSString).deletingLastPathComponent
        let vocabPath = vocab ?? (directory as NSString).appendingPathComponent("vocab.json")
        let mergesPath = merges ?? (directory as NSString).appendingPathComponent("merges.txt")
        let tokenizer: Tokenizer
        if vocab == nil, merges == nil, info.tokenizer == "byte" || (info.tokenizer == nil && V == 256) {
            tokenizer = ByteTokenizer()
        } else if FileManager.default.fileExists(atPath: vocabPath), FileManager.default.fileExists(atPath: mergesPath) {
            tokenizer = try GPT2Tokenizer(vocabularyPath: vocabPath, mergesPath: mergesPath)
        } else {
            throw ModelCommandError(
                "checkpoint '\(checkpoint)' has a \(V)-token vocabulary but no tokenizer files were found (wattprint reads byte-level and GPT-2 BPE tokenizers)",
                fix:
                    "pass --vocab vocab.json --merges merges.txt, or put them next to the checkpoint; for another tokenizer, evaluate token ids with --tokens"
            )
        }
        // A BERT or T5 trained by the engine appends its special tokens after the tokenizer's ids.
        let appendsSpecials = [.bert, .t5].contains(info.config.architecture) && info.tokenizer != nil
        guard tokenizer.vocabularySize == V || (appendsSpecials && tokenizer.vocabularySize < V) else {
            throw ModelCommandError(
                "the tokenizer has \(tokenizer.vocabularySize) tokens but the checkpoint's vocabulary is \(V)",
                fix: "use the tokenizer files the checkpoint was trained with")
        }
        return tokenizer
    }
}
