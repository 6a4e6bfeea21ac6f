// Legend: B batch, T time, C channels, NH heads, L layers, V vocabulary, Vp padded vocabulary.

/// The whole GPT-2 forward pass composed from the naive `Reference` kernels, generic over precision.
///
/// Tests run it in `Double` to check the fast fp32 model's logits and, by central finite
/// differences, its analytic gradients. It reads parameters by the same names as checkpoints.
public enum GPT2Reference {
    /// Logits [B·T, Vp] (padding columns 0) and, when `targets` is given, the mean cross-entropy.
    public static func forward<S: RealScalar>(
        config: GPT2Config, parameters: [String: [S]], inputs: [Int32], targets: [Int32]?,
        B: Int, T: Int
    ) -> (logits: [S], loss: S?) {
        let C = config.channels, NH = config.heads, BT = B * T, V = config.vocabularySize, Vp = config.paddedVocabularySize
        let A = config.attentionWidth
        func p(_ name: String) -> [S] { parameters[name]! }
        var x = Reference.PositionalEmbedding.forward(tokens: inputs, wte: p("wte.weight"), wpe: p("wpe.weight"), B: B, T: T, C: C)
        for l in 0..<config.layers {
            let h = "h.\(l)."
            let ln1 = Reference.LayerNorm.forward(inp: x, weight: p(h + "ln_1.weight"), bias: p(h + "ln_1.bias"), R: BT, C: C).out
            let qkv = Reference.MatMul.forward(
                inp: ln1, weight: p(h + "attn.c_attn.weight"), bias: p(h + "attn.c_attn.bias"), M: BT, K: C, N: 3 * A)
            let atty = Reference.Attention.forward(qkv: qkv, B: B, T: T, C: A, NH: NH).out
            let proj = Reference.MatMul.forward(
                inp: atty, weight: p(h + "attn.c_proj.weight"), bias: p(h + "attn.c_proj.bias"), M: BT, K: A, N: C)
            let residual2 = Reference.Residual.forward(inp1: x, inp2: proj)
            let ln2 = Reference.LayerNorm.forward(inp: residual2, weight: p(h + "ln_2.weight"), bias: p(h + "ln_2.bias"), R: BT, C: C).out
            let fch = Reference.MatMul.forward(
                inp: ln2, weight: p(h + "mlp.c_fc.weight"), bias: p(h + "mlp.c_fc.bias"), M: BT, K: C, N: config.mlpWidth)
            let gelu = Reference.GELU.forward(inp: fch)
            let fcproj = Reference.MatMul.forward(
                inp: gelu, weight: p(h + "mlp.c_proj.weight"), bias: p(h + "mlp.c_proj.bias"), M: BT, K: config.mlpWidth, N: C)
            x = Reference.Residual.forward(inp1: residual2, inp2: fcproj)
        }
        let lnf = Reference.LayerNorm.forward(inp: x, weight: p("ln_f.weight"), bias: p("ln_f.bias"), R: BT, C: C).out
        let logits = Reference.MatMul.forward(inp: lnf, weight: p("wte.weight"), bias: nil, M: BT, K: C, N: Vp, layout: .outputMajor)
        guard let targets else { return (logits, nil) }
        let probs = Reference.SoftmaxCrossEntropy.softmax(logits: logits, R: BT, V: V, Vp: Vp)
        let losses = Reference.SoftmaxCrossEntropy.forward(probs: probs, targets: targets, R: BT, Vp: Vp)
        return (logits, losses.reduce(0, +) / S(BT))
    }

    /// Copies a parameter buffer into per-name arrays of another precision.
    public static func parameters<S: RealScalar>(_ buffer: TensorBuffer, as: S.Type) -> [String: [S]] {
        var out: [String: [S]] = [:]
        for (i, spec) in buffer.layout.specs.enumerated() { out[spec.name] = buffer.view(i).map { S($0) } }
        return out
    }
}
