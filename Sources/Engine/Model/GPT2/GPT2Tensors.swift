/// Named views of one transformer block's tensors inside a flat buffer.
struct GPT2BlockTensors {
    let ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb: UnsafeMutableBufferPointer<Float>

    init(_ buffer: TensorBuffer, layer l: Int) {
        let p = "h.\(l)."
        ln1w = buffer[p + "ln_1.weight"]; ln1b = buffer[p + "ln_1.bias"]
        qkvw = buffer[p + "attn.c_attn.weight"]; qkvb = buffer[p + "attn.c_attn.bias"]
        projw = buffer[p + "attn.c_proj.weight"]; projb = buffer[p + "attn.c_proj.bias"]
        ln2w = buffer[p + "ln_2.weight"]; ln2b = buffer[p + "ln_2.bias"]
        fcw = buffer[p + "mlp.c_fc.weight"]; fcb = buffer[p + "mlp.c_fc.bias"]
        fcprojw = buffer[p + "mlp.c_proj.weight"]; fcprojb = buffer[p + "mlp.c_proj.bias"]
    }
}

/// Named views of all GPT-2 tensors (parameters or gradients), resolved once so hot loops do no lookups.
struct GPT2Tensors {
    let wte, wpe, lnfw, lnfb: UnsafeMutableBufferPointer<Float>
    let blocks: [GPT2BlockTensors]

    init(_ buffer: TensorBuffer, layers: Int) {
        wte = buffer["wte.weight"]
        wpe = buffer["wpe.weight"]
        lnfw = buffer["ln_f.weight"]
        lnfb = buffer["ln_f.bias"]
        blocks = (0..<layers).map { GPT2BlockTensors(buffer, layer: $0) }
    }
}
