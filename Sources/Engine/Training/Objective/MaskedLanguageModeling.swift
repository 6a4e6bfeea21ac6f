/// BERT's masked-language-model objective (Devlin et al. 2019, §3.1 and appendix A.1): in each window of T tokens,
/// max(1, round(0.15·T)) positions are chosen at random (as `create_pretraining_data.py` fixes their count); each is
/// replaced by [MASK] with probability 0.8, by a random token with 0.1, and kept with 0.1; the model predicts the
/// original token at the chosen positions only.
public struct MaskedLanguageModeling: TrainingObjective {
    /// Nil when the model does not know its [MASK] id: `check` then refuses to train.
    public var maskTokenID: Int32?
    /// Random replacements are drawn from ids 0..<this (the tokenizer's own ids, not the appended special tokens).
    public var randomTokenLimit: Int
    public var maskedFraction: Double = 0.15

    public init(maskTokenID: Int32?, randomTokenLimit: Int) {
        self.maskTokenID = maskTokenID
        self.randomTokenLimit = max(1, randomTokenLimit)
    }

    public var name: String { "masked-language-model" }
    public func windowLength(sequence T: Int) -> Int { T }

    public func check(sequence T: Int, context: Int) throws {
        guard maskTokenID != nil else {
            throw EngineError.invalidConfiguration(
                "the model does not say which token id is [MASK], so masked-language-model training and evaluation cannot mask",
                fix: "put the model's vocab.txt (with a [MASK] line) or a config.json with mask_token_id beside the checkpoint")
        }
    }

    /// Positions chosen per window of T tokens.
    public func maskedPositions(sequence T: Int) -> Int { max(1, Int((Double(T) * maskedFraction).rounded())) }

    public func batch(windows: [ArraySlice<Int32>], sequence T: Int, random: inout SplitMix64) -> Batch {
        let B = windows.count, chosen = maskedPositions(sequence: T)
        var inputs: [Int32] = [], targets = [Int32](repeating: -1, count: B * T)
        inputs.reserveCapacity(B * T)
        for (b, w) in windows.enumerated() {
            let row = Array(w.prefix(T))
            var masked = row
            var positions = Array(0..<T)
            // A partial Fisher–Yates shuffle picks `chosen` distinct positions.
            for i in 0..<chosen {
                let j = i + random.nextInt(below: T - i)
                positions.swapAt(i, j)
                let p = positions[i]
                targets[b * T + p] = row[p]
                let roll = random.nextUnitFloat()
                if roll < 0.8 {
                    masked[p] = maskTokenID ?? row[p]
                } else if roll < 0.9 {
                    masked[p] = Int32(random.nextInt(below: randomTokenLimit))
                }
            }
            inputs += masked
        }
        return .maskedTokens(inputs: inputs, targets: targets, padding: [UInt8](repeating: 0, count: B * T), B: B, T: T)
    }
}
