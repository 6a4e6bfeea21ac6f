// Legend: M rows, C channels, A attention width (heads × head size), H MLP width.

/// The views one GPT-2 block's forward writes. Training points each at its own cached activation (backward reads
/// them); cached inference points several at one scratch buffer and updates the residual stream in place.
struct GPT2BlockBuffers {
    var ln1, ln1Mean, ln1Rstd, qkv, atty, residual2, ln2, ln2Mean, ln2Rstd, fch, fchGelu, residual3: UnsafeMutableBufferPointer<Float>
}

/// Dropout of a block's two residual branches (training only): masks drawn from the seeds, applied before the adds.
struct GPT2BlockDropout {
    var p: Float
    var attentionMask, mlpMask: UnsafeMutableBufferPointer<Float>
    var attentionSeed, mlpSeed: UInt64
}

extension GPT2 {
    /// One pre-LayerNorm block, written once for training and for cached inference:
    /// x₂ = x + proj(attention(LN₁(x))), x₃ = x₂ + fc_proj(GELU(fc(LN₂(x₂)))), the attention A wide, the MLP H wide.
    ///
    /// `attention` reads `b.qkv` and writes `b.atty`: the causal kernel over a (B, T) batch in training, the KV cache
    /// in inference. With `dropout`, each branch is projected, masked, then added (the add is otherwise fused into
    /// the projection's sgemm).
    static func block(
        _ w: GPT2BlockTensors, input: UnsafeMutableBufferPointer<Float>, buffers b: GPT2BlockBuffers, M: Int, C: Int, A: Int, H: Int,
        dropout: GPT2BlockDropout? = nil, products: MatrixProducts = .fp32, attention: () -> Void
    ) {
        LayerNorm.forward(out: b.ln1, mean: b.ln1Mean, rstd: b.ln1Rstd, inp: input, weight: w.ln1w, bias: w.ln1b, R: M, C: C)
        products.forward(out: b.qkv, inp: b.ln1, weight: w.qkvw, bias: w.qkvb, M: M, K: C, N: 3 * A)
        attention()
        if let d = dropout {
            MatMul.forward(out: b.residual2, inp: b.atty, weight: w.projw, bias: w.projb, M: M, K: A, N: C)
            Dropout.fillMask(d.attentionMask, p: d.p, seed: d.attentionSeed)
            Dropout.residualAdd(out: b.residual2, residual: input, mask: d.attentionMask)
        } else {
            products.forward(out: b.residual2, inp: b.atty, weight: w.projw, bias: w.projb, residual: input, M: M, K: A, N: C)
        }
        LayerNorm.forward(out: b.ln2, mean: b.ln2Mean, rstd: b.ln2Rstd, inp: b.residual2, weight: w.ln2w, bias: w.ln2b, R: M, C: C)
        products.forward(out: b.fch, inp: b.ln2, weight: w.fcw, bias: w.fcb, M: M, K: C, N: H)
        GELU.forward(out: b.fchGelu, inp: b.fch, N: M * H)
        if let d = dropout {
            MatMul.forward(out: b.residual3, inp: b.fchGelu, weight: w.fcprojw, bias: w.fcprojb, M: M, K: H, N: C)
            Dropout.fillMask(d.mlpMask, p: d.p, seed: d.mlpSeed)
            Dropout.residualAdd(out: b.residual3, residual: b.residual2, mask: d.mlpMask)
        } else {
            products.forward(
                out: b.residual3, inp: b.fchGelu, weight: w.fcprojw, bias: w.fcprojb, residual: b.residual2, M: M, K: H, N: C)
        }
    }
}
