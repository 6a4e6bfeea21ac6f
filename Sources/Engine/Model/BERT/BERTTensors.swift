/// Named views of one BERT layer's weights (or their gradients). Query, key and value weights are adjacent and viewed
/// as one [3C, C] matrix, their biases as one [3C] vector.
struct BERTLayerTensors {
    let qkv, qkvBias, attentionOutput, attentionOutputBias, norm1, norm1Bias: UnsafeMutableBufferPointer<Float>
    let intermediate, intermediateBias, output, outputBias, norm2, norm2Bias: UnsafeMutableBufferPointer<Float>

    init(_ buffer: TensorBuffer, layer l: Int) {
        let p = "bert.encoder.layer.\(l)."
        qkv = LlamaBlockTensors.span(buffer, from: p + "attention.self.query.weight", through: p + "attention.self.value.weight")
        qkvBias = LlamaBlockTensors.span(buffer, from: p + "attention.self.query.bias", through: p + "attention.self.value.bias")
        attentionOutput = buffer[p + "attention.output.dense.weight"]
        attentionOutputBias = buffer[p + "attention.output.dense.bias"]
        norm1 = buffer[p + "attention.output.LayerNorm.weight"]
        norm1Bias = buffer[p + "attention.output.LayerNorm.bias"]
        intermediate = buffer[p + "intermediate.dense.weight"]
        intermediateBias = buffer[p + "intermediate.dense.bias"]
        output = buffer[p + "output.dense.weight"]
        outputBias = buffer[p + "output.dense.bias"]
        norm2 = buffer[p + "output.LayerNorm.weight"]
        norm2Bias = buffer[p + "output.LayerNorm.bias"]
    }
}

/// Named views of all of a BERT's tensors, resolved once so hot loops do no lookups.
struct BERTTensors {
    let words, positions, segments, embeddingNorm, embeddingNormBias: UnsafeMutableBufferPointer<Float>
    let layers: [BERTLayerTensors]
    let pooler, poolerBias: UnsafeMutableBufferPointer<Float>?
    let transform, transformBias, transformNorm, transformNormBias, decoderBias: UnsafeMutableBufferPointer<Float>

    init(_ buffer: TensorBuffer, config c: BERTConfig) {
        words = buffer["bert.embeddings.word_embeddings.weight"]
        positions = buffer["bert.embeddings.position_embeddings.weight"]
        segments = buffer["bert.embeddings.token_type_embeddings.weight"]
        embeddingNorm = buffer["bert.embeddings.LayerNorm.weight"]
        embeddingNormBias = buffer["bert.embeddings.LayerNorm.bias"]
        layers = (0..<c.layers).map { BERTLayerTensors(buffer, layer: $0) }
        pooler = c.pooler ? buffer["bert.pooler.dense.weight"] : nil
        poolerBias = c.pooler ? buffer["bert.pooler.dense.bias"] : nil
        transform = buffer["cls.predictions.transform.dense.weight"]
        transformBias = buffer["cls.predictions.transform.dense.bias"]
        transformNorm = buffer["cls.predictions.transform.LayerNorm.weight"]
        transformNormBias = buffer["cls.predictions.transform.LayerNorm.bias"]
        decoderBias = buffer["cls.predictions.bias"]
    }
}
