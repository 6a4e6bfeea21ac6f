/// Named views of one Llama block's weights (or their gradients). q, k and v are adjacent in the buffer and viewed as
/// one [(NH + 2·NKV)·hs, C] matrix; so are an MLP's gate and up ([2H, C]).
struct LlamaBlockTensors {
    let norm1, qkv, o, norm2: UnsafeMutableBufferPointer<Float>
    /// Dense MLP: gate|up and down.
    let gateUp, down: UnsafeMutableBufferPointer<Float>?
    /// Mixture: the router and each expert.
    let router: UnsafeMutableBufferPointer<Float>?
    let experts: [ExpertTensors]

    init(_ buffer: TensorBuffer, layer l: Int, config c: LlamaConfig) {
        let p = "model.layers.\(l)."
        norm1 = buffer[p + "input_layernorm.weight"]
        norm2 = buffer[p + "post_attention_layernorm.weight"]
        qkv = Self.span(buffer, from: p + "self_attn.q_proj.weight", through: p + "self_attn.v_proj.weight")
        o = buffer[p + "self_attn.o_proj.weight"]
        if c.isMixture {
            router = buffer[p + "block_sparse_moe.gate.weight"]
            experts = (0..<c.experts).map { e in
                let x = p + "block_sparse_moe.experts.\(e)."
                return ExpertTensors(
                    gateUp: Self.span(buffer, from: x + "w1.weight", through: x + "w3.weight"), down: buffer[x + "w2.weight"])
            }
            gateUp = nil
            down = nil
        } else {
            gateUp = Self.span(buffer, from: p + "mlp.gate_proj.weight", through: p + "mlp.up_proj.weight")
            down = buffer[p + "mlp.down_proj.weight"]
            router = nil
            experts = []
        }
    }

    /// One view over consecutive tensors; they must touch (no alignment padding between them), which
    /// `LlamaConfig.validate` guarantees by requiring a width that is a multiple of 16 (so every tensor, [·, C], is a whole
    /// number of the layout's 16-float alignment units).
    static func span(_ buffer: TensorBuffer, from first: String, through last: String) -> UnsafeMutableBufferPointer<Float> {
        let layout = buffer.layout
        guard let i = layout.position(of: first), let j = layout.position(of: last) else {
            preconditionFailure("no tensors \(first)…\(last)")
        }
        var count = 0
        for k in i...j {
            precondition(
                k == i || layout.offsets[k] == layout.offsets[i] + count, "\(layout.specs[k].name) is not adjacent to the tensor before it")
            count += layout.specs[k].count
        }
        return buffer.storage.view(offset: layout.offsets[i], count: count)
    }
}

/// Named views of all of a Llama's tensors, resolved once so hot loops do no lookups.
struct LlamaTensors {
    let embed, norm, lmHead: UnsafeMutableBufferPointer<Float>
    let blocks: [LlamaBlockTensors]

    init(_ buffer: TensorBuffer, config c: LlamaConfig) {
        embed = buffer["model.embed_tokens.weight"]
        norm = buffer["model.norm.weight"]
        lmHead = buffer["lm_head.weight"]
        blocks = (0..<c.layers).map { LlamaBlockTensors(buffer, layer: $0, config: c) }
    }
}
