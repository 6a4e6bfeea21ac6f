/// Named views of one T5 layer's weights (or their gradients), encoder or decoder. A self-attention's q|k|v are one
/// [3A, C] matrix, a cross-attention's k|v one [2A, C], a feed-forward's wi_0|wi_1 one [2H, C].
struct T5LayerTensors {
    let norm1, qkv, o: UnsafeMutableBufferPointer<Float>
    /// Decoder only: the cross-attention and its norm.
    let crossNorm, crossQ, crossKV, crossO: UnsafeMutableBufferPointer<Float>?
    let feedForwardNorm, gateUp, down: UnsafeMutableBufferPointer<Float>

    init(_ buffer: TensorBuffer, prefix p: String, decoder: Bool) {
        let attention = p + "layer.0.SelfAttention."
        norm1 = buffer[p + "layer.0.layer_norm.weight"]
        qkv = LlamaBlockTensors.span(buffer, from: attention + "q.weight", through: attention + "v.weight")
        o = buffer[attention + "o.weight"]
        let ff = decoder ? "layer.2." : "layer.1."
        if decoder {
            let cross = p + "layer.1.EncDecAttention."
            crossNorm = buffer[p + "layer.1.layer_norm.weight"]
            crossQ = buffer[cross + "q.weight"]
            crossKV = LlamaBlockTensors.span(buffer, from: cross + "k.weight", through: cross + "v.weight")
            crossO = buffer[cross + "o.weight"]
        } else {
            crossNorm = nil; crossQ = nil; crossKV = nil; crossO = nil
        }
        feedForwardNorm = buffer[p + ff + "layer_norm.weight"]
        gateUp = LlamaBlockTensors.span(buffer, from: p + ff + "DenseReluDense.wi_0.weight", through: p + ff + "DenseReluDense.wi_1.weight")
        down = buffer[p + ff + "DenseReluDense.wo.weight"]
    }
}

/// Named views of all of a T5's tensors, resolved once so hot loops do no lookups.
struct T5Tensors {
    let shared, encoderBias, decoderBias, encoderNorm, decoderNorm: UnsafeMutableBufferPointer<Float>
    /// The LM head: `lm_head.weight`, or the shared embedding when tied.
    let head: UnsafeMutableBufferPointer<Float>
    let encoder, decoder: [T5LayerTensors]

    init(_ buffer: TensorBuffer, config c: T5Config) {
        shared = buffer["shared.weight"]
        encoderBias = buffer["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        decoderBias = buffer["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        encoderNorm = buffer["encoder.final_layer_norm.weight"]
        decoderNorm = buffer["decoder.final_layer_norm.weight"]
        head = c.tiedHead ? shared : buffer["lm_head.weight"]
        encoder = (0..<c.layers).map { T5LayerTensors(buffer, prefix: "encoder.block.\($0).", decoder: false) }
        decoder = (0..<c.decoderLayers).map { T5LayerTensors(buffer, prefix: "decoder.block.\($0).", decoder: true) }
    }
}
