// Legend: B batch, T time, C channels, NH heads, NKV key/value heads, hs head size, H hidden, E experts, k experts per
// token, L layers, V vocabulary, Vp padded vocabulary.

/// The whole Llama (or Mixtral) forward pass composed from the naive `Reference` kernels, generic over precision.
///
/// Tests run it in `Double` to check the fast fp32 model's logits, its loss with the load-balancing term, and by
/// central finite differences its analytic gradients. It reads parameters by their Hugging Face names and computes
/// q, k, v (and gate, up) as separate products, so the engine's fused layouts are checked too.
public enum LlamaReference {
    /// Logits [B·T, Vp] (padding columns 0); with `targets`, the mean cross-entropy and, for a mixture, the
    /// load-balancing loss over every layer's tokens (before its coefficient).
    public static func forward<S: RealScalar>(
        config c: LlamaConfig, parameters: [String: [S]], inputs: [Int32], targets: [Int32]?, B: Int, T: Int
    ) -> (logits: [S], loss: S?, auxiliaryLoss: Double?) {
        let C = c.channels, BT = B * T, V = c.vocabularySize, Vp = c.paddedVocabularySize, hs = c.headSize, H = c.hidden
        let E = c.experts, k = c.expertsPerToken, layout = c.attentionLayout, A = c.attentionWidth
        func p(_ name: String) -> [S] { parameters[name]! }
        var x = [S](repeating: 0, count: BT * C)
        let table = p("model.embed_tokens.weight")
        for r in 0..<BT { for i in 0..<C { x[r * C + i] = table[Int(inputs[r]) * C + i] } }
        let positions = (0..<BT).map { $0 % T }
        var counts = [Int](repeating: 0, count: E), probabilitySums = [Double](repeating: 0, count: E)
        for l in 0..<c.layers {
            let h = "model.layers.\(l)."
            let n1 = Reference.RMSNorm.forward(inp: x, weight: p(h + "input_layernorm.weight"), R: BT, C: C, epsilon: S(c.normEpsilon)).out
            let q = Reference.MatMul.forward(
                inp: n1, weight: p(h + "self_attn.q_proj.weight"), bias: nil, M: BT, K: C, N: A, layout: .outputMajor)
            let kv = c.kvHeads * hs
            let key = Reference.MatMul.forward(
                inp: n1, weight: p(h + "self_attn.k_proj.weight"), bias: nil, M: BT, K: C, N: kv, layout: .outputMajor)
            let value = Reference.MatMul.forward(
                inp: n1, weight: p(h + "self_attn.v_proj.weight"), bias: nil, M: BT, K: C, N: kv, layout: .outputMajor)
            var qkv: [S] = []
            qkv.reserveCapacity(BT * layout.rowStride)
            for r in 0..<BT {
                qkv += q[(r * A)..<((r + 1) * A)]
                qkv += key[(r * kv)..<((r + 1) * kv)]
                qkv += value[(r * kv)..<((r + 1) * kv)]
            }
            qkv = Reference.RoPE.apply(
                qkv, R: BT, rowStride: layout.rowStride, headOffsets: RoPE.queryAndKeyHeads(layout), positions: positions, hs: hs,
                base: S(c.ropeBase))
            let atty = Reference.Attention.forward(qkv: qkv, B: B, T: T, layout: layout).out
            let o = Reference.MatMul.forward(
                inp: atty, weight: p(h + "self_attn.o_proj.weight"), bias: nil, M: BT, K: A, N: C, layout: .outputMajor)
            let residual2 = Reference.Residual.forward(inp1: x, inp2: o)
            let n2 = Reference.RMSNorm.forward(
                inp: residual2, weight: p(h + "post_attention_layernorm.weight"), R: BT, C: C, epsilon: S(c.normEpsilon)
            ).out
            let mlp: [S]
            if c.isMixture {
                let m = h + "block_sparse_moe."
                let mixture = Reference.Mixture.forward(
                    inp: n2, router: p(m + "gate.weight"),
                    gateUp: (0..<E).map { p(m + "experts.\($0).w1.weight") + p(m + "experts.\($0).w3.weight") },
                    down: (0..<E).map { p(m + "experts.\($0).w2.weight") }, R: BT, C: C, H: H, E: E, k: k)
                mlp = mixture.out
                for e in mixture.experts { counts[e] += 1 }
                for r in 0..<BT { for e in 0..<E { probabilitySums[e] += Double(mixture.probs[r * E + e]) } }
            } else {
                let gate = Reference.MatMul.forward(
                    inp: n2, weight: p(h + "mlp.gate_proj.weight"), bias: nil, M: BT, K: C, N: H, layout: .outputMajor)
                let up = Reference.MatMul.forward(
                    inp: n2, weight: p(h + "mlp.up_proj.weight"), bias: nil, M: BT, K: C, N: H, layout: .outputMajor)
                var gateUp: [S] = []
                gateUp.reserveCapacity(BT * 2 * H)
                for r in 0..<BT {
                    let rows = (r * H)..<((r + 1) * H)
                    gateUp.append(contentsOf: gate[rows])
                    gateUp.append(contentsOf: up[rows])
                }
                let act = Reference.SwiGLU.forward(gateUp: gateUp, R: BT, H: H)
                mlp = Reference.MatMul.forward(
                    inp: act, weight: p(h + "mlp.down_proj.weight"), bias: nil, M: BT, K: H, N: C, layout: .outputMajor)
            }
            x = Reference.Residual.forward(inp1: residual2, inp2: mlp)
        }
        let normed = Reference.RMSNorm.forward(inp: x, weight: p("model.norm.weight"), R: BT, C: C, epsilon: S(c.normEpsilon)).out
        let logits = Reference.MatMul.forward(inp: normed, weight: p("lm_head.weight"), bias: nil, M: BT, K: C, N: Vp, layout: .outputMajor)
        guard let targets else { return (logits, nil, nil) }
        let probs = Reference.SoftmaxCrossEntropy.softmax(logits: logits, R: BT, V: V, Vp: Vp)
        let losses = Reference.SoftmaxCrossEntropy.forward(probs: probs, targets: targets, R: BT, Vp: Vp)
        let auxiliary =
            c.isMixture
            ? Router.auxiliaryLoss(counts: counts, probabilitySums: probabilitySums, rows: c.layers * BT, k: k) : nil
        return (logits, losses.reduce(0, +) / S(BT), auxiliary)
    }
}
