/// The FLOP formula behind every throughput and MFU figure the engine reports.
///
/// Counted: multiply-adds of matrix products at 2 FLOPs each, nothing else.
/// - Block matmuls: 2·12·L·C² per token (qkv 3C², attention projection C², MLP 4C² + 4C²).
/// - Attention: 4·L·C·T_ctx per token (Q·Kᵀ and P·V, 2·T_ctx·C each), where T_ctx is the number
///   of key positions the kernel multiplies against: the full sequence T in training (the whole
///   T×T block is computed, as in PaLM's MFU accounting), `pos + 1` for a decode step, and
///   `start + n` for a prefill chunk of n tokens.
/// - LM head: 2·V·C per row whose logits are computed (real V, padding excluded).
/// Not counted: embeddings, LayerNorm, GELU, softmax, biases, residual adds, AdamW.
/// Training = 3 × forward (backward computes both dX and dW for every product).
public enum FLOPCount {
    /// Forward FLOPs for `tokens` positions attending over `attentionContext` keys each, with logits for `logitRows` rows.
    public static func forward(_ config: GPT2Config, tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        let L = Double(config.layers), C = Double(config.channels), V = Double(config.vocabularySize)
        let n = Double(tokens)
        return n * 2 * 12 * L * C * C + n * 4 * L * C * Double(attentionContext) + Double(logitRows) * 2 * V * C
    }

    /// FLOPs of one training micro-step over a B×T batch: 3 × the forward over all B·T positions.
    public static func trainingStep(_ config: GPT2Config, B: Int, T: Int) -> Double {
        3 * forward(config, tokens: B * T, attentionContext: T, logitRows: B * T)
    }

    /// Forward FLOPs per token at full context T with logits for every token (what `model info` prints).
    public static func forwardPerToken(_ config: GPT2Config, context T: Int) -> Double {
        forward(config, tokens: 1, attentionContext: T, logitRows: 1)
    }
}
