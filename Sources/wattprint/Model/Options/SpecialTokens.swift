import Engine

/// The ids a model has beyond its tokenizer's (the special tokens a BERT or T5 trained by the engine appends, or any
/// id a tokenizer cannot spell), named as their models name them.
enum SpecialTokens {
    /// `tokens` as text: runs of ordinary ids decoded by the tokenizer, special ids by name (`<extra_id_3>`, `</s>`,
    /// `<pad>`, `[MASK]`, `[PAD]`, else `<id N>`), so a byte tokenizer never prints a special id as a stray byte.
    static func render(_ tokens: [Int32], tokenizer: Tokenizer, config: AnyModelConfiguration) -> String {
        var text = "", run: [Int32] = []
        for token in tokens {
            if Int(token) < tokenizer.vocabularySize {
                run.append(token)
                continue
            }
            text += tokenizer.decodeText(run)
            run.removeAll()
            text += name(of: Int(token), config: config)
        }
        return text + tokenizer.decodeText(run)
    }

    static func name(of id: Int, config: AnyModelConfiguration) -> String {
        switch config {
        case let .t5(c):
            if id == c.padTokenID { return "<pad>" }
            if id == c.endOfSequenceTokenID { return "</s>" }
            let index = c.firstSentinelID - id
            if (0..<c.sentinels).contains(index) { return "<extra_id_\(index)>" }
        case let .bert(c):
            if id == c.padTokenID { return "[PAD]" }
            if id == c.maskTokenID { return "[MASK]" }
        default: break
        }
        return "<id \(id)>"
    }
}
